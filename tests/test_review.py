"""The review page (``dedup inspect REPORT --html FILE``), read as HTML and looked at in Chromium.

The browser tests need Debian's ``chromium`` and ``chromium-driver`` packages and the ``selenium``
and ``pillow`` packages (the ``test`` extra; .ci/run installs the browser); without them they skip
and say which is missing. No browser is downloaded and no page loads anything from a network.
"""

from __future__ import annotations

import html
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.cli import main
from dedup.report import load_report
from dedup.review import render_review, write_review

ROOT = Path(__file__).resolve().parent.parent
NEWSROOM = ROOT / "corpora" / "newsroom"
HOSTILE = 'Tom said <script>alert(1)</script>.</textarea><img src=x onerror="alert(2)">"><svg onload=alert(3)>'
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def newsroom_report(tmp_path_factory):
    """A real corpus run: one reprint, boilerplate in five documents, a caption."""
    folder = tmp_path_factory.mktemp("newsroom")
    report = folder / "report.jsonl"
    result = run("clean", NEWSROOM, "-o", folder / "out", "--report", report, "--boilerplate-min-docs", 3)
    assert result.exit_code == 0, result.output
    return report


@pytest.fixture(scope="module")
def newsroom_page(newsroom_report):
    page = newsroom_report.parent / "review.html"
    data = load_report(newsroom_report.read_text(encoding="utf-8"), str(newsroom_report))
    write_review(data, str(page), inputs=[str(NEWSROOM)], title="newsroom")
    return page


@pytest.fixture(scope="module")
def hostile_page(tmp_path_factory):
    """A run over documents whose text and names try to break out of the page."""
    folder = tmp_path_factory.mktemp("hostile")
    corpus = folder / "in"
    corpus.mkdir()
    body = (f"{HOSTILE} The council met on Tuesday.The vote was close.\n\n"
            "Sign up for our newsletter to get the day's top stories.\n")
    for i in range(3):
        (corpus / f"<b onmouseover=alert(4)>doc{i}.txt").write_text(f"Story {i} opens here. " + body, encoding="utf-8")
    report = folder / "report.json"
    result = run("clean", corpus, "-o", folder / "out", "--report", report, "--boilerplate-min-docs", 3)
    assert result.exit_code == 0, result.output
    page = folder / "review.html"
    write_review(json.loads(report.read_text(encoding="utf-8")), str(page), inputs=[str(corpus)])
    return page


# --- the page as HTML ----------------------------------------------------------------------------

def test_inspect_html_writes_the_page(newsroom_report, tmp_path):
    page = tmp_path / "review.html"
    result = run("inspect", newsroom_report, "--html", page)
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and f"wrote {page}" in result.stderr
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "report.jsonl" in text
    for doc_id in ("001-budget.txt", "003-school.txt", "004-storm.txt", "006-ferry.txt"):
        assert f'data-id="{doc_id}"' in text
    assert "002-budget-reprint.txt</b> removed as a copy of <b>001-budget.txt</b>: similarity 0.8235" in text
    assert "threshold 0.8" in text and "<svg" in text
    assert "Sign up for our morning newsletter to get the day&#x27;s top stories delivered to your inbox." in text
    assert "http://" not in text and "https://" not in text and " src=" not in text  # nothing to fetch


def test_inspect_html_refuses_kind(newsroom_report, tmp_path):
    result = run("inspect", newsroom_report, "--html", tmp_path / "r.html", "--kind", "caption_removed")
    assert result.exit_code == 2 and "--kind" in result.stderr
    assert not (tmp_path / "r.html").exists()


def test_page_shows_the_documents_when_inputs_are_at_hand(newsroom_page):
    text = newsroom_page.read_text(encoding="utf-8")
    assert "Inputs:</b> " + html.escape(str(NEWSROOM)) in text
    # The reprint beside its keeper, the words only the copy has marked.
    assert "containment 0." in text and "<ins>new </ins>" in text
    # The caption struck through inside the storm story, its reason in the title.
    storm = text[text.index('data-id="004-storm.txt"'):text.index('data-id="005-library.txt"')]
    assert '<span class="chg" data-kind="caption_removed" title="caption_removed: ' in storm
    assert "<del>Residents photograph a fallen tree" in storm and "Westhaven" in storm
    assert "Changes only" not in text


def test_report_alone_shows_each_change(newsroom_report, tmp_path):
    data = load_report(newsroom_report.read_text(encoding="utf-8"), str(newsroom_report))
    page = render_review(data, texts={})
    assert "Changes only (the document's text is not at hand)" in page
    assert "the texts are not at hand" in page
    assert "<del>Residents photograph a fallen tree" in page


def test_input_changed_since_the_run_is_not_marked_up(newsroom_report):
    data = load_report(newsroom_report.read_text(encoding="utf-8"), str(newsroom_report))
    page = render_review(data, texts={"004-storm.txt": "Another text altogether."})
    assert "the input no longer matches the report's offsets" in page


def test_run_records_its_inputs_when_told(tmp_path):
    from dedup.config import DedupConfig
    from dedup.report import run_metadata

    assert run_metadata(DedupConfig(), inputs=["a/", "b.jsonl"])["inputs"] == ["a/", "b.jsonl"]
    assert "inputs" not in run_metadata(DedupConfig())


def test_report_of_a_run_records_its_inputs(newsroom_report):
    data = load_report(newsroom_report.read_text(encoding="utf-8"), str(newsroom_report))
    assert data.get("inputs") == [str(NEWSROOM)]


