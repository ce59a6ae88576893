"""Captions and credit lines through the public seams: the library, the CLI, and an installed
``dedup`` command; the golden cases are in ``cases/captions.json``."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import dedup
from dedup.cli import main

BODY = "Fuel has been in short supply for weeks."
AP = ("Refugees walk after fleeing the war at the border crossing in Medyka, southeastern Poland, "
      "Thursday, April 7, 2022. (AP Photo/Sergei Grits)")


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def test_cli_removes_a_glued_caption_and_reports_it(tmp_path):
    report = tmp_path / "changes.json"
    result = run("clean", "-", "--report", str(report), input=AP + BODY + "\n")
    assert result.exit_code == 0, result.output
    assert result.stdout == BODY + "\n"
    changes = [c for d in json.loads(report.read_text("utf-8"))["documents"] for c in d["changes"]]
    removed = [c for c in changes if c["kind"] == "caption_removed"]
    assert "".join(c["before"] for c in removed).strip() == AP
    assert all("photo credit" in c["reason"] or "AP-style" in c["reason"] for c in removed)


VIEW = ("A view on destroyed bridge across Siverskiy-Donets river in the recently retaken area of Izium, "
        "Ukraine, Monday, Sept. 19, 2022.")


def test_cli_caption_modes():
    text = VIEW + " " + BODY + "\n"
    assert run("clean", "-", "--captions", "keep", input=text).stdout == text
    assert run("clean", "-", "--captions", "auto", input=text).stdout == BODY + "\n"
    alone = BODY + "\n\n" + AP + "\n\n" + BODY.replace("weeks", "months") + "\n"
    assert run("clean", "-", "--captions", "auto", input=alone).stdout == alone  # flagged, kept
    assert AP not in run("clean", "-", "--captions", "remove", input=alone).stdout


def test_installed_command_keeps_attribution():
    text = ("Among the other main areas affected were the western Tiaret region and Sidi Ammar, "
            "Agence France Presse (AFP) reported. " + BODY + "\n")
    proc = subprocess.run([sys.executable, "-m", "dedup", "clean", "-"], input=text, capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == text


def test_flag_covers_a_caption_and_its_credit_line():
    text = BODY + "\n\nPolice fire tear gas in Hong Kong, China, August 14, 2019. REUTERS/Thomas Peter/File Photo"
    result = dedup.clean_and_explain(text)
    assert result.text == text
    assert [(f.kind, f.text) for f in result.flags] == [("caption", text.split("\n\n")[1])]


ATTRIBUTION = ["said", "reported", "told reporters", "according to", "announced"]
SOURCES = ["Agence France Presse (AFP)", "the agency", "Reuters", "the Associated Press (AP)",
           "the US Environmental Protection Agency (EPA)", "officials", "Getty Images"]
DATES = ["on Sept. 25, 2023", "in Kyiv on Sept. 25, 2023", "in Lima, Oct. 30, 2018", "on Monday",
         "Monday, Sept. 25, 2023", "on 27 February 2005", ""]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["Prices rose", "Smoke rises near the plant", "Crowds gather outside"]),
       st.sampled_from(ATTRIBUTION), st.sampled_from(SOURCES), st.sampled_from(DATES), st.booleans())
def test_reported_speech_is_never_a_caption(clause, verb, source, date, glued):
    sentence = f"{clause} {date}, {source} {verb}.".replace(" ,", ",") if date else f"{clause}, {source} {verb}."
    text = sentence + ("" if glued else " ") + BODY
    result = dedup.clean_and_explain(text)
    assert not [c for c in result.changes if c.kind == "caption_removed"], sentence
    assert not result.flags, sentence
