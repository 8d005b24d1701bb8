"""Enighed: inter-coder reliability, disagreements side by side, adjudication."""

from __future__ import annotations

import streamlit as st

from evaltool import reliability
from evaltool.errors import EvaltoolError
from evaltool.ui import state
from evaltool.ui.text import md, number, percent

KEY = "eni_"


def _adjudicate(segment_id: int, code: str, decision: str) -> None:
    try:
        state.get_store().adjudicate(segment_id, code, decision, state.coder())
        state.flash("success", "Afgørelsen er gemt.")
    except EvaltoolError as exc:
        state.flash("error", str(exc))


def page() -> None:
    """The Enighed page."""
    st.title("Enighed")
    state.show_flash()
    store = state.get_store()
    coders = store.coders()
    if len(coders) < 2:
        st.info("Der skal være mindst to kodere, før enighed kan beregnes.")
        return
    c = st.columns(3)
    a = c[0].selectbox("Koder A", coders, key=f"{KEY}a")
    b = c[1].selectbox("Koder B", [x for x in coders if x != a], key=f"{KEY}b")
    unit = c[2].selectbox("Enhed", ["segment", "turn"],
                          format_func={"segment": "Sætning", "turn": "Tur"}.get, key=f"{KEY}unit")
    try:
        report = reliability.reliability(store, a, b, unit=unit)
    except EvaltoolError as exc:
        st.warning(str(exc))
        return
    m = st.columns(4)
    m[0].metric("Enheder", number(report.units))
    m[1].metric("Enighed", percent(report.agreement))
    m[2].metric("Cohens kappa", number(report.kappa, 2) if report.kappa is not None else "–")
    m[3].metric("Krippendorffs alfa", number(report.alpha, 2) if report.alpha is not None else "–")
    st.caption("Kun tekst, som mindst én af de to har kodet, i dokumenter som begge har kodet, "
               "indgår; ukodet tekst puster ikke enigheden op.")
    units = reliability.disagreements(store, a, b, unit="segment")
    labels = {c.key: c.label for c in store.codes(include_retired=True)}
    st.subheader(f"Uenigheder ({number(len(units))})")
    if state.coder() is None:
        st.caption("Vælg dig selv som koder i sidepanelet for at afgøre uenigheder.")
    for u in units[:50]:
        with st.container(border=True):
            st.markdown(f"**{md(u.document)}**, tur {u.turn}: {md(u.text)}")
            left, right = st.columns(2)
            left.markdown(f"**{md(a)}:** " + md(", ".join(labels.get(c, c) for c in u.codes_a)
                                                 or "ingen kode"))
            right.markdown(f"**{md(b)}:** " + md(", ".join(labels.get(c, c) for c in u.codes_b)
                                                  or "ingen kode"))
            if state.coder():
                for code in sorted(set(u.codes_a) ^ set(u.codes_b)):
                    k = st.columns([4, 1, 1])
                    k[0].caption(md(labels.get(code, code)))
                    k[1].button("Behold", key=f"{KEY}y{u.id}{code}", on_click=_adjudicate,
                                args=(u.segment_ids[0], code, "accept"))
                    k[2].button("Forkast", key=f"{KEY}n{u.id}{code}", on_click=_adjudicate,
                                args=(u.segment_ids[0], code, "reject"))


if __name__ == "__main__":  # run as a page script by st.navigation
    page()
