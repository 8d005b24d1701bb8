"""Importing a REFI-QDA project (``.qdpx``) into a new evaltool project, and a REFI-QDA
codebook (``.qdc``) as the active codebook.

Sources become documents (:mod:`evaltool.refi.place` reads their turns), codes a codebook,
selections accepted codings at the same text, users coders, notes memos; all stored in one
transaction (``Store.import_project``). What cannot be placed is listed in the result,
never dropped silently. Which codebook: the ``evaltool-codebook`` note when the file was
written by evaltool (lossless), else one built from the Code elements: codes keep their
names, descriptions and hierarchy, their CMO kind is "unassigned" (to be chosen on the
Kodebog page) unless an ``[evaltool]`` line in the description names it, and all of them
sit under one theme, goal and column "Importeret".
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path
from typing import Any

from evaltool import attributes
from evaltool import codebook as cb
from evaltool.domain import (
    CMO,
    ImportedCoding,
    ImportedDocument,
    ImportedMemo,
    ImportedProject,
    ParsedDocument,
    ProjectImportResult,
)
from evaltool.errors import AttributeInputError, CodebookError, IngestError, NotEmptyError, RefiError
from evaltool.refi.place import Placement, read_source
from evaltool.refi.read import RefiCode, RefiProject, RefiSource, read_file
from evaltool.refi.write import MODERATOR_VARIABLE

CODEBOOK_NOTE = "evaltool-codebook"  # the note holding evaltool's own codebook (YAML)
IMPORTED = "importeret"  # theme and goal of codes that come without evaltool's categories
IMPORTED_LABEL = "Importeret"
FALLBACK_CODER = "REFI-QDA"  # who made a coding or memo the file names no user for
_TRAILER = re.compile(r"^\[evaltool\] (.*)$")
# letters that do not decompose to ASCII, written out as Danish (and German) spell them
_SPELL_OUT = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe", "Å": "Aa",
                            "ß": "ss"})


def _slug(name: str, taken: set[str], prefix: str = "k") -> str:
    """An evaltool id (letters, digits, ``_.-``; a letter first) from a name, unique."""
    ascii_ = unicodedata.normalize("NFKD", name.translate(_SPELL_OUT)).encode(
        "ascii", "ignore").decode()
    base = re.sub(r"[^A-Za-z0-9]+", "_", ascii_).strip("_").lower()[:80] or prefix
    if not base[0].isalpha():
        base = f"{prefix}_{base}"
    key, n = base, 2
    while key.casefold() in taken:
        key, n = f"{base}_{n}", n + 1
    taken.add(key.casefold())
    return key


def trailer(description: str) -> tuple[str, dict[str, str]]:
    """A code description's human text and the fields of its ``[evaltool]`` last line."""
    lines = description.rstrip().split("\n")
    m = _TRAILER.match(lines[-1]) if lines else None
    if not m:
        return description.strip(), {}
    fields = dict(part.split("=", 1) for part in m.group(1).split("; ") if "=" in part)
    return "\n".join(lines[:-1]).strip(), fields


def split_definition(text: str) -> tuple[str, str, str]:
    """A code description's human text as evaltool writes it, split back into definition,
    include (the ``Medtag:`` paragraph) and exclude (the ``Udelad:`` paragraph)."""
    definition, include, exclude = [], "", ""
    for para in text.split("\n\n"):
        if para.startswith("Medtag: ") and not include and not exclude:
            include = para[len("Medtag: "):]
        elif para.startswith("Udelad: ") and not exclude:
            exclude = para[len("Udelad: "):]
        elif include or exclude:  # text after them: not what evaltool writes, keep it whole
            return text, "", ""
        else:
            definition.append(para)
    return "\n\n".join(definition), include, exclude


def _listed(value: str) -> list[str]:
    return [v for v in value.split("|") if v]


def retired_codes(project: RefiProject, keys: dict[str, str],
                  spec: cb.CodebookSpec) -> list[dict[str, Any]]:
    """The codes an evaltool export declares retired (``retired=true`` on their
    ``[evaltool]`` line, absent from the codebook note), as rows for a retired code."""
    active = {c.id for c in spec.codes}
    out = []
    for code in project.codes:
        text, fields = trailer(code.description)
        if fields.get("retired") != "true" or keys[code.guid] in active:
            continue
        definition, include, exclude = split_definition(text)
        kind = fields.get("cmo", "")
        out.append({"key": keys[code.guid], "label": code.name[:300] or keys[code.guid],
                    "definition": definition, "include": include, "exclude": exclude,
                    "cmo": kind if kind in {k.value for k in CMO} else CMO.unassigned.value,
                    "column": fields.get("column", "")[:100] or IMPORTED_LABEL,
                    "parent": keys.get(code.parent) if code.parent else None,
                    "target_groups": _listed(fields.get("target_groups", "")),
                    "themes": _listed(fields.get("themes", "")),
                    "goals": _listed(fields.get("goals", ""))})
    return out


