"""Reading REFI-QDA files: a project (``.qdpx``: a zip with ``project.qde`` and its sources)
or a codebook (``.qdc``), written by evaltool or by NVivo, ATLAS.ti, MAXQDA, QualCoder,
Taguette ... into plain data (:class:`RefiProject`, :class:`RefiCode`); no database here.

Policy (README, "REFI-QDA"): what cannot be read is an error naming the part (not a zip,
no ``project.qde``, XML that is not well-formed, a selection outside its source's text, a
coding of a code the file does not define, a position that is no number) and nothing is
imported. A file that deviates from the standard's schema but can still be read (other
tools' files often do: a missing ``name``, a plain ``plainTextPath``) is read leniently and
each deviation is listed in ``warnings``; ``strict=True`` refuses it instead. Sources that
are not plain text (PDF, pictures, audio, video) are listed, never imported silently.

Positions (``startPosition``/``endPosition``) count Unicode characters of the source's
plain text, as the standard says; a byte-order mark at the start of a text file is not
part of the text.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from lxml import etree

from evaltool.errors import RefiError

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
PROJECT_FILE = "project.qde"
# Archives are read whole into memory: bounded so a zip bomb cannot exhaust it.
MAX_ARCHIVE_MEMBERS = 10_000
MAX_UNPACKED_BYTES = 300_000_000
MAX_XML_BYTES = 100_000_000
TEXT_SOURCE = "TextSource"
OTHER_SOURCES = ("PDFSource", "PictureSource", "AudioSource", "VideoSource")


@dataclass(frozen=True)
class RefiUser:
    """A user (coder) of the project."""

    guid: str
    name: str


@dataclass(frozen=True)
class RefiCode:
    """A code; ``parent`` is the guid of the code it is nested in."""

    guid: str
    name: str
    description: str = ""
    color: str | None = None
    codable: bool = True
    parent: str | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class RefiCoding:
    """One code applied to a selection."""

    guid: str
    code: str  # the code's guid
    user: str | None = None  # the creating user's guid
    created: str | None = None


@dataclass(frozen=True)
class RefiSelection:
    """A plain-text selection ``[start, end)`` of a source with its codings."""

    guid: str
    start: int
    end: int
    codings: tuple[RefiCoding, ...] = ()
    user: str | None = None
    created: str | None = None
    description: str = ""
    notes: tuple[str, ...] = ()
    name: str = ""


@dataclass(frozen=True)
class RefiSource:
    """A source: a text source with its text (``None`` when the archive does not hold it),
    or another kind (``kind`` is its element name), which evaltool does not import."""

    guid: str
    name: str
    kind: str
    text: str | None = None
    selections: tuple[RefiSelection, ...] = ()
    description: str = ""
    notes: tuple[str, ...] = ()
    codings: int = 0  # codings of every selection kind (also of non-text ones)
    variables: tuple[tuple[str, str], ...] = ()  # (variable name, value as text)


@dataclass(frozen=True)
class RefiCase:
    """A case (evaltool writes one per speaker of a document) with its variable values."""

    guid: str
    name: str
    sources: tuple[str, ...]  # guids of the sources it refers to
    variables: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RefiNote:
    """A note (memo) of the project; sources, selections and codes point at it."""

    guid: str
    name: str
    text: str
    user: str | None = None
    created: str | None = None


@dataclass(frozen=True)
class RefiSet:
    """A set of codes (evaltool writes one per CMO kind, theme and goal)."""

    guid: str
    name: str
    description: str = ""
    codes: tuple[str, ...] = ()  # guids of its member codes


@dataclass
class RefiProject:
    """What a ``.qdpx`` (or, with no sources, a ``.qdc``) holds that evaltool imports."""

    name: str
    origin: str
    users: list[RefiUser] = field(default_factory=list)
    codes: list[RefiCode] = field(default_factory=list)
    sources: list[RefiSource] = field(default_factory=list)
    notes: list[RefiNote] = field(default_factory=list)
    cases: list[RefiCase] = field(default_factory=list)
    sets: list[RefiSet] = field(default_factory=list)
    creating_user: str | None = None
    # deviations from the standard read leniently, and parts not imported (one line each)
    warnings: list[str] = field(default_factory=list)
    extras: dict[str, bytes] = field(default_factory=dict)  # other archive members by name


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _parse_xml(path: str, part: str, data: bytes) -> etree._Element:
    """The root element of an XML document (no DTDs, entities or network)."""
    if len(data) > MAX_XML_BYTES:
        raise RefiError(path, part, f"larger than {MAX_XML_BYTES:,} bytes")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False, remove_comments=True, remove_pis=True)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line = f" line {exc.lineno}" if exc.lineno else ""
        raise RefiError(path, f"{part}{line}", "not well-formed XML") from None


def _schema_deviations(root: etree._Element, kind: str) -> list[tuple[int, str]]:
    """Schema violations of ``root`` (line, message); empty when the schema is not shipped."""
    try:
        from evaltool.refi import schema
    except ImportError:  # the schemas arrive with the writer
        return []
    try:
        return schema.errors(etree.tostring(root), kind)  # type: ignore[arg-type]
    except (OSError, FileNotFoundError):
        return []


def _check_schema(path: str, part: str, root: etree._Element, kind: str, strict: bool,
                  warnings: list[str]) -> None:
    """Validate against the REFI-QDA schema: refuse (strict) or note the deviations."""
    found = _schema_deviations(root, kind)
    if not found:
        return
    line, message = found[0]
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    where = f"{part} line {line}" if line else part
    if strict:
        raise RefiError(path, where, f"does not conform to the REFI-QDA {kind} schema: "
                                     f"{message}{more}")
    warnings.append(f"{where}: deviates from the REFI-QDA {kind} schema ({message}{more}); "
                    "read leniently")


def _int(path: str, el: etree._Element, attr: str, what: str) -> int:
    raw = el.get(attr)
    try:
        value = int(raw) if raw is not None else None
    except ValueError:
        value = None
    if value is None or value < 0:
        raise RefiError(path, f"{what} (line {el.sourceline})",
                        f"{attr} is missing or not a whole number ≥ 0")
    return value


def _text_of(el: etree._Element | None) -> str:
    return "" if el is None or el.text is None else el.text.strip()


def _note_refs(el: etree._Element, ns: str) -> tuple[str, ...]:
    return tuple(r.get("targetGUID", "") for r in el.findall(_q(ns, "NoteRef"))
                 if r.get("targetGUID"))


_VALUE_TAGS = ("TextValue", "BooleanValue", "IntegerValue", "FloatValue", "DateValue",
               "DateTimeValue")


def _variable_values(el: etree._Element, ns: str, names: dict[str, str]
                     ) -> tuple[tuple[str, str], ...]:
    """(variable name, value as text) of the ``VariableValue`` children of ``el``."""
    out = []
    for vv in el.findall(_q(ns, "VariableValue")):
        ref = vv.find(_q(ns, "VariableRef"))
        name = names.get(ref.get("targetGUID", "")) if ref is not None else None
        value = next((v.text or "" for tag in _VALUE_TAGS
                      for v in vv.findall(_q(ns, tag))), None)
        if name and value is not None:
            out.append((name, value))
    return tuple(out)


def _codes(el: etree._Element | None, ns: str, parent: str | None,
           out: list[RefiCode], path: str) -> None:
    """The codes under ``el`` (a ``Codes`` or ``Code`` element), depth first."""
    if el is None:
        return
    for code in el.findall(_q(ns, "Code")):
        guid = code.get("guid")
        if not guid:
            raise RefiError(path, f"code (line {code.sourceline})", "has no guid")
        name = (code.get("name") or "").strip()
        out.append(RefiCode(guid, name, _text_of(code.find(_q(ns, "Description"))),
                            code.get("color"), code.get("isCodable", "true") != "false",
                            parent, _note_refs(code, ns)))
        _codes(code, ns, guid, out, path)


def read_codebook_root(root: etree._Element, ns: str, path: str) -> list[RefiCode]:
    """The codes of a ``CodeBook`` element (of a ``.qdc`` or inside ``project.qde``)."""
    out: list[RefiCode] = []
    _codes(root.find(_q(ns, "Codes")), ns, None, out, path)
    seen: set[str] = set()
    for code in out:
        if code.guid in seen:
            raise RefiError(path, f"code {code.guid}", "the guid is used by two codes")
        seen.add(code.guid)
    return out


def read_sets(el: etree._Element | None, ns: str) -> list[RefiSet]:
    """The sets of a ``Sets`` element: name, description and member codes' guids."""
    out: list[RefiSet] = []
    for s in el.findall(_q(ns, "Set")) if el is not None else ():
        members = tuple(m.get("targetGUID") or m.get("guid") or ""
                        for m in s.findall(_q(ns, "MemberCode")))
        out.append(RefiSet(s.get("guid", ""), (s.get("name") or "").strip(),
                           _text_of(s.find(_q(ns, "Description"))), tuple(filter(None, members))))
    return out


