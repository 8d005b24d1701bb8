"""The transcript grammar shared by text, Markdown and Word files.

    ---                                   optional YAML front matter
    title: ...
    ---
    [00:00:03] Lise (biblioteksleder): Jeg hedder Lise ...   a turn
    og det fortsætter her.                continuation (same paragraph)
                                          blank line: new paragraph
    Lise: ...                             role remembered from before

A turn starts with ``[hh:mm:ss] Name (role): text``; timestamp and role are
optional. A line that does not start a turn continues the previous one.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from evaltool.domain import ParsedTurn
from evaltool.errors import IngestError
from evaltool.ingest.limits import MAX_FRONT_MATTER_CHARS
from evaltool.resources import word_list

_TIME = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"
_NAME = r"(?P<name>[^\s:\[\]()*][^:\[\]()*]{0,59}?)\s*(?:\((?P<role>[^()]{0,80})\))?"
_EMPH = r"(?:\*{1,2}|_{1,2})?"  # Markdown bold/italic around a speaker label
# "[00:01:02] Lise (bibliotekar): text", "00:01:02 Lise: text", "**Lise:** text"
_TURN = re.compile(
    r"^\s*(?:[\[(](?P<ts>" + _TIME + r")[\])]\s*[-–]?\s*|(?P<bare_ts>" + _TIME
    + r")\s+[-–]?\s*)?" + _EMPH + _NAME + r"\s*" + _EMPH + r":" + _EMPH
    + r"(?:\s+|$)(?P<text>.*)$"
)
# A label line with no text, as transcription tools write them: "Taler 1  00:03" or
# "00:00:03 Lise" (what was said follows on the next lines).
_LABEL = re.compile(
    r"^\s*(?:(?P<ts1>" + _TIME + r")\s+)?" + _EMPH + _NAME + _EMPH
    + r"\s*(?:[\[(]?(?P<ts2>" + _TIME + r")[\])]?)?\s*$"
)
_NAME_WORD = re.compile(r"^(?:[^\W\d_][\w'’.\-]*|\d{1,3}|[A-ZÆØÅ]\.)$")
_PARTICLES = frozenset({"af", "de", "la", "van", "von", "der", "den", "du"})
_FRONT = "---"


def parse_timestamp(value: str) -> float:
    """Seconds from ``hh:mm:ss``, ``mm:ss`` or with fractions (``,`` or ``.``)."""
    parts = value.replace(",", ".").split(":")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + float(part)
    return seconds


def looks_like_name(name: str, known: set[str]) -> bool:
    """Whether ``name`` before a colon is a speaker rather than running text."""
    key = name.casefold()
    if key in known:
        return True
    words = name.split()
    if not words or len(words) > 4:
        return False
    if key in word_list("not_speakers"):
        return False
    first = words[0]
    if not (first[0].isupper() or first[0].isdigit()):
        return False
    for word in words:
        if not _NAME_WORD.match(word):
            return False
        if not (word[0].isupper() or word[0].isdigit() or word.casefold() in _PARTICLES):
            return False
    return True


@dataclass
class TurnLine:
    """The parts of a line that starts a turn."""

    name: str
    role: str | None
    time: float | None
    text: str


# Invisible format characters (zero-width space and joiners, direction marks and
# isolates, soft hyphen, a BOM inside the text): left out of speaker labels, so that
# "\u200bÅse:" is Åse; what was said keeps them.
_FORMAT = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064"
                     "\u2066-\u206f\ufeff]")


def match_turn(line: str, known: set[str]) -> TurnLine | None:
    """Parse a line that starts a turn, or return None for a continuation line.

    With a bracketed timestamp any label before the colon is a speaker; otherwise
    the label must look like a name (see :func:`looks_like_name`). Format
    characters in the label are ignored.
    """
    original = line
    if _FORMAT.search(line):
        line = _FORMAT.sub("", line)
    m = _TURN.match(line)
    if m:
        name = " ".join(m.group("name").split())
        ts = m.group("ts") or m.group("bare_ts")
        lenient = bool(m.group("ts")) and 0 < len(name) <= 60
        if looks_like_name(name, known) or lenient:
            said = m.group("text") if line is original else _tail(original, m.start("text"))
            return TurnLine(name, _role(m.group("role")), parse_timestamp(ts) if ts else None,
                            said.strip())
    m = _LABEL.match(line)
    if m and bool(m.group("ts1")) != bool(m.group("ts2")):
        name = " ".join(m.group("name").split())
        if looks_like_name(name, known):
            ts = m.group("ts1") or m.group("ts2")
            return TurnLine(name, _role(m.group("role")), parse_timestamp(ts), "")
    return None


def _tail(line: str, start: int) -> str:
    """What follows the first ``start`` characters of ``line`` that are not format
    characters (what was said, with its own format characters kept)."""
    seen = 0
    for i, ch in enumerate(line):
        if not _FORMAT.match(ch):
            if seen == start:
                return line[i:]
            seen += 1
    return ""


def _role(raw: str | None) -> str | None:
    return " ".join(raw.split()) if raw and raw.strip() else None


class _FrontMatterLoader(yaml.SafeLoader):
    """YAML's safe loader without aliases: front matter never needs them, and
    expanding nested aliases can exhaust memory (the "billion laughs" file)."""

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        """Compose a node, refusing aliases."""
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed",
                                              self.peek_event().start_mark)
        return super().compose_node(parent, index)


def _plain(value: Any) -> Any:
    """Front-matter values as JSON-friendly data (dates become ISO strings; binary,
    sets, NaN and infinity, which JSON columns refuse, become text or lists)."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [_plain(v) for v in items]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


