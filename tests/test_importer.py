"""Importing into the store: offsets, equivalence, duplicates, atomic batches."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaltool.importer import import_paths
from tests.conftest import write_variants


def test_import_stores_turns_segments_and_offsets(store, fixtures: Path, model_nlp) -> None:
    summary = import_paths([fixtures / "fokusgruppe.txt"], store, lambda: model_nlp)
    assert summary.line() == "1 imported, 0 skipped, 0 failed"
    doc = store.list_documents()[0]
    assert (doc.name, doc.site, doc.date, doc.speakers, doc.turns) == (
        "fokusgruppe.txt", "Ærøskøbing", "2016-12-01", 3, 6)
    assert doc.attributes["location"] == "Øens bibliotek"
    assert doc.target_groups == ["Senioren", "Marginaliserede unge"]
    text = store.document_text(doc.id)
    turns = store.turns(doc.id)
    assert [t.number for t in turns] == [1, 2, 3, 4, 5, 6]
    assert turns[0].is_moderator and not turns[1].is_moderator
    assert (turns[2].speaker, turns[2].role, turns[2].start_time) == (
        "Øjvind", "frivillig i ældreklubben", 15.0)
    for t in turns:
        assert text[t.start_char:t.end_char] == t.text
    segs = store.segments(doc.id)
    for s in segs:
        assert text[s.start_char:s.end_char] == s.text
    turn2 = [s.text for s in segs if s.turn == 2]
    assert turn2 == ["Jeg hedder Søren.", "Jeg har været på biblioteket i tolv år."]
    assert [s.sent_index for s in segs if s.turn == 2] == [0, 1]
    assert "hedde" in segs[2].lemmas.split()


def _snapshot(store) -> list:
    out = []
    for doc in store.list_documents():
        out.append((
            [(t.number, t.speaker, t.role, t.start_time, t.text) for t in store.turns(doc.id)],
            [(s.turn, s.sent_index, s.start_char, s.end_char, s.text)
             for s in store.segments(doc.id)],
            store.document_text(doc.id),
        ))
    return out


def test_variants_store_identical_turns_and_segments(fixtures, tmp_path, model_nlp) -> None:
    from evaltool.store import open_store

    variants = write_variants(fixtures / "fokusgruppe.txt", tmp_path / "v")
    paths = [*variants.values(), fixtures / "fokusgruppe.vtt", fixtures / "fokusgruppe.srt"]
    snapshots = []
    for i, path in enumerate(paths):
        s = open_store(str(tmp_path / f"db{i}.db"))
        assert import_paths([path], s, lambda: model_nlp).failed == 0
        snapshots.append(_snapshot(s))
        s.close()
    assert all(snap == snapshots[0] for snap in snapshots[1:])


def test_same_content_is_skipped_unless_replace(store, fixtures, tmp_path, blank_nlp) -> None:
    variants = write_variants(fixtures / "fokusgruppe.txt", tmp_path / "v")
    first = import_paths([variants["utf8"]], store, lambda: blank_nlp)
    assert first.line() == "1 imported, 0 skipped, 0 failed"
    again = import_paths([variants["cp1252_crlf"], variants["docx"]], store, lambda: blank_nlp)
    assert again.line() == "0 imported, 2 skipped, 0 failed"
    assert "already imported as document 1" in again.results[0].message
    replaced = import_paths([variants["utf8"]], store, lambda: blank_nlp, replace=True)
    assert replaced.line() == "1 imported, 0 skipped, 0 failed"
    assert [d.id for d in store.list_documents()] == [2]


def test_batch_without_nlp_when_nothing_to_do(store, fixtures, blank_nlp) -> None:
    import_paths([fixtures / "fokusgruppe.txt"], store, lambda: blank_nlp)

    def no_model():
        raise AssertionError("model loaded although every file was a duplicate")

    assert import_paths([fixtures / "fokusgruppe.txt"], store, no_model).count("skipped") == 1


def test_bad_file_in_batch_stores_nothing_of_itself(store, fixtures, tmp_path, blank_nlp) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("---\ntitle: x\n", encoding="utf-8")
    summary = import_paths([fixtures / "fokusgruppe.txt", bad, fixtures / "afsnit.md"], store,
                           lambda: blank_nlp)
    assert [r.status for r in summary.results] == ["imported", "failed", "imported"]
    assert summary.line() == "2 imported, 0 skipped, 1 failed"
    assert [d.name for d in store.list_documents()] == ["fokusgruppe.txt", "afsnit.md"]


class ExplodingPipe:
    """A pipeline that fails part-way through a file, after rows were written."""

    def __init__(self, nlp, fail_after: int) -> None:
        self.nlp, self.fail_after, self.meta = nlp, fail_after, nlp.meta
        self.max_length = nlp.max_length
        self.done = 0

    def pipe(self, items, **kwargs):
        for item in self.nlp.pipe(items, **kwargs):
            if self.done >= self.fail_after:
                raise RuntimeError("simulated crash inside the NLP pipeline")
            self.done += 1
            yield item


def test_failure_mid_file_rolls_back_everything_of_that_file(store, fixtures, blank_nlp,
                                                             monkeypatch) -> None:
    from evaltool import importer

    monkeypatch.setattr(importer, "TURN_BATCH", 2)  # several batches are written first
    import_paths([fixtures / "afsnit.md"], store, lambda: blank_nlp)
    before = _snapshot(store)
    [result] = import_paths([fixtures / "fokusgruppe.txt"], store,
                            lambda: ExplodingPipe(blank_nlp, fail_after=4)).results
    assert result.status == "failed"
    assert result.message.endswith(": unexpected error (RuntimeError); nothing stored")
    assert _snapshot(store) == before
    with store.engine.connect() as conn:
        counts = [conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar()
                  for t in ("documents", "speakers", "turns", "segments", "document_attributes")]
    assert counts[0] == 1 and counts[4] == 0


# -- streaming import: two passes over the file ----------------------------------------

# content_hash of fokusgruppe.txt as evaltool computed it before imports were streamed
# (json of the front matter, then of each turn): existing databases dedupe on it.
FOKUSGRUPPE_HASH = "74edca0c5624ee57fd0ef6e26e954d72bf76618b5b4e3038818261a6ab8fa244"


def test_content_hash_is_unchanged_by_streaming(store, fixtures, tmp_path, blank_nlp) -> None:
    from evaltool.importer import content_hash, survey
    from evaltool.ingest import open_document, read_document

    path = fixtures / "fokusgruppe.txt"
    assert content_hash(read_document(path)) == FOKUSGRUPPE_HASH
    assert survey(open_document(path)).digest == FOKUSGRUPPE_HASH
    variants = write_variants(path, tmp_path / "v")
    assert {survey(open_document(p)).digest for p in variants.values()} == {FOKUSGRUPPE_HASH}
    import_paths([path], store, lambda: blank_nlp)
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT content_hash FROM documents").scalar() == FOKUSGRUPPE_HASH


def _counts(store) -> list[int]:
    with store.engine.connect() as conn:
        return [conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar()
                for t in ("documents", "speakers", "turns", "segments", "document_attributes")]


def test_file_failing_on_its_last_line_stores_nothing(store, tmp_path, blank_nlp,
                                                      monkeypatch) -> None:
    from evaltool import importer

    monkeypatch.setattr(importer, "TURN_BATCH", 2)  # many batches would come before it
    path = tmp_path / "slut.txt"
    lines = [f"Åse: Kaffen i tur {i} var god.\n" for i in range(20)] + ["Bo: Øv\x07\n"]
    path.write_bytes("".join(lines).encode("utf-16"))
    summary = import_paths([path], store, lambda: blank_nlp)
    assert summary.results[0].status == "failed"
    assert summary.results[0].message == f"{path}: binary data, not a text transcript"
    assert _counts(store) == [0, 0, 0, 0, 0]


def test_turn_failing_late_fails_before_anything_is_written(store, fixtures, blank_nlp,
                                                            monkeypatch) -> None:
    """An error on the last turn surfaces in the first pass: no row, no model loaded."""
    from evaltool import importer
    from evaltool.domain import DocumentStream
    from evaltool.errors import IngestError
    from evaltool.ingest import open_document

    real = open_document(fixtures / "fokusgruppe.txt")

    def failing_last():
        turns = list(real.turns())
        yield from turns[:-1]
        raise IngestError(fixtures / "fokusgruppe.txt", 20, "bad last line")

    monkeypatch.setattr(importer, "TURN_BATCH", 2)
    monkeypatch.setattr(importer, "open_document", lambda path: DocumentStream(
        real.name, real.format, real.metadata, failing_last))

    def no_model():
        raise AssertionError("the model was loaded for a file that fails")

    summary = import_paths([fixtures / "fokusgruppe.txt"], store, no_model)
    assert [r.message for r in summary.results] == [
        f"{fixtures / 'fokusgruppe.txt'}:20: bad last line"]
    assert _counts(store) == [0, 0, 0, 0, 0]


@pytest.mark.parametrize("edit", [
    lambda text: text.replace("tolv år", "tretten år"),  # other turns: the hash differs
    lambda text: text.split("---")[-1],  # no front matter: reading it again fails
])
def test_file_changed_between_the_passes_stores_nothing(store, fixtures, tmp_path, blank_nlp,
                                                        monkeypatch, edit) -> None:
    from evaltool import importer

    path = tmp_path / "fokusgruppe.txt"
    text = (fixtures / "fokusgruppe.txt").read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    first_pass = importer.survey

    def survey_then_edit(doc):
        result = first_pass(doc)
        path.write_text(edit(text), encoding="utf-8")
        return result

    monkeypatch.setattr(importer, "TURN_BATCH", 2)
    monkeypatch.setattr(importer, "survey", survey_then_edit)
    summary = import_paths([path], store, lambda: blank_nlp)
    message = summary.results[0].message
    assert summary.results[0].status == "failed"
    assert message.startswith(f"{path}: the file changed while it was being imported")
    assert "nothing stored" in message and "\n" not in message and "tretten" not in message
    assert _counts(store) == [0, 0, 0, 0, 0]


def test_two_worker_processes_import_exactly_what_one_process_does(tmp_path: Path, fixtures: Path,
                                                                   blank_nlp) -> None:
    """n_process=2: one worker pool for the batch; a bad file between good ones changes nothing."""
    from evaltool.store import open_store

    bad = tmp_path / "ødelagt.txt"
    bad.write_bytes(b"\x00\x01binary")
    files = [fixtures / "fokusgruppe.txt", bad, fixtures / "kaffe_morsoe.txt",
             fixtures / "kaffe_aars.txt", fixtures / "afsnit.md"]
    snapshots, lines = [], []
    for n in (1, 2):
        store = open_store(str(tmp_path / f"n{n}.db"))
        summary = import_paths(files, store, lambda: blank_nlp, n_process=n)
        lines.append(summary.line())
        snapshots.append(_snapshot(store))
        store.close()
    assert lines == ["4 imported, 0 skipped, 1 failed"] * 2
    assert snapshots[0] == snapshots[1] and len(snapshots[0]) == 4