def read_qdc(data: bytes, path: str = "<codebook>", *, strict: bool = False) -> RefiProject:
    """A REFI-QDA codebook (``.qdc``) as a project with codes only."""
    root = _parse_xml(path, "codebook", data)
    if etree.QName(root).localname != "CodeBook":
        raise RefiError(path, "codebook", "the root element is not a REFI-QDA CodeBook")
    ns = etree.QName(root).namespace or ""
    project = RefiProject(Path(path).stem, root.get("origin") or "")
    if ns != CODEBOOK_NS:
        if strict:
            raise RefiError(path, "codebook", f"namespace {ns or '(none)'!r} is not {CODEBOOK_NS}")
        project.warnings.append(f"codebook: namespace {ns or '(none)'!r} instead of "
                                f"{CODEBOOK_NS}; read leniently")
    else:
        _check_schema(path, "codebook", root, "codebook", strict, project.warnings)
    project.codes = read_codebook_root(root, ns, path)
    project.sets = read_sets(root.find(_q(ns, "Sets")), ns)
    return project


def _archive(path: str, data: bytes) -> dict[str, bytes]:
    """The members of a ``.qdpx`` zip archive by name (bounded in count and size)."""
    import io

    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise RefiError(path, None, "not a REFI-QDA project (.qdpx is a zip archive)") from None
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > MAX_ARCHIVE_MEMBERS:
            raise RefiError(path, None, f"more than {MAX_ARCHIVE_MEMBERS:,} files in the archive")
        if sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES:
            raise RefiError(path, None, f"unpacks to more than {MAX_UNPACKED_BYTES:,} bytes")
        members: dict[str, bytes] = {}
        total = 0
        for info in infos:
            try:
                with zf.open(info) as fh:  # read bounded: the sizes in the header may lie
                    blob = fh.read(MAX_UNPACKED_BYTES - total + 1)
            except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError, OSError):
                raise RefiError(path, info.filename[:200], "cannot be unpacked") from None
            total += len(blob)
            if total > MAX_UNPACKED_BYTES:
                raise RefiError(path, None, f"unpacks to more than {MAX_UNPACKED_BYTES:,} bytes")
            members[info.filename] = blob
    return members


