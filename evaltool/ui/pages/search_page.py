"""Søg: find words in every transcript, see them in context, code the hits."""

from __future__ import annotations

import streamlit as st

from evaltool.attributes import target_group_choices
from evaltool.domain import SearchHit
from evaltool.errors import EvaltoolError, SearchSyntaxError
from evaltool.ui import filters, state
from evaltool.ui.codes import code_labels
from evaltool.ui.text import STATUS, count, md
from evaltool.ui.widgets import pick_many, select

KEY = "sog_"
LIMIT = 100
ALL = "__alle__"
# why a query cannot be read (SearchSyntaxError.kind), in Danish
SYNTAX = {
    "empty": "Skriv et eller flere ord at søge efter.",
    "or_without_term": "OR skal have et ord eller en frase på begge sider.",
    "only_excluded": "Søgningen skal have mindst ét ord, der ikke er udelukket med »-«.",
    "unclosed_quote": "En frase mangler sit afsluttende anførselstegn (\").",
    "misplaced_star": "»*« må kun stå sidst i et ord (fx samskab*).",
    "no_word": "Et ord eller en frase har hverken bogstaver eller tal.",
    "bad_character": "Tegnet »{near}« kan ikke bruges i en søgning.",
}
HELP = ("Alle ord skal stå i sætningen. \"to ord\" er en frase, samskab* et ordbegyndelse, "
        "kaffe OR te et af ordene, -kage udelukker.")


def syntax_message(err: SearchSyntaxError) -> str:
    """The Danish one-line message for a query that cannot be read."""
    reason = SYNTAX.get(err.kind, "Søgningen kan ikke læses.").format(near=err.near)
    return f"Søgningen kan ikke læses (tegn {err.position + 1}): {reason}"


@st.cache_data(show_spinner=False)
def _facets(version: tuple) -> tuple[list, list[str], list, list[str]]:
    """Documents, speaker roles, codes and target groups to filter on (cached per data
    version)."""
    store = state.get_store()
    try:
        codes = store.codes()
    except EvaltoolError:
        codes = []
    docs = store.document_facets()
    return (docs, store.speaker_roles(), codes,
            target_group_choices(docs, store.speaker_facets()))


@st.cache_data(show_spinner=False)
def _search(version: tuple, query: str, lemma: bool, documents: tuple[int, ...],
            site: str | None, role: str | None, code: str | None,
            statuses: tuple[str, ...], group: str | None = None,
            chosen: tuple[filters.Choice, ...] = ()) -> list[SearchHit]:
    """The hits of a search (cached per data version, query and filters; ``group`` and
    ``chosen``: the quotes' target group and the attribute filter)."""
    scope = filters.scope(target_group=group, chosen=chosen) if group or chosen else None
    return state.get_store().search(query, lemma=lemma, documents=documents, site=site,
                                    role=role, code=code, status=statuses, scope=scope,
                                    limit=LIMIT)


def _filters() -> dict:
    """Filter widgets; returns the chosen values (None: no filter)."""
    docs, roles, codes, groups = _facets(state.data_version())
    names = {d.id: d.name for d in docs}
    sites = sorted({d.site for d in docs if d.site})
    labels = {k: f"{k} – {path}" for k, path in code_labels(codes).items()}
    c1, c2, c3, c4 = st.columns(4)
    doc = select("Dokument", [ALL, *names], key=f"{KEY}doc", where=c1,
                 format_func=lambda d: "Alle" if d == ALL else names[d])
    site = select("Sted", [ALL, *sites], key=f"{KEY}site", where=c2,
                  format_func=lambda s: "Alle" if s == ALL else s)
    role = select("Rolle", [ALL, *roles], key=f"{KEY}role", where=c3,
                  format_func=lambda r: "Alle" if r == ALL else r)
    code = select("Kodet med", [ALL, *labels], key=f"{KEY}code", where=c4,
                  format_func=lambda k: "Alle" if k == ALL else labels[k])
    g1, g2, g3, g4 = st.columns(4)
    group = select("Målgruppe", [ALL, *groups], key=f"{KEY}group", where=g1,
                   format_func=lambda g: "Alle" if g == ALL else g,
                   help="Et citats målgruppe er talerens, når taleren har en; ellers dokumentets.")
    chosen = filters.attribute_filter(KEY, g2, g3)
    statuses = pick_many("Kodningens status", list(STATUS), format_func=STATUS.get,
                         key=f"{KEY}status", where=g4)
    return {"documents": () if doc == ALL else (doc,), "site": None if site == ALL else site,
            "role": None if role == ALL else role, "code": None if code == ALL else code,
            "statuses": tuple(statuses), "group": None if group == ALL else group,
            "chosen": chosen, "labels": labels}


