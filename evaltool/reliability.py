"""Inter-coder reliability of two coders, and their disagreements for adjudication.

A coder's codes on a segment are the codes they accepted: in their own layer
(blind double coding) and, for work done without a blind assignment, in the
shared layer where they are the coding's coder (:meth:`Store.coder_codes`). A
turn's codes are the union of its segments' codes.

Which units are compared: only units that both coders have reviewed, and of those
only the ones that at least one of the two coded. A coder has reviewed a turn when
they decided at least one coding in it (accepted, rejected, recoded, added or
adjudicated) or marked the turn or its document done (:meth:`Store.reviewed_turns`);
a segment is reviewed with its turn (a coder reads and decides turn by turn). Text
that one coder never reviewed says nothing about agreement, and text that neither
coded is left out, because counting it as "both agree: no code" would inflate
agreement by however much uncoded text a transcript happens to have.

Few reviewed units make the figures say little: a coder is *sparse* when they
reviewed fewer than ``MIN_REVIEWED`` units, or fewer than ``MIN_SHARE`` of the units
the other coder reviewed (:func:`sparse_coders`); the report lists them.

On those units:
- percent agreement is the share of units where both coders gave the same set
  of codes;
- overall Cohen's kappa and Krippendorff's alpha (nominal, from the
  ``krippendorff`` package) take each unit's set of codes as one nominal value;
- per-code Cohen's kappa takes the presence of that code on each unit (binary).
Kappa and alpha are ``None`` where they are undefined (all units alike).

Span codings (any words of a turn) take part in two ways. For the figures above,
a span counts as its code on every sentence it overlaps (by one character or more).
And per code, *character overlap* compares exactly what was coded: the characters
each coder covered with the code (spans and whole sentences alike, in the turns both
reviewed), as the share of the characters either covered that both covered
(``both / (a + b - both)``, Jaccard's index; :class:`CodeOverlap`). Two coders who
coded "satte kaffe på bordet" and "kaffe på bordet. Der" (15 characters in common,
21 + 20 - 15 = 26 covered) agree on that sentence and overlap 15/26 = 0.58.
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
NOTE = ("units compared: those in turns both coders reviewed (decided a coding in, or marked "
        "done) that at least one of them coded; text neither coded is left out")
MIN_REVIEWED = 20  # fewer reviewed units than this: the coder is sparse
MIN_SHARE = 0.10  # ... or fewer than this share of the other coder's reviewed units


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
class CodeOverlap:
    """Character overlap of two coders on one code (see the module docstring)."""

    code: str
    chars_a: int  # characters coder A covered with the code
    chars_b: int
    chars_both: int
    overlap: float | None  # chars_both / characters either covered (None: neither did)


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
    reviewed_a: int = 0  # units coder A reviewed (in the documents asked about)
    reviewed_b: int = 0
    sparse: tuple[str, ...] = ()  # coders who reviewed too few units (see sparse_coders)
    min_reviewed: int = MIN_REVIEWED
    min_share: float = MIN_SHARE
    overlap: list[CodeOverlap] = field(default_factory=list)  # per code, characters
    char_overlap: float | None = None  # all codes: characters both / characters either
    span_codings: int = 0  # span codings of either coder in the turns both reviewed

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


def sparse_coders(a: tuple[str, int], b: tuple[str, int]) -> tuple[str, ...]:
    """Names of the coders (``(name, reviewed units)``) who reviewed fewer than
    ``MIN_REVIEWED`` units or fewer than ``MIN_SHARE`` of the other's."""
    return tuple(name for (name, n), (_, other) in ((a, b), (b, a))
                 if n < MIN_REVIEWED or n < MIN_SHARE * other)


@dataclass(frozen=True)
class Comparison:
    """The units two coders are compared on, and how many each reviewed."""

    coder_a: str
    coder_b: str
    unit: str
    units: list[Unit]  # both reviewed, at least one coded; in text order
    reviewed_a: int
    reviewed_b: int
    overlap: tuple[CodeOverlap, ...] = ()  # per code, in codebook order
    span_codings: int = 0

    @property
    def sparse(self) -> tuple[str, ...]:
        """Coders who reviewed too few units (see :func:`sparse_coders`)."""
        return sparse_coders((self.coder_a, self.reviewed_a), (self.coder_b, self.reviewed_b))

    @property
    def disagreements(self) -> list[Unit]:
        """The compared units where the two coders' codes differ."""
        return [u for u in self.units if not u.agree]