def _member(members: dict[str, bytes], source_path: str) -> tuple[str, bytes] | None:
    """The archive member a source path names: ``internal://x.txt`` is ``sources/x.txt``
    (any case of the folder); a bare name (as some tools write) is looked up the same way."""
    name = source_path
    for prefix in ("internal://", "relative://"):
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    name = name.lstrip("/")
    folded = {k.casefold(): k for k in members}
    for candidate in (f"sources/{name}", name, f"sources/{PurePosixPath(name).name}"):
        key = folded.get(candidate.casefold())
        if key is not None:
            return key, members[key]
    return None


def _decode(path: str, part: str, blob: bytes) -> str:
    if blob.startswith(b"\xff\xfe") or blob.startswith(b"\xfe\xff"):
        try:
            text = blob.decode("utf-16")
        except UnicodeDecodeError:
            raise RefiError(path, part, "not UTF-16 text") from None
    else:
        try:
            text = blob.decode("utf-8")
        except UnicodeDecodeError:
            raise RefiError(path, part, "not UTF-8 text") from None
    return text[1:] if text.startswith("\ufeff") else text


def _selections(path: str, src: etree._Element, ns: str, source_name: str
                ) -> tuple[list[RefiSelection], int]:
    """The plain-text selections of a text source, and the codings of all its selections."""
    out: list[RefiSelection] = []
    codings_all = 0
    for sel in src:
        if not isinstance(sel.tag, str) or not sel.tag.endswith("Selection"):
            continue
        codings = []
        for c in sel.findall(_q(ns, "Coding")):
            ref = c.find(_q(ns, "CodeRef"))
            target = ref.get("targetGUID") if ref is not None else None
            if not target:
                raise RefiError(path, f"coding {c.get('guid') or ''} (line {c.sourceline})".strip(),
                                "has no CodeRef targetGUID")
            codings.append(RefiCoding(c.get("guid") or "", target, c.get("creatingUser"),
                                      c.get("creationDateTime")))
        codings_all += len(codings)
        if etree.QName(sel).localname != "PlainTextSelection":
            continue
        what = f"selection {sel.get('guid') or ''} of source {source_name!r}"
        start = _int(path, sel, "startPosition", what)
        end = _int(path, sel, "endPosition", what)
        out.append(RefiSelection(sel.get("guid") or "", start, end, tuple(codings),
                                 sel.get("creatingUser"), sel.get("creationDateTime"),
                                 _text_of(sel.find(_q(ns, "Description"))), _note_refs(sel, ns),
                                 (sel.get("name") or "").strip()))
    return out, codings_all


