"""Domain types shared by every module: parsed transcripts, segments, enums.

Offsets: every ``start_char``/``end_char`` in evaltool is a character offset into
the document's *normalised text* (``Store.document_text``), exactly like spaCy's
``Span.start_char``/``end_char``: ``text[start_char:end_char]`` is the span.
The normalised text is NFC, uses ``\\n`` line ends, and is built from the turns
alone: paragraphs of a turn are joined by one ``\\n``, turns by ``\\n\\n``
(speaker labels, timestamps and front matter are structured data, not text).
It is not stored as such: the stored turns, joined by ``TURN_SEP`` in order,
are that text.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from evaltool.texttable import counted

PARAGRAPH_SEP = "\n"
TURN_SEP = "\n\n"


class CMO(enum.StrEnum):
    """Realist-evaluation kind of a code."""

    context = "context"
    mechanism = "mechanism"
    outcome = "outcome"
    # a code imported from another tool (REFI-QDA) whose kind nobody has chosen yet; the
    # Kodebog page assigns it, and the CMO chains and counts leave it out
    unassigned = "unassigned"


# the realist kinds, in the order the dashboards show them
CMO_KINDS: tuple[str, ...] = (CMO.context.value, CMO.mechanism.value, CMO.outcome.value)


class CodingStatus(enum.StrEnum):
    """Where a coding stands in review."""

    suggested = "suggested"
    accepted = "accepted"
    rejected = "rejected"


class Source(enum.StrEnum):
    """Who proposed a coding."""

    human = "human"
    rules = "rules"
    model = "model"
    combined = "combined"
    gold = "gold"
    adjudicated = "adjudicated"  # decided by a third person where two coders disagreed


@dataclass(frozen=True)
class ParsedTurn:
    """One speaker turn as read from a file (before segmentation)."""

    speaker: str
    role: str | None
    start_time: float | None
    paragraphs: tuple[str, ...]
    line: int

    @property
    def text(self) -> str:
        """The turn's normalised text (paragraphs joined by a newline)."""
        return PARAGRAPH_SEP.join(self.paragraphs)


@dataclass
class ParsedDocument:
    """A transcript read from one file: front matter plus turns."""

    name: str
    format: str
    metadata: dict[str, Any] = field(default_factory=dict)
    turns: list[ParsedTurn] = field(default_factory=list)
    # what was read but not imported, e.g. "line 1: 2 lines of text before the first
    # speaker were not imported (...)": shown with the import's result, never text
    notes: list[str] = field(default_factory=list)

    @property
    def site(self) -> str | None:
        """The site (municipality/library) from the front matter."""
        value = self.metadata.get("site")
        return str(value) if value is not None else None


@dataclass(frozen=True)
class DocumentStream:
    """A transcript opened for streaming: front matter now, turns read on demand.

    Each :meth:`turns` call starts a fresh pass (text files are re-read from
    disk), so a large transcript is never held in memory and can be read twice.
    Reading may still raise :class:`~evaltool.errors.IngestError` part-way.
    """

    name: str
    format: str
    metadata: dict[str, Any]
    read_turns: Callable[[], Iterator[ParsedTurn]] = field(repr=False, compare=False)
    # as ParsedDocument.notes; complete once a pass over the turns has ended
    notes: list[str] = field(default_factory=list, compare=False)

    def turns(self) -> Iterator[ParsedTurn]:
        """A new iterator over the turns, from the first."""
        return self.read_turns()

    @classmethod
    def of(cls, doc: ParsedDocument) -> DocumentStream:
        """A stream over a document already parsed whole."""
        return cls(doc.name, doc.format, doc.metadata, lambda: iter(doc.turns), doc.notes)

    def parse(self) -> ParsedDocument:
        """The whole document, its turns in a list."""
        turns = list(self.turns())
        return ParsedDocument(self.name, self.format, self.metadata, turns, list(self.notes))


@dataclass(frozen=True)
class Sentence:
    """A sentence segment of a turn, offsets relative to the turn's text."""

    start: int
    end: int
    lemmas: tuple[str, ...]
    tokens: tuple[tuple[int, int, str, str], ...]  # (start, end, lemma, pos) in the segment


