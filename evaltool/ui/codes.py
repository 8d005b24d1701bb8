"""Codes as the app lists them: parents first, each child right under its parent and named
by its path (``Forælder › Barn``), so that every picker and table shows the hierarchy."""

from __future__ import annotations

from collections.abc import Iterable

from evaltool import codetree
from evaltool.domain import CodeInfo

# Before a child's name in a table (non-breaking spaces: Markdown and HTML keep them).
INDENT = "\u00a0\u00a0\u00a0\u00a0"


def code_labels(codes: Iterable[CodeInfo]) -> dict[str, str]:
    """Code key → ``Forælder › Barn`` label, in tree order (for selectboxes and pills)."""
    codes = list(codes)
    parents = codetree.parents_of((c.key, c.parent) for c in codes)
    labels = {c.key: c.label for c in codes}
    return {k: codetree.path(k, parents, labels) for k, _ in codetree.tree_order(parents)}


def indented(label: str, depth: int) -> str:
    """A code's name indented by its depth, with ``↳`` before a child (for tables)."""
    return f"{INDENT * depth}↳ {label}" if depth else label
