"""Model layer: a scikit-learn multi-label classifier over lemmas, characters and context.

Features (all TF-IDF): the segment's lemmas (uni- and bigrams), character 3–5-grams
of its text (robust to Danish compounds and inflection the lemmatizer misses), the
lemmas of the surrounding turn (context, down-weighted), the speaker's role words,
and which Danish cue lists the sentence hits (negation, hedges and plans, discourse
cues of contexts, mechanisms and outcomes; ``data/cues_*.txt``). Optional, measured
and off: the previous turn, the neighbouring sentences, compound parts, the codebook's
definitions as examples.

One logistic regression per code, its probabilities calibrated by Platt
scaling on out-of-fold scores (per code when it has enough positive examples,
pooled across the rare codes otherwise). Fixed ``random_state`` everywhere.
"""

from __future__ import annotations

import functools
import hashlib
import io
import pickle
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from spacy.lang.da.stop_words import STOP_WORDS

from evaltool import resources

SEED = 13
MIN_POSITIVES_CALIBRATED = 8
MIN_PART = 4  # letters of the shortest compound part the splitter considers
_WORD = r"(?u)\b\w[\w-]*\b"
_STOP_ROLE = re.compile(r"[,()]")


@dataclass(frozen=True)
class Example:
    """One training or prediction item: a segment with its context."""

    lemmas: str
    text: str
    context: str = ""
    role: str = ""
    moderator: bool = False
    previous: str = ""  # lemmas of the turn before (often the question it answers)
    near: str = ""  # lemmas of the sentences just before and after, in the same turn


def _role_text(ex: Example) -> str:
    words = _STOP_ROLE.sub(" ", (ex.role or "").lower()).split()
    return " ".join(["__moderator__"] if ex.moderator else []) + " " + " ".join(words)


@dataclass
class Params:
    """Hyper-parameters (stored with the model)."""

    C: float = 2.0
    context_weight: float = 0.35
    char_weight: float = 0.6
    role_weight: float = 0.3
    # Settings below were measured one at a time by leave-one-site-out on the demo corpus
    # (benchmarks/RESULTS.md, "Model variants"); the ones that did not help stay off.
    previous_weight: float = 0.0  # the previous turn's lemmas (0: not a feature)
    near_weight: float = 0.0  # the neighbouring sentences' lemmas (0: not a feature)
    cue_weight: float = 0.3  # negation, hedge and C/M/O discourse cues (0: not a feature)
    compounds: bool = False  # add the parts of compounds found in the training vocabulary
    own_weight: float = 1.0  # sample weight of the project's own decisions (seed: 1)
    definitions: bool = False  # each code's label, definition and include text as an example

    def as_dict(self) -> dict[str, float]:
        """Plain dict for storage."""
        return dict(self.__dict__)