def compare(store: Store, coder_a: str, coder_b: str, *, unit: str = "segment",
            document_id: int | None = None) -> Comparison:
    """The units compared for two coders (see the module docstring) and the number of
    units each reviewed."""
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {UNITS}")
    turns_a = store.reviewed_turns(coder_a, document_id)
    turns_b = store.reviewed_turns(coder_b, document_id)
    codes_a = store.coder_codes(coder_a, document_id)
    codes_b = store.coder_codes(coder_b, document_id)
    order = {c.key: i for i, c in enumerate(store.codes(include_retired=True))}
    touched = {d for d, _ in turns_a | turns_b}
    docs = [d for d in ([store.get_document(document_id)] if document_id is not None
                        else store.list_documents()) if d.id in touched]
    out: list[Unit] = []
    reviewed_a = reviewed_b = 0
    for doc in docs:
        groups: dict[int, list] = {}
        for s in store.segments(doc.id):
            groups.setdefault(s.id if unit == "segment" else s.turn_id, []).append(s)
        for key, segs in groups.items():
            turn = (doc.id, segs[0].turn)
            reviewed_a += turn in turns_a
            reviewed_b += turn in turns_b
            if turn not in turns_a or turn not in turns_b:
                continue  # one of them never reviewed it: says nothing about agreement
            a = set().union(*(codes_a.get(s.id, set()) for s in segs))
            b = set().union(*(codes_b.get(s.id, set()) for s in segs))
            if not a and not b:
                continue
            out.append(Unit(unit, key, doc.id, doc.name, segs[0].turn,
                            tuple(s.id for s in segs), " ".join(s.text for s in segs),
                            tuple(sorted(a, key=lambda k: (order.get(k, len(order)), k))),
                            tuple(sorted(b, key=lambda k: (order.get(k, len(order)), k)))))
    both = turns_a & turns_b
    ranges_a = [r for r in store.coder_ranges(coder_a, document_id) if r[:2] in both]
    ranges_b = [r for r in store.coder_ranges(coder_b, document_id) if r[:2] in both]
    overlap = tuple(code_overlaps(ranges_a, ranges_b, order))
    spans = sum(r[5] for r in (*ranges_a, *ranges_b))
    return Comparison(coder_a, coder_b, unit, out, reviewed_a, reviewed_b, overlap, spans)


def _union(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Character ranges merged where they touch or overlap, in order."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _common(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> int:
    """Characters in both of two merged range lists."""
    i = j = n = 0
    while i < len(a) and j < len(b):
        n += max(0, min(a[i][1], b[j][1]) - max(a[i][0], b[j][0]))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return n


def code_overlaps(ranges_a: Sequence[tuple], ranges_b: Sequence[tuple],
                  order: dict[str, int] | None = None) -> list[CodeOverlap]:
    """Character overlap per code of two coders' coded ranges (``(document id, turn,
    code, start, end, ...)`` as :meth:`Store.coder_ranges` gives them)."""
    order = order or {}
    per: dict[str, dict[int, tuple[list, list]]] = {}
    for side, ranges in ((0, ranges_a), (1, ranges_b)):
        for doc, _turn, code, start, end, *_ in ranges:
            per.setdefault(code, {}).setdefault(doc, ([], []))[side].append((start, end))
    out = []
    for code in sorted(per, key=lambda k: (order.get(k, len(order)), k)):
        n_a = n_b = n_both = 0
        for a, b in per[code].values():
            ua, ub = _union(a), _union(b)
            n_a += sum(e - s for s, e in ua)
            n_b += sum(e - s for s, e in ub)
            n_both += _common(ua, ub)
        either = n_a + n_b - n_both
        out.append(CodeOverlap(code, n_a, n_b, n_both, n_both / either if either else None))
    return out


def compared_units(store: Store, coder_a: str, coder_b: str, *, unit: str = "segment",
                   document_id: int | None = None) -> list[Unit]:
    """The units compared for two coders (see the module docstring), in text order."""
    return compare(store, coder_a, coder_b, unit=unit, document_id=document_id).units


def reliability(store: Store, coder_a: str, coder_b: str, *, unit: str = "segment",
                document_id: int | None = None) -> ReliabilityReport:
    """Percent agreement, Cohen's kappa (overall and per code) and Krippendorff's alpha
    of two coders over the units both reviewed and either coded (see the module
    docstring), with how many units each reviewed and which of them are sparse."""
    return report(store, compare(store, coder_a, coder_b, unit=unit, document_id=document_id))


def report(store: Store, compared: Comparison) -> ReliabilityReport:
    """The figures of :func:`reliability` for units already compared (one comparison can
    serve both the figures and the disagreements)."""
    coder_a, coder_b, unit = compared.coder_a, compared.coder_b, compared.unit
    units = compared.units
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
                             nominal_alpha(a, b), per_code, reviewed_a=compared.reviewed_a,
                             reviewed_b=compared.reviewed_b, sparse=compared.sparse,
                             overlap=list(compared.overlap),
                             char_overlap=_overall(compared.overlap),
                             span_codings=compared.span_codings)


def _overall(overlap: Sequence[CodeOverlap]) -> float | None:
    """Characters both covered / characters either covered, summed over the codes."""
    both = sum(o.chars_both for o in overlap)
    either = sum(o.chars_a + o.chars_b - o.chars_both for o in overlap)
    return both / either if either else None


def disagreements(store: Store, coder_a: str, coder_b: str, *, unit: str = "segment",
                  document_id: int | None = None) -> list[Unit]:
    """Units where the two coders' codes differ, side by side, in text order."""
    return compare(store, coder_a, coder_b, unit=unit, document_id=document_id).disagreements
