"""Pseudonymisation of personal names in transcripts (GDPR).

Names are *found* in two ways: the speaker list (each speaker's label and the
first and last name in it, so "tak for kaffen, Anette" is caught for the speaker
"Anette Jensen") and the NER's person entities (``PER``) of the pipeline loaded
with ``nlp.load("ner")``. Every occurrence of every name found is then *replaced*
by matching the name as a whole word (case-sensitive; a genitive -s stays), so a
name gets the same pseudonym everywhere in a document, also where the NER missed
it. Pseudonyms: the moderator becomes "Moderator", other speakers "Deltager 1",
"Deltager 2", ... and other persons "Person 1", ... in order of first appearance.

The rewrite keeps every offset invariant (``text[start:end]`` is each turn, segment
and span coding's quote; a span that began or ended inside a name now covers the whole
pseudonym) and is exactly reversible from the mapping, which stores where each
pseudonym now stands (and token boundaries inside multi-token names). Lemmas are
left as they are: they are internal features, never shown or exported, and
keeping them makes reversal exact.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from evaltool.domain import (
    DocumentContent,
    PseudonymEntry,
    PseudonymReport,
    SegmentRecord,
    TurnRecord,
)
from evaltool.errors import StoreError
from evaltool.resources import word_list

log = logging.getLogger(__name__)

MODERATOR = "Moderator"
PARTICIPANT = "Deltager"
PERSON = "Person"
PERSON_LABELS = frozenset({"PER", "PERSON"})
# Text that already is a pseudonym, or a numbered label ("Deltager 3", "IP 2"):
# never a name to look for, nor the source of a first name.
_LABEL = re.compile(r"^(?:\w+\s*\d+|(?:Moderator|Deltager|Person)(?:\s+\d+)?)$")
_NAME_PART = re.compile(r"^[^\W\d_][\w'’\-]+$")
# Export columns that never hold transcript text or names from it.
STRUCTURAL_COLUMNS = frozenset({
    "document", "site", "turn", "segment_id", "start_char", "end_char", "code_id",
    "code_label", "cmo", "theme", "goal", "source", "confidence", "status", "coder", "unit",
    "_document_id"})


# -- which names, which pseudonyms ---------------------------------------------


@dataclass
class NamePlan:
    """Names of one document and their pseudonyms."""

    speakers: dict[int, str] = field(default_factory=dict)  # speaker id → pseudonym
    labels: dict[str, str] = field(default_factory=dict)  # speaker label → pseudonym
    names: dict[str, tuple[str, str]] = field(default_factory=dict)  # name → (kind, pseudonym)
    searched: list[str] = field(default_factory=list)  # names looked for in the text
    _pattern: re.Pattern | None = None

    @property
    def pattern(self) -> re.Pattern | None:
        """Whole-word, case-sensitive alternation of the searched names, longest first."""
        if self._pattern is None and self.searched:
            alternation = "|".join(re.escape(n) for n in sorted(set(self.searched),
                                                                 key=lambda n: (-len(n), n)))
            self._pattern = re.compile(rf"(?<!\w)(?:{alternation})(?=s?(?!\w))")
        return self._pattern

    def pseudonym(self, name: str) -> str:
        """The pseudonym of a name found by :attr:`pattern`."""
        return self.names[name][1]

    def apply(self, text: str) -> str:
        """``text`` with every searched name replaced by its pseudonym."""
        pattern = self.pattern
        return pattern.sub(lambda m: self.pseudonym(m.group()), text) if pattern else text

    def apply_label(self, label: str) -> str:
        """A speaker label's pseudonym (or the label with names in it replaced)."""
        return self.labels.get(label) or self.apply(label)

    def count(self, kind: str) -> int:
        """Number of distinct pseudonyms of one kind ('speaker' or 'person')."""
        return len({p for k, p in self.names.values() if k == kind})


def _is_role(name: str) -> bool:
    """A speaker label that names a role, not a person ("Ordstyrer")."""
    return name.casefold() in word_list("moderator_names")


def _is_title(name: str) -> bool:
    """A role or a numbered label ("Ordstyrer", "Deltager 3"): no first or last name in it."""
    return _is_role(name) or bool(_LABEL.match(name))


def _stop_words(nlp) -> frozenset[str]:
    return frozenset(w.casefold() for w in getattr(nlp.Defaults, "stop_words", ()))


