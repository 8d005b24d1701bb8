"""Importing transcripts: read → segment → store, one transaction per file.

A file that fails (bad input, or any error while segmenting or storing) stores
nothing of itself; the files before and after it are unaffected. Re-importing
the same content (same content hash) is skipped unless ``replace`` is set.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from evaltool.domain import TURN_SEP, BatchSummary, ImportResult, ParsedDocument
from evaltool.errors import EvaltoolError, IngestError
from evaltool.ingest import expand_paths, read_document
from evaltool.resources import word_list
from evaltool.segment import segment_turns
from evaltool.store import DocumentWriter, Store

log = logging.getLogger(__name__)

TURN_BATCH = 256  # turns segmented and written per round trip (bounds memory)

Progress = Callable[[str, int, int], None]  # (file name, turns done, turns total)


def content_hash(doc: ParsedDocument) -> str:
    """SHA-256 of what a transcript says (metadata and turns), not of its bytes,
    so the same transcript in another encoding or format counts as the same."""
    h = hashlib.sha256()
    h.update(json.dumps(doc.metadata, sort_keys=True, ensure_ascii=False, default=str).encode())
    for t in doc.turns:
        h.update(json.dumps([t.speaker, t.role, t.start_time, t.paragraphs],
                            ensure_ascii=False).encode())
    return h.hexdigest()


def is_moderator(name: str, metadata: dict) -> bool:
    """Whether a speaker is the moderator (front matter, else a known title)."""
    declared = metadata.get("moderator")
    if isinstance(declared, str) and declared.strip():
        return name.casefold() == declared.strip().casefold()
    return name.casefold() in word_list("moderator_names")


def _speakers(doc: ParsedDocument) -> list[tuple[str, str | None, bool]]:
    """Distinct speakers in order of appearance, with their first given role."""
    seen: dict[str, str | None] = {}
    for t in doc.turns:
        if t.speaker not in seen or (seen[t.speaker] is None and t.role):
            seen[t.speaker] = seen.get(t.speaker) or t.role
    return [(name, role, is_moderator(name, doc.metadata)) for name, role in seen.items()]


def _batches(items: list, size: int) -> Iterator[tuple[int, list]]:
    for start in range(0, len(items), size):
        yield start, items[start : start + size]


def store_document(writer: DocumentWriter, doc: ParsedDocument, nlp, digest: str,
                   progress: Progress | None = None, *, n_process: int = 1) -> tuple[int, int, int]:
    """Write a parsed document and its segments; return (id, turns, segments)."""
    model = f"{nlp.meta.get('lang', '')}_{nlp.meta.get('name', '')}-{nlp.meta.get('version', '')}"
    doc_id = writer.add_document(name=doc.name, fmt=doc.format, metadata=doc.metadata,
                                 content_hash=digest, model=model)
    speaker_ids = writer.add_speakers(doc_id, _speakers(doc))
    pieces: list[str] = []
    offset = 0
    n_segments = 0
    total = len(doc.turns)
    # One nlp.pipe stream for the whole document (consumed batch by batch): restarting
    # the pipe per batch would re-fork its worker processes when n_process > 1.
    segmented = segment_turns(((i, t.text) for i, t in enumerate(doc.turns)), nlp,
                              n_process=n_process)
    try:
        for start, batch in _batches(doc.turns, TURN_BATCH):
            rows = []
            for i, turn in enumerate(batch, start=start + 1):
                text = turn.text
                if pieces:
                    pieces.append(TURN_SEP)
                    offset += len(TURN_SEP)
                rows.append({
                    "document_id": doc_id, "speaker_id": speaker_ids[turn.speaker], "number": i,
                    "role": turn.role, "start_time": turn.start_time, "start_char": offset,
                    "end_char": offset + len(text), "text": text, "source_line": turn.line,
                })
                pieces.append(text)
                offset += len(text)
            turn_ids = writer.add_turns(rows)
            seg_rows = []
            for idx, row in enumerate(rows):
                _, sentences = next(segmented)
                for k, s in enumerate(sentences):
                    seg_rows.append({
                        "document_id": doc_id, "turn_id": turn_ids[idx],
                        "speaker_id": row["speaker_id"], "sent_index": k,
                        "start_char": row["start_char"] + s.start,
                        "end_char": row["start_char"] + s.end,
                        "text": row["text"][s.start : s.end], "lemmas": " ".join(s.lemmas),
                        "tokens": [list(t) for t in s.tokens],
                    })
            writer.add_segments(seg_rows)
            n_segments += len(seg_rows)
            if progress:
                progress(doc.name, min(start + len(batch), total), total)
    finally:  # stops nlp.pipe's worker processes, also on errors
        segmented.close()
    writer.set_text(doc_id, "".join(pieces))
    return doc_id, total, n_segments


def import_file(path: Path, store: Store, nlp_factory: Callable[[], object], *,
                replace: bool = False, progress: Progress | None = None,
                n_process: int = 1) -> ImportResult:
    """Import one file in its own transaction; never raises for bad input."""
    try:
        doc = read_document(path)
    except IngestError as exc:
        return ImportResult(str(path), "failed", str(exc))
    digest = content_hash(doc)
    try:
        with store.document_writer() as writer:
            same = writer.find_by_hash(digest)
            if same and not replace:
                return ImportResult(str(path), "skipped",
                                    f"{path}: same content already imported as document "
                                    f"{same[0]} (use --replace to import it again)", same[0])
            replaced = sorted(set(same) | (set(writer.find_by_name(doc.name)) if replace else set()))
            for old in replaced:
                writer.delete(old)
            doc_id, n_turns, n_segs = store_document(writer, doc, nlp_factory(), digest, progress,
                                                      n_process=n_process)
    except EvaltoolError as exc:
        return ImportResult(str(path), "failed", f"{path}: {exc}")
    except SQLAlchemyError as exc:  # reported by class only: messages may quote row values
        return ImportResult(str(path), "failed",
                            f"{path}: database error ({exc.__class__.__name__}); nothing stored")
    note = f" (replaced document {', '.join(map(str, replaced))})" if replaced else ""
    log.info("imported %s as document %s: %d turns, %d segments", path.name, doc_id,
             n_turns, n_segs)
    return ImportResult(str(path), "imported", f"{path}: {n_turns} turns, {n_segs} segments{note}",
                        doc_id, n_turns, n_segs)


def import_paths(paths: Iterable[str | Path], store: Store, nlp_factory: Callable[[], object],
                 *, replace: bool = False, progress: Progress | None = None,
                 on_result: Callable[[ImportResult], None] | None = None,
                 n_process: int = 1) -> BatchSummary:
    """Import files and folders; each file is its own transaction.

    ``nlp_factory`` is called only when a file actually needs segmenting, so a
    batch of already-imported files never loads the spaCy model. ``n_process``
    is passed to ``nlp.pipe`` (worker processes per file).
    """
    summary = BatchSummary()
    for path in expand_paths(paths):
        result = import_file(path, store, nlp_factory, replace=replace, progress=progress,
                             n_process=n_process)
        summary.results.append(result)
        if on_result:
            on_result(result)
    return summary