@dataclass(frozen=True)
class UncarriedCoding:
    """A coding of a replaced document that re-import could not carry over: no sentence
    of the new document has its sentence's text. Places and code only, never text."""

    document_id: int  # the replaced document
    segment_id: int  # its segment (gone with it)
    turn: int
    sent_index: int  # 0-based within the turn, as ``evaltool show --segments`` lists it
    code_key: str
    layer: str
    status: str
    human: bool  # a person made or decided it (it has a coder)
    span: tuple[int, int] | None = None  # a span coding's offsets in the replaced document


@dataclass(frozen=True)
class CarryOver:
    """What re-importing a document did with the codings of the document(s) it replaced.

    A coding is carried to the new sentence whose text is identical (in document
    order; a sentence that moved to another turn is found there too); its
    ``moved`` count says how many went to a sentence out of the old order.
    """

    replaced: tuple[int, ...]  # ids of the replaced documents
    carried: int = 0
    carried_human: int = 0
    moved: int = 0
    not_carried: tuple[UncarriedCoding, ...] = ()
    assignments: int = 0  # coder assignments moved to the new document
    marks: int = 0  # 'done' marks moved (a whole document, or a turn whose text is unchanged)
    marks_dropped: int = 0  # turn marks whose turn's text changed (the review no longer holds)

    @property
    def human_lost(self) -> int:
        """Human decisions that were (or would be) lost."""
        return sum(1 for c in self.not_carried if c.human)


@dataclass(frozen=True)
class ImportResult:
    """What happened to one file of an import batch."""

    path: str
    status: str  # "imported" | "skipped" | "failed"
    message: str = ""
    document_id: int | None = None
    turns: int = 0
    segments: int = 0
    carry: CarryOver | None = None  # with --replace: what happened to the old codings


@dataclass
class BatchSummary:
    """Summary of an import batch."""

    results: list[ImportResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        """Number of files with the given status."""
        return sum(1 for r in self.results if r.status == status)

    @property
    def failed(self) -> int:
        """Number of files that failed."""
        return self.count("failed")

    def line(self) -> str:
        """One-line summary for people."""
        return (
            f"{self.count('imported')} imported, {self.count('skipped')} skipped, "
            f"{self.failed} failed"
        )


# -- attributes and target groups -----------------------------------------------

# Keys that name target groups: a document's front matter writes ``target_groups`` (a
# list); a speaker's is usually ``target_group``. Either key works on either level.
TARGET_GROUP_KEYS = ("target_groups", "target_group")
# Attribute keys whose values are lists: a comma in a typed value separates items.
LIST_KEYS = frozenset(TARGET_GROUP_KEYS)
# Document attributes kept in a column of ``documents`` too; a speaker's ``role`` is a
# column of ``speakers`` (and the role of the turns that carried it).
DOCUMENT_COLUMNS = ("site", "date", "title")
SPEAKER_COLUMNS = ("role",)


def attribute_values(value: Any) -> list[str]:
    """An attribute's values as texts (a list gives one per item; empty: none)."""
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value if v is not None and v != ""]
    return [str(value)]


def target_groups(attributes: dict[str, Any]) -> list[str]:
    """The target groups named by a document's or a speaker's attributes, in order."""
    out: list[str] = []
    for key in TARGET_GROUP_KEYS:
        out += [g for g in attribute_values(attributes.get(key)) if g not in out]
    return out


def quote_target_groups(speaker: dict[str, Any], document: dict[str, Any]) -> list[str]:
    """A quote's target groups: its speaker's when the speaker has any, else its document's."""
    return target_groups(speaker) or target_groups(document)


@dataclass(frozen=True)
class AttributeChange:
    """One change of a document's or a speaker's attribute, from the history."""

    at: Any
    coder: str | None
    speaker: str | None  # None: the document's own attribute
    key: str
    before: Any
    after: Any


@dataclass(frozen=True)
class DocumentInfo:
    """A stored document with its counts, as listed to users."""

    id: int
    name: str
    format: str
    title: str | None
    site: str | None
    date: str | None
    speakers: int
    turns: int
    segments: int
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def target_groups(self) -> list[str]:
        """Target groups from the document's attributes."""
        return target_groups(self.attributes)


@dataclass(frozen=True)
class SpeakerInfo:
    """A stored speaker with its attributes (``role`` is the speaker's own column)."""

    id: int
    document_id: int
    name: str
    role: str | None
    is_moderator: bool
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def target_groups(self) -> list[str]:
        """The speaker's own target groups (empty: the document's apply)."""
        return target_groups(self.attributes)


