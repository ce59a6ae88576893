"""Boilerplate is template text, not data: lines with numbers or dates and very short lines
shared by many reports stay; a banner shared by the same reports goes (corpus mode, through
the library's Deduplicator)."""

from __future__ import annotations

import dedup

BANNER = "Sign up for our morning newsletter to get the day's top stories delivered to your inbox."
DATA = ["Year", "Shr 18 cts vs 15 cts", "Pay March 31", "Record March 13"]
TOPICS = ["cocoa", "copper", "shipping", "wheat", "airline", "steel", "coffee", "rubber"]
VERBS = ["climbed", "slipped", "recovered", "stalled", "doubled", "narrowed", "widened", "tumbled"]


def report(k: int) -> str:
    topic, verb = TOPICS[k], VERBS[k]
    story = (f"The {topic} producer said quarterly profit {verb} as demand in {topic} markets shifted. "
             f"Analysts had expected the {topic} business to {verb.rstrip('ed')} further this year.")
    return "\n\n".join([BANNER, story, "\n".join(DATA), f"Its {topic} unit employs staff in {k + 3} countries."])


def test_data_lines_stay_and_the_banner_goes():
    result = dedup.Deduplicator().run([report(k) for k in range(len(TOPICS))])
    assert len(result.kept) == len(TOPICS)
    for document in result.kept:
        assert BANNER not in document.text
        for line in DATA:
            assert line in document.text.split("\n")


def test_form_of_units():
    from dedup.policy import boilerplate_form

    assert [boilerplate_form(line) for line in DATA] == ["short", "data", "data", "data"]
    assert boilerplate_form(BANNER) == "template"
    assert boilerplate_form("© 2025 Westhaven Daily News.") == "template"
    assert boilerplate_form("All rights reserved.") == "template"
