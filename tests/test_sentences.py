"""dedup.sentences: what any text gives (properties), and hostile texts in bounded time.

The Golden Rules themselves are data: tests/cases/golden_rules.json, run by tests/test_cases.py.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dedup
from dedup.config import DedupConfig

WORDS = ["The", "first", "item", "1.", "2.", "3.)", "a.", "b.", "•", "⁃9.", "U.S.", "How", "a.m.",
         "Mr.", "Smith", ". . .", ". . . .", "....", "...", "that.", "she", "said.", '"Great."',
         "(He left.)", "Yahoo!", "N°.", "3.5", "e.g.", "\n", "\n\n", "great.'", "x" * 12, "?!"]
wordy = st.lists(st.sampled_from(WORDS), max_size=50).map(" ".join)
texts = st.one_of(st.text(max_size=200), wordy)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_sentences_cover_the_repaired_text_in_order(text):
    """Sentences are non-empty, trimmed, in order, never cross a line, and together hold every
    non-space character of the repaired text: splitting loses and invents nothing."""
    from dedup.pipeline import prepare

    prepared = prepare(text, DedupConfig())
    found = dedup.sentences(text)
    assert all(s and s == s.strip() and "\n" not in s for s in found)
    assert "".join("".join(s.split()) for s in found) == "".join(prepared.text.split())
    position = 0
    for sentence in found:
        position = prepared.text.index(sentence, position) + len(sentence)


def test_sentences_take_settings():
    assert dedup.sentences("He met the Gen. Sec. Smith there.") == ["He met the Gen. Sec.", "Smith there."]
    assert dedup.sentences("He met the Gen. Sec. Smith there.", extra_abbreviations=("Sec",)) == [
        "He met the Gen. Sec. Smith there."]


def test_a_list_needs_consecutive_markers_from_the_start_of_the_line():
    """Precision: a number in running text does not start a list item."""
    assert dedup.sentences("He scored 2 goals in 3 games 4 times.") == ["He scored 2 goals in 3 games 4 times."]
    assert dedup.sentences("Steps: 1) mix 2) bake") == ["Steps: 1) mix 2) bake"]
    assert dedup.sentences("1) mix 3) bake") == ["1) mix 3) bake"]
    assert dedup.sentences("1) mix 2) bake") == ["1) mix", "2) bake"]


HOSTILE = {
    "forced breaks": "morning.took ",  # a glued boundary every 13 characters
    "paragraphs with forced breaks": "It was heard on Tuesday morning.It took place.\n\n",
    "spaced dots": ". ",
    "dots": ".",
    "one word": "x",
    "sentences": "It rained in the town. ",
    "list": "1. item ",
    "abbreviations": "U.S. ",
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_text_takes_time_linear_in_its_size(kind):
    """Twenty times the text takes well under four hundred times as long (what quadratic time
    would take), and a 400 KB line is split without an error."""
    unit = HOSTILE[kind]

    def seconds(size: int) -> float:
        text = unit * (size // len(unit))
        started = time.perf_counter()
        dedup.sentences(text)
        return time.perf_counter() - started

    seconds(3_000)  # load the models
    small, large = seconds(20_000), seconds(400_000)
    assert large < 60 * small + 0.3, (kind, small, large)


def test_an_opening_mark_set_apart_opens_the_next_sentence():
    # French typography puts a space inside guillemets; Punkt left the « on the sentence before,
    # so the repeat of that sentence was not found.
    text = ("Le maire a annoncé que le pont rouvrira vendredi après les travaux. « Nous sommes prêts », "
            "a-t-il dit. Le maire a annoncé que le pont rouvrira vendredi après les travaux.")
    assert dedup.sentences(text)[:2] == ["Le maire a annoncé que le pont rouvrira vendredi après les travaux.",
                                         "« Nous sommes prêts », a-t-il dit."]
    assert dedup.clean(text) == text[: text.rindex(" Le maire")]
