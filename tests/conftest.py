"""Builders shared by the tests: synthetic news corpora (articles with reprints, a newsletter
banner and a copyright footer), JSONL helpers and an in-process CLI runner."""

from __future__ import annotations

import json
import random
from pathlib import Path

from click.testing import CliRunner

from dedup.cli import main

BANNER = "Sign up for our daily newsletter to get the latest headlines delivered to your inbox."
FOOTER = "Copyright 2025 Westhaven Daily News. All rights reserved worldwide."
TOPICS = ["council", "harbor", "school", "storm", "ferry", "library", "market", "bridge", "museum",
          "stadium", "hospital", "airport"]


def article(rng: random.Random, topic: str) -> str:
    verbs = ["approved", "delayed", "opened", "closed", "reviewed", "expanded", "repaired", "funded"]
    people = ["officials", "residents", "engineers", "teachers", "volunteers", "inspectors"]
    sentences = []
    for k in range(8):
        sentences.append(
            f"The {topic} {rng.choice(people)} {rng.choice(verbs)} plan number {rng.randint(1, 9999)} "
            f"on {rng.choice(['Monday', 'Tuesday', 'Friday'])} after {rng.randint(2, 90)} minutes of talks "
            f"about the {rng.choice(['budget', 'schedule', 'repairs', 'permits'])} and item {k}."
        )
    return " ".join(sentences[:4]) + "\n\n" + " ".join(sentences[4:])


def make_corpus(seed: int = 5) -> list[dict[str, str]]:
    rng = random.Random(seed)
    records = []
    for i, topic in enumerate(TOPICS):
        text = article(rng, topic)
        if i % 2 == 0:
            text += "\n\n" + BANNER
        if i % 3 == 0:
            text += "\n\n" + FOOTER
        records.append({"id": f"doc-{i}", "text": text, "source": "wire"})
        if i % 4 == 0:  # a reprint with a one-word edit
            words = text.split(" ")
            words[3] = "Westhaven"
            records.append({"id": f"doc-{i}-reprint", "text": " ".join(words), "source": "reprint"})
    return records


def invoke(*args):
    # These corpora repeat ids across copies: file:line ids unless a test names the id field.
    ids = () if "--id-field" in args else ("--id-field", "")
    return CliRunner().invoke(main, [str(a) for a in (*args, *ids)], catch_exceptions=False)


def write_jsonl(path: Path, records, opener=open):
    with opener(path, "wt", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")


def read_jsonl(path: Path, opener=open):
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def write_shards(directory: Path, shards: int = 3, docs: int = 30, seed: int = 11) -> list[Path]:
    """JSONL shards with reprints (near-duplicates across shards), exact copies, a banner, a
    footer and a caption in many documents, and a glued sentence boundary to repair."""
    rng = random.Random(seed)
    records = []
    for i in range(docs):
        text = article(rng, f"topic{i}")
        if i % 2 == 0:
            text += "\n\n" + BANNER
        if i % 3 == 0:
            text += "\n\n" + FOOTER
        if i % 5 == 0:
            text = text.replace(". ", ".", 1) + "\n\nPhoto: Westhaven Daily News staff."
        records.append({"id": f"doc-{i}", "text": text})
        if i % 4 == 0:  # a reprint with a one-word edit, usually landing in another shard
            words = text.split(" ")
            words[3] = "Harborside"
            records.append({"id": f"doc-{i}-reprint", "text": " ".join(words)})
        if i % 7 == 0:  # an exact copy
            records.append({"id": f"doc-{i}-copy", "text": text})
    rng.shuffle(records)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for shard in range(shards):
        path = directory / f"shard-{shard}.jsonl"
        write_jsonl(path, records[shard::shards])
        paths.append(path)
    return paths