@dataclass
class SuggestionModel:
    """Trained vectorizers and one classifier per code."""

    params: Params
    labels: list[str]
    vectorizers: dict[str, TfidfVectorizer] = field(default_factory=dict)
    classifiers: dict[str, Any] = field(default_factory=dict)
    coefs: dict[str, np.ndarray] = field(default_factory=dict)
    calibration: dict[str, tuple[float, float]] = field(default_factory=dict)
    feature_names: np.ndarray | None = None
    n_train: int = 0
    compound_vocabulary: frozenset[str] = frozenset()

    # -- features -----------------------------------------------------------

    def _blocks(self, examples: list[Example], fit: bool) -> sparse.csr_matrix:
        p = self.params
        lemmas = [e.lemmas for e in examples]
        if p.compounds:
            if fit:
                self.compound_vocabulary = compound_vocabulary(lemmas)
            lemmas = [with_compound_parts(t, self.compound_vocabulary) for t in lemmas]
        columns = {
            "lemma": (lemmas, 1.0),
            "char": ([e.text.lower() for e in examples], p.char_weight),
            "ctx": ([e.context for e in examples], p.context_weight),
            "role": ([_role_text(e) for e in examples], p.role_weight),
            "prev": ([e.previous for e in examples], p.previous_weight),
            "near": ([e.near for e in examples], p.near_weight),
            "cue": ([cue_text(e) for e in examples], p.cue_weight),
        }
        mats = []
        for name, (texts, weight) in columns.items():
            if (name in ("prev", "near", "cue") and not weight) or \
                    (not fit and name not in self.vectorizers):
                continue  # a feature switched off, or one a stored older model lacks
            if fit:
                self.vectorizers[name] = _vectorizer(name)
                try:
                    m = self.vectorizers[name].fit_transform(texts)
                except ValueError:  # empty vocabulary (e.g. no roles at all)
                    self.vectorizers[name] = _vectorizer(name, allow_empty=True)
                    m = self.vectorizers[name].fit_transform([*texts, "__none__"])[:-1]
            else:
                m = self.vectorizers[name].transform(texts)
            mats.append(m * weight)
        return sparse.hstack(mats).tocsr()

    def fit(self, examples: list[Example], targets: list[set[str]],
            unknown: list[set[str]] | None = None,
            weights: list[float] | None = None) -> SuggestionModel:
        """Train on examples with their sets of code ids.

        Per code: a logistic regression on the examples whose label for that code is
        known (``unknown[i]``: codes example ``i`` is neither positive nor negative
        for), and Platt scaling fitted on out-of-fold decision scores (3-fold);
        codes with fewer than :data:`MIN_POSITIVES_CALIBRATED` positives share one
        pooled calibration. ``weights``: per example, its sample weight (default 1).
        """
        w_all = None if weights is None else np.asarray(weights, dtype=float)
        X_all = self._blocks(examples, fit=True)
        names = []
        for name, vec in self.vectorizers.items():
            names.extend(f"{name}:{f}" for f in vec.get_feature_names_out())
        self.feature_names = np.array(names, dtype=object)
        self.n_train = len(examples)
        oof: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray | None]] = {}
        for label in self.labels:
            rows = np.array([i for i in range(len(targets))
                             if unknown is None or label not in unknown[i]], dtype=int)
            X = X_all[rows] if unknown is not None else X_all
            y = np.array([label in targets[i] for i in rows], dtype=int)
            w = None if w_all is None else w_all[rows]
            pos = int(y.sum())
            if pos == 0 or pos == len(y):
                continue
            clf = _classifier(self.params).fit(X, y, sample_weight=w)
            self.classifiers[label] = clf
            self.coefs[label] = clf.coef_[0]
            if pos >= 3:
                oof[label] = (_out_of_fold(X, y, w, self.params), y, w)
        rare = [v for v in oof.values() if int(v[1].sum()) < MIN_POSITIVES_CALIBRATED]
        pooled = _platt(np.concatenate([v[0] for v in rare]), np.concatenate([v[1] for v in rare]),
                        None if w_all is None else np.concatenate([v[2] for v in rare])) \
            if rare else None
        for label in self.classifiers:
            if label in oof and int(oof[label][1].sum()) >= MIN_POSITIVES_CALIBRATED:
                self.calibration[label] = _platt(*oof[label])
            elif pooled is not None:
                self.calibration[label] = pooled
        return self

    def predict(self, examples: list[Example]) -> tuple[np.ndarray, sparse.csr_matrix]:
        """Probabilities (examples × labels) and the feature matrix."""
        X = self._blocks(examples, fit=False)
        out = np.zeros((len(examples), len(self.labels)))
        for j, label in enumerate(self.labels):
            clf = self.classifiers.get(label)
            if clf is None or not len(examples):
                continue
            if label in self.calibration:
                a, b = self.calibration[label]
                out[:, j] = 1 / (1 + np.exp(-(a * clf.decision_function(X) + b)))
            else:
                out[:, j] = clf.predict_proba(X)[:, 1]
        return out, X

    def explain(self, X: sparse.csr_matrix, row: int, label: str, k: int = 3) -> list[str]:
        """The words that pushed this example towards ``label`` most.

        Only word features are named (the sentence's lemmas, then the turn's,
        marked "(tur)"); character n-grams, stop words and masked names carry weight
        but explain nothing to a person, so they are never named, not even inside a
        bigram.
        """
        coef = self.coefs.get(label)
        if coef is None or self.feature_names is None:
            return []
        x = X.getrow(row)
        contrib = x.data * coef[x.indices]
        out: list[str] = []
        for i in np.argsort(-contrib):
            if contrib[i] <= 0 or len(out) == k:
                break
            kind, _, term = str(self.feature_names[x.indices[i]]).partition(":")
            if kind not in ("lemma", "ctx"):
                continue
            # a bigram is named by its content words alone ("det kaffe" -> "kaffe")
            words = " ".join(w for w in term.split() if w not in STOP_WORDS and w != "navn")
            shown = words if kind == "lemma" else f"{words} (tur)"
            if words and shown not in out:
                out.append(shown)
        return out

    # -- storage ------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """Serialise (pickle) for storage in the database."""
        buf = io.BytesIO()
        pickle.dump(self, buf, protocol=pickle.HIGHEST_PROTOCOL)
        return buf.getvalue()

    @staticmethod
    def from_bytes(blob: bytes) -> SuggestionModel:
        """Load a model this tool stored (only ever unpickles our own rows)."""
        return pickle.loads(blob)

    def fingerprint(self) -> str:
        """Short hash identifying the trained weights."""
        h = hashlib.sha256()
        for label in sorted(self.coefs):
            h.update(label.encode())
            h.update(np.round(self.coefs[label], 6).tobytes())
        return h.hexdigest()[:8]


