"""Enighed: inter-coder reliability, disagreements side by side, adjudication."""

from __future__ import annotations

import streamlit as st

from evaltool import reliability
from evaltool.errors import EvaltoolError
from evaltool.ui import state
from evaltool.ui.codes import code_labels
from evaltool.ui.text import count, md, number, percent
from evaltool.ui.widgets import select

KEY = "eni_"


def _adjudicate(segment_id: int, code: str, decision: str, label: str) -> None:
    if state.attempt(lambda: state.get_store().adjudicate(segment_id, code, decision,
                                                          state.coder())):
        verb = "beholdt" if decision == "accept" else "forkastet"
        state.flash("success", f"Afgørelsen er gemt: **{md(label)}** er {verb}.")


UNIT = {"segment": ("sætning", "sætninger"), "turn": ("tur", "ture")}


def _sparse_warning(report: reliability.ReliabilityReport) -> None:
    """Say (in Danish) which coder reviewed too few units for the figures to mean much."""
    one, many = UNIT[report.unit]
    reviewed = {report.coder_a: report.reviewed_a, report.coder_b: report.reviewed_b}
    for name in report.sparse:
        other = report.coder_b if name == report.coder_a else report.coder_a
        st.warning(f"**{md(name)}** har kun gennemgået {count(reviewed[name], one, many)} "
                   f"(**{md(other)}**: {count(reviewed[other], one, many)}). Med så få "
                   f"gennemgåede enheder siger tallene nedenfor meget lidt: der bør være mindst "
                   f"{count(report.min_reviewed, one, many)} og mindst "
                   f"{percent(report.min_share)} af den andens.")


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
    a = select("Koder A", coders, key=f"{KEY}a", where=c[0])
    b = select("Koder B", [x for x in coders if x != a], key=f"{KEY}b", where=c[1])
    unit = select("Enhed", list(UNIT), format_func={"segment": "Sætning", "turn": "Tur"}.get,
                  key=f"{KEY}unit", where=c[2])
    one, many = UNIT[unit]
    try:
        compared = reliability.compare(store, a, b, unit=unit)
        report = reliability.report(store, compared)
    except EvaltoolError as exc:
        st.warning(state.error_text(exc))
        return
    _sparse_warning(report)
    m = st.columns(4)
    m[0].metric("Sammenlignede enheder", number(report.units))
    m[1].metric("Enighed", percent(report.agreement) or "–")
    m[2].metric("Cohens kappa", number(report.kappa, 2) if report.kappa is not None else "–")
    m[3].metric("Krippendorffs alfa", number(report.alpha, 2) if report.alpha is not None else "–")
    st.caption(f"{md(a)} har gennemgået {count(report.reviewed_a, one, many)}, {md(b)} "
               f"{count(report.reviewed_b, one, many)}. Kun {many}, som begge har gennemgået, og "
               "som mindst én af dem har kodet, sammenlignes; ukodet tekst puster ikke "
               "enigheden op.")
    units = compared.disagreements
    labels = code_labels(store.codes(include_retired=True))
    st.subheader(f"Uenigheder ({number(len(units))})")
    if unit == "turn":
        st.caption("Uenigheder afgøres sætning for sætning: vælg enheden Sætning for at afgøre.")
    elif state.coder() is None:
        st.caption("Vælg dig selv som koder i sidepanelet for at afgøre uenigheder.")
    for u in units[:50]:
        with st.container(border=True):
            st.markdown(f"**{md(u.document)}**, tur {u.turn}: {md(u.text)}")
            left, right = st.columns(2)
            left.markdown(f"**{md(a)}:** " + md(", ".join(labels.get(c, c) for c in u.codes_a)
                                                 or "ingen kode"))
            right.markdown(f"**{md(b)}:** " + md(", ".join(labels.get(c, c) for c in u.codes_b)
                                                  or "ingen kode"))
            if state.coder() and u.kind == "segment":
                for code in sorted(set(u.codes_a) ^ set(u.codes_b)):
                    k = st.columns([4, 1, 1])
                    k[0].caption(md(labels.get(code, code)))
                    k[1].button("Behold", key=f"{KEY}y{u.id}{code}", on_click=_adjudicate,
                                args=(u.segment_ids[0], code, "accept", labels.get(code, code)))
                    k[2].button("Forkast", key=f"{KEY}n{u.id}{code}", on_click=_adjudicate,
                                args=(u.segment_ids[0], code, "reject", labels.get(code, code)))
    if len(units) > 50:
        st.caption(f"Viser de første 50 af {count(len(units), 'uenighed', 'uenigheder')}.")


if __name__ == "__main__":  # run as a page script by st.navigation
    page()
