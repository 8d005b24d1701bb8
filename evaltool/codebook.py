"""Codebooks: schema, validation with file/line/field errors, and rule patterns.

A codebook is a YAML file (see ``codebooks/smaat_braendbart.yaml``) with themes,
goals, change-theory columns, target groups and codes. Each code has a CMO kind,
a column, themes, goals, rule ``patterns`` and ``examples``. Validation is done by
pydantic; an error is reported with the YAML line of the offending field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from evaltool import gold
from evaltool.domain import CMO
from evaltool.errors import CodebookError

ID = r"^[A-Za-z][A-Za-z0-9_.-]*$"


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
    version: int = Field(ge=1)
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
    try:
        spec = CodebookSpec.model_validate(data)
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
    check_patterns(spec, path, node)
    return spec


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
    return CodebookSpec.model_validate(cb["content"]), cb["version"]


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
