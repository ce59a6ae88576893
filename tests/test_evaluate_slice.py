"""Tests of the evaluation harness itself (scripts/evaluation): generator, scorers, report.

No network and no downloads: every text here is written in the test. The real-text run is
``python scripts/evaluate.py --slice --check`` in CI.
"""

from __future__ import annotations

import doctest
import importlib
import random
import sys
from dataclasses import replace
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

from evaluation import corrupt, report, scoring, sources, systems  # noqa: E402
from evaluation.corrupt import FaultRates, build_corpus, corrupt_document  # noqa: E402
from evaluation.lshcurve import candidate, pair_with_jaccard, s_curve  # noqa: E402
from evaluation.sources import SourceDoc  # noqa: E402
from evaluation.textutil import flat, line_view, match_key  # noqa: E402

PARAGRAPHS = (
    "Smoke rose over the regional capital on Monday evening. At least 13 bodies have been found "
    "and another 290 people remain hospitalized after the explosion, officials said. Dr. Anna "
    "Petrosyan, who runs the hospital, said the U.S. embassy had offered help on Sept. 25.",
    "The separatist government’s health department said that seven people have died of their "
    "injuries. It called the blast “a catastrophe” and asked residents to stay calm. "
    "Nagorno-Karabakh officials said the road to Armenia would remain open throughout the night.",
    "Fuel has been in short supply for months, and prices rose 3.5 percent last week alone. "
    "Reporters can write to press@example.org or read https://example.org/updates for details. "
    "Residents lined up for hours at the only station still open in the neighbourhood.",
    "The Azerbaijani military routed Armenian forces in a quick offensive last week, forcing the "
    "authorities to agree to lay down weapons. Talks on the region’s “reintegration” began on "
    "Thursday in the city of Yevlakh, according to statements from both governments.",
)
DOC = SourceDoc("news:0", "news", PARAGRAPHS, {})
ALL_FAULTS = FaultRates(paragraph_fault=0.5, duplicate=1.0, duplicate_glued=1.0,
                        near_duplicate=1.0, caption=1.0, boilerplate=1.0, reprint=1.0)
BLOCK = "Sign up for our daily newsletter to get the top stories delivered to your inbox."


def _corrupted(seed: int = 3, rates: FaultRates = ALL_FAULTS) -> corrupt.CorruptedDoc:
    return corrupt_document(DOC, seed, rates, boilerplate=BLOCK)


@pytest.mark.parametrize("module", ["textutil", "sources", "corrupt", "scoring", "systems",
                                    "lshcurve"])
def test_doctests(module: str) -> None:
    result = doctest.testmod(importlib.import_module(f"evaluation.{module}"))
    assert result.failed == 0


def test_generator_is_deterministic_per_seed() -> None:
    first, second = _corrupted(3), _corrupted(3)
    assert first.text == second.text
    assert first.faults == second.faults
    assert _corrupted(4).text != first.text


def test_every_fault_kind_can_be_generated() -> None:
    kinds = {f.kind for seed in range(40) for f in _corrupted(seed).faults}
    # compound_break needs a hyphenated word at a line end; the rest must all appear.
    assert set(corrupt.FAULT_KINDS) - {"compound_break"} <= kinds


def test_faults_are_recorded_at_their_offsets() -> None:
    for seed in range(40):
        doc = _corrupted(seed)
        for fault in doc.faults:
            span = doc.text[fault.start : fault.end]
            detail = fault.detail
            if fault.kind.startswith("dup_"):
                assert match_key(span) == match_key(detail["paragraph"])
            elif fault.kind in {"glued_boundary", "quote_space"}:
                assert flat(span) == detail["left"] + detail["right"]
            elif fault.kind == "caption":
                assert span == detail["caption"]
            elif fault.kind == "boilerplate":
                assert span == detail["block"]
            elif fault.kind == "near_dup_sentence":
                assert span == detail["variant"]
            elif fault.kind == "mojibake":
                assert span == corrupt.mojibake(detail["paragraph"])
            elif fault.kind == "hard_wrap":
                assert "\n" in span and "\n\n" not in span
            elif fault.kind in {"hyphenation", "compound_break"}:
                assert "-\n" in span
                assert span.replace("-\n", "" if fault.kind == "hyphenation" else "-") in \
                    detail["context"]


def test_glued_faults_really_glue() -> None:
    for seed in range(40):
        doc = _corrupted(seed)
        for fault in doc.faults:
            if fault.kind == "dup_glued":
                assert not doc.text[fault.end :].startswith((" ", "\n"))
            if fault.kind == "caption" and doc.text[fault.end : fault.end + 2] != "\n\n":
                assert doc.text[fault.end].isalnum() or doc.text[fault.end] in "\"“"


def test_scorers_give_full_marks_to_the_clean_original() -> None:
    for seed in range(20):
        doc = _corrupted(seed)
        assert all(scoring.fault_fixed(f, doc.clean) for f in doc.faults)
        sentences = len(scoring.clean_sentences(doc.clean))
        assert scoring.retention(doc.clean, doc.clean) == (sentences, sentences)
        assert scoring.mangled_spans(scoring.protected_spans(doc.clean), doc.clean)[0] == 0
        assert scoring.edit_similarity(doc.clean, doc.clean) == 1.0


def test_scorers_mark_the_corrupted_input_as_unfixed() -> None:
    lost = 0
    for seed in range(20):
        doc = _corrupted(seed)
        assert not any(scoring.fault_fixed(f, doc.text) for f in doc.faults)
        kept, total = scoring.retention(doc.clean, doc.text)
        assert kept <= total
        lost += total - kept
        assert scoring.edit_similarity(doc.text, doc.clean) < 1.0
    assert lost > 0  # wraps, mojibake and lost quote spaces break sentences


