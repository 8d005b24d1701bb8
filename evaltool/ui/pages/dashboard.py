"""Dashboard for project leads: themes, sites, change-theory columns, goals, CMO configurations."""

from __future__ import annotations

from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from evaltool import charts
from evaltool.analysis import code_counts, dashboard, filter_options
from evaltool.formats import CMO_LABELS
from evaltool.ui import filters, state
from evaltool.ui.codes import indented
from evaltool.ui.text import chains_stopped, count, md, number, percent
from evaltool.ui.widgets import select

KEY = "dash_"
CHAPTER_PAGE = Path(__file__).parent / "chapter_page.py"  # a theme card links to its chapter


@st.cache_data(show_spinner=False, max_entries=32)
def _dashboard(version: tuple, statuses: tuple[str, ...], site: str | None, group: str | None,
               chosen: tuple = ()):
    """Aggregations (SQL) for the chosen filters, cached per data version (a plain
    parameter: Streamlit leaves ``_``-prefixed parameters out of the cache key)."""
    return dashboard(state.get_store(), statuses=statuses, site=site, target_group=group,
                     filters=filters.as_filters(chosen))


@st.cache_data(show_spinner=False, max_entries=32)
def _code_counts(version: tuple, statuses: tuple[str, ...], site: str | None, group: str | None,
                 chosen: tuple = ()):
    """Quotes per code, rolled up to parents (cached per data version, like the rest)."""
    return code_counts(state.get_store(), statuses=statuses, site=site, target_group=group,
                       filters=filters.as_filters(chosen))


def _codes_table(rows) -> None:
    """Quotes per code in the hierarchy: a parent's own and with its sub-codes."""
    st.subheader("Koder")
    st.caption("Citater pr. kode; en overordnet kode tæller også citaterne under sine "
               "underkoder (et citat tælles én gang).")
    frame = pd.DataFrame(
        [{"Kode": indented(r.label, r.depth), "CMO": CMO_LABELS.get(r.cmo, r.cmo),
          "Citater": r.quotes, "Inkl. underkoder": r.with_children} for r in rows],
        columns=["Kode", "CMO", "Citater", "Inkl. underkoder"])
    st.dataframe(frame, hide_index=True, width="stretch")


@st.cache_data(show_spinner=False, max_entries=4)
def _options(version: tuple) -> dict[str, list[str]]:
    """Sites, and target groups of documents and speakers, per data version."""
    return filter_options(state.get_store())


def _filters() -> tuple[tuple[str, ...], str | None, str | None, tuple]:
    options = _options(state.data_version())
    c = st.columns([2, 2, 2, 2, 2])
    site = select("Sted", [None, *options["sites"]], format_func=lambda s: s or "Alle",
                  where=c[0], key=f"{KEY}site")
    group = select("Målgruppe", [None, *options["target_groups"]], where=c[1],
                   format_func=lambda g: g or "Alle", key=f"{KEY}group",
                   help="Et citats målgruppe er talerens, når taleren har en; ellers dokumentets.")
    chosen = filters.attribute_filter(KEY, c[2], c[3])
    with_suggestions = c[4].toggle("Medtag forslag (ikke kun accepterede)", key=f"{KEY}sugg")
    statuses = ("accepted", "suggested") if with_suggestions else ("accepted",)
    return statuses, site, group, chosen


def _theme_card(card) -> None:
    """One theme: counts, reach, CMO breakdown, strongest quotes."""
    with st.container(border=True):
        st.markdown(f"#### {md(card.id)} · {md(card.label)}")
        st.page_link(CHAPTER_PAGE, label="Åbn temakapitlet", icon=":material/menu_book:",
                     query_params={"tema": card.id})
        m = st.columns(3)
        m[0].metric("Citater", number(card.quotes))
        m[1].metric("Steder", number(len(card.sites)))
        m[2].metric("Målgrupper", number(len(card.target_groups)))
        if card.target_groups:
            st.caption("Målgrupper: " + md(", ".join(card.target_groups)))
        st.altair_chart(charts.theme_card_chart(card.cmo), width="stretch")
        st.markdown("**Stærkeste citater**")
        if not card.strongest:
            st.caption("Ingen citater endnu.")
        for q in card.strongest:
            who = ", ".join(x for x in [q.role, q.site] if x)
            st.markdown(f"> {md(q.text)}")
            st.caption(f"{md(who)} · {md(q.code_label)}"
                       + (" · forslag" if q.status == "suggested" else ""))


