"""Property tests for DESIGN.md's invariants: total, idempotent, deterministic, nothing lost,
no invented text."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import dedup
from dedup.edits import Edit, apply_edits, compose

WORDS = ["the", "blast", "Sept.", "25,", "2023.Gasoline", "morning.took", "U.S.Army", "said",
         "explo-\nsion", "well-\nknown", '"quoted"', "Karabakh’s\"re\"", "3.5", "www.example.com",
         "He", "no.", "The", "A", "\n", "\n\n", "—", "’", "Azerbaijanâ€™s", "place", "x" * 12]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

wordy = st.lists(st.sampled_from(WORDS), max_size=60).map(" ".join)
repeated = st.tuples(wordy, wordy).map(lambda p: p[0] + "\n\n" + p[1] + "\n\n" + p[0] + " " + p[1])
texts = st.one_of(st.text(max_size=300), wordy, repeated)


def replay(source: str, result: dedup.CleanResult) -> str:
    return apply_edits(source, [Edit(c.start, c.end, c.after, c.kind) for c in result.changes])


@SETTINGS
@given(texts)
def test_total_and_nothing_lost(text):
    result = dedup.clean_and_explain(text)
    assert isinstance(result.text, str)
    assert replay(text, result) == result.text
    for change in result.changes:
        assert text[change.start : change.end] == change.before


@SETTINGS
@given(texts)
def test_idempotent(text):
    once = dedup.clean(text)
    assert dedup.clean(once) == once


@SETTINGS
@given(texts)
def test_deterministic(text):
    assert dedup.clean_and_explain(text) == dedup.clean_and_explain(text)


@SETTINGS
@given(texts)
def test_repairs_invent_no_text(text):
    result = dedup.clean_and_explain(text, fix_encoding=False)
    for change in result.changes:
        if change.kind in ("duplicate_removed", "caption_removed", "boilerplate_removed"):
            assert change.after == ""
        else:
            assert change.after.strip() == "", change
            assert set(change.before) <= set(" \t\r\n-"), change


edits = st.lists(st.tuples(st.integers(0, 20), st.integers(0, 4), st.sampled_from(["", " ", "xy"])), max_size=4)


def _normalise(text, raw):
    out, last = [], -1
    for start, length, after in sorted(raw):
        start = min(start, len(text))
        end = min(start + length, len(text))
        if start <= last or (start == end and out and out[-1].start == out[-1].end == start):
            continue
        out.append(Edit(start, end, after, "k"))
        last = end if end > start else start
    return out


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab. ", max_size=20), edits, edits)
def test_compose_replays(text, raw_first, raw_second):
    first = _normalise(text, raw_first)
    middle = apply_edits(text, first)
    second = _normalise(middle, raw_second)
    composed = compose(first, second, middle)
    assert apply_edits(text, composed) == apply_edits(middle, second)


CAPTION_PARTS = ["(AP Photo/Jo Lee)", "(reuters)", "Photo by Ana", "images courtesy of", "via Getty",
                 "FILE - ", "FILE: ", "on Sept. 25, 2023.", "Jan 5, 2005", ", Monday, March 3, 1999.",
                 "/ Shutterstock", "staff photographer", "Smoke rises near", "the", "Photo", "AP", ",", " "]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(CAPTION_PARTS + WORDS), max_size=14).map(" ".join), st.booleans())
def test_caption_hint_is_necessary_for_any_caption_score(sentence, glued):
    """The per-document caption gate skips only texts where every sentence scores zero."""
    from dedup.policy import _caption_hint, caption_score

    if caption_score(sentence, glued)[0] > 0:
        assert _caption_hint(sentence)


REGEX_PIECES = ["ab", "xyz", "q", ".", " ", "“", "”", "’", "'", "@", "/", "-", "\n", ",", ")", "!", "Z", "1"]


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(REGEX_PIECES), max_size=16).map("".join))
@example("said Tuesday morning.took place")
@example("xyz.ab")
@example("q.ab, Zab.xyz ab.ab.ab -ab.ab /xyz.ab")
@example("ab“xyz ’“ab .“q ab”xyz !”Z ”ab")
def test_fast_repair_expressions_find_what_the_plain_ones_find(text):
    """The reordered quote expressions and the dot-first splice search match exactly where the
    straightforward expressions do."""
    import re

    from dedup import repair

    plain = {
        "open": re.compile(r"(?<=[\w’'.!?,;:])“(?=\w)"),
        "close": re.compile(r"(?<=[\w.,!?])”(?=[A-Za-z])"),
    }
    assert [m.span() for m in repair._CURLY_OPEN.finditer(text)] == [m.span() for m in plain["open"].finditer(text)]
    assert [m.span() for m in repair._CURLY_CLOSE.finditer(text)] == [m.span() for m in plain["close"].finditer(text)]
    assert [m.span() for m in repair._splice_matches(text)] == [m.span() for m in repair._SPLICE.finditer(text)]


MARKUP = ["&lt;", "&amp;", "&amp;lt;", "&#39;", "&#3;", "&#127;", "&#0;", "&foo;", "\x7f", "\x03", "<", "AT&T",
          "&nbsp;", "&quot;"]


@SETTINGS
@given(st.lists(st.sampled_from(MARKUP + WORDS), max_size=40).map(" ".join))
def test_only_markup_and_encoding_fixes_change_characters(text):
    """Repairs insert whitespace or drop line breaks and hyphens; anything else is a recorded
    entity, control-character or encoding fix, and cleaning stays idempotent and replayable."""
    result = dedup.clean_and_explain(text)
    assert replay(text, result) == result.text
    assert dedup.clean(result.text) == result.text
    for change in result.changes:
        if change.kind == "control_removed":
            assert change.after == "" and (change.before.startswith("&#") or len(change.before) == 1), change
        elif change.kind == "entity_decoded":
            assert change.before.startswith("&") and change.before.endswith(";"), change
        elif change.kind in ("duplicate_removed", "caption_removed", "boilerplate_removed"):
            assert change.after == ""
        elif not {"entity_decoded", "control_removed", "encoding_fixed"} & {change.kind, *change.absorbed}:
            assert change.after.strip() == "" and set(change.before) <= set(" \t\r\n-"), change


LAYOUT = ["napster.no", "site", "ssh.service", "os.path", "morning.took", "no", "it.is", "Tony", "Blair", "2005.",
          "£103m", '"', 'famed"clear', 'water"', "Indonesia\"s", "\n", "\n    ", "\n Reuter", "\nREUTER", "   ",
          "1.", "-", "&lt;", "&#3;", "the", "council", "met", "on", "Tuesday", "night.", "It", "was", "cold"]


@SETTINGS
@given(st.lists(st.sampled_from(LAYOUT), max_size=80).map(" ".join))
def test_repairs_of_layout_quotes_and_names_are_safe(text):
    """Unwrapping, quote spacing and splices on texts full of wraps, indents, sign-offs, names and
    quotes: replayable, idempotent, deterministic, and they only insert white space, turn a line
    break into a space or drop a line-break hyphen."""
    result = dedup.clean_and_explain(text, fix_encoding=False)
    assert replay(text, result) == result.text
    assert dedup.clean(result.text, fix_encoding=False) == result.text
    assert dedup.clean_and_explain(text, fix_encoding=False) == result
    for change in result.changes:
        if change.kind not in ("duplicate_removed", "caption_removed", "boilerplate_removed"):
            assert change.after.strip() == "" and set(change.before) <= set(" \t\r\n-"), change


def test_idempotent_on_a_run_of_glued_dotted_words():
    """`Ab.CdAb.Cd…`: whether a boundary is a dotted name depends on the boundary after it, so
    the boundaries are decided from the last one back and one pass gives the fixed point."""
    text = "Ab.Cd" * 60
    once = dedup.clean(text)
    assert once.count(". ") == 60
    assert dedup.clean(once) == once
