"""Kodning's reading view: the transcript as continuous text with its codings in colour.

Speaker and time stand in a narrow margin, coded passages carry a stripe per code (dashed
for a suggestion) and the code names stand beside the turn; hovering shows a coding's
confidence, source and explanation. Dragging over words selects a span and opens a dialog
to code it; clicking a code shows it in a small toolbar under its turn and in the sidebar,
with buttons to accept or reject it (keys A / X in the text, Z undoes). Decisions
go through the Kodning page's own actions, so their messages and undo are the same as in
the detailed view, and each is also said in a toast where the coder is reading.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from itertools import pairwise
from typing import Any

import streamlit as st

from evaltool.domain import CodingView, TurnView
from evaltool.errors import EvaltoolError, SpanError
from evaltool.texttable import clock
from evaltool.ui import state
from evaltool.ui.codes import code_labels
from evaltool.ui.components.reading import reading_text
from evaltool.ui.pages import coding as kodning
from evaltool.ui.text import CMO, SOURCE, STATUS, md, number
from evaltool.ui.widgets import pick_many, select

KEY = "kod_r"
SELECTION = f"{KEY}selection"  # words selected, not yet coded or dropped: {start, end, turn, cut}
CHOSEN = f"{KEY}chosen"  # id of the coding shown in the side panel
TOAST = f"{KEY}toast"  # a message to pop up where the coder is reading

# What a span the store refused lacks, in Danish (SpanError.kind → message).
SPAN_ERRORS = {
    "empty": "Markeringen er tom eller kun mellemrum; markér nogle ord i teksten.",
    "out_of_range": "Markeringen ligger uden for dokumentets tekst; genindlæs siden.",
    "across_turns": "Markeringen går over flere ture; markér ord inden for én tur.",
    "retired_code": "Koden er udgået af kodebogen; vælg en anden kode.",
    "exists": "Markeringen har allerede den kode.",
}
EMPTY = "Markeringen indeholder ingen ord. Træk hen over ordene i teksten for at markere dem."
NO_SELECTION = "Markér først nogle ord i teksten (træk med musen hen over dem)."
READ_ONLY = "Projektleder-visningen er kun til læsning; her kan der ikke kodes."
WORDS = {"accept": "Accepter", "reject": "Afvis", "close": "Luk"}  # the component's toolbar
HOW = ("Træk hen over ord i teksten for at kode dem. Klik på en kode for at se sikkerhed, "
       "kilde og begrundelse og afgøre den (taster A og X; Z fortryder din seneste).")


def code_colour(code_key: str) -> tuple[str, str]:
    """A code's colours (stripe, fill), derived from its key: stable across sessions,
    documents and codebook edits. The stripe is dark enough to see on white; the fill is
    a light translucent wash, so text keeps its contrast in light and dark themes."""
    h = zlib.crc32(code_key.encode("utf-8"))
    hue = h % 360
    saturation = (60, 75)[(h >> 9) & 1]
    lightness = (36, 44)[(h >> 10) & 1]
    return (f"hsl({hue}, {saturation}%, {lightness}%)",
            f"hsla({hue}, 80%, 55%, 0.2)")


def turn_runs(text: str, start: int, marks: Iterable[tuple[int, int, int]]) -> list[dict[str, Any]]:
    """Cut a turn's text (which starts at document offset ``start``) at every boundary of
    the marks ``(index, start, end)`` (document offsets); each run is
    ``{"s": document offset, "t": text, "m": [indices of the marks covering it]}``."""
    end = start + len(text)
    spans = [(i, max(a, start), min(b, end)) for i, a, b in marks]
    spans = [(i, a, b) for i, a, b in spans if a < b]
    cuts = sorted({start, end, *(a for _, a, _ in spans), *(b for _, _, b in spans)})
    runs = []
    for a, b in pairwise(cuts):
        covering = [i for i, x, y in spans if x <= a and b <= y]
        runs.append({"s": a, "t": text[a - start:b - start], "m": covering})
    return runs


def _tip(c: CodingView, label: str) -> str:
    """The hover text of a coding: code, status, confidence, source, coder, why, memo."""
    parts = [label, CMO.get(c.cmo, c.cmo), STATUS.get(c.status, c.status)]
    if c.confidence is not None:
        parts.append(f"{number(c.confidence * 100)} % sikker")
    parts.append(SOURCE.get(c.source, c.source))
    if c.coder:
        parts.append(c.coder)
    lines = [" · ".join(parts)]
    if c.explanation:
        lines.append(f"Hvorfor: {c.explanation}")
    if c.memo:
        lines.append(f"Memo: {c.memo}")
    return "\n".join(lines)


def view_args(turns: Sequence[TurnView], codings: Sequence[CodingView], labels: dict[str, str],
              selection: dict | None = None, chosen: int | None = None) -> dict[str, Any]:
    """What the component draws: turns cut into runs at every coding's (and the pending
    selection's) boundaries, the marks those runs refer to, and per turn the code names
    to show beside it (the marks of each code)."""
    marks: list[dict[str, Any]] = []
    per_turn: dict[int, list[tuple[int, int, int]]] = {}
    chips: dict[int, dict[str, list[int]]] = {}  # turn → code → its marks (one name each)
    for c in sorted(codings, key=lambda c: (c.start, -c.end, c.code_key)):
        label = labels.get(c.code_key, c.code_label or c.code_key)
        stripe, fill = code_colour(c.code_key)
        marks.append({"id": c.id, "kind": "coding", "label": label, "colour": stripe,
                      "fill": fill, "status": c.status, "tip": _tip(c, label)})
        per_turn.setdefault(c.turn, []).append((len(marks) - 1, c.start, c.end))
        chips.setdefault(c.turn, {}).setdefault(c.code_key, []).append(len(marks) - 1)
    if selection:
        marks.append({"id": None, "kind": "pending", "label": "", "colour": "", "fill": "",
                      "status": "", "tip": ""})
        per_turn.setdefault(selection["turn"], []).append(
            (len(marks) - 1, selection["start"], selection["end"]))
    out = []
    for t in turns:
        role = f" ({t.role})" if t.role else ""
        out.append({"n": t.number, "time": clock(t.start_time) if t.start_time is not None else "",
                    "speaker": t.speaker, "who": f"{t.number}. {t.speaker}{role}",
                    "mod": t.is_moderator, "start": t.start_char,
                    "runs": turn_runs(t.text, t.start_char, per_turn.get(t.number, [])),
                    "chips": list(chips.get(t.number, {}).values())})
    return {"turns": out, "marks": marks, "chosen": chosen, "words": WORDS}


# --- events from the component and the actions they lead to ---------------------------

def _coding(document_id: int, coding_id: int | None) -> CodingView | None:
    """The coding as this coder sees it now (None when it is gone or not theirs to see)."""
    who = state.coder()
    if coding_id is None or who is None:
        return None
    views = state.get_store().coder_view(document_id, who)
    return next((v for v in views if v.id == coding_id), None)


def _on_event(document_id: int, key: str) -> None:
    """Handle the component's event: a selection (opens the coding dialog), a chosen code,
    a decision by key, undo, or Escape."""
    event = st.session_state.get(key) or {}
    kind = event.get("kind")
    if kind == "select":
        try:
            selection = {"start": int(event["start"]), "end": int(event["end"]),
                         "turn": int(event["turn"]), "cut": bool(event.get("cut"))}
        except (KeyError, TypeError, ValueError):  # not what the component sends
            return
        st.session_state[SELECTION] = selection
        st.session_state.pop(CHOSEN, None)
    elif kind == "empty":
        st.session_state.pop(SELECTION, None)
        _say("warning", EMPTY)
    elif kind == "coding":
        st.session_state[CHOSEN] = event.get("id")
        st.session_state.pop(SELECTION, None)
    elif kind == "clear":
        st.session_state.pop(SELECTION, None)
        st.session_state.pop(CHOSEN, None)
    elif kind == "undo":
        _after(kodning._undo)
    elif kind == "decide" and event.get("action") in ("accept", "reject"):
        coding = _coding(document_id, event.get("id"))
        if coding is None:
            _say("warning", "Kodningen findes ikke længere; vælg en anden.")
            return
        _decide(coding, event["action"])


def _say(kind: str, message: str) -> None:
    """A message at the top of the page and, since the text may be scrolled far below
    it, as a toast too."""
    state.flash(kind, message)
    st.session_state[TOAST] = message


def _after(action: Any, *args: Any) -> None:
    """Run one of the Kodning page's actions and toast the message it leaves."""
    action(*args)
    done = st.session_state.get(kodning.DONE)
    flash = st.session_state.get("flash")
    if done:
        st.session_state[TOAST] = done["message"]
    elif flash:
        st.session_state[TOAST] = flash[1]