def compound_vocabulary(lemma_texts: list[str]) -> frozenset[str]:
    """Words seen at least twice in training, of at least :data:`MIN_PART` letters: the
    parts a compound may be split into."""
    counts: dict[str, int] = {}
    for text in lemma_texts:
        for word in set(text.split()):
            if len(word) >= MIN_PART and word.isalpha():
                counts[word] = counts.get(word, 0) + 1
    return frozenset(w for w, n in counts.items() if n >= 2)


def split_compound(word: str, vocabulary: frozenset[str]) -> list[str]:
    """The two known parts of a Danish compound (``samskabelsesmøde`` → ``samskabelse``,
    ``møde``), joined directly or by the linking ``s`` or ``e``; [] when none is found.

    The longest known head (right part) wins, so ``biblioteksrummet`` is split before
    its head's own compounds are considered.
    """
    if len(word) < 2 * MIN_PART or not word.isalpha():
        return []
    for cut in range(MIN_PART, len(word) - MIN_PART + 1):
        head = word[cut:]
        if head not in vocabulary:
            continue
        left = word[:cut]
        for stem in (left, left[:-1] if left[-1:] in "se" else None):
            if stem and len(stem) >= MIN_PART and stem in vocabulary:
                return [stem, head]
    return []


def with_compound_parts(lemmas: str, vocabulary: frozenset[str]) -> str:
    """The lemmas followed by the parts of every compound among them."""
    parts = [p for w in lemmas.split() for p in split_compound(w, vocabulary)]
    return f"{lemmas} {' '.join(parts)}" if parts else lemmas


CUE_LISTS = ("negation", "hedge", "context", "mechanism", "outcome")


@functools.cache
def _cue_patterns() -> dict[str, re.Pattern[str]]:
    """One word-bounded pattern per cue list (``data/cues_<name>.txt``)."""
    out = {}
    for name in CUE_LISTS:
        words = sorted(resources.word_list(f"cues_{name}"), key=len, reverse=True)
        out[name] = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, words)) + r")(?!\w)")
    return out


def cue_text(ex: Example) -> str:
    """The cue categories present in a sentence (``cue_negation`` …), in list order.

    Cues are matched on the lower-cased text and the lemmas, so inflected forms count;
    a negation or hedge says how a claim is made (a plan, a doubt, a failure), the
    discourse cues hint at C, M or O (codebooks/GUIDE.md section 4). Hints, not rules:
    the classifier weighs them per code.
    """
    hay = f"{ex.text.lower()} | {ex.lemmas}"
    return " ".join(f"cue_{name}" for name, pattern in _cue_patterns().items()
                    if pattern.search(hay))


def _classifier(params: Params) -> LogisticRegression:
    # liblinear's dual solver: fast when there are more features than examples,
    # which is always the case here (tens of thousands of n-grams, a few thousand segments)
    return LogisticRegression(C=params.C, class_weight="balanced", solver="liblinear", dual=True,
                              max_iter=5000, random_state=SEED)


def _out_of_fold(X: sparse.csr_matrix, y: np.ndarray, w: np.ndarray | None,
                 params: Params) -> np.ndarray:
    """Decision scores of each example from a model that did not see it (3 folds)."""
    scores = np.zeros(len(y))
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=SEED)
    for train_idx, test_idx in folds.split(np.zeros(len(y)), y):
        clf = _classifier(params).fit(X[train_idx], y[train_idx],
                                      sample_weight=None if w is None else w[train_idx])
        scores[test_idx] = clf.decision_function(X[test_idx])
    return scores


def _platt(scores: np.ndarray, y: np.ndarray, w: np.ndarray | None = None
           ) -> tuple[float, float]:
    """Platt scaling: the sigmoid ``1 / (1 + exp(-(a*s + b)))`` that fits the scores."""
    lr = LogisticRegression(C=1e4, solver="lbfgs", max_iter=1000).fit(
        scores.reshape(-1, 1), y, sample_weight=w)
    return float(lr.coef_[0][0]), float(lr.intercept_[0])


def _vectorizer(name: str, allow_empty: bool = False) -> TfidfVectorizer:
    if allow_empty:
        return TfidfVectorizer(token_pattern=_WORD, min_df=1)
    if name == "char":
        return TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=2,
                               sublinear_tf=True, max_features=60000)
    if name == "lemma":
        return TfidfVectorizer(token_pattern=_WORD, ngram_range=(1, 2), min_df=1,
                               sublinear_tf=True)
    return TfidfVectorizer(token_pattern=_WORD, min_df=1, sublinear_tf=True)


def train(examples: list[Example], targets: list[set[str]], labels: list[str],
          params: Params | None = None, unknown: list[set[str]] | None = None,
          weights: list[float] | None = None) -> SuggestionModel:
    """Train a suggestion model (``unknown``: per example, codes it is no example of;
    ``weights``: per example, its sample weight)."""
    return SuggestionModel(params or Params(), list(labels)).fit(examples, targets, unknown,
                                                                 weights)
