from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from dedup.cli import main

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "corpora" / "harbor-fire.txt"


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def test_clean_file_with_report(tmp_path):
    out, report = tmp_path / "out.txt", tmp_path / "changes.json"
    result = run("clean", str(SAMPLE), "-o", str(out), "--report", str(report), "-v")
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "2025.The cause" not in text and "The cause of the fire is under investigation." in text
    assert "explosions shortly after three" in text
    assert text.count("We were lucky the wind") == 1
    data = json.loads(report.read_text(encoding="utf-8"))
    kinds = {c["kind"] for d in data["documents"] for c in d["changes"]}
    assert {"duplicate_removed", "caption_removed", "boundary_split", "word_dehyphenated"} <= kinds
    assert data["settings"]["num_perm"] == 128 and data["versions"]["minhash_scheme"] == "affine32"
    assert "documents_in: 1" in result.stderr


def test_stdin_to_stdout():
    result = run("clean", "-", input="It rained.The roads flooded.\n")
    assert result.exit_code == 0
    assert result.stdout == "It rained. The roads flooded.\n"
    assert result.stderr == ""


def test_refuses_to_overwrite_input(tmp_path):
    source = tmp_path / "a.txt"
    source.write_text("Hello there.", encoding="utf-8")
    result = run("clean", str(source), "-o", str(source))
    assert result.exit_code == 1
    assert "never overwrites its input" in result.stderr
    assert source.read_text(encoding="utf-8") == "Hello there."


def test_existing_output_needs_force(tmp_path):
    source, out = tmp_path / "a.txt", tmp_path / "b.txt"
    source.write_text("Hello there.", encoding="utf-8")
    out.write_text("old", encoding="utf-8")
    assert run("clean", str(source), "-o", str(out)).exit_code == 1
    assert run("clean", str(source), "-o", str(out), "--force").exit_code == 0
    assert out.read_text(encoding="utf-8") == "Hello there."


def test_bad_option_is_usage_error():
    result = run("clean", "--num-perm", "3", "-")
    assert result.exit_code == 2
    assert "--num-perm 3 is out of range" in result.stderr and "Traceback" not in result.output


def test_missing_file_one_line_error(tmp_path):
    result = run("clean", str(tmp_path / "nope.txt"))
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0 and "no such file" in result.stderr


def test_invalid_utf8_names_byte(tmp_path):
    source = tmp_path / "bad.txt"
    source.write_bytes(b"Good text.\xff\xfe more")
    result = run("clean", str(source))
    assert result.exit_code == 1
    assert "bad.txt" in result.stderr and "byte 10" in result.stderr
    assert run("clean", str(source), "--errors", "replace").exit_code == 0


def test_inspect_and_diff(tmp_path):
    report = tmp_path / "r.json"
    run("clean", str(SAMPLE), "-o", str(tmp_path / "o.txt"), "--report", str(report))
    result = run("inspect", str(report), "--kind", "caption_removed")
    assert "caption_removed" in result.stdout and "Firefighters spray" in result.stdout
    diff = run("diff", str(SAMPLE))
    assert diff.stdout.startswith("---") and "-Residents said they were woken by explo-" in diff.stdout


def test_help_has_examples():
    for command in (["--help"], ["clean", "--help"], ["inspect", "--help"], ["diff", "--help"]):
        assert "Example" in run(*command).stdout


def test_installed_command_subprocess(tmp_path):
    result = subprocess.run([sys.executable, "-m", "dedup", "clean", str(SAMPLE)], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "Harbor Coatings Inc., would cooperate with investigators. It was" in result.stdout


def test_import_and_help_stay_cheap():
    code = ("import sys, dedup, dedup.cli; heavy = [m for m in ('nltk', 'numpy', 'datasketch', 'ftfy') "
            "if m in sys.modules]; print(heavy)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_mode_documents_only_drops_duplicate_documents(tmp_path):
    source = tmp_path / "in.jsonl"
    text = "It rained.The roads flooded and the council met on Monday to talk about the drains."
    source.write_text("\n".join(json.dumps({"text": t}) for t in (text, text, "Another story entirely.")) + "\n",
                      encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert run("clean", str(source), "-o", str(out), "--mode", "documents").exit_code == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["text"] for r in rows] == [text, "Another story entirely."]  # no repair in this mode
    conflict = run("clean", str(source), "-o", str(tmp_path / "x.jsonl"), "--mode", "documents", "--split-glued")
    assert conflict.exit_code == 2 and "--mode documents sets --split-glued" in conflict.stderr
