"""The language slice of the evaluation (scripts/evaluation/languages.py), offline: how it reads
the Debian Reference pages, seeds its faults and checks its bounds."""

from __future__ import annotations

import random
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

import evaluate  # noqa: E402
from evaluation import languages  # noqa: E402
from evaluation.languages import LangDoc  # noqa: E402


def test_chapter_paragraphs_join_cjk_lines_without_spaces():
    page = ("<div><p>東京で大きな\n火事が<code>ありました</code>。</p>"
            "<p>Die Feuerwehr kam\n  schnell &amp; leise.</p><p>mixed 言語\nwords</p></div>")
    assert languages.chapter_paragraphs(page) == ["東京で大きな火事がありました。", "Die Feuerwehr kam schnell & leise.",
                                                  "mixed 言語words"]


def test_sure_boundaries_skip_abbreviations_and_closing_quotes():
    german = "Wir sahen Dr. Müller am Abend. Danach kam z.B. Anna. Sie blieb."
    cuts = languages.sure_boundaries(german, "german")
    assert [german[c + 1 : c + 4] for c in cuts] == ["Dan", "Sie"]
    japanese = "「火事だ。」と言った。消防車が来た！"
    assert [japanese[c:] for c in languages.sure_boundaries(japanese, "japanese")] == ["消防車が来た！"]


def test_seeded_faults_are_deterministic_and_real():
    doc = LangDoc("debref:ch01:1", "french", ("Le chat dort sur le canapé depuis le matin. Il rêve de souris grises.",
                                              "Le chien aboie dans le jardin."))
    glued = languages.glued_boundary(doc, random.Random(1))
    assert glued == languages.glued_boundary(doc, random.Random(1))
    assert glued is not None and "matin.Il" in glued
    repeated = languages.repeated_sentence(doc, random.Random(1))
    assert repeated is None  # the last sentence (16 characters) is too short to plant
    chinese = LangDoc("x", "chinese", ("今天北京下了一场大雪。很多航班因此被取消了，旅客只能在机场等待。",))
    assert languages.glued_boundary(chinese, random.Random(1)) is None
    assert languages.repeated_sentence(chinese, random.Random(1)).endswith("。很多航班因此被取消了，旅客只能在机场等待。")


def test_near_copy_replaces_the_planned_number_of_words():
    doc = LangDoc("x", "chinese", ("国家统计局今天发布数据显示今年前三个季度全国居民人均可支配收入增长。",))
    copy = languages.near_copy(doc, 2, random.Random(3))
    assert len(copy) == len(doc.text) and copy != doc.text
    assert sum(a != b for a, b in zip(copy, doc.text)) <= 4


def test_check_languages_names_what_fails():
    good = {"near_duplicates": {"recall": 1.0, "false_drops": 0}, "clean_changed": 0, "detected": 1.0,
            "repeated_sentence": {"rate": 1.0}, "glued_boundary": {"rate": 1.0},
            "abbreviations": {"sentence_ends": 0}}
    results = {language: good for language in languages.LANGUAGE_CODES}
    assert evaluate.check_languages(results) == []
    bad = dict(good, near_duplicates={"recall": 0.5, "false_drops": 2})
    failures = evaluate.check_languages(dict(results, german=bad))
    assert failures == ["languages/german: recall is 0.5, below 0.9", "languages/german: false_drops is 2, above 0"]
