"""The coder: rule and model suggestions combined into one per (segment, code).

- rules (:mod:`.rules`): codebook patterns on lemmas; explanation = matched words;
- model (:mod:`.model`): multi-label classifier trained on accepted codings plus
  the codebook's examples; explanation = the terms that drove it.

:func:`suggest` combines them: a rule hit counts as evidence with the code's rule
precision (estimated on accepted codings; a prior when there are none), and the
combined confidence is ``1 - (1 - p_model) * (1 - p_rule)``. Moderator segments and
segments shorter than :data:`MIN_TOKENS` words get no suggestions (they are
uncoded by the guideline).
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from evaltool.autocode.model import Example, Params, SuggestionModel, train
from evaltool.autocode.rules import RuleCoder
from evaltool.codebook import CodebookSpec
from evaltool.domain import CodingUnit, Suggestion

log = logging.getLogger(__name__)

MIN_TOKENS = 3
RULE_PRIOR = 0.5  # precision assumed for a rule before any accepted codings exist
# Confidence from which a suggestion is stored. Suggestions are for review, so recall
# matters more than precision. The evaluation does not use this default: it chooses a
# threshold per fold on the training sites alone (0.2-0.35 on the demo corpus, README).
THRESHOLD = 0.3


@dataclass
class Coder:
    """A trained rule + model coder for one codebook version."""

    spec: CodebookSpec
    rules: RuleCoder
    model: SuggestionModel | None
    rule_precision: dict[str, float] = field(default_factory=dict)
    threshold: float = THRESHOLD
    version: str = "rules-only"

    @property
    def labels(self) -> list[str]:
        """Code ids in codebook order."""
        return [c.id for c in self.spec.codes]

    @functools.cached_property
    def known_names(self) -> frozenset[str]:
        """Proper nouns the codebook itself uses (MindLab, Røde Kors, …): kept as words."""
        return codebook_vocabulary(self.spec)


def codebook_vocabulary(spec: CodebookSpec) -> frozenset[str]:
    """Lower-cased words of the codebook's labels, definitions, examples and patterns."""
    import re

    texts = [t for c in spec.codes for t in (c.label, c.definition, c.include, c.exclude,
                                             *c.examples, *(p for p in c.patterns
                                                            if isinstance(p, str)))]
    return frozenset(w.lower() for t in texts for w in re.findall(r"\w+", t))


NAME = "navn"  # stands in for proper nouns in the model's features


def masked(text: str, tokens: list, keep: frozenset[str] = frozenset()) -> tuple[str, str]:
    """(lemmas, text) of a segment with proper nouns replaced by :data:`NAME`.

    Names of people and places say nothing about what a passage is evidence of in
    another transcript, and an explanation must never repeat them. Names the
    codebook uses itself (``keep``: organisations such as MindLab) stay.
    """
    lemmas, pieces, last = [], [], 0
    for start, end, lemma, pos in tokens:
        if pos == "PROPN" and text[start:end].lower() not in keep:
            lemmas.append(NAME)
            pieces.append(text[last:start] + NAME)
        else:
            lemmas.append(lemma)
            pieces.append(text[last:end])
        last = end
    return " ".join(lemmas), "".join(pieces) + text[last:]


def examples_of(units: Sequence[CodingUnit], keep: frozenset[str] = frozenset()) -> list[Example]:
    """The model's view of segments: masked lemmas and text, and (among ``units``) the
    masked lemmas of the rest of their turn, of the sentences just before and after, and
    of the previous turn in the same document (often the question the turn answers)."""
    views = [masked(u.text, u.tokens, keep) if u.tokens else (u.lemmas, u.text) for u in units]
    turns: dict[int, list[str]] = {}
    first: dict[tuple[int, int], int] = {}  # (document, turn number) → turn id
    place = []  # each unit's position among its turn's units
    for unit, (lemmas, _) in zip(units, views, strict=True):
        place.append(len(turns.setdefault(unit.turn_id, [])))
        turns[unit.turn_id].append(lemmas)
        first.setdefault((unit.document_id, unit.turn), unit.turn_id)
    out = []
    for unit, (lemmas, text), i in zip(units, views, place, strict=True):
        own = turns[unit.turn_id]
        near = " ".join(own[max(0, i - 1):i] + own[i + 1:i + 2])
        before = first.get((unit.document_id, unit.turn - 1))
        previous = " ".join(turns[before]) if before is not None else ""
        out.append(Example(lemmas, text, " ".join(own), unit.role or "", unit.is_moderator,
                           previous, near))
    return out


