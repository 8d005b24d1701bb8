"""Dashboard aggregations, computed in SQL (GROUP BY), never by looping over codings.

Every query counts *quotes*: distinct coded segments of the shared layer, coded with a
code that is not retired (:func:`counted_code`), whose status is in ``statuses``, whose
document is in ``document_ids`` (None = all) and whose speaker is in ``speaker_ids``
(None = all; see :func:`evaltool.attributes.scope`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from typing import Any, TypeVar

from sqlalchemy import (
    Integer,
    Select,
    and_,
    case,
    cast,
    distinct,
    func,
    literal,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import aliased

from evaltool.domain import (
    CHAIN_BUDGET_S,
    CMO,
    MIN_EVIDENCE_WORDS,
    QUOTE_CHARS,
    ChainSupport,
    ColumnSiteCount,
    StrongQuote,
)
from evaltool.errors import ChainsTooHeavyError
from evaltool.store.codings import SHARED
from evaltool.store.models import (
    Category,
    Code,
    Codebook,
    CodeCategory,
    Coding,
    Document,
    Segment,
    Speaker,
    Turn,
)

T = TypeVar("T")


def spoken_by(speaker_ids: Sequence[int]):
    """Codings in the turns of these speakers (a coding carries its document and turn)."""
    return tuple_(Coding.document_id, Coding.turn_number).in_(
        select(Turn.document_id, Turn.number).where(Turn.speaker_id.in_(list(speaker_ids))))


def counted_code():
    """The join condition of a code whose codings count: a code of the active codebook that
    is not retired. A retired code's codings are kept (the Kodebog page lists them, exports
    write them) but count in no theme, goal, CMO, code-tree or chain figure."""
    return and_(Codebook.id == Code.codebook_id, Codebook.is_active, Code.retired.is_(False))


class AggregateOps:
    """Aggregations for the dashboards (mixed into :class:`~evaltool.store.Store`)."""

    engine: Any

    def concurrently(self, *calls: Callable[[], T]) -> list[T]:
        """Results of independent read calls, run at the same time on pooled connections.

        The database drivers release the GIL while a query runs, so on SQLite and
        PostgreSQL alike the queries use several cores. An in-memory SQLite database
        has a single connection: there they run one after the other.
        """
        url = self.engine.url
        if len(calls) < 2 or (url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")):
            return [call() for call in calls]
        with ThreadPoolExecutor(max_workers=min(len(calls), 4)) as pool:
            return [f.result() for f in [pool.submit(call) for call in calls]]

    @staticmethod
    def _coded(statuses: Sequence[str], document_ids: Sequence[int] | None,
               speaker_ids: Sequence[int] | None = None) -> Select:
        """Shared-layer codings of the active codebook with the given statuses, with
        their document, site, turn number and code (no join to segments or turns:
        a coding row carries its segment's document and turn)."""
        stmt = (
            select(Coding.segment_id, Coding.code_id, Coding.document_id, Document.site,
                   Coding.turn_number.label("turn"), Code.key.label("code"), Code.cmo,
                   Code.column)
            .join(Document, Document.id == Coding.document_id)
            .join(Code, Code.id == Coding.code_id)
            .join(Codebook, counted_code())
            .where(Coding.layer == SHARED, Coding.status.in_(list(statuses)))
        )
        if document_ids is not None:
            stmt = stmt.where(Coding.document_id.in_(list(document_ids)))
        if speaker_ids is not None:
            stmt = stmt.where(spoken_by(speaker_ids))
        return stmt

    def _rows(self, stmt) -> list[tuple]:
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(stmt)]

    def count_by_category(self, kind: str, statuses: Sequence[str],
                          document_ids: Sequence[int] | None = None,
                          speaker_ids: Sequence[int] | None = None) -> list[tuple]:
        """(category key, cmo, quotes) for themes (``kind='theme'``) or goals."""
        coded = self._coded(statuses, document_ids, speaker_ids).subquery()
        stmt = (
            select(Category.key, coded.c.cmo, func.count(distinct(coded.c.segment_id)))
            .join(CodeCategory, CodeCategory.code_id == coded.c.code_id)
            .join(Category, and_(Category.id == CodeCategory.category_id, Category.kind == kind))
            .group_by(Category.key, coded.c.cmo)
        )
        return self._rows(stmt)

    def count_by_category_document(self, kinds: Sequence[str], statuses: Sequence[str],
                                   document_ids: Sequence[int] | None = None,
                                   speaker_ids: Sequence[int] | None = None) -> list[tuple]:
        """(category kind, category key, document id, quotes) for the given kinds ('theme',
        'goal'): which documents (and so sites and target groups) each theme or goal
        reached. Sums over documents are exact (a segment belongs to one document)."""
        coded = self._coded(statuses, document_ids, speaker_ids).subquery()
        stmt = (
            select(Category.kind, Category.key, coded.c.document_id,
                   func.count(distinct(coded.c.segment_id)))
            .join(CodeCategory, CodeCategory.code_id == coded.c.code_id)
            .join(Category, and_(Category.id == CodeCategory.category_id,
                                 Category.kind.in_(list(kinds))))
            .group_by(Category.kind, Category.key, coded.c.document_id)
        )
        return self._rows(stmt)

    def count_by_category_speaker(self, kind: str, statuses: Sequence[str],
                                  document_ids: Sequence[int] | None = None,
                                  speaker_ids: Sequence[int] | None = None) -> list[tuple]:
        """(category key, speaker id, quotes) for themes or goals: whose quotes (and so which
        target groups, by the quote rule) each one reached."""
        coded = self._coded(statuses, document_ids, speaker_ids).subquery()
        stmt = (
            select(Category.key, Turn.speaker_id, func.count(distinct(coded.c.segment_id)))
            .join(CodeCategory, CodeCategory.code_id == coded.c.code_id)
            .join(Category, and_(Category.id == CodeCategory.category_id, Category.kind == kind))
            .join(Turn, and_(Turn.document_id == coded.c.document_id,
                             Turn.number == coded.c.turn))
            .group_by(Category.key, Turn.speaker_id)
        )
        return self._rows(stmt)

    def count_by_column(self, statuses: Sequence[str],
                        document_ids: Sequence[int] | None = None,
                        speaker_ids: Sequence[int] | None = None) -> list[ColumnSiteCount]:
        """Quotes per change-theory column and site."""
        coded = self._coded(statuses, document_ids, speaker_ids).subquery()
        stmt = (select(coded.c.column, coded.c.site,
                       func.count(distinct(coded.c.segment_id)).label("quotes"))
                .group_by(coded.c.column, coded.c.site))
        with self.engine.connect() as conn:
            return [ColumnSiteCount(**r._mapping) for r in conn.execute(stmt)]

    def count_by_code(self, statuses: Sequence[str],
                      document_ids: Sequence[int] | None = None) -> list[tuple]:
        """(code key, status, codings) for the codebook page, retired codes' kept codings
        too (the page lists them apart)."""
        stmt = (
            select(Code.key, Coding.status, func.count(Coding.id))
            .join(Code, Code.id == Coding.code_id)
            .join(Codebook, and_(Codebook.id == Code.codebook_id, Codebook.is_active))
            .where(Coding.layer == SHARED, Coding.status.in_(list(statuses)))
            .group_by(Code.key, Coding.status)
        )
        if document_ids is not None:
            stmt = stmt.where(Coding.document_id.in_(list(document_ids)))
        return self._rows(stmt)

    def count_by_code_tree(self, statuses: Sequence[str],
                           document_ids: Sequence[int] | None = None,
                           speaker_ids: Sequence[int] | None = None) -> list[tuple[str, int, int]]:
        """(code key, quotes, quotes of the code and every code under it) for each code of
        the active codebook with a coding; the second count is distinct quotes, so a
        sentence coded with a parent and its child counts once."""
        from evaltool import codetree

        parents = codetree.parents_of((c.key, c.parent) for c in self.codes(include_retired=True))
        depth = max((len(codetree.ancestors(k, parents)) for k in parents), default=0)
        coded = self._coded(statuses, document_ids, speaker_ids).cte("coded")
        levels = []
        for level in range(depth + 1):  # level n: the code's n-th ancestor (its key)
            chain = [aliased(Code, name=f"up{n}") for n in range(level + 1)]
            stmt = select(chain[-1].key.label("code"), coded.c.segment_id).join(
                chain[0], chain[0].id == coded.c.code_id)
            for child, parent in pairwise(chain):
                stmt = stmt.join(parent, and_(parent.codebook_id == child.codebook_id,
                                              parent.key == child.parent))
            levels.append(stmt)
        tree = union_all(*levels).subquery("tree") if len(levels) > 1 else levels[0].subquery()
        with self.engine.connect() as conn:
            own = dict(conn.execute(select(coded.c.code, func.count(distinct(coded.c.segment_id)))
                                    .group_by(coded.c.code)).all())
            total = conn.execute(select(tree.c.code, func.count(distinct(tree.c.segment_id)))
                                 .group_by(tree.c.code)).all()
        return [(key, own.get(key, 0), n) for key, n in total]

    def strongest_quotes(self, themes: Sequence[str], statuses: Sequence[str],
                         document_ids: Sequence[int] | None = None, limit: int = 5,
                         min_chars: int = QUOTE_CHARS[0], max_chars: int = QUOTE_CHARS[1],
                         speaker_ids: Sequence[int] | None = None
                         ) -> dict[str, list[StrongQuote]]:
        """The strongest quotes of each theme (theme key → up to ``limit`` quotes), in one
        query: the one rule the dashboard's cards and the report's sections share.

        Strength, in this order: decided by a person (accepted) before suggested; the
        number of codes the segment carries (a quote that shows context, mechanism and
        outcome at once is richer evidence); the machine's confidence; length; then the
        oldest segment. A segment with several codes of a theme is shown once, with its
        strongest coding. Quotes shorter than ``min_chars`` or longer than ``max_chars``
        are left out.
        """
        if not themes:
            return {}
        shared = and_(Coding.layer == SHARED, Coding.status.in_(list(statuses)))
        if document_ids is not None:
            shared = and_(shared, Coding.document_id.in_(list(document_ids)))
        if speaker_ids is not None:
            shared = and_(shared, spoken_by(speaker_ids))
        retired = select(Code.id).where(Code.retired.is_(True))
        n_codes = (select(Coding.segment_id, func.count(distinct(Coding.code_id)).label("n"))
                   .where(shared, Coding.code_id.not_in(retired))
                   .group_by(Coding.segment_id).cte("n_codes"))
        # the quote's length in characters: a span coding's words, else its sentence
        length = (func.coalesce(Coding.end_char, Segment.end_char)
                  - func.coalesce(Coding.start_char, Segment.start_char))
        decided = case((Coding.status == "accepted", 1), else_=0)
        confidence = func.coalesce(Coding.confidence, literal(1.0))
        per_theme = []
        for theme in themes:  # one ORDER BY … LIMIT per theme: a top-N sort, not a full one
            per_theme.append(select(
                select(literal(theme).label("theme"), Coding.id.label("coding_id"),
                       Coding.segment_id, Coding.document_id,
                       Coding.turn_number, Code.key.label("code"), Code.label, Code.cmo,
                       Coding.status, Coding.confidence, n_codes.c.n, decided.label("decided"),
                       confidence.label("strength"), length.label("length"), Code.id.label("code_pk"),
                       Coding.start_char.label("span_start"), Coding.end_char.label("span_end"))
                .join(Code, Code.id == Coding.code_id)
                .join(Codebook, counted_code())
                .join(n_codes, n_codes.c.segment_id == Coding.segment_id)
                .join(Segment, Segment.id == Coding.segment_id)
                .where(shared, Coding.code_id.in_(
                    select(CodeCategory.code_id)
                    .join(Category, Category.id == CodeCategory.category_id)
                    .where(Category.kind == "theme", Category.key == theme)),
                       length.between(min_chars, max_chars))
                .order_by(decided.desc(), n_codes.c.n.desc(), confidence.desc(), length.desc(),
                          Coding.segment_id, Code.id)
                .limit(limit * 4)  # a segment may come with several of the theme's codes
                .subquery()))
        top = union_all(*per_theme).subquery("top") if len(per_theme) > 1 else per_theme[0].subquery()
        stmt = (
            select(top.c.theme, top.c.coding_id, top.c.segment_id, top.c.document_id,
                   case((top.c.span_start.is_not(None),  # a span coding quotes its words
                         func.substr(Turn.text, top.c.span_start - Turn.start_char + 1,
                                     top.c.span_end - top.c.span_start)),
                        else_=Segment.text).label("text"),
                   Document.site, Document.name.label("document"),
                   top.c.turn_number.label("turn"),
                   func.coalesce(Turn.role, Speaker.role).label("role"), top.c.code,
                   top.c.label.label("code_label"), top.c.cmo, top.c.status, top.c.confidence,
                   top.c.n.label("codes"))
            .join(Segment, Segment.id == top.c.segment_id)
            .join(Turn, Turn.id == Segment.turn_id)
            .join(Speaker, Speaker.id == Segment.speaker_id)
            .join(Document, Document.id == top.c.document_id)
            # the joins and UNION ALL do not keep each part's order: the same order again
            .order_by(top.c.decided.desc(), top.c.n.desc(), top.c.strength.desc(),
                      top.c.length.desc(), top.c.segment_id, top.c.code_pk)
        )
        out: dict[str, list[StrongQuote]] = {t: [] for t in themes}
        seen: set[tuple[str, int]] = set()
        with self.engine.connect() as conn:
            for r in conn.execute(stmt):
                q = StrongQuote(**r._mapping)
                if (q.theme, q.segment_id) in seen or len(out[q.theme]) == limit:
                    continue
                seen.add((q.theme, q.segment_id))
                out[q.theme].append(q)
        return out

    def cmo_chains(self, statuses: Sequence[str], document_ids: Sequence[int] | None = None,
                   speaker_ids: Sequence[int] | None = None, window: int = 1,
                   min_words: int = MIN_EVIDENCE_WORDS,
                   budget_s: float | None = None) -> list[ChainSupport]:
        """Context–mechanism–outcome chains, in one query: a row per chain, document and
        outcome speaker with its count of distinct outcome sentences (no evidence: see
        :meth:`chain_evidence`).

        A chain instance is an outcome coding with a context coding and a mechanism coding
        of the same document in the outcome's turn or up to ``window`` turns before or
        after it (in a focus group one participant gives the circumstances and another
        what came of them). A coding whose coded words (its span, else its sentence) are
        fewer than ``min_words`` takes no part: such a fragment ("Ja.", "Både og.") leans
        on the question and carries no meaning alone.

        Counted from places, not instances: the outcome sentences of each (document, turn,
        outcome code) joined with the context and mechanism *codes* found near that turn,
        so the join grows with the codes per turn, never with the codings (every machine
        suggestion of a big project). A query running past ``budget_s`` seconds (default
        ``CHAIN_BUDGET_S``) is stopped with :class:`~evaltool.errors.ChainsTooHeavyError`.
        """
        coded = self._chain_coded(statuses, document_ids, speaker_ids, min_words, window)
        outcomes = (select(coded.c.document_id, coded.c.site, coded.c.turn, coded.c.code,
                           coded.c.speaker_id,
                           func.count(distinct(coded.c.segment_id)).label("n"))
                    .where(coded.c.cmo == CMO.outcome.value)
                    .group_by(coded.c.document_id, coded.c.site, coded.c.turn, coded.c.code,
                              coded.c.speaker_id)).cte("outcomes")
        # each context and mechanism code once per outcome turn it can serve
        c, m = (_near(coded, kind, window) for kind in (CMO.context, CMO.mechanism))
        keys = [c.c.code.label("context"), m.c.code.label("mechanism"),
                outcomes.c.code.label("outcome"), outcomes.c.document_id, outcomes.c.site,
                outcomes.c.speaker_id]
        stmt = (select(*keys, cast(func.sum(outcomes.c.n), Integer).label("quotes"))
                .join(c, and_(c.c.document_id == outcomes.c.document_id,
                              c.c.turn == outcomes.c.turn))
                .join(m, and_(m.c.document_id == outcomes.c.document_id,
                              m.c.turn == outcomes.c.turn))
                .group_by(*keys).order_by(*keys))
        return [ChainSupport(**r._mapping) for r in self._bounded_rows(stmt, budget_s)]

    def chain_evidence(self, chains: Sequence[tuple[str, str, str]], statuses: Sequence[str],
                       document_ids: Sequence[int] | None = None,
                       speaker_ids: Sequence[int] | None = None, window: int = 1,
                       min_words: int = MIN_EVIDENCE_WORDS,
                       budget_s: float | None = None) -> list[ChainSupport]:
        """The best instance of each of ``chains`` (context, mechanism, outcome code keys)
        per document and outcome speaker, found as :meth:`cmo_chains` finds them: the one
        with the most of the chain in the outcome's own turn, then the most decided by a
        person, then the longest outcome, then the oldest codings.

        Only each place's own best coding can win (a place is a document's turn and code:
        there the turn is fixed, so the best is the most decided, then for an outcome the
        longest, then the oldest), so the join pairs places, not every coding."""
        if not chains:
            return []
        coded = self._chain_coded(statuses, document_ids, speaker_ids, min_words, window,
                                  codes=tuple({k for triple in chains for k in triple}))
        is_outcome = coded.c.cmo == CMO.outcome.value
        ranked = select(coded, func.row_number().over(
            partition_by=[coded.c.document_id, coded.c.turn, coded.c.code, coded.c.speaker_id],
            order_by=[coded.c.decided.desc(), case((is_outcome, coded.c.length), else_=0).desc(),
                      coded.c.coding_id]).label("place_rank")).subquery("ranked")
        stmt = select(ranked).where(ranked.c.place_rank == 1)
        # the window join of the places' champions, in Python: its size is the places of
        # the chains shown, and SQLite's planner scanned one side of it per outcome
        near: dict[tuple[str, int, int], list[dict[str, Any]]] = {}
        outcomes = []
        for row in self._bounded_rows(stmt, budget_s):
            r = row._mapping
            if r["cmo"] == CMO.outcome.value:
                outcomes.append(r)
            else:
                near.setdefault((r["cmo"], r["document_id"], r["turn"]), []).append(r)
        pairs: dict[str, list[tuple[str, str]]] = {}
        for ctx, mek, udf in sorted(set(chains)):
            pairs.setdefault(udf, []).append((ctx, mek))
        found: dict[tuple, ChainSupport] = {}
        for o in outcomes:
            if o["code"] not in pairs:
                continue
            best_c, best_m = (_nearest(near, kind, o["document_id"], o["turn"], window)
                              for kind in (CMO.context, CMO.mechanism))
            for ctx, mek in pairs[o["code"]]:
                if ctx not in best_c or mek not in best_m:
                    continue
                (ic, dc, _), c = best_c[ctx]
                (im, dm, _), m = best_m[mek]
                r = ChainSupport(ctx, mek, o["code"], o["document_id"], o["site"],
                                 o["speaker_id"], 0, o["coding_id"], c["coding_id"],
                                 m["coding_id"], o["segment_id"], c["segment_id"],
                                 m["segment_id"], ic + im, o["decided"] + dc + dm, o["length"])
                key = (ctx, mek, o["code"], o["document_id"], o["speaker_id"])
                if key not in found or r.strength < found[key].strength:
                    found[key] = r
        return [found[k] for k in sorted(found)]

    def _bounded_rows(self, stmt, budget_s: float | None) -> list[Any]:
        """The rows of ``stmt``, or :class:`ChainsTooHeavyError` once it has run
        ``budget_s`` seconds (SQLite: a progress handler; PostgreSQL: statement_timeout)."""
        budget = CHAIN_BUDGET_S if budget_s is None else budget_s
        if budget <= 0:  # no time at all: nothing is run
            raise ChainsTooHeavyError(budget)
        sqlite = self.engine.url.get_backend_name() == "sqlite"
        with self.engine.connect() as conn:
            raw = conn.connection.driver_connection
            if sqlite:
                deadline = time.monotonic() + budget
                raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
            else:  # for this transaction only (it is rolled back when the connection closes)
                conn.exec_driver_sql(f"SET LOCAL statement_timeout = {max(1, int(budget * 1000))}")
            try:
                return list(conn.execute(stmt))
            except OperationalError as exc:
                stopped = (time.monotonic() > deadline if sqlite
                           else getattr(exc.orig, "sqlstate", None) == "57014")  # query_canceled
                if stopped:
                    raise ChainsTooHeavyError(budget) from exc
                raise
            finally:
                if sqlite:
                    raw.set_progress_handler(None, 0)

    def _chain_coded(self, statuses: Sequence[str], document_ids: Sequence[int] | None,
                     speaker_ids: Sequence[int] | None, min_words: int, window: int,
                     codes: tuple[str, ...] | None = None):
        """The context, mechanism and outcome codings that can take part in a chain (see
        :meth:`cmo_chains`; fragments left out), of ``codes`` only when given, as a CTE with
        their place (document, turn, code), speaker, decided (1 if accepted) and length.

        On SQLite only the codings near a possible chain read their sentence (the fragment
        rule; :func:`_chained_turns`): with accepted codings at 100 k segments a few hundred
        of 10 k codings, with a suggestion on every sentence nearly all."""
        kinds = [CMO.context.value, CMO.mechanism.value, CMO.outcome.value]

        def scoped(stmt):
            stmt = stmt.where(Coding.layer == SHARED, Coding.status.in_(list(statuses)),
                              Code.cmo.in_(kinds))
            if document_ids is not None:
                stmt = stmt.where(Coding.document_id.in_(list(document_ids)))
            if speaker_ids is not None:
                stmt = stmt.where(spoken_by(speaker_ids))
            if codes is not None:
                stmt = stmt.where(Code.key.in_(list(codes)))
            return stmt

        span = (select(func.substr(Turn.text, Coding.start_char - Turn.start_char + 1,
                                   Coding.end_char - Coding.start_char))
                .where(Turn.id == Segment.turn_id).scalar_subquery())
        unit = case((Coding.start_char.is_(None), Segment.text), else_=span)
        words = (func.length(func.trim(unit)) - func.length(func.replace(func.trim(unit), " ", ""))
                 + 1)
        stmt = (
            select(Coding.id.label("coding_id"), Coding.segment_id, Coding.document_id,
                   Document.site, Coding.turn_number.label("turn"), Code.key.label("code"),
                   Code.cmo, case((Coding.status == "accepted", 1), else_=0).label("decided"),
                   Segment.speaker_id, func.length(unit).label("length"))
            .join(Document, Document.id == Coding.document_id)
            .join(Code, Code.id == Coding.code_id)
            .join(Codebook, counted_code())
            .join(Segment, Segment.id == Coding.segment_id)
            .where(words >= min_words)
        )
        if self.engine.url.get_backend_name() == "sqlite":
            # (on PostgreSQL this first pass made the dense test's chains run past 20 s, not
            # investigated: there every coding reads its sentence)
            stmt = stmt.where(tuple_(Coding.document_id, Coding.turn_number).in_(
                _chained_turns(scoped, window)))
        stmt = scoped(stmt)
        # materialised: read once, then scanned per CMO kind (without the hint SQLite
        # inlined it into each use: 114 against 83 ms for the accepted chains at 100 k)
        return stmt.cte("coded").prefix_with("MATERIALIZED")


