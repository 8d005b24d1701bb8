"""Codebooks: schema, validation with file/line/field errors, and rule patterns.

A codebook is a YAML file (see ``codebooks/smaat_braendbart.yaml``) with themes,
goals, change-theory columns, target groups and codes. Each code has a CMO kind,
a column, themes, goals, rule ``patterns`` and ``examples``. Validation is done by
pydantic; an error is reported with the YAML line of the offending field.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from evaltool import codetree, gold, outfile, saferegex
from evaltool.domain import CMO, CodebookChange
from evaltool.errors import CodebookEditError, CodebookError

ID = r"^[A-Za-z][A-Za-z0-9_.-]*$"

# Size caps (README, "Reliability"): a codebook is read whole and its patterns are
# compiled into one Matcher, so every dimension that multiplies work is bounded.
MAX_CODEBOOK_BYTES = 5_000_000
MAX_VERSION = 2**31 - 1  # a 32-bit database integer on every backend
MAX_PATTERN_TOKENS = 20  # tokens of one Matcher pattern, {n,m} operators counted out
MAX_PATTERNS = 10_000  # Matcher patterns of a whole codebook, shorthand expanded

# Token attributes a rule pattern may test: the rebuilt segment Doc has words,
# lemmas and part of speech, but no tags, morphology, parse, entities or extensions.
TOKEN_ATTRIBUTES = frozenset({
    "ORTH", "TEXT", "LOWER", "NORM", "LEMMA", "POS", "SHAPE", "LENGTH", "SPACY", "OP",
    "IS_ALPHA", "IS_ASCII", "IS_DIGIT", "IS_LOWER", "IS_UPPER", "IS_TITLE", "IS_PUNCT",
    "IS_SPACE", "IS_BRACKET", "IS_QUOTE", "IS_LEFT_PUNCT", "IS_RIGHT_PUNCT", "IS_CURRENCY",
    "IS_STOP", "IS_SENT_START", "SENT_START", "LIKE_NUM", "LIKE_URL", "LIKE_EMAIL"})
_OPS = {"1", "+", "*", "?", "!"}
_MIN_MAX_OP = re.compile(r"\{([0-9]{0,6})(?:(,)([0-9]{0,6}))?\}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class TargetGroup(_Strict):
    """A target group of the evaluated project."""

    id: str = Field(pattern=ID)
    label: str = Field(min_length=1)


class Theme(_Strict):
    """A theme (top level of the dashboards)."""

    id: str = Field(pattern=ID)
    label: str = Field(min_length=1)
    description: str = ""
    goals: tuple[str, ...] = ()


class Goal(_Strict):
    """An evaluation goal (criterion)."""

    id: str = Field(pattern=ID)
    label: str = Field(min_length=1)
    description: str = ""


Pattern = str | list[dict[str, Any]]


class Code(_Strict):
    """One code of the codebook."""

    id: str = Field(pattern=ID, max_length=100)
    label: str = Field(min_length=1, max_length=300)
    definition: str = Field(min_length=1)
    include: str = ""
    exclude: str = ""
    cmo: CMO
    column: str
    themes: tuple[str, ...] = Field(min_length=1)
    goals: tuple[str, ...] = Field(min_length=1)
    target_groups: tuple[str, ...] = ()
    parent: str | None = None
    patterns: tuple[Pattern, ...] = ()
    examples: tuple[str, ...] = ()

    @field_validator("patterns")
    @classmethod
    def _patterns_valid(cls, value: tuple[Pattern, ...]) -> tuple[Pattern, ...]:
        for pattern in value:
            if isinstance(pattern, str):
                if not pattern.split():
                    raise ValueError("empty pattern")
            elif not pattern or not all(isinstance(t, dict) for t in pattern):
                raise ValueError("a pattern is a string or a list of token dicts")
        return value


class CodebookSpec(_Strict):
    """A whole codebook file."""

    id: str = Field(pattern=ID)
    version: int = Field(ge=1, le=MAX_VERSION)
    title: str = Field(min_length=1)
    description: str = ""
    language: str = "da"
    columns: tuple[str, ...] = Field(min_length=1)
    target_groups: tuple[TargetGroup, ...] = ()
    themes: tuple[Theme, ...] = Field(min_length=1)
    goals: tuple[Goal, ...] = Field(min_length=1)
    codes: tuple[Code, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> CodebookSpec:
        """Every id a code or theme names must be defined, and ids must be unique."""
        theme_ids = _unique([t.id for t in self.themes], "themes")
        goal_ids = _unique([g.id for g in self.goals], "goals")
        group_ids = _unique([g.id for g in self.target_groups], "target_groups")
        code_ids = _unique([c.id for c in self.codes], "codes")
        for i, theme in enumerate(self.themes):
            for goal in theme.goals:
                if goal not in goal_ids:
                    raise _RefError(("themes", i, "goals"), f"unknown goal {goal!r}")
        for i, code in enumerate(self.codes):
            checks = [("column", [code.column], set(self.columns), "column"),
                      ("themes", code.themes, theme_ids, "theme"),
                      ("goals", code.goals, goal_ids, "goal"),
                      ("target_groups", code.target_groups, group_ids, "target group"),
                      ("parent", [code.parent] if code.parent else [], code_ids, "parent code")]
            for field, values, known, what in checks:
                for value in values:
                    if value not in known:
                        raise _RefError(("codes", i, field), f"unknown {what} {value!r}")
        _check_parents(self.codes)
        _check_pattern_sizes(self.codes)
        return self

    def code(self, code_id: str) -> Code:
        """A code by id."""
        for code in self.codes:
            if code.id == code_id:
                return code
        raise KeyError(code_id)


class _RefError(ValueError):
    """A reference error that knows where in the document it belongs."""

    def __init__(self, loc: tuple, message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


def _check_parents(codes: tuple[Code, ...]) -> None:
    """Parents form a tree: no code is its own parent, directly or through others."""
    parent = {c.id: c.parent for c in codes}
    for i, code in enumerate(codes):
        chain, cur = [code.id], code.parent
        while cur is not None and cur not in chain[1:]:
            if cur == code.id:
                what = ("a code cannot be its own parent" if len(chain) == 1 else
                        "parent cycle: " + " → ".join([*chain, cur]))
                raise _RefError(("codes", i, "parent"), what)
            chain.append(cur)
            cur = parent.get(cur)


def _check_pattern_sizes(codes: tuple[Code, ...]) -> None:
    """Check every pattern's contents and the number of Matcher patterns they make."""
    from evaltool.autocode.rules import MAX_SHORTHAND_PATTERNS, shorthand_size

    total = 0
    for i, code in enumerate(codes):
        for j, pattern in enumerate(code.patterns):
            if isinstance(pattern, str):
                size = shorthand_size(pattern)
                if size > MAX_SHORTHAND_PATTERNS:
                    raise _RefError(("codes", i, "patterns", j),
                                    f"shorthand expands to {size:,} patterns "
                                    f"(at most {MAX_SHORTHAND_PATTERNS}; use fewer plain words "
                                    "or word* forms)")
                if len(pattern.split()) > MAX_PATTERN_TOKENS:
                    raise _RefError(("codes", i, "patterns", j),
                                    f"pattern has more than {MAX_PATTERN_TOKENS} tokens")
            else:
                size = 1
                width = 0
                for k, token in enumerate(pattern):
                    message, key = _token_problem(token)
                    if message:
                        loc = ("codes", i, "patterns", j, k) + ((key,) if key else ())
                        raise _RefError(loc, message)
                    width += _op_width(token)
                if width > MAX_PATTERN_TOKENS:
                    raise _RefError(("codes", i, "patterns", j),
                                    f"pattern has more than {MAX_PATTERN_TOKENS} tokens "
                                    "(counting {n,m} operators out)")
            total += size
            if total > MAX_PATTERNS:
                raise _RefError(("codes", i, "patterns", j),
                                f"the codebook has more than {MAX_PATTERNS:,} rule patterns "
                                "(shorthand expanded)")


