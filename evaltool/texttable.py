"""Plain-text formatting for people: terminal tables (CLI, evaluation report) and
timestamps (CLI, app)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    """A plain text table with left-aligned columns and a dashed rule under the header."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def clock(seconds: float | None) -> str:
    """hh:mm:ss for a time in seconds from the start of a recording ('' when unknown)."""
    if seconds is None:
        return ""
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def counted(n: int, noun: str, nouns: str | None = None) -> str:
    """``n`` with its English noun, singular for exactly one: "1 turn", "3 turns", "0 turns"
    (``nouns``: an irregular plural)."""
    return f"{n} {noun if n == 1 else (nouns or noun + 's')}"