def is_codable(unit: CodingUnit) -> bool:
    """Whether a segment gets suggestions at all."""
    words = sum(1 for t in unit.tokens if t[3] != "PUNCT") if unit.tokens else 0
    return not unit.is_moderator and words >= MIN_TOKENS


def codebook_examples(spec: CodebookSpec, nlp, *, definitions: bool = False
                      ) -> tuple[list[Example], list[set[str]]]:
    """The codebook's example sentences as labelled training examples (with
    ``definitions``: also each code's label, definition and include text, one example)."""
    keep = codebook_vocabulary(spec)
    items = [(ex, code.id) for code in spec.codes for ex in code.examples]
    if definitions:
        items += [(" ".join(t for t in (code.label + ".", code.definition, code.include) if t),
                   code.id) for code in spec.codes]
    docs = nlp.pipe([text for text, _ in items], batch_size=64)
    out, targets = [], []
    for (text, code_id), doc in zip(items, docs, strict=True):
        tokens = [[t.idx, t.idx + len(t.text), (t.lemma_ or t.text).lower(), t.pos_]
                  for t in doc if not t.is_space]
        lemmas, shown = masked(text, tokens, keep)
        out.append(Example(lemmas, shown, lemmas, "", False))
        targets.append({code_id})
    return out, targets


def seed_units(seed: list[dict], nlp) -> tuple[list[CodingUnit], dict[int, set[str]]]:
    """Seed records (coded turns from earlier material) as training units.

    Sentences are lemmatised by ``nlp`` like imported text; they get negative ids
    so they never clash with stored segments.
    """
    units: list[CodingUnit] = []
    labels: dict[int, set[str]] = {}
    texts = [text for rec in seed for text, _ in rec["sentences"]]
    docs = iter(nlp.pipe(texts, batch_size=128))
    next_id = -1
    doc_ids: dict[str, int] = {}  # source document → negative id (turns follow each other)
    for turn_no, rec in enumerate(seed, start=1):
        doc_id = doc_ids.setdefault(rec.get("document") or "", -(len(doc_ids) + 1))
        turn_units = []
        for text, codes in rec["sentences"]:
            doc = next(docs)
            tokens = [[t.idx, t.idx + len(t.text), (t.lemma_ or t.text).lower(), t.pos_]
                      for t in doc if not t.is_space]
            lemmas = " ".join(tok[2] for tok in tokens)
            turn_units.append((next_id, text, lemmas, tokens))
            if codes:
                labels[next_id] = set(codes)
            next_id -= 1
        context = " ".join(u[2] for u in turn_units)
        units.extend(CodingUnit(seg_id, doc_id, None, -turn_no, turn_no, k, "", rec["role"] or None,
                                rec["moderator"], text, lemmas, tokens, context)
                     for k, (seg_id, text, lemmas, tokens) in enumerate(turn_units))
    return units, labels


def estimate_rule_precision(rules: RuleCoder, units: Sequence[CodingUnit],
                            labels: dict[int, set[str]],
                            unknown: dict[int, set[str]] | None = None) -> dict[str, float]:
    """Per code: share of rule hits on reviewed segments that a human accepted
    (add-one smoothed towards :data:`RULE_PRIOR`); hits still undecided are left out."""
    hits: dict[str, list[int]] = {}
    for unit in units:
        if not is_codable(unit):
            continue
        gold = labels.get(unit.segment_id, set())
        skip = (unknown or {}).get(unit.segment_id, set())
        for key in rules.match(unit):
            if key not in skip:
                hits.setdefault(key, []).append(int(key in gold))
    return {k: (sum(v) + RULE_PRIOR * 2) / (len(v) + 2) for k, v in hits.items()}


