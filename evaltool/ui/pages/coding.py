"""Kodning: review suggestions turn by turn, or walk the most uncertain ones first."""

from __future__ import annotations

import dataclasses

import streamlit as st

from evaltool import nlp
from evaltool.autocode import run as autocode_run
from evaltool.domain import CodingView, Decision, SegmentView, TurnView
from evaltool.errors import ConflictError, NotFoundError
from evaltool.store.memos import MEMO_ACTIONS
from evaltool.texttable import clock
from evaltool.ui import filters, state
from evaltool.ui.codes import code_labels
from evaltool.ui.text import ACTION, CMO, SOURCE, STATUS, count, md, number
from evaltool.ui.widgets import pick_many, select

TURNS_PER_PAGE = 12
KEY = "kod_"
VIEWS = ("Dokument", "Næste usikre", "Læsevisning")
LINK = ("dokument", "tur")  # ?dokument=ID&tur=N opens a turn (the Temakapitel page's links)
GOTO = f"{KEY}goto"  # the (document id, turn) a link asked for, until the document view shows it
DONE = f"{KEY}done"  # the last decision made on this page: its message and how to undo it
VERB = {"accept": "Accepteret", "reject": "Afvist"}


@st.cache_data(show_spinner=False)
def _codes(version: tuple) -> list:
    """Codes of the active codebook (cached per data version: a codebook load shows at once)."""
    return state.get_store().codes()


def _label(code_key: str | None) -> str:
    """A code's label (its id if the code is unknown)."""
    labels = code_labels(_codes(state.data_version()))
    return labels.get(code_key or "", code_key or "")


def _done(message: str, undo_steps: int = 1) -> None:
    """Remember what a decision did, to say it (with an undo button) at the next render."""
    st.session_state.pop("flash", None)
    st.session_state[DONE] = {"message": message, "steps": undo_steps}


def _act(coding: CodingView, action: str, code_key: str | None = None, memo: str | None = None
         ) -> Decision | None:
    """Record a decision; say what it did, or, on a conflict, the current state."""
    store, who = state.get_store(), state.coder()
    where = f"i tur {coding.turn}"
    label = md(coding.code_label or coding.code_key)  # the view's label: no extra query

    def conflict(exc: ConflictError) -> str:  # the conflict, and the coding as it is now
        now = [v for v in store.coding_views(status="all", segment_ids=[coding.segment_id])
               if v.code_key == coding.code_key]
        current = (f" Nu: {STATUS.get(now[0].status, now[0].status)} af {now[0].coder or 'maskinen'}."
                   if now else "")
        return f"{exc}{current}"

    done = state.attempt(lambda: store.decide_as(who, coding.id, action,
                                                 expected_version=coding.version,
                                                 code_key=code_key, memo=memo),
                         {ConflictError: ("error", conflict)})
    if not done:
        return None
    decision = done.value
    if action == "recode":
        # a blind recode is two events (the suggestion rejected, the new code accepted)
        _done(f"Koden er ændret fra **{label}** til **{md(_label(code_key))}** {where}.",
              2 if decision.layer == who else 1)
    elif action == "memo":
        _done(f"Memo gemt på **{label}** {where}: »{md(memo)}«" if memo
              else f"Memoet på **{label}** {where} er fjernet.")
    else:
        _done(f"{VERB[action]}: **{label}** {where}.")
    return decision


def _save_memo(coding: CodingView, key: str) -> None:
    """Save the memo as typed now (read when clicked, with or without Enter first); the
    message goes to the memo box, which is all that reruns."""
    written = st.session_state.get(f"{key}at")  # the row as this box last saved it
    if written:
        coding = dataclasses.replace(coding, id=written[0], version=written[1])
    decision = _act(coding, "memo", memo=(st.session_state.get(f"{key}memo") or "").strip())
    if decision is not None:
        st.session_state[f"{key}at"] = (decision.coding_id, decision.version)
        st.session_state[DONE]["box"] = key  # said in the box when only the box reruns


def _recode(coding: CodingView, key: str) -> None:
    """Change the code to the one chosen in the popover."""
    new = st.session_state.get(key)
    if not new:
        state.flash("warning", "Vælg den nye kode først.")
        return
    _act(coding, "recode", code_key=new)


