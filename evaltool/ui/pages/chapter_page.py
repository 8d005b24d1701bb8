"""Temakapitel: one theme as the report tells it, for leads and evaluators.

Per site the theme's quotes as whole speaker turns (the coded words marked), with role,
target group and a link to the turn in Kodning; the quotes pinned "til rapporten" first,
pinned and unpinned here; the theme's CMO chains at the site; quotes per target group; and
the report document to download with the page's filters. What the chapter says comes
from :func:`evaltool.report.build_report` (the document's own content), never from SQL
or text assembled here.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from evaltool import charts, nlp
from evaltool import report as rp
from evaltool.analysis import filter_options
from evaltool.errors import PinError
from evaltool.ui import state
from evaltool.ui.text import CHAPTER as T
from evaltool.ui.text import PIN_ERRORS, chains_stopped, count, md, number
from evaltool.ui.widgets import select

KEY = "kap_"
THEME_PARAM = "tema"  # ?tema=T1: the Dashboard's link to a theme's chapter
CODING_PAGE = Path(__file__).parent / "coding.py"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@st.cache_data(show_spinner=False, max_entries=16)
def _chapter(version: tuple, theme: str, site: str | None, statuses: tuple[str, ...],
             quotes: int, group: str | None = None) -> rp.ThemeChapter:
    """The theme's chapter as the report builds it, cached per data version and filters."""
    return rp.build_chapter(state.get_store(), theme, site=site, statuses=statuses,
                            quotes_per_site=quotes, target_group=group)


@st.cache_data(show_spinner=False, max_entries=4)
def _themes(version: tuple) -> dict[str, str]:
    """Theme key → 'T1 · label' of the active codebook, in the codebook's order."""
    content = state.get_store().active_codebook()["content"]
    return {t["id"]: f"{t['id']} · {t.get('label', t['id'])}" for t in content["themes"]}


@st.cache_data(show_spinner=False, max_entries=4)
def _options(version: tuple) -> dict[str, list[str]]:
    """Sites, and target groups of documents and speakers, per data version."""
    return filter_options(state.get_store())


def _follow_link(themes: dict[str, str]) -> None:
    """Open the theme the link names (``?tema=``), before the theme box is drawn."""
    wanted = st.query_params.get(THEME_PARAM)
    if wanted in themes:
        st.session_state[f"{KEY}theme"] = wanted


def _keep_link() -> None:
    """The URL names the chosen theme, so a reload (or a shared link) opens it again."""
    st.query_params[THEME_PARAM] = st.session_state[f"{KEY}theme"]


def _filters(themes: dict[str, str]) -> dict:
    """The theme box and the filters (as on the Dashboard); the chosen values."""
    _follow_link(themes)
    options = _options(state.data_version())
    c = st.columns([2.6, 1.6, 1.7, 1.2, 1.9], vertical_alignment="bottom")
    theme = select("Tema", list(themes), format_func=themes.get, key=f"{KEY}theme",
                   where=c[0], on_change=_keep_link)
    if st.query_params.get(THEME_PARAM) != theme:
        st.query_params[THEME_PARAM] = theme
    site = select("Sted", [None, *options["sites"]], format_func=lambda s: s or "Alle",
                  where=c[1], key=f"{KEY}site")
    group = select("Målgruppe", [None, *options["target_groups"]], where=c[2],
                   format_func=lambda g: g or "Alle", key=f"{KEY}group", help=T["group_help"])
    quotes = c[3].number_input(T["per_site"], 1, 20, 3, key=f"{KEY}quotes",
                               help=T["per_site_help"])
    with_suggestions = c[4].toggle(T["suggestions"], key=f"{KEY}sugg", help=T["suggestions_help"])
    statuses = ("accepted", "suggested") if with_suggestions else ("accepted",)
    return {"theme": theme, "site": site, "group": group, "quotes": int(quotes),
            "statuses": statuses}


PIN_REFUSED: state.Refusals = {PinError: ("error", lambda exc: PIN_ERRORS.get(exc.kind, md(exc)))}


def _can_pin() -> bool:
    """Pins are written in a person's name: an evaluator's or a lead's (a lead's one write)."""
    return state.reporter() is not None


def _pin(coding_id: int, theme: str) -> None:
    """Pin a quote "til rapporten" and say so."""
    if state.attempt(lambda: state.get_store().pin_quote(coding_id, theme,
                                                         state.reporter() or ""), PIN_REFUSED):
        state.flash("success", T["pinned"].format(theme=md(theme)))


def _unpin(coding_ids: tuple[int, ...], theme: str) -> None:
    """Take a quote (every pinned coding of its turn) out of the report and say so."""
    store = state.get_store()

    def unpin() -> None:
        for coding_id in coding_ids:
            store.unpin_quote(coding_id, theme, state.reporter() or "")

    if state.attempt(unpin, PIN_REFUSED):
        state.flash("success", T["unpinned"].format(theme=md(theme)))


