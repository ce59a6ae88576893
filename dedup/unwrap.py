"""Lines and paragraphs: hard wraps undone by the block's line-length profile, words hyphenated
across a line break rejoined, and paragraphs broken inside a sentence rejoined (called by
:func:`dedup.repair.repair`).

A block's wrap width is estimated from its lines (a glued headline does not set it); a line
joins the next when it reaches that width, whatever the next starts with. Lists, verse,
addresses, headings, tables, rules, quoted mail and short trailer lines (a wire service's
sign-off) keep their breaks.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from dedup.edits import Edit
from dedup.language import has_function_word
from dedup.repair import _ALNUM, _LETTERS, _LIST_MARKER, _SPACE, _WORD, Lexicon

if TYPE_CHECKING:
    from dedup.config import RepairConfig

__all__ = ["line_joins", "paragraph_joins"]

#: A Markdown link reference definition: ``[label]: https://…``.
_LINK_DEFINITION = re.compile(r"\[[^\]\n]{1,200}\]:\s")
# A line that ends inside a URL or a compound written with no space (``https://``, ``GNU/``,
# ``…/intro/``, ``#``, ``?q=``): a line break there is no space, and joining with one would write
# a URL or a word that was never in the text.
_NO_SPACE_BREAK = re.compile(r"(?:[/#\\]|(?:://|\bwww\.)\S*[?&=.~_-])$")
_EMPHASIS = re.compile(r"(?:^|\s)/[^\W\d_]+/$")  # (``they did the /real/``: a word, emphasised)


# --------------------------------------------------------------------------- lines


@dataclass(frozen=True)
class _Line:
    start: int  # first non-space character
    end: int  # after the last non-space character
    raw_end: int  # position of the newline that ends it (or len(text))
    indent: int  # characters of white space before ``start`` on its row

    @property
    def length(self) -> int:
        return self.end - self.start

    @property
    def column(self) -> int:
        """The column the line ends at (what a wrap width limits)."""
        return self.indent + self.end - self.start


def _blocks(text: str) -> list[list[_Line]]:
    blocks: list[list[_Line]] = []
    current: list[_Line] = []
    position = 0
    size = len(text)
    while position <= size:
        newline = text.find("\n", position)
        raw_end = size if newline < 0 else newline
        start, end = position, raw_end
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start == end:
            if current:
                blocks.append(current)
                current = []
        else:
            current.append(_Line(start, end, raw_end, start - position))
        if newline < 0:
            break
        position = newline + 1
    if current:
        blocks.append(current)
    return blocks


def _wrap_width(blocks: list[list[_Line]]) -> int | None:
    """The column a hard-wrapped text was wrapped at, or None when it does not look wrapped."""
    lengths = sorted(line.column for block in blocks for line in block[:-1])
    if len(lengths) < 3:
        return None
    p90 = lengths[int(0.9 * (len(lengths) - 1))]
    width = max(length for length in lengths if length <= 1.15 * p90)
    if not 30 <= width <= 200:
        return None
    dense = sum(1 for length in lengths if length >= 0.6 * width)
    return width if dense >= 0.6 * len(lengths) else None


def _widest(columns: list[int], first_line: bool) -> int:
    """The widest of a block's wrapped columns. When ``columns[0]`` is the block's first line
    (``first_line``) and it runs more than 10% past every other, it does not count: that is a
    wire story's headline glued to its first line (``GULF BOND ... SAYS Gulf money markets have``
    ends at column 86 in a story wrapped at 63).

    >>> _widest([86, 62, 63, 61], True), _widest([86, 62, 63, 61], False), _widest([66, 63], True)
    (63, 86, 66)
    """
    if first_line and len(columns) > 1 and columns[0] > 1.1 * max(columns[1:]):
        return max(columns[1:])
    return max(columns)


_TABLE_GAP = re.compile(r"\S(?: {3,}|\t| {2}(?<![.!?:;\"'’”)] {2}))\S")
_SENTENCE_CLOSE = tuple(".!?")


class _Block:
    """One block of non-blank lines and what its layout says about its line breaks."""

    def __init__(self, text: str, lines: list[_Line]) -> None:
        self.text = text
        self.lines = lines
        self.baseline = min(line.indent for line in lines)
        self.pairs = [(line, following) for line, following in zip(lines, lines[1:])
                      if not self.starts_paragraph(following, line) and not self.is_trailer(line, following)]
        self.verse = False
        self.profile = self._profile()

    def starts_paragraph(self, line: _Line, previous: _Line) -> bool:
        """A list item, an indented line (more than the block's continuation lines, or two more
        than the line before) or a table row starts something of its own."""
        text = self.text
        if _LIST_MARKER.match(text, line.start):
            return True
        if line.indent > self.baseline or line.indent >= previous.indent + 2:
            return True
        return bool(_TABLE_GAP.search(text, line.start, line.end)
                    or _TABLE_GAP.search(text, previous.start, previous.end))

    def _profile(self) -> int | None:
        """The wrap column of this block judged by its own line-length profile: the longest line
        that a line of the same paragraph follows, when the lines are nearly full, few end a
        sentence and not every one starts with a capital. When three or more lines all start with
        a capital the block is verse (or a list of sentences) and has no wrap column."""
        text, pairs = self.text, self.pairs
        if len(pairs) < 2:
            return None
        columns = [line.column for line, _ in pairs]
        # A line that ends in a hyphen can run past the column (the hyphen was added after the
        # word was placed), so it does not set the width.
        setting = [line for line, _ in pairs if text[line.end - 1] != "-"] or [line for line, _ in pairs]
        width = _widest([line.column for line in setting], setting[0] is self.lines[0])
        full = sum(1 for column in columns if column >= 0.6 * width)
        ends = sum(1 for line, _ in pairs if text[line.end - 1] in ".!?:;")
        capitals = sum(1 for _, following in pairs if text[following.start].isupper())
        if capitals == len(pairs) >= 3:
            self.verse = True
            return None
        if (40 <= width <= 200 and full >= 0.8 * len(pairs) and ends <= max(1, len(pairs) // 3)
                and capitals < len(pairs)):
            return width
        return None

    def width(self, document_width: int | None) -> int | None:
        """The column this block was wrapped at: its own profile's; for a block of two lines in a
        wrapped text, the first line's when it reaches 70% of the text's wrap column and does not
        end a sentence; otherwise the text's (None for verse)."""
        if self.verse:
            return None
        if self.profile is not None:
            return self.profile
        if len(self.pairs) == 1 and document_width is not None:
            line = self.pairs[0][0]
            if (max(40.0, 0.7 * document_width) <= line.column <= document_width
                    and self.text[line.end - 1] not in ".!?:;\"'’”"):
                return line.column
        return document_width

    def is_trailer(self, line: _Line, following: _Line) -> bool:
        """A short last line (or one of two) after a sentence end, or in capitals: a sign-off such
        as ``Reuter`` or ``AP``."""
        text = self.text
        if following is not self.lines[-1] and not (len(self.lines) > 2 and following is self.lines[-2]):
            return False
        for tail in self.lines[self.lines.index(following):]:
            words = text[tail.start : tail.end]
            if len(words.split()) > 2 or words.endswith(_SENTENCE_CLOSE):
                return False
        sign_off = text[following.start : following.end]
        return text[line.end - 1] in ".!?\"'’”)>" or (sign_off.isupper() and sign_off.isalpha())


