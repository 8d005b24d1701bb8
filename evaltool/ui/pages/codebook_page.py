"""Kodebog: the codes in their hierarchy with counts rolled up to parents, and (for an
evaluator) forms that add, edit, move, merge and retire codes through evaltool.codebook."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from evaltool import codebook, codetree
from evaltool.domain import CMO as Kind
from evaltool.errors import CodebookEditError, CodebookError, ConflictError, EvaltoolError
from evaltool.ui import state
from evaltool.ui.codes import code_labels, indented
from evaltool.ui.text import CMO, count, md, number
from evaltool.ui.widgets import pick_many, select

KEY = "kb_"
NO_PARENT = ""  # the parent choice "none": a top-level code
# A code's fields as the forms name them (and as messages say what was saved).
FIELDS = {"id": "id", "label": "navn", "definition": "definition", "include": "brug når",
          "exclude": "brug ikke når", "examples": "eksempler", "patterns": "mønstre",
          "cmo": "CMO", "column": "kolonne", "themes": "temaer", "goals": "mål",
          "target_groups": "målgrupper", "parent": "overordnet kode"}
EDIT_ERRORS = {
    "unknown_code": "Koden »{code}« findes ikke i kodebogen.",
    "retired_code": "Koden »{code}« er udfaset.",
    "id_taken": "Der findes allerede en kode med id'et »{code}«.",
    "id_retired": "Id'et »{code}« tilhører en udfaset kode (dens kodninger er gemt); vælg et "
                  "andet id.",
    "same_code": "En kode kan ikke flettes ind i sig selv; vælg to forskellige koder.",
    "has_children": "Koden »{code}« har underkoder ({other}); giv dem en anden overordnet kode "
                    "eller flet dem først.",
    "unknown_field": "Feltet »{other}« kan ikke ændres.",
    "nothing_changed": "Intet at gemme: koden »{code}« er allerede sådan.",
}
# The schema's English messages most often met in a form, in Danish.
SCHEMA_MESSAGES = {
    "String should have at least 1 character": "må ikke være tomt",
    "Tuple should have at least 1 item after validation, not 0": "vælg mindst én",
    "String should match pattern": "skal begynde med et bogstav og må kun have bogstaver a-z, "
                                   "tal og _ . -",
    "parent cycle": "giver en ring af overordnede koder",
    "a code cannot be its own parent": "en kode kan ikke være sin egen overordnede kode",
    "required field is missing": "skal udfyldes",
}


def error_text(exc: EvaltoolError) -> str:
    """A refused codebook edit in Danish (what is wrong, and that nothing was changed)."""
    if isinstance(exc, CodebookEditError):
        return md(EDIT_ERRORS[exc.kind].format(code=exc.code, other=exc.other or ""))
    if isinstance(exc, CodebookError):
        field = (exc.field or "").rsplit(".", 1)[-1]
        message = next((da for en, da in SCHEMA_MESSAGES.items() if exc.message.startswith(en)),
                       None)
        what = f"»{FIELDS.get(field, field)}« {message}" if message else md(exc.message)
        return (f"Kodebogen er ikke ændret: {md(what) if message else what}. "
                f"Teknisk besked: {md(exc)}")
    if isinstance(exc, ConflictError):
        return str(exc)
    return state.error_text(exc)


MANAGED = "Kodebogen ændres af en administrator; din konto kan læse den."


def _apply(action: Callable[[], Any], said: Callable[[Any], str]) -> None:
    """Run one codebook edit; flash what was saved, or why nothing was."""
    if state.lead_mode():
        state.flash("error", "Projektleder-visningen kan kun læse; kodebogen er ikke ændret.")
        return
    if not state.coder():
        state.flash("warning", "Vælg dit navn i sidepanelet, før du ændrer kodebogen.")
        return
    try:
        change = action()
    except EvaltoolError as exc:
        state.flash("error", error_text(exc))
        return
    state.flash("success", f"{said(change)} Kodebogen er nu version {number(change.version)}.")


def _value(name: str) -> Any:
    return st.session_state.get(f"{KEY}{name}")


def _fields(prefix: str, names: tuple[str, ...]) -> dict[str, Any]:
    """The values of a form's fields as typed (read when the form is sent)."""
    out: dict[str, Any] = {}
    for name in names:
        value = st.session_state.get(f"{prefix}{name}")
        out[name] = value.strip() if isinstance(value, str) else value
    return out


