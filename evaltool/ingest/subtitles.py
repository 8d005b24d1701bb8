"""Subtitle transcripts from transcription tools (``.vtt`` WebVTT, ``.srt`` SubRip).

The speaker comes from a WebVTT voice tag (``<v Lise (bibliotekar)>``) or a
``Name:`` prefix; a cue without either continues the previous speaker.
Consecutive cues of one speaker merge into one turn, timestamped by its first
cue. Metadata: a WebVTT file's first ``NOTE`` block may hold ``key: value``
lines; either format may have a sidecar ``<name>.yaml`` beside it.
"""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass
from pathlib import Path

import srt
import webvtt

from evaltool.domain import ParsedDocument, ParsedTurn
from evaltool.errors import IngestError
from evaltool.ingest.decode import read_text
from evaltool.ingest.grammar import (
    TurnLine,
    match_turn,
    parse_metadata,
    parse_timestamp,
    unattributed_note,
)

_TAG = re.compile(r"<[^>]+>")
_TIMING = webvtt.vtt.WebVTTCueBlock.CUE_TIMINGS_PATTERN  # what webvtt-py takes as a cue
_NOT_CUES = ("NOTE", "STYLE", "REGION")  # blocks that are not cues (text after a space)
MAX_SECONDS = 1000 * 3600  # a cue time beyond this is a broken file, not a recording
MAX_CUE_NUMBER = 10**9
_VOICE = re.compile(r"^\s*(?P<name>[^()]+?)\s*(?:\((?P<role>[^()]*)\))?\s*$")


@dataclass
class Cue:
    """One subtitle cue: start time, optional voice, text lines."""

    start: float
    voice: str | None
    text: str
    line: int  # the cue's number (stored as the turn's source line)
    at: str  # where it is, for messages: "line 12" (WebVTT) or "cue 7" (SubRip)


def _vtt_blocks(path: Path, text: str) -> list[int]:
    """The first line of each cue block, checked so that no text is lost.

    webvtt-py passes over a block whose timing line it cannot read, and over text
    outside any cue; here such a block fails the file with its line number. Blocks
    are split as webvtt-py splits them: at an empty line, or at a '-->' line that
    cannot be the timing line of the block so far.
    """
    blocks: list[tuple[int, list[str]]] = []
    block: list[str] = []
    start = 1
    for no, line in enumerate(text.split("\n"), start=1):
        new = bool(block) and "-->" in line and (not blocks or len(block) > 1
                                                 or "-->" in block[0])
        if (not line or new) and block:
            blocks.append((start, block))
            block = []
        if line:
            if not block:
                start = no
            block.append(line)
    if block:
        blocks.append((start, block))
    cues: list[int] = []
    for start, lines in blocks[1:]:  # the first block is the WEBVTT header
        if not any(line.strip() for line in lines):
            continue
        first_word = (lines[0].split(maxsplit=1) or [""])[0]
        if first_word in _NOT_CUES and "-->" not in lines[0]:
            continue
        arrow = next((i for i, line in enumerate(lines[:2]) if "-->" in line), None)
        if arrow is None:
            raise IngestError(path, start, "text outside any cue (a block without a "
                                           "'00:00:01.000 --> 00:00:02.000' line)")
        if not _TIMING.match(lines[arrow]):
            raise IngestError(path, start + arrow, "malformed cue timing (expected "
                                                   "'00:00:01.000 --> 00:00:02.000')")
        cues.append(start)
    return cues


def _vtt_cues(path: Path, text: str) -> tuple[list[Cue], dict]:
    """Cues and NOTE-block metadata of a WebVTT file."""
    if not text.lstrip().startswith("WEBVTT"):
        raise IngestError(path, 1, "not a WebVTT file (first line must be 'WEBVTT')")
    starts = _vtt_blocks(path, text)
    try:
        vtt = webvtt.from_buffer(io.StringIO(text))
    except webvtt.errors.MalformedFileError:
        raise IngestError(path, None, "malformed WebVTT") from None
    except (webvtt.errors.MalformedCaptionError, ValueError, OverflowError):
        raise IngestError(path, None, "malformed cue timing (expected "
                                      "'00:00:01.000 --> 00:00:02.000')") from None
    if len(starts) != len(vtt.captions):  # a cue webvtt-py read differently: refuse, lose nothing
        raise IngestError(path, None, "malformed WebVTT (cues could not be read one by one)")
    meta: dict = {}
    for comment in vtt.header_comments:
        try:  # a NOTE that is not 'key: value' YAML is just a comment
            meta = parse_metadata(str(path), comment, 1)
        except IngestError:
            continue
        if meta:
            break
    cues = [
        Cue(_seconds(path, f"line {at}", parse_timestamp(c.start)), c.voice,
            html.unescape(" ".join(_TAG.sub("", line).strip() for line in c.lines)), i,
            f"line {at}")
        for i, (c, at) in enumerate(zip(vtt.captions, starts, strict=True), start=1)
    ]
    return cues, meta


