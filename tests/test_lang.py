"""Beyond English (issue 22): language per document, script-aware keys and shingles, CJK and
per-language sentences, English-only rules gated. Golden cases are in tests/cases/languages.json."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import dedup
from dedup.cli import main
from dedup.config import DedupConfig
from dedup.errors import ConfigError
from dedup.fingerprint import (
    document_shingles,
    key_shingles,
    normalize_key,
    shingle_mode,
    shingle_size_of,
    spaced_characters,
)
from dedup.language import LANGUAGES, config_for_language, detect_language

GERMAN = ("Der Bundestag hat am Donnerstag über das neue Gesetz für die Bahn abgestimmt. Die Opposition "
          "ist dagegen, weil sie die Kosten für zu hoch hält und nicht an den Erfolg glaubt.")
FRENCH = ("Le conseil municipal a voté le budget de la ville pour l'année prochaine. Les travaux de la "
          "place commenceront au printemps, mais les habitants ne sont pas tous d'accord avec le projet.")
SPANISH = ("El gobierno ha presentado un nuevo plan para la economía del país. Los sindicatos dicen que "
           "no es suficiente y que las medidas llegan tarde para los trabajadores de la industria.")
ENGLISH = ("The council approved the budget on Tuesday after a long debate about roads. Critics said "
           "the plan was too expensive and that it would not fix the bridges in the north of the city.")
CHINESE = "今天北京下了一场大雪，很多航班因此被取消了。机场方面表示，明天的航班将会恢复正常。"
JAPANESE = "東京で大きな火事がありました。消防車が二十台出動しました。"
# Technical Chinese is full of Latin names: still Chinese.
CHINESE_TECHNICAL = ("用户和组系统的管理命令，参见passwd(5)，group(5)，shadow(5)，newgrp(1)，vipw(8)，vigr(8)，"
                     "以及pam_group(8)。atime在 GNU/Linux 系统上的真实值可能和历史上 Unix的定义有所不同。")


@pytest.mark.parametrize(("text", "language"), [
    (GERMAN, "german"), (FRENCH, "french"), (SPANISH, "spanish"), (ENGLISH, "english"),
    (CHINESE, "chinese"), (JAPANESE, "japanese"), (CHINESE_TECHNICAL, "chinese"),
    ("서울에서 큰 화재가 발생했습니다. 소방차 스무 대가 출동했습니다.", "korean"),
    ("Правительство представило новый план развития экономики страны.", "russian"),
    ("", "english"),
    ("Die Bahn.", "english"),  # too little evidence: English, whose rules were always applied
])
def test_detect_language(text, language):
    assert detect_language(text) == language


def test_english_with_foreign_names_stays_english():
    text = ENGLISH + " Der Spiegel and Le Monde reported it, as did the Süddeutsche Zeitung in Munich."
    assert detect_language(text) == "english"


def test_language_setting_is_one_name_everywhere():
    assert DedupConfig().replace(language="german").segment.language == "german"
    assert "language" in DedupConfig().as_dict()
    with pytest.raises(ConfigError, match="language='klingon'"):
        DedupConfig().replace(language="klingon")
    assert {"german", "french", "chinese", "japanese"} <= set(LANGUAGES)


def test_cli_language_flag_and_report(tmp_path):
    sentence = "Am 3. Okt. 2023 trafen wir Dr. Müller in Berlin."
    text = f"{sentence} Danach gingen wir essen. {sentence}"
    source = tmp_path / "de.txt"
    source.write_text(text, encoding="utf-8")
    report = tmp_path / "report.json"
    result = CliRunner().invoke(main, ["clean", str(source), "--language", "german", "--report", str(report)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "Am 3. Okt. 2023 trafen wir Dr. Müller in Berlin. Danach gingen wir essen."
    record = json.loads(report.read_text(encoding="utf-8"))
    assert record["settings"]["language"] == "german"
    assert [(d["language"], d["shingles"]) for d in record["documents"]] == [("german", "words")]
    bad = CliRunner().invoke(main, ["clean", str(source), "--language", "klingon"])
    assert bad.exit_code == 2 and "klingon" in bad.stderr


def test_report_records_detected_language_subprocess(tmp_path):
    source = tmp_path / "docs.jsonl"
    source.write_text("\n".join(json.dumps({"id": i, "text": t}) for i, t in
                                enumerate([JAPANESE, ENGLISH, "東京 Tower の火事 was big"])) + "\n", encoding="utf-8")
    report = tmp_path / "report.jsonl"
    proc = subprocess.run([sys.executable, "-m", "dedup", "clean", str(source), "-o", str(tmp_path / "out.jsonl"),
                           "--report", str(report)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()]
    documents = [r for r in records if r.get("type", r.get("record")) == "document" or "shingles" in r]
    # (JSON Lines has a document line for documents not in English or not shingled by words)
    assert [(str(d.get("document", d.get("id"))), d["language"], d["shingles"]) for d in documents] == [
        ("0", "japanese", "characters"), ("2", "japanese", "mixed")]


def test_document_mode_reports_shingles_but_no_language(tmp_path):
    # Document mode only compares documents: no rule depends on the language, so none is
    # detected or reported; the shingles (what the comparison uses) still are.
    source = tmp_path / "docs.jsonl"
    source.write_text("\n".join(json.dumps({"id": i, "text": t}) for i, t in enumerate([JAPANESE, ENGLISH])) + "\n",
                      encoding="utf-8")
    report = tmp_path / "report.json"
    result = CliRunner().invoke(main, ["clean", str(source), "-o", str(tmp_path / "out.jsonl"), "--mode", "documents",
                                       "--report", str(report)])
    assert result.exit_code == 0, result.stderr
    documents = json.loads(report.read_text(encoding="utf-8"))["documents"]
    assert [("language" in d, d["shingles"]) for d in documents] == [(False, "characters"), (False, "words")]


def test_keys_fold_width_and_split_unspaced_scripts():
    assert normalize_key("ＡＢＣ１２３ ｶﾀｶﾅ") == "abc123 カ タ カ ナ"
    assert normalize_key("東京で、火事。") == "東 京 で 火 事"
    assert normalize_key("ภาษาไทย") == "ภ า ษ า ไ ท ย"
    assert normalize_key("서울 화재") == "서울 화재"  # Korean is written with spaces: words


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), max_codepoint=0x2DFF), max_size=60))
def test_keys_of_spaced_scripts_are_unchanged(text):
    # Latin, Greek, Cyrillic, ... (below the CJK radicals, but Thai, Lao, Myanmar, Khmer): the
    # English path.
    key = normalize_key(text)
    if not any("\u0e00" <= c <= "\u0eff" or "\u1000" <= c <= "\u109f" or "\u1780" <= c <= "\u17ff"
               for c in key):
        assert spaced_characters(key) == key
        assert shingle_size_of(key, 5) == 5
        assert all((a == b).all() for a, b in zip(document_shingles([key], 5), key_shingles([key], 5)))


def test_shingle_sizes_and_modes():
    assert shingle_size_of(normalize_key(CHINESE), 5) == 7
    assert shingle_size_of(normalize_key(JAPANESE), 5) == 10
    assert shingle_size_of(normalize_key(ENGLISH + " 東京"), 5) == 5  # a few characters: words
    assert (shingle_mode(ENGLISH), shingle_mode(CHINESE), shingle_mode(CHINESE_TECHNICAL)) == (
        "words", "characters", "mixed")


ARTICLE = ("国家统计局今天发布数据显示，今年前三个季度全国居民人均可支配收入比上年同期名义增长百分之六点三。"
           "其中，城镇居民人均可支配收入增长百分之五点二，农村居民人均可支配收入增长百分之七点六。"
           "专家表示，收入增长主要得益于就业形势总体稳定和各项惠民政策的持续落实。"
           "与此同时，居民消费支出也保持增长，服务性消费支出增长较快，旅游和文化娱乐消费明显回暖。")
OTHER = ("气象台今天发布寒潮预警，受强冷空气影响，北方大部分地区气温将下降八到十度。"
         "专家提醒，市民出行要注意防寒保暖，农业生产要做好防冻措施，交通部门要及时清除道路积雪。"
         "预计这次寒潮天气将持续三天左右，周末以后气温将逐渐回升，但仍然低于常年同期水平。"
         "与此同时，南方部分地区将出现降雨天气，局部地区有中到大雨，需要防范地质灾害。")


def test_chinese_near_duplicate_documents_are_found():
    edited = ARTICLE.replace("较快", "很快")  # two characters of 170
    result = dedup.Deduplicator().run([ARTICLE, edited, OTHER])
    assert [d.duplicate_of for d in result.documents] == [None, "0", None]


def test_language_is_resolved_once_and_english_keeps_every_rule():
    config = DedupConfig()
    assert config_for_language(ENGLISH, config).repair == config.repair
    german = config_for_language(GERMAN, config)
    assert german.segment.language == "german"
    assert (german.repair.split_splices, german.repair.dehyphenate, german.repair.split_glued) == (False, False, True)
    assert german.policy.captions == "keep"
    assert config_for_language(ENGLISH, german) == german  # a resolved config stays as it is
    chinese = config_for_language(CHINESE, config)
    assert not (chinese.repair.split_glued or chinese.repair.quote_space or chinese.repair.unwrap_lines)


def test_english_caption_rules_do_not_touch_german():
    text = (GERMAN + "\n\nFoto: Michael Kappeler/dpa\n\nDie Abstimmung war für den Nachmittag geplant, "
            "aber sie wurde auf den Abend verschoben, weil die Debatte über den Haushalt länger dauerte.")
    assert dedup.clean(text) == text


MIXED = "東京で火事。消防車が来た！Fire trucks came. 本当？はい。 Der Zug fährt.\n「火事」と言った。"


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(MIXED.split("。") + ["。", "！", "\n\n", " ", "Dr. Müller", "z. B."]),
                max_size=12).map("".join))
def test_cjk_and_mixed_text_is_idempotent_and_accounted(text):
    once = dedup.clean_and_explain(text)
    assert dedup.clean(once.text) == once.text
    for change in once.changes:
        assert text[change.start : change.end] == change.before


def test_a_document_whose_removals_change_its_language_is_cleaned_in_the_new_one():
    # Read as Japanese (more CJK characters than Latin words), until its repeated Japanese line
    # goes; then it reads as French, and a further round cleans it as French: the glued French
    # repeat is split and removed in the same run, so a second run changes nothing.
    french = "L’explosion a secoué le port peu après minuit, ont raconté des habitants."
    japanese = "東京の港で火事があった。消防が三時間で消し止めた。"
    text = f"{french}{french} Les pompiers sont restés toute la nuit.\n\n{japanese}\n{japanese}\n"
    once = dedup.clean(text)
    assert once.count("L’explosion") == 1 and once.count("東京") == 1
    assert dedup.clean(once) == once


def test_chinese_boilerplate_is_found_and_a_reprint_without_it(tmp_path):
    # Words of a script written without spaces are counted by character (as its key counts them),
    # so a Chinese notice in five stories is boilerplate like an English one, and the reprint of
    # a story without it is found.
    notice = "本文版权归新华社所有，未经许可不得转载。欢迎关注我们的微信公众号获取更多新闻。"
    stories = [CHINESE, "东京港发生大火，消防部门花了三个小时才将其扑灭。据警方称，没有人受伤。",
               "大阪市议会以多数票通过了新桥的建设预算。工程将于明年春天开始，预计两年后完工。",
               "受台风影响，九州和四国的机场有许多航班被取消。铁路公司也宣布部分列车停运。",
               "上海的一家博物馆今天重新开放，展出了三百多件来自世界各地的古代艺术品。"]
    records = [{"id": f"z{k}", "text": f"{story}\n\n{notice}\n"} for k, story in enumerate(stories)]
    records.append({"id": "reprint", "text": stories[0] + "\n"})
    source, out = tmp_path / "zh.jsonl", tmp_path / "out.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    result = CliRunner().invoke(main, ["clean", str(source), "-o", str(out), "--id-field", "id", "--jobs", "1"])
    assert result.exit_code == 0, result.stderr
    kept = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in kept] == ["z0", "z1", "z2", "z3", "z4"]
    assert [r["text"] for r in kept] == [story + "\n" for story in stories]