FORM_FIELDS = ("label", "definition", "include", "exclude", "examples", "patterns", "cmo",
               "column", "themes", "goals", "target_groups", "parent")


def _code_fields(prefix: str, content: dict, labels: dict[str, str], code: dict | None,
                 exclude: str | None = None) -> None:
    """The inputs of one code (empty for a new code, the code's values for an edit)."""
    code = code or {}
    st.text_input("Navn", value=code.get("label", ""), key=f"{prefix}label")
    st.text_area("Definition", value=code.get("definition", ""), key=f"{prefix}definition",
                 height=80)
    c = st.columns(2)
    c[0].text_area("Brug når", value=code.get("include", ""), key=f"{prefix}include", height=68)
    c[1].text_area("Brug ikke når", value=code.get("exclude", ""), key=f"{prefix}exclude",
                   height=68)
    st.text_area("Eksempler (én pr. linje)", value="\n".join(code.get("examples", [])),
                 key=f"{prefix}examples", height=80)
    patterns = code.get("patterns", [])
    if all(isinstance(p, str) for p in patterns):
        st.text_area("Mønstre (én pr. linje, fx kaffe* eller ny* bruger*)",
                     value="\n".join(patterns), key=f"{prefix}patterns", height=68)
    else:
        st.caption("Koden har mønstre med token-ordbøger; de ændres i YAML-filen.")
    c = st.columns(3)
    kinds = list(CMO)
    select("CMO", kinds, format_func=CMO.get, key=f"{prefix}cmo", where=c[0],
           index=kinds.index(code["cmo"]) if code.get("cmo") in kinds else 0)
    columns = list(content["columns"])
    select("Kolonne", columns, key=f"{prefix}column", where=c[1],
           index=columns.index(code["column"]) if code.get("column") in columns else 0)
    parents = [NO_PARENT, *[k for k in labels if k != exclude]]
    select("Overordnet kode", parents, key=f"{prefix}parent", where=c[2],
           format_func=lambda k: labels.get(k, "(ingen – øverste niveau)"),
           index=parents.index(code["parent"]) if code.get("parent") in parents else 0)
    themes = {t["id"]: f"{t['id']} {t['label']}" for t in content["themes"]}
    pick_many("Temaer", list(themes), format_func=themes.get, key=f"{prefix}themes",
              default=[t for t in code.get("themes", []) if t in themes])
    goals = {g["id"]: f"{g['id']} {g['label']}" for g in content["goals"]}
    pick_many("Mål", list(goals), format_func=goals.get, key=f"{prefix}goals",
              default=[g for g in code.get("goals", []) if g in goals])
    groups = {g["id"]: g["label"] for g in content.get("target_groups", [])}
    if groups:
        pick_many("Målgrupper", list(groups), format_func=groups.get,
                  key=f"{prefix}target_groups",
                  default=[g for g in code.get("target_groups", []) if g in groups])


def _add() -> None:
    prefix = f"{KEY}add_"
    fields = {"id": _fields(prefix, ("id",))["id"], **_fields(prefix, FORM_FIELDS)}
    fields = {k: v for k, v in fields.items() if v is not None}
    _apply(lambda: codebook.add_code(state.get_store(), fields, coder=state.coder()),
           lambda c: f"Gemt: ny kode »{md(_path(c.code))}« ({md(c.code)}).")


def _path(key: str) -> str:
    """A code's ``Forælder › Barn`` label as stored now."""
    return code_labels(state.get_store().codes()).get(key, key)


def _edit(key: str, prefix: str) -> None:
    fields = {k: v for k, v in _fields(prefix, FORM_FIELDS).items() if v is not None}
    _apply(lambda: codebook.edit_code(state.get_store(), key, fields, coder=state.coder()),
           lambda c: f"Gemt på »{md(key)}«: " + ", ".join(FIELDS[f] for f in c.fields) + ".")


def _merge(labels: dict[str, str]) -> None:
    source, target = _value("merge_from"), _value("merge_into")
    if not source or not target:
        state.flash("warning", "Vælg den kode, der skal flettes, og den, den flettes ind i.")
        return
    _apply(lambda: codebook.merge_codes(state.get_store(), source, target, coder=state.coder()),
           lambda c: (f"Flettet: »{md(labels.get(source, source))}« ind i "
                      f"»{md(labels.get(target, target))}«: "
                      f"{count(c.moved, 'kodning flyttet', 'kodninger flyttet')}, "
                      f"{count(c.combined, 'lagt sammen', 'lagt sammen')} med en kodning, der "
                      f"allerede var der. »{md(labels.get(source, source))}« er udfaset."))


