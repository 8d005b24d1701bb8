"""The suggestion model: calibrated probabilities, explanations without names or stop
words, and masking that keeps the codebook's own names."""

from __future__ import annotations

import numpy as np
from spacy.lang.da.stop_words import STOP_WORDS

from evaltool.autocode import NAME, examples_of, masked
from evaltool.autocode.model import (
    MIN_POSITIVES_CALIBRATED,
    Example,
    compound_vocabulary,
    cue_text,
    split_compound,
    train,
    with_compound_parts,
)
from evaltool.domain import CodingUnit

KAFFE = "kaffe"


def _toy(n: int, rate_kaffe: float, rate_vejr: float, offset: int = 0
         ) -> tuple[list[Example], list[set[str]]]:
    """Sentences about coffee (coded ``kaffe`` at ``rate_kaffe``) and about the weather
    (coded at ``rate_vejr``): the codes' true frequencies are known."""
    fillers = ["i dag", "om eftermiddagen", "på biblioteket", "hver uge", "sammen", "igen",
               "for det meste", "til sidst"]
    examples, targets = [], []
    for i in range(n):
        filler = fillers[(i + offset) % len(fillers)]
        for topic, rate in (("kaffe kage kop", rate_kaffe), ("vejr regn bus", rate_vejr)):
            text = f"vi snakke om {topic} {filler}"
            examples.append(Example(text, text))
            # deterministic labels with exactly the wanted share in every block of 10
            targets.append({KAFFE} if (i % 10) < round(rate * 10) else set())
    return examples, targets


def test_probabilities_are_calibrated_on_a_toy_set() -> None:
    examples, targets = _toy(60, 0.8, 0.2)
    model = train(examples, targets, [KAFFE, "tom"])
    assert KAFFE in model.calibration  # enough positives for its own Platt scaling
    assert sum(KAFFE in t for t in targets) >= MIN_POSITIVES_CALIBRATED
    test, _ = _toy(20, 0.8, 0.2, offset=3)
    probs, _ = model.predict(test)
    coffee = probs[0::2, 0].mean()
    weather = probs[1::2, 0].mean()
    assert abs(coffee - 0.8) < 0.15, coffee
    assert abs(weather - 0.2) < 0.15, weather
    assert np.all(probs[:, 1] == 0)  # a code with no examples is never predicted


def test_rare_codes_share_a_pooled_calibration() -> None:
    examples, targets = _toy(60, 0.8, 0.2)
    rare = [{"sjælden"} if i in (0, 2, 4, 6) else set() for i in range(len(examples))]
    model = train(examples, [t | r for t, r in zip(targets, rare, strict=True)],
                  [KAFFE, "sjælden"])
    assert model.calibration["sjælden"] != model.calibration[KAFFE]
    probs, _ = model.predict(examples[:4])
    assert np.all((probs >= 0) & (probs <= 1))


def _unit(seg: int, turn: int, words: list[tuple[str, str, str]]) -> CodingUnit:
    """A segment from (word, lemma, POS) triples."""
    text, tokens, pos = "", [], 0
    for word, lemma, tag in words:
        if text:
            text += " "
            pos += 1
        tokens.append([pos, pos + len(word), lemma, tag])
        text += word
        pos += len(word)
    lemmas = " ".join(t[2] for t in tokens)
    return CodingUnit(seg, 1, "Morsø", turn, turn, 0, "Karen", "borger", False, text, lemmas,
                      tokens, lemmas)


