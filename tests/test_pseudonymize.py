"""Pseudonymisation in the database: names replaced, offsets kept, exactly reversible."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaltool import codebook
from evaltool import nlp as nlp_mod
from evaltool import pseudonymize as ps
from evaltool.cli import cli
from evaltool.domain import DocumentContent
from evaltool.importer import import_paths

NAMES = ["Anette", "Jensen", "Søren", "Bæk", "Karen", "Holm", "Mette", "Frederiksen", "Jørgen",
         "Ravn", "Ordstyrer"]


@pytest.fixture(scope="module")
def ner_nlp():
    """The installed Danish pipeline with its NER, as `evaltool pseudonymize` loads it."""
    return nlp_mod.load("ner")


@pytest.fixture
def names_store(store, fixtures: Path, model_nlp):
    """navne.txt (speakers and persons named in running text) imported."""
    summary = import_paths([fixtures / "navne.txt"], store, lambda: model_nlp)
    assert summary.failed == 0
    return store


def assert_offsets_slice(content: DocumentContent) -> None:
    """Every turn's and segment's offsets slice the document text; tokens stay in their segment."""
    for t in content.turns:
        assert content.text[t.start_char:t.end_char] == t.text
    for s in content.segments:
        assert content.text[s.start_char:s.end_char] == s.text
        ends = [0]
        for start, end, *_ in s.tokens:
            assert ends[-1] <= start <= end <= len(s.text)
            ends.append(end)


def test_names_are_replaced_and_offsets_still_slice(names_store, ner_nlp) -> None:
    before = names_store.document_content(1)
    report = ps.pseudonymize(names_store, 1, lambda: ner_nlp)
    assert (report.action, report.speakers, report.persons) == ("pseudonymized", 3, 3)
    after = names_store.document_content(1)
    assert_offsets_slice(after)
    assert [s.name for s in after.speakers] == ["Moderator", "Deltager 1", "Deltager 2"]
    for name in NAMES:
        assert name not in after.text
    turns = [t.text for t in names_store.turns(1)]
    assert turns[1] == "Jeg hedder Deltager 1. Jeg har været på biblioteket i tolv år."
    assert turns[2] == ("Deltager 2. Jeg kom med, fordi Person 1 spurgte mig. "
                        "Det var Person 1s idé at lave kaffe til de ældre.")
    assert turns[4] == ("Den betød alt. Person 2 fra kommunen kom også forbi.\n"
                        "Bagefter sagde Person 1, at Person 3 havde bagt kagen.")
    assert turns[5] == "Ja. Tak for kaffen, Deltager 1."
    # Same segment ids, same number of tokens; tokens away from names keep their text.
    assert [s.id for s in after.segments] == [s.id for s in before.segments]
    for old, new in zip(before.segments, after.segments, strict=True):
        assert len(old.tokens) == len(new.tokens)
        for (a, b, lemma, pos), (c, d, lemma2, pos2) in zip(old.tokens, new.tokens, strict=True):
            assert (lemma, pos) == (lemma2, pos2)
            if not any(name in old.text[a:b] for name in NAMES):
                assert new.text[c:d] == old.text[a:b]


def test_mapping_is_stored_with_spans(names_store, ner_nlp) -> None:
    ps.pseudonymize(names_store, 1, lambda: ner_nlp)
    entries = {e.original: e for e in names_store.pseudonym_entries(1)}
    assert entries["Anette Jensen"].kind == "speaker"
    assert entries["Anette"].pseudonym == entries["Anette Jensen"].pseudonym == "Deltager 1"
    assert entries["Karen"].pseudonym == entries["Karen Holm"].pseudonym == "Person 1"
    text = names_store.document_text(1)
    for entry in entries.values():
        for start, end, *_ in entry.spans:
            assert text[start:end] == entry.pseudonym


def test_reverse_restores_exact_text_names_offsets_and_tokens(any_store, fixtures: Path,
                                                              model_nlp, ner_nlp) -> None:
    assert import_paths([fixtures / "navne.txt"], any_store, lambda: model_nlp).failed == 0
    before = any_store.document_content(1)
    turns_before, segs_before = any_store.turns(1), any_store.segments(1)
    ps.pseudonymize(any_store, 1, lambda: ner_nlp)
    assert any_store.document_content(1) != before
    assert ps.restore(any_store, 1).line() == (
        "document 1: restored 8 names in the text and 3 speaker names")
    assert any_store.document_content(1) == before
    assert any_store.turns(1) == turns_before
    assert any_store.segments(1) == segs_before
    assert any_store.pseudonym_entries(1) == []


def test_cli_reverse(names_store, ner_nlp, runner, db_path: Path) -> None:
    before = names_store.document_content(1)
    ps.pseudonymize(names_store, 1, lambda: ner_nlp)
    result = runner.invoke(cli, ["--db", str(db_path), "pseudonymize", "1", "--reverse"])
    assert result.exit_code == 0, result.output
    assert names_store.document_content(1) == before
    again = runner.invoke(cli, ["--db", str(db_path), "pseudonymize", "1", "--reverse"])
    assert again.output.strip() == "document 1 is not pseudonymized; nothing to restore"


def test_second_run_is_a_no_op_with_a_notice(names_store, ner_nlp, runner, db_path: Path,
                                             monkeypatch) -> None:
    monkeypatch.setattr(nlp_mod, "load", lambda purpose="segment", name=None: ner_nlp)
    first = runner.invoke(cli, ["--db", str(db_path), "pseudonymize", "navne.txt"])
    assert first.exit_code == 0, first.output
    assert first.output.strip() == ("document 1: 3 speakers and 3 other persons pseudonymized, "
                                    "8 names replaced in the text")
    content = names_store.document_content(1)
    second = runner.invoke(cli, ["--db", str(db_path), "pseudonymize", "1"])
    assert second.exit_code == 0
    assert "already pseudonymized; nothing changed" in second.output
    assert names_store.document_content(1) == content
    for name in NAMES:  # the command's output is no place for names either
        assert name not in first.output + second.output


def test_codings_and_history_survive(names_store, ner_nlp, fixtures: Path) -> None:
    names_store.load_codebook(codebook.load(fixtures / "mini_kodebog.yaml"), "mini_kodebog.yaml")
    seg = next(s for s in names_store.segments(1) if "kaffen, Anette" in s.text)
    names_store.add_coding([seg.id], "mek_kaffe", "lise", memo="Anette takker for kaffen")
    history = names_store.history(seg.id)
    ps.pseudonymize(names_store, 1, lambda: ner_nlp)
    [view] = names_store.coding_views(document_id=1)
    assert (view.segment_id, view.code_key, view.memo) == (
        seg.id, "mek_kaffe", "Anette takker for kaffen")
    assert view.text == "Tak for kaffen, Deltager 1."
    assert view.speaker == "Deltager 2"
    assert names_store.history(seg.id) == history


def test_swapped_numbered_labels_and_round_trip(any_store, tmp_path: Path, blank_nlp) -> None:
    store = any_store
    path = tmp_path / "nummereret.txt"
    path.write_text("Deltager 2: Jeg bor i Ærøskøbing.\nDeltager 1: Deltager 2 har ret.\n"
                    "Interviewer: Tak til jer begge.\n", encoding="utf-8")
    assert import_paths([path], store, lambda: blank_nlp).failed == 0
    before = store.document_content(1)
    ps.pseudonymize(store, 1, lambda: blank_nlp)
    after = store.document_content(1)
    assert [s.name for s in after.speakers] == ["Deltager 1", "Deltager 2", "Moderator"]
    assert [t.text for t in store.turns(1)][1] == "Deltager 1 har ret."
    assert_offsets_slice(after)
    ps.restore(store, 1)
    assert store.document_content(1) == before

