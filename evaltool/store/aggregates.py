"""Dashboard aggregations, computed in SQL (GROUP BY), never by looping over codings.

Every query counts *quotes*: distinct coded segments of the shared layer whose
status is in ``statuses``, whose document is in ``document_ids`` (None = all) and
whose speaker is in ``speaker_ids`` (None = all; see :func:`evaltool.attributes.scope`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from typing import Any, TypeVar

from sqlalchemy import (
    Select,
    and_,
    case,
    distinct,
    func,
    literal,
    select,
    true,
    tuple_,
    union,
    union_all,
)
from sqlalchemy.orm import aliased

from evaltool.domain import (
    CMO,
    MIN_EVIDENCE_WORDS,
    QUOTE_CHARS,
    ChainSupport,
    ColumnSiteCount,
    StrongQuote,
)
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
            .join(Codebook, and_(Codebook.id == Code.codebook_id, Codebook.is_active))
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
        """(code key, status, codings) for the codebook page."""
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
        n_codes = (select(Coding.segment_id, func.count(distinct(Coding.code_id)).label("n"))
                   .where(shared).group_by(Coding.segment_id).cte("n_codes"))
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
                .join(Codebook, and_(Codebook.id == Code.codebook_id, Codebook.is_active))
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
                   min_words: int = MIN_EVIDENCE_WORDS) -> list[ChainSupport]:
        """Context–mechanism–outcome chains, in one query: a row per chain, document and
        outcome speaker with its count of distinct outcome sentences (no evidence: see
        :meth:`chain_evidence`).

        A chain instance is an outcome coding with a context coding and a mechanism coding
        of the same document in the outcome's turn or up to ``window`` turns before or
        after it (in a focus group one participant gives the circumstances and another
        what came of them). A coding whose coded words (its span, else its sentence) are
        fewer than ``min_words`` takes no part: such a fragment ("Ja.", "Både og.") leans
        on the question and carries no meaning alone.
        """
        inst = self._chain_instances(statuses, document_ids, speaker_ids, window, min_words)
        keys = [inst.c.context, inst.c.mechanism, inst.c.outcome, inst.c.document_id,
                inst.c.site, inst.c.speaker_id]
        stmt = (select(*keys, func.count(distinct(inst.c.segment_id)).label("quotes"))
                .group_by(*keys).order_by(*keys))
        with self.engine.connect() as conn:
            return [ChainSupport(**r._mapping) for r in conn.execute(stmt)]

    def chain_evidence(self, chains: Sequence[tuple[str, str, str]], statuses: Sequence[str],
                       document_ids: Sequence[int] | None = None,
                       speaker_ids: Sequence[int] | None = None, window: int = 1,
                       min_words: int = MIN_EVIDENCE_WORDS) -> list[ChainSupport]:
        """The best instance of each of ``chains`` (context, mechanism, outcome code keys)
        per document and outcome speaker, found as :meth:`cmo_chains` finds them: the one
        with the most of the chain in the outcome's own turn, then the most decided by a
        person, then the longest outcome, then the oldest codings."""
        if not chains:
            return []
        inst = self._chain_instances(
            statuses, document_ids, speaker_ids, window, min_words,
            codes=tuple({k for triple in chains for k in triple}))
        group = [inst.c.context, inst.c.mechanism, inst.c.outcome, inst.c.document_id,
                 inst.c.speaker_id]
        ranked = select(inst, func.row_number().over(
            partition_by=group,
            order_by=[inst.c.in_turn.desc(), inst.c.decided.desc(), inst.c.length.desc(),
                      inst.c.outcome_coding, inst.c.context_coding,
                      inst.c.mechanism_coding]).label("rank")).subquery("ranked")
        stmt = (select(ranked.c.context, ranked.c.mechanism, ranked.c.outcome,
                       ranked.c.document_id, ranked.c.site, ranked.c.speaker_id,
                       literal(0).label("quotes"), ranked.c.outcome_coding,
                       ranked.c.context_coding, ranked.c.mechanism_coding,
                       ranked.c.segment_id.label("outcome_segment"), ranked.c.context_segment,
                       ranked.c.mechanism_segment, ranked.c.in_turn, ranked.c.decided,
                       ranked.c.length)
                .where(ranked.c.rank == 1).order_by(*[ranked.c[k.name] for k in group]))
        wanted = set(chains)
        with self.engine.connect() as conn:
            rows = [ChainSupport(**r._mapping) for r in conn.execute(stmt)]
        return [r for r in rows if (r.context, r.mechanism, r.outcome) in wanted]

    def _chain_instances(self, statuses: Sequence[str], document_ids: Sequence[int] | None,
                         speaker_ids: Sequence[int] | None, window: int, min_words: int,
                         codes: tuple[str, ...] | None = None):
        """The chain instances (see :meth:`cmo_chains`) as a CTE, of ``codes`` only when given."""
        # 1. the window join on the codings alone (their rows carry document and turn: one
        # covering index, no sentence read)
        stmt = (
            select(Coding.id.label("coding_id"), Coding.segment_id, Coding.document_id,
                   Document.site, Coding.turn_number.label("turn"), Code.key.label("code"),
                   Code.cmo, case((Coding.status == "accepted", 1), else_=0).label("decided"))
            .join(Document, Document.id == Coding.document_id)
            .join(Code, Code.id == Coding.code_id)
            .join(Codebook, and_(Codebook.id == Code.codebook_id, Codebook.is_active))
            .where(Coding.layer == SHARED, Coding.status.in_(list(statuses)),
                   Code.cmo.in_([k.value for k in CMO]))
        )
        if document_ids is not None:
            stmt = stmt.where(Coding.document_id.in_(list(document_ids)))
        if speaker_ids is not None:
            stmt = stmt.where(spoken_by(speaker_ids))
        if codes is not None:
            stmt = stmt.where(Code.key.in_(list(codes)))
        coded = stmt.cte("coded")
        o, c, m = aliased(coded, name="o"), aliased(coded, name="c"), aliased(coded, name="m")
        # The window as rows of turn offsets: joining on an exact turn (o.turn + k) lets
        # the database index the join, where a BETWEEN range made SQLite compare every
        # outcome with every context coding (quadratic: 2 s at 10 k coded segments).
        offsets = union_all(*[select(literal(k).label("k"))
                              for k in range(-window, window + 1)]).cte("offsets")
        oc, om = aliased(offsets, name="oc"), aliased(offsets, name="om")

        def near(x, off):
            return and_(x.c.document_id == o.c.document_id, x.c.turn == o.c.turn + off.c.k)

        raw = (
            select(c.c.code.label("context"), m.c.code.label("mechanism"),
                   o.c.code.label("outcome"), o.c.document_id, o.c.site, o.c.segment_id,
                   o.c.coding_id.label("outcome_coding"), c.c.coding_id.label("context_coding"),
                   m.c.coding_id.label("mechanism_coding"),
                   c.c.segment_id.label("context_segment"),
                   m.c.segment_id.label("mechanism_segment"),
                   (case((c.c.turn == o.c.turn, 1), else_=0)
                    + case((m.c.turn == o.c.turn, 1), else_=0)).label("in_turn"),
                   (o.c.decided + c.c.decided + m.c.decided).label("decided"))
            .select_from(o)
            .join(oc, true())
            .join(c, and_(near(c, oc), c.c.cmo == CMO.context.value))
            .join(om, true())
            .join(m, and_(near(m, om), m.c.cmo == CMO.mechanism.value))
            .where(o.c.cmo == CMO.outcome.value)
        ).cte("raw")
        # 2. only the codings that take part read their words: fragments drop out here
        taking_part = union(select(raw.c.outcome_coding), select(raw.c.context_coding),
                            select(raw.c.mechanism_coding))
        span = (select(func.substr(Turn.text, Coding.start_char - Turn.start_char + 1,
                                   Coding.end_char - Coding.start_char))
                .where(Turn.id == Segment.turn_id).scalar_subquery())
        unit = case((Coding.start_char.is_(None), Segment.text), else_=span)
        words = (func.length(func.trim(unit)) - func.length(func.replace(func.trim(unit), " ", ""))
                 + 1)
        parts = (select(Coding.id, Segment.speaker_id, func.length(unit).label("length"))
                 .join(Segment, Segment.id == Coding.segment_id)
                 .where(Coding.id.in_(taking_part), words >= min_words)).cte("parts")
        po, pc, pm = (aliased(parts, name=n) for n in ("po", "pc", "pm"))
        return (
            select(raw, po.c.speaker_id, po.c.length)
            .join(po, po.c.id == raw.c.outcome_coding)
            .join(pc, pc.c.id == raw.c.context_coding)
            .join(pm, pm.c.id == raw.c.mechanism_coding)
        ).cte("instances")


__all__ = ["AggregateOps"]