def _is_name_word(word: str, stop: frozenset[str]) -> bool:
    return (bool(_NAME_PART.match(word)) and word[0].isupper()
            and word.casefold() not in stop and not _is_title(word))


def _speaker_parts(label: str, stop: frozenset[str]) -> list[str]:
    """First and last name of a multi-word speaker label (no initials or particles)."""
    words = label.split()
    if len(words) < 2 or _is_title(label):
        return []
    return [w for w in dict.fromkeys((words[0], words[-1])) if _is_name_word(w, stop)]


def person_entities(texts: Iterable[str], nlp) -> list[str]:
    """Person names the NER finds in ``texts``, in order of first appearance."""
    stop = _stop_words(nlp)
    found: dict[str, None] = {}
    for doc in nlp.pipe(texts, batch_size=64):
        for ent in doc.ents:
            if ent.label_ not in PERSON_LABELS:
                continue
            name = " ".join(ent.text.split()).strip(" .,;:!?\"'()[]")
            words = name.split()
            if not words or _is_title(name) or not words[0][:1].isupper():
                continue
            if len(words) == 1 and not _is_name_word(name, stop):
                continue
            found.setdefault(name)
    return list(found)


def plan_names(content: DocumentContent, nlp) -> NamePlan:
    """Pseudonyms for a document's speakers and for the persons its text names."""
    stop = _stop_words(nlp)
    plan = NamePlan()
    moderators = participants = persons = 0
    parts: dict[str, set[str]] = {}
    for sp in content.speakers:
        if sp.is_moderator:
            moderators += 1
            pseudonym = MODERATOR if moderators == 1 else f"{MODERATOR} {moderators}"
        else:
            participants += 1
            pseudonym = f"{PARTICIPANT} {participants}"
        plan.speakers[sp.id] = pseudonym
        plan.labels[sp.name] = pseudonym
        plan.names[sp.name] = ("speaker", pseudonym)
        if not _is_role(sp.name):
            plan.searched.append(sp.name)
        for part in _speaker_parts(sp.name, stop):
            parts.setdefault(part, set()).add(pseudonym)
    for part, pseudonyms in parts.items():
        # A first name two speakers share names neither for sure: left to the NER.
        if len(pseudonyms) == 1 and part not in plan.names:
            plan.names[part] = ("alias", next(iter(pseudonyms)))
            plan.searched.append(part)
    first_words: dict[str, str] = {}
    for name in person_entities((s.text for s in content.segments), nlp):
        if name in plan.names or (name.endswith("s") and name[:-1] in plan.names):
            continue  # known, or the genitive of a known name
        first = name.split()[0]
        if first in plan.names and plan.names[first][0] in ("speaker", "alias"):
            plan.names[name] = ("alias", plan.names[first][1])
        elif first in first_words:
            plan.names[name] = ("person", first_words[first])
        else:
            persons += 1
            plan.names[name] = ("person", f"{PERSON} {persons}")
        first_words.setdefault(first, plan.names[name][1])
        plan.searched.append(name)
    return plan


def plan_from_entries(entries: Iterable[PseudonymEntry]) -> NamePlan:
    """The plan a stored mapping stands for (to pseudonymize memos and exports)."""
    plan = NamePlan()
    for e in entries:
        plan.names[e.original] = (e.kind, e.pseudonym)
        if e.kind == "speaker":
            plan.labels[e.original] = e.pseudonym
        if not _is_role(e.original):
            plan.searched.append(e.original)
    return plan


# -- rewriting text and offsets ------------------------------------------------


@dataclass
class Edit:
    """Replace ``text[start:end]`` by ``new``.

    ``cuts`` are token boundaries strictly inside the replaced span, relative to
    its start: recorded when pseudonymizing, consumed when restoring.
    """

    start: int
    end: int
    new: str
    cuts: list[int] = field(default_factory=list)


