"""The code hierarchy: parents before their children, paths, and counts rolled up to parents.

A codebook's codes form a forest through ``parent`` (validated acyclic by
:mod:`evaltool.codebook`). Everything here works on a mapping ``key → parent key`` so
that codebook specs, stored :class:`~evaltool.domain.CodeInfo` rows and plain dicts
share one definition of the order and of what "a parent's count" means.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

# Between a parent's label and its child's, wherever codes are shown as a path.
PATH_SEP = " › "


def parents_of(items: Iterable[tuple[str, str | None]]) -> dict[str, str | None]:
    """``key → parent`` in the given order; a parent that is not among the keys (retired,
    say) is treated as no parent, so the code still shows, at the top level."""
    pairs = list(items)
    keys = {k for k, _ in pairs}
    return {k: (p if p in keys and p != k else None) for k, p in pairs}


def ancestors(key: str, parents: Mapping[str, str | None]) -> list[str]:
    """The parent, grandparent, ... of ``key`` (nearest first; stops at a cycle)."""
    out: list[str] = []
    cur = parents.get(key)
    while cur is not None and cur != key and cur not in out:
        out.append(cur)
        cur = parents.get(cur)
    return out


def tree_order(parents: Mapping[str, str | None]) -> list[tuple[str, int]]:
    """(key, depth) with each parent directly followed by its children, depth first;
    siblings keep the mapping's order (the codebook's)."""
    children: dict[str | None, list[str]] = {}
    for key in parents:
        top = parents[key] if parents[key] in parents and not _in_cycle(key, parents) else None
        children.setdefault(top, []).append(key)
    out: list[tuple[str, int]] = []
    seen: set[str] = set()

    def walk(key: str, depth: int) -> None:
        if key in seen:
            return
        seen.add(key)
        out.append((key, depth))
        for child in children.get(key, []):
            walk(child, depth + 1)

    for key in children.get(None, []):
        walk(key, 0)
    for key in parents:  # only reachable if the mapping had a cycle
        walk(key, 0)
    return out


def _in_cycle(key: str, parents: Mapping[str, str | None]) -> bool:
    """True when following parents from ``key`` comes back to ``key``."""
    return key in ancestors(key, parents) or parents.get(key) == key


def path(key: str, parents: Mapping[str, str | None], labels: Mapping[str, str]) -> str:
    """The code as a path of labels from the top: ``Forælder › Barn``."""
    chain = [*reversed(ancestors(key, parents)), key]
    return PATH_SEP.join(labels.get(k, k) for k in chain)


def descendants(key: str, parents: Mapping[str, str | None]) -> list[str]:
    """Children, grandchildren, ... of ``key`` (tree order)."""
    return [k for k in parents if key in ancestors(k, parents)]


def rollup(counts: Mapping[str, int], parents: Mapping[str, str | None]) -> dict[str, int]:
    """Each code's count plus the counts of all its descendants (a sum: a unit coded with a
    parent and its child counts twice; see ``Store.count_by_code_tree`` for distinct units)."""
    out = {k: counts.get(k, 0) for k in parents}
    for key in parents:
        n = counts.get(key, 0)
        if n:
            for up in ancestors(key, parents):
                out[up] += n
    return out


def closure(parents: Mapping[str, str | None]) -> list[tuple[str, str]]:
    """(ancestor, code) for every code and each of its ancestors, and (code, code)."""
    return [(up, key) for key in parents for up in (key, *ancestors(key, parents))]


def ordered(items: Sequence, key_of, parent_of) -> list[tuple[object, int]]:
    """``items`` (codes of any type) in tree order with their depth."""
    by_key = {key_of(i): i for i in items}
    parents = parents_of((key_of(i), parent_of(i)) for i in items)
    return [(by_key[k], depth) for k, depth in tree_order(parents)]
