"""Repair: fix what scrapers and hard-wrapping broke, recording every edit with offsets.

What it changes, and only this (precision first: a false split is worse than a miss):

* markup left by extraction: HTML/SGML entities are decoded as ftfy's ``unescape_html`` does
  (``&lt;Company>`` → ``<Company>``; not in a text holding a literal ``<``) and control
  characters are removed (``&#3;``, a stray DEL), each recorded (``entity_decoded``,
  ``control_removed``);
* encoding: ftfy fixes mojibake and bad Unicode line by line; curly quotes and full-width
  characters stay as the author typed them;
* glued sentence boundaries (``2023.Gasoline``, ``blast.The``): a space is inserted;
* lower-case splices (``morning.took place``), where a scraper lost the words between two
  sentences: a space is inserted, the boundary is forced, and the fragment is flagged;
* a lost space before an opening double quote (``Karabakh’s"reintegration"``) or after a
  closing one, straight quotes told apart by parity carried across news-style paragraphs;
* hard-wrapped lines inside a paragraph are joined with a space, judged by each paragraph's own
  line-length profile whatever the next line starts with; a word hyphenated across the
  break is rejoined (``explo-\\nsion`` → ``explosion``) or keeps its hyphen (``well-\\nknown``,
  ``Nagorno-\\nKarabakh``, ``1990-\\n2000``), decided by the document's own words and a lexicon;
* a paragraph broken mid-sentence (blank line followed by a lower-case continuation) is rejoined.

What it deliberately leaves alone: abbreviations (``Sept.``, ``U.S.``, ``Dr.``), initials
(``J.R.R.Tolkien``), decimals and versions (``3.5``, ``v2.0.1``), URLs, e-mail addresses, host
names, file names, systemd units and dotted identifiers (``Node.js``, ``index.html``,
``napster.no``, ``ssh.service``, ``os.path``), ellipses, lines that look like structure (lists,
indented paragraph starts, tables, short lines, verse, addresses, headings, sign-offs such as
`` Reuter``), and ``pre- and post-war`` on one line. Repairs only insert whitespace, turn line
breaks into spaces, or drop a line-break hyphen; entity and control-character fixes are recorded
as their own kinds.

Every regular expression here is linear: no nested quantifiers, and context is inspected in
bounded windows in Python.
"""

from __future__ import annotations

import bisect
import difflib
import functools
import gzip
import json
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from dedup.edits import Edit, apply_edits, compose

if TYPE_CHECKING:
    from dedup.config import RepairConfig

__all__ = ["RepairResult", "Lexicon", "get_lexicon", "fix_encoding", "markup_fixes", "repair"]

_CLOSERS = "\"'’”)]»"
_OPENERS = "\"'‘“([«"
_TLDS_AND_EXTENSIONS = frozenset(
    """
    com org net edu gov mil int io co uk us de fr ca au info biz me tv ly ai app dev
    js ts py rb go rs java kt cs cpp hpp php pl sh bat exe dll so txt md csv tsv json jsonl xml
    yaml yml toml ini cfg conf log html htm css scss pdf doc docx xls xlsx ppt pptx odt rtf png
    jpg jpeg gif svg bmp tif tiff webp mp3 mp4 wav avi mov mkv zip gz tar bz2 xz zst rar parquet
    """.split()
)
_FILE_EXTENSIONS = frozenset(
    """
    js ts py rb go rs java kt cs cpp hpp php pl sh bat exe dll so txt md csv tsv json jsonl xml yaml
    yml toml ini cfg conf log html htm css pdf doc docx xls xlsx ppt pptx odt rtf png jpg jpeg gif svg
    bmp tif tiff webp mp3 mp4 wav avi mov mkv zip gz tar bz2 xz zst rar dat bin iso img
    """.split()
)
_BANG_NAMES = frozenset({"yahoo", "jeopardy", "wham"})
_TECH_SUFFIXES = frozenset({"Net", "Js", "NET", "Io"})
#: Conventional names of a project's files, which take a capitalised suffix (``README.Debian``,
#: ``Makefile.PL``, ``ChangeLog.Old``): a dotted name, not a sentence end.
_FILE_STEMS = frozenset({"README", "INSTALL", "COPYING", "LICENSE", "LICENCE", "ChangeLog", "HACKING",
                         "CONTRIBUTING", "Makefile", "Dockerfile", "Gemfile", "Rakefile", "Vagrantfile"})