_RULE_START = re.compile(r"([-=_*~#+])\1{3,}")
_RULE_END = re.compile(r"([-=_*~#+])\1{3,}[^\w\s]{0,4}$")


def _is_rule(text: str, line: _Line) -> bool:
    """A line with no letter or digit, or one that starts or ends with a run of four or more of
    one of ``-=_*~#+``: a rule, perhaps titled, which parts what is above it from what is below.

    >>> rule = "-------- Yahoo! Groups Sponsor --------~-->"
    >>> _is_rule(rule, _Line(0, len(rule), len(rule), 0)), _is_rule("a -- b", _Line(0, 6, 6, 0))
    (True, False)
    """
    words = text[line.start : line.end]
    return (not _ALNUM.search(words) or _RULE_START.match(words) is not None
            or _RULE_END.search(words) is not None)


#: Small words a line of names may hold in lower case (``Department of Water and Power``).
_NAME_JOINERS = frozenset({"of", "and", "the", "for", "de", "la", "le", "du", "van", "von", "der", "in", "on",
                           "at", "to", "y", "e", "di", "da", "&"})


def _is_name_line(words: str) -> bool:
    """A line of names and numbers in title case: every word capitalised, a number or a small
    joining word (``1234 Northwest Parkway, Suite 500``, ``Department of Water Resources``).
    Lines in capitals are not (a wire headline wraps over two of them), nor lines ending in a
    comma or a semicolon (a list of names going on: a team's line-up). A block of such lines
    only is an address or a letterhead; prose wraps lines of names too (``…Hoechst Celanese
    Corporation and Trade Mountain Pipe Line`` / ``Company Ltd, of Vancouver, B.C.``), but not
    every line of a paragraph.

    >>> _is_name_line("Springfield Metropolitan Area, Illinois 62704-1234")
    True
    >>> _is_name_line("the Federal Reserve said on Tuesday"), _is_name_line("U.S. SENATE PASSES")
    (False, False)
    """
    tokens = words.split()
    return (len(tokens) >= 2 and any(c.islower() for c in words) and not words.endswith((",", ";"))
            and all(token[0].isupper() or token[0].isdigit() or token in _NAME_JOINERS for token in tokens))


