"""Small data files shipped in ``evaltool/data`` (word lists), loaded once."""

from __future__ import annotations

import functools
from importlib import resources


@functools.cache
def word_list(name: str) -> frozenset[str]:
    """Lower-cased entries of ``data/<name>.txt`` (``#`` starts a comment)."""
    text = resources.files("evaltool").joinpath("data").joinpath(f"{name}.txt").read_text("utf-8")
    words = (line.split("#", 1)[0].strip().casefold() for line in text.splitlines())
    return frozenset(w for w in words if w)