def _set_parent(labels: dict[str, str]) -> None:
    key, parent = _value("move_code"), _value("move_parent") or None
    if not key:
        state.flash("warning", "Vælg den kode, der skal flyttes.")
        return
    _apply(lambda: codebook.set_parent(state.get_store(), key, parent, coder=state.coder()),
           lambda c: f"Gemt: »{md(labels.get(key, key))}« ligger nu "
                     + (f"under »{md(labels.get(parent, parent))}«." if parent
                        else "på øverste niveau."))


def _retire(labels: dict[str, str]) -> None:
    key = _value("retire_code")
    if not key:
        state.flash("warning", "Vælg den kode, der skal udfases.")
        return
    _apply(lambda: codebook.retire_code(state.get_store(), key, coder=state.coder()),
           lambda c: f"Udfaset: »{md(labels.get(key, key))}«; dens kodninger er gemt.")


def _forms(content: dict, version: int, labels: dict[str, str]) -> None:
    """The editing forms (values are read when a form is sent: no Enter needed)."""
    add, edit, move, merge, retire = st.tabs(
        ["Tilføj kode", "Redigér kode", "Flyt kode", "Flet koder", "Udfas kode"])
    with add, st.form(f"{KEY}add_form"):
        st.text_input("Id (fx mek_samtale)", key=f"{KEY}add_id")
        _code_fields(f"{KEY}add_", content, labels, None)
        st.form_submit_button("Tilføj kode", on_click=_add, type="primary")
    with edit:
        key = select("Kode", list(labels), format_func=labels.get, key=f"{KEY}edit_code",
                     index=None, placeholder="Vælg koden, der skal redigeres")
        if key:
            prefix = f"{KEY}edit_{key}_{version}_"  # the version in the key: fresh values
            code = next(c for c in content["codes"] if c["id"] == key)
            with st.form(f"{KEY}edit_form"):
                _code_fields(prefix, content, labels, code, exclude=key)
                st.form_submit_button("Gem ændringer", on_click=_edit, args=(key, prefix),
                                      type="primary")
    with move, st.form(f"{KEY}move_form"):
        select("Kode", list(labels), format_func=labels.get, key=f"{KEY}move_code", index=None,
               placeholder="Vælg koden, der skal flyttes")
        select("Ny overordnet kode", [NO_PARENT, *labels], key=f"{KEY}move_parent",
               format_func=lambda k: labels.get(k, "(ingen – øverste niveau)"))
        st.form_submit_button("Flyt", on_click=_set_parent, args=(labels,))
    with merge, st.form(f"{KEY}merge_form"):
        st.caption("Kodningerne flyttes til den anden kode. Står begge koder på samme sætning, "
                   "beholdes den stærkeste beslutning (accepteret før afvist før forslag) med "
                   "begge memoer. Den flettede kode udfases; historikken viser fletningen.")
        select("Flet koden", list(labels), format_func=labels.get, key=f"{KEY}merge_from",
               index=None, placeholder="Vælg koden, der forsvinder")
        select("ind i", list(labels), format_func=labels.get, key=f"{KEY}merge_into",
               index=None, placeholder="Vælg koden, der bliver")
        st.form_submit_button("Flet", on_click=_merge, args=(labels,))
    with retire, st.form(f"{KEY}retire_form"):
        st.caption("En udfaset kode får ingen nye forslag og er ikke med i eksporten af "
                   "kodebogen; dens kodninger er gemt.")
        select("Kode", list(labels), format_func=labels.get, key=f"{KEY}retire_code",
               index=None, placeholder="Vælg koden, der skal udfases")
        st.form_submit_button("Udfas", on_click=_retire, args=(labels,))


def _code(code: dict, depth: int, path: str, counts: dict[tuple[str, str], int],
          rolled: dict[str, int], has_children: bool) -> None:
    """One code's definition, criteria, examples and counts (with its sub-codes')."""
    acc = counts.get((code["id"], "accepted"), 0)
    sug = counts.get((code["id"], "suggested"), 0)
    under = f" (med underkoder: {number(rolled.get(code['id'], 0))})" if has_children else ""
    # expander labels render Markdown: user text is escaped like everywhere else
    title = (f"{md(indented(path, depth))} · {md(code['id'])} · {md('|'.join(code['themes']))} · "
             f"{md('|'.join(code['goals']))} · {number(acc)} accepteret{under}, "
             f"{number(sug)} forslag")
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