def _decide(coding: CodingView, action: str) -> None:
    """Accept or reject a coding (read-only mode refuses), as the detailed view does."""
    if state.lead_mode():
        _say("error", READ_ONLY)
        return
    _after(kodning._act, coding, action)


def _code_selection(document_id: int) -> bool:
    """Code the selected words with the chosen code (and memo) as this coder; True when
    coded, else the reason is said."""
    selection = st.session_state.get(SELECTION)
    code_key = st.session_state.get(f"{KEY}code")
    memo = (st.session_state.get(f"{KEY}memo") or "").strip()
    who = state.coder()
    if state.lead_mode() or who is None:
        st.error(READ_ONLY if state.lead_mode() else "Vælg en koder i sidepanelet.")
        return False
    if not selection:
        st.warning(NO_SELECTION)
        return False
    if not code_key:
        st.warning("Vælg den kode, markeringen skal have.")
        return False
    store = state.get_store()
    try:
        layer = who if store.is_blind(document_id, who) else ""
        view = store.code_span(document_id, selection["start"], selection["end"], code_key,
                               coder=who, layer=layer, memo=memo)
    except SpanError as exc:
        st.error(SPAN_ERRORS.get(exc.kind, state.error_text(exc)))
        return False
    except EvaltoolError as exc:
        st.error(state.error_text(exc))
        return False
    st.session_state.pop(SELECTION, None)
    st.session_state[CHOSEN] = view.id
    note = f" Memo: »{md(memo)}«" if memo else ""
    message = (f"Kodet: **{md(view.code_label)}** på »{md(view.quote)}« i tur {view.turn}."
               f"{note}")
    kodning._done(message)
    st.session_state[TOAST] = message
    return True