def test_explanations_never_name_a_person_or_a_stop_word() -> None:
    people = ["Karen", "Bent", "Åse", "Jørgen"]
    units, targets = [], []
    for i in range(40):
        person = people[i % 4]
        coded = i % 2 == 0
        topic = [("kaffen", "kaffe", "NOUN"), ("samlede", "samle", "VERB")] if coded else \
                [("bussen", "bus", "NOUN"), ("kom", "komme", "VERB")]
        # the person is mentioned only in the coded sentences: a name that predicts the code
        words = [("og", "og", "CCONJ"), (person, person.lower(), "PROPN"), ("det", "det", "PRON"),
                 *topic, ("os", "os", "PRON")] if coded else \
                [("og", "og", "CCONJ"), ("det", "det", "PRON"), *topic, ("sent", "sent", "ADV")]
        units.append(_unit(i + 1, i + 1, words))
        targets.append({KAFFE} if coded else set())
    examples = examples_of(units)
    assert all(p.lower() not in e.lemmas and p not in e.text for e in examples for p in people)
    model = train(examples, targets, [KAFFE])
    probs, X = model.predict(examples)
    named = [term for row in range(len(examples)) if probs[row, 0] >= 0.2
             for term in model.explain(X, row, KAFFE, k=10)]
    assert named, "the test must see explanations"
    words = {w for term in named for w in term.replace(" (tur)", "").split()}
    assert "kaffe" in words
    assert not words & {p.lower() for p in people}
    assert NAME not in words
    assert not [w for w in words if w in STOP_WORDS], words


def test_masking_replaces_people_and_keeps_codebook_names() -> None:
    text = "Karen fra MindLab og Røde Kors kom"
    tokens = [[0, 5, "karen", "PROPN"], [6, 9, "fra", "ADP"], [10, 17, "mindlab", "PROPN"],
              [18, 20, "og", "CCONJ"], [21, 25, "røde", "PROPN"], [26, 30, "kors", "PROPN"],
              [31, 34, "komme", "VERB"]]
    lemmas, shown = masked(text, tokens, keep=frozenset({"mindlab", "røde", "kors"}))
    assert lemmas == f"{NAME} fra mindlab og røde kors komme"
    assert shown == f"{NAME} fra MindLab og Røde Kors kom"
    lemmas, shown = masked(text, tokens)
    assert shown == f"{NAME} fra {NAME} og {NAME} {NAME} kom"


def test_views_carry_the_previous_turn_and_the_neighbouring_sentences() -> None:
    def unit(seg: int, doc: int, turn: int, lemma: str, moderator: bool = False) -> CodingUnit:
        return CodingUnit(seg, doc, "Morsø", doc * 100 + turn, turn, 0, "Karen", None, moderator,
                          lemma, lemma, [], lemma)

    units = [unit(1, 1, 1, "hvem komme", True), unit(2, 1, 2, "mødre"), unit(3, 1, 2, "fædre"),
             unit(4, 1, 2, "børn"), unit(5, 2, 3, "kaffe")]
    views = examples_of(units)
    assert [v.previous for v in views] == ["", "hvem komme", "hvem komme", "hvem komme", ""]
    assert [v.near for v in views] == ["", "fædre", "mødre børn", "fædre", ""]
    # turn 3 of document 2 is not preceded by turn 2 of document 1
    assert views[4].context == "kaffe"


def test_compounds_split_into_known_parts() -> None:
    vocabulary = compound_vocabulary(["samskabelse møde", "samskabelse kaffe møde",
                                      "bibliotek kaffe", "bibliotek"])
    assert vocabulary == {"samskabelse", "møde", "kaffe", "bibliotek"}
    assert split_compound("samskabelsesmøde", vocabulary) == ["samskabelse", "møde"]
    assert split_compound("kaffemøde", vocabulary) == ["kaffe", "møde"]
    assert split_compound("kaffe", vocabulary) == []  # too short to be two parts
    assert split_compound("mødested", vocabulary) == []  # 'sted' is not known
    assert with_compound_parts("et kaffemøde i dag", vocabulary) == "et kaffemøde i dag kaffe møde"


def test_cues_of_negation_hedges_and_cmo_kinds() -> None:
    def cues(text: str) -> list[str]:
        return cue_text(Example(text.lower(), text)).split()

    assert cues("Der kom ingen.") == ["cue_negation", "cue_outcome"]
    assert "cue_hedge" in cues("Vi håber, at de kommer igen.")
    assert "cue_context" in cues("Herude er der langt til alting.")
    assert "cue_mechanism" in cues("Når vi tog kaffe med, så turde de godt.")
    assert cues("En nuance af blåt.") == []  # whole words only: 'nu' is not in 'nuance'