def line_joins(text: str, config: RepairConfig, lexicon: Lexicon) -> list[Edit]:
    blocks = _blocks(text)
    judged = [_Block(text, lines) for lines in blocks if len(lines) >= 2]
    # The text's wrap column; where long unwrapped paragraphs hide it, the widest column its
    # wrapped paragraphs show.
    document_width = _wrap_width(blocks) or max((b.profile for b in judged if b.profile), default=None)
    document_words: Counter[str] | None = None
    edits: list[Edit] = []
    for block in judged:
        # A mail signature (from the ``-- `` line to the end of its block) is laid out line by
        # line: a name, an address, a list footer's ``Group: list@host`` above its link.
        lines = list(itertools.takewhile(lambda line: text[line.start : line.end] != "--", block.lines))
        if all(_is_name_line(text[line.start : line.end]) for line in block.lines):
            continue  # an address or a letterhead: a line each (names, a street, a town)
        width = block.width(document_width)
        for line, following in zip(lines, lines[1:]):
            if _is_rule(text, line) or _is_rule(text, following):
                continue  # ``_____`` above a list footer, ``---- Yahoo! Groups Sponsor ----``
            if text[following.start] == ">":
                continue  # quoted mail (``>text``): joining would leave the marker mid-sentence
            if _LINK_DEFINITION.match(text, following.start) or _LINK_DEFINITION.match(text, line.start):
                continue  # Markdown ``[label]: url`` lines: one per line, or they define nothing
            if text[line.end - 1] == ":" and not _SPACE.search(text, following.start, following.end):
                continue  # ``send an email to:`` above the address, ``Discuss it at:`` above a link
            first_word = re.match(r"\S+", text[following.start : following.start + 100])
            next_word = first_word.group() if first_word else ""
            hyphen = re.search(r"(?<![\s-])-$", text[max(line.start, line.end - 2) : line.end])
            # Would the next word have fitted on this line? Then the break was deliberate.
            needed = line.column + (0 if hyphen else 1) + len(next_word)
            wrapped = width is not None and line.column >= 0.5 * width and (
                needed > width - 1
                # A long line whose sentence goes on in lower case on the next line is a wrap
                # even when the next word would have fitted (widths vary, hyphenation overflows).
                or (line.column >= 0.7 * width and next_word[:1].islower()
                    and text[line.end - 1] not in ":;")
            )
            if block.starts_paragraph(following, line):
                # "- filed in 1999" or "57. Of the" after a wrapped line that stops mid-sentence
                # is the sentence going on, not a list item.
                mid_sentence = text[line.end - 1].islower() or text[line.end - 1] == ","
                if not (wrapped and mid_sentence and not _LIST_MARKER.match(text, line.start)
                        and _LIST_MARKER.match(text, following.start)
                        and not _TABLE_GAP.search(text, line.start, line.end)
                        and not _TABLE_GAP.search(text, following.start, following.end)):
                    continue
            if block.is_trailer(line, following):
                continue
            if hyphen and config.dehyphenate:
                if document_words is None:
                    document_words = _document_words(text)
                edit = _dehyphenate(text, line, following, wrapped, document_words, lexicon)
                if edit is not None:
                    edits.append(edit)
                continue
            if _NO_SPACE_BREAK.search(text, line.start, line.end) and not _EMPHASIS.search(text, line.start, line.end):
                continue
            if wrapped and config.unwrap_lines:
                info = MappingProxyType({"reason": f"hard wrap at about {width} columns"})
                edits.append(Edit(line.end, following.start, " ", "line_unwrapped", info))
    return edits