def _chained_turns(scoped: Callable[[Select], Select], window: int) -> Select:
    """(document, turn) of the turns within ``window`` of an outcome turn that has a
    context and a mechanism within ``window``, from the codings ``scoped`` keeps, fragments
    not left out (a coding row carries its document and turn: no sentence is read)."""
    turns = (scoped(select(Coding.document_id, Coding.turn_number.label("turn"),
                           Code.cmo.label("cmo"))
                    .join(Code, Code.id == Coding.code_id).join(Codebook, counted_code()))
             .distinct().cte("chain_turns").prefix_with("MATERIALIZED"))
    c, m = (_near(turns, kind, window, "turns_") for kind in (CMO.context, CMO.mechanism))
    chained = (select(turns.c.document_id, turns.c.turn)
               .join(c, and_(c.c.document_id == turns.c.document_id, c.c.turn == turns.c.turn))
               .join(m, and_(m.c.document_id == turns.c.document_id, m.c.turn == turns.c.turn))
               .where(turns.c.cmo == CMO.outcome.value).cte("chained"))
    offsets = _offsets(window, "chained")
    return select(chained.c.document_id, _turn(chained.c.turn + offsets.c.k)).join(
        offsets, true())


def _nearest(near: dict, kind: CMO, document_id: int, turn: int, window: int) -> dict:
    """Per code, the best ``kind`` champion within ``window`` turns of ``turn``, as
    ((in the turn, decided, -coding id), row): in the outcome's own turn first, then
    decided by a person, then the oldest (how :meth:`chain_evidence` ranks instances)."""
    out: dict[str, tuple[tuple[int, int, int], dict]] = {}
    for k in range(-window, window + 1):
        for r in near.get((kind.value, document_id, turn + k), ()):
            key = (int(k == 0), r["decided"], -r["coding_id"])
            if r["code"] not in out or key > out[r["code"]][0]:
                out[r["code"]] = (key, r)
    return out