def _token_problem(token: dict) -> tuple[str | None, str | None]:
    """What is wrong with one Matcher token dict, and under which key (None if fine)."""
    for key, value in token.items():
        name = str(key)[:40]
        upper = name.upper()
        if upper == "_":
            return "custom attributes (_) are not supported in rule patterns", name
        if upper not in TOKEN_ATTRIBUTES:
            return (f"unsupported token attribute {name!r} (rule patterns see words, "
                    "lemmas and part of speech)"), name
        if upper == "OP" and not (isinstance(value, str) and (
                value in _OPS or _MIN_MAX_OP.fullmatch(value))):
            return "OP must be one of 1 + * ? ! or {n}, {n,m}, {n,}, {,m}", name
        for rx in _regexes(value):
            message = saferegex.problem(rx)
            if message:
                return message, name
    return None, None


def _regexes(value: Any) -> list[str]:
    """Every REGEX value inside a token attribute's value (predicates nest)."""
    if not isinstance(value, dict):
        return []
    out = []
    for key, inner in value.items():
        if str(key).upper() == "REGEX" and isinstance(inner, str):
            out.append(inner)
        else:
            out.extend(_regexes(inner))
    return out


def _op_width(token: dict) -> int:
    """How many Matcher tokens one token dict becomes ({n,m} repeats it m times)."""
    op = next((v for k, v in token.items() if str(k).upper() == "OP"), None)
    m = _MIN_MAX_OP.fullmatch(op) if isinstance(op, str) else None
    if m is None:
        return 1
    low, comma, high = m.groups()
    return max(int(low or 0) + (1 if comma and not high else 0), int(high or 0), 1)