def _add(turn: int, segment_ids: list[int], key: str) -> None:
    """Add the chosen code to the chosen sentences of a turn (none chosen: the whole turn)."""
    code_key = st.session_state.get(f"{key}code")
    chosen = st.session_state.get(f"{key}segs") or segment_ids
    memo = (st.session_state.get(f"{key}memo") or "").strip()
    if not code_key or not chosen:
        state.flash("warning", "Vælg en kode og mindst én sætning.")
        return
    done = state.attempt(lambda: state.get_store().add_as(state.coder(), list(chosen), code_key,
                                                          memo=memo))
    if not done:
        return
    ids = done.value or []
    note = f" Memo: »{md(memo)}«" if memo else ""
    _done(f"Tilføjet: **{md(_label(code_key))}** på "
          f"{count(len(chosen), 'sætning', 'sætninger')} i tur {turn}.{note}", len(ids) or 1)


def _undo(steps: int = 1, what: str | None = None) -> None:
    """Undo this coder's last decision(s) and say what was undone."""
    st.session_state.pop(DONE, None)
    done = state.attempt(lambda: state.get_store().undo_last(state.coder(), steps),
                         {NotFoundError: ("warning", lambda _: "Du har ingen beslutninger at fortryde.")})
    if not done:
        return
    undone = done.value or []
    if what:
        state.flash("success", f"Fortrudt: {what}")
        return
    names = code_labels(_codes(state.data_version()))
    labels = ", ".join(dict.fromkeys(f"**{md(names.get(e.code_key or '', e.code_key))}**"
                                     for e in undone))
    state.flash("success", f"Fortrudt: {count(len(undone), 'beslutning', 'beslutninger')}"
                           f" ({labels}).")


def show_done() -> None:
    """The last decision's message with a 'Fortryd' button (once), or a remembered flash."""
    state.show_flash()
    done = st.session_state.pop(DONE, None)
    if not done:
        return
    left, right = st.columns([6, 1], vertical_alignment="center")
    left.success(done["message"])
    right.button("Fortryd", key=f"{KEY}undo_done", on_click=_undo,
                 args=(done["steps"], done["message"]), help="Fortryd denne beslutning")


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
    if c.is_span:  # coded words, not the whole sentence (Læsevisning)
        cols[0].caption(f"Markering: »{md(c.quote)}«")
    if c.explanation:
        cols[0].caption(md(c.explanation))
    if c.memo:
        cols[0].caption("Memo: " + md(c.memo))
    cols[1].button("Accepter", key=f"{key}a", on_click=_act, args=(c, "accept"),
                   disabled=c.status == "accepted", type="primary")
    cols[2].button("Afvis", key=f"{key}r", on_click=_act, args=(c, "reject"),
                   disabled=c.status == "rejected")
    with cols[3].popover("Skift kode"):
        select("Ny kode", [k for k in labels if k != c.code_key], format_func=labels.get,
               key=f"{key}code", index=None, placeholder="Vælg den nye kode")
        st.button("Gem", key=f"{key}recode", on_click=_recode, args=(c, f"{key}code"))
    with cols[4].popover("Memo"):
        _memo_box(c, key)


@st.fragment
def _memo_box(c: CodingView, key: str) -> None:
    """A coding's memo and its 'Gem memo' button. A fragment: saving reruns this box, not
    the document's view (whose 'Memo:' line shows the new memo at its next run)."""
    # What the last save did (a whole-page run has shown it at the top already, with undo)
    state.show_flash()
    if (st.session_state.get(DONE) or {}).get("box") == key:
        st.success(st.session_state.pop(DONE)["message"])
    st.text_area("Memo", value=c.memo, key=f"{key}memo", placeholder="Skriv et memo …")
    st.button("Gem memo", key=f"{key}savememo", on_click=_save_memo, args=(c, key))


def _history(segment: SegmentView, key: str, labels: dict[str, str]) -> None:
    """A segment's history of decisions: when, who, what (in Danish), which code."""
    with st.popover("Historik"):
        entries = state.get_store().history(segment.id, visible_to=state.coder())
        if not entries:
            st.caption("Ingen beslutninger endnu.")
        for e in entries:
            was, now = e.before or {}, e.after or {}
            if e.action in MEMO_ACTIONS:  # the sentence's own memo: no code, no status
                st.caption(f"{e.at:%d.%m.%Y %H:%M} · {md(e.coder or '')} · {ACTION[e.action]}: "
                           f"»{md(now.get('memo') or was.get('memo') or '')}«")
                continue
            before = STATUS.get(was.get("status"), "—")
            after = STATUS.get(now.get("status"), "—")
            # a coding's memo as this event wrote it (a memo action, or one added with a code)
            wrote = e.action == "memo" or now.get("memo") != was.get("memo")
            memo = now.get("memo") if wrote else None
            st.caption(f"{e.at:%d.%m.%Y %H:%M} · {md(e.coder or 'maskinen')} · "
                       f"{ACTION.get(e.action, md(e.action))} · "
                       f"{md(labels.get(e.code_key or '', e.code_key or ''))}: "
                       f"{before} → {after}" + (f" · »{md(memo)}«" if memo else "")
                       + (f" · markering: »{md(e.quote)}«" if e.quote else ""))


