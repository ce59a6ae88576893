"""Tests of the evaluation harness itself (scripts/evaluation): generator, scorers, report.

No network and no downloads: every text here is written in the test. The real-text run is
``python scripts/evaluate.py --slice --check`` in CI.
"""

from __future__ import annotations

import doctest
import importlib
import random
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

from evaluation import corrupt, realfaults, report, scoring, sources, systems  # noqa: E402
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


def _corrupted(seed: int = 3, rates: FaultRates = ALL_FAULTS,
               generator: str = "v2") -> corrupt.CorruptedDoc:
    return corrupt_document(DOC, seed, rates, boilerplate=BLOCK, generator=generator)


@pytest.mark.parametrize("module", ["textutil", "sources", "corrupt", "scoring", "systems",
                                    "lshcurve", "realfaults", "report"])
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


@pytest.mark.parametrize("generator", ["v1", "v2"])
def test_scorers_give_full_marks_to_the_clean_original(generator: str) -> None:
    for seed in range(20):
        doc = _corrupted(seed, generator=generator)
        assert all(scoring.fault_fixed(f, doc.clean) for f in doc.faults)
        sentences = len(scoring.clean_sentences(doc.clean))
        assert scoring.retention(doc.clean, doc.clean) == (sentences, sentences)
        assert scoring.mangled_spans(scoring.protected_spans(doc.clean), doc.clean)[0] == 0
        assert scoring.edit_similarity(doc.clean, doc.clean) == 1.0


@pytest.mark.parametrize("generator", ["v1", "v2"])
def test_scorers_mark_the_corrupted_input_as_unfixed(generator: str) -> None:
    lost = 0
    for seed in range(20):
        doc = _corrupted(seed, generator=generator)
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


# --------------------------------------------------------------------------- generator v2


def test_generator_versions_differ_and_v1_is_kept() -> None:
    assert _corrupted(3, generator="v1").text != _corrupted(3, generator="v2").text
    assert _corrupted(3, generator="v1").text == _corrupted(3, generator="v1").text
    with pytest.raises(ValueError, match="generator"):
        _corrupted(3, generator="v3")


def test_v2_captions_come_from_every_family_and_score_when_removed() -> None:
    families = set()
    for seed in range(120):
        doc = _corrupted(seed)
        for fault in doc.faults:
            if fault.kind != "caption":
                continue
            families.add(fault.detail["family"])
            without = doc.text[: fault.start] + "\n\n" + doc.text[fault.end :]
            assert scoring.fault_fixed(fault, without)
            assert not scoring.fault_fixed(fault, doc.text)
    assert families == set(corrupt.CAPTION_FAMILIES)


def test_v2_wraps_are_ragged_and_span_40_to_100_columns() -> None:
    paragraph = " ".join(["alpha", "beta", "gamma", "delta", "epsilon"] * 40)
    widths = set()
    for seed in range(60):
        text, _ = corrupt.hard_wrap_v2(paragraph, random.Random(seed))
        lines = text.split("\n")[:-1]
        widths.add(max(len(line) for line in lines))
        assert len({len(line) for line in lines}) > 1
    assert min(widths) < 50 and max(widths) > 90


def test_v2_quote_faults_lose_the_space_on_either_side() -> None:
    sides = set()
    for seed in range(40):
        result = corrupt.drop_quote_space_v2('He called it "clear blue water" in May.',
                                             random.Random(seed))
        assert result is not None
        sides.add(result[0])
    assert sides == {'He called it"clear blue water" in May.',
                     'He called it "clear blue water"in May.'}


# --------------------------------------------------------------------------- real-fault scorers

STORY = ("ACME CORP &lt;ACM> 1ST QTR NET Shr 81 cts vs 57 cts\n"
         "    Net 3,660,273 vs 2,437,914\n"
         "    Year\n"
         "    Revs 28.5 mln vs 23.1 mln\n"
         "    The company said it expects sales to keep growing through\n"
         "the rest of the year, helped by new contracts in Europe.\n"
         " Reuter\n&#3;")


