"""CMO chains: what works, for whom, and in which circumstances.

A *chain* is a context code, a mechanism code and an outcome code that occur together:
an outcome coding with a context coding and a mechanism coding of the same document in
the outcome's turn or the turn just before or after it (``Store.cmo_chains``; in a
focus group one participant often gives the circumstances and the next what came of
them). A coding of fewer than ``MIN_EVIDENCE_WORDS`` words ("Ja.", "Både og.") is a
fragment and takes no part.

A chain's support is the sites and documents where it occurs and its outcome sentences;
chains are ranked by sites, then documents, then quotes (a chain seen at three libraries
says more than one told ten times in one group). Its evidence is the turn that holds the
outcome, chosen so that as much of the chain as possible is in that turn, with the
context's and the mechanism's turns beside it. *For whom*: a chain's target group is its
outcome quote's (the speaker's, else the document's).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from evaltool.domain import Chain, ChainSupport, CodingView
from evaltool.errors import ChainsTooHeavyError
from evaltool.quotes import TurnQuotes


@dataclass
class _Tally:
    keys: tuple[str, str, str]
    sites: set[str] = field(default_factory=set)
    documents: set[int] = field(default_factory=set)
    quotes: int = 0

    def add(self, r: ChainSupport) -> None:
        if r.site:
            self.sites.add(r.site)
        self.documents.add(r.document_id)
        self.quotes += r.quotes  # an outcome sentence has one document and one speaker


def rank(rows: Iterable[ChainSupport], labels: dict[str, str] | None = None) -> list[_Tally]:
    """The chains of ``rows`` with their support, strongest first: sites, documents,
    quotes, then the codes' labels."""
    labels = labels or {}
    tallies: dict[tuple[str, str, str], _Tally] = {}
    for r in rows:
        keys = (r.context, r.mechanism, r.outcome)
        tallies.setdefault(keys, _Tally(keys)).add(r)
    return sorted(tallies.values(), key=lambda t: (
        -len(t.sites), -len(t.documents), -t.quotes, tuple(labels.get(k, k) for k in t.keys)))


class ChainBuilder:
    """Chains of one query's rows as the reader sees them: labels, support, evidence.

    ``statuses``, ``document_ids`` and ``speaker_ids`` are the ones ``rows`` were found
    with (``Store.cmo_chains``); the evidence of the chains shown is found the same way.
    """

    def __init__(self, store, rows: Sequence[ChainSupport], quotes: TurnQuotes,
                 labels: dict[str, str], statuses: Sequence[str],
                 document_ids: Sequence[int] | None = None,
                 speaker_ids: Sequence[int] | None = None) -> None:
        self.store = store
        self.rows = list(rows)
        self.quotes = quotes
        self.labels = labels
        self.scope = (tuple(statuses), document_ids, speaker_ids)
        self._best: dict[tuple[str, str, str], list[ChainSupport]] = {}
        self._views: dict[int, CodingView] = {}
        # the budget (s) at which an evidence query was stopped: no chain is shown then,
        # since a chain is only shown with evidence a reader can follow
        self.stopped: float | None = None

    def chains(self, keep: Callable[[ChainSupport], bool] = lambda r: True,
               evidence: int | None = None) -> list[Chain]:
        """The ranked chains of the rows ``keep`` accepts; the first ``evidence`` (all when
        None) with their evidence quotes (the best instance among the rows ``keep`` accepts)."""
        tallies = rank((r for r in self.rows if keep(r)), self.labels)
        with_quotes = tallies if evidence is None else tallies[:evidence]
        missing = [t.keys for t in with_quotes if t.keys not in self._best]
        if missing:
            for k in missing:
                self._best[k] = []
            statuses, docs, speakers = self.scope
            try:
                found = self.store.chain_evidence(missing, statuses, docs, speakers)
            except ChainsTooHeavyError as exc:
                self.rows, self.stopped = [], exc.seconds
                return []
            for r in found:
                self._best[(r.context, r.mechanism, r.outcome)].append(r)
        best = {t.keys: min((r for r in self._best[t.keys] if keep(r)),
                            key=lambda r: r.strength, default=None) for t in with_quotes}
        self._load([b for b in best.values() if b is not None])
        return [self._chain(t, best.get(t.keys)) for t in tallies]

    def by_target_group(self, keep: Callable[[ChainSupport], bool] = lambda r: True,
                        evidence: int | None = None) -> dict[str, list[Chain]]:
        """The ranked chains per target group of their outcome's speaker."""
        groups = sorted({g for r in self.rows if keep(r)
                         for g in self.quotes.speaker_groups.get(r.speaker_id, ())})
        return {g: self.chains(lambda r, g=g: keep(r) and g in self.quotes.speaker_groups.get(
                    r.speaker_id, ()), evidence) for g in groups}

    def _load(self, best: list[ChainSupport]) -> None:
        wanted = {s for b in best for s in (b.outcome_segment, b.context_segment,
                                            b.mechanism_segment)}
        wanted -= {v.segment_id for v in self._views.values()}
        if wanted:
            for v in self.store.coding_views(segment_ids=sorted(wanted), status=None):
                self._views[v.id] = v

    def _chain(self, t: _Tally, b: ChainSupport | None) -> Chain:
        ctx, mek, udf = (self.labels.get(k, k) for k in t.keys)
        evidence: tuple = ()
        if b is not None:
            views = [self._views[i] for i in (b.outcome_coding, b.context_coding,
                                               b.mechanism_coding) if i in self._views]
            turns: dict[tuple[int, int], list[CodingView]] = {}
            for v in views:  # the outcome's turn first
                turns.setdefault((v.document_id, v.turn), []).append(v)
            evidence = tuple(self.quotes.quote(vs) for vs in turns.values())
        sites = tuple(sorted(t.sites))
        return Chain(", ".join(sites), ctx, mek, udf, t.quotes, sites, len(t.documents),
                     t.keys, evidence)
