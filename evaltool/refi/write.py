"""Writing evaltool's project as REFI-QDA Project Exchange (``.qdpx``) and its codebook as
REFI-QDA Codebook Exchange (``.qdc``).

What maps to what is in the README ("REFI-QDA"); in short: coders → users, the active
codebook → codes (hierarchy, colour, a description from definition/include/exclude that
ends in one ``[evaltool] id=…; cmo=…`` line) and sets (CMO kinds, themes, goals), each
document → a plain-text source in evaltool's turn grammar (so turns can be parsed again),
document and speaker attributes → variables of sources and of one case per speaker,
codings → selections at exact character positions with one coding each (named
``sentence`` or ``span``), memos → notes. The schemas allow no extension elements, so
what only evaltool knows is written into those standard places. Everything written is
validated against the standard's schemas first (:mod:`evaltool.refi.schema`), and a file
appears whole or not at all (:mod:`evaltool.outfile`).
"""

from __future__ import annotations

import bisect
import colorsys
import datetime as dt
import uuid
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zipfile import ZIP_DEFLATED, ZipFile

from lxml import etree

from evaltool import codebook as cb
from evaltool import outfile
from evaltool.domain import PARAGRAPH_SEP, TURN_SEP, CodingStatus, MemoKind
from evaltool.errors import NotFoundError
from evaltool.export import clean
from evaltool.pseudonymize import document_view
from evaltool.refi import schema

# GUIDs are uuid5 of this namespace and a stable name (see :func:`guid`): the same object
# gets the same GUID in every export, so a later export can be matched to an earlier one.
NAMESPACE = uuid.UUID("4f0c2b8e-5d6a-4e7b-9a3c-1e2d3c4b5a69")
TRAILER = "[evaltool]"
CODEBOOK_NOTE = "evaltool-codebook"  # the project note that holds the codebook as YAML
MODERATOR_VARIABLE = "is_moderator"  # not "moderator": front matter may have that key
UNIT_NAMES = ("sentence", "span")  # a selection's name: a whole-sentence coding or a span
SEGMENT_MEMO_SELECTION = "sentence memo"
CMO_SET = {"context": "Kontekst", "mechanism": "Mekanisme", "outcome": "Udfald"}
LIST_JOIN = ", "  # a list attribute's items in one TextValue (attributes split at commas)


def guid(kind: str, *parts: Any) -> str:
    """The stable GUID of an exported object (``kind`` and the parts that identify it)."""
    return str(uuid.uuid5(NAMESPACE, "\x1f".join([kind, *(str(p) for p in parts)])))


def colour(code_key: str) -> str:
    """A code's colour as ``#rrggbb``: the hue, saturation and lightness the app's reader
    derives from the code's key (``ui.reader.code_colour``), so codes look alike."""
    h = zlib.crc32(code_key.encode("utf-8"))
    hue = h % 360
    saturation = (60, 75)[(h >> 9) & 1]
    lightness = (36, 44)[(h >> 10) & 1]
    r, g, b = colorsys.hls_to_rgb(hue / 360, lightness / 100, saturation / 100)
    return "#" + "".join(f"{round(c * 255):02x}" for c in (r, g, b))


def code_description(code: cb.Code, *, retired: bool = False) -> str:
    """A code's description: its definition, ``Medtag:``/``Udelad:`` paragraphs for
    include/exclude, and one last line ``[evaltool] id=…; cmo=…; column=…; themes=…;
    goals=…; target_groups=…`` (``; retired=true`` for a retired code) that a reader
    parses to get the code back."""
    parts = [code.definition]
    if code.include:
        parts.append(f"Medtag: {code.include}")
    if code.exclude:
        parts.append(f"Udelad: {code.exclude}")
    fields = {"id": code.id, "cmo": str(code.cmo), "column": code.column,
              "themes": "|".join(code.themes), "goals": "|".join(code.goals),
              "target_groups": "|".join(code.target_groups)}
    if retired:
        fields["retired"] = "true"
    parts.append(f"{TRAILER} " + "; ".join(f"{k}={v}" for k, v in fields.items()))
    return clean("\n\n".join(parts))


