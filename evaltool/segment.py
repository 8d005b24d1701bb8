"""Sentence segmentation of turns with a spaCy pipeline.

Each paragraph of a turn is one spaCy ``Doc`` (so a sentence never crosses a
paragraph break); sentences are trimmed of surrounding white space, and their
offsets are returned relative to the turn's text. Lemmas are lower-cased.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from evaltool.domain import PARAGRAPH_SEP, Sentence

K = TypeVar("K")

DEFAULT_BATCH = 64


def _paragraphs(key: K, text: str) -> Iterator[tuple[str, tuple[K, int, bool]]]:
    """(paragraph text, (key, offset in turn, is last)) for one turn."""
    offset = 0
    parts = text.split(PARAGRAPH_SEP)
    for i, part in enumerate(parts):
        yield part, (key, offset, i == len(parts) - 1)
        offset += len(part) + len(PARAGRAPH_SEP)


def _sentences(doc, offset: int) -> Iterator[Sentence]:
    """Trimmed, non-empty sentences of a paragraph doc."""
    for sent in doc.sents:
        tokens = [t for t in sent if not t.is_space]
        if not tokens:
            continue
        start = tokens[0].idx
        end = tokens[-1].idx + len(tokens[-1].text)
        yield Sentence(
            start=offset + start,
            end=offset + end,
            lemmas=tuple((t.lemma_ or t.text).lower() for t in tokens),
            tokens=tuple(
                (t.idx - start, t.idx - start + len(t.text), (t.lemma_ or t.text).lower(), t.pos_)
                for t in tokens
            ),
        )


def segment_turns(
    turns: Iterable[tuple[K, str]], nlp, *, batch_size: int = DEFAULT_BATCH,
    n_process: int = 1,
) -> Iterator[tuple[K, list[Sentence]]]:
    """Split each ``(key, turn text)`` into sentences, streaming through ``nlp.pipe``.

    Yields ``(key, sentences)`` in input order, one item per turn; memory stays
    bounded by ``batch_size`` however many turns come in.
    """
    units = (pair for key, text in turns for pair in _paragraphs(key, text))
    pending: list[Sentence] = []
    for doc, (key, offset, last) in nlp.pipe(
        units, as_tuples=True, batch_size=batch_size, n_process=n_process
    ):
        pending.extend(_sentences(doc, offset))
        if last:
            yield key, pending
            pending = []


def segment_text(text: str, nlp) -> list[Sentence]:
    """Sentences of one text (a convenience for callers with a single turn)."""
    return next(iter(segment_turns([(0, text)], nlp)))[1]
