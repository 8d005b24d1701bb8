"""Rule layer: the codebook's patterns through spaCy's Matcher on stored lemmas.

Segments are not re-parsed: a ``Doc`` is rebuilt from the stored tokens (words,
lower-cased lemmas, POS), which is fast and gives the same lemmas the segmenter
produced. The explanation of a rule suggestion is the words it matched.

Most segments match no pattern, and spaCy's Matcher tests every REGEX predicate
on every token (Python calls), so a cheap pre-filter comes first: from each
pattern a literal is derived that any match must contain (``"udkant*"`` →
``udkant``), and only the codes whose literal occurs in the segment's lower-cased
words or lemmas are run through their own Matcher. Patterns without a usable
literal keep their code always checked. The filter only skips work: results are
those of the full Matcher.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import spacy
from spacy.errors import MatchPatternError
from spacy.matcher import Matcher
from spacy.tokens import Doc

from evaltool.domain import CodingUnit
from evaltool.errors import CodebookError
from evaltool.saferegex import MAX_TOKEN_CHARS

if TYPE_CHECKING:  # codebook.py checks patterns through this module, not the reverse
    from evaltool.codebook import Code

MAX_SHORTHAND_PATTERNS = 256  # Matcher patterns one shorthand string may expand to (2^8)

_UPOS = {"ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON",
         "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X"}


def shorthand_to_patterns(pattern: str) -> list[list[dict[str, Any]]]:
    """Expand the string shorthand into spaCy Matcher token patterns.

    Space-separated tokens, matched in order:

    - ``word``: the lemma *or* the lower-cased form is ``word`` (a small
      lemmatizer's miss on an inflected form is still caught by the form itself);
    - ``word*``: a lower-cased form starting with ``word`` (stems, compounds);
    - ``*word``: a lemma or form ending with ``word`` (compound heads: ``*møde``
      matches ``kaffemøde`` and, through its lemma, ``kaffemøderne``);
    - ``*word*``: a lemma or form containing ``word``;
    - ``_``: any single token.

    A token with two readings doubles the patterns (the Matcher has no OR across
    attributes), so ``kaffe *møde`` becomes four patterns.
    """
    import itertools

    options = _shorthand_options(pattern)
    size = math.prod(len(o) for o in options)
    if size > MAX_SHORTHAND_PATTERNS:
        raise ValueError(f"shorthand expands to {size:,} patterns (at most {MAX_SHORTHAND_PATTERNS})")
    return [list(combo) for combo in itertools.product(*options)]


def shorthand_size(pattern: str) -> int:
    """How many Matcher patterns a shorthand string expands to (without expanding it)."""
    return math.prod(len(o) for o in _shorthand_options(pattern))


def _shorthand_options(pattern: str) -> list[list[dict[str, Any]]]:
    """Each shorthand token's readings (one or two token dicts)."""
    options: list[list[dict[str, Any]]] = []
    for raw in pattern.lower().split():
        if raw == "_":
            options.append([{}])
        elif raw.startswith("*") and raw.endswith("*") and len(raw) > 2:
            rx = re.escape(raw[1:-1])
            options.append([{"LEMMA": {"REGEX": rx}}, {"LOWER": {"REGEX": rx}}])
        elif raw.endswith("*") and len(raw) > 1:
            options.append([{"LOWER": {"REGEX": "^" + re.escape(raw[:-1])}}])
        elif raw.startswith("*") and len(raw) > 1:
            rx = re.escape(raw[1:]) + "$"
            options.append([{"LEMMA": {"REGEX": rx}}, {"LOWER": {"REGEX": rx}}])
        else:
            options.append([{"LEMMA": raw}, {"LOWER": raw}])
    return options


def matcher_patterns(code: Code) -> list[list[dict[str, Any]]]:
    """The code's patterns as Matcher token-pattern lists."""
    out: list[list[dict[str, Any]]] = []
    for p in code.patterns:
        out.extend(shorthand_to_patterns(p) if isinstance(p, str) else [list(p)])
    return out


def unit_doc(vocab, text: str, tokens: list) -> Doc:
    """Rebuild a Doc from a segment's stored tokens ``[start, end, lemma, pos]``.

    Words and lemmas are cut to ``MAX_TOKEN_CHARS``: no word is that long, and a
    codebook's regular expressions then never run on more (see ``saferegex``). A
    token without a known part of speech gets ``X``, so POS patterns never fail.
    """
    words = [text[a:b][:MAX_TOKEN_CHARS] for a, b, _, _ in tokens]
    spaces = [i + 1 < len(tokens) and tokens[i + 1][0] > tokens[i][1] for i in range(len(tokens))]
    lemmas = [lemma[:MAX_TOKEN_CHARS] for _, _, lemma, _ in tokens]
    pos = [p if p in _UPOS else "X" for _, _, _, p in tokens]
    return Doc(vocab, words=words, spaces=spaces, lemmas=lemmas, pos=pos)


_META = frozenset(".^$*+?{}[]|()\\")
SEEN_MAX = 200_000  # distinct word forms remembered by the pre-filter
_LITERAL_KEYS = ("LOWER", "LEMMA", "ORTH", "TEXT")  # attributes whose value is the token's text


def _quantifier(rx: str, i: int) -> tuple[str, int]:
    """The quantifier at ``rx[i]`` ('' if none) and the index after it."""
    if i < len(rx) and rx[i] in "?*+":
        q, i = rx[i], i + 1
    elif i < len(rx) and rx[i] == "{":
        end = rx.find("}", i)
        q, i = "{", (end + 1 if end >= 0 else len(rx))
    else:
        return "", i
    if i < len(rx) and rx[i] in "?+":  # lazy / possessive suffix
        i += 1
    return q, i


def _pure_literal(rx: str) -> str | None:
    """``rx`` as a plain string when it has no regex syntax but escapes, else None."""
    out, i = [], 0
    while i < len(rx):
        ch = rx[i]
        if ch == "\\" and i + 1 < len(rx) and not rx[i + 1].isalnum():
            out.append(rx[i + 1])
            i += 2
        elif ch in _META:
            return None
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _group_end(rx: str, i: int) -> int:
    """Index of the ``)`` closing the group opened at ``rx[i]`` (-1 if none)."""
    depth = 0
    while i < len(rx):
        if rx[i] == "\\":
            i += 2
            continue
        if rx[i] == "(":
            depth += 1
        elif rx[i] == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def regex_literals(rx: str) -> frozenset[str] | None:
    """Strings one of which every match of ``rx`` contains (None when none is known)."""
    candidates: list[frozenset[str]] = []
    run: list[str] = []

    def close() -> None:
        if run:
            candidates.append(frozenset(["".join(run)]))
            run.clear()

    i = 0
    while i < len(rx):
        ch = rx[i]
        if ch == "|":
            return None  # top-level alternation: no single requirement
        if ch == "(":
            end = _group_end(rx, i)
            if end < 0:
                return None
            body = rx[i + 1 : end]
            body = body[2:] if body.startswith("?:") else body
            q, i = _quantifier(rx, end + 1)
            close()
            alts = None if body.startswith("?") else [_pure_literal(a) for a in body.split("|")]
            if q in ("", "+") and alts and all(alts):
                candidates.append(frozenset(alts))  # type: ignore[arg-type]
            continue
        if ch == "[":
            end = rx.find("]", i + 2)
            _, i = _quantifier(rx, (end + 1) if end >= 0 else len(rx))
            close()
            continue
        if ch == "\\" and i + 1 < len(rx) and not rx[i + 1].isalnum():
            atom, nxt = rx[i + 1], i + 2
        elif ch == "\\" or ch in _META:  # classes, anchors, '.', stray quantifiers
            close()
            _, i = _quantifier(rx, i + 2 if ch == "\\" else i + 1)
            continue
        else:
            atom, nxt = ch, i + 1
        q, i = _quantifier(rx, nxt)
        if q in ("?", "*", "{"):
            close()
        else:
            run.append(atom)
            if q == "+":
                close()
    close()
    if not candidates:
        return None
    return max(candidates, key=lambda alts: min(len(a) for a in alts))


def token_literals(spec: dict) -> frozenset[str] | None:
    """Lower-cased strings one of which a token matching ``spec`` contains in its
    lower-cased text or lemma (None for optional tokens or when none is known)."""
    if spec.get("OP", "1") not in ("1", "+"):
        return None
    best: frozenset[str] | None = None
    for key in _LITERAL_KEYS:
        value = spec.get(key)
        found: frozenset[str] | None = None
        if isinstance(value, str):
            found = frozenset([value.lower()])
        elif isinstance(value, dict) and isinstance(value.get("IN"), list):
            items = value["IN"]
            found = frozenset(v.lower() for v in items) if all(isinstance(v, str) for v in items) else None
        elif isinstance(value, dict) and isinstance(value.get("REGEX"), str):
            lits = regex_literals(value["REGEX"])
            found = frozenset(v.lower() for v in lits) if lits else None
        if found and all(found) and (best is None or min(map(len, found)) > min(map(len, best))):
            best = found
    return best


def pattern_literals(pattern: Sequence[dict]) -> tuple[frozenset[str], ...] | None:
    """Literal requirements of a Matcher pattern, all of which a match meets (most
    selective first; None when no token has one)."""
    found = [lits for lits in map(token_literals, pattern) if lits]
    found.sort(key=lambda alts: -min(len(a) for a in alts))
    return tuple(found) or None


class RuleCoder:
    """Matches every code's patterns against segments."""

    def __init__(self, codes: Iterable[Code], source: str = "<codebook>") -> None:
        self.vocab = spacy.blank("da").vocab
        self.matcher = Matcher(self.vocab, validate=True)
        self.keys: list[str] = []
        self._by_code: dict[str, Matcher] = {}
        self._always: list[str] = []  # codes with a pattern the pre-filter cannot judge
        self._literal_ids: dict[str, int] = {}
        # literal id of a pattern's most selective requirement → (code, all requirements)
        self._by_literal: dict[int, list[tuple[str, tuple[frozenset[int], ...]]]] = {}
        self._seen: dict[str, frozenset[int]] = {}  # token value → literals it contains
        for i, code in enumerate(codes):
            patterns = matcher_patterns(code)
            if not patterns:
                continue
            try:
                self.matcher.add(code.id, patterns)
                self._by_code[code.id] = Matcher(self.vocab)
                self._by_code[code.id].add(code.id, patterns)
            except (MatchPatternError, ValueError, TypeError, KeyError, re.error,
                    UnicodeError) as exc:
                first = str(exc).strip().splitlines()[0][:200]
                raise CodebookError(source, None, f"codes[{i}] ({code.id}).patterns",
                                    f"invalid Matcher pattern: {first}") from None
            self.keys.append(code.id)
            literals = [pattern_literals(p) for p in patterns]
            if not all(literals):
                self._always.append(code.id)
                continue
            for requirements in literals:
                ids = tuple(frozenset(self._literal_ids.setdefault(lit, len(self._literal_ids))
                                      for lit in alts) for alts in requirements)
                for lit_id in ids[0]:
                    self._by_literal.setdefault(lit_id, []).append((code.id, ids))

    def _contained(self, value: str) -> frozenset[int]:
        """Ids of the literals inside one lower-cased token value (cached: words repeat)."""
        found = self._seen.get(value)
        if found is None:
            found = frozenset(i for lit, i in self._literal_ids.items() if lit in value)
            if len(self._seen) >= SEEN_MAX:
                self._seen.clear()
            self._seen[value] = found
        return found

    def candidates(self, words: Iterable[str], lemmas: Iterable[str]) -> list[str]:
        """Codes that may match a segment with these words and lemmas (pre-filter)."""
        present: set[int] = set()
        for value in (*words, *lemmas):
            present |= self._contained(value.lower())
        found = set(self._always)
        for lit_id in present:
            for key, requirements in self._by_literal.get(lit_id, ()):
                if key not in found and all(not alts.isdisjoint(present) for alts in requirements):
                    found.add(key)
        return [k for k in self.keys if k in found]

    def _match(self, doc: Doc, keys: list[str]) -> dict[str, list[str]]:
        """Code id → matched words, running only the Matchers of ``keys``."""
        out: dict[str, list[str]] = {}
        for key in keys:
            for _, start, end in self._by_code[key](doc):
                words = doc[start:end].text
                found = out.setdefault(key, [])
                if words not in found:
                    found.append(words)
        return out

    def match_doc(self, doc: Doc) -> dict[str, list[str]]:
        """Code id → matched words (each match once, in text order)."""
        return self._match(doc, self.candidates((t.text for t in doc), (t.lemma_ for t in doc)))

    def match(self, unit: CodingUnit) -> dict[str, list[str]]:
        """Code id → matched words for one segment."""
        if not unit.tokens:
            return {}
        keys = self.candidates((unit.text[a:b] for a, b, _, _ in unit.tokens),
                               (lemma for _, _, lemma, _ in unit.tokens))
        if not keys:  # the common case: no Doc to build
            return {}
        return self._match(unit_doc(self.vocab, unit.text, unit.tokens), keys)

    def match_text(self, text: str, nlp) -> dict[str, list[str]]:
        """Match a raw text (for examples and tests), lemmatised by ``nlp``."""
        doc = nlp(text)
        tokens = [[t.idx, t.idx + len(t.text), (t.lemma_ or t.text).lower(), t.pos_]
                  for t in doc if not t.is_space]
        return self.match_doc(unit_doc(self.vocab, text, tokens))
