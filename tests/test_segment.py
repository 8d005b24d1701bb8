"""Sentence segmentation: exact offsets, paragraphs, lemmas from the real model."""

from __future__ import annotations

import functools
import itertools
import multiprocessing
import os
import threading

import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.language import Language

from evaltool.errors import IngestError, ModelError
from evaltool.segment import SegmentPool, segment_text, segment_turns


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


# -- a paragraph longer than spaCy's max_length is segmented in pieces, nothing lost ----

@functools.cache
def _short_nlp(max_length: int) -> Language:
    nlp = spacy.blank("da")
    nlp.add_pipe("sentencizer")
    nlp.max_length = max_length
    return nlp


def _check_pieces(text: str, sents) -> None:
    """Offsets slice the text exactly, in order, and every non-space character is kept."""
    assert all(text[s.start:s.end].strip() == text[s.start:s.end] != "" for s in sents)
    assert all(a.end <= b.start for a, b in itertools.pairwise(sents))
    kept = "".join(text[s.start:s.end] for s in sents)
    assert [ch for ch in kept if not ch.isspace()] == [ch for ch in text if not ch.isspace()]


def test_paragraph_longer_than_max_length_is_split_with_exact_offsets() -> None:
    nlp = _short_nlp(300)
    text = ("Vi drak kaffe på Ærø. " * 40 + "Å" * 700 + " og så gik vi hjem.\n"
            + "Ny sætning i afsnit to! " * 30)
    sents = segment_text(text, nlp)  # once: ValueError [E088] from spaCy
    _check_pieces(text, sents)
    assert text[sents[0].start:sents[0].end] == "Vi drak kaffe på Ærø."
    assert "Å" * 300 in [text[s.start:s.end] for s in sents]  # one endless word: hard cuts


@settings(max_examples=60, deadline=None)
@given(text=st.text(st.characters(blacklist_categories=("Cs",)), max_size=300),
       limit=st.sampled_from([2, 3, 7, 40]))
def test_pieces_of_any_text_keep_exact_offsets(text: str, limit: int) -> None:
    from evaltool.segment import _pieces

    pieces = list(_pieces(text, limit))
    assert "".join(p for _, p in pieces) == text
    assert all(text[at:at + len(p)] == p and len(p) <= limit for at, p in pieces)
    _check_pieces(text.replace("\n", " "), segment_text(text.replace("\n", " "),
                                                          _short_nlp(limit)))


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


# --- SegmentPool: worker processes shared by the files of an import -------------------------

DOC_A = [
    ("a1", "Vi mødtes på biblioteket i Tønder. Der var kaffe og kage!"),
    ("a2", ""),  # an empty turn still yields one item
    ("a3", "Første afsnit uden punktum\nandet afsnit. Med to sætninger?\n\nEfter en tom linje."),
    ("a4", "   "),
    ("a5", "Åse sagde: Det var hyggeligt. Søren nikkede."),
] * 7  # several chunks of three turns each, so both workers get work
DOC_B = [(n, f"Tur {n}: Borgerne drak kaffe på Morsø. Ærligt talt, {n} gange!\nNy linje {n}.")
         for n in range(40)]


@pytest.fixture(scope="module")
def pool(blank_nlp):
    """Two worker processes (started once for this module), small chunks."""
    with SegmentPool(blank_nlp, n_process=2, chunk_turns=3) as shared:
        yield shared


def counted(turns, reads: list[int]):
    """The turns as a generator that counts how many were read."""
    for item in turns:
        reads[0] += 1
        yield item


def forever():
    """An endless stream of Danish turns (a reader that would never stop)."""
    for n in itertools.count():
        yield n, f"Sætning nummer {n} om æbler. Og én mere."


def test_pool_gives_the_same_sentences_as_one_process(pool, blank_nlp) -> None:
    for doc in (DOC_A, DOC_B, DOC_A):  # consecutive documents on the same live workers
        expected = list(segment_turns(doc, blank_nlp))
        assert list(pool.segment_turns(iter(doc))) == expected
    one = dict(segment_turns(DOC_A[:5], blank_nlp))
    text = DOC_A[2][1]
    assert [text[s.start:s.end] for s in one["a3"]] == [
        "Første afsnit uden punktum", "andet afsnit.", "Med to sætninger?", "Efter en tom linje."]
    assert one["a2"] == [] and one["a4"] == []


def test_pool_reads_turns_lazily_and_can_stop_midway(pool, blank_nlp) -> None:
    reads = [0]
    stream = pool.segment_turns(counted(forever(), reads))
    first = list(itertools.islice(stream, 10))
    assert [k for k, _ in first] == list(range(10))
    assert reads[0] < 100  # read a few chunks ahead, not everything
    stream.close()  # an import failing midway through a document
    # the same workers go on with the next document
    assert list(pool.segment_turns(DOC_B)) == list(segment_turns(DOC_B, blank_nlp))


def test_closing_the_pool_midway_stops_its_workers(blank_nlp) -> None:
    before = set(multiprocessing.active_children())
    seen: list[int] = []  # workers alive mid-document, then "closed" once the pool refused work

    def run() -> None:
        with SegmentPool(blank_nlp, n_process=2, chunk_turns=2) as p:
            for key, _ in p.segment_turns(forever()):
                if key == 20:
                    seen.append(len(set(multiprocessing.active_children()) - before))
                    break  # leaves the document unfinished and closes the pool
        try:
            next(p.segment_turns(DOC_B))
        except RuntimeError:
            seen.append(-1)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(60)  # a hang fails the test instead of blocking the suite
    assert not worker.is_alive()
    assert seen == [2, -1]
    assert set(multiprocessing.active_children()) <= before


def test_a_reader_error_midway_surfaces_as_itself(pool, blank_nlp) -> None:
    def broken_file():
        yield from DOC_B[:10]
        raise IngestError("fokus.txt", 12, "line is not a turn")

    with pytest.raises(IngestError, match=r"fokus\.txt:12"):
        list(pool.segment_turns(broken_file()))
    assert list(pool.segment_turns(DOC_A)) == list(segment_turns(DOC_A, blank_nlp))


def test_module_function_with_two_processes(blank_nlp) -> None:
    assert list(segment_turns(iter(DOC_B), blank_nlp, n_process=2)) == list(
        segment_turns(DOC_B, blank_nlp))


@Language.component("test_segment_die_on_skull")
def _die_on_skull(doc):
    """Kill the worker process on a marker turn (a stand-in for the OOM killer)."""
    if doc.text == "☠" and multiprocessing.parent_process() is not None:
        os._exit(1)
    return doc


def test_dead_worker_fails_the_file_with_one_line_and_the_pool_recovers() -> None:
    nlp = spacy.blank("da")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("test_segment_die_on_skull")
    with SegmentPool(nlp, n_process=2, chunk_turns=2) as p:
        doomed = [*DOC_B[:6], ("x", "☠"), *DOC_B[6:]]
        with pytest.raises(ModelError) as err:
            list(p.segment_turns(doomed))
        message = str(err.value)
        assert "\n" not in message and "worker" in message and "Borgerne" not in message
        assert list(p.segment_turns(DOC_B)) == list(segment_turns(DOC_B, nlp))  # next file
