"""What the dashboards show: themes, goals, change-theory columns, CMO configurations.

Counts come from SQL aggregations in the store; this module only arranges them
(with the codebook's labels and the documents' sites and target groups) into
tables the UI draws. A *quote* is a coded segment; counts are distinct quotes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

CMO_KINDS = ("context", "mechanism", "outcome")
CMO_LABELS = {"context": "Kontekst", "mechanism": "Mekanisme", "outcome": "Udfald"}


@dataclass
class ThemeCard:
    """One theme's summary for project leads."""

    id: str
    label: str
    description: str
    goals: list[str]
    quotes: int
    sites: list[str]
    target_groups: list[str]
    cmo: dict[str, int]
    strongest: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Dashboard:
    """Everything the dashboard page draws."""

    themes: list[ThemeCard]
    site_theme: pd.DataFrame
    column_site: pd.DataFrame
    goals: pd.DataFrame
    configurations: pd.DataFrame
    sites: list[str]
    statuses: tuple[str, ...]


def select_documents(store, site: str | None = None, target_group: str | None = None
                     ) -> list[int] | None:
    """Document ids matching a site and/or target group (None = no filter)."""
    if not site and not target_group:
        return None
    return [d.id for d in store.list_documents()
            if (not site or d.site == site) and (not target_group or target_group in d.target_groups)]


def filter_options(store) -> dict[str, list[str]]:
    """Sites and target groups present in the documents."""
    docs = store.list_documents()
    return {"sites": sorted({d.site for d in docs if d.site}),
            "target_groups": sorted({g for d in docs for g in d.target_groups})}


def dashboard(store, *, statuses: Sequence[str] = ("accepted",), site: str | None = None,
              target_group: str | None = None, quotes_per_theme: int = 3) -> Dashboard:
    """Build the dashboard for the active codebook."""
    statuses = tuple(statuses)
    content = store.active_codebook()["content"]
    docs = {d.id: d for d in store.list_documents()}
    doc_ids = select_documents(store, site, target_group)
    all_sites = sorted({d.site for i, d in docs.items() if d.site and (doc_ids is None or i in doc_ids)})
    code_labels = {c.key: c.label for c in store.codes(include_retired=True)}

    by_theme = store.count_by_category("theme", statuses, doc_ids)
    totals = {k: (n, s) for k, n, s in store.totals_by_category("theme", statuses, doc_ids)}
    theme_docs: dict[str, set[int]] = {}
    for key, doc_id, _ in store.count_by_category_document("theme", statuses, doc_ids):
        theme_docs.setdefault(key, set()).add(doc_id)
    cards = []
    for theme in content["themes"]:
        key = theme["id"]
        rows = [r for r in by_theme if r[0] == key]
        cmo = {k: 0 for k in CMO_KINDS}
        for _, _, kind, n in rows:
            cmo[kind] = cmo.get(kind, 0) + n
        sites = sorted({r[1] for r in rows if r[1]})
        groups = sorted({g for d in theme_docs.get(key, ()) for g in docs[d].target_groups})
        strongest = store.strongest_quotes(key, statuses, doc_ids, limit=quotes_per_theme)
        for q in strongest:
            q["code_label"] = code_labels.get(q["code"], q["code"])
        cards.append(ThemeCard(key, theme["label"], theme.get("description", ""),
                               list(theme.get("goals", [])), totals.get(key, (0, 0))[0], sites,
                               groups, cmo, strongest))

    theme_labels = {t["id"]: t["label"] for t in content["themes"]}
    site_theme = pd.DataFrame(
        [{"Sted": s, "Tema": k, "Temanavn": theme_labels.get(k, k), "Citater": n}
         for k, s, n in _sum_by(by_theme, (0, 1))],
        columns=["Sted", "Tema", "Temanavn", "Citater"])
    column_site = pd.DataFrame(
        [{"Kolonne": c, "Sted": s, "Citater": n} for c, s, n in store.count_by_column(statuses, doc_ids)],
        columns=["Kolonne", "Sted", "Citater"])
    goal_totals = {k: (n, s) for k, n, s in store.totals_by_category("goal", statuses, doc_ids)}
    goals = pd.DataFrame(
        [{"Mål": g["id"], "Målnavn": g["label"], "Citater": goal_totals.get(g["id"], (0, 0))[0],
          "Steder": goal_totals.get(g["id"], (0, 0))[1],
          "Dækning": (goal_totals.get(g["id"], (0, 0))[1] / len(all_sites)) if all_sites else 0.0}
         for g in content["goals"]],
        columns=["Mål", "Målnavn", "Citater", "Steder", "Dækning"])
    configs = store.cmo_configurations(statuses, doc_ids)
    examples = store.segment_texts([c["example_segment"] for c in configs])
    configurations = pd.DataFrame(
        [{"Sted": c["site"], "Kontekst": code_labels.get(c["context"], c["context"]),
          "Mekanisme": code_labels.get(c["mechanism"], c["mechanism"]),
          "Udfald": code_labels.get(c["outcome"], c["outcome"]), "Citater": c["n"],
          "Eksempel": examples.get(c["example_segment"], {}).get("text", ""),
          "Rolle": examples.get(c["example_segment"], {}).get("role") or ""}
         for c in configs],
        columns=["Sted", "Kontekst", "Mekanisme", "Udfald", "Citater", "Eksempel", "Rolle"])
    return Dashboard(cards, site_theme, column_site, goals, configurations, all_sites, statuses)


def _sum_by(rows: list[tuple], key_idx: tuple[int, int]) -> list[tuple]:
    """Sum the last column of rows grouped by two key columns (CMO kinds collapsed).

    Distinct quotes per (theme, site) can be counted once per CMO kind when a
    segment has codes of two kinds; the heatmap shows coding volume, so that is
    the intended unit there.
    """
    out: dict[tuple, int] = {}
    for r in rows:
        k = (r[key_idx[0]], r[key_idx[1]])
        out[k] = out.get(k, 0) + r[-1]
    return [(*k, n) for k, n in sorted(out.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1])))]
