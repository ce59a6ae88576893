"""Review: one self-contained HTML page of a run, for people who decide whether its rules are right.

The page shows the run (inputs, settings, documents in and out, bytes removed, time, change kinds
as a bar chart), the near-duplicate documents (keeper and removed copy side by side with a
word-level diff, similarity and containment, a histogram of the similarities found with the
threshold marked), the boilerplate units with their document counts, and each changed document
with its removals struck through, its repairs and its flags marked, filtered by kind and searched
by id or text in the page.

A report holds the text of each change but not the documents around it, so the documents are read
again from the inputs (the ``inputs`` of the report, or given here) where they are at hand; a
document whose text no longer matches the report's offsets is shown from the report alone. The
page is bounded: summaries of everything, plus the first ``limit`` documents of each change kind
and the ``limit`` least similar duplicate pairs, with a note of how many were left out.

It is one file: inline CSS, a small inline script (allowed by its hash in the page's
Content-Security-Policy, nothing else can run), charts as inline SVG; no network, no server.
Every piece of text from a document or report is escaped. It changes nothing: reports and
inputs are only read.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["render_review", "read_texts", "write_review"]

#: Cases shown per change kind, and duplicate pairs shown, unless told otherwise.
DEFAULT_LIMIT = 100
#: Unchanged text longer than this between two changes is shortened to its ends.
_GAP = 1200
_GAP_KEEP = 300
#: Characters of each text of a duplicate pair diffed and shown.
_PAIR_CHARS = 20_000

_SCRIPT = """
(function () {
  var kind = document.getElementById('kind'), query = document.getElementById('q');
  var count = document.getElementById('count');
  var docs = Array.prototype.slice.call(document.querySelectorAll('.doc'));
  var texts = docs.map(function (d) { return d.textContent.toLowerCase(); });
  function apply() {
    var k = kind.value, s = query.value.toLowerCase().trim(), shown = 0;
    docs.forEach(function (d, i) {
      var ok = (!k || (' ' + d.getAttribute('data-kinds') + ' ').indexOf(' ' + k + ' ') >= 0) &&
               (!s || d.getAttribute('data-id').toLowerCase().indexOf(s) >= 0 || texts[i].indexOf(s) >= 0);
      d.hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = shown + ' of ' + docs.length + ' documents shown';
  }
  kind.addEventListener('change', apply);
  query.addEventListener('input', apply);
  apply();
})();
"""

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1200px;
 padding:1em 2em;color:#1d1d1f;background:#fff}
h1{font-size:1.5em;margin:.2em 0}
h2{font-size:1.2em;margin-top:1.8em;border-bottom:2px solid #e3e3e8;padding-bottom:.2em}
table{border-collapse:collapse}
td,th{padding:.15em .8em .15em 0;text-align:left;vertical-align:top}
th{font-weight:600;color:#555}
.num{text-align:right;font-variant-numeric:tabular-nums}
.stats{display:flex;flex-wrap:wrap;gap:.8em;margin:.8em 0}
.stat{background:#f4f4f7;border-radius:6px;padding:.4em .9em}
.stat b{display:block;font-size:1.3em}
.note{color:#666;font-style:italic}
.text{white-space:pre-wrap;word-wrap:break-word;
 font:13px/1.5 ui-monospace,SFMono-Regular,Menlo,monospace;background:#fafafa;
 border:1px solid #e5e5ea;border-radius:4px;padding:.6em;margin:.3em 0}
del{background:#ffd7d5;color:#8a1f17;text-decoration:line-through}
ins{background:#cdf3d0;color:#0b5d1e;text-decoration:none}
.ws{color:#0b5d1e;font-weight:bold}
.gap{color:#888;background:#eee;font-style:italic}
mark.flag{background:#ffe58a;border-radius:3px;padding:0 .2em}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:.8em}
.pair .text{max-height:22em;overflow:auto}
.doc,.cluster{border-top:1px solid #e5e5ea;padding:.5em 0}
.doc[hidden]{display:none}
.kind{display:inline-block;border-radius:3px;padding:0 .35em;margin-right:.3em;font-size:.85em;
 background:#e8eefc;color:#1a3d8f}
.controls{position:sticky;top:0;background:#fff;padding:.5em 0;border-bottom:1px solid #e5e5ea;z-index:1}
.controls input{width:22em}
details summary{cursor:pointer;color:#1a3d8f}
svg text{font:12px system-ui,sans-serif}
"""


def _e(value: Any) -> str:
    """Escaped text of anything (quotes too, so it is safe in attributes)."""
    return html.escape(str(value), quote=True)


def _whitespace(text: str) -> str:
    """Inserted or removed whitespace made visible."""
    return "".join("⏎\n" if ch == "\n" else "␣" if ch == " " else "⇥" if ch == "\t" else ch for ch in text)


def _shown(text: str) -> str:
    """Escaped changed text; whitespace made visible in a short piece (``-⏎`` of a rejoined word)."""
    return _e(_whitespace(text)) if not text.strip() or len(text) <= 3 else _e(text)


def _elide(text: str) -> str:
    """Escaped unchanged text, its middle left out when it is long."""
    if len(text) <= _GAP:
        return _e(text)
    left = len(text) - 2 * _GAP_KEEP
    return (_e(text[:_GAP_KEEP]) + f'<span class="gap">[… {left:,} unchanged characters …]</span>'
            + _e(text[-_GAP_KEEP:]))


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


# --- charts -------------------------------------------------------------------------------------

def _bar_chart(counts: Mapping[str, int]) -> str:
    """Horizontal bars, one per kind, as inline SVG."""
    if not counts:
        return '<p class="note">No changes.</p>'
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    top = max(v for _, v in items) or 1
    label, width, row = 210, 420, 22
    height = row * len(items) + 6
    bars = []
    for i, (name, value) in enumerate(items):
        y = 3 + i * row
        length = max(1.0, width * value / top)
        colour = "#d9a400" if name.startswith("flag:") else "#c0392b" if "removed" in name else "#2e86c1"
        bars.append(f'<text x="{label - 6}" y="{y + 15}" text-anchor="end">{_e(name)}</text>'
                    f'<rect x="{label}" y="{y + 3}" width="{length:.1f}" height="{row - 6}" fill="{colour}"/>'
                    f'<text x="{label + length + 5:.1f}" y="{y + 15}">{value:,}</text>')
    return (f'<svg role="img" aria-label="changes by kind" width="{label + width + 80}" height="{height}">'
            + "".join(bars) + "</svg>")


def _histogram(values: Sequence[float], threshold: float | None, title: str) -> str:
    """Counts of ``values`` in bins of 0.02 as inline SVG, with the threshold marked."""
    if not values:
        return ""
    low = min([*values, *([threshold] if threshold is not None else [])])
    start = max(0.0, (int(low * 50) - 1) / 50)
    bins = max(1, round((1.0 - start) * 50))
    counts = [0] * bins
    for value in values:
        counts[min(bins - 1, max(0, int((value - start) * 50)))] += 1
    width, height, left, bottom = 560, 150, 40, 30
    step = width / bins
    top = max(counts) or 1

    def x(value: float) -> float:
        return left + (value - start) / (1.0 - start) * width if start < 1.0 else left

    parts = [f'<text x="{left}" y="12">{_e(title)} ({len(values):,}; most in one bin {top:,})</text>']
    for i, count in enumerate(counts):
        if count:
            h = (height - 20) * count / top
            parts.append(f'<rect x="{left + i * step + 1:.1f}" y="{height - h:.1f}" width="{max(1.0, step - 2):.1f}"'
                         f' height="{h:.1f}" fill="#2e86c1"><title>{start + i / 50:.2f}–{start + (i + 1) / 50:.2f}:'
                         f' {count:,}</title></rect>')
    parts.append(f'<line x1="{left}" y1="{height}" x2="{left + width}" y2="{height}" stroke="#888"/>')
    for tick in range(int(start * 10), 11):
        value = tick / 10
        if value >= start - 1e-9:
            parts.append(f'<text x="{x(value):.1f}" y="{height + 16}" text-anchor="middle">{value:.1f}</text>')
    if threshold is not None:
        tx = x(threshold)
        parts.append(f'<line x1="{tx:.1f}" y1="14" x2="{tx:.1f}" y2="{height}" stroke="#c0392b" '
                     f'stroke-width="2" stroke-dasharray="4 3"/><text x="{tx + 4:.1f}" y="28" fill="#c0392b">'
                     f'threshold {threshold:g}</text>')
    return (f'<svg role="img" aria-label="{_e(title)}" width="{left + width + 20}" height="{height + bottom}">'
            + "".join(parts) + "</svg>")


# --- documents ----------------------------------------------------------------------------------

def _marked_text(text: str, changes: Sequence[Mapping[str, Any]], flags: Sequence[Mapping[str, Any]]) -> str:
    """The text with removals struck through, insertions and replacements marked, flags highlighted."""
    events: list[tuple[int, int, int, Mapping[str, Any]]] = []
    for change in changes:
        events.append((int(change["start"]), 1, int(change["end"]), change))
    for flag in flags:
        events.append((int(flag.get("start", 0)), 0, int(flag.get("start", 0)), flag))
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    out: list[str] = []
    position = 0
    for start, is_change, end, item in events:
        if start < position:
            continue  # overlaps what is already shown; still listed with the document's counts
        out.append(_elide(text[position:start]))
        position = start
        twin = (f" (kept twin at {item['kept_start']}–{item['kept_end']}, similarity {item.get('similarity')})"
                if "kept_start" in item else "")
        title = _e(f"{item['kind']}: {item.get('reason', '')}{twin}")
        if not is_change:
            out.append(f'<mark class="flag" title="{title}">⚑ {_e(item["kind"])}</mark>')
            continue
        before, after = str(item.get("before", "")), str(item.get("after", ""))
        piece = ""
        if before:
            piece += f"<del>{_shown(before)}</del>"
        if after:
            piece += f'<ins class="{"ws" if not after.strip() else ""}">{_shown(after)}</ins>'
        out.append(f'<span class="chg" data-kind="{_e(item["kind"])}" title="{title}">{piece}</span>')
        position = end
    out.append(_elide(text[position:]))
    return "".join(out)


def _changes_only(changes: Sequence[Mapping[str, Any]], flags: Sequence[Mapping[str, Any]]) -> str:
    """Each change from the report alone (the document's text is not at hand)."""
    rows = []
    for change in changes:
        before, after = str(change.get("before", "")), str(change.get("after", ""))
        rows.append(f'<div class="text"><span class="kind">{_e(change["kind"])}</span>'
                    f'{int(change["start"]):,}–{int(change["end"]):,}: '
                    + (f"<del>{_shown(before)}</del>" if before else "")
                    + (f"<ins>{_shown(after)}</ins>" if after else "")
                    + f' <span class="note">{_e(change.get("reason", ""))}</span></div>')
    for flag in flags:
        rows.append(f'<div class="text"><mark class="flag">⚑ {_e(flag["kind"])}</mark> at '
                    f'{int(flag.get("start", 0)):,}: {_e(flag.get("text", ""))} '
                    f'<span class="note">{_e(flag.get("reason", ""))}</span></div>')
    return "".join(rows)


def _text_matches(text: str, changes: Sequence[Mapping[str, Any]]) -> bool:
    """Whether ``text`` is the text the report's offsets point into."""
    return all(text[int(c["start"]):int(c["end"])] == c.get("before", "") for c in changes)


# --- duplicate pairs ----------------------------------------------------------------------------

def _words(text: str) -> list[str]:
    return re.findall(r"\s*\S+\s*", text) or [text]


def _side_by_side(keeper: str, removed: str) -> tuple[str, str]:
    """The keeper with what only it has struck through, the copy with what only it has marked."""
    a, b = _words(keeper[:_PAIR_CHARS]), _words(removed[:_PAIR_CHARS])
    left: list[str] = []
    right: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        one, two = "".join(a[i1:i2]), "".join(b[j1:j2])
        if op == "equal":
            left.append(_elide(one))
            right.append(_elide(two))
            continue
        if one:
            left.append(f"<del>{_e(one)}</del>")
        if two:
            right.append(f"<ins>{_e(two)}</ins>")
    cut = ('<span class="gap">[… text after the first '
           f'{_PAIR_CHARS:,} characters not compared …]</span>')
    return ("".join(left) + (cut if len(keeper) > _PAIR_CHARS else ""),
            "".join(right) + (cut if len(removed) > _PAIR_CHARS else ""))


def _shingles(text: str, settings: Mapping[str, Any]) -> set[tuple[str, ...]]:
    from dedup.fingerprint import normalize_key

    words = normalize_key(text, fold_punctuation=bool(settings.get("fold_punctuation", True)),
                          fold_digits=bool(settings.get("fold_digits", False))).split()
    size = int(settings.get("shingle_size", 5))
    if len(words) < size:
        return {tuple(words)} if words else set()
    return {tuple(words[i:i + size]) for i in range(len(words) - size + 1)}


def _containment(removed: str, keeper: str, settings: Mapping[str, Any]) -> float | None:
    """Share of the removed copy's word shingles (on the run's matching key) found in the keeper."""
    mine = _shingles(removed, settings)
    return len(mine & _shingles(keeper, settings)) / len(mine) if mine else None


# --- the page -----------------------------------------------------------------------------------

def _summary_counts(report: Mapping[str, Any]) -> dict[str, int]:
    summary = report.get("summary") or {}
    if isinstance(summary.get("changes"), Mapping) and summary["changes"]:
        return {str(k): int(v) for k, v in summary["changes"].items()}
    counts: dict[str, int] = {}
    for document in report.get("documents", []):
        for change in document.get("changes", ()):
            counts[change["kind"]] = counts.get(change["kind"], 0) + 1
        for flag in document.get("flags", ()):
            counts["flag:" + flag["kind"]] = counts.get("flag:" + flag["kind"], 0) + 1
        if document.get("duplicate_of") is not None:
            name = "document_removed" if document.get("removed", True) else "document_annotated"
            counts[name] = counts.get(name, 0) + 1
    return counts


def _run_section(report: Mapping[str, Any], inputs: Sequence[str]) -> str:
    summary = report.get("summary") or {}
    stats = [
        ("documents in", summary.get("documents_in")), ("documents out", summary.get("documents_out")),
        ("duplicate documents", summary.get("duplicate_documents")),
        ("boilerplate units", summary.get("boilerplate_units")),
        ("bytes in", summary.get("bytes_in")), ("bytes removed", summary.get("bytes_removed")),
        ("seconds", summary.get("seconds")), ("jobs", summary.get("jobs")),
    ]
    cards = "".join(f'<div class="stat"><b>{_e(f"{v:,}" if isinstance(v, int) else v)}</b>{_e(k)}</div>'
                    for k, v in stats if v is not None)
    settings = report.get("settings") or {}
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in settings.items())
    versions = report.get("versions") or {}
    lsh = report.get("lsh") or {}
    version_text = ", ".join(f"{k} {v}" for k, v in versions.items() if v is not None)
    input_text = (", ".join(_e(p) for p in inputs) if inputs
                  else '<span class="note">not recorded in the report</span>')
    skipped = list(summary.get("skipped_files") or []) + list(summary.get("skipped_records") or [])
    return (
        "<h2>The run</h2>"
        f"<p><b>Inputs:</b> {input_text}</p>"
        + (f"<p><b>Versions:</b> {_e(version_text)}" if version_text else "<p>")
        + (f"; LSH {_e(lsh.get('bands'))} bands × {_e(lsh.get('rows'))} rows" if lsh else "") + "</p>"
        + (f'<div class="stats">{cards}</div>' if cards
           else '<p class="note">No summary: the run did not finish.</p>')
        + (f"<p><b>Skipped:</b> {_e(_plural(len(skipped), 'file or record'))}</p>" if skipped else "")
        + f"<details><summary>Settings ({len(settings)})</summary><table>{rows}</table></details>"
        + "<h3>Changes by kind</h3>" + _bar_chart(_summary_counts(report))
    )


def _twin(document: Mapping[str, Any]) -> Any:
    """The document this one was matched to: its keeper when removed or annotated as a copy, or
    the near duplicate it was kept beside (``near_duplicate_of``: it holds text the keeper lacks)."""
    twin = document.get("duplicate_of")
    return twin if twin is not None else document.get("near_duplicate_of")


def _action(document: Mapping[str, Any]) -> tuple[str, str]:
    """What became of a matched document: the phrase before its twin's name, and a short label."""
    if document.get("duplicate_of") is None:
        return "kept (it holds text the other lacks) beside its near duplicate", "kept"
    if document.get("removed", True):
        return "removed as a copy of", "removed"
    return "annotated (kept) as a copy of", "annotated (kept)"


def _duplicates_section(report: Mapping[str, Any], texts: Mapping[str, str], limit: int) -> str:
    documents = report.get("documents", [])
    removed = [d for d in documents if _twin(d) is not None]
    settings = report.get("settings") or {}
    threshold = settings.get("threshold")
    unit_similarities = [float(c["similarity"]) for d in documents for c in d.get("changes", ())
                         if c.get("kind") == "duplicate_removed" and c.get("similarity") is not None]
    parts = ["<h2>Near-duplicate documents</h2>"]
    if not removed:
        parts.append('<p class="note">No document was found to duplicate another.</p>')
    else:
        similarities = [float(d["similarity"]) for d in removed if d.get("similarity") is not None]
        clusters = {d.get("cluster", _twin(d)) for d in removed}
        kept = sum(1 for d in removed if d.get("duplicate_of") is None)
        parts.append(f"<p>{_plural(len(removed), 'document')} found to copy a kept one, in "
                     f"{_plural(len(clusters), 'cluster')}. Shown: the {min(limit, len(removed)):,} least "
                     "similar pairs (the ones closest to the threshold)"
                     + (f"; {len(removed) - limit:,} more left out." if len(removed) > limit else ".")
                     + (f" {_plural(kept, 'document')} of them kept: each holds text its near duplicate lacks "
                        "(containment below the run's minimum)." if kept else "") + "</p>")
        parts.append(_histogram(similarities, float(threshold) if threshold is not None else None,
                                "similarity of each removed document to its keeper"))
        shown = sorted(removed, key=lambda d: (float(d.get("similarity") or 0.0), str(d["id"])))[:limit]
        for document in shown:
            keeper_id, doc_id = str(_twin(document)), str(document["id"])
            action, label = _action(document)
            head = (f'<div class="cluster" id="pair-{_e(doc_id)}"><b>{_e(doc_id)}</b> {action} '
                    f"<b>{_e(keeper_id)}</b>: similarity {_e(document.get('similarity'))}")
            if keeper_id in texts and doc_id in texts:
                keeper, copy = texts[keeper_id], texts[doc_id]
                recorded = document.get("containment")
                containment = float(recorded) if recorded is not None else _containment(copy, keeper, settings)
                left, right = _side_by_side(keeper, copy)
                parts.append(head + (f", containment {containment:.3f}" if containment is not None else "")
                             + f' (cluster {_e(document.get("cluster", "?"))})<div class="pair">'
                             f'<div><div class="note">kept: {_e(keeper_id)}</div><div class="text">{left}</div></div>'
                             f'<div><div class="note">{label}: {_e(doc_id)}</div>'
                             f'<div class="text">{right}</div>'
                             "</div></div></div>")
            else:
                parts.append(head + ' <span class="note">(the texts are not at hand: run dedup inspect '
                             "where the inputs are)</span></div>")
    if unit_similarities:
        unit_threshold = settings.get("unit_threshold")
        parts.append("<h3>Repeated sentences and paragraphs inside documents</h3>")
        parts.append(_histogram(unit_similarities, float(unit_threshold) if unit_threshold is not None else None,
                                "similarity of each removed sentence or paragraph to its kept twin"))
    return "".join(parts)


def _boilerplate_section(report: Mapping[str, Any], few: int = 5) -> str:
    summary = report.get("summary") or {}
    where: dict[str, list[str]] = {}
    times: dict[str, int] = {}
    for document in report.get("documents", []):
        for change in document.get("changes", ()):
            if change.get("kind") == "boilerplate_removed":
                unit = " ".join(str(change.get("before", "")).split())
                times[unit] = times.get(unit, 0) + 1
                ids = where.setdefault(unit, [])
                if len(ids) < few and (not ids or ids[-1] != document["id"]):
                    ids.append(str(document["id"]))
    top = [(" ".join(str(u.get("text", "")).split()), u.get("documents")) for u in summary.get("top_boilerplate") or []]
    if not top:
        top = [(unit, None) for unit, _ in sorted(times.items(), key=lambda kv: -kv[1])[:50]]
    parts = ["<h2>Boilerplate</h2>"]
    if not top:
        return parts[0] + '<p class="note">No boilerplate was found.</p>'
    threshold = summary.get("boilerplate_threshold")
    parts.append(f"<p>{_plural(int(summary.get('boilerplate_units') or len(top)), 'unit')} taken as boilerplate"
                 + (f" (a unit found in at least {_e(threshold)} documents)" if threshold else "") + "; the most "
                 "frequent:</p><table><tr><th>unit</th><th class=num>documents</th><th class=num>removed</th>"
                 "<th>for example in</th></tr>")
    for unit, count in top:
        examples = ", ".join(f'<a href="#doc-{_e(i)}">{_e(i)}</a>' for i in where.get(unit, []))
        parts.append(f"<tr><td>{_e(unit)}</td><td class=num>{_e(count if count is not None else '')}</td>"
                     f"<td class=num>{times.get(unit, 0):,}</td><td>{examples}</td></tr>")
    return "".join(parts) + "</table>"


def _chosen_documents(documents: Sequence[Mapping[str, Any]], limit: int) -> tuple[list[Mapping[str, Any]],
                                                                                 dict[str, tuple[int, int]]]:
    """The first ``limit`` documents of each change or flag kind, and per kind (shown, all)."""
    taken: dict[str, int] = {}
    total: dict[str, int] = {}
    chosen = []
    for document in documents:
        kinds = _kinds_of(document)
        if not kinds:
            continue
        pick = False
        for name in kinds:
            total[name] = total.get(name, 0) + 1
            if taken.get(name, 0) < limit:
                pick = True
        if pick:
            chosen.append(document)
            for name in kinds:
                taken[name] = taken.get(name, 0) + 1
    return chosen, {name: (min(taken.get(name, 0), count), count) for name, count in total.items()}


def _kinds_of(document: Mapping[str, Any]) -> list[str]:
    kinds = {str(c["kind"]) for c in document.get("changes", ())}
    kinds |= {"flag:" + str(f["kind"]) for f in document.get("flags", ())}
    return sorted(kinds)


def _documents_section(report: Mapping[str, Any], texts: Mapping[str, str], limit: int) -> str:
    chosen, per_kind = _chosen_documents(report.get("documents", []), limit)
    options = "".join(f'<option value="{_e(k)}">{_e(k)} ({shown:,} of {count:,} documents)</option>'
                      for k, (shown, count) in sorted(per_kind.items()))
    left_out = {k: count - shown for k, (shown, count) in per_kind.items() if count > shown}
    note = ("<p class=note>Left out to keep the page small (documents beyond the first "
            f"{limit:,} of a kind): " + ", ".join(f"{k} {n:,}" for k, n in sorted(left_out.items())) + ".</p>"
            if left_out else "")
    parts = ["<h2>Changed documents</h2>", note,
             '<div class="controls"><label>Kind <select id="kind"><option value="">all kinds</option>'
             f'{options}</select></label> <label>Search <input id="q" type="search" '
             'placeholder="document id or text"></label> <span id="count"></span></div>']
    for document in chosen:
        doc_id = str(document["id"])
        changes = sorted(document.get("changes", ()), key=lambda c: (int(c["start"]), int(c["end"])))
        flags = document.get("flags", ())
        kinds = _kinds_of(document)
        counts: dict[str, int] = {}
        for name in [str(c["kind"]) for c in changes] + ["flag:" + str(f["kind"]) for f in flags]:
            counts[name] = counts.get(name, 0) + 1
        badges = "".join(f'<span class="kind">{_e(k)} {n:,}</span>' for k, n in sorted(counts.items()))
        text = texts.get(doc_id)
        if text is not None and _text_matches(text, changes):
            body = f'<div class="text">{_marked_text(text, changes, flags)}</div>'
        else:
            why = ("the document's text is not at hand" if text is None
                   else "the input no longer matches the report's offsets")
            body = f'<p class="note">Changes only ({why}):</p>{_changes_only(changes, flags)}'
        parts.append(f'<div class="doc" id="doc-{_e(doc_id)}" data-id="{_e(doc_id)}" '
                     f'data-kinds="{_e(" ".join(kinds))}"><b>{_e(doc_id)}</b> {badges}{body}</div>')
    if not chosen:
        parts.append('<p class="note">No document was changed.</p>')
    return "".join(parts)


def _wanted_ids(report: Mapping[str, Any], limit: int) -> set[str]:
    """The ids whose texts the page shows."""
    documents = report.get("documents", [])
    chosen, _ = _chosen_documents(documents, limit)
    wanted = {str(d["id"]) for d in chosen}
    removed = sorted((d for d in documents if _twin(d) is not None),
                     key=lambda d: (float(d.get("similarity") or 0.0), str(d["id"])))[:limit]
    for document in removed:
        wanted |= {str(document["id"]), str(_twin(document))}
    return wanted


def render_review(report: Mapping[str, Any], *, texts: Mapping[str, str] | None = None,
                  limit: int = DEFAULT_LIMIT, title: str = "") -> str:
    """The review page of a report, as one self-contained HTML document.

    Args:
        report: a report in the JSON shape (see :func:`dedup.report.load_report`).
        texts: the input text of documents by id, where at hand (see :func:`read_texts`).
        limit: documents shown per change kind, and duplicate pairs shown (0: the summaries only).
        title: the page's title (say, the report's file name).

    >>> page = render_review({"settings": {}, "documents": [{"id": "a<b>", "changes": [
    ...     {"kind": "quote_space", "start": 2, "end": 2, "before": "", "after": " "}], "flags": []}]},
    ...     texts={"a<b>": 'He"said"'})
    >>> "a&lt;b&gt;" in page and "<b>a<b>" not in page
    True
    """
    if limit < 0:
        from dedup.errors import ConfigError

        raise ConfigError(f"limit must be 0 (the summaries only) or more, not {limit}")
    texts = texts or {}
    inputs = [str(p) for p in report.get("inputs") or []]
    name = title or "dedup review"
    script_hash = base64.b64encode(hashlib.sha256(_SCRIPT.encode("utf-8")).digest()).decode("ascii")
    policy = f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{script_hash}'"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(name)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{_e(name)}</h1>"
        + _run_section(report, inputs)
        + _duplicates_section(report, texts, limit)
        + _boilerplate_section(report)
        + _documents_section(report, texts, limit)
        + f"<script>{_SCRIPT}</script></body></html>\n"
    )