def test_protected_spans_cover_each_category_and_catch_mangling() -> None:
    spans = scoring.protected_spans("\n\n".join(PARAGRAPHS))
    categories = {s.category for s in spans}
    assert {"abbreviation", "acronym", "decimal", "email", "url"} <= categories
    broken = "\n\n".join(PARAGRAPHS).replace("3.5", "3. 5").replace("Sept. 25", "Sept.\n\n25")
    mangled, checked = scoring.mangled_spans(spans, broken)
    assert (mangled, checked) == (2, len(spans))


def test_initials_and_versions_are_protected() -> None:
    spans = scoring.protected_spans("Written by J. R. R. Tolkien, read on Python 3.11.2 today.")
    assert [(s.category, s.item) for s in spans] == [("version", "3.11.2"),
                                                     ("initials", "J. R. R. Tolkien")]


def test_line_dedup_baseline_fixes_exact_duplicates_only() -> None:
    doc = corrupt_document(DOC, 5, replace(ALL_FAULTS, paragraph_fault=0.0, caption=0.0,
                                           near_duplicate=0.0, duplicate_glued=0.0))
    output = systems.exact_line_dedup([doc.text])[0]
    for fault in doc.faults:
        assert scoring.fault_fixed(fault, output) == (fault.kind == "dup_exact")


def test_document_pairs_against_brute_force() -> None:
    corpus = build_corpus([DOC, replace(DOC, doc_id="news:1", paragraphs=PARAGRAPHS[:2])], 1,
                          replace(ALL_FAULTS, paragraph_fault=0.0, duplicate=0.0,
                                  duplicate_glued=0.0, near_duplicate=0.0, caption=0.0,
                                  boilerplate=0.0))
    texts = [d.text for d in corpus]
    truth = scoring.true_pairs(texts, 0.8)
    position = {d.doc_id: i for i, d in enumerate(corpus)}
    reprints = {(position[d.reprint_of], i) for i, d in enumerate(corpus) if d.reprint_of}
    assert len(reprints) == 2 and reprints <= truth
    assert scoring.pair_precision_recall(scoring.cluster_pairs([list(p) for p in truth]), truth) \
        == (1.0, 1.0)
    assert scoring.pair_precision_recall(set(), truth) == (1.0, 0.0)


def test_synthetic_pairs_have_the_requested_jaccard() -> None:
    rng = random.Random(0)
    for target in (0.1, 0.45, 0.8, 0.95):
        a, b = pair_with_jaccard(target, 200, rng)
        exact = len(set(a.tolist()) & set(b.tolist())) / len(set(a.tolist()) | set(b.tolist()))
        assert abs(exact - target) < 0.01
    assert s_curve(1.0, 9, 13) == 1.0 and s_curve(0.0, 9, 13) == 0.0


def test_banding_needs_one_whole_band() -> None:
    import numpy as np

    assert not candidate(np.array([1, 2, 3, 4]), np.array([1, 0, 3, 0]), 2, 2)
    assert candidate(np.array([1, 2, 3, 4]), np.array([0, 0, 3, 4]), 2, 2)


def test_loaders_turn_raw_bytes_into_clean_paragraphs() -> None:
    news = sources.news_documents(b"It rained in Sydney today. The fire was out by noon. "
                                  b"Crews went home. Police said it was arson.\n")
    assert news == [["It rained in Sydney today. The fire was out by noon.",
                     "Crews went home. Police said it was arson."]]
    email = sources.email_paragraphs(
        "From: x@y.z\nSubject: s\n\nIn article <1@y.z> someone writes:\n> quoted text here\n\n"
        "I think the launch was delayed because of the weather, not the\nengine problem.\n\n"
        "--\n/\\/\\/\\ signature art /\\/\\/\\\n")
    assert email == ["I think the launch was delayed because of the weather, not the engine "
                     "problem."]


def test_check_reports_each_threshold_it_misses() -> None:
    results = {"text_systems": {"dedup": {
        "available": True, "fix_rate": {"dup_exact": 0.5, "mojibake": 1.0}, "retention": 0.9,
        "protected_mangled": 3, "clean_untouched": 1.0, "clean_similarity": 1.0,
        "similarity": 0.9}}}
    floors = {"fix_rate": {"dup_exact": 0.9, "mojibake": 0.9}, "retention": 0.95,
              "protected_mangled": 0}
    failures = report.check(results, floors)
    assert len(failures) == 3
    assert any("dup_exact" in f for f in failures)
    assert report.check({"text_systems": {"dedup": {"available": False, "reason": "x"}}},
                        floors) == ["dedup did not run: x"]


def test_line_view_keeps_line_breaks() -> None:
    assert line_view("a  b\nc") == "a b\nc"


def test_dedup_report_document_records_become_clusters(tmp_path: Path) -> None:
    report_file = tmp_path / "r.jsonl"
    report_file.write_text(
        '{"type": "run"}\n'
        '{"type": "document", "id": "2", "removed": true, "duplicate_of": "0", "cluster": 0}\n'
        '{"type": "document", "id": "5", "removed": true, "duplicate_of": "0", "cluster": 0}\n'
        '{"type": "document", "id": "4", "removed": true, "duplicate_of": "3", "cluster": 1}\n'
        '{"type": "summary"}\n', encoding="utf-8")
    assert sorted(systems._clusters_from_report(report_file)) == [[0, 2, 5], [3, 4]]


def test_datasketch_baseline_groups_identical_documents() -> None:
    adapter = systems.DedupAdapter(SCRIPTS.parent)
    texts = [PARAGRAPHS[0], PARAGRAPHS[1], PARAGRAPHS[0]]
    assert systems.datasketch_lsh(adapter)(texts, 0.8) == [[0, 2]]