@dataclass(frozen=True)
class TurnView:
    """A stored turn with its speaker."""

    id: int
    document_id: int
    number: int
    speaker: str
    role: str | None
    is_moderator: bool
    start_time: float | None
    start_char: int
    end_char: int
    text: str


@dataclass(frozen=True)
class SegmentView:
    """A stored sentence segment."""

    id: int
    document_id: int
    turn_id: int
    turn: int
    sent_index: int
    speaker: str
    start_char: int
    end_char: int
    text: str
    lemmas: str


@dataclass(frozen=True)
class CodeInfo:
    """A stored code with what the dashboards and exports need."""

    id: int
    key: str
    label: str
    cmo: str
    column: str
    themes: tuple[str, ...]
    goals: tuple[str, ...]
    definition: str = ""
    retired: bool = False
    parent: str | None = None  # the parent code's key (the code hierarchy)


@dataclass(frozen=True)
class CodebookChange:
    """What one edit of the active codebook did (see :mod:`evaltool.codebook`)."""

    action: str  # add | edit | parent | merge | retire
    code: str  # the code's key
    version: int  # the codebook's version after the change
    into: str | None = None  # merge: the code that took the codings
    fields: tuple[str, ...] = ()  # edit: the fields that changed
    moved: int = 0  # merge: codings moved to ``into``
    combined: int = 0  # merge: codings folded into one already on the same place
    children: tuple[str, ...] = ()  # merge: sub-codes that moved to ``into``


@dataclass(frozen=True)
class CodingUnit:
    """A segment as the coder sees it: its text, lemmas and the turn around it."""

    segment_id: int
    document_id: int
    site: str | None
    turn_id: int
    turn: int
    sent_index: int
    speaker: str
    role: str | None
    is_moderator: bool
    text: str
    lemmas: str
    tokens: list
    turn_lemmas: str = ""


@dataclass(frozen=True)
class ReviewedLabels:
    """What humans have seen, the only material training takes labels from.

    A turn is *seen* when a human decided a coding in it (accepted, rejected,
    recoded or added one) or marked it, or its document, as done. In a seen turn
    every segment is a negative for every code it does not carry, except codes
    still ``open`` there (suggested, undecided, in a turn not marked done).
    Turns nobody has seen are unlabelled, never negative.
    """

    turns: frozenset[tuple[int, int]]  # (document id, turn number)
    accepted: dict[int, set[str]]  # segment id → accepted codes (positives)
    open: dict[int, set[str]]  # segment id → undecided suggestions in seen turns (unknown)


@dataclass(frozen=True)
class Suggestion:
    """A machine suggestion for one code on one segment."""

    segment_id: int
    code_key: str
    source: str  # rules | model | combined
    confidence: float
    explanation: str


@dataclass(frozen=True)
class CodingView:
    """A coding with its segment, code and decision, as reviewed and exported.

    ``start_char``/``end_char``/``text`` are what is coded: the sentence for a sentence
    coding, the span's document offsets and words for a span coding (``is_span``), so
    ``document_text[start_char:end_char] == text`` either way.
    """

    id: int
    segment_id: int
    document_id: int
    document: str
    site: str | None
    turn: int
    speaker: str
    role: str | None
    start_char: int
    end_char: int
    text: str
    code_key: str
    code_label: str
    cmo: str
    themes: tuple[str, ...]
    goals: tuple[str, ...]
    status: str
    source: str
    confidence: float | None
    explanation: str
    coder: str | None
    memo: str
    layer: str
    version: int
    is_span: bool = False  # a span of words, not the whole sentence (migration 0013)

    @property
    def start(self) -> int:
        """Document offset where the coded text starts."""
        return self.start_char

    @property
    def end(self) -> int:
        """Document offset where the coded text ends."""
        return self.end_char

    @property
    def quote(self) -> str:
        """The coded text (the span's words, or the whole sentence)."""
        return self.text


@dataclass(frozen=True)
class AssignmentInfo:
    """A document assigned to a coder; ``blind`` hides the other coders' decisions on it."""

    document_id: int
    document: str
    coder: str
    blind: bool


class Role(enum.StrEnum):
    """What a signed-in account may do (team server; the embedded single user is unchecked)."""

    evaluator = "evaluator"  # codes: decides in the shared layer or, assigned blind, in their own
    lead = "lead"  # reads everything (dashboard, reliability, report); writes nothing
    admin = "admin"  # codes, and manages: codebook, assignments, documents, users, deletion