def _mark(document_id: int, turn: int | None, key: str) -> None:
    """Mark a turn (or the document) as reviewed, or take the mark back."""
    done = bool(st.session_state.get(key))
    state.get_store().mark_done(document_id, state.coder(), turn=turn, done=done)
    if turn is None:
        text = "Dokumentet er markeret som " + ("færdigkodet." if done else "ikke færdigkodet.")
    else:
        text = f"Tur {turn} er markeret som " + ("gennemgået." if done else "ikke gennemgået.")
    state.flash("success", text)


def _turn(turn: TurnView, segments: list[SegmentView], codings: dict[int, list[CodingView]],
          labels: dict[str, str], only_coded: bool, done: bool) -> None:
    """A turn: speaker line, its sentences with their codings, 'add a code' and 'reviewed'."""
    if only_coded and not any(codings.get(s.id) for s in segments):
        return
    role = f" ({md(turn.role)})" if turn.role else ""
    stamp = f"`{clock(turn.start_time)}` " if turn.start_time is not None else ""
    head, mark = st.columns([8, 1.6])
    head.markdown(f"{stamp}**{turn.number}. {md(turn.speaker)}**{role}")
    key = f"{KEY}tdone{turn.id}_{done}"  # the mark in the key: a change elsewhere shows
    mark.checkbox("Tur gennemgået", value=done, key=key, on_change=_mark,
                  args=(turn.document_id, turn.number, key),
                  help="Det, der ikke er kodet i turen, lærer modellen, at koderne ikke passer.")
    for s in segments:
        items = codings.get(s.id, [])
        if only_coded and not items:
            continue
        with st.container(border=bool(items)):
            left, right = st.columns([8, 1.4])
            left.markdown(md(s.text))
            with right:
                _history(s, f"{KEY}h{s.id}", labels)
            for c in items:
                _coding_row(c, labels, f"{KEY}{c.id}_{c.version}_")
    key = f"{KEY}add{turn.id}"
    with st.popover(f"Tilføj kode til tur {turn.number}"):
        select("Kode", list(labels), format_func=labels.get, index=None, key=f"{key}code",
               placeholder="Vælg en kode")
        texts = {s.id: s.text if len(s.text) <= 60 else s.text[:59] + "…" for s in segments}
        pick_many("Sætninger (ingen valgt = hele turen)", list(texts), format_func=texts.get,
                  key=f"{key}segs")
        st.text_input("Memo", key=f"{key}memo", placeholder="Valgfrit memo")
        st.button("Tilføj", key=f"{KEY}addbtn{turn.id}", on_click=_add,
                  args=(turn.number, [s.id for s in segments], key))


def _filters(codes: list) -> dict:
    """Filter widgets; returns the chosen values (nothing chosen: no filter)."""
    c1, c2, c3, c4, c5 = st.columns([2.2, 1.8, 1.2, 1.2, 1.4])
    statuses = pick_many("Status", list(STATUS), default=["suggested", "accepted"],
                         format_func=STATUS.get, key=f"{KEY}status", where=c1)
    kinds = pick_many("CMO", list(CMO), format_func=CMO.get, key=f"{KEY}cmo", where=c2)
    themes = sorted({t for c in codes for t in c.themes})
    theme = pick_many("Tema", themes, key=f"{KEY}theme", where=c3)
    labels = code_labels(codes)
    chosen = st.session_state.get(f"{KEY}code") or []
    with c4.popover(f"Koder ({number(len(chosen))} valgt)" if chosen else "Koder (alle)"):
        code = pick_many("Kode", list(labels), format_func=labels.get, key=f"{KEY}code")
    min_conf = c5.slider("Mindste sikkerhed", 0, 100, 0, 5, key=f"{KEY}conf", format="%d %%") / 100
    a1, a2, _ = st.columns([2.2, 1.8, 3.8])
    chosen_attr = filters.attribute_filter(KEY, a1, a2)
    return {"statuses": statuses, "kinds": kinds, "themes": theme, "codes": code,
            "min_conf": min_conf, "scope": filters.scope(chosen=chosen_attr)}