# A quoted part of a YAML message is input (a tag, an alias, a character) unless it is
# a token name such as '<scalar>' or one punctuation character: only those are kept.
_QUOTED = re.compile(r"""\s*('(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*")""")
_TOKEN = re.compile(r"""^['"](?:<[a-z ]+>|[^\w\s]|\\t)['"]$""")
# Characters no database column or spreadsheet cell takes safely: C0 controls other
# than tab and line ends (PostgreSQL refuses NUL), DEL, and lone surrogates (YAML's
# "\udc80" escape makes one; UTF-8 cannot encode it).
_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _front_matter_too_large(path: str, line: int) -> IngestError:
    return IngestError(path, line, f"front matter is larger than "
                                   f"{MAX_FRONT_MATTER_CHARS // (1 << 20)} MB of text")


def _without_input(problem: str) -> str:
    """A YAML error message with the input it quotes left out."""
    return _QUOTED.sub(lambda m: m.group(0) if _TOKEN.match(m.group(1)) else "", problem).strip()


def _has_unstorable(value: Any) -> bool:
    """Whether any key or string in plain front-matter data has an unstorable character."""
    if isinstance(value, str):
        return bool(_UNSTORABLE.search(value))
    if isinstance(value, dict):
        return any(_has_unstorable(k) or _has_unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_unstorable(v) for v in value)
    return False


def parse_metadata(path: str, text: str, first_line: int) -> dict[str, Any]:
    """Parse YAML front matter; errors name the file line where YAML failed."""
    if len(text) > MAX_FRONT_MATTER_CHARS:
        raise _front_matter_too_large(path, first_line)
    try:
        data = yaml.load(text, Loader=_FrontMatterLoader) if text.strip() else {}
    except ValueError:  # a value YAML recognises but cannot build, e.g. 2016-02-30
        raise IngestError(path, first_line, "invalid value in front matter "
                                            "(e.g. a date that does not exist)") from None
    except RecursionError:
        raise IngestError(path, first_line, "front matter is nested too deeply") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.context_mark or exc.problem_mark
        line = first_line + mark.line if mark else first_line
        problem = _without_input(exc.problem or "") or "invalid YAML"
        raise IngestError(path, line, f"invalid YAML in front matter: {problem}") from None
    except yaml.YAMLError:
        raise IngestError(path, first_line, "invalid YAML in front matter") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise IngestError(path, first_line, "front matter must be 'key: value' lines")
    meta = _plain(data)
    if _has_unstorable(meta):
        raise IngestError(path, first_line, "front matter has a control character or an "
                                            "unpaired surrogate (an escape such as \\x00 "
                                            "or \\udc80 in quotes)")
    groups = meta.get("target_groups")
    if isinstance(groups, str):
        meta["target_groups"] = [g.strip() for g in groups.split(",") if g.strip()]
    return meta


def iter_lines(text: str) -> Iterator[str]:
    """The lines of ``text`` one at a time (like ``text.split("\n")``, without the list)."""
    start = 0
    while True:
        end = text.find("\n", start)
        if end < 0:
            yield text[start:]
            return
        yield text[start:end]
        start = end + 1


def split_front_matter(
    path: str, lines: Iterable[tuple[int, str]]
) -> tuple[dict[str, Any], Iterator[tuple[int, str]]]:
    """Separate optional front matter from the body lines (read lazily: a large
    transcript is never held as a list of lines)."""
    lines = iter(lines)
    leading: list[tuple[int, str]] = []
    for item in lines:
        if item[1].strip():
            break
        leading.append(item)
    else:
        return {}, iter(leading)
    if item[1].strip() != _FRONT:
        return {}, itertools.chain(leading, [item], lines)
    start_no = item[0]
    block: list[str] = []
    size = 0
    for _, text in lines:
        if text.strip() in (_FRONT, "..."):
            return parse_metadata(path, "\n".join(block), start_no + 1), lines
        block.append(text)
        size += len(text) + 1
        if size > MAX_FRONT_MATTER_CHARS:
            raise _front_matter_too_large(path, start_no)
    raise IngestError(path, start_no, "front matter starts with '---' but is never closed")


