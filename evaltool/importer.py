"""Importing transcripts: read → segment → store; each file appears whole or not at all.

A file that fails (bad input, or any error while segmenting or storing) stores
nothing visible of itself; the files before and after it are unaffected.
Re-importing the same content (same content hash) is skipped unless ``replace``
is set.

No write lock is held while a file is segmented, so other writers (a coder
deciding in the app) wait at most for one short batch. The document is staged:
written in short transactions as ``importing`` (invisible to every reader), then
flipped to ``ready`` in one last short transaction. A failed import removes its
staged rows; a killed one leaves them invisible until the next import removes
them (:func:`discard_dead_imports`).

Memory stays flat however large the file: its turns are streamed twice from
disk. Pass 1 (:func:`survey`) checks the whole file, so a bad line anywhere
fails the file before anything is written, and computes the content hash, the
speakers and the turn count. Pass 2 (:func:`store_document`) segments and writes
``TURN_BATCH`` turns per transaction and checks that it read the same content.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import socket
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from evaltool.domain import (
    TURN_SEP,
    BatchSummary,
    DocumentStream,
    ImportResult,
    ParsedDocument,
    ParsedTurn,
)
from evaltool.errors import DecisionsWouldBeLostError, EvaltoolError, IngestError
from evaltool.ingest import expand_paths, open_document
from evaltool.resources import word_list
from evaltool.segment import SegmentPool, segment_turns
from evaltool.store import Store
from evaltool.texttable import counted

log = logging.getLogger(__name__)

TURN_BATCH = 256  # turns segmented and written per short write transaction (bounds memory)
BATCH_CHARS = 1_000_000  # ... and at most about this much text (a file of very long turns)

Progress = Callable[[str, int, int], None]  # (file name, turns done, turns total)


class _Hasher:
    """The content hash, fed one turn at a time (see :func:`content_hash`)."""

    def __init__(self, metadata: dict[str, Any]) -> None:
        self._h = hashlib.sha256()
        self._h.update(json.dumps(metadata, sort_keys=True, ensure_ascii=False, default=str).encode())

    def add(self, t: ParsedTurn) -> None:
        """Hash the next turn."""
        self._h.update(json.dumps([t.speaker, t.role, t.start_time, t.paragraphs],
                                  ensure_ascii=False).encode())

    def hexdigest(self) -> str:
        """The hash so far."""
        return self._h.hexdigest()


def content_hash(doc: ParsedDocument | DocumentStream) -> str:
    """SHA-256 of what a transcript says (metadata and turns), not of its bytes,
    so the same transcript in another encoding or format counts as the same."""
    h = _Hasher(doc.metadata)
    for t in (doc.turns() if isinstance(doc, DocumentStream) else doc.turns):
        h.add(t)
    return h.hexdigest()


def is_moderator(name: str, metadata: dict) -> bool:
    """Whether a speaker is the moderator (front matter, else a known title)."""
    declared = metadata.get("moderator")
    if isinstance(declared, str) and declared.strip():
        return name.casefold() == declared.strip().casefold()
    return name.casefold() in word_list("moderator_names")


@dataclass(frozen=True)
class Survey:
    """What the first pass over a document found."""

    digest: str  # content hash
    speakers: list[tuple[str, str | None, bool]]  # (name, first given role, is moderator)
    turns: int


def survey(doc: DocumentStream) -> Survey:
    """Read every turn once: check the file, hash it, collect speakers, count turns."""
    h = _Hasher(doc.metadata)
    seen: dict[str, str | None] = {}  # speakers in order of first appearance
    n = 0
    for t in doc.turns():
        h.add(t)
        if t.speaker not in seen or (seen[t.speaker] is None and t.role):
            seen[t.speaker] = seen.get(t.speaker) or t.role
        n += 1
    speakers = [(name, role, is_moderator(name, doc.metadata)) for name, role in seen.items()]
    return Survey(h.hexdigest(), speakers, n)


def _segment(numbered: Iterator[tuple[int, ParsedTurn]], nlp, n_process: int,
             pool: SegmentPool | None = None):
    """The importer's one call of the segmenter: ``((number, turn), sentences)`` per turn.

    Keys pass through, so the turns are read once, as the segmenter pulls them (a few
    chunks ahead). With a ``pool`` its worker processes (shared by a batch of files)
    do the work; else one ``segment_turns`` stream for the whole document.
    """
    items = (((n, t), t.text) for n, t in numbered)
    if pool is not None:
        return pool.segment_turns(items)
    return segment_turns(items, nlp, n_process=n_process)


def _next_batch(segmented: Iterator) -> list:
    """The next ``TURN_BATCH`` segmented turns, fewer once they hold ``BATCH_CHARS`` of
    text: one write transaction stays short however long the turns are."""
    batch, chars = [], 0
    for item in segmented:
        batch.append(item)
        chars += sum(len(p) for p in item[0][1].paragraphs)
        if len(batch) >= TURN_BATCH or chars >= BATCH_CHARS:
            break
    return batch


def _changed(path: str, detail: str) -> IngestError:
    return IngestError(path, None, f"the file changed while it was being imported ({detail}); "
                                   "nothing stored")


def _model_name(nlp) -> str:
    return f"{nlp.meta.get('lang', '')}_{nlp.meta.get('name', '')}-{nlp.meta.get('version', '')}"


def store_document(store: Store, doc_id: int, speaker_ids: dict[str, int],
                   doc: ParsedDocument | DocumentStream, nlp,
                   progress: Progress | None = None, *, n_process: int = 1,
                   surveyed: Survey | None = None, path: str | None = None,
                   pool: SegmentPool | None = None) -> tuple[int, int]:
    """Segment a staged document's turns and write them; return (turns, segments).

    Segmenting happens outside any transaction; each ``TURN_BATCH`` turns are then
    written in one short write transaction, so other writers wait for one batch at
    most. ``surveyed`` is the first pass's result (made here when not given); the
    turns are read again and must match it, else :class:`IngestError` (the caller
    then discards the staged document).
    """
    stream = doc if isinstance(doc, DocumentStream) else DocumentStream.of(doc)
    surveyed = surveyed or survey(stream)
    where = path or stream.name
    total = surveyed.turns
    check = _Hasher(stream.metadata)
    offset = 0  # where the next turn starts in the document's text
    done = 0
    n_segments = 0
    turns = stream.turns()
    segmented = _segment(enumerate(turns, start=1), nlp, n_process, pool)
    try:
        while True:
            try:  # the slow part, holding no lock
                batch = _next_batch(segmented)
            except IngestError as exc:
                detail = f"line {exc.line}: {exc.message}" if exc.line else exc.message
                raise _changed(where, detail) from None
            if not batch:
                break
            rows = []
            for (number, turn), _ in batch:
                check.add(turn)
                if turn.speaker not in speaker_ids:
                    raise _changed(where, "a new speaker")
                if number > 1:
                    offset += len(TURN_SEP)
                text = turn.text
                rows.append({
                    "document_id": doc_id, "speaker_id": speaker_ids[turn.speaker],
                    "number": number, "role": turn.role, "start_time": turn.start_time,
                    "start_char": offset, "end_char": offset + len(text), "text": text,
                    "source_line": turn.line,
                })
                offset += len(text)
            with store.document_writer() as writer:  # one short transaction per batch
                writer.touch(doc_id)
                writer.add_turns_with_sentences(rows, [sentences for _, sentences in batch])
            n_segments += sum(len(sentences) for _, sentences in batch)
            done += len(batch)
            if progress:
                progress(stream.name, min(done, total), total)
    finally:  # stops nlp.pipe's worker processes, also on errors
        segmented.close()
        if hasattr(turns, "close"):  # a file being read
            turns.close()
    if done != total or check.hexdigest() != surveyed.digest:
        raise _changed(where, "its turns differ from the first reading")
    return total, n_segments


# -- staging: which process writes a staged document, and is it still alive? ----------

STALE_AFTER = dt.timedelta(minutes=15)  # an import on another host writes far more often


def _start_time(pid: int) -> str:
    """When a process started (clock ticks since boot, Linux), '' where unknown: with the
    pid it names one process even after the pid is reused."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]  # field 22; the name in (...) may hold spaces