def build(spec: CodebookSpec, train_units: Sequence[CodingUnit], labels: dict[int, set[str]],
          nlp, *, params: Params | None = None, use_model: bool = True,
          threshold: float = THRESHOLD, unknown: dict[int, set[str]] | None = None) -> Coder:
    """Train a coder on reviewed units (``labels``: segment id → accepted codes; every
    other code is a negative, except ``unknown``: segment id → codes nobody decided)
    and the codebook's examples."""
    rules = RuleCoder(spec.codes)
    unknown = unknown or {}
    precision = estimate_rule_precision(rules, train_units, labels, unknown)
    model = None
    if use_model:
        p = params or Params()
        ex, targets = codebook_examples(spec, nlp, definitions=p.definitions)
        views = examples_of(train_units, codebook_vocabulary(spec))  # context: every unit
        keep = [not (u.is_moderator and not labels.get(u.segment_id)) for u in train_units]
        kept = [u for u, k in zip(train_units, keep, strict=True) if k]
        ex.extend(v for v, k in zip(views, keep, strict=True) if k)
        masks = [set() for _ in targets]
        weights = [1.0] * len(targets)
        targets.extend(labels.get(u.segment_id, set()) for u in kept)
        masks.extend(unknown.get(u.segment_id, set()) for u in kept)
        # the project's own decisions (stored segments) may count more than the seed's
        weights.extend(p.own_weight if u.segment_id > 0 else 1.0 for u in kept)
        model = train(ex, targets, [c.id for c in spec.codes], p,
                      masks if any(masks) else None,
                      weights if p.own_weight != 1.0 else None)
    version = f"m-{model.fingerprint()}" if model else "rules-only"
    return Coder(spec, rules, model, precision, threshold, version)


def score(coder: Coder, units: Sequence[CodingUnit], *, use_rules: bool = True,
          use_model: bool = True) -> list[tuple[CodingUnit, dict[str, tuple[float, str, str]]]]:
    """Per unit: code → (confidence, source, explanation), for every code with evidence."""
    codable = [u for u in units if is_codable(u)]
    probs = X = None
    if use_model and coder.model is not None and codable:
        # context from the whole turn, including sentences that get no suggestions
        views = dict(zip((u.segment_id for u in units), examples_of(units, coder.known_names),
                         strict=True))
        probs, X = coder.model.predict([views[u.segment_id] for u in codable])
    out = []
    labels = coder.labels
    for i, unit in enumerate(codable):
        hits = coder.rules.match(unit) if use_rules else {}
        scores: dict[str, tuple[float, str, str]] = {}
        for j, key in enumerate(labels):
            p_model = float(probs[i, j]) if probs is not None else 0.0
            words = hits.get(key)
            p_rule = coder.rule_precision.get(key, RULE_PRIOR) if words else 0.0
            conf = 1 - (1 - p_model) * (1 - p_rule)
            if conf <= 0.05:
                continue
            parts = []
            if words:
                parts.append("regel: " + ", ".join(words))
            if p_model >= 0.2 and X is not None:
                terms = coder.model.explain(X, i, key)
                if terms:
                    parts.append("model: " + ", ".join(terms))
            if words and p_model >= 0.2:
                source = "combined"
            elif words:
                source = "rules"
            else:
                source = "model"
            scores[key] = (conf, source, "; ".join(parts))
        out.append((unit, scores))
    return out


def suggest(coder: Coder, units: Sequence[CodingUnit], *, use_rules: bool = True,
            use_model: bool = True, threshold: float | None = None) -> list[Suggestion]:
    """Suggestions at or above the threshold."""
    cut = coder.threshold if threshold is None else threshold
    out = []
    for unit, scores in score(coder, units, use_rules=use_rules, use_model=use_model):
        for key, (conf, source, why) in scores.items():
            if conf >= cut:
                out.append(Suggestion(unit.segment_id, key, source, round(conf, 4), why))
    return out


def uncertainty(conf: float, threshold: float = THRESHOLD) -> float:
    """How much a human decision would teach the model: 1 at the threshold, 0 far off."""
    return float(max(0.0, 1 - abs(conf - threshold) / max(threshold, 1 - threshold)))


def params_json(coder: Coder) -> str:
    """The coder's settings as JSON (stored with the model)."""
    params = coder.model.params.as_dict() if coder.model else {}
    return json.dumps({**params, "threshold": coder.threshold, "rule_prior": RULE_PRIOR})