def read_texts(inputs: Sequence[str], wanted: Iterable[str]) -> dict[str, str]:
    """The texts of the documents ``wanted`` (by id), read from ``inputs`` as ``dedup clean`` reads
    them with its default reading options; ids not found are left out.

    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> with open(os.path.join(folder, "a.txt"), "w", encoding="utf-8") as handle:
    ...     _ = handle.write("Hello.")
    >>> read_texts([folder], ["a.txt", "b.txt"])
    {'a.txt': 'Hello.'}
    """
    from dedup.io import ReadOptions, read_documents, sources_of

    remaining = set(wanted)
    texts: dict[str, str] = {}
    if not remaining:
        return texts
    options = ReadOptions()
    sources, _ = sources_of(list(inputs), options)
    for source in sources:
        for document in read_documents(source, options):
            if document.id in remaining:
                texts[document.id] = document.text
                remaining.discard(document.id)
        if not remaining:
            break
    return texts


def write_review(report: Mapping[str, Any], path: str, *, inputs: Sequence[str] | None = None,
                 limit: int = DEFAULT_LIMIT, title: str = "") -> int:
    """Write the review page of ``report`` to ``path`` atomically; returns its size in bytes.

    The documents' texts are read from ``inputs``, else from the inputs the report records,
    where they exist; without them the page shows each change from the report alone.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "review.html")
    >>> write_review({"settings": {}, "documents": []}, path) > 0
    True
    """
    from pathlib import Path

    from dedup.io import atomic_writer

    paths = [str(p) for p in (inputs if inputs is not None else report.get("inputs") or [])]
    present = [p for p in paths if p != "-" and Path(p).exists()]
    texts = read_texts(present, _wanted_ids(report, limit)) if present else {}
    if inputs is not None:  # the page names the inputs it read
        report = {**report, "inputs": paths}
    page = render_review(report, texts=texts, limit=limit, title=title).encode("utf-8")
    with atomic_writer(path, binary=True) as handle:
        handle.write(page)
    return len(page)