def timestamp(value: Any) -> str | None:
    """A stored time as the XML dateTime ``YYYY-MM-DDTHH:MM:SSZ`` (UTC; SQLite gives naive UTC)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


# -- source texts ------------------------------------------------------------------


@dataclass(frozen=True)
class TurnText:
    """One turn as a source shows it: speaker, role, start time and its text, which starts
    at ``start`` in the document's text."""

    speaker: str
    role: str | None
    start_time: float | None
    start: int
    text: str


def clock(seconds: float) -> str:
    """``hh:mm:ss`` (with milliseconds when there are any), as the turn grammar reads it."""
    millis = round(seconds * 1000)
    h, rest = divmod(millis, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}" + (f".{ms:03d}" if ms else "")


def label(turn: TurnText) -> str:
    """The turn's label in evaltool's turn grammar: ``[hh:mm:ss] Name (role): ``."""
    time = f"[{clock(turn.start_time)}] " if turn.start_time is not None else ""
    role = f" ({turn.role})" if turn.role else ""
    return f"{time}{turn.speaker}{role}: "


@dataclass
class SourceText:
    """A document's text as a REFI-QDA plain-text source, and where each document offset
    stands in it. Each turn is written as ``label + text`` with its paragraph breaks as a
    blank line (the turn grammar's paragraph break); turns are separated by a blank line."""

    text: str
    doc_starts: list[int] = field(default_factory=list)  # each paragraph's document offset
    src_starts: list[int] = field(default_factory=list)  # … and its offset in ``text``

    def position(self, offset: int) -> int:
        """The source position of a document offset (a paragraph's end maps to its end)."""
        i = bisect.bisect_right(self.doc_starts, offset) - 1
        if i < 0:
            return offset
        return self.src_starts[i] + (offset - self.doc_starts[i])


def source_text(turns: Iterable[TurnText]) -> SourceText:
    """The plain-text source of a document's turns (see :class:`SourceText`)."""
    pieces: list[str] = []
    out = SourceText("")
    pos = 0
    for i, turn in enumerate(turns):
        if i:
            pieces.append(TURN_SEP)
            pos += len(TURN_SEP)
        head = label(turn)
        pieces.append(head)
        pos += len(head)
        doc = turn.start
        for j, paragraph in enumerate(turn.text.split(PARAGRAPH_SEP)):
            if j:
                pieces.append(TURN_SEP)  # a blank line: a new paragraph of the same turn
                pos += len(TURN_SEP)
                doc += len(PARAGRAPH_SEP)
            out.doc_starts.append(doc)
            out.src_starts.append(pos)
            pieces.append(paragraph)
            pos += len(paragraph)
            doc += len(paragraph)
    out.text = "".join(pieces)
    return out


@dataclass
class ProjectSummary:
    """What a project export wrote."""

    documents: int = 0
    codes: int = 0
    codings: int = 0
    memos: int = 0
    users: int = 0


@dataclass
class _Document:
    """One exported document: its GUID, source text and how its offsets and names map."""

    id: int
    name: str
    guid: str
    view: Any
    source: SourceText
    doc_text: str  # the (pseudonymised) document text the offsets point into


# -- the project -----------------------------------------------------------------------


def _el(parent: Any, tag: str, attrs: dict[str, Any] | None = None, text: str | None = None,
        ns: str = schema.PROJECT_NS) -> Any:
    """A child element in the REFI-QDA namespace (attributes that are None left out)."""
    node = etree.SubElement(parent, f"{{{ns}}}{tag}",
                            {k: clean(str(v)) for k, v in (attrs or {}).items() if v is not None})
    if text is not None:
        node.text = clean(text)
    return node


def _origin() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{schema.ORIGIN} {version('evaltool')}"
    except PackageNotFoundError:  # pragma: no cover - a source tree without metadata
        return schema.ORIGIN


