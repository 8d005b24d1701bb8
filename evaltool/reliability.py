"""Inter-coder reliability of two coders, and their disagreements for adjudication.

A coder's codes on a segment are the codes they accepted: in their own layer
(blind double coding) and, for work done without a blind assignment, in the
shared layer where they are the coding's coder (:meth:`Store.coder_codes`). A
turn's codes are the union of its segments' codes.

Which units are compared: only documents that both coders coded (each accepted
at least one code in it), and in those only the units that at least one of the
two coders coded. Text that neither coder coded is left out, because counting
it as "both agree: no code" would inflate agreement by however much uncoded
text a transcript happens to have.

On those units:
- percent agreement is the share of units where both coders gave the same set
  of codes;
- overall Cohen's kappa and Krippendorff's alpha (nominal, from the
  ``krippendorff`` package) take each unit's set of codes as one nominal value;
- per-code Cohen's kappa takes the presence of that code on each unit (binary).
Kappa and alpha are ``None`` where they are undefined (all units alike).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import krippendorff
import numpy as np

if TYPE_CHECKING:
    from evaltool.store import Store

UNITS = ("segment", "turn")
NOTE = ("units compared: those at least one of the two coders coded, in documents both coded; "
        "text neither coded is left out")


@dataclass(frozen=True)
class Unit:
    """A segment or turn with both coders' codes on it."""

    kind: str  # segment | turn
    id: int
    document_id: int
    document: str
    turn: int
    segment_ids: tuple[int, ...]
    text: str
    codes_a: tuple[str, ...]
    codes_b: tuple[str, ...]

    @property
    def agree(self) -> bool:
        """True when both coders gave the same codes."""
        return self.codes_a == self.codes_b


@dataclass(frozen=True)
class CodeAgreement:
    """Agreement of two coders on one code (presence per unit)."""

    code: str
    n_a: int  # units where coder A gave the code
    n_b: int
    both: int
    agreement: float
    kappa: float | None


@dataclass(frozen=True)
class ReliabilityReport:
    """Percent agreement, Cohen's kappa and Krippendorff's alpha of two coders."""

    coder_a: str
    coder_b: str
    unit: str
    documents: list[str]
    units: int
    agreement: float | None
    kappa: float | None
    alpha: float | None
    per_code: list[CodeAgreement] = field(default_factory=list)
    note: str = NOTE

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def percent_agreement(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Share of positions where ``a`` and ``b`` are equal (None if empty)."""
    if not a:
        return None
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Cohen's kappa of two coders' nominal labels (None if undefined)."""
    n = len(a)
    if n == 0:
        return None
    p_o = percent_agreement(a, b) or 0.0
    count_a, count_b = Counter(a), Counter(b)
    p_e = sum(count_a[c] * count_b[c] for c in count_a) / (n * n)
    if p_e >= 1.0:
        return None  # both coders used one and the same label throughout
    return (p_o - p_e) / (1.0 - p_e)


def nominal_alpha(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Krippendorff's alpha (nominal) of two coders, by the ``krippendorff`` package."""
    labels = {v: i for i, v in enumerate(dict.fromkeys([*a, *b]))}
    if len(labels) < 2:
        return None  # the package refuses a single value: alpha is undefined
    data = np.array([[labels[v] for v in a], [labels[v] for v in b]], dtype=float)
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))


def compared_units(store: Store, coder_a: str, coder_b: str, *, unit: str = "segment",
                   document_id: int | None = None) -> list[Unit]:
    """The units compared for two coders (see the module docstring), in text order."""
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {UNITS}")
    codes_a = store.coder_codes(coder_a, document_id)
    codes_b = store.coder_codes(coder_b, document_id)
    order = {c.key: i for i, c in enumerate(store.codes(include_retired=True))}
    docs = ([store.get_document(document_id)] if document_id is not None
            else store.list_documents())
    out: list[Unit] = []
    for doc in docs:
        segments = store.segments(doc.id)
        ids = {s.id for s in segments}
        if not (ids & codes_a.keys() and ids & codes_b.keys()):
            continue  # a document only one coder coded says nothing about agreement
        groups: dict[int, list] = {}
        for s in segments:
            groups.setdefault(s.id if unit == "segment" else s.turn_id, []).append(s)
        for key, segs in groups.items():
            a = set().union(*(codes_a.get(s.id, set()) for s in segs))
            b = set().union(*(codes_b.get(s.id, set()) for s in segs))
            if not a and not b:
                continue
            out.append(Unit(unit, key, doc.id, doc.name, segs[0].turn,
                            tuple(s.id for s in segs), " ".join(s.text for s in segs),
                            tuple(sorted(a, key=lambda k: (order.get(k, len(order)), k))),
                            tuple(sorted(b, key=lambda k: (order.get(k, len(order)), k)))))
    return out


def reliability(store: Store, coder_a: str, coder_b: str, *, unit: str = "segment",
                document_id: int | None = None) -> ReliabilityReport:
    """Percent agreement, Cohen's kappa (overall and per code) and Krippendorff's alpha
    of two coders over the units either of them coded (see the module docstring)."""
    units = compared_units(store, coder_a, coder_b, unit=unit, document_id=document_id)
    a = [u.codes_a for u in units]
    b = [u.codes_b for u in units]
    order = {c.key: i for i, c in enumerate(store.codes(include_retired=True))}
    used = sorted({k for u in units for k in (*u.codes_a, *u.codes_b)},
                  key=lambda k: (order.get(k, len(order)), k))
    per_code = []
    for code in used:
        pa = [code in u.codes_a for u in units]
        pb = [code in u.codes_b for u in units]
        per_code.append(CodeAgreement(code, sum(pa), sum(pb),
                                      sum(x and y for x, y in zip(pa, pb, strict=True)),
                                      percent_agreement(pa, pb) or 0.0, cohen_kappa(pa, pb)))
    return ReliabilityReport(coder_a, coder_b, unit, list(dict.fromkeys(u.document for u in units)),
                             len(units), percent_agreement(a, b), cohen_kappa(a, b),
                             nominal_alpha(a, b), per_code)


def disagreements(store: Store, coder_a: str, coder_b: str, *, unit: str = "segment",
                  document_id: int | None = None) -> list[Unit]:
    """Units where the two coders' codes differ, side by side, in text order."""
    return [u for u in compared_units(store, coder_a, coder_b, unit=unit, document_id=document_id)
            if not u.agree]