def _real(text: str, labels: tuple[str, ...], source: str = "spamassassin") -> sources.RealDoc:
    return sources.RealDoc("x:1", source, text, {"labels": labels})


def test_reuters_layout_reads_headline_wraps_tables_and_sign_off() -> None:
    layout = realfaults.reuters_layout(STORY)
    assert layout.headline == "ACME CORP &lt;ACM> 1ST QTR NET"
    assert layout.first_word == "Shr"
    assert layout.table_rows == ("Net 3,660,273 vs 2,437,914", "Year",
                                 "Revs 28.5 mln vs 23.1 mln")
    assert layout.paragraphs == ("The company said it expects sales to keep growing through the "
                                 "rest of the year, helped by new contracts in Europe.",)
    assert layout.trailer


def test_reuters_scorer_rewards_the_right_repair_and_charges_lost_rows() -> None:
    doc = sources.RealDoc("reuters:test:1", "reuters", STORY,
                          {"layout": realfaults.reuters_layout(STORY),
                           "labels": realfaults.reuters_labels(STORY)})
    ideal = ("ACME CORP <ACM> 1ST QTR NET\nShr 81 cts vs 57 cts\n    Net 3,660,273 vs 2,437,914\n"
             "    Year\n    Revs 28.5 mln vs 23.1 mln\n    The company said it expects sales to "
             "keep growing through the rest of the year, helped by new contracts in Europe.\n"
             " Reuter")
    counts: Counter[str] = Counter()
    realfaults.score_reuters(doc, ideal, counts)
    for check in ("headline_separated", "headline_kept", "wrap_joined", "table_row_own_line",
                  "entity_decoded", "control_mark_dropped", "trailer_kept"):
        assert counts[check] == counts[check + ":n"] > 0, check
    assert counts["content_removed"] == counts["data_removed"] == 0
    assert counts["data_removed:n"] == 3
    raw: Counter[str] = Counter()
    wrong = realfaults.score_reuters(doc, STORY.replace("    Year\n", "").replace(" Reuter\n", ""),
                                     raw)
    assert raw["headline_separated"] == raw["wrap_joined"] == raw["entity_decoded"] == 0
    assert raw["trailer_kept"] == 0 and raw["data_removed"] == 1
    assert raw["content_removed"] == 0 and raw["documents_losing_content"] == 1
    assert wrong == [{"doc_id": "reuters:test:1", "label": "data", "outcome": "removed",
                      "line": "Year"}]


def test_kept_lines_needs_a_run_of_three_words() -> None:
    text = "Navigation\nindex\nThe json module exposes an API familiar to users.\nindex"
    output = "The json module exposes an API familiar to users of the index."
    assert realfaults.kept_lines(text, output) == [False, False, True, False]


def test_spam_footer_labels_and_scores() -> None:
    body = ("Hi all, a short note on the build.\n\n"
            "The build broke again last night on the main branch.\n> quoted line\n\n"
            "_______________________________________________\nExmh-users mailing list\n"
            "https://listman.redhat.com/mailman/listinfo/exmh-users\n")
    doc = realfaults.spam_document("spamassassin:x:1", body)
    labels = dict(zip(body.split("\n"), doc.truth["labels"]))
    assert labels["The build broke again last night on the main branch."] == "content"
    assert labels["> quoted line"] == ""
    assert labels["Exmh-users mailing list"] == "boilerplate"
    good: Counter[str] = Counter()
    realfaults.score_labelled(doc, body.split("____")[0], good)
    assert good["boilerplate_removed"] == good["boilerplate_removed:n"] == 3
    assert good["content_removed"] == 0
    bad: Counter[str] = Counter()
    realfaults.score_labelled(doc, "Hi all, a short note on the build.\n" + body.split("\n", 3)[3],
                              bad)
    assert bad["content_removed"] == 1 and bad["boilerplate_removed"] == 0


