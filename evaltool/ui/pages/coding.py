"""Kodning: review suggestions turn by turn, or walk the most uncertain ones first."""

from __future__ import annotations

import streamlit as st

from evaltool import nlp
from evaltool.autocode import run as autocode_run
from evaltool.domain import CodingView, SegmentView, TurnView
from evaltool.errors import ConflictError, EvaltoolError
from evaltool.texttable import clock
from evaltool.ui import state
from evaltool.ui.text import CMO, SOURCE, STATUS, md, number

TURNS_PER_PAGE = 12
KEY = "kod_"


@st.cache_data(show_spinner=False)
def _codes(_version: tuple) -> list:
    """Codes of the active codebook (cached until the data changes)."""
    return state.get_store().codes()


def _act(coding: CodingView, action: str, code_key: str | None = None, memo: str | None = None
         ) -> None:
    """Record a decision; on a conflict show the current state instead of overwriting it."""
    store, who = state.get_store(), state.coder()
    try:
        store.decide_as(who, coding.id, action, expected_version=coding.version,
                        code_key=code_key, memo=memo)
        state.flash("success", {"accept": "Accepteret.", "reject": "Afvist.",
                                "recode": "Koden er ændret.", "memo": "Memo gemt."}[action])
    except ConflictError as exc:
        now = [v for v in store.coding_views(status="all", segment_ids=[coding.segment_id])
               if v.code_key == coding.code_key]
        current = (f" Nu: {STATUS.get(now[0].status, now[0].status)} af {now[0].coder or 'maskinen'}."
                   if now else "")
        state.flash("error", f"{exc}{current}")
    except EvaltoolError as exc:
        state.flash("error", str(exc))


def _add(segment_ids: list[int], code_key: str | None, memo: str) -> None:
    """Add a code to segments (a whole turn or chosen sentences)."""
    if not code_key or not segment_ids:
        state.flash("warning", "Vælg en kode og mindst én sætning.")
        return
    try:
        state.get_store().add_as(state.coder(), segment_ids, code_key, memo=memo)
        state.flash("success", "Koden er tilføjet.")
    except EvaltoolError as exc:
        state.flash("error", str(exc))


def _coding_row(c: CodingView, labels: dict[str, str], key: str) -> None:
    """One coding with its decision buttons."""
    conf = f" · {number(c.confidence * 100)} %" if c.confidence is not None else ""
    who = f" · {md(c.coder)}" if c.coder else ""
    icon = {"accepted": ":material/check_circle:", "rejected": ":material/cancel:"}.get(
        c.status, ":material/lightbulb:")
    cols = st.columns([4, 1, 1, 1.3, 1])
    cols[0].markdown(f"{icon} **{md(labels.get(c.code_key, c.code_key))}** "
                     f"({CMO.get(c.cmo, c.cmo)}) · {STATUS.get(c.status, c.status)}{conf}"
                     f" · {SOURCE.get(c.source, c.source)}{who}")
    if c.explanation:
        cols[0].caption(md(c.explanation))
    if c.memo:
        cols[0].caption("Memo: " + md(c.memo))
    cols[1].button("Accepter", key=f"{key}a", on_click=_act, args=(c, "accept"),
                   disabled=c.status == "accepted", type="primary")
    cols[2].button("Afvis", key=f"{key}r", on_click=_act, args=(c, "reject"),
                   disabled=c.status == "rejected")
    with cols[3].popover("Skift kode"):
        new = st.selectbox("Ny kode", list(labels), format_func=lambda k: labels[k],
                           key=f"{key}code", index=None)
        st.button("Gem", key=f"{key}recode", on_click=lambda: _act(c, "recode", code_key=new)
                  if new else None, disabled=False)
    with cols[4].popover("Memo"):
        text = st.text_area("Memo", value=c.memo, key=f"{key}memo")
        st.button("Gem memo", key=f"{key}savememo", on_click=lambda: _act(c, "memo", memo=text))


def _history(segment: SegmentView, key: str) -> None:
    """A segment's history of decisions."""
    with st.popover("Historik"):
        entries = state.get_store().history(segment.id, visible_to=state.coder())
        if not entries:
            st.caption("Ingen beslutninger endnu.")
        for e in entries:
            before = STATUS.get((e.before or {}).get("status"), "—")
            after = STATUS.get((e.after or {}).get("status"), "—")
            st.caption(f"{e.at:%d.%m.%Y %H:%M} · {md(e.coder or 'maskinen')} · {md(e.action)} · "
                       f"{md(e.code_key or '')}: {before} → {after}")