def _unique(ids: list[str], where: str) -> set[str]:
    seen: set[str] = set()
    for i, value in enumerate(ids):
        if value in seen:
            raise _RefError((where, i, "id"), f"duplicate id {value!r}")
        seen.add(value)
    return seen


def _line_of(node: yaml.Node | None, loc: tuple) -> int | None:
    """1-based line of the YAML node at ``loc`` (the deepest one that exists)."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = [v for k, v in node.value if k.value == key]
            if not match:
                break
            node = match[0]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
        line = node.start_mark.line + 1
    return line


def _field_name(loc: tuple, data: Any) -> str:
    """A readable field path such as ``codes[3] (ctx_x).cmo``."""
    parts: list[str] = []
    cur = data
    for key in loc:
        if isinstance(key, int):
            ident = cur[key].get("id") if isinstance(cur, list) and key < len(cur) and isinstance(
                cur[key], dict) else None
            parts[-1] = f"{parts[-1]}[{key}]" + (f" ({ident})" if ident else "") if parts else str(key)
            cur = cur[key] if isinstance(cur, list) and key < len(cur) else None
        else:
            parts.append(str(key))
            cur = cur.get(key) if isinstance(cur, dict) else None
    return ".".join(parts)


def parse(text: str, path: str | Path = "<codebook>") -> CodebookSpec:
    """Validate codebook YAML text; raise :class:`CodebookError` with file, line and field."""
    path = str(path)
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.context_mark or exc.problem_mark
        raise CodebookError(path, mark.line + 1 if mark else None, None,
                            f"invalid YAML: {exc.problem or exc}") from None
    if not isinstance(data, dict):
        raise CodebookError(path, 1, None, "a codebook is a mapping with id, version, codes, ...")
    bad = _unencodable(data, ())
    if bad is not None:
        raise CodebookError(path, _line_of(node, bad), _field_name(bad, data) or None,
                            "text is not valid Unicode (a lone surrogate escape)")
    spec = _validate(data, path, node)
    check_patterns(spec, path, node)
    return spec


def validate_content(content: Any, source: str = "<database>") -> CodebookSpec:
    """Validate codebook content (a dict as YAML gives it) with every check that
    ``evaltool codebook validate`` makes on a file: schema, references, patterns."""
    bad = _unencodable(content, ())
    if bad is not None:
        raise CodebookError(source, None, _field_name(bad, content) or None,
                            "text is not valid Unicode (a lone surrogate escape)")
    spec = _validate(content, source, None)
    check_patterns(spec, source)
    return spec


def from_content(content: Any, source: str = "<database>") -> CodebookSpec:
    """Validate a stored codebook (``Store.active_codebook()['content']``) again.

    A codebook stored before a check was added may fail it now; that is reported as
    a :class:`CodebookError` naming the field, like a file would be.
    """
    return _validate(content, source, None)


def _validate(data: Any, path: str, node: yaml.Node | None) -> CodebookSpec:
    """The pydantic model of ``data``; errors become one :class:`CodebookError`."""
    try:
        return CodebookSpec.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        ctx_error = (err.get("ctx") or {}).get("error")
        if isinstance(ctx_error, _RefError):
            loc, message = ctx_error.loc, ctx_error.message
        else:
            loc = tuple(k for k in loc if not (isinstance(k, str) and k in ("str", "list[dict[str,any]]")))
            message = err["msg"]
            if err["type"] == "extra_forbidden":
                message = "unknown field"
            elif err["type"] == "missing":
                message = "required field is missing"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise CodebookError(path, _line_of(node, loc), _field_name(loc, data) or None,
                            message + more) from None


def _unencodable(data: Any, loc: tuple) -> tuple | None:
    """Location of the first string (key or value) that cannot be written as UTF-8."""
    if isinstance(data, str):
        try:
            data.encode("utf-8")
        except UnicodeEncodeError:
            return loc
        return None
    items = (data.items() if isinstance(data, dict) else
             enumerate(data) if isinstance(data, list) else ())
    for key, value in items:
        found = _unencodable(key, loc) if isinstance(key, str) else None
        found = found if found is not None else _unencodable(value, (*loc, key))
        if found is not None:
            return found
    return None


def check_patterns(spec: CodebookSpec, path: str, node: yaml.Node | None = None) -> None:
    """Compile every code's patterns with spaCy's Matcher (errors name the code)."""
    from evaltool.autocode.rules import RuleCoder

    try:
        RuleCoder(spec.codes, path)
    except CodebookError as exc:
        index = int(exc.field.split("[", 1)[1].split("]", 1)[0]) if exc.field else 0
        exc.line = _line_of(node, ("codes", index, "patterns")) if node is not None else None
        raise


def load(path: str | Path) -> CodebookSpec:
    """Read and validate a codebook file."""
    path = Path(path)
    try:
        if path.exists() and not path.is_file():
            raise CodebookError(path, None, None, "not a regular file")
        if path.exists() and path.stat().st_size > MAX_CODEBOOK_BYTES:
            raise CodebookError(path, None, None, f"file larger than {MAX_CODEBOOK_BYTES:,} bytes")
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CodebookError(path, None, None, "file not found") from None
    except UnicodeDecodeError:
        raise CodebookError(path, None, None, "not UTF-8 text") from None
    except OSError as exc:
        raise CodebookError(path, None, None, f"cannot read file ({exc.strerror})") from None
    return parse(text, path)


# -- loading into the store ----------------------------------------------------


def active_spec(store) -> tuple[CodebookSpec, int]:
    """The active codebook as a validated spec, with its version."""
    cb = store.active_codebook()
    return from_content(cb["content"], f"stored codebook v{cb['version']}"), cb["version"]


def load_codebook_file(store, path: Path, *, seed: Path | bool = True):
    """Validate and load a codebook file with its seed training data.

    ``seed=True`` takes ``<name>.seed.jsonl`` beside the codebook when it exists,
    a path takes that file, ``False`` loads no seed.
    """
    spec = load(path)
    seed_file = gold.seed_path_for(path) if seed is True else (seed or None)
    records = None
    if seed_file is not None and (seed is not True or seed_file.is_file()):
        records = gold.read_seed(seed_file, {c.id for c in spec.codes})
    return store.load_codebook(spec, path.name, records)


# -- the active codebook as a file -------------------------------------------------


def dump(spec: CodebookSpec) -> str:
    """The codebook as YAML that :func:`parse` reads back to the same spec (fields that
    hold their default are left out)."""
    data = spec.model_dump(mode="json", exclude_defaults=True)
    data["version"] = spec.version  # required, but say it even if a default appeared
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def export_codebook(store, path: str | Path) -> CodebookSpec:
    """Write the active codebook to ``path`` as YAML (whole or not at all)."""
    spec, _ = active_spec(store)
    outfile.write_text(path, dump(spec))
    return spec


# -- editing the active codebook -------------------------------------------------------

# Fields of a code that an edit may change (its id is the stable key of codings and files).
EDITABLE = ("label", "definition", "include", "exclude", "cmo", "column", "themes", "goals",
            "target_groups", "parent", "patterns", "examples")
# Fields that hold lists in the codebook; an edit may give them as one string per line.
_LISTS = ("themes", "goals", "target_groups", "patterns", "examples")


def _edit(store, action: str, code: str, change: Callable[[dict], dict], *,
          coder: str | None, merge: tuple[str, str] | None = None) -> CodebookChange:
    """Apply ``change`` to a copy of the active codebook's content, validate the result
    as a file would be, and store it as the next version (one transaction)."""
    cb = store.active_codebook()
    content = copy.deepcopy(cb["content"])
    extra = change(content) or {}
    version = cb["version"] + 1
    content["version"] = version
    spec = validate_content(content, f"codebook {cb['key']} v{version}")
    moved, combined = store.save_codebook_edit(
        spec, expected_version=cb["version"], coder=coder, merge=merge,
        change={"action": action, "code": code, **extra})
    return CodebookChange(action, code, version, moved=moved, combined=combined, **extra)


def _find(content: dict, key: str) -> dict:
    """The code ``key`` of ``content`` (a typed error if it is not there)."""
    for code in content["codes"]:
        if code["id"] == key:
            return code
    raise CodebookEditError("unknown_code", key)


def _retired_keys(store) -> set[str]:
    return {c.key for c in store.codes(include_retired=True) if c.retired}


def _check_known(store, content: dict, key: str) -> None:
    """``key`` is a code of ``content``; a retired one is said so."""
    if not any(c["id"] == key for c in content["codes"]):
        raise CodebookEditError("retired_code" if key in _retired_keys(store) else
                                "unknown_code", key)


def _clean(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Edit values as the codebook holds them: list fields from lines or lists, an empty
    parent as none; unknown field names refused."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name not in EDITABLE:
            raise CodebookEditError("unknown_field", str(fields.get("id", "?")), name)
        if name in _LISTS and isinstance(value, str):
            value = [line.strip() for line in value.splitlines() if line.strip()]
        elif name in _LISTS and value is not None:
            value = list(value)
        if name == "parent" and not value:
            value = None
        out[name] = value
    return out


def add_code(store, fields: Mapping[str, Any], *, coder: str | None = None) -> CodebookChange:
    """Add a code (``fields`` as in a codebook file, ``id`` included) to the active codebook."""
    key = str(fields.get("id") or "").strip()
    values = _clean({k: v for k, v in fields.items() if k != "id"})

    def change(content: dict) -> None:
        if any(c["id"] == key for c in content["codes"]):
            raise CodebookEditError("id_taken", key)
        if key and key in _retired_keys(store):
            raise CodebookEditError("id_retired", key)
        content["codes"].append({"id": key, **{k: v for k, v in values.items()
                                               if v is not None}})

    return _edit(store, "add", key, change, coder=coder)


def edit_code(store, key: str, fields: Mapping[str, Any], *,
              coder: str | None = None) -> CodebookChange:
    """Change fields of a code (any of :data:`EDITABLE`); only the fields that differ count."""
    values = _clean(fields)

    def change(content: dict) -> dict:
        _check_known(store, content, key)
        code = _find(content, key)
        changed = tuple(k for k, v in values.items() if code.get(k) != v
                        and not (v in (None, [], "") and code.get(k) in (None, [], "")))
        if not changed:
            raise CodebookEditError("nothing_changed", key)
        for name in changed:
            if values[name] is None:
                code.pop(name, None)
            else:
                code[name] = values[name]
        return {"fields": changed}

    return _edit(store, "edit", key, change, coder=coder)


def set_parent(store, key: str, parent: str | None, *, coder: str | None = None
               ) -> CodebookChange:
    """Make ``parent`` the parent of code ``key`` (None: a top-level code); a cycle is refused
    by the codebook's validation."""
    def change(content: dict) -> None:
        _check_known(store, content, key)
        if parent:
            _check_known(store, content, parent)
        code = _find(content, key)
        if (code.get("parent") or None) == (parent or None):
            raise CodebookEditError("nothing_changed", key)
        code["parent"] = parent or None

    return _edit(store, "parent", key, change, coder=coder)