class _Mapper:
    """Maps offsets of the old text to the new one for a sorted list of edits."""

    def __init__(self, edits: list[Edit], *, restore: bool) -> None:
        self.edits = edits
        self.restore = restore
        self.starts = [e.start for e in edits]
        self.new_spans: list[tuple[int, int]] = []
        self.shift_after: list[int] = []
        self.pending = [list(e.cuts) for e in edits] if restore else None
        shift = 0
        for e in edits:
            new_start = e.start + shift
            self.new_spans.append((new_start, new_start + len(e.new)))
            shift += len(e.new) - (e.end - e.start)
            self.shift_after.append(shift)

    def _moved(self, offset: int) -> int | None:
        """Where an offset outside every name moves to; None for one inside a name."""
        i = bisect.bisect_right(self.starts, offset) - 1
        if i < 0:
            return offset
        e = self.edits[i]
        if offset == e.start:
            return self.new_spans[i][0]
        if offset >= e.end:
            return offset + self.shift_after[i]
        return None

    def point(self, offset: int) -> int:
        """A turn or segment boundary (never inside a name)."""
        moved = self._moved(offset)
        if moved is None:
            raise StoreError("a segment boundary falls inside a name; document left unchanged")
        return moved

    def span_point(self, offset: int, *, end: bool) -> int:
        """A coded span's start or end: one inside a name moves out to the edge of the
        name's replacement, so a span never keeps part of a name."""
        moved = self._moved(offset)
        if moved is not None:
            return moved
        i = bisect.bisect_right(self.starts, offset) - 1
        return self.new_spans[i][1 if end else 0]

    def token_point(self, offset: int) -> int:
        """A token boundary: may fall inside a multi-token name."""
        i = bisect.bisect_right(self.starts, offset) - 1
        if i < 0:
            return offset
        e = self.edits[i]
        new_start, new_end = self.new_spans[i]
        if offset == e.start:
            return new_start
        if self.restore and offset == e.end and self.pending[i]:
            # Forward mapped inner boundaries to the pseudonym's end; in token
            # order they come before the name's real end, so they are due first.
            return new_start + self.pending[i].pop(0)
        if offset >= e.end:
            return offset + self.shift_after[i]
        if not self.restore:
            e.cuts.append(offset - e.start)
        return new_end


def _edited(text: str, edits: list[Edit]) -> str:
    """``text`` with sorted, non-overlapping edits applied."""
    pieces, pos = [], 0
    for e in edits:
        pieces += [text[pos:e.start], e.new]
        pos = e.end
    pieces.append(text[pos:])
    return "".join(pieces)


def rewrite(content: DocumentContent, edits: list[Edit], speaker_names: dict[int, str], *,
            restore: bool = False) -> tuple[DocumentContent, list[tuple[int, int]]]:
    """Apply non-overlapping edits to a document's text, turns, segments and tokens.

    Returns the new content and where each edit now stands. Turn and segment
    texts are re-sliced from the new text, so the offset invariant holds by
    construction.
    """
    edits = sorted(edits, key=lambda e: e.start)
    for a, b in itertools.pairwise(edits):
        if b.start < a.end:
            raise StoreError("overlapping name spans; document left unchanged")
    mapper = _Mapper(edits, restore=restore)
    text = _edited(content.text, edits)

    turns = []
    for t in content.turns:
        start, end = mapper.point(t.start_char), mapper.point(t.end_char)
        turns.append(TurnRecord(t.id, start, end, text[start:end]))
    segments = []
    for s in content.segments:
        start, end = mapper.point(s.start_char), mapper.point(s.end_char)
        tokens = []
        for tok in s.tokens:
            a = mapper.token_point(s.start_char + tok[0]) - start
            b = mapper.token_point(s.start_char + tok[1]) - start
            tokens.append([a, b, *tok[2:]])
        segments.append(SegmentRecord(s.id, start, end, text[start:end], tokens))
    speakers = tuple(replace(sp, name=speaker_names.get(sp.id, sp.name))
                     for sp in content.speakers)
    spans = tuple((cid, mapper.span_point(start, end=False), mapper.span_point(end, end=True))
                  for cid, start, end in content.spans)
    new = DocumentContent(content.document_id, text, speakers, tuple(turns), tuple(segments),
                          spans)
    return new, mapper.new_spans


def find_edits(content: DocumentContent, plan: NamePlan) -> list[tuple[Edit, str]]:
    """Where the plan's names stand in the segments, as (edit, original name)."""
    pattern = plan.pattern
    if pattern is None:
        return []
    out = []
    for s in content.segments:
        for m in pattern.finditer(s.text):
            name = m.group()
            pseudonym = plan.pseudonym(name)
            if pseudonym != name:
                out.append((Edit(s.start_char + m.start(), s.start_char + m.end(), pseudonym),
                            name))
    return out


# -- whole documents -------------------------------------------------------------


