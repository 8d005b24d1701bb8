"""Chart specifications (Altair) shared by the dashboard and the report, and PNG rendering.

The dashboard draws these charts with ``st.altair_chart``; the report renders the same
specs to PNG with vl-convert (which bundles its own Vega engine: no browser, no network).
Labels are Danish, as everywhere the charts are shown.
"""

from __future__ import annotations

from collections.abc import Iterable

import altair as alt
import pandas as pd

from evaltool.domain import CMO_KINDS, ThemeChapter
from evaltool.formats import CMO_LABELS

# counts are whole numbers: integer ticks only (no "0.000000" on an axis of zeros)
COUNT_AXIS = alt.Axis(format="d", tickMinStep=1)
CMO_ORDER = [CMO_LABELS[k] for k in CMO_KINDS]


def cmo_bars(rows: Iterable[tuple[str, str, int]], group_title: str | None = None) -> alt.Chart:
    """Horizontal bars of quotes per group, coloured by CMO kind: ``rows`` are (group, CMO
    kind, quotes). A theme card's groups are the CMO kinds themselves; a chapter's, its sites."""
    data = pd.DataFrame([{"Gruppe": g, "CMO": CMO_LABELS.get(k, k), "Citater": n}
                         for g, k, n in rows], columns=["Gruppe", "CMO", "Citater"])
    return alt.Chart(data).mark_bar().encode(
        x=alt.X("sum(Citater):Q", title="Citater", axis=COUNT_AXIS),
        y=alt.Y("Gruppe:N", title=group_title, sort=None),
        color=alt.Color("CMO:N", sort=CMO_ORDER, scale=alt.Scale(domain=CMO_ORDER),
                        legend=None if group_title is None else alt.Legend(title=None)),
        order=alt.Order("CMO_rank:Q"), tooltip=["Gruppe", "CMO", "Citater"],
    ).transform_calculate(
        CMO_rank=f"indexof({CMO_ORDER!r}, datum.CMO)"
    ).properties(height=alt.Step(26))


def theme_card_chart(cmo: dict[str, int]) -> alt.Chart:
    """A theme's quotes per CMO kind (the dashboard's theme card)."""
    return cmo_bars([(CMO_LABELS.get(k, k), k, cmo.get(k, 0)) for k in CMO_KINDS])


def chapter_chart(chapter: ThemeChapter) -> alt.Chart:
    """A theme chapter's quotes per site by CMO kind (the report's chart, the chapter page's)."""
    rows = [(s.site, k, s.cmo.get(k, 0)) for s in chapter.sections for k in CMO_KINDS]
    return cmo_bars(rows, "Sted").properties(
        title=f"Citater pr. sted: {chapter.label}", width=420)


def png(chart: alt.Chart, scale: float = 2.0) -> bytes:
    """The chart as PNG bytes, rendered offline by vl-convert."""
    import vl_convert

    return vl_convert.vegalite_to_png(chart.to_json(), scale=scale)
