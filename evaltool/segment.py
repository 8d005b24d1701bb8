"""Sentence segmentation of turns with a spaCy pipeline.

Each paragraph of a turn is one spaCy ``Doc`` (so a sentence never crosses a
paragraph break); sentences are trimmed of surrounding white space, and their
offsets are returned relative to the turn's text. Lemmas are lower-cased.

With more than one process, a :class:`SegmentPool` keeps worker processes alive
for a whole batch of files; the workers run the pipeline *and* the sentence
extraction and send back only the small ``Sentence`` tuples, not whole Docs.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import islice
from types import TracebackType
from typing import TypeVar

from evaltool.domain import PARAGRAPH_SEP, Sentence
from evaltool.errors import ModelError

K = TypeVar("K")

DEFAULT_BATCH = 64
# Turns sent to a worker at a time: a document is ~250 turns of ~40 words, so chunks of
# CHUNK_TURNS keep both workers busy within one document while the per-chunk overhead
# (a pickle round trip, a short nlp.pipe) stays small; measured, see SegmentPool.
CHUNK_TURNS = 16
CHUNKS_PER_WORKER = 3  # chunks in flight per worker: one running, the rest queued

_worker_nlp = None  # the pipeline inside a worker process (set by _init_worker)


# A paragraph longer than this goes to the pipeline in pieces: spaCy refuses texts over
# ``nlp.max_length`` (E088), and its parser needs about 1 GB per 100,000 characters.
MAX_PIECE_CHARS = 100_000
_SENTENCE_END = re.compile(r"[.!?…]+[\"'»”)\]]*\s+")
_SPACE = re.compile(r"\s+")


def _pieces(text: str, limit: int) -> Iterator[tuple[int, str]]:
    """``(offset, piece)`` cuts of ``text`` of at most ``limit`` characters, joined back
    exactly; each cut is after a sentence end or white space in the second half of the
    window when there is one (else, in one endless word, hard at ``limit``)."""
    start = 0
    while len(text) - start > limit:
        window = text[start:start + limit]
        cut = 0
        for pattern in (_SENTENCE_END, _SPACE):
            ends = [m.end() for m in pattern.finditer(window, limit // 2)]
            if ends:
                cut = ends[-1]
                break
        cut = cut or limit
        yield start, text[start:start + cut]
        start += cut
    yield start, text[start:]


def _paragraphs(key: K, text: str,
                limit: int = MAX_PIECE_CHARS) -> Iterator[tuple[str, tuple[K, int, bool]]]:
    """(paragraph text, (key, offset in turn, is last)) for one turn; a paragraph over
    ``limit`` characters comes in pieces (a sentence may then be cut at a piece's end)."""
    offset = 0
    parts = text.split(PARAGRAPH_SEP)
    for i, part in enumerate(parts):
        last_part = i == len(parts) - 1
        if len(part) <= limit:
            yield part, (key, offset, last_part)
        else:
            pieces = list(_pieces(part, limit))
            for j, (at, piece) in enumerate(pieces):
                yield piece, (key, offset + at, last_part and j == len(pieces) - 1)
        offset += len(part) + len(PARAGRAPH_SEP)


def _sentences(doc, offset: int) -> Iterator[Sentence]:
    """Trimmed, non-empty sentences of a paragraph doc."""
    for sent in doc.sents:
        tokens = [t for t in sent if not t.is_space]
        if not tokens:
            continue
        start = tokens[0].idx
        end = tokens[-1].idx + len(tokens[-1].text)
        lemmas = tuple((t.lemma_ or t.text).lower() for t in tokens)
        yield Sentence(
            start=offset + start,
            end=offset + end,
            lemmas=lemmas,
            tokens=tuple(
                (t.idx - start, t.idx - start + len(t.text), lemma, t.pos_)
                for t, lemma in zip(tokens, lemmas, strict=True)
            ),
        )


def segment_turns(
    turns: Iterable[tuple[K, str]], nlp, *, batch_size: int = DEFAULT_BATCH,
    n_process: int = 1,
) -> Iterator[tuple[K, list[Sentence]]]:
    """Split each ``(key, turn text)`` into sentences, streaming through ``nlp.pipe``.

    Yields ``(key, sentences)`` in input order, one item per turn; memory stays
    bounded by ``batch_size`` however many turns come in. With ``n_process`` > 1
    the work goes to a :class:`SegmentPool` started for this call (for many files,
    make one pool and call its ``segment_turns`` per file instead).
    """
    if n_process <= 1:
        yield from _segment_local(turns, nlp, batch_size)
        return
    with SegmentPool(nlp, n_process=n_process, batch_size=batch_size) as pool:
        yield from pool.segment_turns(turns)


def _segment_local(turns: Iterable[tuple[K, str]], nlp,
                   batch_size: int) -> Iterator[tuple[K, list[Sentence]]]:
    """``segment_turns`` in this process."""
    limit = min(MAX_PIECE_CHARS, nlp.max_length)
    units = (pair for key, text in turns for pair in _paragraphs(key, text, limit))
    pending: list[Sentence] = []
    for doc, (key, offset, last) in nlp.pipe(units, as_tuples=True, batch_size=batch_size):
        pending.extend(_sentences(doc, offset))
        if last:
            yield key, pending
            pending = []


def segment_text(text: str, nlp) -> list[Sentence]:
    """Sentences of one text (a convenience for callers with a single turn)."""
    return next(iter(segment_turns([(0, text)], nlp)))[1]


PARENT_CHECK_SECONDS = 0.5  # how often a worker checks that the process that started it lives


def _exit_with_parent(parent: int) -> None:
    """End this worker process as soon as ``parent`` (the importing process) is gone.

    A SIGKILLed parent cannot stop its pool, and the workers would otherwise wait
    for work forever. A daemon thread watches the parent id, which changes when the
    parent dies (the worker is handed to another process); this works on every
    POSIX system. (Linux's ``PR_SET_PDEATHSIG`` is not used: it fires when the
    *thread* that started the worker ends, which in a threaded caller can be long
    before the pool is done.)
    """
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)  # no cleanup to do: the worker holds nothing but the pipeline

    threading.Thread(target=watch, name="evaltool-parent-watch", daemon=True).start()


