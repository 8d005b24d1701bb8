"""Segmentation quality on UD Danish-DDT test: sentence F1 and lemma accuracy.

The file has no ``# newdoc`` markers, so consecutive sentences are grouped into
pseudo-documents of :data:`DOC_SENTENCES` sentences, joined by one space into a
raw text. evaltool's segmenter (``segment.segment_text`` with the segmentation
pipeline) and the baseline (spaCy's blank Danish tokenizer + rule-based
``sentencizer``) see the same raw text. Sentences count as found when their
trimmed character span equals a gold sentence's (spaCy's ``sents_f`` on
characters). Lemmas are compared lower-cased on gold tokens whose character
span a predicted token matches exactly; the baseline, which has no lemmatizer,
gets the lower-cased word form (what evaltool stores without a model).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.common import DDT_TEST, Config, Row, segment_nlp, sentencizer_nlp

NAME = "quality"
DOC_SENTENCES = 10


@dataclass
class GoldDoc:
    """A pseudo-document: raw text, sentence spans and token (start, end, lemma)."""

    text: str = ""
    sentences: list[tuple[int, int]] = field(default_factory=list)
    tokens: list[tuple[int, int, str]] = field(default_factory=list)


def read_conllu(path: Path, doc_sentences: int = DOC_SENTENCES,
                limit: int | None = None) -> list[GoldDoc]:
    """Gold pseudo-documents from a CoNLL-U file (tokens located by character offset)."""
    docs: list[GoldDoc] = []
    current = GoldDoc()
    count = 0

    def add_sentence(text: str, words: list[tuple[str, str]]) -> None:
        nonlocal current
        if current.text:
            current.text += " "
        base = len(current.text)
        current.text += text
        pos = 0
        for form, lemma in words:
            found = text.find(form, pos)
            if found < 0:  # tokenisation that does not appear verbatim: skip the token
                continue
            current.tokens.append((base + found, base + found + len(form), lemma.lower()))
            pos = found + len(form)
        current.sentences.append((base, base + len(text)))
        if len(current.sentences) == doc_sentences:
            docs.append(current)
            current = GoldDoc()

    text, words = None, []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# text = "):
            text = line[len("# text = "):].strip()
        elif line and not line.startswith("#"):
            cols = line.split("\t")
            if "-" not in cols[0] and "." not in cols[0]:
                words.append((cols[1], cols[2]))
        elif not line and text is not None:
            add_sentence(text, words)
            count += 1
            text, words = None, []
            if limit and count >= limit:
                break
    if text is not None:
        add_sentence(text, words)
    if current.sentences:
        docs.append(current)
    return docs


def predicted(docs: list[GoldDoc], nlp) -> list[tuple[list[tuple[int, int]], dict]]:
    """Per document: sentence spans and {(start, end): lemma} from evaltool's segmenter."""
    from evaltool.segment import segment_text

    out = []
    for doc in docs:
        sents, lemmas = [], {}
        for s in segment_text(doc.text, nlp):
            sents.append((s.start, s.end))
            for a, b, lemma, _ in s.tokens:
                lemmas[(s.start + a, s.start + b)] = lemma
        out.append((sents, lemmas))
    return out


def scores(docs: list[GoldDoc], preds: list) -> tuple[float, float, float]:
    """(sentence F1, lemma accuracy on aligned tokens, share of gold tokens aligned)."""
    tp = n_gold = n_pred = 0
    right = aligned = total = 0
    for doc, (sents, lemmas) in zip(docs, preds, strict=True):
        gold = set(doc.sentences)
        tp += len(gold & set(sents))
        n_gold += len(gold)
        n_pred += len(sents)
        for a, b, lemma in doc.tokens:
            total += 1
            if (a, b) in lemmas:
                aligned += 1
                right += lemmas[(a, b)] == lemma
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return f1, (right / aligned if aligned else 0.0), (aligned / total if total else 0.0)


def run(cfg: Config) -> list[Row]:
    """Sentence F1 and lemma accuracy: evaltool's segmenter vs spaCy's sentencizer."""
    if not DDT_TEST.exists():
        print(f"  quality skipped: {DDT_TEST} not found")
        return [Row(NAME, "sentence-boundary F1 (UD DDT test)", None, "",
                    note=f"skipped: {DDT_TEST} not found")]
    docs = read_conllu(DDT_TEST, limit=cfg.size(60, 0) or None)
    f1, lemma, cover = scores(docs, predicted(docs, segment_nlp()))
    bf1, blemma, bcover = scores(docs, predicted(docs, sentencizer_nlp()))
    n = sum(len(d.sentences) for d in docs)
    return [
        Row(NAME, f"sentence-boundary F1 (UD DDT test, {n} sentences)", f1, "F1",
            "spaCy sentencizer", bf1, note=f"pseudo-documents of {DOC_SENTENCES} sentences"),
        Row(NAME, "lemma accuracy (UD DDT test)", lemma, "acc",
            "lower-cased form (sentencizer, no lemmatizer)", blemma,
            note=f"on {cover:.1%} of gold tokens aligned ({bcover:.1%} for the baseline)"),
    ]
