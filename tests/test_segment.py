"""Sentence segmentation: exact offsets, paragraphs, lemmas from the real model."""

from __future__ import annotations

from evaltool.segment import segment_text, segment_turns


def test_offsets_slice_the_turn_exactly(blank_nlp) -> None:
    text = "  Vi mødtes på biblioteket. Der var kaffe!\nNyt afsnit her.  Og så videre "
    sents = segment_text(text, blank_nlp)
    assert [text[s.start:s.end] for s in sents] == [
        "Vi mødtes på biblioteket.", "Der var kaffe!", "Nyt afsnit her.", "Og så videre"]


def test_sentence_never_crosses_a_paragraph(blank_nlp) -> None:
    text = "Første afsnit uden punktum\nandet afsnit uden punktum"
    sents = segment_text(text, blank_nlp)
    assert [text[s.start:s.end] for s in sents] == [
        "Første afsnit uden punktum", "andet afsnit uden punktum"]


def test_streaming_keeps_turn_order_and_keys(blank_nlp) -> None:
    turns = [(f"t{i}", "Første sætning her. Anden sætning.\nTredje.") for i in range(200)]
    out = list(segment_turns(iter(turns), blank_nlp, batch_size=7))
    assert [k for k, _ in out] == [k for k, _ in turns]
    assert all(len(sents) == 3 for _, sents in out)


def test_model_lemmas_of_inflected_danish(model_nlp) -> None:
    text = "Borgerne mødtes på bibliotekerne. De drak kaffe sammen."
    sents = segment_text(text, model_nlp)
    assert [text[s.start:s.end] for s in sents] == [
        "Borgerne mødtes på bibliotekerne.", "De drak kaffe sammen."]
    lemmas = {lemma for s in sents for lemma in s.lemmas}
    assert {"borger", "bibliotek", "drikke", "kaffe"} <= lemmas
    # token offsets are relative to the segment and slice its text
    first = sents[0]
    seg = text[first.start:first.end]
    assert [seg[a:b] for a, b, _, _ in first.tokens][:2] == ["Borgerne", "mødtes"]
