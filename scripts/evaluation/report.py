"""Tables for people, and the CI check against stored thresholds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .corrupt import FAULT_KINDS

FAULT_LABELS = {
    "dup_exact": "duplicate paragraph, exact",
    "dup_quote": "duplicate paragraph, quote variant",
    "dup_whitespace": "duplicate paragraph, whitespace variant",
    "dup_glued": "duplicate glued onto next sentence",
    "near_dup_sentence": "near-duplicate sentence",
    "glued_boundary": "glued sentence boundary",
    "caption": "caption glued onto paragraph",
    "quote_space": "lost space before quote",
    "boilerplate": "shared boilerplate block",
    "hard_wrap": "hard-wrapped paragraph rejoined",
    "hyphenation": "line-end hyphenation removed",
    "compound_break": "compound hyphen kept at line end",
    "mojibake": "mojibake decoded",
}


def _cell(result: Mapping[str, Any], value: Any, digits: int = 3) -> str:
    if not result.get("available", False):
        return "n/a"
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def text_table(results: Mapping[str, Any]) -> str:
    """Markdown table: one row per fault kind and summary score, one column per text system."""
    systems = results["text_systems"]
    names = list(systems)
    counts = results["meta"]["faults"]
    lines = ["| measure | n | " + " | ".join(names) + " |",
             "|---|---:|" + "---:|" * len(names)]
    for kind in FAULT_KINDS:
        if not counts.get(kind):
            continue
        n = next((r["faults"].get(kind, 0) for r in systems.values() if r.get("available")), 0)
        cells = [_cell(r, r.get("fix_rate", {}).get(kind)) for r in systems.values()]
        lines.append(f"| fixed: {FAULT_LABELS[kind]} | {n} | " + " | ".join(cells) + " |")
    rows = [
        ("retention of original sentences", "sentences", "retention"),
        ("protected spans mangled (count)", "protected_checked", "protected_mangled"),
        ("edit similarity to clean original", None, "similarity"),
        ("clean input left untouched (docs)", None, "clean_untouched"),
        ("edit similarity on clean input", None, "clean_similarity"),
        ("seconds", None, "seconds"),
    ]
    for label, count_key, key in rows:
        n = ""
        if count_key:
            n = str(next((r[count_key] for r in systems.values() if r.get("available")), ""))
        cells = [_cell(r, r.get(key), 2 if key == "seconds" else 3) for r in systems.values()]
        lines.append(f"| {label} | {n} | " + " | ".join(cells) + " |")
    lines.append(f"| (input's edit similarity to clean original: "
                 f"{results['input_similarity']:.3f}) | | " + " | " * (len(names) - 1) + " |")
    return "\n".join(lines)


def source_table(results: Mapping[str, Any], system: str = "dedup") -> str:
    """Markdown table of one system's fix rates per source (fault counts in brackets)."""
    result = results["text_systems"].get(system, {})
    if not result.get("available") or "by_source" not in result:
        return f"({system}: no per-source breakdown)"
    sources = list(result["by_source"])
    lines = [f"{system} by source (fix rate, number of faults in brackets):", "",
             "| measure | " + " | ".join(sources) + " |", "|---|" + "---:|" * len(sources)]
    for kind in FAULT_KINDS:
        cells = []
        for source in sources:
            entry = result["by_source"][source]
            n = entry["faults"].get(kind)
            cells.append(f"{entry['fix_rate'][kind]:.2f} ({n})" if n else "-")
        if any(c != "-" for c in cells):
            lines.append(f"| {FAULT_LABELS[kind]} | " + " | ".join(cells) + " |")
    lines.append("| retention | " + " | ".join(
        f"{result['by_source'][s]['retention']:.3f}" for s in sources) + " |")
    return "\n".join(lines)


