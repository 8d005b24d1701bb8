"""Gold codings: reference codings made by a human coder, kept as CSV files.

One file per transcript, named after the transcript's stem
(``corpus/gold/02_morsoe.csv`` for ``02_morsoe.md``), with the header
``turn,code,quote,memo``: the 1-based turn, a code id, a verbatim quote from that
turn (the coding applies to the sentence segments the quote overlaps) and an
optional memo. Used for evaluation, training and the demo database.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaltool import outfile
from evaltool.domain import SegmentView, TurnView
from evaltool.errors import IngestError

HEADER = ["turn", "code", "quote", "memo"]
MAX_GOLD_BYTES = 50_000_000  # a gold or seed file is read whole (README, "Reliability")
MAX_TURN_DIGITS = 9
_CODE_ID = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,99}")


def _read_text(path: Path, what: str) -> str:
    """A regular file's text (UTF-8), refusing FIFOs, devices and oversized files."""
    try:
        if not path.is_file():
            raise IngestError(path, None, f"{what} not found or not a regular file")
        if path.stat().st_size > MAX_GOLD_BYTES:
            raise IngestError(path, None, f"{what} larger than {MAX_GOLD_BYTES:,} bytes")
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise IngestError(path, None, f"cannot read {what} ({exc.__class__.__name__})") from None


@dataclass(frozen=True)
class GoldRow:
    """One gold coding as written in the file."""

    path: str
    line: int
    turn: int
    code: str
    quote: str
    memo: str


def read_file(path: Path, known_codes: set[str] | None = None) -> list[GoldRow]:
    """Read and check one gold CSV."""
    path = Path(path)
    reader = csv.reader(_read_text(path, "gold file").splitlines())
    try:
        header = next(reader, None)
        if header is None or [h.strip() for h in header[:3]] != HEADER[:3]:
            raise IngestError(path, 1, f"header must be {','.join(HEADER)}")
        return [row for line, values in enumerate(reader, start=2)
                if (row := _row(path, line, values, known_codes)) is not None]
    except csv.Error as exc:
        # the message names the problem (e.g. "field larger than field limit"), no cell text
        raise IngestError(path, reader.line_num, f"not a valid CSV row ({exc})") from None


def _row(path: Path, line: int, values: list[str], known_codes: set[str] | None) -> GoldRow | None:
    """One checked gold row (None for a blank line); errors never repeat cell text."""
    if not any(v.strip() for v in values):
        return None
    turn, code, quote, memo = (v.strip() for v in [*values, "", "", "", ""][:4])
    # str.isdigit accepts "²" and other digits int() refuses; only ASCII digits are turns
    if not (turn.isascii() and turn.isdigit()) or len(turn) > MAX_TURN_DIGITS or int(turn) < 1:
        raise IngestError(path, line, f"turn must be a positive whole number of at most "
                                      f"{MAX_TURN_DIGITS} digits")
    if not code:
        raise IngestError(path, line, "code is empty")
    if known_codes is not None and code not in known_codes:
        shown = repr(code) if _CODE_ID.fullmatch(code) else "(not a code id)"
        raise IngestError(path, line, f"unknown code {shown}")
    return GoldRow(str(path), line, int(turn), code, quote, memo)


def read_dir(folder: Path, known_codes: set[str] | None = None) -> dict[str, list[GoldRow]]:
    """Gold rows of every ``*.csv`` in a folder, by transcript stem."""
    folder = Path(folder)
    if not folder.is_dir():
        raise IngestError(folder, None, "gold folder not found")
    return {p.stem: read_file(p, known_codes) for p in sorted(folder.glob("*.csv"))}


def segments_for(row: GoldRow, turn: TurnView, segments: list[SegmentView]) -> list[int]:
    """Ids of the turn's segments that the row's quote overlaps (all if no quote)."""
    own = [s for s in segments if s.turn == turn.number]
    if not row.quote:
        return [s.id for s in own]
    pos = turn.text.find(row.quote)
    if pos < 0:
        raise IngestError(row.path, row.line, f"quote not found in turn {row.turn}")
    start = turn.start_char + pos
    end = start + len(row.quote)
    return [s.id for s in own if s.start_char < end and s.end_char > start]


def resolve(rows: list[GoldRow], turns: list[TurnView], segments: list[SegmentView]
            ) -> list[tuple[int, str, str]]:
    """(segment id, code, memo) for every gold row of one document."""
    by_number = {t.number: t for t in turns}
    out = []
    for row in rows:
        turn = by_number.get(row.turn)
        if turn is None:
            raise IngestError(row.path, row.line, f"turn {row.turn} does not exist "
                                                  f"(the document has {len(turns)})")
        out.extend((seg, row.code, row.memo) for seg in segments_for(row, turn, segments))
    return out