def _turn(turn: TurnView, segments: list[SegmentView], codings: dict[int, list[CodingView]],
          labels: dict[str, str], only_coded: bool) -> None:
    """A turn: speaker line, its sentences with their codings, and 'add a code'."""
    if only_coded and not any(codings.get(s.id) for s in segments):
        return
    role = f" ({md(turn.role)})" if turn.role else ""
    stamp = f"`{clock(turn.start_time)}` " if turn.start_time is not None else ""
    st.markdown(f"{stamp}**{turn.number}. {md(turn.speaker)}**{role}")
    for s in segments:
        items = codings.get(s.id, [])
        if only_coded and not items:
            continue
        with st.container(border=bool(items)):
            left, right = st.columns([8, 1.4])
            left.markdown(md(s.text))
            with right:
                _history(s, f"{KEY}h{s.id}")
            for c in items:
                _coding_row(c, labels, f"{KEY}{c.id}_{c.version}_")
    with st.popover(f"Tilføj kode til tur {turn.number}"):
        code = st.selectbox("Kode", list(labels), format_func=lambda k: labels[k], index=None,
                            key=f"{KEY}add{turn.id}")
        chosen = st.multiselect("Sætninger (tom = hele turen)", [s.id for s in segments],
                                format_func=lambda i: next(s.text[:60] for s in segments if s.id == i),
                                key=f"{KEY}addsegs{turn.id}")
        memo = st.text_input("Memo", key=f"{KEY}addmemo{turn.id}")
        st.button("Tilføj", key=f"{KEY}addbtn{turn.id}", on_click=_add,
                  args=(chosen or [s.id for s in segments], code, memo))


def _filters(codes: list) -> dict:
    """Filter widgets; returns the chosen values."""
    c1, c2, c3, c4, c5 = st.columns([2.2, 1.4, 1, 2, 1.4])
    statuses = c1.multiselect("Status", list(STATUS), default=["suggested", "accepted"],
                              format_func=STATUS.get, key=f"{KEY}status", placeholder="Alle")
    kinds = c2.multiselect("CMO", list(CMO), format_func=CMO.get, key=f"{KEY}cmo",
                           placeholder="Alle")
    themes = sorted({t for c in codes for t in c.themes})
    theme = c3.multiselect("Tema", themes, key=f"{KEY}theme", placeholder="Alle")
    labels = {c.key: c.label for c in codes}
    code = c4.multiselect("Kode", list(labels), format_func=labels.get, key=f"{KEY}code",
                          placeholder="Alle")
    min_conf = c5.slider("Mindste sikkerhed", 0, 100, 0, 5, key=f"{KEY}conf", format="%d %%") / 100
    return {"statuses": statuses, "kinds": kinds, "themes": theme, "codes": code,
            "min_conf": min_conf}


def _keep(c: CodingView, f: dict) -> bool:
    if f["statuses"] and c.status not in f["statuses"]:
        return False
    if f["kinds"] and c.cmo not in f["kinds"]:
        return False
    if f["themes"] and not set(c.themes) & set(f["themes"]):
        return False
    if f["codes"] and c.code_key not in f["codes"]:
        return False
    return not (c.status == "suggested" and (c.confidence or 0) < f["min_conf"])


def _retrain(document_id: int | None) -> None:
    try:
        report = autocode_run.run(state.get_store(), lambda: nlp.load("segment"),
                                  document_id=document_id, retrain=True)
        state.flash("success", f"Modellen er genoptrænet ({report.model_version}): "
                               f"{report.added} nye forslag, {report.removed} trukket tilbage.")
    except EvaltoolError as exc:
        state.flash("error", str(exc))


