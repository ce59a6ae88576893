"""A further cleaning round reuses what the round before found on the text they share (a
paragraph's lines and sentences, a unit's key and shingles) and finds exactly what it would find
on its own."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dedup
from dedup.config import DedupConfig
from dedup.pipeline import prepare
from dedup.policy import UnitKeys, decide_document

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PIECES = ["It exploded on Sept. 25, 2023.Gasoline has been scarce.", "The blast took place Tuesday morning.took place",
          "Dr. Smith said \"no\".He left.", "Sign up for our newsletter.", "explo-\nsion", "U.S. officials said",
          "1. First item", "Shr 18 cts vs 15 cts", "a\tb\tc", "Photo: Reuters/Jane Doe", "The fire spread.",
          "The fire spread", "Azerbaijanâ€™s forces", "East Timor", "\n", " ", "—", "’"]
paragraphs = st.lists(st.sampled_from(PIECES), min_size=1, max_size=6).map(" ".join)
documents = st.lists(paragraphs, min_size=1, max_size=8)


@SETTINGS
@given(documents, st.data())
def test_a_further_round_segments_as_a_first_one(blocks, data):
    # The text of the later round: some paragraphs gone, some changed, some moved (as removals
    # and the repairs after them leave it), the others as they were.
    config = DedupConfig()
    earlier = prepare("\n\n".join(blocks), config)
    later_blocks = data.draw(st.lists(st.sampled_from(blocks) | paragraphs, max_size=8))
    later = "\n\n".join(later_blocks)
    assert prepare(later, config, earlier) == prepare(later, config)


@SETTINGS
@given(documents, st.data())
def test_unit_keys_met_again_decide_as_new_ones(blocks, data):
    config = DedupConfig()
    keys = UnitKeys(config)
    for text in ("\n\n".join(blocks), "\n\n".join(data.draw(st.lists(st.sampled_from(blocks) | paragraphs,
                                                                     max_size=8)))):
        prepared = prepare(text, config)
        args = (prepared.text, prepared.paragraphs, prepared.boundaries, config)
        assert decide_document(*args, unit_keys=keys) == decide_document(*args)


def test_a_document_needing_a_further_round_is_cleaned_as_before():
    # Removing the caption brings the two copies of the paragraph together as exact repeats: the
    # second round (reusing the first's segmentation and keys) removes the repeat.
    para = "Gasoline has been scarce since the blast, officials said on Tuesday."
    caption = "People wait at a fuel station in Kyiv, Ukraine, Monday, Sept. 25, 2023. (AP Photo/Jane Doe)"
    text = f"{para}\n\n{caption} {para}\n\nThe fire spread."
    once = dedup.clean(text)
    assert once.count(para) == 1 and "AP Photo" not in once
    assert dedup.clean(once) == once