def _turn(expr):
    """A turn number computed from another (turn + offset), typed as the column is: SQLite
    indexes a join only on operands of the same affinity (else it scans, quadratic)."""
    return cast(expr, Integer).label("turn")


def _offsets(window: int, name: str):
    """The window as rows of turn offsets ``k``: -window … window."""
    return union_all(*[select(literal(k).label("k"))
                       for k in range(-window, window + 1)]).cte(f"offsets_{name}")


def _near(places, kind: CMO, window: int, prefix: str = ""):
    """Each ``kind`` place of ``places`` (its code, when it has one) once per (document,
    turn) it can serve: its own turn and up to ``window`` turns before and after; a CTE of
    its own per kind (one CTE aliased twice left SQLite scanning one side of the join)."""
    offsets = _offsets(window, prefix + kind.value)
    cols = [places.c.document_id, _turn(places.c.turn + offsets.c.k)]
    if "code" in places.c:
        cols.append(places.c.code)
    # joining on an exact turn (turn + k) lets the database index the join, where a BETWEEN
    # range made SQLite compare every outcome with every context (quadratic); materialised,
    # or SQLite flattens it into the join and scans the places once per outcome
    return (select(*cols).join(offsets, true()).where(places.c.cmo == kind.value).distinct()
            .cte(f"{prefix}near_{kind.value}").prefix_with("MATERIALIZED"))


__all__ = ["AggregateOps"]