_SET_NAME = re.compile(r"^(Tema|Mål) (\S+): (.+)$", re.S)


def _own_codebook(project: RefiProject, keys: dict[str, str],
                  source: str) -> cb.CodebookSpec | None:
    """The codebook of a code system evaltool wrote (every code has an ``[evaltool]`` line
    with id, CMO kind and column; themes and goals from the ``Tema``/``Mål`` sets), or None
    when the codes do not all carry it (a foreign file). Lost in a ``.qdc``: the codebook's
    id, version and title, patterns, examples and target-group labels."""
    rows = []
    for code in project.codes:
        text, fields = trailer(code.description)
        if (fields.get("id") != keys[code.guid] or fields.get("cmo") not in
                {k.value for k in CMO} - {CMO.unassigned.value} or not fields.get("column")
                or fields.get("retired") == "true"):
            return None
        rows.append((code, text, fields))
    if not rows:
        return None
    themes, goals = [], []
    for s in project.sets:
        m = _SET_NAME.match(s.name)
        if not m:
            continue
        text, fields = trailer(s.description)
        if m.group(1) == "Tema":
            themes.append({"id": m.group(2), "label": m.group(3), "description": text,
                           "goals": _listed(fields.get("goals", ""))})
        else:
            goals.append({"id": m.group(2), "label": m.group(3), "description": s.description})
    columns: list[str] = []
    groups: list[str] = []
    codes = []
    for code, text, fields in rows:
        definition, include, exclude = split_definition(text)
        columns += [fields["column"]] if fields["column"] not in columns else []
        targets = _listed(fields.get("target_groups", ""))
        groups += [g for g in targets if g not in groups]
        codes.append({"id": keys[code.guid], "label": code.name[:300] or keys[code.guid],
                      "definition": definition, "include": include, "exclude": exclude,
                      "cmo": fields["cmo"], "column": fields["column"],
                      "themes": _listed(fields.get("themes", "")),
                      "goals": _listed(fields.get("goals", "")), "target_groups": targets,
                      "parent": keys.get(code.parent) if code.parent else None})
    content = {
        "id": _slug(project.name or Path(source).stem, set()), "version": 1,
        "title": (project.name or Path(source).stem)[:300] or "Importeret kodebog",
        "columns": columns, "themes": themes, "goals": goals,
        "target_groups": [{"id": g, "label": g} for g in groups], "codes": codes}
    try:
        return cb.validate_content(content, f"{source}: codebook")
    except CodebookError:
        return None  # not quite evaltool's own: read it as a foreign code system


def build_codebook(project: RefiProject, source: str) -> tuple[cb.CodebookSpec, dict[str, str]]:
    """The codebook of a project, and code guid → code id."""
    notes = {n.name: n for n in project.notes}
    keys: dict[str, str] = {}
    taken: set[str] = set()
    for code in project.codes:
        _, fields = trailer(code.description)
        wanted = fields.get("id", "")
        if wanted and re.fullmatch(cb.ID, wanted) and wanted.casefold() not in taken:
            taken.add(wanted.casefold())
            keys[code.guid] = wanted
        else:
            keys[code.guid] = _slug(code.name, taken)
    if CODEBOOK_NOTE in notes:
        spec = cb.parse(notes[CODEBOOK_NOTE].text, f"{source}: note {CODEBOOK_NOTE}")
        retired = {keys[c.guid] for c in project.codes
                   if trailer(c.description)[1].get("retired") == "true"}
        missing = set(keys.values()) - {c.id for c in spec.codes} - retired
        if missing:
            raise RefiError(source, f"note {CODEBOOK_NOTE}",
                            f"does not hold code {sorted(missing)[0]!r} of the code system")
        return spec, keys
    own = _own_codebook(project, keys, source)
    if own is not None:
        return own, keys
    codes = []
    for code in project.codes:
        text, fields = trailer(code.description)
        kind = fields.get("cmo", "")
        codes.append({
            "id": keys[code.guid], "label": code.name[:300] or keys[code.guid],
            "definition": text or code.name or keys[code.guid],
            "cmo": kind if kind in {k.value for k in CMO} else CMO.unassigned.value,
            "column": IMPORTED_LABEL, "themes": [IMPORTED], "goals": [IMPORTED],
            "parent": keys.get(code.parent) if code.parent else None})
    if not codes:
        raise RefiError(source, "codebook", "holds no codes")
    content = {
        "id": _slug(f"refi_{project.name}", set()), "version": 1,
        "title": (project.name or Path(source).stem)[:300] or "Importeret projekt",
        "description": f"Importeret fra {project.origin or 'REFI-QDA'} ({Path(source).name})",
        "columns": [IMPORTED_LABEL],
        "themes": [{"id": IMPORTED, "label": IMPORTED_LABEL,
                    "description": "Koder importeret fra et andet værktøj", "goals": [IMPORTED]}],
        "goals": [{"id": IMPORTED, "label": IMPORTED_LABEL}],
        "codes": codes}
    try:
        return cb.validate_content(content, f"{source}: codebook"), keys
    except CodebookError as exc:
        raise RefiError(source, f"codebook [{exc.field}]" if exc.field else "codebook",
                        exc.message) from None