def _active_spec(store) -> cb.CodebookSpec | None:
    try:
        return cb.active_spec(store)[0]
    except NotFoundError:
        return None


def _codes(parent: Any, spec: cb.CodebookSpec, *, ns: str,
           retired: Sequence[cb.Code] = ()) -> None:
    """The code system as nested ``Code`` elements under a new ``Codes``; ``retired``
    codes (whose kept codings are exported) follow as ``isCodable="false"``."""
    children: dict[str | None, list[cb.Code]] = {}
    keys = {c.id for c in spec.codes}
    gone = {c.id for c in retired}
    for code in [*spec.codes, *retired]:
        children.setdefault(code.parent if code.parent in keys else None, []).append(code)

    def add(node: Any, code: cb.Code) -> None:
        el = _el(node, "Code", {"guid": guid("code", code.id), "name": code.label,
                                "isCodable": "false" if code.id in gone else "true",
                                "color": colour(code.id)}, ns=ns)
        _el(el, "Description", text=code_description(code, retired=code.id in gone), ns=ns)
        for child in children.get(code.id, []):
            add(el, child)

    codes = _el(parent, "Codes", ns=ns)
    for code in children.get(None, []):
        add(codes, code)


def _retired(store, spec: cb.CodebookSpec, used: set[str]) -> list[cb.Code]:
    """Retired codes that exported codings still use (their codings are kept), as codes."""
    keys = {c.id for c in spec.codes}
    return [cb.Code(id=c.key, label=c.label, definition=c.definition or c.label, cmo=c.cmo,
                    column=c.column, themes=c.themes or ("-",), goals=c.goals or ("-",),
                    parent=c.parent)
            for c in store.codes(include_retired=True)
            if c.retired and c.key in used and c.key not in keys]


def _sets(spec: cb.CodebookSpec) -> list[tuple[str, str, list[str]]]:
    """(name, description, code keys) of the sets: one per CMO kind, theme and goal."""
    out = []
    for kind, name in CMO_SET.items():
        members = [c.id for c in spec.codes if str(c.cmo) == kind]
        if members:
            out.append((f"CMO: {name}", "", members))
    for theme in spec.themes:  # a theme's goals on its own last line, as codes have theirs
        described = "\n\n".join(filter(None, [theme.description,
                                               f"{TRAILER} goals={'|'.join(theme.goals)}"]))
        out.append((f"Tema {theme.id}: {theme.label}", described,
                    [c.id for c in spec.codes if theme.id in c.themes]))
    for goal in spec.goals:
        out.append((f"Mål {goal.id}: {goal.label}", goal.description,
                    [c.id for c in spec.codes if goal.id in c.goals]))
    return out


def _write_sets(parent: Any, spec: cb.CodebookSpec, *, ns: str) -> None:
    sets = _el(parent, "Sets", ns=ns)
    for name, description, members in _sets(spec):
        el = _el(sets, "Set", {"guid": guid("set", name), "name": name}, ns=ns)
        if description:
            _el(el, "Description", text=description, ns=ns)
        for key in members:
            ref = ({"targetGUID": guid("code", key)} if ns == schema.PROJECT_NS
                   else {"guid": guid("code", key)})
            _el(el, "MemberCode", ref, ns=ns)


def _attribute_text(value: Any) -> str:
    return LIST_JOIN.join(str(v) for v in value) if isinstance(value, list) else str(value)


def _variable_values(parent: Any, attributes: dict[str, Any], view: Any,
                     variables: dict[str, str]) -> None:
    for key in sorted(attributes):
        value = attributes[key]
        if value is None or value == [] or value == "":
            continue
        el = _el(parent, "VariableValue")
        _el(el, "VariableRef", {"targetGUID": variables.setdefault(key, guid("variable", key))})
        _el(el, "TextValue", text=view.rewrite(_attribute_text(value)))