def import_owner() -> str:
    """This process as a staged document's owner: "host pid start"."""
    return f"{socket.gethostname()[:120]} {os.getpid()} {_start_time(os.getpid())}".strip()


def _owner_alive(owner: str | None, last_write: dt.datetime) -> bool:
    """Whether the import that staged a document may still be running."""
    host, _, rest = (owner or "").partition(" ")
    pid_s, _, start = rest.partition(" ")
    if host != socket.gethostname()[:120] or not pid_s.isdigit() or os.name != "posix":
        # another machine's process (or Windows, where os.kill(pid, 0) would end the
        # process): alive while it keeps writing
        return dt.datetime.now(dt.UTC) - last_write < STALE_AFTER
    pid = int(pid_s)
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc: the pid exists, take it for the owner
    if stat.rsplit(")", 1)[1].split()[0] == "Z":  # killed, not yet reaped
        return False
    return not start or _start_time(pid) == start


def discard_dead_imports(store: Store) -> list[int]:
    """Remove the staged rows of imports that died (killed, crashed); return their ids."""
    gone = []
    for doc_id, owner, last_write in store.staged_documents():
        if not _owner_alive(owner, last_write) and store.discard_staged(doc_id):
            log.info("removed the rows of an unfinished import (document %s)", doc_id)
            gone.append(doc_id)
    return gone


