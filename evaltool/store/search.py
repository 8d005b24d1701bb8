"""Search over the segments of ready documents: one function, three ways to narrow.

SQLite with FTS5 and PostgreSQL narrow the candidates with their full-text index
(migration 0009); SQLite without FTS5 reads every segment the filters leave.
Which candidates match, and where, is decided by :func:`evaltool.search.locate`,
so every backend returns the same hits.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Engine, and_, exists, func, literal_column, select, text

from evaltool.attributes import Scope
from evaltool.domain import KWIC_WIDTH, CodingStatus, SearchHit
from evaltool.search import Query, Term, locate, parse, stem
from evaltool.store.models import READY, Code, Coding, Document, Segment, Speaker, Turn

FTS_TABLE = "segments_fts"
PG_INDEX = "ix_segments_search"
DEFAULT_LIMIT = 200


def not_search_index(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic ``include_name`` filter: False for the search index (FTS5 tables, the GIN
    expression index), which migration 0009 creates outside the ORM models."""
    if type_ == "index":
        return name != PG_INDEX
    return not (type_ == "table" and name is not None and name.startswith(FTS_TABLE))


def _fts5_query(query: Query, lemma: bool) -> str:
    """An FTS5 MATCH expression finding (at least) every segment the query matches."""

    def word(w: str, prefix: bool) -> str:
        star = " *" if prefix else ""
        if not lemma:
            return f'text : "{w}"{star}'
        if prefix:
            return f'(text : "{w}" * OR lemmas : "{w}" *)'
        return f'(text : "{w}" OR lemmas : "{stem(w) or w}" *)'

    def term(t: Term) -> str:
        if not lemma:
            star = " *" if t.prefix else ""
            return f'text : "{" ".join(t.words)}"{star}'
        n = len(t.words)
        return "(" + " AND ".join(word(w, t.prefix and i == n - 1) for i, w in enumerate(t.words)) + ")"

    return " AND ".join("(" + " OR ".join(term(t) for t in clause) + ")" for clause in query.clauses)


def _tsquery(query: Query, lemma: bool) -> str:
    """A PostgreSQL tsquery (config 'simple') finding every segment the query matches."""

    def word(w: str, prefix: bool) -> str:
        if prefix:
            return f"'{w}':*"
        return f"('{w}' | '{stem(w) or w}':*)" if lemma else f"'{w}'"

    def term(t: Term) -> str:
        n = len(t.words)
        return "(" + " & ".join(word(w, t.prefix and i == n - 1) for i, w in enumerate(t.words)) + ")"

    return " & ".join("(" + " | ".join(term(t) for t in clause) + ")" for clause in query.clauses)


def _has_fts5(conn: Connection) -> bool:
    return conn.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (FTS_TABLE,)
    ).first() is not None


class SearchOps:
    """Full-text search (mixed into :class:`evaltool.store.Store`)."""

    engine: Engine

    def search(self, query: str, *, lemma: bool = False, documents: Sequence[int] = (),
               site: str | None = None, role: str | None = None, code: str | None = None,
               status: Sequence[str] = (), scope: Scope | None = None,
               limit: int = DEFAULT_LIMIT) -> list[SearchHit]:
        """Sentences of ready documents matching ``query`` (syntax: :mod:`evaltool.search`):
        the first ``limit`` in the order they were imported, sorted by document and place.

        Filters: document ids, site, speaker role (as at the turn), a code key the
        sentence is coded with, coding statuses (with ``code``: that code's codings;
        alone: any coding; default with a code: suggested or accepted), and an attribute
        filter's ``scope`` (:func:`evaltool.attributes.scope`: its documents and speakers).
        :class:`~evaltool.errors.SearchSyntaxError` for a query that cannot be read.
        """
        parsed = parse(query)
        if scope is not None and scope.documents == ():
            return []  # the attribute filter leaves no quotes
        role_col = func.coalesce(Turn.role, Speaker.role)
        stmt = (
            select(Segment.id, Segment.document_id, Document.name, Document.site, Turn.number,
                   Speaker.name.label("speaker"), role_col.label("role"), Segment.start_char,
                   Segment.text, Segment.tokens)
            .join(Document, and_(Document.id == Segment.document_id, Document.status == READY))
            .join(Turn, Turn.id == Segment.turn_id)
            .join(Speaker, Speaker.id == Segment.speaker_id)
            # Segment ids grow through a document's text, and full-text indexes yield
            # candidates in id order: no sort of all candidates, and reading stops at `limit`.
            .order_by(Segment.id)
        )
        if documents:
            stmt = stmt.where(Segment.document_id.in_(list(documents)))
        if scope is not None and scope.documents is not None:
            stmt = stmt.where(Segment.document_id.in_(list(scope.documents)))
        if scope is not None and scope.speakers is not None:
            stmt = stmt.where(Segment.speaker_id.in_(list(scope.speakers)))
        if site is not None:
            stmt = stmt.where(Document.site == site)
        if role is not None:
            stmt = stmt.where(role_col == role)
        if code is not None or status:
            statuses = list(status) or [CodingStatus.suggested.value, CodingStatus.accepted.value]
            coded = select(Coding.id).where(Coding.segment_id == Segment.id,
                                            Coding.status.in_(statuses))
            if code is not None:
                coded = coded.join(Code, Code.id == Coding.code_id).where(Code.key == code)
            stmt = stmt.where(exists(coded))
        with self.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                vector = func.to_tsvector(literal_column("'simple'::regconfig"),
                                          Segment.text + literal_column("' '") + Segment.lemmas)
                stmt = stmt.where(vector.op("@@")(
                    func.to_tsquery(literal_column("'simple'::regconfig"), _tsquery(parsed, lemma))))
            elif conn.dialect.name == "sqlite" and _has_fts5(conn):
                stmt = stmt.where(Segment.id.in_(
                    text(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :fts")
                    .bindparams(fts=_fts5_query(parsed, lemma))))
            hits: list[SearchHit] = []
            for row in conn.execute(stmt):
                span = locate(parsed, row.text, row.tokens or [], lemma)
                if span is None:
                    continue
                start, end = span
                hits.append(SearchHit(
                    document_id=row.document_id, document=row.name, site=row.site,
                    turn=row.number, speaker=row.speaker, role=row.role, segment_id=row.id,
                    start=row.start_char + start, end=row.start_char + end,
                    left=row.text[max(0, start - KWIC_WIDTH):start], match=row.text[start:end],
                    right=row.text[end:end + KWIC_WIDTH]))
                if len(hits) >= limit:
                    break
        return sorted(hits, key=lambda h: (h.document_id, h.start))

    def speaker_roles(self) -> list[str]:
        """The distinct speaker roles in ready documents (as at each turn), sorted."""
        role = func.coalesce(Turn.role, Speaker.role)
        stmt = (select(role).distinct().join(Speaker, Speaker.id == Turn.speaker_id)
                .join(Document, and_(Document.id == Turn.document_id, Document.status == READY))
                .where(role.is_not(None)))
        with self.engine.connect() as conn:
            return sorted(r for r in conn.scalars(stmt) if r)