def _keep(c: CodingView, f: dict) -> bool:
    if f["statuses"] and c.status not in f["statuses"]:
        return False
    if f["kinds"] and c.cmo not in f["kinds"]:
        return False
    if f["themes"] and not set(c.themes) & set(f["themes"]):
        return False
    if f["codes"] and c.code_key not in f["codes"]:
        return False
    if not f["scope"].allows(c.document_id, c.speaker):  # the attribute filter
        return False
    return not (c.status == "suggested" and (c.confidence or 0) < f["min_conf"])


def _retrain(document_id: int | None) -> None:
    done = state.attempt(lambda: autocode_run.run(state.get_store(), lambda: nlp.load("segment"),
                                                  document_id=document_id, retrain=True))
    if done:
        report = done.value
        state.flash("success", f"Modellen er genoptrænet ({report.model_version}): "
                               f"{number(report.added)} nye forslag, "
                               f"{number(report.removed)} trukket tilbage.")


def document_panel(docs: list) -> None:
    """Review one document turn by turn."""
    store = state.get_store()
    doc = select("Dokument", docs, format_func=lambda d: f"{d.site or '?'} – {d.name}",
                 key=f"{KEY}doc", placeholder="Vælg et dokument")
    codes = _codes(state.data_version())
    labels = code_labels(codes)
    f = _filters(codes)
    if f["scope"].documents is not None and doc.id not in f["scope"].documents:
        st.info("Dokumentet har ingen talere med den valgte attribut; vælg et andet dokument "
                "eller et andet filter.")
    views = [c for c in store.coder_view(doc.id, state.coder()) if _keep(c, f)]
    by_segment: dict[int, list[CodingView]] = {}
    for c in views:
        by_segment.setdefault(c.segment_id, []).append(c)
    open_n = sum(1 for c in views if c.status == "suggested")
    top = st.columns([3, 2, 2, 2])
    top[0].caption(f"{count(len(views), 'kodning', 'kodninger')} vist, heraf "
                   f"{count(open_n, 'forslag', 'forslag')}")
    only_coded = top[1].toggle("Kun kodede sætninger", key=f"{KEY}only")
    marks = store.done_marks(doc.id, state.coder())
    key = f"{KEY}docdone{doc.id}_{None in marks}"
    top[2].toggle("Dokument færdigkodet", value=None in marks, key=key, on_change=_mark,
                  args=(doc.id, None, key))
    top[3].button("Genoptræn og foreslå igen", key=f"{KEY}retrain", on_click=_retrain,
                  args=(doc.id,))
    turns = store.turns(doc.id)
    segments: dict[int, list[SegmentView]] = {}
    for s in store.segments(doc.id):
        segments.setdefault(s.turn, []).append(s)
    if only_coded:
        turns = [t for t in turns if any(by_segment.get(s.id) for s in segments.get(t.number, []))]
    _turn_page(doc.id, [t.number for t in turns])
    pages = max(1, -(-len(turns) // TURNS_PER_PAGE))
    page_no = st.number_input(f"Side (af {pages})", 1, pages, 1, key=f"{KEY}page{doc.id}")
    for turn in turns[(page_no - 1) * TURNS_PER_PAGE: page_no * TURNS_PER_PAGE]:
        _turn(turn, segments.get(turn.number, []), by_segment, labels, only_coded,
              None in marks or turn.number in marks)


def open_from_link(docs: list) -> None:
    """Show the document view at the turn a link names (``?dokument=ID&tur=N``), once: the
    parameters are taken off the URL, so the coder's own choices hold after that."""
    doc_id, turn = (st.query_params.get(k) for k in LINK)
    if doc_id is None:
        return
    for k in LINK:
        st.query_params.pop(k, None)
    doc = next((d for d in docs if str(d.id) == doc_id), None)
    if doc is None or not (turn or "").isdigit():
        state.flash("warning", "Linket peger på et dokument, der ikke findes (længere).")
        return
    st.session_state[f"{KEY}view"] = VIEWS[0]
    st.session_state[f"{KEY}doc"] = doc
    st.session_state[GOTO] = (doc.id, int(turn))


def _turn_page(document_id: int, numbers: list[int]) -> None:
    """Turn the document view to the page of the turn a link asked for, and say which."""
    goto = st.session_state.pop(GOTO, None)
    if goto is None or goto[0] != document_id or goto[1] not in numbers:
        return
    st.session_state[f"{KEY}page{document_id}"] = numbers.index(goto[1]) // TURNS_PER_PAGE + 1
    st.info(f"Tur {goto[1]} er åbnet fra Temakapitel; den står på denne side.")


def _next_open(scope_id: int | None, skipped: set[int]) -> tuple[int, CodingView] | None:
    """The first suggestion of the queue that this coder still sees open: its id in the
    queue (what 'Spring over' skips) and the coding as the coder sees it.

    Reads the queue a few items at a time (one query each, skipped ones left out in
    SQL); the first item nearly always is the one, so a click reads one short page.
    """
    store, who = state.get_store(), state.coder()
    offset, size = 0, 5
    while True:
        page = autocode_run.review_queue(store, order="uncertainty", document_id=scope_id,
                                         exclude=skipped, coder=who, limit=size, offset=offset)
        for item in page:
            seen = [v for v in store.coder_view(item.document_id, who,
                                                segment_ids=[item.segment_id])
                    if v.code_key == item.code_key and not v.is_span]
            if seen and seen[0].status == "suggested":
                return item.coding_id, seen[0]
        if len(page) < size:
            return None
        offset, size = offset + size, min(size * 4, 500)


def queue_scope(docs: list) -> int | None:
    """The queue's 'Dokumenter' box (outside the queue's fragment: a click does not redraw
    it); the chosen document's id, None for all."""
    scope = select("Dokumenter", [None, *docs], key=f"{KEY}qdoc",
                   format_func=lambda d: "Alle dokumenter" if d is None else f"{d.site} – {d.name}")
    return scope.id if scope else None


@st.fragment
def queue_panel(scope_id: int | None) -> None:
    """'Næste usikre': one suggestion at a time, the most useful to review first.

    A fragment: a decision here reruns only this panel, which keeps the round
    trip short however long the document view is; it reads the suggestion shown and
    the queue's length, not the queue. Its keyboard shortcuts exist only while this
    panel is shown (see :func:`page`).
    """
    show_done()
    store, who = state.get_store(), state.coder()
    skipped: set[int] = st.session_state.setdefault(f"{KEY}skipped", set())
    found = _next_open(scope_id, skipped)
    if found is None:
        st.success("Ingen åbne forslag. Godt gået!")
        return
    queued_id, view = found
    left = autocode_run.review_queue_size(store, document_id=scope_id, exclude=skipped,
                                          coder=who)
    code = {c.key: c for c in _codes(state.data_version())}.get(view.code_key)
    st.caption(f"{count(left, 'forslag', 'forslag')} tilbage · {md(view.document)} · "
               f"tur {view.turn}")
    turn = store.turns(view.document_id, view.turn)[0]
    start, end = view.start_char - turn.start_char, view.end_char - turn.start_char
    role = f" ({md(turn.role)})" if turn.role else ""
    st.markdown(f"**{md(turn.speaker)}**{role}: {md(turn.text[:start])}"
                f"**{md(turn.text[start:end])}**{md(turn.text[end:])}")
    st.markdown(f"Forslag: **{md(code.label if code else view.code_key)}** "
                f"({CMO.get(view.cmo, view.cmo)}) · "
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
                on_click=_skip, args=(queued_id, view))
    b[3].button("Fortryd min seneste", key=f"{KEY}qu", shortcut="z", help="Tast Z",
                on_click=_undo)


def _skip(queued_id: int, view: CodingView) -> None:
    """Leave a suggestion for later (this session) and say which."""
    st.session_state.setdefault(f"{KEY}skipped", set()).add(queued_id)
    state.flash("info", f"Sprunget over: **{md(view.code_label)}** i tur {view.turn}.")


def page() -> None:
    """The Kodning page."""
    st.title("Kodning")
    if state.coder() is None:
        st.info("Vælg eller skriv dit navn under **Koder** i sidepanelet for at kode.")
        return
    docs = state.get_store().list_documents()
    if not docs:
        st.info("Ingen dokumenter endnu. Importér transskriptioner på siden Import.")
        return
    if not state.has_codebook():
        return
    open_from_link(docs)
    # Only the chosen panel is drawn (st.tabs would draw both, and the hidden queue's
    # keyboard shortcuts would act on a suggestion the coder cannot see).
    view = st.segmented_control("Visning", VIEWS, default=VIEWS[0], required=True,
                                key=f"{KEY}view")
    if view == VIEWS[1]:
        queue_panel(queue_scope(docs))
    elif view == VIEWS[2]:
        from evaltool.ui import reader  # the compact reading view: a module of its own

        reader.panel(docs)
    else:
        show_done()
        document_panel(docs)


if __name__ == "__main__":  # run as a page script by st.navigation
    page()
