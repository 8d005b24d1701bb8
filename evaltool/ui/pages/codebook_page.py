"""Kodebog: codes grouped by change-theory column and CMO kind, with their counts."""

from __future__ import annotations

import streamlit as st

from evaltool.ui import state
from evaltool.ui.text import CMO, md, number


def _code(code: dict, counts: dict[tuple[str, str], int]) -> None:
    """One code's definition, criteria, examples and counts."""
    acc = counts.get((code["id"], "accepted"), 0)
    sug = counts.get((code["id"], "suggested"), 0)
    # expander labels render Markdown: user text is escaped like everywhere else
    title = (f"{md(code['label'])} · {md(code['id'])} · {md('|'.join(code['themes']))} · "
             f"{md('|'.join(code['goals']))} · {number(acc)} accepteret, {number(sug)} forslag")
    with st.expander(title):
        st.markdown(md(code["definition"]))
        if code.get("include"):
            st.markdown("**Brug når:** " + md(code["include"]))
        if code.get("exclude"):
            st.markdown("**Brug ikke når:** " + md(code["exclude"]))
        if code.get("examples"):
            st.markdown("**Eksempler:**")
            for ex in code["examples"]:
                st.markdown("- " + md(ex))


def page() -> None:
    """The Kodebog page."""
    st.title("Kodebog")
    store = state.get_store()
    if not state.has_codebook():
        return
    cb = store.active_codebook()
    content = cb["content"]
    st.caption(f"{md(content['title'])} · version {cb['version']} · "
               f"{number(len(content['codes']))} koder")
    with st.expander("Temaer og mål"):
        for t in content["themes"]:
            st.markdown(f"**{md(t['id'])} {md(t['label'])}** (mål {md(', '.join(t.get('goals', [])))}): "
                        f"{md(t.get('description', ''))}")
        for g in content["goals"]:
            st.markdown(f"**{md(g['id'])}** {md(g['label'])}")
    counts = {(k, s): n for k, s, n in store.count_by_code(("accepted", "suggested", "rejected"))}
    for column in content["columns"]:
        codes = [c for c in content["codes"] if c["column"] == column]
        if not codes:
            continue
        st.subheader(md(column))
        cols = st.columns(3)
        for col, kind in zip(cols, CMO, strict=True):
            with col:
                st.markdown(f"**{CMO[kind]}**")
                for code in [c for c in codes if c["cmo"] == kind]:
                    _code(code, counts)


if __name__ == "__main__":  # run as a page script by st.navigation
    page()
