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
from evaltool.ingest.grammar import TurnLine, match_turn, parse_metadata, parse_timestamp

_TAG = re.compile(r"<[^>]+>")
_VOICE = re.compile(r"^\s*(?P<name>[^()]+?)\s*(?:\((?P<role>[^()]*)\))?\s*$")


@dataclass
class Cue:
    """One subtitle cue: start time, optional voice, text lines."""

    start: float
    voice: str | None
    text: str
    line: int


def _vtt_cues(path: Path, text: str) -> tuple[list[Cue], dict]:
    """Cues and NOTE-block metadata of a WebVTT file."""
    if not text.lstrip().startswith("WEBVTT"):
        raise IngestError(path, 1, "not a WebVTT file (first line must be 'WEBVTT')")
    try:
        vtt = webvtt.from_buffer(io.StringIO(text))
    except webvtt.errors.MalformedFileError as exc:
        raise IngestError(path, None, f"malformed WebVTT ({exc})") from None
    meta: dict = {}
    for comment in vtt.header_comments:
        try:  # a NOTE that is not 'key: value' YAML is just a comment
            meta = parse_metadata(str(path), comment, 1)
        except IngestError:
            continue
        if meta:
            break
    cues = [
        Cue(parse_timestamp(c.start), c.voice,
            html.unescape(" ".join(_TAG.sub("", line).strip() for line in c.lines)), i)
        for i, c in enumerate(vtt.captions, start=1)
    ]
    return cues, meta


def _srt_cues(path: Path, text: str) -> list[Cue]:
    """Cues of a SubRip file."""
    try:
        subs = list(srt.parse(text))
    except srt.SRTParseError as exc:
        line = text.count("\n", 0, getattr(exc, "expected_start", 0)) + 1
        raise IngestError(path, line, "malformed SubRip: expected a cue number, then a "
                          "'00:00:01,000 --> 00:00:02,000' line, then text") from None
    return [
        Cue(s.start.total_seconds(), None,
            " ".join(_TAG.sub("", line).strip() for line in s.content.split("\n")), s.index)
        for s in subs
    ]


def _sidecar(path: Path) -> dict:
    """Metadata from ``<stem>.yaml``/``.yml`` beside a subtitle file, if present."""
    for ext in (".yaml", ".yml"):
        side = path.with_suffix(ext)
        if side.is_file():
            return parse_metadata(str(side), read_text(side), 1)
    return {}


def _turns(path: Path, cues: list[Cue], known: set[str]) -> list[ParsedTurn]:
    """Merge cues into turns by speaker, remembering roles."""
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
    turns = _turns(path, cues, known)
    if not turns:
        raise IngestError(path, None, "no speaker turns found (no cues with a voice tag or 'Name:')")
    return ParsedDocument(name=path.name, format=fmt, metadata=meta, turns=turns)