def marked(text: str, marks: tuple[tuple[int, int], ...]) -> str:
    """A turn as Markdown with its coded words marked; every piece of transcript text is
    escaped (:func:`md`), so nothing in it is read as Markdown or HTML."""
    joined: list[tuple[int, int]] = []
    for a, b in marks:  # coded sentences with only spaces between them: one marked run
        if joined and not text[joined[-1][1]:a].strip():
            joined[-1] = (joined[-1][0], b)
        else:
            joined.append((a, b))
    out, at = [], 0
    for a, b in joined:
        out += [md(text[at:a]), f"**:orange-background[{md(text[a:b])}]**"]
        at = b
    out.append(md(text[at:]))
    return "".join(out)


def _who(q: rp.ReportQuote) -> str:
    """The caption under a quote: speaker, role, target group, where it was said."""
    parts = [f"**{md(q.speaker)}**" + (f" ({md(q.role)})" if q.role else "")]
    if q.target_groups:
        parts.append(T["group"] + ": " + md(", ".join(q.target_groups)))
    parts.append(f"{md(q.document)}, tur {number(q.turn)}")
    if q.codes:
        parts.append(md(", ".join(q.codes)))
    return " · ".join(parts)


def _coding_link(q: rp.ReportQuote, where=st) -> None:
    """'Åbn i Kodning': the Dokument view at the quote's turn (an evaluator's page only)."""
    if not state.lead_mode():
        where.page_link(CODING_PAGE, label=T["open_coding"], icon=":material/edit_note:",
                        query_params={"dokument": str(q.document_id), "tur": str(q.turn)})


def _quote(q: rp.ReportQuote, theme: str, pins: dict, key: str) -> None:
    """One quote: the turn, who said it, whether it is pinned (by whom, when), its buttons."""
    ids = q.coding_ids or (q.coding_id,)
    mine = [pins[i] for i in ids if i in pins]
    with st.container(border=True):
        if q.pinned:
            by = ", ".join(dict.fromkeys(
                f"{md(p.coder or '?')} {p.at:%d.%m.%Y %H:%M}" for p in mine))
            st.markdown(f":material/push_pin: **{T['pinned_label']}**"
                        + (f" · {by}" if by else ""))
        st.markdown(marked(q.text, q.marks))
        st.caption(_who(q))
        b = st.columns([1.6, 1.6, 5])
        _coding_link(q, b[1])
        if _can_pin():
            if q.pinned:
                b[0].button(T["unpin"], key=f"{key}unpin", icon=":material/remove_circle:",
                            on_click=_unpin, args=(tuple(p.coding_id for p in mine), theme))
            else:
                b[0].button(T["pin"], key=f"{key}pin", icon=":material/push_pin:",
                            on_click=_pin, args=(q.coding_id, theme))


CHAIN_COLUMNS = ["Steder", "Dokumenter", "Citater", "Kontekst", "Mekanisme", "Udfald"]


# pixels: the support first (the chains' order), narrow; the codes' labels readable (the
# page's main column is about 940 px wide at 1400 px)
CHAIN_WIDTHS = {"Steder": 60, "Dokumenter": 95, "Citater": 60, "Kontekst": 240,
                "Mekanisme": 240, "Udfald": 240}


def _chain_table(chains: list[rp.Chain]) -> None:
    """The strongest chains as a table: their codes and their support (sites, documents,
    quotes); how many more there are."""
    shown = chains[:rp.CHAINS_SHOWN]
    frame = pd.DataFrame([{"Kontekst": c.context, "Mekanisme": c.mechanism, "Udfald": c.outcome,
                           "Steder": len(c.sites) or 1, "Dokumenter": c.documents,
                           "Citater": c.quotes} for c in shown], columns=CHAIN_COLUMNS)
    st.dataframe(frame, hide_index=True, width="stretch",
                 column_config={k: st.column_config.Column(width=w)
                                for k, w in CHAIN_WIDTHS.items()})
    if len(chains) > len(shown):
        st.caption(T["more_chains"].format(n=count(len(chains) - len(shown), "kæde", "kæder")))


def _evidence(c: rp.Chain) -> None:
    """A chain's evidence: the outcome's turn first, then the context's and mechanism's."""
    with st.expander(T["evidence"].format(chain=md(f"{c.context} → {c.mechanism} → "
                                                   f"{c.outcome}"))):
        for i, q in enumerate(c.evidence):
            st.markdown(marked(q.text, q.marks))
            st.caption(_who(q))
            _coding_link(q)
            if i < len(c.evidence) - 1:
                st.divider()


def _chains(chains: list[rp.Chain]) -> None:
    """The theme's CMO chains seen at one site, ranked, the strongest with their evidence."""
    st.markdown(f"**{T['chains']}**")
    if not chains:
        st.caption(T["no_chains"])
        return
    _chain_table(chains)
    for c in chains:
        if c.evidence:
            _evidence(c)