def _history(labels: dict[str, str]) -> None:
    """The codebook's edits, newest first."""
    entries = state.get_store().codebook_history()
    with st.expander(f"Ændringer ({number(len(entries))})"):
        if not entries:
            st.caption("Kodebogen er ikke ændret i appen endnu.")
        what = {"add": "tilføjet", "edit": "redigeret", "parent": "flyttet",
                "merge": "flettet ind i", "retire": "udfaset"}
        for e in reversed(entries):
            a = e.after or {}
            into = f" »{md(labels.get(a.get('into'), a.get('into')))}«" if a.get("into") else ""
            st.caption(f"{e.at:%d.%m.%Y %H:%M} · {md(e.coder or '?')} · version {a.get('version')}"
                       f" · »{md(labels.get(a.get('code'), a.get('code')))}« "
                       f"{what.get(a.get('action'), md(a.get('action')))}{into}")


def page() -> None:
    """The Kodebog page."""
    st.title("Kodebog")
    store = state.get_store()
    if not state.has_codebook():
        return
    state.show_flash()
    cb = store.active_codebook()
    content = cb["content"]
    codes = store.codes()
    labels = code_labels(codes)
    st.caption(f"{md(content['title'])} · version {cb['version']} · "
               f"{number(len(content['codes']))} koder")
    if state.lead_mode():
        st.caption("Kodebogen ændres i evaluator-rollen; projektleder-visningen kan kun læse.")
    elif not state.may_manage():
        st.caption(MANAGED)
    else:
        _forms(content, cb["version"], labels)
    with st.expander("Temaer og mål"):
        for t in content["themes"]:
            st.markdown(f"**{md(t['id'])} {md(t['label'])}** (mål {md(', '.join(t.get('goals', [])))}): "
                        f"{md(t.get('description', ''))}")
        for g in content["goals"]:
            st.markdown(f"**{md(g['id'])}** {md(g['label'])}")
    counts = {(k, s): n for k, s, n in store.count_by_code(("accepted", "suggested", "rejected"))}
    parents = codetree.parents_of((c["id"], c.get("parent")) for c in content["codes"])
    # distinct sentences: one coded with a parent and its child counts once (as on Dashboard)
    rolled = {key: total for key, _own, total in store.count_by_code_tree(("accepted",))}
    with_children = {p for p in parents.values() if p}
    by_key = {c["id"]: c for c in content["codes"]}
    order = codetree.tree_order(parents)
    for column in content["columns"]:
        if not any(by_key[k]["column"] == column for k, _ in order):
            continue
        st.subheader(md(column))
        # imported codes without a CMO kind get a fourth column until a kind is chosen
        kinds = [k for k in CMO if k != Kind.unassigned or any(
            by_key[key]["column"] == column and by_key[key]["cmo"] == k for key, _ in order)]
        cols = st.columns(len(kinds))
        for col, kind in zip(cols, kinds, strict=True):
            with col:
                st.markdown(f"**{CMO[kind]}**")
                for key, depth in order:
                    code = by_key[key]
                    if code["column"] == column and code["cmo"] == kind:
                        _code(code, depth, labels.get(key, code["label"]), counts, rolled,
                              key in with_children)
    _retired(store, counts)
    _history(labels)


RETIRED_NOTE = ("En udfaset kodes kodninger er gemt og kommer med i eksporten, men de tælles "
                "ikke med i temaer, mål, CMO-tal og kæder (Dashboard, Temakapitel, rapporten) "
                "eller under en overordnet kode.")


def _retired(store, counts: dict[tuple[str, str], int]) -> None:
    """Retired codes apart, each marked 'udfaset' with the codings it keeps (which count in
    no figure of the page, the Dashboard or the report)."""
    gone = [c for c in store.codes(include_retired=True) if c.retired]
    if not gone:
        return
    with st.expander(f"Udfasede koder ({number(len(gone))})"):
        st.caption(RETIRED_NOTE)
        for c in gone:
            kept = ", ".join(f"{number(counts.get((c.key, status), 0))} {word}" for status, word
                             in (("accepted", "accepteret"), ("suggested", "forslag"),
                                 ("rejected", "afvist")))
            st.caption(f"{md(c.label)} · {md(c.key)} · udfaset · gemt: {kept}")


if __name__ == "__main__":  # run as a page script by st.navigation
    page()