def build_project(store, *, status: str = "accepted",
                  pseudonymizer: Callable[[int], Any] | None = None,
                  name: str = "evaltool") -> tuple[bytes, dict[str, str], ProjectSummary]:
    """The project as REFI-QDA: the ``project.qde`` XML (validated), the source files'
    texts by archive path, and what was written.

    ``status``: the codings exported (``accepted``, ``suggested``, ``rejected`` or
    ``all``); ``pseudonymizer``: document id → a
    :class:`~evaltool.pseudonymize.PseudonymizedView` (names replaced in texts, labels,
    attributes and memos; positions into the pseudonymised text).
    """
    summary = ProjectSummary()
    spec = _active_spec(store)
    views: dict[int, Any] = {}

    def view_of(doc_id: int) -> Any:
        if doc_id not in views:
            views[doc_id] = document_view(store, doc_id, pseudonymizer)
        return views[doc_id]

    root = etree.Element(f"{{{schema.PROJECT_NS}}}Project",
                         {"name": name, "origin": _origin(),
                          f"{{{schema.XSI_NS}}}schemaLocation":
                              f"{schema.PROJECT_NS} {schema.PROJECT_LOCATION}"},
                         nsmap={None: schema.PROJECT_NS, "xsi": schema.XSI_NS})
    users: dict[str, str] = {}

    def user(coder: str | None) -> str | None:
        return users.setdefault(coder, guid("user", coder)) if coder else None

    # documents and their source texts
    docs: dict[int, _Document] = {}
    for info in store.document_facets():
        view = view_of(info.id)
        turns = []
        for t in store.turns(info.id):
            start, end = view.cut(t.start_char, t.end_char)
            turns.append((t, start, end))
        doc_text = view.text
        source = source_text(TurnText(view.label(t.speaker), view.label(t.role), t.start_time,
                                      start, doc_text[start:end]) for t, start, end in turns)
        docs[info.id] = _Document(info.id, info.name, guid("source", info.id), view, source,
                                  doc_text)

    # codings, grouped by document
    statuses = None if status == "all" else status
    rows = store.coding_rows(status=statuses)
    col = {c: i for i, c in enumerate(store.CODING_COLUMNS)}
    times = store.coding_times([r[col["id"]] for r in rows])
    by_doc: dict[int, list[tuple]] = {}
    for r in rows:
        if r[col["document_id"]] in docs:
            by_doc.setdefault(r[col["document_id"]], []).append(r)

    memos = store.memos(kinds=(MemoKind.segment.value, MemoKind.document.value,
                               MemoKind.project.value))
    notes: list[tuple[str, str, str | None, str | None, str]] = []  # guid, name, user, time, text

    def note(kind: str, memo_id: Any, coder: str | None, at: Any, text: str) -> str:
        key = guid("note", kind, memo_id)
        notes.append((key, f"{kind} memo", user(coder), timestamp(at), text))
        summary.memos += 1
        return key

    # users first need every coder: collect while building the parts below
    variables: dict[str, str] = {}
    sources_el = etree.Element(f"{{{schema.PROJECT_NS}}}Sources")
    for doc in docs.values():
        src = _el(sources_el, "TextSource", {"guid": doc.guid, "name": doc.name,
                                             "plainTextPath": f"internal://{doc.guid}.txt"})
        for r in by_doc.get(doc.id, []):
            coding_id = r[col["id"]]
            start, end = doc.view.cut(r[col["start_char"]], r[col["end_char"]])
            created, updated = times.get(coding_id, (None, None))
            coder = r[col["coder"]]
            sel = _el(src, "PlainTextSelection", {
                "guid": guid("selection", coding_id), "name": UNIT_NAMES[bool(r[col["is_span"]])],
                "startPosition": doc.source.position(start),
                "endPosition": doc.source.position(end),
                "creatingUser": user(coder), "creationDateTime": timestamp(created),
                "modifyingUser": user(coder), "modifiedDateTime": timestamp(updated)})
            if r[col["status"]] != CodingStatus.accepted.value:
                conf = r[col["confidence"]]
                _el(sel, "Description", text=(
                    f"{TRAILER} status={r[col['status']]}; source={r[col['source']]}; "
                    f"confidence={'' if conf is None else round(float(conf), 4)}"))
            coding = _el(sel, "Coding", {"guid": guid("coding", coding_id),
                                         "creatingUser": user(coder),
                                         "creationDateTime": timestamp(created)})
            _el(coding, "CodeRef", {"targetGUID": guid("code", r[col["code_key"]])})
            if r[col["memo"]]:
                _el(sel, "NoteRef", {"targetGUID": note(
                    "coding", coding_id, coder, updated, doc.view.rewrite(r[col["memo"]]))})
            summary.codings += 1
        segment_memos = [m for m in memos if m.kind == MemoKind.segment.value
                         and m.document_id == doc.id]
        if segment_memos:
            places = {s.id: (s.start_char, s.end_char) for s in store.segments(doc.id)}
            by_segment: dict[int, list] = {}
            for m in segment_memos:
                by_segment.setdefault(m.segment_id, []).append(m)
            for segment_id, items in by_segment.items():
                if segment_id not in places:
                    continue
                start, end = doc.view.cut(*places[segment_id])
                sel = _el(src, "PlainTextSelection", {
                    "guid": guid("sentence", segment_id), "name": SEGMENT_MEMO_SELECTION,
                    "startPosition": doc.source.position(start),
                    "endPosition": doc.source.position(end)})
                for m in items:
                    _el(sel, "NoteRef", {"targetGUID": note("segment", m.id, m.coder, m.at,
                                                            doc.view.rewrite(m.text))})
        for m in memos:
            if m.kind == MemoKind.document.value and m.document_id == doc.id:
                _el(src, "NoteRef", {"targetGUID": note("document", m.id, m.coder, m.at,
                                                        doc.view.rewrite(m.text))})
        summary.documents += 1
    facets = {d.id: d for d in store.document_facets()}
    for doc in docs.values():  # document attributes, after selections and notes (schema order)
        src = sources_el.find(f"{{{schema.PROJECT_NS}}}TextSource[@guid='{doc.guid}']")
        _variable_values(src, facets[doc.id].attributes, doc.view, variables)

    cases_el = etree.Element(f"{{{schema.PROJECT_NS}}}Cases")
    for sp in store.speaker_facets():
        if sp.document_id not in docs:
            continue
        doc = docs[sp.document_id]
        case = _el(cases_el, "Case", {"guid": guid("case", sp.document_id, sp.name),
                                      "name": doc.view.label(sp.name)})
        attrs = dict(sp.attributes)
        if sp.role and "role" not in attrs:
            attrs["role"] = sp.role
        _variable_values(case, attrs, doc.view, variables)
        moderator = _el(case, "VariableValue")
        _el(moderator, "VariableRef", {"targetGUID": variables.setdefault(
            MODERATOR_VARIABLE, guid("variable", MODERATOR_VARIABLE))})
        _el(moderator, "BooleanValue", text="true" if sp.is_moderator else "false")
        _el(case, "SourceRef", {"targetGUID": doc.guid})

    project_notes = []
    for m in memos:
        if m.kind == MemoKind.project.value:
            text = m.text
            for view in (view_of(d) for d in docs):  # a project memo may name anyone
                text = view.rewrite(text)
            project_notes.append(note("project", m.id, m.coder, m.at, text))
    if spec is not None:
        text = cb.dump(spec)
        for view in (view_of(d) for d in docs):
            text = view.rewrite(text)
        key = guid("note", CODEBOOK_NOTE)
        notes.append((key, CODEBOOK_NOTE, None, None, text))
        project_notes.append(key)

    # assemble in the schema's order
    if users:
        users_el = _el(root, "Users")
        for coder, key in sorted(users.items()):
            _el(users_el, "User", {"guid": key, "name": coder})
    summary.users = len(users)
    if spec is not None:
        retired = _retired(store, spec, {r[col["code_key"]] for r in rows})
        _codes(_el(root, "CodeBook"), spec, ns=schema.PROJECT_NS, retired=retired)
        summary.codes = len(spec.codes) + len(retired)
    if variables:
        vars_el = _el(root, "Variables")
        for key, ref in sorted(variables.items()):
            _el(vars_el, "Variable", {"guid": ref, "name": key, "typeOfVariable":
                                      "Boolean" if key == MODERATOR_VARIABLE else "Text"})
    if len(cases_el):
        root.append(cases_el)
    if len(sources_el):
        root.append(sources_el)
    if notes:
        notes_el = _el(root, "Notes")
        for key, note_name, author, at, text in notes:
            n = _el(notes_el, "Note", {"guid": key, "name": note_name, "creatingUser": author,
                                       "creationDateTime": at})
            _el(n, "PlainTextContent", text=text)
    if spec is not None:
        _write_sets(root, spec, ns=schema.PROJECT_NS)
    for key in project_notes:
        _el(root, "NoteRef", {"targetGUID": key})
    xml = etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
    schema.validate(xml, "project", schema.PROJECT_FILE)
    files = {f"{schema.SOURCES_DIR}/{d.guid}.txt": d.source.text for d in docs.values()}
    return xml, files, summary