def _seconds(path: Path, at: str, seconds: float) -> float:
    """A cue's start time, checked to be a time a recording can have."""
    if not 0 <= seconds <= MAX_SECONDS:
        raise IngestError(path, None, f"cue time out of range at {at} "
                                      f"(more than {MAX_SECONDS // 3600} hours)")
    return seconds


def _srt_cues(path: Path, text: str) -> list[Cue]:
    """Cues of a SubRip file."""
    try:
        subs = list(srt.parse(text))
    except srt.SRTParseError as exc:
        line = text.count("\n", 0, getattr(exc, "expected_start", 0)) + 1
        raise IngestError(path, line, "malformed SubRip: expected a cue number, then a "
                          "'00:00:01,000 --> 00:00:02,000' line, then text") from None
    except (OverflowError, ValueError):  # e.g. an hour of 20 digits: timedelta refuses it
        raise IngestError(path, None, f"cue time out of range "
                                      f"(more than {MAX_SECONDS // 3600} hours)") from None
    cues = []
    for i, s in enumerate(subs, start=1):
        if s.index is not None and not 0 <= s.index <= MAX_CUE_NUMBER:
            raise IngestError(path, None, f"cue number out of range in cue {i} "
                                          f"(more than {MAX_CUE_NUMBER:,})")
        cues.append(Cue(_seconds(path, f"cue {i}", s.start.total_seconds()), None,
                        " ".join(_TAG.sub("", line).strip() for line in s.content.split("\n")),
                        s.index, f"cue {i}"))
    return cues


def _sidecar(path: Path) -> dict:
    """Metadata from ``<stem>.yaml``/``.yml`` beside a subtitle file, if present."""
    for ext in (".yaml", ".yml"):
        side = path.with_suffix(ext)
        if side.is_file():
            return parse_metadata(str(side), read_text(side), 1)
    return {}


def _turns(path: Path, cues: list[Cue], known: set[str], notes: list[str]) -> list[ParsedTurn]:
    """Merge cues into turns by speaker, remembering roles; cues with text before the
    first speaker are reported in ``notes``."""
    skipped: list[Cue] = []  # cues with text before the first speaker
    roles: dict[str, str] = {}
    turns: list[ParsedTurn] = []
    current: TurnLine | None = None
    parts: list[str] = []
    line = 0

    def close() -> None:
        if current is not None and parts:
            turns.append(ParsedTurn(current.name, current.role, current.time,
                                    (" ".join(parts),), line))

    for cue in cues:
        speaker: TurnLine | None = None
        if cue.voice:
            m = _VOICE.match(cue.voice)
            if m:
                role = (m.group("role") or "").strip() or None
                speaker = TurnLine(" ".join(m.group("name").split()), role, cue.start, cue.text)
        else:
            speaker = match_turn(cue.text, known)
            if speaker is not None:
                speaker.time = cue.start
        if speaker is None:
            if current is not None and cue.text.strip():
                parts.append(cue.text.strip())
            elif cue.text.strip():
                skipped.append(cue)
            continue
        key = speaker.name.casefold()
        if speaker.role:
            roles[key] = speaker.role
        speaker.role = roles.get(key)
        known.add(key)
        if current is not None and current.name.casefold() == key:
            if speaker.text.strip():
                parts.append(speaker.text.strip())
            continue
        close()
        current, parts, line = speaker, [speaker.text.strip()] if speaker.text.strip() else [], cue.line
    close()
    if skipped and turns:
        notes.append(unattributed_note(skipped[0].at, len(skipped), "cue", "cues"))
    return turns


def read(path: Path) -> ParsedDocument:
    """Read a WebVTT or SubRip transcript."""
    text = read_text(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt == "vtt":
        cues, meta = _vtt_cues(path, text)
    else:
        cues, meta = _srt_cues(path, text), {}
    meta = {**_sidecar(path), **meta}
    known = {str(meta["moderator"]).casefold()} if isinstance(meta.get("moderator"), str) else set()
    notes: list[str] = []
    turns = _turns(path, cues, known, notes)
    if not turns:
        raise IngestError(path, None, "no speaker turns found (no cues with a voice tag or 'Name:')")
    return ParsedDocument(name=path.name, format=fmt, metadata=meta, turns=turns, notes=notes)
