"""The segmenter's memo shared with forked workers: found values are exactly what was put, a
damaged slot reads as absent, and segmenting through it gives Punkt's own sentences."""

from __future__ import annotations

import multiprocessing
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.segment import Segmenter, _SharedMemo

TEXT = ("Smoke rose on Sept. 25, 2023. The border is 22 miles away. (AP Photo/Jo Lee)\n"
        "Mr. Smith said: \"It's over.\" Then he left! Did he? Yes.\n"
        "U.S. officials met at 3 p.m. on Monday. One. Two. Three. Four. Five. Six. Seven. Eight. "
        "Nine. Ten. Eleven. Twelve. Thirteen. Fourteen.\n"
        "A line with no break\n"
        "Surrogates \udce9 and é and 😀 too. Yes.")


def _sentences(segmenter: Segmenter, text: str = TEXT) -> list[tuple[int, int]]:
    return [(s.start, s.end) for s in segmenter.sentences(text, 0, len(text))]


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=40), st.binary(max_size=7), max_size=30))
def test_values_found_are_the_values_put(pairs):
    memo = _SharedMemo(8, 32)  # few slots: keys displace each other
    for key, value in pairs.items():
        memo.put(key, value)
        assert memo.get(key) == value
    for key, value in pairs.items():
        assert memo.get(key) in (value, None)  # kept, or displaced by a later key


def test_values_too_large_for_a_slot_are_not_kept():
    memo = _SharedMemo(4, 32)
    memo.put("long", b"x" * 8)
    assert memo.get("long") is None
    memo.put("short", b"x" * 7)
    assert memo.get("short") == b"x" * 7


def test_a_damaged_slot_reads_as_absent():
    memo = _SharedMemo(1, 64)
    memo.put("key", b"value")
    for at in range(8 + 16 + 1 + 5):  # checksum, digest, length, value: any byte changed
        saved = memo.buffer[at]
        memo.buffer[at] = saved ^ 0x40
        assert memo.get("key") is None, at
        memo.buffer[at] = saved
    assert memo.get("key") == b"value"


def _put_in_child(memo: _SharedMemo) -> None:
    memo.put("from the child", b"\x01")


@pytest.mark.skipif(sys.platform != "linux", reason="workers share the memo when forked")
def test_a_forked_process_shares_what_it_learns():
    memo = _SharedMemo(64, 32)
    child = multiprocessing.get_context("fork").Process(target=_put_in_child, args=(memo,))
    child.start()
    child.join()
    assert child.exitcode == 0
    assert memo.get("from the child") == b"\x01"


def test_sentences_through_the_shared_memo_are_punkts():
    plain, shared, reader = Segmenter(), Segmenter(), Segmenter()
    shared.share()
    expected = _sentences(plain)
    assert _sentences(shared) == expected  # computed and put
    reader._shared[:] = shared._shared  # another process's view: its own memo is empty
    assert _sentences(reader) == expected
    long_line = TEXT.splitlines()[2]  # 16 sentences: too many for a slot, segmented again
    assert shared._shared[1].get(long_line) is None
    assert shared._shared[1].get(TEXT.splitlines()[0]) is not None
    assert len(shared._shared[0].buffer) and any(shared._shared[0].buffer)  # break decisions shared
