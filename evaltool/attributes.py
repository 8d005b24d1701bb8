"""Attributes of documents and speakers (cases): checking keys and values, and filtering by them.

A document's attributes are its front-matter keys (site, date, target groups, any
other key); a speaker's are free keys (role, target group, gender, age band, …).
Keys are 1-40 letters, digits, ``_`` or ``-`` starting with a letter; a value is a
short text, or a list of short texts for the target-group keys
(:data:`~evaltool.domain.LIST_KEYS`, where a comma in a typed value separates the
items). A quote's target group comes from its speaker when the speaker has one,
else from its document (:func:`~evaltool.domain.quote_target_groups`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from evaltool.domain import (
    DOCUMENT_COLUMNS,
    LIST_KEYS,
    SPEAKER_COLUMNS,
    DocumentInfo,
    SpeakerInfo,
    attribute_values,
    quote_target_groups,
)
from evaltool.errors import AttributeInputError

KEY_RE = re.compile(r"[^\W\d_][\w-]{0,39}")
MAX_VALUE = 200
MAX_ITEMS = 20
LEVELS = ("document", "speaker")


def check_key(key: str) -> str:
    """The key, stripped and NFC; :class:`AttributeInputError` if it is not a sane name."""
    key = unicodedata.normalize("NFC", str(key).strip())
    if not KEY_RE.fullmatch(key):
        raise AttributeInputError("bad_key", key)
    return key


def _text(key: str, value: Any) -> str:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise AttributeInputError("bad_value", key)
    text = unicodedata.normalize("NFC", str(value).strip())
    if not text:
        raise AttributeInputError("empty_value", key)
    if len(text) > MAX_VALUE:
        raise AttributeInputError("long_value", key)
    if not text.isprintable():
        raise AttributeInputError("control", key)
    return text


def check_value(key: str, value: Any) -> str | list[str]:
    """A value as stored: a text, or for a list key a list of texts (a typed text is split
    at commas). :class:`AttributeInputError` for an empty, long or multi-line value."""
    if key in LIST_KEYS:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            items = [items]
        out: list[str] = []
        for item in items:
            if isinstance(item, str) and not item.strip():
                continue
            text = _text(key, item)
            if text not in out:
                out.append(text)
        if not out:
            raise AttributeInputError("empty_value", key)
        if len(out) > MAX_ITEMS:
            raise AttributeInputError("many_values", key)
        return out
    return _text(key, value)


def check(values: dict[str, Any], unset: Iterable[str] = ()) -> tuple[dict[str, Any], list[str]]:
    """Checked (values to set, keys to unset); the first bad one raises."""
    checked = {}
    for key, value in values.items():
        key = check_key(key)
        checked[key] = check_value(key, value)
    return checked, [check_key(k) for k in unset]


def parse_assignment(text: str) -> tuple[str, str]:
    """``KEY=VALUE`` as (key, value); the value is checked by :func:`check_value` later."""
    key, equals, value = text.partition("=")
    if not equals:
        raise AttributeInputError("no_equals", key)
    return key.strip(), value


def display(value: Any) -> str:
    """A value as one line of text (list items joined with ', ')."""
    return ", ".join(attribute_values(value))


def is_column(level: str, key: str) -> bool:
    """True for an attribute that is also a column (document site/date/title, speaker role)."""
    return key in (DOCUMENT_COLUMNS if level == "document" else SPEAKER_COLUMNS)


# -- filtering by attributes -------------------------------------------------------


@dataclass(frozen=True)
class AttributeFilter:
    """Quotes whose document (``level='document'``) or speaker has ``key`` = ``value``
    (for a list value: ``value`` among its items)."""

    level: str
    key: str
    value: str

    def matches(self, attributes: dict[str, Any]) -> bool:
        """True when the attributes hold the value under the key."""
        return self.value in attribute_values(attributes.get(self.key))


def parse_filter(text: str) -> AttributeFilter:
    """``KEY=VALUE`` (a document attribute) or ``speaker:KEY=VALUE`` as a filter."""
    key, value = parse_assignment(text)
    level = "document"
    if key.startswith("speaker:"):
        level, key = "speaker", key.removeprefix("speaker:")
    key = check_key(key)
    value = value.strip()
    if not value:
        raise AttributeInputError("empty_value", key)
    return AttributeFilter(level, key, value)


@dataclass(frozen=True)
class Scope:
    """Which quotes a filter leaves: those of ``documents`` (None: all) spoken by
    ``speakers`` (ids; None: every speaker of those documents)."""

    documents: tuple[int, ...] | None = None
    speakers: tuple[int, ...] | None = None
    speaker_names: frozenset[tuple[int, str]] | None = None  # (document id, name) of speakers

    @property
    def everything(self) -> bool:
        """True when nothing is filtered out."""
        return self.documents is None and self.speakers is None

    def allows(self, document_id: int, speaker: str | None = None) -> bool:
        """True for a quote of this document (and speaker, by name) inside the scope."""
        if self.documents is not None and document_id not in self.documents:
            return False
        return self.speaker_names is None or (document_id, speaker or "") in self.speaker_names


def scope_of(documents: Sequence[DocumentInfo], speakers: Sequence[SpeakerInfo], *,
             site: str | None = None, target_group: str | None = None,
             filters: Sequence[AttributeFilter] = ()) -> Scope:
    """The quotes left by a site, a target group (by the quote rule) and attribute filters."""
    doc_filters = [f for f in filters if f.level == "document"]
    speaker_filters = [f for f in filters if f.level != "document"]
    if not site and not target_group and not filters:
        return Scope()
    docs = {d.id: d for d in documents
            if (not site or d.site == site) and all(f.matches(d.attributes) for f in doc_filters)}
    if not target_group and not speaker_filters:
        return Scope(tuple(sorted(docs)))
    mine = [s for s in speakers if s.document_id in docs
            and all(f.matches(s.attributes) for f in speaker_filters)
            and (not target_group or target_group in quote_target_groups(
                s.attributes, docs[s.document_id].attributes))]
    doc_ids = tuple(sorted({s.document_id for s in mine}))
    if len(mine) == sum(1 for s in speakers if s.document_id in doc_ids):
        return Scope(doc_ids)  # every speaker of those documents: no speaker filter
    return Scope(doc_ids, tuple(sorted(s.id for s in mine)),
                 frozenset((s.document_id, s.name) for s in mine))


def scope(store, *, site: str | None = None, target_group: str | None = None,
          filters: Sequence[AttributeFilter] = ()) -> Scope:
    """:func:`scope_of` with the store's documents and speakers."""
    if not site and not target_group and not filters:
        return Scope()
    speakers = store.speaker_facets() if target_group or any(
        f.level != "document" for f in filters) else []
    return scope_of(store.document_facets(), speakers, site=site, target_group=target_group,
                    filters=filters)


def filter_choices(documents: Sequence[DocumentInfo], speakers: Sequence[SpeakerInfo]
                   ) -> dict[tuple[str, str], list[str]]:
    """(level, key) → the values present, for filter widgets."""
    out: dict[tuple[str, str], set[str]] = {}
    for level, items in (("document", documents), ("speaker", speakers)):
        for item in items:
            for key, value in item.attributes.items():
                out.setdefault((level, key), set()).update(attribute_values(value))
    return {k: sorted(v) for k, v in sorted(out.items()) if v}


def target_group_choices(documents: Sequence[DocumentInfo], speakers: Sequence[SpeakerInfo]
                         ) -> list[str]:
    """Every target group a quote can have: the documents' and the speakers'."""
    groups = {g for d in documents for g in d.target_groups}
    return sorted(groups | {g for s in speakers for g in s.target_groups})