def _configurations(chains) -> pd.DataFrame:
    """The CMO chains as a table: support, and the turn holding the outcome as example."""
    return pd.DataFrame(
        [{"Sted": c.site, "Kontekst": c.context, "Mekanisme": c.mechanism, "Udfald": c.outcome,
          "Steder": len(c.sites), "Dokumenter": c.documents, "Citater": c.quotes,
          "Eksempel": c.evidence[0].text if c.evidence else "",
          "Rolle": (c.evidence[0].role or "") if c.evidence else ""} for c in chains],
        columns=["Sted", "Kontekst", "Mekanisme", "Udfald", "Steder", "Dokumenter", "Citater",
                 "Eksempel", "Rolle"])


def _heatmap(data: pd.DataFrame, x: str, y: str, title: str) -> None:
    if data.empty:
        st.caption(f"{title}: ingen data.")
        return
    base = alt.Chart(data).encode(
        x=alt.X(f"{x}:N", title=None, axis=alt.Axis(labelAngle=-30, labelLimit=160)),
        y=alt.Y(f"{y}:N", title=None, axis=alt.Axis(labelOverlap=False, labelLimit=220)))
    rect = base.mark_rect().encode(color=alt.Color("Citater:Q", scale=alt.Scale(scheme="blues"),
                                                   legend=alt.Legend(format="d", tickMinStep=1)),
                                   tooltip=[x, y, "Citater"])
    # white numbers on dark cells, black on light ones
    dark = alt.datum.Citater > float(data["Citater"].max()) * 0.6
    text = base.mark_text(baseline="middle").encode(
        text="Citater:Q", color=alt.condition(dark, alt.value("white"), alt.value("black")))
    st.markdown(f"**{title}**")
    st.altair_chart((rect + text).properties(height=alt.Step(30)), width="stretch")


def page() -> None:
    """The Dashboard page."""
    st.title("Dashboard")
    if not state.has_codebook():
        return
    statuses, site, group, chosen = _filters()
    with st.spinner("Beregner oversigten…"):  # first view after a change (then cached)
        d = _dashboard(state.data_version(), statuses, site, group, chosen)
    shown = ("Accepterede kodninger" if statuses == ("accepted",) else
             "Accepterede kodninger og forslag")
    st.caption(f"{shown} · {count(len(d.sites), 'sted', 'steder')} i materialet")
    cols = st.columns(len(d.themes) or 1)
    for col, card in zip(cols, d.themes, strict=False):
        with col:
            _theme_card(card)
    left, right = st.columns(2)
    with left:
        site_theme = pd.DataFrame([{"Sted": c.site, "Tema": c.theme, "Temanavn": c.theme_label,
                                    "Citater": c.quotes} for c in d.site_theme],
                                  columns=["Sted", "Tema", "Temanavn", "Citater"])
        _heatmap(site_theme, "Tema", "Sted", "Steder × temaer")
    with right:
        column_site = pd.DataFrame([{"Kolonne": c.column, "Sted": c.site, "Citater": c.quotes}
                                    for c in d.column_site], columns=["Kolonne", "Sted", "Citater"])
        _heatmap(column_site, "Sted", "Kolonne", "Forandringsteoriens kolonner × steder")
    st.subheader("Målopfyldelse G1–G4")
    goals = pd.DataFrame([{"Mål": g.key, "Målnavn": g.label, "Citater": g.quotes,
                           "Steder": g.sites, "Dækning": percent(g.coverage)} for g in d.goals],
                         columns=["Mål", "Målnavn", "Citater", "Steder", "Dækning"])
    st.dataframe(goals, hide_index=True, width="stretch")
    _codes_table(_code_counts(state.data_version(), statuses, site, group, chosen))
    st.subheader("CMO-konfigurationer")
    st.caption("Kontekster og mekanismer, der optræder sammen med et udfald i samme tur eller en "
               "nabotur: hvad virker, for hvem og under hvilke omstændigheder. Flest steder og "
               "dokumenter først; brudstykker på under tre ord tæller ikke med.")
    if d.chains_stopped is not None:
        st.warning(chains_stopped(d.chains_stopped))
    elif not d.configurations:
        st.caption("Ingen konfigurationer med de valgte filtre.")
    else:
        st.dataframe(_configurations(d.configurations), hide_index=True, width="stretch",
                     column_config={"Eksempel": st.column_config.TextColumn(width="large")})


if __name__ == "__main__":  # run as a page script by st.navigation
    page()