_GLUED = re.compile(r"[.!?][\"'’”)\]]?(?=[\"“‘„«]?[^\W\d_])")  # (German „, French « open quotes too)
_SPLICE = re.compile(r"(?<![\w.@/\-'’])([a-z]{2,})\.([a-z]{2,})(?=[\s,;:!?)]|$)")
_DOT_BEFORE_LOWER = re.compile(r"\.(?=[a-z]{2})")
_STRAIGHT_QUOTE = re.compile(r'"')
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r]*\n")
# The quote comes first and the look-behind after it, so the search skips to each quote mark
# instead of testing the look-behind at every character (same matches as (?<=[…])“(?=\w)).
_CURLY_OPEN = re.compile(r"“(?<=[\w’'.!?,;:]“)(?=\w)")
_GLUED_PAREN = re.compile(r"\)(?=[\"“‘]?[A-Z][a-z])")
_CREDIT_WORDS = re.compile(r"\b(?:AP|AFP|EPA|Reuters|Getty|Photo|Photograph|Image|Picture|Credit|File)\b",
                           re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?][\"'’”)\]]*$")
_CURLY_CLOSE = re.compile(r"”(?<=[\w.,!?]”)(?=[A-Za-z])")
_LIST_MARKER = re.compile(r"(?:[-*•·▪‣–—>]|\d{1,3}[.)]|[a-zA-Z][.)]|\(\w{1,3}\))\s")
_WORD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")
_LETTERS = re.compile(r"[^\W\d_]+")
_ALNUM = re.compile(r"[^\W_]")
_NEEDS_FTFY = re.compile(r"[^\x09\x0a\x0d\x20-\x7e]")
# The ASCII control characters ftfy's remove_control_chars removes (not tab, line feed, form feed
# or carriage return).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class RepairResult:
    """The repaired text, the edits that made it (offsets in the text given to :func:`repair`),
    and the sentence boundaries the repairer found (offsets in the repaired text)."""

    text: str
    edits: tuple[Edit, ...]
    boundaries: tuple[int, ...]


class Lexicon:
    """English words (lower case) for deciding line-break hyphens and splices.

    The words come from pyspellchecker's English frequency list (MIT), read as JSON.
    """

    def __init__(self, words: Collection[str]) -> None:
        self._words = words

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word.lower() in self._words

    @classmethod
    def load(cls) -> Lexicon:
        """The bundled English lexicon."""
        from importlib import resources

        data = (resources.files("spellchecker") / "resources" / "en.json.gz").read_bytes()
        return cls(frozenset(json.loads(gzip.decompress(data))))


@functools.lru_cache(maxsize=1)
def get_lexicon() -> Lexicon:
    """The English lexicon, loaded once per process (it never changes)."""
    return Lexicon.load()


# --------------------------------------------------------------------------- encoding


def fix_encoding(text: str) -> tuple[str, list[Edit]]:
    """Decode markup left by extraction and fix mojibake and bad Unicode with ftfy, line by line,
    keeping the author's typography.

    >>> fix_encoding("Azerbaijanâ€™s forces")[0]
    'Azerbaijan’s forces'
    >>> fix_encoding("ACME INC &lt;ACM> said.\\n Reuter\\n&#3;")[0]
    'ACME INC <ACM> said.\\n Reuter\\n'
    """
    markup = markup_fixes(text) if "&" in text or _CONTROL.search(text) else []
    if markup:
        decoded = apply_edits(text, markup)
        fixed, encoding_edits = _fix_unicode(decoded)
        return fixed, compose(markup, encoding_edits, decoded)
    return _fix_unicode(text)


