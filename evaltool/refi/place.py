"""A REFI-QDA source's plain text as evaltool turns, and its selections as document offsets.

The text becomes turns by the transcript grammar (``evaltool.ingest.grammar``: ``Name: text``
lines) when that reads all of it; otherwise (no speaker labels, or text before the first
label) each paragraph (lines up to a blank line) is one turn of the speaker
:data:`NO_SPEAKER`. Speaker labels and timestamps are structure, not text, so evaltool's
document text (turns joined by ``TURN_SEP``) differs from the source's: :class:`Placement`
maps every character of the document text back to the source character it came from, and a
selection to the document characters it covers.

A selection is placed on the document text it covers, whitespace at its ends left off. It
is *not placed* (and reported) when it covers no document text (only a label, blank lines,
front matter). A selection over several turns is placed as one part per turn (a coding
lies in one turn), and one that also covered labels or timestamps is placed on its text;
both are reported as notes.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass, field

from evaltool.domain import PARAGRAPH_SEP, TURN_SEP, ParsedTurn
from evaltool.errors import IngestError
from evaltool.ingest.grammar import iter_lines, match_turn, parse_stream

NO_SPEAKER = "Ukendt"  # the speaker of paragraphs read from a text without speaker labels
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")  # what evaltool refuses in transcripts


def normalise(text: str) -> tuple[str, list[int]]:
    """The text as evaltool stores text (NFC, ``\\n`` line ends) and, for every position of
    ``text`` (its end included), the position it becomes."""
    out: list[str] = []
    where = [0] * (len(text) + 1)
    n = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\r" or ch == "\u2028":
            j = i + 2 if text.startswith("\r\n", i) else i + 1
            piece = "\n"
        else:
            j = i + 1
            while j < len(text) and unicodedata.combining(text[j]):
                j += 1
            piece = unicodedata.normalize("NFC", text[i:j])
        for k in range(i, j):
            where[k] = n
        out.append(piece)
        n += len(piece)
        i = j
    where[len(text)] = n
    return "".join(out), where


def _paragraph_turns(text: str) -> list[tuple[ParsedTurn, int]]:
    """One turn per paragraph (lines up to a blank line), with where each starts."""
    turns = []
    for m in re.finditer(r"\S(?:.|\n(?![ \t]*\n))*", text):
        block = " ".join(line.strip() for line in m.group(0).split("\n") if line.strip())
        turns.append((ParsedTurn(NO_SPEAKER, None, None, (block,), 0), m.start()))
    return turns


def _grammar_turns(name: str, text: str) -> list[tuple[ParsedTurn, int]] | None:
    """The turns the transcript grammar reads, with where each one's text starts; None when
    the text has no speaker labels, has front matter, or has text before the first label."""
    if text.lstrip().startswith("---"):
        return None
    notes: list[str] = []
    try:
        _, stream = parse_stream(name, iter_lines(text), notes=notes)
        turns = list(stream)
    except IngestError:
        return None
    if notes:
        return None
    starts = [0]
    for line in iter_lines(text):
        starts.append(starts[-1] + len(line) + 1)
    known = {t.speaker.casefold() for t in turns}
    out = []
    for t in turns:
        line = text[starts[t.line - 1]:starts[t.line] - 1].rstrip()
        said = match_turn(line, known)
        begin = starts[t.line - 1] + (len(line) - len(said.text) if said and said.text
                                      else len(line))
        out.append((t, begin))
    return out


def _align(text: str, begin: int, limit: int, turn_text: str) -> list[int] | None:
    """The source position of each character of ``turn_text``, read from ``begin`` (None if
    the turn's text is not there: then the grammar read it otherwise than assumed)."""
    out = []
    i = begin
    while i < limit and text[i].isspace():
        i += 1
    for k, ch in enumerate(turn_text):
        if i >= limit:
            return None
        if ch.isspace():
            if not text[i].isspace():
                return None
            out.append(i)
            i += 1
            if k + 1 < len(turn_text) and not turn_text[k + 1].isspace():
                while i < limit and text[i].isspace():
                    i += 1
        elif text[i] == ch:
            out.append(i)
            i += 1
        else:
            return None
    return out


@dataclass(frozen=True)
class Part:
    """Where (part of) a selection lies in the document: ``[start, end)`` of its text, in
    the turn numbered ``turn`` (1-based)."""

    turn: int
    start: int
    end: int


@dataclass
class Placement:
    """A source read as turns, and the map from source positions to document positions."""

    turns: list[ParsedTurn]
    by_grammar: bool
    turn_starts: list[int] = field(default_factory=list)  # document offset of each turn
    _doc: list[int] = field(default_factory=list, repr=False)  # document offsets that map ...
    _src: list[int] = field(default_factory=list, repr=False)  # ... to these source positions
    _where: list[int] = field(default_factory=list, repr=False)  # source → normalised position
    _norm: str = field(default="", repr=False)

    def place(self, start: int, end: int) -> tuple[list[Part], bool]:
        """The parts of the document that the source's ``[start, end)`` covers (empty if it
        covers no document text), and whether text the document lacks was left out."""
        ns, ne = self._where[start], self._where[end]
        lo = bisect.bisect_left(self._src, ns)
        hi = bisect.bisect_left(self._src, ne)
        idx = [k for k in range(lo, hi) if not self._norm[self._src[k]].isspace()]
        if not idx:
            return [], False
        left_out = (sum(1 for c in self._norm[ns:ne] if not c.isspace()) > len(idx))
        parts: list[Part] = []
        for k in idx:
            doc = self._doc[k]
            turn = bisect.bisect_right(self.turn_starts, doc)
            if parts and parts[-1].turn == turn:
                parts[-1] = Part(turn, parts[-1].start, doc + 1)
            else:
                parts.append(Part(turn, doc, doc + 1))
        return parts, left_out


def read_source(name: str, text: str) -> Placement:
    """The turns of a source's plain text and the map of its positions.

    Raises :class:`IngestError` for text evaltool does not store (control characters).
    """
    norm, where = normalise(text)
    bad = _CONTROL.search(norm)
    if bad:
        line = norm.count("\n", 0, bad.start()) + 1
        raise IngestError(name, line, "control character in the text (binary data?)")
    found = _grammar_turns(name, norm)
    for attempt in (found, _paragraph_turns(norm)):
        if attempt is None:
            continue
        placement = Placement([t for t, _ in attempt], attempt is found, _where=where,
                              _norm=norm)
        offset = 0
        for n, (turn, begin) in enumerate(attempt):
            limit = attempt[n + 1][1] if n + 1 < len(attempt) else len(norm)
            positions = _align(norm, begin, limit, turn.text)
            if positions is None:
                break
            if n:
                offset += len(TURN_SEP)
            placement.turn_starts.append(offset)
            placement._doc.extend(range(offset, offset + len(positions)))
            placement._src.extend(positions)
            offset += len(turn.text)
        else:
            return placement
    raise IngestError(name, None, "the text could not be read as turns")  # pragma: no cover


__all__ = ["NO_SPEAKER", "PARAGRAPH_SEP", "Part", "Placement", "normalise", "read_source"]