def _discard(store: Store, doc_id: int) -> None:
    """Remove a failed import's staged rows; if even that fails, the next import will."""
    try:
        store.discard_staged(doc_id)
    except SQLAlchemyError as exc:
        log.warning("could not remove the rows of failed import %s yet (%s); the next import "
                    "removes them", doc_id, exc.__class__.__name__)


def import_file(path: Path, store: Store, nlp_factory: Callable[[], object], *,
                replace: bool = False, progress: Progress | None = None,
                n_process: int = 1,
                pool_for: Callable[[object], SegmentPool] | None = None,
                discard_decisions: bool = False) -> ImportResult:
    """Import one file; it appears whole or not at all; never raises for bad input.

    The file is staged (written in short transactions, invisible to readers) and
    published in one last short transaction, which also checks again that no other
    import published the same content meanwhile and, with ``replace``, deletes the
    documents it replaces. ``pool_for(nlp)`` gives the worker pool to segment with
    (see :func:`import_paths`).
    This is the batch's error boundary: an unexpected error (a bug, or a fault no
    check foresaw) fails this file alone, reported by its class name only (its
    message may quote transcript text), and its staged rows are removed.
    """
    try:
        return _import_file(path, store, nlp_factory, replace=replace, progress=progress,
                            n_process=n_process, pool_for=pool_for,
                            discard_decisions=discard_decisions)
    except Exception as exc:  # the per-file boundary, see the docstring
        name = exc.__class__.__name__
        log.error("unexpected %s importing %s; nothing stored\n%s", name, path.name,
                  "".join(traceback.format_tb(exc.__traceback__)))  # frames only, no message
        return ImportResult(str(path), "failed", f"{path}: unexpected error ({name}); nothing stored")