def load_qdc(store, path: str | Path, *, strict: bool = False):
    """Load a REFI-QDA codebook file (``.qdc``) as the active codebook (see
    :func:`build_codebook`); returns ``Store.load_codebook``'s summary."""
    project = read_file(path, strict=strict)
    spec, _ = build_codebook(project, str(path))
    return store.load_codebook(spec, Path(path).name), project.warnings


def _when(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        at = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def _attribute(key: str, value: str) -> Any:
    """A variable's text as evaltool stores the attribute (a list key split at commas)."""
    try:
        return attributes.check_value(key, value)
    except AttributeInputError:
        return value


def _model_name(nlp) -> str:
    meta = getattr(nlp, "meta", {}) or {}
    return f"{meta.get('lang', '')}_{meta.get('name', '')}-{meta.get('version', '')}"


def _describe(codes: list[RefiCode], guid: str) -> str:
    return next((c.name for c in codes if c.guid == guid), guid)


def plan_project(project: RefiProject, source: str, nlp
                 ) -> tuple[ImportedProject, ProjectImportResult]:
    """Everything to store for ``project`` (segmented with ``nlp``), and what is reported."""
    from evaltool.importer import content_hash, is_moderator
    from evaltool.segment import segment_turns

    spec, keys = build_codebook(project, source)
    result = ProjectImportResult(codes=len(spec.codes))
    result.notes.extend(project.warnings)
    users = {u.guid: u.name[:200] for u in project.users}
    notes = {n.guid: n for n in project.notes}
    used_notes: set[str] = set()
    plan = ImportedProject(spec, source)
    if CODEBOOK_NOTE in {n.name for n in project.notes}:
        plan.retired_codes = retired_codes(project, keys, spec)

    def who(*guids: str | None) -> str:
        for g in guids:
            if g and g in users:
                return users[g]
        return FALLBACK_CODER

    placements: list[tuple[int, Placement, RefiSource]] = []
    for s in project.sources:
        what = f"source {s.name!r}"
        if s.kind != "TextSource":
            result.notes.append(f"{what} is a {s.kind} (not plain text): not imported"
                                + (f"; its {s.codings} coding(s) not imported" if s.codings else ""))
            if s.codings:
                result.not_placed.append(f"{what}: {s.codings} coding(s) of a {s.kind}")
            continue
        if s.text is None or not s.text.strip():
            n = sum(len(sel.codings) for sel in s.selections)
            result.notes.append(f"{what} has no text: not imported")
            if n:
                result.not_placed.append(f"{what}: {n} coding(s) of a source without text")
            continue
        try:
            placement = read_source(s.name, s.text)
        except IngestError as exc:
            raise RefiError(source, what + (f" line {exc.line}" if exc.line else ""),
                            exc.message) from None
        if not placement.by_grammar:
            result.notes.append(f"{what}: no speaker labels read; one turn per paragraph")
        index = len(plan.documents)
        metadata = {key: _attribute(key, value) for key, value in s.variables}
        speakers: dict[str, str | None] = {}
        for t in placement.turns:
            if speakers.get(t.speaker) is None:
                speakers[t.speaker] = t.role
        moderators = {n for n in speakers if is_moderator(n, metadata)}
        speaker_attrs: dict[str, dict] = {}
        for case in project.cases:
            if s.guid not in case.sources:
                continue
            if case.name not in speakers:
                result.notes.append(f"case {case.name!r} is not a speaker of {what}: "
                                    "its variables are not imported")
                continue
            values = dict(case.variables)
            flag = values.pop(MODERATOR_VARIABLE, None)
            if flag is not None:
                (moderators.add if flag.strip().lower() == "true" else moderators.discard)(
                    case.name)
            role = values.pop("role", None)
            if role and not speakers[case.name]:
                speakers[case.name] = role
            speaker_attrs[case.name] = {k: _attribute(k, v) for k, v in values.items()}
        parsed = ParsedDocument(s.name, "qdpx", metadata, placement.turns)
        plan.documents.append(ImportedDocument(
            s.name[:300], metadata, placement.turns, [],
            [(n, r, n in moderators) for n, r in speakers.items()],
            content_hash(parsed), _model_name(nlp), speaker_attrs))
        placements.append((index, placement, s))
        for ref in s.notes:
            if ref in notes and notes[ref].text:
                used_notes.add(ref)
                plan.memos.append(ImportedMemo(notes[ref].text, who(notes[ref].user), index))
    items = (((d, t), turn.text) for d, doc in enumerate(plan.documents)
             for t, turn in enumerate(doc.turns))
    for doc in plan.documents:
        doc.sentences = [[] for _ in doc.turns]
    for (d, t), sentences in segment_turns(items, nlp):
        plan.documents[d].sentences[t] = sentences
    result.documents = len(plan.documents)

    for index, placement, s in placements:
        doc = plan.documents[index]
        sentence_at: set[tuple[int, int]] = set()
        for n, sentences in enumerate(doc.sentences):
            base = placement.turn_starts[n]
            sentence_at.update((base + x.start, base + x.end) for x in sentences)
        for sel in s.selections:
            where = f"selection {sel.guid} of source {s.name!r} (characters {sel.start}-{sel.end})"
            parts, left_out = placement.place(sel.start, sel.end)
            memo_refs = [r for r in sel.notes if r in notes and notes[r].text]
            if not sel.codings:
                if memo_refs and parts:
                    for r in memo_refs:
                        used_notes.add(r)
                        plan.memos.append(ImportedMemo(notes[r].text, who(notes[r].user, sel.user),
                                                       index, parts[0].start))
                continue
            result.selections += 1
            if not parts:
                result.not_placed.append(
                    f"{where}: covers no transcript text (only a speaker label, blank lines or "
                    f"front matter); its {len(sel.codings)} coding(s) not imported")
                continue
            if len(parts) > 1:
                result.notes.append(f"{where}: runs across {len(parts)} turns; coded as "
                                    f"{len(parts)} spans, one per turn")
            if left_out:
                result.notes.append(f"{where}: also covers speaker labels or timestamps; "
                                    "coded on the text only")
            memo_parts = [notes[r].text for r in memo_refs]
            used_notes.update(memo_refs)
            if sel.description and not sel.description.startswith("[evaltool]"):
                memo_parts.insert(0, sel.description)
            status = "accepted"
            if sel.description.startswith("[evaltool]"):
                _, fields = trailer(sel.description)
                status = fields.get("status", "accepted")
                if status not in ("accepted", "suggested", "rejected"):
                    status = "accepted"
            for c in sel.codings:
                for k, part in enumerate(parts):
                    sentence = ((part.start, part.end) in sentence_at and sel.name != "span")
                    plan.codings.append(ImportedCoding(
                        index, part.start, part.end, keys[c.code], who(c.user, sel.user,
                                                                       project.creating_user),
                        sentence, _when(c.created or sel.created),
                        "\n\n".join(memo_parts)[:20_000] if k == 0 else "", status))
    for n in project.notes:
        if n.guid in used_notes or n.name == CODEBOOK_NOTE or not n.text:
            continue
        plan.memos.append(ImportedMemo(n.text[:20_000], who(n.user)))
    plan.coders = sorted({u for u in users.values()} | {c.coder for c in plan.codings
                                                          if c.coder})
    result.coders = len(plan.coders)
    return plan, result


def import_qdpx(store, path: str | Path, nlp, *, strict: bool = False) -> ProjectImportResult:
    """Import a REFI-QDA project file into ``store`` (which must hold no documents yet)."""
    path = Path(path)
    project = read_file(path, strict=strict)
    plan, result = plan_project(project, str(path), nlp)
    try:
        stored, memos, duplicates = store.import_project(plan)
    except NotEmptyError as exc:
        raise RefiError(path, None, str(exc)) from None
    for i in duplicates:
        c = plan.codings[i]
        result.notes.append(f"document {plan.documents[c.document].name!r} characters "
                            f"{c.start}-{c.end}: code {c.code_key!r} twice at the same place; "
                            "stored once")
    result.codings = stored
    result.memos = memos
    return result


__all__ = ["build_codebook", "import_qdpx", "load_qdc", "plan_project", "retired_codes",
           "split_definition", "trailer"]