def _code_hits(hits: list[SearchHit]) -> None:
    """Add the chosen code to the sentences of the ticked hits (as the sidebar's coder)."""
    code_key = st.session_state.get(f"{KEY}add_code")
    chosen = [h.segment_id for h in hits if st.session_state.get(f"{KEY}hit_{h.segment_id}")]
    if not code_key or not chosen:
        state.flash("warning", "Vælg en kode og sæt flueben ved mindst ét hit.")
        return
    try:
        state.get_store().add_as(state.coder(), chosen, code_key)
    except EvaltoolError as exc:
        state.flash("error", state.error_text(exc))
        return
    for segment_id in chosen:
        st.session_state.pop(f"{KEY}hit_{segment_id}", None)
    label = next((c.label for c in state.get_store().codes() if c.key == code_key), code_key)
    state.flash("success", f"Kodet: {count(len(chosen), 'sætning', 'sætninger')} med "
                           f"**{md(label)}**.")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def results(hits: list[SearchHit], labels: dict[str, str]) -> None:
    """The hits as keyword in context, each with a tick box, and the coding controls."""
    more = f" (de første {LIMIT})" if len(hits) >= LIMIT else ""
    st.caption(f"{count(len(hits), 'hit', 'hits')}{more}")
    can_code = state.coder() is not None and not state.lead_mode()
    for n, h in enumerate(hits, 1):
        left, right = st.columns([0.05, 0.95]) if can_code else (None, st.container())
        if left is not None:
            left.checkbox(f"Vælg hit {n}", key=f"{KEY}hit_{h.segment_id}",
                          label_visibility="collapsed")
        role = f" ({md(h.role)})" if h.role else ""
        right.markdown(f"{md(_one_line(h.left))} **{md(h.match)}** {md(_one_line(h.right))}")
        right.caption(f"{md(h.document)} · tur {h.turn} · {md(h.speaker)}{role}")
    if not hits:
        return
    if not can_code:
        st.info("Vælg en koder i sidepanelet for at kode hits.")
        return
    c1, c2 = st.columns([3, 1])
    select("Kode til de valgte hits", list(labels), key=f"{KEY}add_code", where=c1, index=None,
           format_func=labels.get)
    c2.button("Kod valgte hits", key=f"{KEY}add", on_click=_code_hits, args=(hits,),
              type="primary")


def page() -> None:
    """The Søg page."""
    st.title("Søg")
    state.show_flash()
    query = st.text_input("Søg i alle transskriptioner", key=f"{KEY}query", help=HELP,
                          placeholder="fx samskabe")
    lemma = st.toggle("Søg på grundform (samskabe finder også samskabte, samskabelsen)",
                      value=True, key=f"{KEY}lemma")
    chosen = _filters()
    if not query.strip():
        return
    try:
        hits = _search(state.data_version(), query, lemma, chosen["documents"], chosen["site"],
                       chosen["role"], chosen["code"], chosen["statuses"], chosen["group"],
                       chosen["chosen"])
    except SearchSyntaxError as exc:
        st.error(syntax_message(exc))
        return
    results(hits, chosen["labels"])


if __name__ == "__main__":  # run as a page script by st.navigation
    page()
