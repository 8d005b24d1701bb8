"""Search queries: their syntax, and whether (and where) a sentence matches one.

The syntax (README, "Search"): words separated by spaces must all occur in the
sentence; ``OR`` between two words or phrases accepts either; ``"two words"`` is
a phrase (consecutive words); ``word*`` matches words beginning with ``word``;
``-word`` excludes sentences that contain it. Case does not matter.

Words are runs of letters and digits (``[^\\W_]+``), the way SQLite's FTS5
``unicode61`` tokenizer cuts text, so a hyphenated word is a phrase of its parts.

In lemma mode a query word matches a word of the text when the text word's lemma
(stored at import) is the query word, or has the same Danish Snowball stem: so
``samskabe`` finds "samskabte" (lemma *samskabe*) and "samskabelsen" (lemma
*samskabelse*, stem *samskab*). The store narrows candidates with an index; this
module decides, identically on every backend, which candidates match.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from evaltool.errors import SearchSyntaxError

WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Term:
    """A word or a phrase of the query; ``prefix``: its last word is a prefix."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class Query:
    """A parsed query: every clause (a choice of terms) must match, no excluded term may."""

    clauses: tuple[tuple[Term, ...], ...]
    excluded: tuple[Term, ...] = ()


class Unit(NamedTuple):
    """A word of a sentence: offsets relative to the sentence, lower-case form, lemma
    (a tuple: sentences are read by the thousand)."""

    start: int
    end: int
    form: str
    lemma: str


@lru_cache(maxsize=1)
def _stemmer():
    """The Danish Snowball stemmer, loaded on first use (only lemma searches need it)."""
    import snowballstemmer

    return snowballstemmer.stemmer("danish")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Danish Snowball stem of a lower-case word (a prefix of the word)."""
    stemmed = _stemmer().stemWord(word)
    return stemmed if word.startswith(stemmed) else word


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).lower()


# -- parsing -------------------------------------------------------------------

_TOKEN = re.compile(r'\s*(?:(?P<quote>"[^"]*"?)|(?P<bare>[^\s"]+))')


def parse(text: str) -> Query:
    """Parse a query; :class:`SearchSyntaxError` names the problem and its place."""
    clauses: list[list[Term]] = []
    excluded: list[Term] = []
    pending_or = False
    pos = 0
    text = text.rstrip()
    if not text.strip():
        raise SearchSyntaxError("empty", 0, "")
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:  # only whitespace is left
            break
        pos = m.end()
        start = m.start("quote") if m.group("quote") else m.start("bare")
        raw = m.group("quote") or m.group("bare")
        if raw == "OR":
            if pending_or or not clauses:
                raise SearchSyntaxError("or_without_term", start, raw)
            pending_or = True
            continue
        negated = raw.startswith("-") and len(raw) > 1
        term = _term(raw[1:] if negated else raw, start + negated)
        if negated:
            if pending_or:
                raise SearchSyntaxError("or_without_term", start, raw)
            excluded.append(term)
        elif pending_or:
            clauses[-1].append(term)
            pending_or = False
        else:
            clauses.append([term])
    if pending_or:
        raise SearchSyntaxError("or_without_term", len(text), "OR")
    if not clauses:
        raise SearchSyntaxError("only_excluded", 0, "")
    return Query(tuple(tuple(c) for c in clauses), tuple(excluded))


def _term(raw: str, at: int) -> Term:
    """One word or phrase of the query."""
    if raw.startswith('"'):
        if len(raw) < 2 or not raw.endswith('"'):
            raise SearchSyntaxError("unclosed_quote", at, raw)
        body, prefix = raw[1:-1], False
        if body.endswith("*"):
            body, prefix = body[:-1], True
    else:
        body, prefix = raw, raw.endswith("*")
        if prefix:
            body = body[:-1]
    if "*" in body:
        raise SearchSyntaxError("misplaced_star", at + raw.index("*"), raw)
    words = tuple(WORD.findall(_fold(body)))
    if not words:
        raise SearchSyntaxError("no_word", at, raw)
    leftover = WORD.sub("", body)
    bad = [c for c in leftover if not (c.isspace() or c in "-'’.,")]
    if bad:
        raise SearchSyntaxError("bad_character", at + body.index(bad[0]) + 1, bad[0])
    return Term(words, prefix)


# -- matching ------------------------------------------------------------------


def units(text: str, tokens: Sequence[Sequence]) -> list[Unit]:
    """The words of a sentence from its stored tokens ``[start, end, lemma, pos]``.

    A token with several letter runs ("co-creation") gives one word per run, paired
    with the runs of its lemma when they are as many, else with themselves.
    """
    out: list[Unit] = []
    for tok in tokens:
        start, end, lemma = tok[0], tok[1], tok[2]
        form = text[start:end].lower()  # stored text is NFC already
        if form.isalnum() and lemma.isalnum():  # the common case: one word, no regex
            out.append(Unit(start, end, form, lemma))
            continue
        pieces = list(WORD.finditer(form))
        if not pieces:
            continue
        lemmas = WORD.findall(_fold(str(lemma)))
        if len(lemmas) != len(pieces):
            lemmas = [p.group() for p in pieces]
        for piece, lem in zip(pieces, lemmas, strict=True):
            out.append(Unit(start + piece.start(), start + piece.end(), piece.group(), lem))
    return out


def _word_matches(word: str, last_prefix: bool, unit: Unit, lemma: bool) -> bool:
    if last_prefix:
        return unit.form.startswith(word) or (lemma and unit.lemma.startswith(word))
    if unit.form == word:
        return True
    return lemma and (unit.lemma == word or stem(unit.lemma) == stem(word))


def _find(term: Term, words: list[Unit], lemma: bool) -> tuple[int, int] | None:
    """Offsets (in the sentence) of the term's first occurrence, or None."""
    n = len(term.words)
    for i in range(len(words) - n + 1):
        if all(_word_matches(w, term.prefix and j == n - 1, words[i + j], lemma)
               for j, w in enumerate(term.words)):
            return words[i].start, words[i + n - 1].end
    return None


def locate(query: Query, text: str, tokens: Sequence[Sequence], lemma: bool) -> tuple[int, int] | None:
    """Where the query matches a sentence first (offsets into ``text``), or None."""
    words = units(text, tokens)
    if any(_find(t, words, lemma) for t in query.excluded):
        return None
    found: list[tuple[int, int]] = []
    for clause in query.clauses:
        spans = [s for s in (_find(t, words, lemma) for t in clause) if s]
        if not spans:
            return None
        found.append(min(spans))
    return min(found)