def _init_worker(nlp, parent: int) -> None:
    """Keep the pipeline in the worker; leave Ctrl-C to the main process, which stops the
    pool; end with the parent (``parent`` is its pid)."""
    global _worker_nlp
    _worker_nlp = nlp
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent(parent)


def _segment_chunk(texts: list[str], batch_size: int) -> list[list[Sentence]]:
    """Sentences of each text of a chunk (runs in a worker; keys stay in the main process)."""
    return [sents for _, sents in _segment_local(enumerate(texts), _worker_nlp, batch_size)]


class SegmentPool:
    """Worker processes that segment turns, kept alive across the files of a batch.

    ``pool.segment_turns(turns)`` behaves like the module's :func:`segment_turns`
    (input order, one item per turn, the input read lazily, bounded memory) and may
    be called once per document on the same workers. Work goes out in chunks of
    ``chunk_turns`` turns, ``CHUNKS_PER_WORKER`` chunks per worker in flight. With
    ``n_process`` <= 1 everything runs in this process. ``start_method`` ("fork",
    "spawn", ...) defaults to the platform's. Use it as a context manager
    (or call :meth:`close`): closing stops the workers. A worker that dies raises
    :class:`~evaltool.errors.ModelError`; the next call starts fresh workers.
    """

    def __init__(self, nlp, n_process: int = 2, batch_size: int = DEFAULT_BATCH, *,
                 chunk_turns: int = CHUNK_TURNS, start_method: str | None = None) -> None:
        self.nlp = nlp
        self.n_process = n_process
        self.batch_size = batch_size
        self.chunk_turns = max(1, chunk_turns)
        self.start_method = start_method  # None: the platform's default
        self._executor: ProcessPoolExecutor | None = None
        self._closed = False

    def __enter__(self) -> SegmentPool:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers (queued chunks are dropped; running ones finish first)."""
        self._closed = True
        self._stop()

    def _stop(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def _workers(self) -> ProcessPoolExecutor:
        """The live executor, started on first use (and again after a worker died)."""
        if self._closed:
            raise RuntimeError("SegmentPool is closed")
        if self._executor is None:
            # With "fork" (Linux) the workers inherit the loaded pipeline; with "spawn"
            # (macOS, Windows) it is pickled to them once, not per chunk.
            context = multiprocessing.get_context(self.start_method)
            self._executor = ProcessPoolExecutor(self.n_process, mp_context=context,
                                                 initializer=_init_worker,
                                                 initargs=(self.nlp, os.getpid()))
        return self._executor

    def segment_turns(self, turns: Iterable[tuple[K, str]]) -> Iterator[tuple[K, list[Sentence]]]:
        """Split each ``(key, turn text)`` into sentences; yields ``(key, sentences)`` in order."""
        if self.n_process <= 1:
            if self._closed:
                raise RuntimeError("SegmentPool is closed")
            yield from _segment_local(turns, self.nlp, self.batch_size)
            return
        executor = self._workers()
        source = iter(turns)
        in_flight: deque[tuple[list[K], Future]] = deque()
        limit = CHUNKS_PER_WORKER * self.n_process
        more = True
        try:
            while True:
                while more and len(in_flight) < limit:
                    chunk = list(islice(source, self.chunk_turns))
                    if not chunk:
                        more = False
                        break
                    keys = [key for key, _ in chunk]
                    texts = [text for _, text in chunk]
                    in_flight.append((keys, self._submit(executor, texts)))
                if not in_flight:
                    return
                keys, future = in_flight.popleft()
                yield from zip(keys, self._result(future), strict=True)
        finally:  # a document abandoned midway: its queued chunks are not run
            for _, future in in_flight:
                future.cancel()

    def _submit(self, executor: ProcessPoolExecutor, texts: list[str]) -> Future:
        try:
            return executor.submit(_segment_chunk, texts, self.batch_size)
        except BrokenProcessPool as exc:
            raise self._broken() from exc

    def _result(self, future: Future) -> list[list[Sentence]]:
        try:
            return future.result()
        except BrokenProcessPool as exc:
            raise self._broken() from exc

    def _broken(self) -> ModelError:
        """Drop the dead pool (the next document starts new workers); the error to raise."""
        self._stop()
        return ModelError("a segmentation worker process stopped unexpectedly "
                          "(out of memory or killed?); nothing was stored for this file")
