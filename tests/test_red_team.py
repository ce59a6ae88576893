"""Cases a red team found, briefed with the README only: each one is a class, tested at its
public seam (CLI, library)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import dedup
from dedup import Deduplicator, Document
from dedup.cli import main
from dedup.errors import ConfigError, InputError

APACHE = """   2. Grant of Copyright License. Subject to the terms and conditions of
      this License, each Contributor hereby grants to You a perpetual,
      worldwide, non-exclusive, no-charge, royalty-free, irrevocable
      copyright license to reproduce the Work.

   3. Grant of Patent License. Subject to the terms and conditions of
      this License, each Contributor hereby grants to You a perpetual,
      worldwide, non-exclusive, no-charge, royalty-free, irrevocable
      patent license to make and use the Work.
"""

MARKDOWN = ("Tests were run on a desktop\nusing [lzbench], an open-source benchmark by @inikep\n"
            "on the [Silesia corpus].\n\nThe following tests were run\non a server running Debian\n"
            "using [lzbench], an open-source benchmark by @inikep\ncompiled with gcc 7.3.0,\n"
            "on the [Silesia corpus].\n")

LISTS = ("Steps to install:\n\n1. Download the package from the website.\n"
         "2. Run the installer and follow the instructions.\n3. Restart the computer.\n\nSteps to uninstall:\n\n"
         "1. Open the control panel.\n2. Run the installer and follow the instructions.\n3. Restart the computer.\n")

TABLE = ("Name      Uid   Home\nroot      0     /root\ndaemon    1     /usr/sbin\n\nAgain, by group:\n\n"
         "Name      Uid   Home\nroot      0     /root\ndaemon    1     /usr/sbin\n")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.mark.parametrize("text", [APACHE, MARKDOWN])
def test_a_wrapped_line_is_never_removed_as_a_sentence(text):
    result = dedup.clean_and_explain(text)
    assert not [c for c in result.changes if c.kind.endswith("_removed")]


@pytest.mark.parametrize("text", [LISTS, "He said no.\n\nHe said no.\n\nHe said no.\n",
                                  "Terms:\n\nd) make other arrangements with the Holder.\n\nMore terms:\n\n"
                                  "d) make other arrangements with the Holder.\n"])
def test_list_items_table_rows_and_short_paragraphs_are_content(text):
    assert dedup.clean(text) == text


def test_tab_separated_table_rows_repeated_in_another_table_stay():
    result = dedup.clean_and_explain(TABLE.replace("      ", "\t").replace("     ", "\t").replace("    ", "\t")
                                     .replace("   ", "\t"))
    assert not [c for c in result.changes if c.kind.endswith("_removed")]


@pytest.mark.xfail(strict=True, reason="rows aligned with spaces are not told from text with doubled spaces yet")
def test_space_aligned_table_rows_repeated_in_another_table_stay():
    result = dedup.clean_and_explain(TABLE)
    assert not [c for c in result.changes if c.kind.endswith("_removed")]


def test_a_run_that_reads_nothing_leaves_no_output(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    for output in (tmp_path / "out.jsonl", tmp_path / "outdir"):
        result = run("clean", empty, "-o", output)
        assert result.exit_code == 1 and "no documents were read" in result.stderr
        assert not output.exists()


def test_crlf_record_lines_keep_their_line_end(tmp_path):
    source, out = tmp_path / "c.jsonl", tmp_path / "o.jsonl"
    source.write_bytes(b'{"id":"a","text":"fine"}\r\n{"id":"b","text":"It rained.The end."}\r\n')
    assert run("clean", source, "-o", out).exit_code == 0
    assert out.read_bytes() == b'{"id":"a","text":"fine"}\r\n{"id":"b","text":"It rained. The end."}\r\n'


def test_report_and_output_both_on_stdout_is_refused(tmp_path):
    source = tmp_path / "s.txt"
    source.write_text("It rained.The roads flooded.\n", encoding="utf-8")
    result = run("clean", source, "--report", "-")
    assert result.exit_code == 2 and "--report -" in result.stderr and result.stdout == ""


def test_inspect_of_a_mangled_report_is_one_line(tmp_path):
    report = tmp_path / "e.json"
    report.write_text('{"settings":{},"documents":[{"id":"x","changes":[{"kind":"z","start":"a"}]}],"summary":{}}',
                      encoding="utf-8")
    result = run("inspect", report)
    assert result.exit_code == 1 and "not a dedup report" in result.stderr and "Traceback" not in result.output


def test_diff_refuses_records(tmp_path):
    records = tmp_path / "r.jsonl"
    records.write_text('{"text": "It rained.The end."}\n', encoding="utf-8")
    result = run("diff", records)
    assert result.exit_code == 2 and "one text file" in result.stderr and result.stdout == ""


def test_library_refuses_what_it_cannot_use():
    with pytest.raises(InputError, match="id must be a str"):
        Deduplicator().run([Document(1, "Same text here for all of us now.")])  # type: ignore[arg-type]
    with pytest.raises(InputError, match="text must be a str"):
        Deduplicator().run([Document("a", None)])  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="True or False"):
        dedup.clean("It rained.The roads", split_glued="false")
    with pytest.raises(ConfigError, match="list of strings"):
        dedup.clean("See Foo.Bar now", extra_abbreviations="Foo")


def test_inspect_html_never_replaces_the_report_an_input_or_a_file_without_force(tmp_path):
    source, report, page = tmp_path / "s.txt", tmp_path / "rep.json", tmp_path / "r.html"
    source.write_text("It rained.The end.\n", encoding="utf-8")
    assert run("clean", source, "-o", tmp_path / "o.txt", "--report", report).exit_code == 0
    kept = report.read_bytes()
    for target in (source, report):
        result = run("inspect", report, "--html", target)
        assert result.exit_code == 1 and "never overwrites its input" in result.stderr
    assert source.read_text(encoding="utf-8") == "It rained.The end.\n" and report.read_bytes() == kept
    assert run("inspect", report, "--html", page).exit_code == 0
    again = run("inspect", report, "--html", page)
    assert again.exit_code == 1 and "--force" in again.stderr
    assert run("inspect", report, "--html", page, "--force").exit_code == 0


@pytest.mark.parametrize("text", [
    "Make sure that x > 5 before you call the function. Make sure that x < 5 before you call the function.",
    "The balance at the end of the year was -$5,000 in total. The balance at the end of the year was $5,000 in total.",
    "int add(int a, int b) {\n    int result = a + b;\n    return result;\n}\n\n"
    "int sub(int a, int b) {\n    int result = a - b;\n    return result;\n}\n",
])
def test_the_same_words_with_other_figures_are_not_repeats(text):
    assert dedup.clean(text) == text


@pytest.mark.parametrize("text", [
    'import httplib2\nh = httplib2.Http(".cache")\n',
    "Call Console.WriteLine and DateTime.Now from C#.",
    " note that as root you have to remove the output directories\n\n\t# rm -rf output diff\n\n"
    " or run 'make clean' as root.\n",
])
def test_code_is_not_repaired_as_prose(text):
    assert dedup.clean(text) == text


def test_prose_is_still_repaired_next_to_the_code_rules():
    assert dedup.clean("He met McDonald.The talks ended in 2005.Both left.") == \
        "He met McDonald. The talks ended in 2005. Both left."


def test_hugging_face_report_and_one_line_refusals(tmp_path):
    datasets = pytest.importorskip("datasets")
    from dedup.hf import deduplicate
    from dedup.report import read_report

    story = "The council approved the budget after a long debate about roads, schools and parks in town."
    data = datasets.Dataset.from_dict({"text": [story, story + " It was late.", "Other news entirely today."],
                                       "id": ["a", "b", "c"]})
    report = tmp_path / "r.jsonl"
    out = deduplicate(data, id_column="id", report=str(report), threshold=0.7, min_containment=0)
    assert out["id"] == ["a", "c"]
    documents = read_report(str(report))["documents"]
    assert any(d["id"] == "b" and d.get("duplicate_of") == "a" for d in documents)
    with pytest.raises(InputError, match="no column 'body'"):
        deduplicate(data, text_column="body")
    with pytest.raises(InputError, match="not text"):
        deduplicate(datasets.Dataset.from_dict({"text": ["Hello there.It is me.", None]}))
    with pytest.raises(InputError, match="already has a column 'dedup_cluster'"):
        deduplicate(data.add_column("dedup_cluster", [1, 2, 3]), annotate=True)


def test_a_removal_does_not_flip_the_language_and_its_rules():
    """Found by hypothesis in CI: junk repeating two Portuguese function words was Portuguese
    before a repeated line was removed and English after, so a second cleaning dehyphenated."""
    text = ('00"A""O-\no0ON"000:A"0M"A:COM"000:A#0?"COM"NO.\r'
            '00#A#O:O0ON#000:A"0M"A:COM"000:A"0M"A:COM"NO')
    once = dedup.clean(text)
    assert dedup.clean(once) == once


@pytest.mark.parametrize("text", [
    "Floods came again. The last time the river flooded was in Dresden, Germany, Aug. 17, 2002. The damage ran high.",
    "She lives in Boston, Massachusetts. Image caption contests are popular there.",
    "Pictured: the new stadium will open next year, officials said. It cost $300 million.",
])
def test_prose_is_not_a_caption(text):
    assert dedup.clean(text) == text


def test_a_labelled_present_tense_caption_still_goes():
    assert dedup.clean("Image caption Police patrol the streets of the capital. The vote was delayed.") == \
        "The vote was delayed."


def test_markdown_link_definitions_keep_their_lines():
    text = ("[Request for Comments]: https://en.wikipedia.org/wiki/Request_for_Comments\n"
            "[Resident Set Size]: https://en.wikipedia.org/wiki/Resident_set_size\n"
            "[Resource Acquisition Is Initialization]: https://en.wikipedia.org/wiki/RAII\n")
    assert dedup.clean(text) == text


CONSTITUTION_ITEMS = """    1. Developers are volunteers who agree to further the aims of the
       Project insofar as they participate in it, and who maintain
       package(s) for the Project or do other work which the Project
       Leader's Delegate(s) consider worthwhile.
    2. The Project Leader's Delegate(s) may choose not to admit new
       Developers, or expel existing Developers. If the Developers feel
       that the Delegates are abusing their authority they can of course
       override the decision by way of General Resolution.
