"""Auto-coding against the store: train from accepted codings, write suggestions.

Suggestions of each document are written in one transaction, so an interrupted
run (even SIGKILL) leaves every document with either its old or its new
suggestions, never half of a batch. Human decisions are never overwritten.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable, Collection
from dataclasses import dataclass

from evaltool import autocode
from evaltool.autocode.rules import RuleCoder
from evaltool.codebook import active_spec
from evaltool.domain import CodingUnit
from evaltool.texttable import counted

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AutocodeReport:
    """What an auto-coding run did."""

    model_version: str
    trained: bool
    documents: int
    segments: int
    added: int
    updated: int
    removed: int
    unchanged: int
    human_kept: int

    def line(self) -> str:
        """One-line summary."""
        return (f"{counted(self.documents, 'document')}, {counted(self.segments, 'segment')}: "
                f"{counted(self.added, 'new suggestion')}, {self.updated} updated, "
                f"{self.removed} withdrawn, {self.unchanged} unchanged; "
                f"{counted(self.human_kept, 'human decision')} kept (model {self.model_version})")


def training_data(store) -> tuple[list[CodingUnit], dict[int, set[str]], dict[int, set[str]]]:
    """Units of the turns a human has seen, their accepted codes and the codes still
    undecided on them (see :class:`~evaltool.domain.ReviewedLabels`).

    Text nobody has seen is left out: it is unlabelled, not a negative example.
    """
    seen = store.reviewed_labels()
    units: list[CodingUnit] = []
    for doc_id in sorted({doc for doc, _ in seen.turns}):
        units.extend(u for u in store.coding_units(doc_id) if (doc_id, u.turn) in seen.turns)
    return units, seen.accepted, seen.open


def train(store, nlp) -> autocode.Coder:
    """Train a coder on everything accepted so far and store it."""
    spec, cb_version = active_spec(store)
    units, labels, undecided = training_data(store)
    seed, seed_labels = autocode.seed_units(store.codebook_seed(), nlp)
    coder = autocode.build(spec, [*units, *seed], {**labels, **seed_labels}, nlp,
                           unknown=undecided)
    payload = pickle.dumps({"model": coder.model, "rule_precision": coder.rule_precision,
                            "threshold": coder.threshold, "codebook_version": cb_version})
    metrics = {"train_segments": len(units), "seed_segments": len(seed),
               "accepted_codings": sum(len(v) for v in labels.values())}
    store.save_model(coder.version, {"threshold": coder.threshold}, metrics, payload)
    log.info("trained %s on %d segments", coder.version, len(units))
    return coder


def load_coder(store, nlp_factory: Callable[[], object], *, retrain: bool = False
               ) -> tuple[autocode.Coder, bool, int]:
    """The newest stored coder for the active codebook version, or a fresh one;
    with whether it was trained now and the codebook version it codes for."""
    spec, cb_version = active_spec(store)
    stored = None if retrain else store.latest_model()
    if stored is not None:
        data = pickle.loads(stored["blob"])
        if data.get("codebook_version") == cb_version:
            return autocode.Coder(spec, RuleCoder(spec.codes), data["model"],
                                  data["rule_precision"], data["threshold"],
                                  stored["version"]), False, cb_version
    return train(store, nlp_factory()), True, cb_version


def run(store, nlp_factory: Callable[[], object], *, document_id: int | None = None,
        retrain: bool = False, progress: Callable[[int, int], None] | None = None
        ) -> AutocodeReport:
    """Suggest codes for one document or all, one transaction per document."""
    coder, trained, cb_version = load_coder(store, nlp_factory, retrain=retrain)
    docs = [store.get_document(document_id)] if document_id is not None else store.list_documents()
    totals = dict(added=0, updated=0, removed=0, unchanged=0, human_kept=0)
    segments = 0
    for i, doc in enumerate(docs, start=1):
        units = store.coding_units(doc.id)
        suggestions = autocode.suggest(coder, units)
        written = store.write_suggestions(suggestions, segment_ids=[u.segment_id for u in units],
                                          model_version=coder.version,
                                          codebook_version=cb_version)
        for key in totals:
            totals[key] += getattr(written, key)
        segments += len(units)
        # ids and counts only: logs never carry transcript text
        log.info("document %d committed: %d segments, %d added, %d updated, %d withdrawn",
                 doc.id, len(units), written.added, written.updated, written.removed)
        if progress:
            progress(i, len(docs))
    return AutocodeReport(coder.version, trained, len(docs), segments, **totals)


@dataclass(frozen=True)
class QueueItem:
    """A suggestion in review order."""

    coding_id: int
    segment_id: int
    document: str
    turn: int
    code_key: str
    confidence: float
    uncertainty: float
    version: int
    document_id: int | None = None


def _threshold(store) -> float:
    """The latest model's threshold (the default before any model is trained)."""
    stored = store.latest_model(blob=False)  # the threshold only: not the pickled model
    if stored is not None:
        return (stored.get("params") or {}).get("threshold", autocode.THRESHOLD)
    return autocode.THRESHOLD


def review_queue(store, *, order: str = "uncertainty", document_id: int | None = None,
                 limit: int | None = None, offset: int = 0, exclude: Collection[int] = (),
                 coder: str | None = None) -> list[QueueItem]:
    """Open suggestions, those whose review teaches the model most first
    (``order="uncertainty"``: confidence closest to the threshold) or in text order.

    One query that reads only the page asked for (``limit``/``offset``); ``exclude``
    leaves out coding ids (skipped ones), ``coder`` what that coder already decided blind.
    """
    threshold = _threshold(store)
    return [QueueItem(r.id, r.segment_id, r.document, r.turn, r.code_key, r.confidence or 0.0,
                      autocode.uncertainty(r.confidence or 0.0, threshold), r.version,
                      r.document_id)
            for r in store.review_queue(threshold, order=order, document_id=document_id,
                                        coder=coder, exclude=exclude, limit=limit or None,
                                        offset=offset)]


def review_queue_size(store, *, document_id: int | None = None, exclude: Collection[int] = (),
                      coder: str | None = None) -> int:
    """How many suggestions :func:`review_queue` holds with the same filters."""
    return store.review_queue_size(document_id=document_id, exclude=exclude, coder=coder)