def document_panel(docs: list) -> None:
    """Review one document turn by turn."""
    store = state.get_store()
    doc = st.selectbox("Dokument", docs, format_func=lambda d: f"{d.site or '?'} – {d.name}",
                       key=f"{KEY}doc")
    codes = _codes(state.data_version())
    labels = {c.key: c.label for c in codes}
    f = _filters(codes)
    views = [c for c in store.coder_view(doc.id, state.coder()) if _keep(c, f)]
    by_segment: dict[int, list[CodingView]] = {}
    for c in views:
        by_segment.setdefault(c.segment_id, []).append(c)
    open_n = sum(1 for c in views if c.status == "suggested")
    top = st.columns([3, 2, 2])
    top[0].caption(f"{number(len(views))} kodninger vist, heraf {number(open_n)} forslag")
    only_coded = top[1].toggle("Kun kodede sætninger", key=f"{KEY}only")
    top[2].button("Genoptræn og foreslå igen", key=f"{KEY}retrain", on_click=_retrain,
                  args=(doc.id,))
    turns = store.turns(doc.id)
    segments: dict[int, list[SegmentView]] = {}
    for s in store.segments(doc.id):
        segments.setdefault(s.turn, []).append(s)
    if only_coded:
        turns = [t for t in turns if any(by_segment.get(s.id) for s in segments.get(t.number, []))]
    pages = max(1, -(-len(turns) // TURNS_PER_PAGE))
    page_no = st.number_input(f"Side (af {pages})", 1, pages, 1, key=f"{KEY}page{doc.id}")
    for turn in turns[(page_no - 1) * TURNS_PER_PAGE: page_no * TURNS_PER_PAGE]:
        _turn(turn, segments.get(turn.number, []), by_segment, labels, only_coded)


@st.fragment
def queue_panel(docs: list) -> None:
    """'Næste usikre': one suggestion at a time, the most useful to review first.

    A fragment: a decision here reruns only this panel, which keeps the round
    trip short however long the document view above is.
    """
    state.show_flash()
    store, who = state.get_store(), state.coder()
    scope = st.selectbox("Dokumenter", [None, *docs], key=f"{KEY}qdoc",
                         format_func=lambda d: "Alle" if d is None else f"{d.site} – {d.name}")
    skipped: set[int] = st.session_state.setdefault(f"{KEY}skipped", set())
    queue = [q for q in autocode_run.review_queue(store, order="uncertainty",
                                                  document_id=scope.id if scope else None)
             if q.coding_id not in skipped]
    views: dict[str, dict] = {}  # document → {(segment, code): what this coder sees}
    view = None
    for item in queue:
        if item.document not in views:
            doc_id = store.get_document(item.document).id
            views[item.document] = {(v.segment_id, v.code_key): v
                                    for v in store.coder_view(doc_id, who)}
        candidate = views[item.document].get((item.segment_id, item.code_key))
        if candidate is not None and candidate.status == "suggested":
            view = candidate
            break
    if view is None:
        st.success("Ingen åbne forslag. Godt gået!")
        return
    labels = {c.key: c for c in _codes(state.data_version())}
    code = labels.get(view.code_key)
    st.caption(f"{number(len(queue))} forslag tilbage · {md(view.document)} · tur {view.turn}")
    turn = store.turns(view.document_id, view.turn)[0]
    start, end = view.start_char - turn.start_char, view.end_char - turn.start_char
    role = f" ({md(turn.role)})" if turn.role else ""
    st.markdown(f"**{md(turn.speaker)}**{role}: {md(turn.text[:start])}"
                f"**{md(turn.text[start:end])}**{md(turn.text[end:])}")
    st.markdown(f"Forslag: **{md(view.code_label)}** ({CMO.get(view.cmo, view.cmo)}) · "
                f"sikkerhed {number((view.confidence or 0) * 100)} %")
    if code is not None and code.definition:
        st.caption(md(code.definition))
    if view.explanation:
        st.caption("Hvorfor: " + md(view.explanation))
    b = st.columns(4)
    b[0].button("Accepter", key=f"{KEY}qa", type="primary", shortcut="a",
                on_click=_act, args=(view, "accept"), help="Tast A")
    b[1].button("Afvis", key=f"{KEY}qr", shortcut="x", on_click=_act, args=(view, "reject"),
                help="Tast X")
    b[2].button("Spring over", key=f"{KEY}qs", shortcut="s", help="Tast S",
                on_click=lambda: skipped.add(view.id))
    b[3].button("Fortryd min seneste", key=f"{KEY}qu", shortcut="z", help="Tast Z",
                on_click=_undo)


def _undo() -> None:
    try:
        undone = state.get_store().undo_last(state.coder(), 1)
        state.flash("success", f"Fortrudt: {len(undone)} beslutning.")
    except EvaltoolError as exc:
        state.flash("error", str(exc))


def page() -> None:
    """The Kodning page."""
    st.title("Kodning")
    state.show_flash()
    if state.coder() is None:
        st.info("Vælg eller skriv dit navn under **Koder** i sidepanelet for at kode.")
        return
    docs = state.get_store().list_documents()
    if not docs:
        st.info("Ingen dokumenter endnu. Importér transskriptioner på siden Import.")
        return
    try:
        state.get_store().active_codebook()
    except EvaltoolError as exc:
        st.warning(str(exc))
        return
    tab_doc, tab_queue = st.tabs(["Dokument", "Næste usikre"])
    with tab_doc:
        document_panel(docs)
    with tab_queue:
        queue_panel(docs)


if __name__ == "__main__":  # run as a page script by st.navigation
    page()
