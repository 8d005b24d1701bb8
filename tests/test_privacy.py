"""Personal data: pseudonymized exports, and no transcript text in logs or error messages."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

from evaltool import codebook, export
from evaltool import nlp as nlp_mod
from evaltool import pseudonymize as ps
from evaltool.autocode import run
from evaltool.cli import cli
from evaltool.errors import IngestError
from evaltool.importer import import_paths
from evaltool.ingest import read_document

# Speaker names and the persons the NER finds in tests/fixtures/navne.txt.
ORIGINAL_NAMES = ["Anette", "Jensen", "Søren", "Bæk", "Karen", "Holm", "Mette Frederiksen",
                  "Jørgen Ravn", "Ordstyrer"]


@pytest.fixture(scope="module")
def ner_nlp():
    """The installed Danish pipeline with its NER."""
    return nlp_mod.load("ner")


@pytest.fixture
def coded_names(store, fixtures: Path, model_nlp):
    """navne.txt imported, the mini codebook loaded, every segment coded (with a memo)."""
    assert import_paths([fixtures / "navne.txt"], store, lambda: model_nlp).failed == 0
    store.load_codebook(codebook.load(fixtures / "mini_kodebog.yaml"), "mini_kodebog.yaml")
    segments = store.segments(1)
    store.add_coding([s.id for s in segments], "mek_kaffe", "lise")
    last = next(s for s in segments if "Anette." in s.text)
    store.add_coding([last.id], "mek_kaffe", "lise", memo="Søren takker Anette for kaffen")
    return store


def read_csv(path: Path) -> str:
    """A whole exported CSV as text, and check pandas can read it back."""
    assert len(pd.read_csv(path, keep_default_na=False)) > 0
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("unit", ["segment", "turn"])
def test_export_pseudonymize_hides_names_without_changing_the_database(
        coded_names, db_path: Path, tmp_path: Path, runner, unit: str) -> None:
    before = coded_names.document_content(1)
    plain, pseudo = tmp_path / "plain.csv", tmp_path / "pseudo.csv"
    args = ["--db", str(db_path), "export", "--unit", unit, "--out"]
    assert runner.invoke(cli, [*args, str(plain)]).exit_code == 0
    result = runner.invoke(cli, [*args, str(pseudo), "--pseudonymize"])
    assert result.exit_code == 0, result.output
    assert all(name in read_csv(plain) for name in ORIGINAL_NAMES)  # the test can fail
    text = read_csv(pseudo)
    for name in ORIGINAL_NAMES:
        assert name not in text
    assert "Deltager 1" in text and "Moderator" in text and "Person 1" in text
    back = pd.read_csv(pseudo, keep_default_na=False)
    assert "Deltager 2 takker Deltager 1 for kaffen" in back["memo"].tolist()
    assert coded_names.document_content(1) == before  # nothing written
    assert coded_names.pseudonym_entries(1) == []


def test_export_of_a_pseudonymized_document_uses_its_mapping(coded_names, ner_nlp) -> None:
    ps.pseudonymize(coded_names, 1, lambda: ner_nlp)

    def no_model():
        raise AssertionError("the stored mapping is used; no NER needed")

    hook = ps.export_hook(coded_names, no_model)
    frame = export.build_frame(coded_names, pseudonyms=hook)
    flat = frame.to_csv(index=False)
    for name in ORIGINAL_NAMES:
        assert name not in flat
    assert set(frame.speaker) == {"Moderator", "Deltager 1", "Deltager 2"}
    assert "Deltager 2 takker Deltager 1 for kaffen" in frame.memo.tolist()
    assert not {"original", "pseudonym", "spans", "kind"} & set(frame.columns)


BAD_TEXT = ("---\ntitle: [Karen fortalte om kaffen i Ærøskøbing\n---\n"
            "Karen: Vi mødtes hver tirsdag i læsecaféen.\n")
NO_TURNS = "Bent tog kagen med, og alle blev hængende længe efter.\n"


def test_logs_and_errors_never_contain_transcript_text(store, fixtures: Path, model_nlp, ner_nlp,
                                                       tmp_path: Path, caplog, runner,
                                                       db_path: Path) -> None:
    bad, empty = tmp_path / "ødelagt.txt", tmp_path / "ingen_talere.md"
    bad.write_text(BAD_TEXT, encoding="utf-8")
    empty.write_text(NO_TURNS, encoding="utf-8")
    caplog.set_level(logging.DEBUG)
    summary = import_paths([fixtures / "navne.txt", bad, empty], store, lambda: model_nlp)
    assert [r.status for r in summary.results] == ["imported", "failed", "failed"]
    store.load_codebook(codebook.load(fixtures / "mini_kodebog.yaml"), "mini_kodebog.yaml")
    report = run.run(store, lambda: model_nlp, retrain=True)
    ps.pseudonymize(store, 1, lambda: ner_nlp)
    ps.restore(store, 1)
    cli_run = runner.invoke(cli, ["--db", str(db_path), "-v", "ingest", str(bad), str(empty)])
    assert cli_run.exit_code == 1
    errors = [r.message for r in summary.results if r.status == "failed"]
    for path in (bad, empty):
        with pytest.raises(IngestError) as info:
            read_document(path)
        errors.append(str(info.value))
    sentences = [s.text for s in store.segments(1)]
    sentences += ["Karen fortalte om kaffen i Ærøskøbing", "Vi mødtes hver tirsdag i læsecaféen",
                  "Bent tog kagen med"]
    assert len(caplog.records) >= 4 and report.line()
    logged = [r.getMessage() for r in caplog.records] + [caplog.text]
    for sentence in sentences:
        for line in logged + errors + [cli_run.output]:
            assert sentence not in line
    assert all(str(p) in e for p, e in zip([bad, empty, bad, empty], errors, strict=True))