def test_hostile_text_is_escaped(hostile_page):
    text = hostile_page.read_text(encoding="utf-8")
    assert text.count("<script") == 1  # the page's own
    assert "<img" not in text and "<svg onload" not in text and "</textarea>" not in text
    assert "<b onmouseover" not in text and "&lt;b onmouseover=alert(4)&gt;doc0.txt" in text
    assert html.escape(HOSTILE) in text


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(list("<>&\"'/= \n\tabscript\u2028") + ["</script>", "<!--", "]]>", "<textarea"]),
                max_size=20).map("".join))
def test_any_text_stays_text(hostile):
    report = {"settings": {}, "documents": [
        {"id": hostile, "changes": [{"kind": "boilerplate_removed", "start": 0, "end": len(hostile),
                                     "before": hostile, "after": "", "reason": hostile}],
         "flags": [{"kind": hostile or "x", "start": 0, "end": 0, "text": hostile, "reason": hostile}]},
        {"id": "b", "removed": True, "duplicate_of": hostile, "similarity": 0.9, "cluster": 0, "changes": [],
         "flags": []}],
        "summary": {"top_boilerplate": [{"text": hostile, "documents": 3}]}}
    for texts in ({}, {hostile: hostile + " tail", "b": hostile}):
        page = render_review(report, texts=texts)
        assert page.count("<script") == 1 and page.count("</script>") == 1
        assert page.count("<textarea") == 0 and page.count("<!--") == 0


def test_a_big_report_is_cut_to_the_limit():
    documents = [{"id": f"d{i}", "changes": [{"kind": "quote_space", "start": 0, "end": 0, "before": "",
                                              "after": " ", "reason": "r"}], "flags": []} for i in range(500)]
    page = render_review({"settings": {}, "documents": documents}, limit=30)
    assert page.count('class="doc"') == 30
    assert "quote_space 470" in page and "quote_space (30 of 500 documents)" in page


def test_limit_zero_shows_the_summaries_only(newsroom_report, tmp_path):
    page = tmp_path / "r.html"
    assert run("inspect", newsroom_report, "--html", page, "--limit", 0).exit_code == 0
    text = page.read_text(encoding="utf-8")
    assert 'class="doc"' not in text and "boilerplate_removed 5" in text and "threshold 0.8" in text
    result = run("inspect", newsroom_report, "--html", page, "--limit", -1)
    assert result.exit_code != 0 and "limit must be 0" in result.stderr and "Traceback" not in result.output


def test_inspect_html_subprocess(newsroom_report, tmp_path):
    page = tmp_path / "out" / "review.html"
    page.parent.mkdir()
    done = subprocess.run([sys.executable, "-m", "dedup", "inspect", str(newsroom_report), "--html", str(page)],
                          capture_output=True, text=True, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr
    assert page.stat().st_size > 1000 and not [p for p in page.parent.iterdir() if p.name.endswith(".part")]


# --- the page in a browser -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    missing = [name for name, found in (("Debian package chromium", CHROMIUM),
                                        ("Debian package chromium-driver", CHROMEDRIVER)) if not found]
    for module in ("selenium", "PIL"):
        try:
            __import__(module)
        except ImportError:
            missing.append(f"Python package {module} (pip install '.[test]')")
    if missing:
        pytest.skip("no browser to look at the page with: missing " + ", ".join(missing))
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1280,1400"):
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="dedup-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _open(driver, page: Path) -> None:
    driver.get(page.resolve().as_uri())
    driver.get_log("browser")  # (a fresh log for the page)
    driver.refresh()


def _problems(driver) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]


def _shown(driver) -> list[str]:
    from selenium.webdriver.common.by import By

    return [d.get_attribute("data-id") for d in driver.find_elements(By.CSS_SELECTOR, ".doc") if d.is_displayed()]


def _pixel_spread(png: bytes) -> float:
    import io

    from PIL import Image

    grey = Image.open(io.BytesIO(png)).convert("L").resize((160, 175))
    return statistics.pstdev(grey.tobytes())


def test_page_in_browser_filter_and_search(browser, newsroom_page):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    _open(browser, newsroom_page)
    assert _problems(browser) == []
    every = ["001-budget.txt", "003-school.txt", "004-storm.txt", "005-library.txt", "006-ferry.txt"]
    assert _shown(browser) == every
    count = browser.find_element(By.ID, "count")
    assert count.text == "5 of 5 documents shown"
    kind = Select(browser.find_element(By.ID, "kind"))
    kind.select_by_value("caption_removed")
    assert _shown(browser) == ["004-storm.txt"] and count.text == "1 of 5 documents shown"
    kind.select_by_value("")
    search = browser.find_element(By.ID, "q")
    search.send_keys("FERRY")
    assert _shown(browser) == ["006-ferry.txt"]
    search.clear()
    search.send_keys("fallen tree")  # text, not an id
    assert _shown(browser) == ["004-storm.txt"]
    search.clear()
    search.send_keys("x")
    search.clear()
    search.send_keys("no document says this")
    assert _shown(browser) == [] and count.text == "0 of 5 documents shown"
    search.clear()
    search.send_keys(" ")
    assert _shown(browser) == every
    assert _problems(browser) == []
    assert _pixel_spread(browser.get_screenshot_as_png()) > 20  # not a blank page


def test_hostile_page_runs_nothing(browser, hostile_page):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    _open(browser, hostile_page)
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018
    assert _problems(browser) == []
    assert browser.find_elements(By.TAG_NAME, "img") == [] and browser.find_elements(By.TAG_NAME, "textarea") == []
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "<script>alert(1)</script>" in body and "<b onmouseover=alert(4)>doc0.txt" in body
    search = browser.find_element(By.ID, "q")
    search.send_keys("alert(4)>doc0")  # doc1 and doc2 are copies of doc0, removed
    assert _shown(browser) == ["<b onmouseover=alert(4)>doc0.txt"]
    assert _pixel_spread(browser.get_screenshot_as_png()) > 20