def write_project(store, out: str | Path, *, status: str = "accepted",
                  pseudonymizer: Callable[[int], Any] | None = None) -> ProjectSummary:
    """Write the project as a ``.qdpx`` archive (``project.qde`` and ``sources/*.txt``),
    whole or not at all; return what it holds."""
    xml, files, summary = build_project(store, status=status, pseudonymizer=pseudonymizer,
                                        name=Path(out).stem or "evaltool")
    with outfile.replacing(out) as tmp, ZipFile(tmp, "w", ZIP_DEFLATED) as archive:
        archive.writestr(schema.PROJECT_FILE, xml)
        for path, text in files.items():
            archive.writestr(path, text.encode("utf-8"))
    return summary


# -- the codebook alone ---------------------------------------------------------------


def build_codebook(spec: cb.CodebookSpec) -> bytes:
    """A codebook as REFI-QDA Codebook Exchange XML (validated): codes with hierarchy,
    colours and descriptions, and the CMO, theme and goal sets."""
    root = etree.Element(f"{{{schema.CODEBOOK_NS}}}CodeBook",
                         {"origin": _origin(), f"{{{schema.XSI_NS}}}schemaLocation":
                          f"{schema.CODEBOOK_NS} {schema.CODEBOOK_LOCATION}"},
                         nsmap={None: schema.CODEBOOK_NS, "xsi": schema.XSI_NS})
    _codes(root, spec, ns=schema.CODEBOOK_NS)
    _write_sets(root, spec, ns=schema.CODEBOOK_NS)
    xml = etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
    schema.validate(xml, "codebook", "codebook.qdc")
    return xml


def write_codebook(store, out: str | Path) -> cb.CodebookSpec:
    """Write the active codebook as a ``.qdc`` file (whole or not at all)."""
    spec, _ = cb.active_spec(store)
    xml = build_codebook(spec)
    with outfile.replacing(out) as tmp:
        tmp.write_bytes(xml)
    return spec


def selection_texts(xml: bytes, files: dict[str, str]) -> Sequence[tuple[str, str]]:
    """(selection name, the source text it selects) of every selection in a project
    (what a reader sees; used by the tests and handy when checking a file by hand)."""
    root = etree.fromstring(xml)
    ns = {"q": schema.PROJECT_NS}
    out = []
    for src in root.iterfind(".//q:TextSource", ns):
        text = files[f"{schema.SOURCES_DIR}/{src.get('plainTextPath').removeprefix('internal://')}"]
        for sel in src.iterfind("q:PlainTextSelection", ns):
            out.append((sel.get("name"), text[int(sel.get("startPosition")):
                                              int(sel.get("endPosition"))]))
    return out
