"""Quotes as a reader sees them: a whole speaker turn with the coded words marked, the
speaker's role and target group (a quote's is its speaker's, else its document's), and
pseudonymised when asked. The report's sections and the CMO chains' evidence use it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from evaltool.domain import CodingView, ReportQuote, quote_target_groups


class TurnQuotes:
    """Turns and speakers of the store's documents as quotes, pseudonymised when asked."""

    def __init__(self, store, pseudonymizer: Callable[[int], Any] | None = None) -> None:
        self.store = store
        self.pseudonymizer = pseudonymizer
        self._turns: dict[int, dict[int, Any]] = {}
        self._views: dict[int, Any] = {}
        docs = {d.id: d for d in store.document_facets()}
        self.groups: dict[tuple[int, str], tuple[str, ...]] = {}
        self.speaker_groups: dict[int, tuple[str, ...]] = {}  # by speaker id
        for s in store.speaker_facets():
            groups = tuple(quote_target_groups(
                s.attributes, docs[s.document_id].attributes if s.document_id in docs else {}))
            self.groups[(s.document_id, s.name)] = groups
            self.speaker_groups[s.id] = groups

    def group_counts(self, views: Sequence[CodingView]) -> dict[str, int]:
        """Distinct quoted sentences per target group, largest first."""
        segments: dict[str, set[int]] = {}
        for v in views:
            for g in self.groups.get((v.document_id, v.speaker), ()):
                segments.setdefault(g, set()).add(v.segment_id)
        return dict(sorted(((g, len(s)) for g, s in segments.items()),
                           key=lambda item: (-item[1], item[0])))

    def turn(self, document_id: int, number: int) -> Any:
        """The stored turn (``TurnView``) of a document by its number."""
        if document_id not in self._turns:
            self._turns[document_id] = {t.number: t for t in self.store.turns(document_id)}
        return self._turns[document_id][number]

    def quote(self, views: Sequence[CodingView], pinned: bool = False) -> ReportQuote:
        """The turn of ``views`` (codings in one turn) with their words marked."""
        first = views[0]
        t = self.turn(first.document_id, first.turn)
        start, end, text = t.start_char, t.end_char, t.text
        cuts = [(v.start, v.end) for v in views]
        speaker, role = first.speaker, first.role
        if self.pseudonymizer is not None:
            if first.document_id not in self._views:
                self._views[first.document_id] = self.pseudonymizer(first.document_id)
            p = self._views[first.document_id]
            start, end = p.cut(start, end)
            text = p.text[start:end]
            cuts = [p.cut(a, b) for a, b in cuts]
            speaker, role = p.label(speaker), p.label(role)
        marks = _merged([(max(a - start, 0), min(b - start, len(text))) for a, b in cuts])
        labels = tuple(dict.fromkeys(v.code_label for v in views))
        return ReportQuote(first.id, first.document, first.turn, speaker, role,
                           self.groups.get((first.document_id, first.speaker), ()), text,
                           marks, labels, pinned, first.document_id,
                           tuple(v.id for v in views))


def _merged(marks: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(m for m in marks if m[1] > m[0]):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return tuple(out)