@dataclass
class TurnBuilder:
    """Collects lines into turns, remembering each speaker's role."""

    path: str
    known: set[str] = field(default_factory=set)
    roles: dict[str, str] = field(default_factory=dict)
    _current: TurnLine | None = None
    _line: int = 0
    _paras: list[list[str]] = field(default_factory=list)

    def start(self, turn: TurnLine, line_no: int) -> ParsedTurn | None:
        """Close the open turn (returned, if it has text) and open a new one."""
        done = self.flush()
        key = turn.name.casefold()
        if turn.role:
            self.roles[key] = turn.role
        else:
            turn.role = self.roles.get(key)
        self.known.add(key)
        self._current, self._line = turn, line_no
        self._paras = [[turn.text]] if turn.text else [[]]
        return done

    def add_line(self, text: str) -> None:
        """Add a continuation line to the open turn's current paragraph."""
        if self._current is None:
            return
        if self._paras and self._paras[-1] and not text.strip():
            self._paras.append([])
        elif text.strip():
            self._paras[-1].append(text.strip())

    def flush(self) -> ParsedTurn | None:
        """Finish the open turn; return it (None when none is open or it has no text)."""
        if self._current is None:
            return None
        paragraphs = tuple(" ".join(p) for p in self._paras if p)
        t = self._current
        self._current = None
        self._paras = []
        return ParsedTurn(t.name, t.role, t.time, paragraphs, self._line) if paragraphs else None


def parse_stream(path: str, lines: Iterable[str], moderator: str | None = None,
                 notes: list[str] | None = None) -> tuple[dict[str, Any], Iterator[ParsedTurn]]:
    """Parse transcript lines lazily: the front matter now, the turns as they are iterated.

    Only the lines up to the end of the front matter are read before this
    returns; the turns come one at a time, and the iterator raises
    :class:`IngestError` at its end when there were none. Text that is not
    imported (before the first speaker) is reported in ``notes`` by line.
    """
    numbered = ((i, line.rstrip()) for i, line in enumerate(lines, start=1))
    meta, body = split_front_matter(path, numbered)
    builder = TurnBuilder(path)
    for name in _speaker_names(meta, moderator):
        builder.known.add(name.casefold())
    return meta, _turns(path, body, builder, [] if notes is None else notes)


def unattributed_note(where: str, n: int, one: str, many: str) -> str:
    """The note for ``n`` lines or cues before the first speaker, which are not imported."""
    things = f"1 {one} before the first speaker was" if n == 1 else \
        f"{n} {many} before the first speaker were"
    return f"{where}: {things} not imported (no 'Name:' label)"


def _turns(path: str, body: Iterator[tuple[int, str]], builder: TurnBuilder,
           notes: list[str]) -> Iterator[ParsedTurn]:
    """The turns of the numbered body lines, one at a time."""
    first_text_line: int | None = None
    first_body_line: int | None = None
    unattributed = 0  # lines of text before the first speaker
    found = False
    for line_no, text in body:
        if first_body_line is None:
            first_body_line = line_no
        turn = match_turn(text, builder.known)
        if turn is not None:
            if unattributed:
                notes.append(unattributed_note(f"line {first_text_line}", unattributed,
                                               "line of text", "lines of text"))
                unattributed = 0
            done = builder.start(turn, line_no)
            if done is not None:
                found = True
                yield done
        elif builder._current is None and text.strip():
            first_text_line = first_text_line or line_no
            unattributed += 1
        else:
            builder.add_line(text)
    done = builder.flush()
    if done is not None:
        found = True
        yield done
    if not found:
        line = first_text_line or first_body_line
        raise IngestError(path, line, "no speaker turns found (expected 'Name: text' lines)")


def parse_lines(path: str, lines: Iterable[str], moderator: str | None = None,
                notes: list[str] | None = None) -> tuple[dict[str, Any], list[ParsedTurn]]:
    """Parse numbered transcript lines into (metadata, turns)."""
    meta, turns = parse_stream(path, lines, moderator, notes)
    return meta, list(turns)


def _speaker_names(meta: dict[str, Any], moderator: str | None) -> list[str]:
    """Speaker names declared in the front matter (moderator, speakers)."""
    names = [moderator] if moderator else []
    if isinstance(meta.get("moderator"), str):
        names.append(meta["moderator"])
    speakers = meta.get("speakers")
    if isinstance(speakers, list):
        names.extend(str(s) for s in speakers if isinstance(s, str | int))
    elif isinstance(speakers, dict):
        names.extend(str(k) for k in speakers)
    return names