class Permission(enum.StrEnum):
    """A kind of write the store checks against the acting account's role."""

    code = "code"  # decide, add, code a span, memos, done marks, undo, suggest and train
    manage = "manage"  # codebook, assignments, attributes, import, delete, pseudonymise, users
    report = "report"  # choose the report's quotes (pins): a lead's one write, coding data untouched


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.evaluator: frozenset({Permission.code, Permission.report}),
    Role.lead: frozenset({Permission.report}),
    Role.admin: frozenset({Permission.code, Permission.manage, Permission.report}),
}


@dataclass(frozen=True)
class Actor:
    """The signed-in user a store acts for: an account's name (the coder name in history,
    reliability and exports), its role, and how it signed in ('local' or 'oidc')."""

    name: str
    role: Role
    source: str = "local"

    def can(self, permission: Permission) -> bool:
        """True when this actor's role grants ``permission``."""
        return permission in ROLE_PERMISSIONS[Role(self.role)]


@dataclass(frozen=True)
class Account:
    """A stored user account (never its password hash)."""

    name: str
    role: Role
    email: str | None
    has_password: bool
    created_at: Any


@dataclass(frozen=True)
class Decision:
    """What a coder's decision wrote: the coding row, its version and its layer."""

    coding_id: int
    version: int
    layer: str


@dataclass(frozen=True)
class HistoryEntry:
    """One event of a coding's append-only history (who, when, what, before, after)."""

    id: int
    at: Any
    coder: str | None
    action: str
    coding_id: int | None
    segment_id: int | None
    code_key: str | None  # the code after the event (before it, if the event deleted the row)
    layer: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    undoes: int | None
    undone_by: int | None = None
    # a span coding's document offsets and words (None for a whole-sentence coding)
    start_char: int | None = None
    end_char: int | None = None
    quote: str | None = None


@dataclass(frozen=True)
class DocumentDeletion:
    """What deleting a document removed (counts and the file name only, never text).

    ``human_decisions`` counts the codings a person made or decided (accepted,
    rejected, recoded, memo'd, added or adjudicated: the coding has a coder), in
    any layer; ``codings`` counts all codings, machine suggestions included.
    """

    document_id: int
    document: str  # the file name
    turns: int
    segments: int
    codings: int
    human_decisions: int
    assignments: int = 0
    event_id: int | None = None  # the history event that records the deletion
    memos: int = 0  # memos on the document or its sentences (a coding's memo goes with it)



# -- pseudonymisation (personal data) -------------------------------------------


@dataclass(frozen=True)
class SpeakerRecord:
    """A stored speaker as pseudonymisation sees it."""

    id: int
    name: str
    is_moderator: bool


@dataclass(frozen=True)
class TurnRecord:
    """A stored turn's id, offsets and text."""

    id: int
    start_char: int
    end_char: int
    text: str


@dataclass(frozen=True)
class SegmentRecord:
    """A stored segment's id, offsets, text and tokens (``[start, end, lemma, pos]``
    relative to the segment)."""

    id: int
    start_char: int
    end_char: int
    text: str
    tokens: list


@dataclass(frozen=True)
class DocumentContent:
    """The rows of one document that carry names: what pseudonymisation rewrites."""

    document_id: int
    text: str
    speakers: tuple[SpeakerRecord, ...]  # in order of first appearance
    turns: tuple[TurnRecord, ...]  # in document order
    segments: tuple[SegmentRecord, ...]  # in text order
    spans: tuple[tuple[int, int, int], ...] = ()  # span codings: (coding id, start, end)


@dataclass(frozen=True)
class PseudonymEntry:
    """One name replaced in a document, and where its pseudonym now stands.

    ``kind``: 'speaker' (a speaker's label), 'alias' (another form of a speaker's
    name, e.g. the first name) or 'person' (anybody else). Each span is
    ``[start, end]`` in the current text, or ``[start, end, cuts]`` when token
    boundaries inside the original name (``cuts``, relative to its start) must be
    restored on reversal.
    """

    kind: str
    original: str
    pseudonym: str
    spans: tuple[tuple, ...] = ()