def _drop_selection() -> None:
    st.session_state.pop(SELECTION, None)


# --- drawing --------------------------------------------------------------------------

@st.dialog("Kod markeringen", on_dismiss=_drop_selection)
def _selection_dialog(document_id: int, turn: TurnView, labels: dict[str, str]) -> None:
    """The selected words with a code picker, a memo field and 'Kod markeringen'."""
    selection = st.session_state.get(SELECTION)
    if not selection:
        st.warning(NO_SELECTION)
        return
    quote = turn.text[selection["start"] - turn.start_char:selection["end"] - turn.start_char]
    st.markdown(f"Tur {turn.number}, {md(turn.speaker)}: »{md(quote)}«")
    if selection.get("cut"):
        st.info(f"Markeringen gik over flere ture; kun tur {turn.number} er med.")
    select("Kode til markeringen", list(labels), format_func=labels.get, index=None,
           key=f"{KEY}code", placeholder="Vælg en kode")
    st.text_input("Memo", key=f"{KEY}memo", placeholder="Valgfrit memo")
    left, right = st.columns(2)
    if left.button("Kod markeringen", key=f"{KEY}save", type="primary") and \
            _code_selection(document_id):
        st.rerun()
    if right.button("Annullér", key=f"{KEY}drop"):
        _drop_selection()
        st.rerun()


def _coding_panel(coding: CodingView, labels: dict[str, str]) -> None:
    """The chosen coding: what it is, why, and buttons (keys A / X) to decide it."""
    label = labels.get(coding.code_key, coding.code_label)
    conf = f" · {number(coding.confidence * 100)} % sikker" if coding.confidence is not None else ""
    st.markdown(f"**{md(label)}** ({CMO.get(coding.cmo, coding.cmo)})")
    st.caption(f"{STATUS.get(coding.status, coding.status)}{conf} · "
               f"{SOURCE.get(coding.source, coding.source)}"
               + (f" · {md(coding.coder)}" if coding.coder else "")
               + f" · tur {coding.turn}" + (" · markering" if coding.is_span else " · sætning"))
    st.caption(f"»{md(coding.quote)}«")
    if coding.explanation:
        st.caption("Hvorfor: " + md(coding.explanation))
    if coding.memo:
        st.caption("Memo: " + md(coding.memo))
    left, right = st.columns(2)
    left.button("Accepter", key=f"{KEY}accept", type="primary", shortcut="a", help="Tast A",
                on_click=_decide, args=(coding, "accept"), disabled=coding.status == "accepted")
    right.button("Afvis", key=f"{KEY}reject", shortcut="x", help="Tast X",
                 on_click=_decide, args=(coding, "reject"), disabled=coding.status == "rejected")


def _side_panel(document_id: int, labels: dict[str, str]) -> None:
    """The sidebar's part of the reading view (it stays in view while the text scrolls):
    the chosen coding, or how to use the view."""
    with st.sidebar:
        st.divider()
        coding = _coding(document_id, st.session_state.get(CHOSEN))
        if coding is not None:
            _coding_panel(coding, labels)
        else:
            st.caption(HOW)


def panel(docs: list) -> None:
    """The reading view of one document."""
    kodning.show_done()
    if toast := st.session_state.pop(TOAST, None):
        st.toast(toast)
    store, who = state.get_store(), state.coder()
    top = st.columns([3, 2])
    doc = select("Dokument", docs, format_func=lambda d: f"{d.site or '?'} – {d.name}",
                 key=f"{KEY}doc", placeholder="Vælg et dokument", where=top[0])
    statuses = pick_many("Vis", list(STATUS), default=["suggested", "accepted"],
                         format_func=STATUS.get, key=f"{KEY}status", where=top[1])
    if st.session_state.get(f"{KEY}shown") != doc.id:  # another document: start afresh
        st.session_state[f"{KEY}shown"] = doc.id
        st.session_state.pop(SELECTION, None)
        st.session_state.pop(CHOSEN, None)
    labels = code_labels(kodning._codes(state.data_version()))  # »Forælder › Barn«, tree order
    codings = [c for c in store.coder_view(doc.id, who)
               if not statuses or c.status in statuses]
    turns = store.turns(doc.id)
    _side_panel(doc.id, labels)
    key = f"{KEY}text{doc.id}"
    selection = st.session_state.get(SELECTION)
    reading_text(view_args(turns, codings, labels, selection, st.session_state.get(CHOSEN)),
                 key=key, on_event=lambda: _on_event(doc.id, key))
    if selection:  # the dialog stays open until the selection is coded or dropped
        turn = next((t for t in turns if t.number == selection["turn"]), None)
        if turn is not None:
            _selection_dialog(doc.id, turn, labels)
