"""Fuzz ``dedup.clean_and_explain`` with generated text and check DESIGN.md's invariants.

Each input is checked for: no exception; replaying the reported changes on the input gives the
output (nothing lost silently) and each change's ``before`` is the input slice it names;
idempotence (``clean(clean(x)) == clean(x)``); determinism (two runs give equal results); and no
invented text: every change other than a removal (``*_removed``) only inserts whitespace and only
removes whitespace (``str.isspace``) or ``-`` (``encoding_fixed``, ``entity_decoded`` and
``control_removed`` are exempt, also when a repair absorbed them: they are ftfy's fixes).

Inputs mix random Unicode (all planes, controls, NUL, surrogate-free), adversarial punctuation runs
(dots, digits, dashes, quotes, newlines) and structured, fault-laden prose (glued boundaries,
abbreviations, hard wraps, hyphenation, mojibake, repeated paragraphs).

Usage::

    python scripts/fuzz.py --count 100000 --seed 0 --jobs 2

Prints the number of inputs and failures and, per failed invariant, the smallest failing input.
Exit code 0 when nothing failed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

_REMOVALS = ("duplicate_removed", "caption_removed", "boilerplate_removed")
_EXEMPT = ("encoding_fixed", "entity_decoded", "control_removed")

_WORDS = [
    "the", "blast", "Sept.", "25,", "2023.Gasoline", "morning.took", "U.S.Army", "said", "Dr.", "No.",
    "explo-\nsion", "well-\nknown", '"quoted"', "Karabakh’s\"re\"", "3.5", "v1.2.3", "www.example.com",
    "a@b.co", "file.txt", "He", "no.", "The", "A", "\n", "\n\n", "—", "–", "’", "‘", "“", "”", "…", "...",
    "Azerbaijanâ€™s", "Ã©tÃ©", "place", "x" * 12, "e.g.", "i.e.", "J.R.R.", "Tolkien.", "(", ")", "[1]",
    "Photo:", "AP", "Reuters", "©", "2024", "Subscribe", "to", "our", "newsletter.", "مرحبا", "שלום",
    "日本語のテキスト。", "中文没有空格的句子。", "한국어", "é", "e\u0301", "🙂", "👩‍👩‍👧", "\u200b", "\u00ad",
    "\t", "\r\n", "\x00", "\x0b", "\x0c", "\u2028", "\u2029", "\ufeff", "ﬁ", "Ⅻ", "١٢٣",
]
_PUNCT = ".,;:!?-–—'\"’‘“”…()[]{}/\\|*_~`^#@$%&+=<>0123456789 \n\t"
_SENTENCES = [
    "More than 13,500 people have fled the region, officials said Tuesday morning.",
    "The cause of the fire is under investigation.",
    "Gasoline has been in short supply since the blockade began.",
    "Residents lined up for hours outside the only open station.",
    "A man walks past a damaged building in Stepanakert, Nagorno-Karabakh, on Sept. 25, 2023.",
    "Dr. Smith of the U.S. Army said the figures were preliminary.",
    "Prices rose 3.5 percent in the quarter, the fastest pace since 2019.",
    "Read more at www.example.com/news or write to desk@example.com.",
]


def _random_unicode(rng: random.Random) -> str:
    size = rng.choice((0, 1, 2, 5, 20, 80, 300))
    pieces = []
    for _ in range(size):
        roll = rng.random()
        if roll < 0.4:
            code = rng.randrange(0x20, 0x7F)
        elif roll < 0.55:
            code = rng.randrange(0, 0x20)
        elif roll < 0.9:
            code = rng.randrange(0x80, 0x3000)
        else:
            code = rng.randrange(0x3000, 0x110000)
        if 0xD800 <= code <= 0xDFFF:
            code = 0xFFFD
        pieces.append(chr(code))
    return "".join(pieces)


def _adversarial(rng: random.Random) -> str:
    pieces = []
    for _ in range(rng.randint(1, 8)):
        char = rng.choice(_PUNCT)
        pieces.append(char * rng.choice((1, 2, 3, 10, 200)))
        if rng.random() < 0.5:
            pieces.append(rng.choice(_WORDS))
    return "".join(pieces)


def _structured(rng: random.Random) -> str:
    paragraphs = []
    for _ in range(rng.randint(1, 5)):
        sentences = []
        for _ in range(rng.randint(1, 4)):
            if rng.random() < 0.5:
                sentence = rng.choice(_SENTENCES)
            else:
                sentence = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 15)))
            sentences.append(sentence)
        joiner = rng.choice((" ", "", "\n", " "))
        paragraphs.append(joiner.join(sentences))
    if len(paragraphs) > 1 and rng.random() < 0.5:
        paragraphs.append(rng.choice(paragraphs).replace("'", "’"))
    text = rng.choice(("\n\n", "\n", "\n\n\n")).join(paragraphs)
    if rng.random() < 0.3:  # hard-wrap
        width = rng.randint(20, 70)
        text = "\n".join(text[i : i + width] for i in range(0, len(text), width))
    return text


def generate(seed: int, index: int) -> str:
    """The ``index``-th input of the run with ``seed`` (reproducible on its own)."""
    rng = random.Random(f"{seed}:{index}")
    kind = index % 3
    if kind == 0:
        return _random_unicode(rng)
    if kind == 1:
        return _adversarial(rng)
    return _structured(rng)


def _invented(changes: Any, name: str) -> list[tuple[str, str]]:
    """A change that is not a removal and not an encoding fix may only add or drop whitespace or '-'."""
    for change in changes:
        if change.kind in _EXEMPT or any(kind in _EXEMPT for kind in getattr(change, "absorbed", ())):
            continue  # an encoding fix, alone or merged into a repair (listed in ``absorbed``)
        if change.kind in _REMOVALS:
            if change.after != "":
                return [(name, f"{change.kind} inserts {change.after[:40]!r}")]
        elif change.after.strip() != "" or not all(c.isspace() or c == "-" for c in change.before):
            return [(name, f"{change.kind} {change.before[:60]!r} -> {change.after[:60]!r}")]
    return []


def shrink(text: str, name: str, budget: int = 1500) -> str:
    """A smaller input that still breaks invariant ``name`` (greedy chunk deletion)."""
    size = max(1, len(text) // 2)
    while size >= 1 and budget > 0:
        position, progressed = 0, False
        while position < len(text) and budget > 0:
            candidate = text[:position] + text[position + size :]
            budget -= 1
            if any(n == name for n, _ in check(candidate)):
                text, progressed = candidate, True
            else:
                position += size
        if not progressed:
            size //= 2
    return text


def check(text: str) -> list[tuple[str, str]]:
    """The invariants ``text`` breaks, as (name, detail) pairs."""
    import dedup
    from dedup.edits import Edit, apply_edits

    problems: list[tuple[str, str]] = []
    try:
        result = dedup.clean_and_explain(text)
    except Exception:
        return [("exception", traceback.format_exc(limit=3).strip().splitlines()[-1])]
    try:
        replayed = apply_edits(text, [Edit(c.start, c.end, c.after, c.kind) for c in result.changes])
    except Exception as error:
        replayed = f"<replay failed: {error}>"
    if replayed != result.text:
        problems.append(("replay", f"replayed {replayed[:80]!r} != output {result.text[:80]!r}"))
    for change in result.changes:
        if text[change.start : change.end] != change.before:
            problems.append(("before_mismatch", f"{change.kind} at {change.start}: {change.before[:40]!r}"))
            break
    problems.extend(_invented(result.changes, "invented"))
    try:
        plain = dedup.clean_and_explain(text, fix_encoding=False)
        problems.extend(_invented(plain.changes, "invented_without_ftfy"))
    except Exception:
        problems.append(("exception_without_ftfy", traceback.format_exc(limit=3).strip().splitlines()[-1]))
    try:
        again = dedup.clean(result.text)
        if again != result.text:
            problems.append(("idempotent", f"{result.text[:80]!r} -> {again[:80]!r}"))
    except Exception:
        problems.append(("exception_on_output", traceback.format_exc(limit=3).strip().splitlines()[-1]))
    try:
        if dedup.clean_and_explain(text) != result:
            problems.append(("deterministic", "two runs differ"))
    except Exception:
        problems.append(("exception_second_run", traceback.format_exc(limit=3).strip().splitlines()[-1]))
    return problems


def _work(arguments: tuple[int, int, int]) -> tuple[int, dict[str, tuple[int, str, str]]]:
    seed, start, stop = arguments
    failures: dict[str, tuple[int, str, str]] = {}  # invariant -> (count, smallest input, detail)
    failed = 0
    for index in range(start, stop):
        text = generate(seed, index)
        problems = check(text)
        if problems:
            failed += 1
        for name, detail in problems:
            count, smallest, old = failures.get(name, (0, text, detail))
            if len(text) < len(smallest):
                smallest, old = text, detail
            failures[name] = (count + 1, smallest, old)
    return failed, failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="number of generated inputs")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generator")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--chunk", type=int, default=500, help="inputs per task")
    args = parser.parse_args(argv)

    tasks = [(args.seed, start, min(start + args.chunk, args.count)) for start in range(0, args.count, args.chunk)]
    started = time.perf_counter()
    failed = 0
    done = 0
    merged: dict[str, tuple[int, str, str]] = {}

    def absorb(result: tuple[int, dict[str, tuple[int, str, str]]], size: int) -> None:
        nonlocal failed, done
        failed += result[0]
        done += size
        for name, (count, smallest, detail) in result[1].items():
            old = merged.get(name)
            if old is None or len(smallest) < len(old[1]):
                merged[name] = (count + (old[0] if old else 0), smallest, detail)
            else:
                merged[name] = (old[0] + count, old[1], old[2])
        elapsed = time.perf_counter() - started
        print(f"progress: {done}/{args.count} inputs, {failed} failed, {done / elapsed:.0f}/s",
              file=sys.stderr, flush=True)

    if args.jobs <= 1:
        for task in tasks:
            absorb(_work(task), task[2] - task[1])
    else:
        with ProcessPoolExecutor(args.jobs) as pool:
            for task, result in zip(tasks, pool.map(_work, tasks)):
                absorb(result, task[2] - task[1])

    elapsed = time.perf_counter() - started
    print(f"inputs: {args.count}  failed: {failed}  seed: {args.seed}  seconds: {elapsed:.1f}")
    for name, (count, smallest, detail) in sorted(merged.items()):
        minimal = shrink(smallest, name)
        details = [d for n, d in check(minimal) if n == name] or [detail]
        print(f"  {name}: {count} failures; minimal input {minimal!r}\n    {details[0]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