@dataclass(frozen=True)
class PseudonymReport:
    """What pseudonymising (or restoring) one document did; counts only, never names."""

    document_id: int
    action: str  # pseudonymized | restored | unchanged
    speakers: int = 0
    persons: int = 0
    replacements: int = 0
    message: str = ""

    def line(self) -> str:
        """One line for people (no names: they are personal data)."""
        if self.message:
            return self.message
        if self.action == "restored":
            return (f"document {self.document_id}: restored {counted(self.replacements, 'name')} "
                    f"in the text and {counted(self.speakers, 'speaker name')}")
        return (f"document {self.document_id}: {counted(self.speakers, 'speaker')} and "
                f"{counted(self.persons, 'other person')} pseudonymized, "
                f"{counted(self.replacements, 'name')} replaced in the text")


@dataclass(frozen=True)
class SearchHit:
    """A sentence matching a search: where, and the match in keyword-in-context form.

    ``start``/``end`` are offsets of the match into the document text; ``left`` and
    ``right`` are up to :data:`KWIC_WIDTH` characters of the sentence around it.
    """

    document_id: int
    document: str
    site: str | None
    turn: int
    speaker: str
    role: str | None
    segment_id: int
    start: int
    end: int
    left: str
    match: str
    right: str


KWIC_WIDTH = 60  # characters of context on each side of a search hit


class MemoKind(enum.StrEnum):
    """What a memo is about."""

    coding = "coding"  # a coding's own memo (``codings.memo``)
    segment = "segment"  # a sentence
    document = "document"  # a whole transcript
    project = "project"  # the project (no document)


MEMO_KINDS: tuple[str, ...] = tuple(k.value for k in MemoKind)


@dataclass(frozen=True)
class MemoView:
    """A memo of any kind, as listed and exported.

    ``id`` is the memo's id, or for a coding memo the coding's id. A coding memo's
    ``coder`` and ``at`` are those of the coding's last change (the memo is part of
    the coding's state); ``code_key``/``code_label`` are set for coding memos only;
    ``quote`` is what a coding memo's coding codes (a span's words or the sentence) or the
    sentence a segment memo is on. ``layer`` is the coding's
    layer ('' for the shared coding and for memos that are not on a coding).
    """

    kind: str
    id: int
    document_id: int | None
    document: str | None
    site: str | None
    turn: int | None
    segment_id: int | None
    quote: str | None
    code_key: str | None
    code_label: str | None
    coder: str | None
    at: Any
    text: str
    layer: str = ""

    @property
    def editable(self) -> bool:
        """True for memos written on their own (segment, document, project memos)."""
        return self.kind != MemoKind.coding.value


@dataclass(frozen=True)
class Matrix:
    """Counts of coded units: codes (rows) against codes or cases (columns).

    ``counts[(row, col)]`` is the number of units (sentences or turns) where the row's
    code meets the column (the other code, in the unit or within ``window`` turns; or
    the case: a site, a role, a document, an attribute value). ``row_totals`` and
    ``col_totals`` count the units of each row and column alone, for normalisation.
    """

    row_dim: str
    col_dim: str
    unit: str
    window: int
    rows: tuple[str, ...]
    cols: tuple[str, ...]
    counts: dict[tuple[str, str], int]
    row_totals: dict[str, int]
    col_totals: dict[str, int]

    def count(self, row: str, col: str) -> int:
        """Units where ``row`` meets ``col``."""
        return self.counts.get((row, col), 0)

    def jaccard(self, row: str, col: str) -> float | None:
        """Shared units over the units of either (None when neither has any)."""
        both = self.count(row, col)
        union = self.row_totals.get(row, 0) + self.col_totals.get(col, 0) - both
        return both / union if union else None


@dataclass(frozen=True)
class QuotePin:
    """A coding pinned "til rapporten" under a theme: who pinned it and when.

    The theme chapter and the report show a theme's pinned quotes first, oldest pin first.
    """

    id: int
    coding_id: int
    theme: str
    coder: str | None
    at: Any


# -- a project read from a REFI-QDA file (evaltool.refi), stored in one transaction --------


@dataclass
class ImportedDocument:
    """A source of an imported project as a document: turns with their sentences."""

    name: str
    metadata: dict[str, Any]
    turns: list[ParsedTurn]
    sentences: list[list[Sentence]]  # per turn, offsets relative to the turn's text
    speakers: list[tuple[str, str | None, bool]]  # (name, role, is moderator)
    content_hash: str
    model: str
    speaker_attributes: dict[str, dict[str, Any]] = field(default_factory=dict)  # by name


