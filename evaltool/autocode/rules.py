"""Rule layer: the codebook's patterns through spaCy's Matcher on stored lemmas.

Segments are not re-parsed: a ``Doc`` is rebuilt from the stored tokens (words,
lower-cased lemmas, POS), which is fast and gives the same lemmas the segmenter
produced. The explanation of a rule suggestion is the words it matched.
"""

from __future__ import annotations

from collections.abc import Iterable

import spacy
from spacy.errors import MatchPatternError
from spacy.matcher import Matcher
from spacy.tokens import Doc

from evaltool.codebook import Code, matcher_patterns
from evaltool.domain import CodingUnit
from evaltool.errors import CodebookError

_UPOS = {"ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON",
         "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X"}


def unit_doc(vocab, text: str, tokens: list) -> Doc:
    """Rebuild a Doc from a segment's stored tokens ``[start, end, lemma, pos]``."""
    words = [text[a:b] for a, b, _, _ in tokens]
    spaces = [i + 1 < len(tokens) and tokens[i + 1][0] > tokens[i][1] for i in range(len(tokens))]
    lemmas = [lemma for _, _, lemma, _ in tokens]
    pos = [p for _, _, _, p in tokens]
    if pos and all(p in _UPOS for p in pos):
        return Doc(vocab, words=words, spaces=spaces, lemmas=lemmas, pos=pos)
    return Doc(vocab, words=words, spaces=spaces, lemmas=lemmas)


class RuleCoder:
    """Matches every code's patterns against segments."""

    def __init__(self, codes: Iterable[Code], source: str = "<codebook>") -> None:
        self.vocab = spacy.blank("da").vocab
        self.matcher = Matcher(self.vocab, validate=True)
        self.keys: list[str] = []
        for i, code in enumerate(codes):
            patterns = matcher_patterns(code)
            if not patterns:
                continue
            try:
                self.matcher.add(code.id, patterns)
            except (MatchPatternError, ValueError) as exc:
                first = str(exc).strip().splitlines()[0][:200]
                raise CodebookError(source, None, f"codes[{i}] ({code.id}).patterns",
                                    f"invalid Matcher pattern: {first}") from None
            self.keys.append(code.id)

    def match_doc(self, doc: Doc) -> dict[str, list[str]]:
        """Code id → matched words (each match once, in text order)."""
        out: dict[str, list[str]] = {}
        for match_id, start, end in self.matcher(doc):
            words = doc[start:end].text
            found = out.setdefault(self.vocab.strings[match_id], [])
            if words not in found:
                found.append(words)
        return out

    def match(self, unit: CodingUnit) -> dict[str, list[str]]:
        """Code id → matched words for one segment."""
        if not unit.tokens:
            return {}
        return self.match_doc(unit_doc(self.vocab, unit.text, unit.tokens))

    def match_text(self, text: str, nlp) -> dict[str, list[str]]:
        """Match a raw text (for examples and tests), lemmatised by ``nlp``."""
        doc = nlp(text)
        tokens = [[t.idx, t.idx + len(t.text), (t.lemma_ or t.text).lower(), t.pos_]
                  for t in doc if not t.is_space]
        return self.match_doc(unit_doc(self.vocab, text, tokens))
