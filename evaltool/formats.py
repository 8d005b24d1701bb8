"""Danish words, number and date formats, shared by the app (``ui/text.py``) and the report."""

from __future__ import annotations

import re

CMO_LABELS = {"context": "Kontekst", "mechanism": "Mekanisme", "outcome": "Udfald"}


def number(value: float | int | None, decimals: int = 0) -> str:
    """A number in Danish format: 1.234,5 (thousands dot, decimal comma)."""
    if value is None:
        return ""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def count(n: int, singular: str, plural: str) -> str:
    """A count with its noun in the right number: '1 sted', '2 steder', '1.234 steder'."""
    return f"{number(n)} {singular if n == 1 else plural}"


def percent(value: float | None) -> str:
    """A share as a Danish percentage: 0.425 → '42,5 %'."""
    return "" if value is None else f"{number(value * 100, 1)} %"


def date(value: str | None) -> str:
    """ISO date 2016-12-01 → 1.12.2016 (Danish); other text unchanged."""
    if not value:
        return ""
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})", value)
    return f"{int(m.group(3))}.{int(m.group(2))}.{m.group(1)}" if m else value