@dataclass(frozen=True)
class ImportedCoding:
    """An accepted coding of an imported project: ``[start, end)`` in document
    ``document`` (index into the project's documents); a whole sentence when ``sentence``."""

    document: int
    start: int
    end: int
    code_key: str
    coder: str | None
    sentence: bool
    created: Any = None  # datetime or None
    memo: str = ""
    status: str = CodingStatus.accepted.value


@dataclass(frozen=True)
class ImportedMemo:
    """A memo of an imported project: on a sentence (``start`` given), a document, or the
    project (``document`` None)."""

    text: str
    coder: str
    document: int | None = None
    start: int | None = None  # document offset inside the sentence the memo is on


@dataclass
class ImportedProject:
    """Everything an imported project stores (see ``Store.import_project``)."""

    codebook: Any  # a validated CodebookSpec
    source: str  # the file it came from (the codebook's source)
    documents: list[ImportedDocument] = field(default_factory=list)
    codings: list[ImportedCoding] = field(default_factory=list)
    memos: list[ImportedMemo] = field(default_factory=list)
    coders: list[str] = field(default_factory=list)
    # codes retired in the exporting project whose codings are kept: key, label, definition,
    # include, exclude, cmo, column, parent, target_groups, themes, goals
    retired_codes: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ProjectImportResult:
    """What importing a REFI-QDA project stored and what it could not (one line each)."""

    documents: int = 0
    codes: int = 0
    codings: int = 0
    selections: int = 0
    memos: int = 0
    coders: int = 0
    not_placed: list[str] = field(default_factory=list)  # selections that could not be coded
    notes: list[str] = field(default_factory=list)  # placed, but worth saying (and warnings)


# -- dashboards, CMO chains and the report ---------------------------------------------

# A coded unit of fewer words is a fragment ("Ja.", "Både og.", "Helt klart."): an answer
# that leans on the question and carries no meaning alone, so it is never a chain's evidence.
# Three words make the shortest clause that says something ("Jeg fik lånerkort.").
MIN_EVIDENCE_WORDS = 3
# A chain query (``Store.cmo_chains``, ``Store.chain_evidence``) that runs longer is stopped
# with ``ChainsTooHeavyError``: a page that asks for chains answers within this time.
CHAIN_BUDGET_S = 20.0
# A quote shown on its own (a dashboard card, a report section) has at least this many
# characters in its coded words, and at most the second figure.
QUOTE_CHARS = (40, 400)


@dataclass(frozen=True)
class StrongQuote:
    """One of a theme's strongest quotes (``Store.strongest_quotes``; the one rule the
    dashboard and the report share)."""

    theme: str
    coding_id: int
    segment_id: int
    document_id: int
    text: str  # the coded words: the span's, else the sentence
    site: str | None
    document: str
    turn: int
    role: str | None
    code: str
    code_label: str
    cmo: str
    status: str
    confidence: float | None
    codes: int  # distinct codes on the sentence


@dataclass(frozen=True)
class ChainSupport:
    """A row of ``Store.cmo_chains`` (one chain, by code keys, in one document from one
    outcome speaker, and its count of outcome sentences) or of ``Store.chain_evidence``
    (the same chain's best instance there)."""

    context: str
    mechanism: str
    outcome: str
    document_id: int
    site: str | None
    speaker_id: int  # the outcome's speaker
    quotes: int
    # the best instance's codings (``Store.chain_evidence``; 0 in ``Store.cmo_chains``' rows)
    outcome_coding: int = 0
    context_coding: int = 0
    mechanism_coding: int = 0
    outcome_segment: int = 0
    context_segment: int = 0
    mechanism_segment: int = 0
    in_turn: int = 0  # how many of context and mechanism sit in the outcome's turn (0–2)
    decided: int = 0  # how many of the three codings a person decided (accepted)
    length: int = 0  # characters of the outcome's coded words

    @property
    def strength(self) -> tuple:
        """Sort key of its evidence, strongest first."""
        return (-self.in_turn, -self.decided, -self.length, self.outcome_coding,
                self.context_coding, self.mechanism_coding)


@dataclass(frozen=True)
class ThemeCard:
    """One theme's summary for project leads."""

    id: str
    label: str
    description: str
    goals: list[str]
    quotes: int
    sites: list[str]
    target_groups: list[str]
    cmo: dict[str, int]
    strongest: list[StrongQuote] = field(default_factory=list)


@dataclass(frozen=True)
class SiteThemeCount:
    """Quotes of a theme at a site (a site × theme cell)."""

    site: str
    theme: str
    theme_label: str
    quotes: int