def _import_file(path: Path, store: Store, nlp_factory: Callable[[], object], *,
                 replace: bool, progress: Progress | None, n_process: int,
                 pool_for: Callable[[object], SegmentPool] | None,
                 discard_decisions: bool = False) -> ImportResult:
    """:func:`import_file` without its boundary for unexpected errors."""
    try:
        doc = open_document(path)
        surveyed = survey(doc)  # any bad line fails the file here, before anything is written
    except IngestError as exc:
        return ImportResult(str(path), "failed", str(exc))
    digest = surveyed.digest
    doc_id: int | None = None
    try:
        discard_dead_imports(store)
        with store.document_writer() as writer:  # short: check, then stage the document row
            writer.lock_documents()
            same = writer.find_by_hash(digest)
            if same and not replace:
                return _skipped(path, same[0])
            busy = writer.importing(digest)
            if busy:
                return ImportResult(str(path), "failed",
                                    f"{path}: the same content is being imported by another "
                                    "process right now; nothing stored")
            doc_id = writer.add_document(name=doc.name, fmt=doc.format, metadata=doc.metadata,
                                         content_hash=digest, model="", owner=import_owner())
            speaker_ids = writer.add_speakers(doc_id, surveyed.speakers)
        try:
            nlp = nlp_factory()
            n_turns, n_segs = store_document(
                store, doc_id, speaker_ids, doc, nlp, progress, n_process=n_process,
                surveyed=surveyed, path=str(path), pool=pool_for(nlp) if pool_for else None)
            with store.document_writer() as writer:  # short: the document appears
                writer.lock_documents()
                same = writer.find_by_hash(digest)
                if same and not replace:  # another import of this content won the race
                    published = False
                else:
                    replaced = sorted(set(same) | (set(writer.find_by_name(doc.name))
                                                   if replace else set()))
                    # the old codings go to identical new sentences, then the old documents go
                    carry = (writer.replace(replaced, doc_id, discard_decisions=discard_decisions)
                             if replaced else None)
                    writer.publish(doc_id, model=_model_name(nlp))
                    published = True
        except BaseException:  # also Ctrl-C: leave no staged rows behind
            _discard(store, doc_id)
            raise
        if not published:
            _discard(store, doc_id)
            return _skipped(path, same[0])
    except IngestError as exc:  # already names the file
        return ImportResult(str(path), "failed", str(exc))
    except DecisionsWouldBeLostError as exc:  # the transaction stored nothing, removed nothing
        return ImportResult(str(path), "failed", f"{path}: {exc}", carry=exc.carry)
    except EvaltoolError as exc:
        return ImportResult(str(path), "failed", f"{path}: {exc}")
    except SQLAlchemyError as exc:  # reported by class only: messages may quote row values
        return ImportResult(str(path), "failed",
                            f"{path}: database error ({exc.__class__.__name__}); nothing stored")
    note = f" (replaced document {', '.join(map(str, replaced))})" if replaced else ""
    if carry is not None:
        note += (f"; {counted(carry.carried, 'coding')} carried over ({carry.carried_human} human), "
                 f"{len(carry.not_carried)} not carried ({carry.human_lost} human)")
        if carry.marks or carry.marks_dropped:
            note += (f"; {counted(carry.marks, 'done mark')} kept, {carry.marks_dropped} dropped "
                     "(their turn changed)")
    log.info("imported %s as document %s: %d turns, %d segments", path.name, doc_id,
             n_turns, n_segs)
    note += "".join(f"; warning: {n}" for n in doc.notes)  # text read but not imported
    return ImportResult(str(path), "imported",
                        f"{path}: {counted(n_turns, 'turn')}, {counted(n_segs, 'segment')}{note}",
                        doc_id, n_turns, n_segs, carry)


def _skipped(path: Path, existing: int) -> ImportResult:
    return ImportResult(str(path), "skipped",
                        f"{path}: same content already imported as document {existing} "
                        "(use --replace to import it again)", existing)


def import_paths(paths: Iterable[str | Path], store: Store, nlp_factory: Callable[[], object],
                 *, replace: bool = False, progress: Progress | None = None,
                 on_result: Callable[[ImportResult], None] | None = None,
                 n_process: int = 1, discard_decisions: bool = False) -> BatchSummary:
    """Import files and folders; each file is its own transaction.

    With ``replace``, a file replaces the stored documents of the same content or
    name, and their codings go to its identical sentences; a file whose replacing
    would lose human decisions fails (nothing changed) unless ``discard_decisions``.

    ``nlp_factory`` is called only when a file actually needs segmenting, so a
    batch of already-imported files never loads the spaCy model. With ``n_process``
    > 1, that many worker processes segment (see :class:`~evaltool.segment.SegmentPool`),
    started once for the whole batch, when the first file needs them.
    """
    summary = BatchSummary()
    pools: list[SegmentPool] = []

    def pool_for(nlp) -> SegmentPool:
        if not pools:
            pools.append(SegmentPool(nlp, n_process=n_process))
        return pools[0]

    try:
        for path in expand_paths(paths):
            result = import_file(path, store, nlp_factory, replace=replace, progress=progress,
                                 discard_decisions=discard_decisions,
                                 n_process=n_process, pool_for=pool_for if n_process > 1 else None)
            summary.results.append(result)
            if on_result:
                on_result(result)
    finally:
        for pool in pools:
            pool.close()
    return summary