def read_qdpx(data: bytes, path: str = "<project>", *, strict: bool = False) -> RefiProject:
    """A REFI-QDA project archive (``.qdpx``) as plain data; see the module's policy."""
    members = _archive(path, data)
    qde_key = next((k for k in members if k.casefold() == PROJECT_FILE), None)
    if qde_key is None:
        raise RefiError(path, None, f"no {PROJECT_FILE} in the archive")
    root = _parse_xml(path, PROJECT_FILE, members[qde_key])
    if etree.QName(root).localname != "Project":
        raise RefiError(path, PROJECT_FILE, "the root element is not a REFI-QDA Project")
    ns = etree.QName(root).namespace or ""
    project = RefiProject(root.get("name") or Path(path).stem, root.get("origin") or "",
                          creating_user=root.get("creatingUserGUID"))
    if ns != PROJECT_NS:
        if strict:
            raise RefiError(path, PROJECT_FILE, f"namespace {ns or '(none)'!r} is not {PROJECT_NS}")
        project.warnings.append(f"{PROJECT_FILE}: namespace {ns or '(none)'!r} instead of "
                                f"{PROJECT_NS}; read leniently")
    else:
        _check_schema(path, PROJECT_FILE, root, "project", strict, project.warnings)
    users = root.find(_q(ns, "Users"))
    for u in users.findall(_q(ns, "User")) if users is not None else ():
        if u.get("guid"):
            project.users.append(RefiUser(u.get("guid"), (u.get("name") or u.get("id") or
                                                          u.get("guid")).strip()))
    book = root.find(_q(ns, "CodeBook"))
    project.codes = read_codebook_root(book, ns, path) if book is not None else []
    project.sets = read_sets(root.find(_q(ns, "Sets")), ns)
    used_members = {qde_key}
    variables = root.find(_q(ns, "Variables"))
    var_names = {v.get("guid", ""): (v.get("name") or "").strip()
                 for v in (variables.findall(_q(ns, "Variable")) if variables is not None else ())}
    sources = root.find(_q(ns, "Sources"))
    for src in sources if sources is not None else ():
        if not isinstance(src.tag, str):
            continue
        kind = etree.QName(src).localname
        guid = src.get("guid") or ""
        name = (src.get("name") or "").strip()
        if not name:
            name = PurePosixPath(src.get("plainTextPath") or src.get("path") or guid).stem
            if strict:
                raise RefiError(path, f"source {guid}", "has no name")
            project.warnings.append(f"source {guid}: has no name; named {name!r} after its file")
        notes = _note_refs(src, ns)
        description = _text_of(src.find(_q(ns, "Description")))
        if kind != TEXT_SOURCE:
            _, n = _selections(path, src, ns, name)
            project.sources.append(RefiSource(guid, name, kind, None, (), description, notes, n))
            continue
        text = None
        inline = src.find(_q(ns, "PlainTextContent"))
        plain = src.get("plainTextPath")
        if inline is not None and inline.text is not None:
            text = inline.text
        elif plain:
            if plain.startswith("absolute://"):
                project.warnings.append(f"source {name!r}: its text is outside the archive "
                                        "(absolute path); not imported")
            else:
                found = _member(members, plain)
                if found is None:
                    raise RefiError(path, f"source {name!r}",
                                    "its plain text file is missing from the archive")
                if not plain.startswith("internal://"):
                    project.warnings.append(f"source {name!r}: plainTextPath is not an "
                                            "internal:// path; read from the archive leniently")
                used_members.add(found[0])
                text = _decode(path, found[0], found[1])
        rich = src.get("richTextPath")
        if rich and rich.startswith("internal://"):
            found = _member(members, rich)
            if found is not None:
                used_members.add(found[0])
        selections, n = _selections(path, src, ns, name)
        if text is not None:
            for sel in selections:
                if sel.end < sel.start or sel.end > len(text):
                    raise RefiError(path, f"selection {sel.guid} of source {name!r}",
                                    f"positions {sel.start}-{sel.end} lie outside the source's "
                                    f"{len(text):,} characters")
        project.sources.append(RefiSource(guid, name, kind, text, tuple(selections),
                                          description, notes, n,
                                          _variable_values(src, ns, var_names)))
    known = {c.guid for c in project.codes}
    for source in project.sources:
        for sel in source.selections:
            for c in sel.codings:
                if c.code not in known:
                    raise RefiError(path, f"selection {sel.guid} of source {source.name!r}",
                                    f"codes {c.code}, which the project's codebook does not hold")
    notes = root.find(_q(ns, "Notes"))
    for note in notes.findall(_q(ns, "Note")) if notes is not None else ():
        project.notes.append(RefiNote(note.get("guid") or "", (note.get("name") or "").strip(),
                                      _text_of(note.find(_q(ns, "PlainTextContent"))),
                                      note.get("creatingUser"), note.get("creationDateTime")))
    cases = root.find(_q(ns, "Cases"))
    for case in cases.findall(_q(ns, "Case")) if cases is not None else ():
        refs = tuple(r.get("targetGUID", "") for r in case.findall(_q(ns, "SourceRef")))
        project.cases.append(RefiCase(case.get("guid") or "", (case.get("name") or "").strip(),
                                      refs, _variable_values(case, ns, var_names)))
    project.extras = {k: v for k, v in members.items() if k not in used_members}
    return project


def read_file(path: str | Path, *, strict: bool = False) -> RefiProject:
    """Read a ``.qdpx`` project or a ``.qdc`` codebook from disk (by its contents)."""
    path = Path(path)
    try:
        if not path.is_file():
            raise RefiError(path, None, "file not found" if not path.exists()
                            else "not a regular file")
        if path.stat().st_size > MAX_UNPACKED_BYTES:
            raise RefiError(path, None, f"larger than {MAX_UNPACKED_BYTES:,} bytes")
        data = path.read_bytes()
    except OSError as exc:
        raise RefiError(path, None, f"cannot read file ({exc.strerror})") from None
    if data[:4] == b"PK\x03\x04" or path.suffix.lower() == ".qdpx":
        return read_qdpx(data, str(path), strict=strict)
    return read_qdc(data, str(path), strict=strict)
