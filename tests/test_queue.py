"""The review queue read page by page in SQL, on SQLite and PostgreSQL: the same order as
scoring and sorting every open suggestion in Python, ties included."""

from __future__ import annotations

import pytest

from evaltool import autocode
from evaltool.autocode import run
from evaltool.domain import Suggestion
from evaltool.importer import import_paths

C, K, N, INV = "ctx_strategi", "mek_kaffe", "udf_nye_brugere", "udf_invitationer"
THRESHOLD = 0.5

AABENRAA = """---
title: Kaffe i klubben
site: Aabenraa
---
Jørgen (frivillig): Vi åbnede døren. Der kom nye. Kaffen var stærk. Strategien holdt.
Åse (borger): Jeg kom for kagen. Jeg blev for snakken.
"""


def _confidences(n: int) -> list[float]:
    """Confidences with ties: equal values, both sides of the threshold at one distance
    (0.25 / 0.75), below the threshold, and the extremes."""
    base = [0.5, 0.75, 0.25, 0.75, 0.9, 0.5, 0.6, 0.4, 1.0, 0.3, 0.75, 0.25, 0.6]
    return [base[i % len(base)] for i in range(n)]


@pytest.fixture
def queued(team_store, tmp_path, blank_nlp):
    """Two documents, every segment with two to four suggestions (many ties), a model
    whose threshold is 0.5."""
    path = tmp_path / "klub_aabenraa.txt"
    path.write_text(AABENRAA, encoding="utf-8")
    assert import_paths([path], team_store, lambda: blank_nlp).failed == 0
    seg_ids = [s.id for d in team_store.list_documents() for s in team_store.segments(d.id)]
    codes = [[K, C], [N, INV, C], [C, K, N, INV], [INV, N]]
    suggestions = []
    confs = iter(_confidences(100))
    for i, seg in enumerate(seg_ids):
        conf = next(confs)
        for j, key in enumerate(codes[i % len(codes)]):
            # every other code on a segment shares its confidence: ties within a segment
            suggestions.append(Suggestion(seg, key, "model", conf if j % 2 == 0 else next(confs),
                                          "test"))
    team_store.write_suggestions(suggestions, segment_ids=seg_ids, model_version="m1",
                                 codebook_version=1)
    team_store.save_model("m1", {"threshold": THRESHOLD}, {}, b"")
    return team_store


def python_queue(store, order: str, document_id: int | None = None) -> list[tuple]:
    """The queue as it was built before: every open suggestion scored and sorted in Python."""
    items = [(c.id, c.segment_id, c.document, c.turn, c.code_key, c.confidence or 0.0,
              autocode.uncertainty(c.confidence or 0.0, THRESHOLD), c.version)
             for c in store.coding_views(status="suggested", document_id=document_id)]
    if order == "uncertainty":
        items.sort(key=lambda q: (-q[6], q[1], q[4]))
    return items


def _tuples(queue) -> list[tuple]:
    return [(q.coding_id, q.segment_id, q.document, q.turn, q.code_key, q.confidence,
             q.uncertainty, q.version) for q in queue]


@pytest.mark.parametrize("order", ["uncertainty", "document"])
def test_sql_queue_is_the_python_order_whole_and_page_by_page(queued, order: str) -> None:
    expected = python_queue(queued, order)
    assert len(expected) > 40
    # the fixture holds the ties the order must break by segment, then code key
    dist = [abs(q[5] - THRESHOLD) for q in expected]
    assert len(set(dist)) < len(dist) / 4 and {0.25, 0.75} <= {q[5] for q in expected}
    assert _tuples(run.review_queue(queued, order=order)) == expected
    for size in (1, 3, 7):
        pages = []
        for offset in range(0, len(expected) + size, size):
            pages += run.review_queue(queued, order=order, limit=size, offset=offset)
        assert _tuples(pages) == expected, size
    assert run.review_queue_size(queued) == len(expected)


@pytest.mark.parametrize("order", ["uncertainty", "document"])
def test_queue_of_one_document_skips_what_is_excluded(queued, order: str) -> None:
    doc = queued.list_documents()[1]
    expected = python_queue(queued, order, document_id=doc.id)
    skipped = {expected[0][0], expected[3][0]}
    rest = [q for q in expected if q[0] not in skipped]
    got = run.review_queue(queued, order=order, document_id=doc.id, exclude=skipped, limit=4)
    assert _tuples(got) == rest[:4]
    assert run.review_queue_size(queued, document_id=doc.id, exclude=skipped) == len(rest)


def test_decided_suggestions_leave_the_queue(queued) -> None:
    first, second = run.review_queue(queued, limit=2)
    queued.decide(first.coding_id, "accept", "Anna", expected_version=first.version)
    assert run.review_queue(queued, limit=1)[0].coding_id == second.coding_id
    assert run.review_queue_size(queued) == len(python_queue(queued, "uncertainty"))


def test_blind_coder_does_not_see_again_what_they_decided(queued) -> None:
    doc = queued.list_documents()[0]
    queued.assign(doc.id, ["Anna", "Bo"])
    top = run.review_queue(queued, document_id=doc.id, limit=3)
    queued.decide_as("Anna", top[0].coding_id, "reject", expected_version=top[0].version)
    queued.decide_as("Anna", top[1].coding_id, "memo", memo="tvivl")  # still open for Anna
    # the shared row stays open for the other coder and in the shared queue
    assert run.review_queue(queued, document_id=doc.id, limit=1)[0] == top[0]
    assert run.review_queue(queued, document_id=doc.id, coder="Bo", limit=1)[0] == top[0]
    assert [q.coding_id for q in run.review_queue(queued, document_id=doc.id, coder="Anna",
                                                  limit=2)] == [top[1].coding_id, top[2].coding_id]
    total = run.review_queue_size(queued, document_id=doc.id)
    assert run.review_queue_size(queued, document_id=doc.id, coder="Anna") == total - 1
    # a document no longer blind to Anna: she works in the shared layer again
    queued.assign(doc.id, ["Anna"], blind=False)
    assert run.review_queue(queued, document_id=doc.id, coder="Anna", limit=1)[0] == top[0]


def test_unknown_order_is_refused(queued) -> None:
    with pytest.raises(ValueError, match="unknown order"):
        run.review_queue(queued, order="random")
