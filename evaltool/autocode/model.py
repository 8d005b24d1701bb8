"""Model layer: a scikit-learn multi-label classifier over lemmas, characters and context.

Features (all TF-IDF): the segment's lemmas (uni- and bigrams), character 3–5-grams
of its text (robust to Danish compounds and inflection the lemmatizer misses), the
lemmas of the surrounding turn (context, down-weighted), and the speaker's role
words. One logistic regression per code; codes with enough positive examples get
sigmoid-calibrated probabilities (``CalibratedClassifierCV``), the rest keep the
regression's own probability. Fixed ``random_state`` everywhere.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

SEED = 13
MIN_POSITIVES_CALIBRATED = 8
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
    feature_names: np.ndarray | None = None
    n_train: int = 0

    # -- features -----------------------------------------------------------

    def _blocks(self, examples: list[Example], fit: bool) -> sparse.csr_matrix:
        p = self.params
        columns = {
            "lemma": ([e.lemmas for e in examples], 1.0),
            "char": ([e.text.lower() for e in examples], p.char_weight),
            "ctx": ([e.context for e in examples], p.context_weight),
            "role": ([_role_text(e) for e in examples], p.role_weight),
        }
        mats = []
        for name, (texts, weight) in columns.items():
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

    def fit(self, examples: list[Example], targets: list[set[str]]) -> SuggestionModel:
        """Train on examples with their sets of code ids."""
        X = self._blocks(examples, fit=True)
        names = []
        for name, vec in self.vectorizers.items():
            names.extend(f"{name}:{f}" for f in vec.get_feature_names_out())
        self.feature_names = np.array(names, dtype=object)
        self.n_train = len(examples)
        for label in self.labels:
            y = np.array([label in t for t in targets], dtype=int)
            pos = int(y.sum())
            if pos == 0 or pos == len(y):
                continue
            base = LogisticRegression(C=self.params.C, class_weight="balanced", max_iter=2000,
                                      random_state=SEED)
            if pos >= MIN_POSITIVES_CALIBRATED:
                clf = CalibratedClassifierCV(base, method="sigmoid", cv=3)
                clf.fit(X, y)
                coef = np.mean([c.estimator.coef_[0] for c in clf.calibrated_classifiers_], axis=0)
            else:
                clf = base.fit(X, y)
                coef = clf.coef_[0]
            self.classifiers[label] = clf
            self.coefs[label] = coef
        return self

    def predict(self, examples: list[Example]) -> tuple[np.ndarray, sparse.csr_matrix]:
        """Probabilities (examples × labels) and the feature matrix."""
        X = self._blocks(examples, fit=False)
        out = np.zeros((len(examples), len(self.labels)))
        for j, label in enumerate(self.labels):
            clf = self.classifiers.get(label)
            if clf is not None and len(examples):
                out[:, j] = clf.predict_proba(X)[:, 1]
        return out, X

    def explain(self, X: sparse.csr_matrix, row: int, label: str, k: int = 3) -> list[str]:
        """The features that pushed this example towards ``label`` most."""
        coef = self.coefs.get(label)
        if coef is None or self.feature_names is None:
            return []
        x = X.getrow(row)
        contrib = x.data * coef[x.indices]
        order = np.argsort(-contrib)
        return [str(self.feature_names[x.indices[i]]) for i in order[:k] if contrib[i] > 0]

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
          params: Params | None = None) -> SuggestionModel:
    """Train a suggestion model."""
    return SuggestionModel(params or Params(), list(labels)).fit(examples, targets)