def test_html_page_lines_are_labelled_against_the_rest_source() -> None:
    page = ('<html><head><title>json</title></head><body>'
            '<div class="related"><ul><li>index</li><li>modules |</li></ul></div>'
            '<div class="sphinxsidebar"><h3>Table of Contents</h3><ul><li>Basic Usage</li></ul>'
            '</div><div class="body" role="main"><h1>Basic Usage</h1>'
            '<p>Serialize obj as a JSON formatted stream to fp.</p></div>'
            '<div class="footer">Created using Sphinx 5.3.0.</div></body></html>')
    rst = "Basic Usage\n-----------\n\nSerialize *obj* as a JSON formatted stream to *fp*.\n"
    doc = realfaults.pydoc_document("pydocs:library/json", page, rst)
    labelled = dict(zip(doc.text.split("\n"), doc.truth["labels"]))
    assert labelled["index"] == labelled["Table of Contents"] == "boilerplate"
    assert labelled["Created using Sphinx 5.3.0."] == "boilerplate"
    assert labelled["Serialize obj as a JSON formatted stream to fp."] == "content"
    assert "json" not in doc.text.split("\n")  # the <title> is not page text


def test_held_out_split_is_stable_and_about_sixty_percent() -> None:
    ids = [f"reuters:test:{i}" for i in range(2000)]
    share = sum(sources.held_out(i) for i in ids) / len(ids)
    assert 0.55 < share < 0.65
    assert [sources.held_out(i) for i in ids[:50]] == [sources.held_out(i) for i in ids[:50]]


def test_clean_run_counts_changes_and_lost_content() -> None:
    docs = [sources.RealDoc(f"bbc:{i}", "bbc", PARAGRAPHS[i] + "\n\n" + PARAGRAPHS[i + 1])
            for i in range(3)]

    def drops_a_sentence(texts: object) -> tuple[list[str], list[list[dict[str, str]]]]:
        texts = list(texts)  # type: ignore[call-overload]
        first = texts[0].replace("At least 13 bodies", "", 1).split(" officials said. ", 1)[1]
        return [first, *texts[1:]], [[{"kind": "duplicate_removed"}], [], []]

    result = realfaults.score_clean(drops_a_sentence, docs)
    assert result["documents_changed_per_1000"] == pytest.approx(1000 / 3)
    assert result["documents_losing_a_sentence_per_1000"] == pytest.approx(1000 / 3)
    assert result["changes_per_1000_by_kind"] == {"duplicate_removed": pytest.approx(1000 / 3)}
    assert result["words_removed_per_1000"] > 0
    untouched = realfaults.score_clean(lambda texts: (list(texts), None), docs)
    assert untouched["documents_changed_per_1000"] == 0
    assert untouched["words_removed_per_1000"] == 0


def test_check_real_reports_bounds_crossed_and_missing_runs() -> None:
    results = {"real": {
        "scores": {"reuters": {"dedup": {"available": True, "rates": {"wrap_joined": 0.5,
                                                                     "content_removed": 0.1}}}},
        "clean": {"dedup": {"available": False, "reason": "no"}},
    }}
    bounds = {"reuters": {"dedup": {"wrap_joined": {"min": 0.8}, "content_removed": {"max": 0.2},
                                    "trailer_kept": {"min": 0.9}}},
              "clean": {"dedup": {"words_removed_per_1000": {"max": 0.0}}}}
    failures = report.check_real(results, bounds)
    assert len(failures) == 3
    assert any("wrap_joined is 0.500, below 0.800" in f for f in failures)
    assert any("trailer_kept was not measured" in f for f in failures)
    assert any("clean/dedup did not run: no" in f for f in failures)


def test_caption_fix_rates_are_reported_per_family() -> None:
    from evaluation.run import score_text_system

    corpus = [corrupt_document(replace(DOC, doc_id=f"news:{i}"), 1, ALL_FAULTS) for i in range(30)]
    captions = Counter(f.detail["family"] for d in corpus for f in d.faults if f.kind == "caption")
    result = score_text_system(systems.nothing, corpus)
    assert {k: v["total"] for k, v in result["caption_families"].items()} == dict(captions)
    assert all(v["fixed"] == 0 for v in result["caption_families"].values())
    table = report.caption_table({"text_systems": {"dedup": result}})
    assert all(f"0/{n}" in table and family in table for family, n in captions.items())