def markup_fixes(text: str) -> list[Edit]:
    """Edits that decode HTML/SGML entities (``&lt;`` → ``<``, ``&amp;amp;`` → ``&``) and remove
    the control characters extraction leaves (``&#3;`` end-of-text marks, a raw DEL or NUL).

    Entities are decoded as ftfy's ``unescape_html`` decodes them (only those ending in a
    semicolon), and, as ftfy does, not in a text that holds a literal ``<``: that text is markup,
    or writes about it. A reference to a character that cannot be shown (``&#0;``) is left alone.

    >>> for edit in markup_fixes("AT&amp;T &lt;X>\\x7f&#3;"):
    ...     print(edit.start, edit.end, repr(edit.after), edit.kind)
    2 7 '&' entity_decoded
    9 13 '<' entity_decoded
    15 16 '' control_removed
    16 20 '' control_removed
    """
    from ftfy.chardata import HTML_ENTITY_RE
    from ftfy.fixes import unescape_html

    edits: list[Edit] = []
    reasons: dict[str, Mapping[str, str]] = {}  # one record per distinct entity or character
    if "<" not in text:
        for match in HTML_ENTITY_RE.finditer(text):
            if edits and match.start() < edits[-1].end:
                continue  # part of a doubly escaped entity already decoded
            end, decoded = match.end(), unescape_html(match.group())
            while decoded == "&":  # &amp;lt; → <, as a repeated unescape gives
                inner = HTML_ENTITY_RE.match("&" + text[end : end + 25])
                if inner is None or unescape_html(inner.group()) == inner.group():
                    break
                end, decoded = end + len(inner.group()) - 1, unescape_html(inner.group())
            if decoded == match.group() or "\ufffd" in decoded:
                continue
            decoded = _CONTROL.sub("", decoded)
            kind = "entity_decoded" if decoded else "control_removed"
            edits.append(Edit(match.start(), end, decoded, kind, _reason(reasons, text[match.start() : end], kind)))
    for match in _CONTROL.finditer(text):
        edits.append(Edit(match.start(), match.end(), "", "control_removed",
                          _reason(reasons, match.group(), "control_removed")))
    edits.sort(key=lambda e: (e.start, e.end))
    return edits


def _reason(reasons: dict[str, Mapping[str, str]], found: str, kind: str) -> Mapping[str, str]:
    if found not in reasons:
        what = "HTML entity" if kind == "entity_decoded" else "control character"
        reasons[found] = MappingProxyType({"reason": f"{what} {found!r}"})
    return reasons[found]


def _fix_unicode(text: str) -> tuple[str, list[Edit]]:
    if not _NEEDS_FTFY.search(text):
        return text, []
    import ftfy

    ftfy_config = ftfy.TextFixerConfig(
        unescape_html=False, uncurl_quotes=False, fix_character_width=False, fix_line_breaks=False,
        explain=False,
    )
    # Only lines with a character outside printable ASCII can hold mojibake or bad Unicode
    # (a wholly printable-ASCII document is never sent to ftfy, and neither is such a line).
    # (markup_fixes removed the ASCII control characters, so only non-ASCII ones remain).
    lines = text.split("\n")
    suspects = [k for k, line in enumerate(lines) if not line.isascii()]
    joined = "\n".join(lines[k] for k in suspects)
    if ftfy.fix_text(joined, ftfy_config) == joined:
        return text, []  # one call decides the common case: nothing to fix
    starts = _starts(lines, gap=1)  # each line and its line break
    edits: list[Edit] = []
    for k in suspects:
        fixed = ftfy.fix_text(lines[k], ftfy_config)
        if fixed != lines[k]:
            edits.extend(_line_edits(lines[k], fixed, starts[k]))
    return (apply_edits(text, edits) if edits else text), edits