"""

OWN_TEXT = (
    "The harbour authority met on Tuesday to discuss the new ferry timetable and the cost of repairs to the pier.",
    "A small bakery on the corner of Elm Street has won a regional prize for its rye bread, its owner said.",
    "Heavy rain closed two mountain roads overnight and the county asked drivers to avoid the pass until noon.",
    "The school board approved a plan to replace the roof of the gymnasium before the winter term begins.",
)


@pytest.mark.parametrize("variant", ["whole", "edited"])
def test_boilerplate_never_cuts_a_hard_wrapped_sentence(tmp_path, variant):
    # Red team F4 (the Debian constitution's versions): a hard-wrapped list shared by K documents
    # lost every line but the first of each item, leaving half sentences. A shared unit goes whole
    # (the list, or whole sentences of it), never a line of a wrapped sentence; with one item
    # edited in each document the other sentences still go whole.
    folder = tmp_path / "in"
    folder.mkdir()
    texts = []
    for k, own in enumerate(OWN_TEXT):
        items = CONSTITUTION_ITEMS if variant == "whole" else CONSTITUTION_ITEMS.replace(
            "override the decision", f"override decision number {k}")
        texts.append(items)
        (folder / f"doc{k}.txt").write_text(f"Notes {k}\n\n{own}\n\n{items}\nNothing else happened at meeting {k}.\n")
    result = run("clean", folder, "-o", tmp_path / "out", "--report", tmp_path / "r.json", "-q")
    assert result.exit_code == 0, result.output
    for k, items in enumerate(texts):
        out = " ".join((tmp_path / "out" / f"doc{k}.txt").read_text().split())
        assert f"Nothing else happened at meeting {k}." in out and OWN_TEXT[k] in out
        for sentence in dedup.sentences(" ".join(items.split())):
            words = sentence.split()
            # Each sentence of the list is there whole or not at all.
            assert sentence in out or " ".join(words[len(words) // 2 :]) not in out, (sentence, out)
            assert sentence in out or " ".join(words[: len(words) // 2]) not in out, (sentence, out)
    if variant == "whole":
        assert all("Developers" not in (tmp_path / "out" / f"doc{k}.txt").read_text() for k in range(4))