def pseudonymize(store, document_id: int, nlp_factory: Callable[[], Any]) -> PseudonymReport:
    """Replace the names in a stored document by pseudonyms, in one transaction.

    A document that already has a mapping is left alone (reported, not an error).
    """
    already = PseudonymReport(document_id, "unchanged", message=(
        f"document {document_id} is already pseudonymized; nothing changed "
        "(`evaltool pseudonymize --reverse` restores it)"))
    if store.pseudonym_entries(document_id):
        return already
    content = store.document_content(document_id)
    plan = plan_names(content, nlp_factory())
    found = find_edits(content, plan)
    edits = [e for e, _ in found]
    new, spans = rewrite(content, edits, plan.speakers)
    where: dict[str, list] = {}
    for (edit, name), (start, end) in zip(sorted(found, key=lambda f: f[0].start), spans,
                                          strict=True):
        where.setdefault(name, []).append([start, end, edit.cuts] if edit.cuts else [start, end])
    entries = [PseudonymEntry(kind, name, pseudonym, tuple(tuple(s) for s in where.get(name, ())))
               for name, (kind, pseudonym) in plan.names.items() if name != pseudonym]
    if not store.save_pseudonymized(content, new, entries):
        return already
    report = PseudonymReport(document_id, "pseudonymized", speakers=len(content.speakers),
                             persons=plan.count("person"), replacements=len(edits))
    log.info("pseudonymized document %s: %d speakers, %d persons, %d replacements",
             document_id, report.speakers, report.persons, report.replacements)
    return report


def restore(store, document_id: int) -> PseudonymReport:
    """Put the original names back from the stored mapping, and drop the mapping."""
    entries = store.pseudonym_entries(document_id)
    if not entries:
        return PseudonymReport(document_id, "unchanged", message=(
            f"document {document_id} is not pseudonymized; nothing to restore"))
    content = store.document_content(document_id)
    edits = []
    for entry in entries:
        for span in entry.spans:
            start, end = int(span[0]), int(span[1])
            if content.text[start:end] != entry.pseudonym:
                raise StoreError(f"document {document_id} changed after it was pseudonymized; "
                                 "the mapping no longer fits, nothing restored")
            edits.append(Edit(start, end, entry.original,
                              [int(c) for c in span[2]] if len(span) > 2 else []))
    labels = {e.pseudonym: e.original for e in entries if e.kind == "speaker"}
    names = {sp.id: labels[sp.name] for sp in content.speakers if sp.name in labels}
    new, _ = rewrite(content, edits, names, restore=True)
    store.save_restored(content, new)
    log.info("restored document %s: %d names", document_id, len(edits))
    return PseudonymReport(document_id, "restored", speakers=len(names), replacements=len(edits))


# -- exports ---------------------------------------------------------------------


def document_plan(store, document_id: int, nlp_factory: Callable[[], Any]) -> NamePlan:
    """The stored mapping of a document, or (if it has none) one computed in memory."""
    entries = store.pseudonym_entries(document_id)
    if entries:
        return plan_from_entries(entries)
    return plan_names(store.document_content(document_id), nlp_factory())


def _pseudonymized(store, document_id: int, plan: NamePlan) -> tuple[str, _Mapper]:
    """A document's pseudonymized text (what :func:`pseudonymize` would write) and the map
    of its offsets into it."""
    content = store.document_content(document_id)
    edits = sorted((e for e, _ in find_edits(content, plan)), key=lambda e: e.start)
    return _edited(content.text, edits), _Mapper(edits, restore=False)


def _requote(frame, rows, text: str, mapper: _Mapper) -> None:
    """Offsets and quotes of one document's export rows in its pseudonymized text:
    ``text[start_char:end_char]`` is the quote there too. A span boundary inside a name
    moves out to the pseudonym's edge, so no part of a name is left in a quote."""
    starts = [mapper.span_point(int(v), end=False) for v in frame.loc[rows, "start_char"]]
    ends = [mapper.span_point(int(v), end=True) for v in frame.loc[rows, "end_char"]]
    frame.loc[rows, "start_char"] = starts
    frame.loc[rows, "end_char"] = ends
    frame.loc[rows, "text"] = [text[a:b] for a, b in zip(starts, ends, strict=True)]