def caption_table(results: Mapping[str, Any], system: str = "dedup") -> str:
    """Markdown table of one system's caption fix rate per caption family (generator v2)."""
    families = results["text_systems"].get(system, {}).get("caption_families") or {}
    if not families:
        return "(no caption families: generator v1)"
    lines = [f"{system}: captions removed cleanly, by family:", "",
             "| family | " + " | ".join(families) + " |", "|---|" + "---:|" * len(families),
             "| fixed | " + " | ".join(f"{f['fixed']}/{f['total']}" for f in families.values())
             + " |"]
    return "\n".join(lines)


def doc_table(results: Mapping[str, Any]) -> str:
    """Markdown table of document-level pair precision / recall."""
    meta = results["meta"]
    lines = [f"Document near-duplicates at Jaccard >= {meta['threshold']} "
             f"(bands={meta['bands']}, rows={meta['rows']}, num_perm={meta['num_perm']}):",
             "",
             "| system | pair precision | pair recall | predicted pairs | true pairs "
             "| generated reprints found | seconds |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, r in results["doc_systems"].items():
        if not r.get("available"):
            lines.append(f"| {name} | n/a | n/a | | | | |")
            continue
        lines.append(f"| {name} | {r['precision']:.3f} | {r['recall']:.3f} | "
                     f"{r['predicted_pairs']} | {r['true_pairs']} | "
                     f"{r['reprints_found']}/{r['reprints']} | {r['seconds']:.2f} |")
    return "\n".join(lines)


def curve_table(results: Mapping[str, Any]) -> str:
    """Markdown table of the LSH S-curve: theory against measured candidate probability."""
    curve = results["lsh_curve"]
    if not curve:
        return "(LSH curve skipped)"
    signers = list(curve[0]["measured"])
    meta = results["meta"]
    lines = [f"LSH candidate probability, bands={meta['bands']} rows={meta['rows']} "
             f"(from {meta['lsh_params_from']}), {curve[0]['pairs']} pairs per bin:",
             "",
             "| true Jaccard | theory 1-(1-s^r)^b | " +
             " | ".join(f"measured ({s} MinHash)" for s in signers) + " |",
             "|---|---:|" + "---:|" * len(signers)]
    for row in curve:
        cells = " | ".join(f"{row['measured'][s]:.3f}" for s in signers)
        lines.append(f"| {row['low']:.1f}-{row['high']:.1f} | {row['theory']:.3f} | {cells} |")
    return "\n".join(lines)


def unavailable_notes(results: Mapping[str, Any]) -> str:
    """One line per system that could not run, with the reason."""
    notes = []
    for group in ("text_systems", "doc_systems"):
        for name, r in results[group].items():
            if not r.get("available"):
                notes.append(f"- {group.split('_')[0]} system `{name}`: not available "
                             f"({r.get('reason')})")
    return "\n".join(notes)


def sources_table(results: Mapping[str, Any]) -> str:
    """Markdown table of where the text came from."""
    lines = ["| source | genre | package | file | licence | documents |",
             "|---|---|---|---|---|---:|"]
    for s in results["meta"]["sources"]:
        lines.append(f"| {s['source']} | {s['genre']} | {s['package']}=={s['version']} "
                     f"({s['archive']}) | {s['file']} | {s['licence']} | {s['documents']} |")
    return "\n".join(lines)


def full_report(results: Mapping[str, Any]) -> str:
    """Everything a person wants to read after a run."""
    meta = results["meta"]
    parts = [
        f"dedup {meta['dedup_version']} ({meta.get('dedup_revision', '?')}); seed {meta['seed']}; "
        f"{meta['documents']} documents "
        f"({meta['reprints']} reprints); generator {meta.get('generator', 'v1')}; "
        f"edit similarity: {meta['similarity_metric']}",
        "",
        sources_table(results),
        "",
        text_table(results),
        "",
        source_table(results),
        "",
        caption_table(results),
        "",
        doc_table(results),
        "",
        curve_table(results),
        "",
        real_tables(results),
    ]
    notes = unavailable_notes(results)
    if notes:
        parts += ["", notes]
    return "\n".join(parts)


def check(results: Mapping[str, Any], thresholds: Mapping[str, Any],
          system: str = "dedup") -> list[str]:
    """Compare one system's scores with the stored floors and ceilings.

    Args:
        results: output of :func:`evaluation.run.evaluate`.
        thresholds: ``{"fix_rate": {kind: floor}, "retention": floor,
            "protected_mangled": ceiling, "clean_untouched": floor}``.
        system: the text system to check.

    Returns:
        One message per failed threshold; empty when all pass.
    """
    result = results["text_systems"].get(system, {})
    if not result.get("available"):
        return [f"{system} did not run: {result.get('reason', 'missing')}"]
    failures = []
    for kind, floor in thresholds.get("fix_rate", {}).items():
        value = result["fix_rate"].get(kind)
        if value is not None and value < floor:
            failures.append(f"fix rate of {kind} is {value:.3f}, below {floor:.3f}")
    for key in ("retention", "clean_untouched", "clean_similarity", "similarity"):
        if key in thresholds and result[key] < thresholds[key]:
            failures.append(f"{key} is {result[key]:.3f}, below {thresholds[key]:.3f}")
    if "protected_mangled" in thresholds and \
            result["protected_mangled"] > thresholds["protected_mangled"]:
        failures.append(f"{result['protected_mangled']} protected spans mangled, more than "
                        f"{thresholds['protected_mangled']}")
    return failures


REAL_LABELS = {
    "headline_separated": "headline glued to first line: separated (higher is better)",
    "headline_kept": "headline kept",
    "wrap_joined": "hard-wrapped paragraph joined",
    "table_row_own_line": "data-table row kept on its own line",
    "entity_decoded": "SGML entities decoded (`&lt;` -> `<`), documents",
    "control_mark_dropped": "`&#3;` end mark dropped, documents",
    "trailer_kept": "` Reuter` sign-off kept, documents",
    "boilerplate_removed": "boilerplate lines removed (recall)",
    "content_removed": "content lines removed (false removals; lower is better)",
    "data_removed": "data-table rows removed (false removals; lower is better)",
    "documents_losing_content": "documents losing a content line or data row (lower is better)",
}


def real_tables(results: Mapping[str, Any]) -> str:
    """Markdown tables of the real-fault sources, the document pairs and the clean-text run."""
    real = results.get("real") or {}
    if not real:
        return "(real-fault sources skipped)"
    parts = [f"Real faults (held-out part: split={real['split']}):", "",
             "| source | registry | package (version) | file | licence | documents |",
             "|---|---|---|---|---|---:|"]
    for s in real["sources"]:
        parts.append(f"| {s['source']} | {s['registry']} | {s['package']} ({s['version']}) | "
                     f"{s['file']} | {s['licence']} | {s['documents']} |")
    for source, by_system in real["scores"].items():
        names = list(by_system)
        parts += ["", f"{source}:", "", "| measure | n | " + " | ".join(names) + " |",
                  "|---|---:|" + "---:|" * len(names)]
        first = next((r for r in by_system.values() if r.get("available")), {})
        for key, label in REAL_LABELS.items():
            if key not in first.get("counts", {}):
                continue
            cells = [_cell(r, r.get("rates", {}).get(key)) for r in by_system.values()]
            parts.append(f"| {label} | {first['counts'][key]} | " + " | ".join(cells) + " |")
    pairs = real.get("document_pairs") or {}
    if pairs:
        parts += ["", f"Document near-duplicates on real text ({pairs['reuters_true_pairs']} "
                  f"Reuters pairs at Jaccard >= {results['meta']['threshold']}; "
                  f"{pairs['crossposts']} list messages reposted with another list's footer):",
                  "", "| system | Reuters pair precision | Reuters pair recall | Reuters pairs "
                  "predicted | merged look-alikes (J < 0.5) | reposts found | other mail pairs "
                  "(J < 0.5) | seconds |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for name in ("datasketch-lsh", "dedup"):
            r = pairs.get(name, {})
            if not r.get("available"):
                parts.append(f"| {name} | n/a | n/a | | | | | |")
                continue
            parts.append(f"| {name} | {r['reuters_precision']:.3f} | {r['reuters_recall']:.3f} | "
                         f"{r['reuters_predicted']} | {r['false_merges_below_0_5']} | "
                         f"{r['crossposts_found']}/{pairs['crossposts']} | "
                         f"{r['other_mail_pairs']} ({r['other_mail_pairs_below_0_5']}) | "
                         f"{r['seconds']:.2f} |")
    parts += ["", clean_table(real)]
    return "\n".join(parts)


def clean_table(real: Mapping[str, Any]) -> str:
    """Markdown table: every change made to clean published text, per 1,000 documents."""
    clean = real.get("clean") or {}
    names = list(clean)
    if not names:
        return "(clean-text run skipped)"
    counts = real.get("clean_documents", {})
    total = sum(counts.values())
    lines = [f"Clean-text run: {total} clean published documents "
             f"({', '.join(f'{k} {v}' for k, v in counts.items())}); every change is a suspected "
             "false positive, per 1,000 documents:", "",
             "| measure | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    rows = [("documents changed", "documents_changed_per_1000"),
            ("documents with a sentence lost or broken", "documents_losing_a_sentence_per_1000"),
            ("sentences lost or broken", "sentences_lost_per_1000"),
            ("documents losing words (content removed; target 0)",
             "documents_losing_words_per_1000"),
            ("words removed (token alignment; target 0)", "words_removed_per_1000")]
    for label, key in rows:
        lines.append(f"| {label} | " + " | ".join(_cell(clean[n], clean[n].get(key), 1)
                                                 for n in names) + " |")
    kinds = sorted({k for n in names for k in clean[n].get("changes_per_1000_by_kind", {})})
    for kind in kinds:
        cells = []
        for n in names:
            r = clean[n]
            if not r.get("available"):
                cells.append("n/a")
                continue
            changes = r["changes_per_1000_by_kind"].get(kind, 0.0)
            documents = r["documents_per_1000_by_kind"].get(kind, 0.0)
            cells.append(f"{changes:.1f} ({documents:.1f} docs)")
        lines.append(f"| change `{kind}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def check_real(results: Mapping[str, Any], thresholds: Mapping[str, Any]) -> list[str]:
    """Compare real-source and clean-run figures with stored bounds.

    Args:
        results: output of :func:`evaluation.run.evaluate`.
        thresholds: ``{source: {system: {measure: {"min": x} or {"max": x}}}}``; the source
            ``clean`` reads the clean-text run, ``document_pairs`` the real document pairs.

    Returns:
        One message per bound crossed (or figure missing); empty when all hold.
    """
    real = results.get("real") or {}
    failures = []
    for source, by_system in thresholds.items():
        for system, measures in by_system.items():
            if source == "clean":
                result = real.get("clean", {}).get(system, {})
                values = result
            elif source == "document_pairs":
                result = real.get("document_pairs", {}).get(system, {})
                values = result
            else:
                result = real.get("scores", {}).get(source, {}).get(system, {})
                values = result.get("rates", {})
            if not result.get("available"):
                failures.append(f"{source}/{system} did not run: {result.get('reason', 'missing')}")
                continue
            for measure, bound in measures.items():
                value = values.get(measure)
                if value is None:
                    failures.append(f"{source}/{system}: {measure} was not measured")
                elif "min" in bound and value < bound["min"]:
                    failures.append(f"{source}/{system}: {measure} is {value:.3f}, below "
                                    f"{bound['min']:.3f}")
                elif "max" in bound and value > bound["max"]:
                    failures.append(f"{source}/{system}: {measure} is {value:.3f}, above "
                                    f"{bound['max']:.3f}")
    return failures