def _for_whom(ch: rp.ThemeChapter, group: str | None) -> None:
    """'What works for whom': the chains whose outcome was told by each target group."""
    groups = {g: cs for g, cs in ch.chains_by_target_group.items() if group in (None, g)}
    if not groups:
        return
    st.subheader(T["for_whom"])
    st.caption(T["for_whom_help"])
    for g, chains in groups.items():
        st.markdown(f"**{md(g)}**")
        _chain_table(chains)


def _section(s: rp.SiteSection, theme: str, pins: dict) -> None:
    """One site's part of the chapter: its quotes (pinned first) and its chains."""
    st.subheader(md(s.site))
    groups = ", ".join(f"{md(g)} {number(n)}" for g, n in s.by_target_group.items())
    st.caption(count(s.quotes, "citat", "citater") + T["at_site"]
               + (f" · {T['site_groups']}: {groups}" if groups else ""))
    if not s.shown:
        st.caption(T["no_quotes"])
    for q in s.shown:
        _quote(q, theme, pins, f"{KEY}{theme}_{q.coding_id}_")
    _chains(s.chains)


def _summary(ch: rp.ThemeChapter, group: str | None) -> None:
    """The theme's counts (of the chosen target group's quotes only, when one is chosen):
    quotes, sites, target groups; quotes per target group."""
    st.header(f"{md(ch.key)} · {md(ch.label)}")
    if ch.description:
        st.caption(md(ch.description))
    if group:
        st.caption(T["only_group"].format(group=md(group)))
    m = st.columns(4)
    m[0].metric("Citater", number(ch.quotes))
    m[1].metric("Steder", number(len(ch.sites)))
    m[2].metric("Målgrupper", number(len(ch.target_groups)))
    m[3].metric(T["pinned_metric"], number(sum(q.pinned for s in ch.sections for q in s.shown)))
    left, right = st.columns([1, 2])
    if ch.by_target_group:
        left.markdown(f"**{T['by_group']}**")
        left.dataframe(pd.DataFrame([{"Målgruppe": g, "Citater": n}
                                     for g, n in ch.by_target_group.items()]),
                       hide_index=True, width="content")
    if ch.sections:
        right.altair_chart(charts.chapter_chart(ch), width="stretch")


def _report_bytes(themes: tuple[str, ...] | None, site: str | None, statuses: tuple[str, ...],
                  quotes: int, pseudonymize: bool, fmt: str, group: str | None = None) -> bytes:
    """The report document as :mod:`evaltool.report` writes it (made when clicked)."""
    store = state.get_store()
    hook = None
    if pseudonymize:
        from evaltool.pseudonymize import PseudonymizedView

        def hook(doc_id: int) -> PseudonymizedView:
            return PseudonymizedView(store, doc_id, lambda: nlp.load("ner"))
    r = rp.build_report(store, themes=themes, site=site, statuses=statuses,
                        quotes_per_site=quotes, pseudonymizer=hook, target_group=group)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"rapport.{fmt}"
        rp.write_report(r, path, fmt)
        return path.read_bytes()


def _downloads(f: dict) -> None:
    """The report document (.docx, Markdown) with the page's filters."""
    st.subheader(T["download_head"])
    c = st.columns([2, 2, 2, 2])
    only = c[0].toggle(T["only_theme"].format(theme=f["theme"]), key=f"{KEY}only")
    pseudo = c[1].toggle(T["pseudo"], key=f"{KEY}pseudo", help=T["pseudo_help"])
    args = ((f["theme"],) if only else None, f["site"], f["statuses"], f["quotes"], pseudo)
    name = "rapport" + (f"_{f['theme']}" if only else "")
    c[2].download_button(T["docx"], lambda: _report_bytes(*args, "docx", f["group"]),
                         f"{name}.docx", DOCX_MIME, key=f"{KEY}docx",
                         icon=":material/description:")
    c[3].download_button(T["md"], lambda: _report_bytes(*args, "md", f["group"]), f"{name}.md",
                         "text/markdown", key=f"{KEY}md", icon=":material/article:")
    st.caption(T["download_note"])


def page() -> None:
    """The Temakapitel page."""
    st.title("Temakapitel")
    if not state.has_codebook():
        return
    state.show_flash()
    themes = _themes(state.data_version())
    if not themes:
        st.info(T["no_themes"])
        return
    f = _filters(themes)
    if not _can_pin():
        st.caption(T["lead_note"] if state.lead_mode() else T["coder_note"])
    with st.spinner(T["building"]):
        ch = _chapter(state.data_version(), f["theme"], f["site"], f["statuses"], f["quotes"],
                      f["group"])
    if ch.chains_stopped is not None:  # the chains ran past their time budget: the rest stays
        st.warning(chains_stopped(ch.chains_stopped))
    _summary(ch, f["group"])
    pins = {p.coding_id: p for p in state.get_store().quote_pins(f["theme"])}
    _downloads(f)
    if not ch.sections:
        st.info(T["no_quotes_theme"])
    for s in ch.sections:
        _section(s, f["theme"], pins)
    _for_whom(ch, f["group"])


if __name__ == "__main__":  # run as a page script by st.navigation
    page()