def merge_codes(store, source: str, target: str, *, coder: str | None = None) -> CodebookChange:
    """Merge code ``source`` into ``target``: its codings move to ``target`` (see
    ``Store.save_codebook_edit`` for two codings on one place), its sub-codes become
    ``target``'s, and ``source`` is retired. The history records every moved coding."""
    def change(content: dict) -> dict:
        if source == target:
            raise CodebookEditError("same_code", source)
        _check_known(store, content, source)
        _check_known(store, content, target)
        gone = _find(content, source)
        children = []
        for code in content["codes"]:
            if code.get("parent") == source:
                # the target itself (a child of the source) takes the source's place
                code["parent"] = gone.get("parent") if code["id"] == target else target
                if code["id"] != target:
                    children.append(code["id"])
        content["codes"] = [c for c in content["codes"] if c["id"] != source]
        return {"into": target, "children": tuple(children)}

    return _edit(store, "merge", source, change, coder=coder, merge=(source, target))


def retire_code(store, key: str, *, coder: str | None = None) -> CodebookChange:
    """Retire a code: it leaves the codebook (no new suggestions, not in an export) and its
    codings are kept. A code with sub-codes is refused (move or merge them first)."""
    def change(content: dict) -> None:
        _check_known(store, content, key)
        children = [c["id"] for c in content["codes"] if c.get("parent") == key]
        if children:
            raise CodebookEditError("has_children", key, ", ".join(children))
        content["codes"] = [c for c in content["codes"] if c["id"] != key]

    return _edit(store, "retire", key, change, coder=coder)


def hierarchy(spec: CodebookSpec) -> list[tuple[Code, int]]:
    """The codebook's codes in tree order (each parent followed by its children), with depth."""
    return codetree.ordered(spec.codes, lambda c: c.id, lambda c: c.parent)  # type: ignore[return-value]