@dataclass(frozen=True)
class GoldDocument:
    """A stored document with its gold codings resolved to segments."""

    document: Any  # DocumentInfo
    turns: list[TurnView]
    segments: list[SegmentView]
    codings: list[tuple[int, str, str]]  # (segment id, code, memo)

    def labels(self) -> dict[int, set[str]]:
        """Segment id → gold codes."""
        out: dict[int, set[str]] = {}
        for seg, code, _ in self.codings:
            out.setdefault(seg, set()).add(code)
        return out


def stored_documents(store, folder: Path, known_codes: set[str],
                     document_ids: set[int] | None = None) -> list[GoldDocument]:
    """The stored documents that have a gold file in ``folder`` (matched by file stem)."""
    rows_by_stem = read_dir(Path(folder), known_codes)
    out = []
    for doc in store.list_documents():
        rows = rows_by_stem.get(Path(doc.name).stem)
        if rows is None or (document_ids is not None and doc.id not in document_ids):
            continue
        turns, segments = store.turns(doc.id), store.segments(doc.id)
        out.append(GoldDocument(doc, turns, segments, resolve(rows, turns, segments)))
    return out


def seed_records(turns: list[TurnView], segments: list[SegmentView],
                 codes: dict[int, set[str]], document: str = "", site: str = "") -> list[dict]:
    """One document's turns as seed training records: source document and site, role,
    moderator flag and each sentence with its gold codes (sentences without codes are
    the negatives). The source lets an evaluation leave a site's own records out."""
    by_turn: dict[int, list[SegmentView]] = {}
    for s in segments:
        by_turn.setdefault(s.turn, []).append(s)
    return [{"document": document, "site": site, "role": t.role or "",
             "moderator": t.is_moderator,
             "sentences": [[s.text, sorted(codes.get(s.id, set()))]
                           for s in by_turn.get(t.number, [])]}
            for t in turns if by_turn.get(t.number)]


def read_seed(path: Path, known_codes: set[str]) -> list[dict]:
    """Read a seed file (JSON lines written by ``evaltool gold seed``), checking codes.

    Records keep their source ``document`` and ``site`` ('' in files written before
    they were recorded)."""
    import json

    records = []
    lines = _read_text(Path(path), "seed file").splitlines()
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            sentences = [(str(text), [str(c) for c in codes]) for text, codes in rec["sentences"]]
        except (ValueError, KeyError, TypeError):
            raise IngestError(path, line_no, "not a seed record (role, moderator, sentences)") from None
        unknown = {c for _, cs in sentences for c in cs} - known_codes
        if unknown:
            raise IngestError(path, line_no, f"unknown code {sorted(unknown)[0]!r}")
        records.append({"document": str(rec.get("document") or ""),
                        "site": str(rec.get("site") or ""),
                        "role": str(rec.get("role") or ""), "moderator": bool(rec.get("moderator")),
                        "sentences": sentences})
    return records


# -- against the store ---------------------------------------------------------


def _active_codes(store) -> set[str]:
    """Code ids of the active codebook."""
    return {c["id"] for c in store.active_codebook()["content"]["codes"]}


def load_gold(store, folder, *, coder: str = "guld", documents: list | None = None) -> int:
    """Store gold codings (CSV files named after transcripts) as accepted codings and
    mark their documents done (a gold file codes the whole transcript).

    Idempotent: a coding that already exists is left as it is.
    """
    wanted = None if documents is None else {store.get_document(d).id for d in documents}
    count = 0
    for item in stored_documents(store, Path(folder), _active_codes(store), wanted):
        existing = {(c.segment_id, c.code_key) for c in store.coding_views(
            status="all", document_id=item.document.id) if c.source == "gold"}
        by_code: dict[tuple[str, str], list[int]] = {}
        for seg, code, memo in item.codings:
            if (seg, code) not in existing:
                by_code.setdefault((code, memo), []).append(seg)
        for (code, memo), segs in by_code.items():
            store.add_coding(segs, code, coder, memo=memo, source="gold")
            count += len(segs)
        # a gold file codes its whole transcript: every turn was seen, uncoded ones included
        store.mark_done(item.document.id, coder)
    return count


def seed_path_for(codebook_file: Path) -> Path:
    """Where a codebook's seed training data lives: ``<name>.seed.jsonl`` beside it."""
    return codebook_file.with_name(codebook_file.stem + ".seed.jsonl")


def write_seed(store, gold_dir: Path, out: Path) -> int:
    """Write the gold-coded documents as seed training data (JSON lines, one turn per
    line); return the number of turns written."""
    import json

    records = []
    for item in stored_documents(store, gold_dir, _active_codes(store)):
        records.extend(seed_records(item.turns, item.segments, item.labels(),
                                    item.document.name, item.document.site or ""))
    with outfile.replacing(out) as tmp, tmp.open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return len(records)