def _requote_memos(frame, rows, store, text: str, mapper: _Mapper) -> None:
    """The quotes of one document's span-coding memos, cut from its pseudonymized text like
    :func:`_requote` (a span's words may hold part of a name the name search cannot see)."""
    coding = rows & (frame["kind"] == "coding")
    spans = store.span_offsets([int(i) for i in frame.loc[coding, "id"]])
    for index in frame.index[coding]:
        span = spans.get(int(frame.at[index, "id"]))
        if span is not None:
            frame.at[index, "quote"] = text[mapper.span_point(span[0], end=False):
                                            mapper.span_point(span[1], end=True)]


def export_hook(store, nlp_factory: Callable[[], Any]) -> Callable[[Any], Any]:
    """A ``build_frame(pseudonyms=...)`` (or ``memo_frame``) hook: pseudonymize text, speaker,
    role, memo and front-matter columns on the way out, without changing the database.
    Rows without a document (project memos) get every document's pseudonyms in turn. In a
    coding export, ``start_char``/``end_char`` become offsets into the pseudonymized text
    and ``text`` is that text's slice (see :func:`_requote`)."""
    def apply(frame):
        frame = frame.copy()
        columns = [c for c in frame.columns if c not in STRUCTURAL_COLUMNS]
        plans: dict[int, NamePlan] = {}

        def rewrite(rows, doc_id: int) -> None:
            if doc_id not in plans:
                plans[doc_id] = document_plan(store, doc_id, nlp_factory)
            plan = plans[doc_id]
            for col in columns:  # labels too: the front matter's `moderator` names a speaker
                frame.loc[rows, col] = frame.loc[rows, col].map(
                    lambda v, plan=plan: plan.apply_label(v) if isinstance(v, str) else v)

        ids = frame["_document_id"]
        offsets = {"start_char", "end_char", "text"} <= set(frame.columns)
        memos = {"kind", "id", "quote"} <= set(frame.columns)
        for doc_id in ids.dropna().unique():
            rows = (ids == doc_id).fillna(False).astype(bool)
            rewrite(rows, int(doc_id))
            if offsets or memos:
                text, mapper = _pseudonymized(store, int(doc_id), plans[int(doc_id)])
                if offsets:
                    _requote(frame, rows, text, mapper)
                else:
                    _requote_memos(frame, rows, store, text, mapper)
        loose = ids.isna()
        if loose.any():  # a project memo belongs to no document: every document's names
            for doc in store.document_facets():
                rewrite(loose, doc.id)
        return frame

    return apply


class PseudonymizedView:
    """One document as a pseudonymised output shows it, without changing the database:
    its text with names replaced, offsets moved into that text, labels rewritten."""

    def __init__(self, store, document_id: int, nlp_factory: Callable[[], Any]) -> None:
        self.plan = document_plan(store, document_id, nlp_factory)
        self.text, self._mapper = _pseudonymized(store, document_id, self.plan)

    def cut(self, start: int, end: int) -> tuple[int, int]:
        """Offsets ``[start, end)`` of the stored text in the pseudonymised one (a boundary
        inside a name moves out to the pseudonym's edge, so no part of a name is kept)."""
        return (self._mapper.span_point(start, end=False), self._mapper.span_point(end, end=True))

    def label(self, value: str | None) -> str | None:
        """A speaker label or role with names replaced."""
        return value if value is None else self.plan.apply_label(value)

    def rewrite(self, value: str) -> str:
        """A free text (a memo, an attribute value, the codebook) with names replaced."""
        return self.plan.apply_label(value)


class StoredView:
    """One document as stored: :class:`PseudonymizedView`'s interface, nothing replaced."""

    def __init__(self, store, document_id: int) -> None:
        self._store, self._document_id = store, document_id

    @cached_property
    def text(self) -> str:
        """The document's stored text (its turns joined by ``TURN_SEP``)."""
        return self._store.document_text(self._document_id) or ""

    def cut(self, start: int, end: int) -> tuple[int, int]:
        """The offsets as they are."""
        return start, end

    def label(self, value: str | None) -> str | None:
        """The label as it is."""
        return value

    def rewrite(self, value: str) -> str:
        """The text as it is."""
        return value


def document_view(store, document_id: int,
                  pseudonymizer: Callable[[int], PseudonymizedView] | None = None
                  ) -> PseudonymizedView | StoredView:
    """A document as an output shows it: by ``pseudonymizer`` (document id → view), else as
    stored."""
    return pseudonymizer(document_id) if pseudonymizer else StoredView(store, document_id)