@dataclass(frozen=True)
class ColumnSiteCount:
    """Quotes of a change-theory column at a site."""

    column: str | None
    site: str | None
    quotes: int


@dataclass(frozen=True)
class GoalCoverage:
    """A goal's coverage: its quotes and the share of sites that speak to it."""

    key: str
    label: str
    quotes: int
    sites: int
    coverage: float


GoalRow = GoalCoverage  # the report's name for it


@dataclass(frozen=True)
class ReportQuote:
    """A quote as the report shows it: the whole speaker turn, the coded words marked."""

    coding_id: int
    document: str
    turn: int
    speaker: str
    role: str | None
    target_groups: tuple[str, ...]
    text: str
    marks: tuple[tuple[int, int], ...]  # coded words, offsets into ``text``
    codes: tuple[str, ...]  # labels of the codes marked in the turn
    pinned: bool = False
    document_id: int = 0  # with ``turn``, where the Kodning view opens it
    coding_ids: tuple[int, ...] = ()  # every coding marked in the turn (pins, unpins)


@dataclass(frozen=True)
class Chain:
    """A context–mechanism–outcome chain: its codes' labels, its support and its evidence.

    ``evidence`` is the turn holding the outcome first (the chain's coded words in it
    marked), then the context's and the mechanism's turns when they are other turns.
    """

    site: str  # the supporting sites, for display
    context: str
    mechanism: str
    outcome: str
    quotes: int  # distinct outcome sentences
    sites: tuple[str, ...] = ()
    documents: int = 0
    keys: tuple[str, str, str] = ("", "", "")  # code keys: context, mechanism, outcome
    evidence: tuple[ReportQuote, ...] = ()


@dataclass(frozen=True)
class SiteSection:
    """One site's part of a theme chapter."""

    site: str
    quotes: int  # the dashboard's count of the theme's quotes at the site
    shown: list[ReportQuote]
    chains: list[Chain] = field(default_factory=list)  # the theme's chains seen at the site
    by_target_group: dict[str, int] = field(default_factory=dict)
    cmo: dict[str, int] = field(default_factory=dict)  # the theme's quotes here per CMO kind


@dataclass(frozen=True)
class ThemeChapter:
    """One theme: its dashboard card, its sites' sections and its CMO chains."""

    card: ThemeCard
    sections: list[SiteSection]
    chains: list[Chain]  # ranked: most sites, then documents, then quotes
    by_target_group: dict[str, int] = field(default_factory=dict)  # quotes per target group
    # what works for whom: the chains whose outcome a target group's speaker gave
    chains_by_target_group: dict[str, list[Chain]] = field(default_factory=dict)
    # the time budget (s) at which the chain queries were stopped; chains then stay empty
    chains_stopped: float | None = None

    @property
    def key(self) -> str:
        """The theme's key (T1…)."""
        return self.card.id

    @property
    def label(self) -> str:
        """The theme's name."""
        return self.card.label

    @property
    def description(self) -> str:
        """The theme's description."""
        return self.card.description

    @property
    def goals(self) -> list[str]:
        """The theme's goals."""
        return self.card.goals

    @property
    def quotes(self) -> int:
        """The theme's quotes (distinct sentences)."""
        return self.card.quotes

    @property
    def sites(self) -> list[str]:
        """Sites with quotes of the theme."""
        return self.card.sites

    @property
    def target_groups(self) -> list[str]:
        """Target groups of the theme's quotes."""
        return self.card.target_groups

    @property
    def cmo(self) -> dict[str, int]:
        """The theme's quotes per CMO kind."""
        return self.card.cmo


@dataclass(frozen=True)
class Report:
    """Everything the report document says."""

    title: str
    made: Any  # datetime.date
    statuses: tuple[str, ...]
    site: str | None
    chapters: list[ThemeChapter]
    goals: list[GoalCoverage]
    documents: list[tuple[str, str | None, str | None, int, int]]  # name, site, date, turns, sentences
    coders: list[str]
    codebook: tuple[str, str, int]  # key, title, version
    pseudonymized: bool = False
    all_sites: list[str] = field(default_factory=list)
    # coders assigned the same documents: (coder A, coder B, units, agreement, kappa, alpha)
    reliability: list[tuple[str, str, int, float | None, float | None, float | None]] = \
        field(default_factory=list)
    target_group: str | None = None  # only the quotes of this target group
