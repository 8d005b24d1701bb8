"""What the dashboards show: themes, goals, change-theory columns, CMO chains.

Counts come from SQL aggregations in the store; this module only arranges them (with
the codebook's labels and the documents' sites and target groups) into typed rows, one
list per view (theme cards, site × theme, column × site, goal coverage, chains). The UI
and the report own the words and the tables. A *quote* is a coded segment; counts are
distinct quotes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pandas as pd

from evaltool.attributes import AttributeFilter, Scope, scope_of, target_group_choices
from evaltool.chains import ChainBuilder
from evaltool.domain import (
    CMO_KINDS,
    Chain,
    ChainSupport,
    ColumnSiteCount,
    GoalCoverage,
    Matrix,
    SiteThemeCount,
    ThemeCard,
    attribute_values,
    quote_target_groups,
)
from evaltool.errors import ChainsTooHeavyError
from evaltool.formats import CMO_LABELS
from evaltool.quotes import TurnQuotes

__all__ = [
    "CMO_LABELS",
    "CodeCount",
    "Dashboard",
    "ThemeCard",
    "code_counts",
    "dashboard",
    "filter_options",
    "matrix_frame",
    "matrix_quotes",
]

T = TypeVar("T")

CHAINS_WITH_EVIDENCE = 50  # the dashboard's chains that come with their evidence turns


@dataclass
class Dashboard:
    """Everything the dashboard page draws, one list per view."""

    themes: list[ThemeCard]
    site_theme: list[SiteThemeCount]
    column_site: list[ColumnSiteCount]
    goals: list[GoalCoverage]
    configurations: list[Chain]  # ranked: most sites, then documents, then quotes
    sites: list[str]
    statuses: tuple[str, ...]
    scope: Scope = field(default_factory=Scope)  # the quotes the filters left
    # the chain query was stopped at its time budget (these seconds): no configurations
    chains_stopped: float | None = None
    # the chain query's rows (Store.cmo_chains) for the filters, None when it was stopped:
    # the report builds its chapters' chains from them instead of asking again
    chain_rows: list[ChainSupport] | None = None


def filter_options(store) -> dict[str, list[str]]:
    """Sites in the documents, and target groups in the documents and of the speakers."""
    docs = store.document_facets()
    return {"sites": sorted({d.site for d in docs if d.site}),
            "target_groups": target_group_choices(docs, store.speaker_facets())}


def dashboard(store, *, statuses: Sequence[str] = ("accepted",), site: str | None = None,
              target_group: str | None = None, filters: Sequence[AttributeFilter] = (),
              quotes_per_theme: int = 3) -> Dashboard:
    """Build the dashboard for the active codebook: quotes of ``site``, of ``target_group``
    (a quote's is its speaker's, else its document's) and matching the attribute
    ``filters``."""
    statuses = tuple(statuses)
    content = store.active_codebook()["content"]
    docs = {d.id: d for d in store.document_facets()}
    speakers = {s.id: s for s in store.speaker_facets()}
    chosen = scope_of(list(docs.values()), list(speakers.values()), site=site,
                      target_group=target_group, filters=filters)
    doc_ids, speaker_ids = chosen.documents, chosen.speakers
    all_sites = sorted({d.site for i, d in docs.items() if d.site and (doc_ids is None or i in doc_ids)})
    # a speaker's own target groups change whose quotes reach which group: in the documents
    # where a speaker has some, the theme cards' groups are found per speaker
    split = sorted({s.document_id for s in speakers.values() if s.target_groups}
                   & (set(docs) if doc_ids is None else set(doc_ids)))

    # Quotes per (category, document) are exact distinct counts; a segment belongs to one
    # document, so sums over documents (per site or in total) stay exact.
    themes = [t["id"] for t in content["themes"]]
    # independent aggregations, run at the same time (see Store.concurrently)
    by_doc, by_cmo, candidates, by_column, chain_rows, theme_speakers = store.concurrently(
        lambda: store.count_by_category_document(("theme", "goal"), statuses, doc_ids,
                                                 speaker_ids),
        lambda: store.count_by_category("theme", statuses, doc_ids, speaker_ids),
        # extra candidates: a quote already shown for an earlier theme gives way
        lambda: store.strongest_quotes(themes, statuses, doc_ids,
                                       limit=quotes_per_theme * (len(themes) + 1),
                                       speaker_ids=speaker_ids),
        lambda: store.count_by_column(statuses, doc_ids, speaker_ids),
        lambda: _or_stopped(lambda: store.cmo_chains(statuses, doc_ids, speaker_ids)),
        lambda: store.count_by_category_speaker("theme", statuses, split, speaker_ids)
        if split else [])
    per_doc: dict[str, list[tuple[str, int, int]]] = {"theme": [], "goal": []}
    for kind, key, doc_id, n in by_doc:
        per_doc[kind].append((key, doc_id, n))
    cards = _theme_cards(content, per_doc["theme"], by_cmo, candidates, theme_speakers, docs,
                         speakers, set(split), quotes_per_theme)
    labels = {c.key: c.label for c in store.codes(include_retired=True)}
    if isinstance(chain_rows, ChainsTooHeavyError):
        configurations, stopped, chain_rows = [], chain_rows.seconds, None
    else:
        builder = ChainBuilder(store, chain_rows, TurnQuotes(store), labels, statuses, doc_ids,
                               speaker_ids)
        configurations = builder.chains(evidence=CHAINS_WITH_EVIDENCE)
        stopped = builder.stopped  # the evidence query ran past its budget
    return Dashboard(cards, _site_theme(content, per_doc["theme"], docs), by_column,
                     _goal_coverage(content, per_doc["goal"], docs, all_sites), configurations,
                     all_sites, statuses, chosen, stopped, chain_rows)


def _or_stopped(call: Callable[[], T]) -> T | ChainsTooHeavyError:
    """The chains ``call`` finds, or the error that stopped them at their time budget (the
    rest of the dashboard is still worth showing)."""
    try:
        return call()
    except ChainsTooHeavyError as exc:
        return exc


def _sites(per_doc: list[tuple[str, int, int]], docs: dict[int, Any]
           ) -> dict[str, tuple[int, set[str]]]:
    """Quotes and sites of each category from its per-document counts."""
    out: dict[str, tuple[int, set[str]]] = {}
    for key, doc_id, n in per_doc:
        quotes, sites = out.get(key, (0, set()))
        out[key] = (quotes + n, sites | ({docs[doc_id].site} if docs[doc_id].site else set()))
    return out


def _theme_cards(content: dict, per_doc: list[tuple[str, int, int]], by_cmo: list[tuple],
                 candidates: dict, theme_speakers: list[tuple], docs: dict, speakers: dict,
                 split_docs: set[int], quotes_per_theme: int) -> list[ThemeCard]:
    """A card per theme: its quotes, sites, target groups, CMO counts, strongest quotes (a
    quote shown under an earlier theme gives way)."""
    theme_cmo: dict[str, dict[str, int]] = {}
    for key, cmo_kind, n in by_cmo:
        theme_cmo.setdefault(key, dict.fromkeys(CMO_KINDS, 0))[cmo_kind] = n
    totals = _sites(per_doc, docs)
    cards = []
    shown: set[int] = set()
    for theme in content["themes"]:
        key = theme["id"]
        quotes, sites = totals.get(key, (0, set()))
        groups = sorted({g for k, d, _ in per_doc if k == key and d not in split_docs
                         for g in docs[d].target_groups}
                        | {g for k, sid, _ in theme_speakers if k == key and sid in speakers
                           for g in quote_target_groups(
                               speakers[sid].attributes,
                               docs[speakers[sid].document_id].attributes)})
        strongest = [q for q in candidates.get(key, [])
                     if q.segment_id not in shown][:quotes_per_theme]
        shown.update(q.segment_id for q in strongest)
        cards.append(ThemeCard(key, theme["label"], theme.get("description", ""),
                               list(theme.get("goals", [])), quotes, sorted(sites), groups,
                               theme_cmo.get(key, dict.fromkeys(CMO_KINDS, 0)), strongest))
    return cards


def _site_theme(content: dict, per_doc: list[tuple[str, int, int]], docs: dict
                ) -> list[SiteThemeCount]:
    """Quotes per site and theme (a document without a site counts under its name)."""
    labels = {t["id"]: t["label"] for t in content["themes"]}
    by_site: dict[tuple[str, str], int] = {}
    for key, doc_id, n in per_doc:
        site_key = (docs[doc_id].site or docs[doc_id].name, key)
        by_site[site_key] = by_site.get(site_key, 0) + n
    return [SiteThemeCount(s, k, labels.get(k, k), n) for (s, k), n in sorted(by_site.items())]


def _goal_coverage(content: dict, per_doc: list[tuple[str, int, int]], docs: dict,
                   all_sites: list[str]) -> list[GoalCoverage]:
    """Each goal's quotes and the share of the sites that speak to it."""
    totals = _sites(per_doc, docs)
    out = []
    for g in content["goals"]:
        quotes, sites = totals.get(g["id"], (0, set()))
        out.append(GoalCoverage(g["id"], g["label"], quotes, len(sites),
                                len(sites) / len(all_sites) if all_sites else 0.0))
    return out


@dataclass(frozen=True)
class CodeCount:
    """One code's quotes, on its own and with the codes under it, in tree order."""

    key: str
    label: str
    path: str  # Forælder › Barn
    depth: int
    cmo: str
    quotes: int
    with_children: int


def code_counts(store, *, statuses: Sequence[str] = ("accepted",), site: str | None = None,
                target_group: str | None = None, filters: Sequence[AttributeFilter] = ()
                ) -> list[CodeCount]:
    """Quotes per code of the active codebook in tree order, rolled up to parents (the
    quotes chosen as :func:`dashboard` chooses them)."""
    from evaltool import codetree

    codes = store.codes()
    chosen = scope_of(store.document_facets(), store.speaker_facets(), site=site,
                      target_group=target_group, filters=filters)
    counts = {k: (own, total) for k, own, total in
              store.count_by_code_tree(tuple(statuses), chosen.documents, chosen.speakers)}
    parents = codetree.parents_of((c.key, c.parent) for c in codes)
    labels = {c.key: c.label for c in codes}
    by_key = {c.key: c for c in codes}
    return [CodeCount(k, labels[k], codetree.path(k, parents, labels), depth, by_key[k].cmo,
                      *counts.get(k, (0, 0)))
            for k, depth in codetree.tree_order(parents)]


def matrix_frame(m: Matrix, normalize: str | None = None) -> pd.DataFrame:
    """A matrix as a frame: code keys as index, one column per column key; counts, or
    Jaccard shares with ``normalize='jaccard'`` (empty where neither has units)."""
    if normalize not in (None, "jaccard"):
        raise ValueError(f"unknown normalisation {normalize!r}")
    data = [[m.count(r, c) if normalize is None else m.jaccard(r, c) for c in m.cols]
            for r in m.rows]
    frame = pd.DataFrame(data, index=pd.Index(m.rows, name=m.row_dim), columns=list(m.cols),
                         dtype=float if normalize else int)
    return frame


def matrix_quotes(store, m: Matrix, row: str, col: str,
                  statuses: Sequence[str] = ("accepted",), scope: Scope | None = None) -> list:
    """The codings of ``row``'s code behind one cell of ``m`` (its quotes), in text order;
    ``scope`` (the matrix's filter) leaves out the quotes outside it."""
    def views(code: str) -> list:
        return [v for s in statuses for v in store.coding_views(status=s, code_key=code)
                if scope is None or scope.allows(v.document_id, v.speaker)]

    mine = views(row)
    if m.col_dim == "code":
        other = views(col)
        if m.unit == "segment":
            segments = {v.segment_id for v in other}
            mine = [v for v in mine if v.segment_id in segments]
        else:
            turns = {(v.document_id, v.turn) for v in other}
            mine = [v for v in mine if any((v.document_id, v.turn + d) in turns
                                           for d in range(-m.window, m.window + 1))]
    elif m.col_dim == "site":
        mine = [v for v in mine if v.site == col]
    elif m.col_dim == "role":
        mine = [v for v in mine if (v.role or "") == col]
    elif m.col_dim == "document":
        mine = [v for v in mine if v.document == col]
    elif m.col_dim == "target_group" or m.col_dim.startswith("speaker:"):
        docs = {d.id: d.attributes for d in store.document_facets()}
        key = m.col_dim.removeprefix("speaker:")
        ours = {(s.document_id, s.name) for s in store.speaker_facets()
                if col in (quote_target_groups(s.attributes, docs.get(s.document_id, {}))
                           if m.col_dim == "target_group" else
                           attribute_values(s.attributes.get(key)))}
        mine = [v for v in mine if (v.document_id, v.speaker) in ours]
    else:
        key = m.col_dim.removeprefix("attr:")
        docs = {d.id for d in store.document_facets()
                if col in (d.attributes.get(key) if isinstance(d.attributes.get(key), list)
                           else [d.attributes.get(key)])}
        mine = [v for v in mine if v.document_id in docs]
    unique = {v.segment_id: v for v in mine}
    return sorted(unique.values(), key=lambda v: (v.document_id, v.start_char))