def _document_words(text: str) -> Counter[str]:
    """Words and hyphenated compounds of the text that are not split across a line break."""
    counts: Counter[str] = Counter()
    for match in _WORD.finditer(text):
        if text[match.end() : match.end() + 1] == "-" and text[match.end() + 1 : match.end() + 2] in "\r\n":
            continue
        counts[match.group().lower()] += 1
    return counts


def _dehyphenate(text: str, line: _Line, following: _Line, wrapped: bool,
                 document_words: Counter[str], lexicon: Lexicon) -> Edit | None:
    hyphen = line.end - 1
    left_match = re.search(r"[A-Za-z0-9]+$", text[max(line.start, hyphen - 60) : hyphen])
    right_match = re.match(r"[A-Za-z0-9]+", text[following.start : following.start + 60])
    if left_match is None or right_match is None:
        return None
    left, right = left_match.group(), right_match.group()
    if not (wrapped or right[0].islower()):
        return None  # not evidently a wrap: leave the line structure alone
    joined, compound = (left + right).lower(), f"{left}-{right}".lower()
    if left[-1].isdigit() or right[0].isdigit():
        keep, reason = True, "numbers keep their hyphen"
    elif right[0].isupper():
        keep, reason = True, "capitalised second part: a compound name"
    elif document_words[compound] > document_words[joined]:
        keep, reason = True, f"the document writes {compound!r} elsewhere"
    elif document_words[joined] > 0:
        keep, reason = False, f"the document writes {joined!r} elsewhere"
    elif joined in lexicon:
        keep, reason = False, f"{joined!r} is a word"
    elif left.lower() in lexicon and right.lower() in lexicon:
        keep, reason = True, f"{left!r} and {right!r} are words and {joined!r} is not"
    else:
        keep, reason = False, "a word split into syllables"
    info = MappingProxyType({"reason": reason})
    if keep:
        return Edit(hyphen + 1, following.start, "", "line_unwrapped", info)
    return Edit(hyphen, following.start, "", "word_dehyphenated", info)


def paragraph_joins(text: str) -> list[Edit]:
    edits: list[Edit] = []
    blocks = _blocks(text)
    for block, following in zip(blocks, blocks[1:]):
        last = block[-1]
        first = following[0]
        tail = text[last.start : last.end]
        if not text[first.start].islower() or not (text[last.end - 1].isalpha() or text[last.end - 1] == ","):
            continue
        head = text[first.start : following[-1].end]
        if text[last.end - 1].isupper() or len(_LETTERS.findall(tail)) < 4 and len(block) == 1:
            continue
        if len(_LETTERS.findall(head)) < 4:
            continue
        if _LIST_MARKER.match(text, last.start) or _LIST_MARKER.match(text, first.start):
            continue
        if not (has_function_word(text[block[0].start : last.end]) and has_function_word(head)):
            continue  # a command or a name shown on a line of its own, within a sentence: a display
        if text[block[0].start] in "#$%>" or text[block[0].start - block[0].indent : block[0].start] != \
                text[first.start - first.indent : first.start]:
            continue  # a command line or a block indented otherwise (code, a quotation): not prose cut in two
        info = MappingProxyType({"reason": "paragraph break inside a sentence"})
        edits.append(Edit(last.end, first.start, " ", "paragraph_rejoined", info))
    return edits