def _line_edits(line: str, fixed: str, offset: int) -> list[Edit]:
    prefix = 0
    limit = min(len(line), len(fixed))
    while prefix < limit and line[prefix] == fixed[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and line[-1 - suffix] == fixed[-1 - suffix]:
        suffix += 1
    old, new = line[prefix : len(line) - suffix], fixed[prefix : len(fixed) - suffix]
    info = MappingProxyType({"reason": "ftfy"})
    if len(old) <= 64 or len(old) > 20000:
        return [Edit(offset + prefix, offset + prefix + len(old), new, "encoding_fixed", info)]
    # ftfy's fixes are local, so align words (a character-level diff of a long line is slow),
    # then trim each changed run of words to the characters that differ.
    old_words, new_words = _WORDS_AND_SPACES.findall(old), _WORDS_AND_SPACES.findall(new)
    old_at, new_at = _starts(old_words), _starts(new_words)
    edits = []
    matcher = difflib.SequenceMatcher(None, old_words, new_words, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        start, end, after = old_at[i1], old_at[i2], new[new_at[j1] : new_at[j2]]
        head = 0
        while head < min(end - start, len(after)) and old[start + head] == after[head]:
            head += 1
        tail = 0
        while tail < min(end - start, len(after)) - head and old[end - 1 - tail] == after[-1 - tail]:
            tail += 1
        edits.append(Edit(offset + prefix + start + head, offset + prefix + end - tail,
                          after[head : len(after) - tail], "encoding_fixed", info))
    return edits


_WORDS_AND_SPACES = re.compile(r"\s+|\S+")


def _starts(pieces: list[str], gap: int = 0) -> list[int]:
    """Offsets of consecutive pieces of a string (``gap`` characters apart), and its end."""
    starts = [0]
    for piece in pieces:
        starts.append(starts[-1] + len(piece) + gap)
    return starts


# --------------------------------------------------------------------------- repair


def repair(text: str, config: RepairConfig, abbreviations: Collection[str],
           lexicon: Lexicon | None = None) -> RepairResult:
    """Repair ``text`` as :class:`~dedup.config.RepairConfig` allows.

    >>> from dedup.config import RepairConfig
    >>> repair("It exploded.The border is near.", RepairConfig(), {"sept"}).text
    'It exploded. The border is near.'
    """
    from dedup.unwrap import line_joins, paragraph_joins

    lexicon = lexicon if lexicon is not None else get_lexicon()
    edits: list[Edit] = []
    if config.unwrap_lines or config.dehyphenate:
        edits.extend(line_joins(text, config, lexicon))
    if config.rejoin_paragraphs:
        edits.extend(paragraph_joins(text))
    inserts: dict[int, Edit] = {}
    if config.split_glued:
        for edit in glued_boundaries(text, abbreviations):
            inserts.setdefault(edit.start, edit)
        for edit in glued_parentheticals(text):
            inserts.setdefault(edit.start, edit)
    if config.split_splices:
        for edit in splices(text, abbreviations, lexicon):
            inserts.setdefault(edit.start, edit)
    if config.quote_space:
        for edit in quote_spaces(text):
            inserts.setdefault(edit.start, edit)
    edits.extend(inserts.values())
    edits.sort(key=lambda e: (e.start, e.end))
    repaired = apply_edits(text, edits) if edits else text
    boundaries: list[int] = []
    shift = 0
    for edit in edits:
        if edit.kind in ("boundary_split", "suspected_splice"):
            boundaries.append(edit.start + shift + len(edit.after))
        shift += len(edit.after) - (edit.end - edit.start)
    return RepairResult(repaired, tuple(edits), tuple(boundaries))


_UP_TO_LAST_SPACE = re.compile(r"(?s).*\s")
_SPACE = re.compile(r"\s")


def _window_token_before(text: str, position: int) -> str:
    """The non-space characters just before ``position`` (at most 200)."""
    window = text[max(0, position - 200) : position]
    last_space = _UP_TO_LAST_SPACE.match(window)
    return window[last_space.end() :] if last_space else window


def _window_token_after(text: str, position: int) -> str:
    """The non-space characters from ``position`` on (at most 200)."""
    ceiling = min(len(text), position + 200)
    space = _SPACE.search(text, position, ceiling)
    return text[position : space.start() if space else ceiling]


def _looks_like_address(token: str) -> bool:
    lowered = token.lower()
    return "@" in token or "/" in token or "://" in token or lowered.startswith("www.")


def _starts_sentence(text: str, position: int, punct: int) -> bool:
    """Whether the word at ``position`` can start a sentence glued after ``text[punct]``: a capital
    and a lower-case letter (``The``, ``Élodie``), an elided French or Italian word (``L’année``),
    the words ``A`` and ``I``, or an all-capitals word (``US officials``) after a lower-case word."""
    first, second = text[position : position + 1], text[position + 1 : position + 2]
    if not first.isupper():
        return False
    if second.islower():
        return True
    if first in "CDJLMNST" and second in "’'" and text[position + 2 : position + 3].islower():
        return True  # an elided article or pronoun of French or Italian: L’identifiant, C’est
    if first in "AI" and second == " ":
        return True
    word = re.match(r"[^\W\d_]{2,5}(?= )", text[position : position + 6])
    left = re.search(r"[^\W\d_]{3,}$", text[max(0, punct - 30) : punct])
    return bool(word and word.group().isupper() and left and left.group().islower())


def glued_boundaries(text: str, abbreviations: Collection[str]) -> list[Edit]:
    """Spaces to insert where a sentence ends and the next begins with no space between.

    >>> [(e.start, e.after) for e in glued_boundaries("on Sept. 25, 2023.Gasoline is", set())]
    [(18, ' ')]
    >>> glued_boundaries("the U.S.Army and J.R.R.Tolkien use Node.js and www.Example.com", {"u.s"})
    []
    """
    edits: list[Edit] = []
    roles: dict[int, bool] | None = None
    # From the last match back, so that the token after a boundary ends where a later boundary
    # is split (``Ab.CdAb.Cd``): the same decisions a second pass over the output would make.
    next_split = len(text) + 1
    for match in reversed(list(_GLUED.finditer(text))):
        punct = match.start()
        insert_at = match.end()
        opening = text[insert_at] in '"“‘„«'  # the next sentence opens with a quote
        word_at = insert_at + 1 if opening else insert_at
        if not _starts_sentence(text, word_at, punct):
            continue
        if opening:
            pass  # `.“The` / `.""The`: the space goes before the opening quote
        elif text[insert_at - 1] == '"':
            if roles is None:
                roles = straight_quote_roles(text)[0]
            if roles.get(insert_at - 1, False):
                insert_at -= 1  # an opening quote: it belongs to the next sentence
        left = _window_token_before(text, punct)
        right = _window_token_after(text, word_at)
        if word_at < next_split <= word_at + len(right):
            right = right[: next_split - word_at]
        if not left or left[-1] in ".!?" or _looks_like_address(left) or _looks_like_address(right):
            continue
        right_word = re.match(r"[^\W\d_]+", right)
        if right_word is None or right_word.group() in _TECH_SUFFIXES:
            continue
        rest = right[right_word.end() :]
        if rest[:1] == "." and rest[1:2].isalnum():
            continue  # Example.com, Tolkien.Jr: a dotted name, not a sentence
        bare = left.rstrip(_CLOSERS).lstrip(_OPENERS)
        left_word_match = re.search(r"[^\W_]+$", bare)
        if left_word_match is None:
            continue
        left_word = left_word_match.group()
        after_word = right[right_word.end() : right_word.end() + 1]
        if (right_word.group().lower() in _TLDS_AND_EXTENSIONS and not after_word.isalpha()
                and not left_word.islower()):
            continue  # Bungie.Org, Report.PDF: a domain or a file name
        if right_word.group().isupper() and right_word.group().lower() in _FILE_EXTENSIONS:
            continue  # config.INI, setup.EXE
        if len(left_word) == 1 and left_word.isalpha():
            continue  # an initial: U.S.Army, J.R.R.Tolkien, e.g.The
        if left_word in _FILE_STEMS and bare == left_word:
            continue  # README.Debian, Makefile.PL: a file name
        if rest[:1] == "(" or any(re.match(r"[A-Z][a-z]{3,}[A-Z]", w) for w in (right_word.group(), left_word)) or (
                re.search(r"[^\W\d_]", left_word) and re.search(r"\d", left_word)):
            continue  # code: httplib2.Http(, Console.WriteLine, a name holding digits (httplib2.Client)
        dotted = bare.lower()
        if dotted in abbreviations or left_word.lower() in abbreviations:
            continue
        if "." in dotted and re.fullmatch(r"(?:[a-z]{1,3}\.)+[a-z]{1,3}", dotted):
            continue  # Ph.D, a.m, U.S.A style
        if text[punct] in "!?" and left_word.lower() in _BANG_NAMES:
            continue
        info = MappingProxyType({"reason": f"sentence end {text[punct]!r} glued to {right_word.group()!r}"})
        edits.append(Edit(insert_at, insert_at, " ", "boundary_split", info))
        next_split = insert_at
    edits.reverse()
    return edits


def glued_parentheticals(text: str) -> list[Edit]:
    """Spaces to insert after a parenthesis that stands after a sentence, such as a photo credit,
    when the next sentence is glued to it: ``2016. (AP Photo/Tomas Okafor)The service``.

    >>> [e.start for e in glued_parentheticals("on March 19, 2016. (AP Photo/Ann Lee)The chief said")]
    [37]
    >>> glued_parentheticals("the U.S. (and Canada)The")  # not a credit: left alone
    []
    """
    edits: list[Edit] = []
    for match in _GLUED_PAREN.finditer(text):
        close = match.start()
        open_at = text.rfind("(", max(0, close - 160), close)
        if open_at <= 0 or ")" in text[open_at + 1 : close] or "\n" in text[open_at:close]:
            continue
        before = text[max(0, open_at - 40) : open_at]
        if not before[-1:].isspace() or not _SENTENCE_END.search(before.rstrip()):
            continue
        if not _CREDIT_WORDS.search(text, open_at, close):
            continue
        info = MappingProxyType({"reason": "a parenthesis after a sentence glued to the next sentence"})
        edits.append(Edit(close + 1, close + 1, " ", "boundary_split", info))
    return edits


def splices(text: str, abbreviations: Collection[str], lexicon: Lexicon) -> list[Edit]:
    """Spaces to insert where a sentence runs into a lower-case fragment (``morning.took``).

    Never inside a name: a host name, file name, systemd unit or dotted identifier
    (``napster.no``, ``ssh.service``, ``os.path``). Country-code domains and many units are
    English words (``.no``, ``.is``, ``.it``, ``.target``), so the text decides: a name is what
    the document writes again in another context, whose first part it also writes before another
    lower-case part (``napster.com``, ``os.walk`` and ``os.remove``), what a word such as
    ``site`` or ``address`` follows, or a systemd unit type.

    >>> lex = Lexicon({"morning", "took", "example", "index", "napster", "no", "site", "place"})
    >>> [e.start for e in splices("said Tuesday morning.took place", set(), lex)]
    [21]
    >>> splices("see example.com or index.html, Node.js", set(), lex)
    []
    >>> splices("he set up his napster.no site", set(), lex)
    []
    """
    edits: list[Edit] = []
    names: _DottedNames | None = None
    for match in _splice_matches(text):
        left, right = match.group(1), match.group(2)
        if right in _TLDS_AND_EXTENSIONS or right in _FILE_EXTENSIONS or left in abbreviations:
            continue
        if left not in lexicon or right not in lexicon:
            continue
        if names is None:
            names = _DottedNames(text)
        if names.is_name(left, right, _next_word(text, match.end())):
            continue
        position = match.start(2)
        info = MappingProxyType({
            "reason": f"{left!r} ends a sentence and lower-case {right!r} follows with no space: "
            "words were probably lost here",
        })
        edits.append(Edit(position, position, " ", "suspected_splice", info))
    return edits


_UNIT_TYPES = frozenset(
    "service socket target mount automount timer path device slice scope swap".split()
)
_NAME_NOUNS = frozenset(
    """site sites website websites web address addresses domain domains server servers page pages
    homepage account accounts url urls link links file files mail email e-mail mailbox unit units
    module modules package packages""".split()
)
_DOT_BEFORE_LETTERS = re.compile(r"\.(?=[A-Za-z]{2})")
_NAME_PART = re.compile(r"[A-Za-z0-9_-]")


def _next_word(text: str, position: int) -> str:
    match = re.match(r"\s*([A-Za-z-]+)", text[position : position + 40])
    return match.group(1).lower() if match else ""


class _DottedNames:
    """The dotted tokens of a text (``napster.no``, ``os.path``) and the contexts they are in."""

    def __init__(self, text: str) -> None:
        self.contexts: dict[str, set[str]] = {}
        self.rights: dict[str, set[str]] = {}
        for dot in _DOT_BEFORE_LETTERS.finditer(text):
            start = dot.start()
            floor = max(0, start - 64)
            while start > floor and _NAME_PART.match(text, start - 1):
                start -= 1
            right = re.match(r"[A-Za-z]+", text[dot.end() : dot.end() + 64])
            if start == dot.start() or right is None:
                continue
            left, after = text[start : dot.start()].lower(), right.group().lower()
            self.contexts.setdefault(f"{left}.{after}", set()).add(_next_word(text, dot.end() + len(right.group())))
            if right.group()[0].islower():  # not "morning.The": a glued boundary, another fault
                self.rights.setdefault(left, set()).add(after)

    def is_name(self, left: str, right: str, next_word: str) -> bool:
        """Whether ``left.right`` followed by ``next_word`` is a name rather than a splice."""
        if right in _UNIT_TYPES or next_word in _NAME_NOUNS:
            return True
        if len(self.contexts.get(f"{left}.{right}", ())) >= 2:
            return True  # written again, followed by something else: not a copied paragraph
        # The first part is also written before a domain or an extension (napster.com), or before
        # other names (os.walk, os.remove): a namespace, not a word that ends a sentence.
        return bool(self.rights.get(left, set()) - {right})


def _splice_matches(text: str) -> Iterator[re.Match[str]]:
    """``_SPLICE.finditer(text)``, found from the rare ``.`` before two lower-case letters: a
    match can only start where the run of lower-case letters before that dot starts."""
    for dot in _DOT_BEFORE_LOWER.finditer(text):
        start = dot.start()
        while start > 0 and "a" <= text[start - 1] <= "z":
            start -= 1
        if dot.start() - start >= 2:
            match = _SPLICE.match(text, start)
            if match is not None:
                yield match


def quote_spaces(text: str) -> list[Edit]:
    """Spaces to insert before an opening double quote (or after a closing one) glued to a word.

    Straight quotes are told apart by their parity over the paragraph, carried across
    news-style paragraphs: a quotation that goes on into the next paragraph is not closed, and
    the next paragraph (or, where paragraphs were run together, the next sentence) opens with a
    quote again. A run of paragraphs whose quotes do not balance is left alone.

    >>> [e.start for e in quote_spaces('Karabakh’s"reintegration" into')]
    [10]
    >>> [e.start for e in quote_spaces('He said: "We lost. "It hurts. "Not again." He was famed"clear blue water".')]
    [55]
    """
    info_open = MappingProxyType({"reason": "no space before opening quote"})
    info_close = MappingProxyType({"reason": "no space after closing quote"})
    roles, reliable = straight_quote_roles(text)
    edits = []
    for position, opening in roles.items():
        if position not in reliable:
            continue
        before = text[position - 1] if position else " "
        after = text[position + 1] if position + 1 < len(text) else " "
        if opening and (before.isalnum() or before in "’'") and after.isalnum():
            edits.append(Edit(position, position, " ", "quote_space", info_open))
        elif not opening and before.isalnum() and after.isalpha():
            edits.append(Edit(position + 1, position + 1, " ", "quote_space", info_close))
    for match in _CURLY_OPEN.finditer(text):
        edits.append(Edit(match.start(), match.start(), " ", "quote_space", info_open))
    for match in _CURLY_CLOSE.finditer(text):
        edits.append(Edit(match.end(), match.end(), " ", "quote_space", info_close))
    return edits


_APOSTROPHE_QUOTE = re.compile(r'"(?<=[A-Za-z]")(?:s|t|d|m|ll|re|ve)(?![A-Za-z])')  # (quote first: see _CURLY_OPEN)


def straight_quote_roles(text: str) -> tuple[dict[int, bool], set[int]]:
    """Each straight double quote's role (True: it opens a quotation) and the quotes whose run
    of paragraphs balances.

    A quote in the place of an apostrophe (``Indonesia"s``, ``don"t``) is no quote. Inside a
    quotation, a quote that starts a paragraph, or follows a sentence end and a space and comes
    before a word, opens the quotation again (news style) instead of closing it.

    >>> roles, reliable = straight_quote_roles('"We lost. "It hurts." Then"Go"')
    >>> [roles[k] for k in sorted(roles)], sorted(reliable) == sorted(roles)
    ([True, True, False, True, False], True)
    """
    roles: dict[int, bool] = {}
    reliable: set[int] = set()
    paragraph_starts = [0] + [m.end() for m in _PARAGRAPH_BREAK.finditer(text)]
    apostrophes = {m.start() for m in _APOSTROPHE_QUOTE.finditer(text)}
    quotes = [m.start() for m in _STRAIGHT_QUOTE.finditer(text) if m.start() not in apostrophes]
    paragraphs = [bisect.bisect_right(paragraph_starts, position) - 1 for position in quotes]
    # How many quotes of the same paragraph follow each quote.
    following = [0] * len(quotes)
    for k in range(len(quotes) - 2, -1, -1):
        following[k] = following[k + 1] + 1 if paragraphs[k + 1] == paragraphs[k] else 0
    inside = False
    paragraph = -1
    group: list[int] = []  # quotes of the current run of paragraphs
    for position, here, later in zip(quotes, paragraphs, following):
        at_start = _after_space(text, position) <= paragraph_starts[here]
        if here != paragraph:
            continued = inside and here == paragraph + 1 and at_start
            if not continued:
                if not inside:
                    reliable.update(group)
                group, inside = [], False
            paragraph = here
        group.append(position)
        after = text[position + 1 : position + 2]
        if inside and after.isalnum() and (at_start or _reopens(text, position)):
            roles[position] = True  # a quotation going on in a new paragraph or sentence
            continue
        if inside and after.isupper() and text[position - 1] in ".!?" and later % 2 == 1:
            # Glued between a sentence end and a capital (`concerned."In fact`): closing it would
            # leave the paragraph's quotes unbalanced, so the quotation goes on.
            roles[position] = True
            continue
        roles[position] = not inside
        inside = not inside
    if not inside:
        reliable.update(group)
    return roles, reliable


def _after_space(text: str, position: int) -> int:
    """Where the white space before ``position`` starts."""
    while position > 0 and text[position - 1] in " \t\r\n":
        position -= 1
    return position


def _reopens(text: str, position: int) -> bool:
    """Whether a quote follows a sentence end and white space (``energy. "That's``)."""
    k = _after_space(text, position)
    return 0 < k < position and text[k - 1] in ".!?"
