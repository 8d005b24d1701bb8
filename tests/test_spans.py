"""Span codings: coding any words of a turn with exact document offsets (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from evaltool import codebook
from evaltool.errors import ConflictError, NotFoundError, SpanError
from evaltool.store.models import Coding, Event
from tests.conftest import FIXTURES


def _counts(store) -> tuple[int, int]:
    with store.engine.connect() as conn:
        return (conn.scalar(select(func.count()).select_from(Coding)),
                conn.scalar(select(func.count()).select_from(Event)))


def _span(text: str, words: str) -> tuple[int, int]:
    start = text.index(words)
    return start, start + len(words)


def test_a_span_is_stored_with_exact_offsets_and_its_quote(team_store) -> None:
    store = team_store
    text = store.document_text(1)
    start, end = _span(text, "satte kaffe")
    view = store.code_span(1, start, end, "mek_kaffe", coder="Åse", memo="kernen")
    assert (view.start, view.end, view.is_span) == (start, end, True)
    assert view.quote == "satte kaffe" == text[view.start:view.end]
    assert (view.status, view.source, view.coder, view.memo) == ("accepted", "human", "Åse",
                                                                 "kernen")
    assert view.confidence is None and view.explanation == "" and view.layer == ""
    # its sentence, turn and document are those of the words
    sentence = next(s for s in store.segments(1) if s.start_char <= start < s.end_char)
    assert (view.segment_id, view.turn, view.document_id) == (sentence.id, 1, 1)
    # the sentence itself is not coded; a sentence coding beside the span is allowed
    views = store.coding_views(status="all", document_id=1)
    assert [(v.id, v.is_span) for v in views] == [(view.id, True)]
    store.add_coding([sentence.id], "mek_kaffe", "Åse")
    both = store.coding_views(status="all", document_id=1)
    assert sorted((v.is_span, v.text) for v in both) == [
        (False, sentence.text), (True, "satte kaffe")]
    assert all(text[v.start:v.end] == v.quote for v in both)
    # the decision is an event, as any other
    entries = store.history(sentence.id)
    assert entries[0].action == "add" and entries[0].after["start_char"] == start


def test_a_span_across_the_sentences_of_a_turn_belongs_to_the_first(team_store) -> None:
    store = team_store
    text = store.document_text(1)
    start, end = _span(text, "kaffe på bordet. Der kom nye")
    view = store.code_span(1, start, end, "udf_nye_brugere", coder="Åse")
    first = next(s for s in store.segments(1) if s.start_char <= start < s.end_char)
    assert view.segment_id == first.id and view.quote == "kaffe på bordet. Der kom nye"
    assert first.end_char < end  # it reaches into the next sentence


def test_whitespace_around_a_selection_is_left_off(team_store) -> None:
    store = team_store
    text = store.document_text(1)
    start, end = _span(text, "Der kom nye brugere.")
    # a selection that runs from the space before into the blank lines after the turn
    view = store.code_span(1, start - 1, end + 2, "udf_nye_brugere", coder="Åse")
    assert (view.start, view.end) == (start, end)
    assert view.quote == "Der kom nye brugere."


@pytest.mark.parametrize(("case", "kind"), [
    ("empty", "empty"), ("blank", "empty"), ("gap", "empty"), ("reversed", "out_of_range"),
    ("negative", "out_of_range"), ("past_end", "out_of_range"), ("two_turns", "across_turns"),
])
def test_refused_selections_leave_nothing_written(team_store, case: str, kind: str) -> None:
    store = team_store
    text = store.document_text(1)
    turn1_end = store.turns(1)[0].end_char
    start, end = _span(text, "satte kaffe")
    space = text.index(" ", start)
    selection = {"empty": (start, start), "blank": (space, space + 1),
                 "gap": (turn1_end, turn1_end + 2), "reversed": (end, start),
                 "negative": (-3, 4), "past_end": (len(text) - 3, len(text) + 1),
                 "two_turns": (turn1_end - 8, turn1_end + 6)}[case]
    before = _counts(store)
    with pytest.raises(SpanError) as err:
        store.code_span(1, *selection, "mek_kaffe", coder="Åse")
    assert err.value.kind == kind
    assert "\n" not in str(err.value) and str(err.value).startswith("document 1, characters ")
    assert "kaffe" not in str(err.value)  # never the transcript's text
    assert _counts(store) == before


def test_unknown_document_and_code_and_the_same_span_twice_are_refused(team_store) -> None:
    store = team_store
    start, end = _span(store.document_text(1), "nye brugere")
    with pytest.raises(NotFoundError, match="no document 9"):
        store.code_span(9, start, end, "mek_kaffe", coder="Åse")
    with pytest.raises(NotFoundError, match="no code 'nope'"):
        store.code_span(1, start, end, "nope", coder="Åse")
    store.code_span(1, start, end, "udf_nye_brugere", coder="Åse")
    before = _counts(store)
    with pytest.raises(SpanError, match="already has this code"):
        store.code_span(1, start, end, "udf_nye_brugere", coder="Bo")
    assert _counts(store) == before
    # another code on the same words, or the same code on other words, is fine
    store.code_span(1, start, end, "mek_kaffe", coder="Åse")
    store.code_span(1, start, end - 1, "udf_nye_brugere", coder="Åse")


def test_a_retired_code_is_refused(team_store, tmp_path) -> None:
    store = team_store
    book = (FIXTURES / "mini_kodebog.yaml").read_text(encoding="utf-8")
    cut = book.index("  - id: udf_invitationer")
    path = tmp_path / "smaller.yaml"
    path.write_text(book[:cut].replace("version: 1", "version: 2"), encoding="utf-8")
    store.load_codebook(codebook.load(path), "smaller.yaml")
    start, end = _span(store.document_text(1), "nye brugere")
    with pytest.raises(SpanError, match="retired"):
        store.code_span(1, start, end, "udf_invitationer", coder="Åse")


def test_decide_and_undo_work_on_a_span_coding(team_store) -> None:
    store = team_store
    start, end = _span(store.document_text(1), "Kommunens strategi")
    view = store.code_span(1, start, end, "ctx_strategi", coder="Åse")
    version = store.decide(view.id, "recode", "Åse", expected_version=view.version,
                           code_key="mek_kaffe")
    with pytest.raises(ConflictError):  # a stale version is refused
        store.decide(view.id, "memo", "Bo", expected_version=view.version, memo="x")
    store.decide(view.id, "memo", "Bo", expected_version=version, memo="om strategien")
    (now,) = store.coding_views(status="all", document_id=1)
    assert (now.code_key, now.memo, now.is_span, now.quote) == (
        "mek_kaffe", "om strategien", True, "Kommunens strategi")
    store.undo_last("Bo")
    store.undo_last("Åse")  # the recode
    (back,) = store.coding_views(status="all", document_id=1)
    assert (back.code_key, back.start, back.end) == ("ctx_strategi", start, end)
    store.undo_last("Åse")  # the span coding itself
    assert store.coding_views(status="all", document_id=1) == []


def test_recoding_a_span_onto_a_code_the_same_span_has_is_refused(team_store) -> None:
    store = team_store
    start, end = _span(store.document_text(1), "Kommunens strategi")
    one = store.code_span(1, start, end, "ctx_strategi", coder="Åse")
    store.code_span(1, start, end, "mek_kaffe", coder="Åse")
    # the same words already carry the other code
    with pytest.raises(ConflictError):
        store.decide(one.id, "recode", "Åse", code_key="mek_kaffe")


def test_a_blind_coder_codes_spans_in_their_own_layer(team_store) -> None:
    store = team_store
    store.assign(1, ["Åse", "Bo"], blind=True)
    start, end = _span(store.document_text(1), "nye brugere")
    mine = store.code_span(1, start, end, "udf_nye_brugere", coder="Åse")
    assert mine.layer == "Åse"
    assert store.coding_views(status="all", document_id=1) == []  # nothing shared
    assert [v.id for v in store.coder_view(1, "Åse")] == [mine.id]
    assert store.coder_view(1, "Bo") == []
    # Bo may code the same words blind too, in his layer
    his = store.code_span(1, start, end, "udf_nye_brugere", coder="Bo")
    assert his.layer == "Bo" and his.id != mine.id
    # deciding it blind keeps it in the layer, a span still
    decision = store.decide_as("Åse", mine.id, "reject", expected_version=mine.version)
    assert decision.coding_id == mine.id
    (seen,) = store.coder_view(1, "Åse")
    assert (seen.status, seen.is_span, seen.quote) == ("rejected", True, "nye brugere")
    # coded again: the rejected row is accepted again, not duplicated
    again = store.code_span(1, start, end, "udf_nye_brugere", coder="Åse")
    assert again.id == mine.id and again.status == "accepted"


def test_export_gives_a_span_its_offsets_and_words(team_store, tmp_path) -> None:
    from evaltool import export

    store = team_store
    text = store.document_text(1)
    start, end = _span(text, "Strategien var klar. Det var")
    store.code_span(1, start, end, "ctx_strategi", coder="Åse")
    sentence = next(s for s in store.segments(1) if s.text == "Kaffen var god.")
    store.add_coding([sentence.id], "mek_kaffe", "Åse")
    frame = export.build_frame(store)
    rows = frame[["start_char", "end_char", "text", "code_id", "unit", "turn"]].to_dict("records")
    assert rows == [
        {"start_char": sentence.start_char, "end_char": sentence.end_char,
         "text": "Kaffen var god.", "code_id": "mek_kaffe", "unit": "sentence", "turn": 2},
        {"start_char": start, "end_char": end, "text": "Strategien var klar. Det var",
         "code_id": "ctx_strategi", "unit": "span", "turn": 2}]
    for r in rows:
        assert text[r["start_char"]:r["end_char"]] == r["text"]
    # the streamed CSV writes the same bytes
    streamed, table = tmp_path / "s.csv", tmp_path / "t.csv"
    assert export.export_file(store, streamed) == export.write(frame, table) == 2
    assert streamed.read_bytes() == table.read_bytes()
    # the turn-level export quotes the turn, once per code
    turns = export.build_frame(store, unit="turn")
    assert set(turns["unit"]) == {"turn"} and len(turns) == 2


def test_cli_codes_a_span_and_history_quotes_it(team_store, team_db, runner) -> None:
    from evaltool.cli import cli

    text = team_store.document_text(1)
    start, end = _span(text, "Jeg fik lånerkort")
    args = ["--db", team_db, "code-span", "bibliotek_toender.txt", "--start", str(start),
            "--end", str(end), "--code", "udf_nye_brugere", "--coder", "Åse"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert f"udf_nye_brugere on characters {start}-{end} of bibliotek_toender.txt" in result.output
    (view,) = team_store.coding_views(document_id=1)
    assert view.quote == "Jeg fik lånerkort"
    history = runner.invoke(cli, ["--db", team_db, "history", "--segment", str(view.segment_id)])
    assert f'{start}-{end} "Jeg fik lånerkort"' in history.output
    # refused: one line, nothing written
    again = runner.invoke(cli, args)
    assert again.exit_code != 0
    assert again.output.strip().count("\n") == 0 and "already has this code" in again.output
    gap = runner.invoke(cli, [*args[:5], str(end), "--end", str(end), *args[8:]])
    assert gap.exit_code != 0 and "empty" in gap.output
    assert len(team_store.coding_views(status="all", document_id=1)) == 1


def test_reliability_counts_spans_on_their_sentences_and_by_character_overlap(team_store) -> None:
    """Worked by hand (see README 'Span codings'): Ane codes "satte kaffe på bordet" (21
    characters) and the whole sentence "Strategien var klar." (20); Bo codes "kaffe på
    bordet. Der" (20, into the next sentence) and "Strategien" (10)."""
    from evaltool import reliability as rel

    store = team_store
    store.assign(1, ["Ane", "Bo"], blind=True)
    text = store.document_text(1)
    store.code_span(1, *_span(text, "satte kaffe på bordet"), "mek_kaffe", coder="Ane")
    strategi = next(s for s in store.segments(1) if s.text == "Strategien var klar.")
    store.add_as("Ane", [strategi.id], "ctx_strategi")
    store.code_span(1, *_span(text, "kaffe på bordet. Der"), "mek_kaffe", coder="Bo")
    store.code_span(1, *_span(text, "Strategien"), "ctx_strategi", coder="Bo")
    report = rel.reliability(store, "Ane", "Bo")
    # sentences: "Vi satte kaffe på bordet." both {mek_kaffe}; "Der kom nye brugere."
    # Ane {} / Bo {mek_kaffe}; "Strategien var klar." both {ctx_strategi}
    assert report.units == 3
    assert report.agreement == pytest.approx(2 / 3)
    assert report.kappa == pytest.approx(0.5)  # p_o 2/3, p_e (1·2 + 1·0 + 1·1)/9 = 1/3
    kaffe = next(c for c in report.per_code if c.code == "mek_kaffe")
    assert (kaffe.n_a, kaffe.n_b, kaffe.both) == (1, 2, 1)
    assert kaffe.kappa == pytest.approx(0.4)  # p_o 2/3, p_e (1·2 + 2·1)/9 = 4/9
    overlap = {o.code: o for o in report.overlap}
    assert (overlap["mek_kaffe"].chars_a, overlap["mek_kaffe"].chars_b,
            overlap["mek_kaffe"].chars_both) == (21, 20, 15)  # "kaffe på bordet"
    assert overlap["mek_kaffe"].overlap == pytest.approx(15 / 26)
    assert (overlap["ctx_strategi"].chars_a, overlap["ctx_strategi"].chars_b,
            overlap["ctx_strategi"].chars_both) == (20, 10, 10)
    assert overlap["ctx_strategi"].overlap == pytest.approx(0.5)
    assert report.char_overlap == pytest.approx(25 / 46)
    assert report.span_codings == 3
    (disagreement,) = rel.disagreements(store, "Ane", "Bo")
    assert disagreement.text == "Der kom nye brugere." and disagreement.codes_b == ("mek_kaffe",)


def test_training_and_autocoding_respect_span_codings(team_store, blank_nlp) -> None:
    from evaltool.autocode import run
    from evaltool.domain import Suggestion

    store = team_store
    text = store.document_text(1)
    span = store.code_span(1, *_span(text, "kaffe på bordet. Der"), "mek_kaffe", coder="Åse")
    segs = {s.text: s.id for s in store.segments(1)}
    kaffe, nye, strategi = (segs["Vi satte kaffe på bordet."], segs["Der kom nye brugere."],
                            segs["Kommunens strategi gav os ryg."])
    # a positive of both sentences it overlaps, not of the others
    labels = store.reviewed_labels()
    assert labels.accepted == {kaffe: {"mek_kaffe"}, nye: {"mek_kaffe"}}
    assert store.accepted_labels() == labels.accepted
    assert (1, 1) in labels.turns
    # the machine does not suggest the code on those sentences, and never touches the span
    wrote = store.write_suggestions(
        [Suggestion(kaffe, "mek_kaffe", "rules", 0.9, "kaffe"),
         Suggestion(nye, "udf_nye_brugere", "rules", 0.8, "nye brugere"),
         Suggestion(strategi, "ctx_strategi", "rules", 0.7, "strategi")],
        segment_ids=list(segs.values()), model_version="t", codebook_version=1)
    assert (wrote.added, wrote.human_kept) == (2, 1)
    run.run(store, lambda: blank_nlp)
    views = store.coding_views(status="all", document_id=1)
    assert [v for v in views if v.is_span] == [span]
    assert not [v for v in views if v.code_key == "mek_kaffe" and v.segment_id in (kaffe, nye)
                and not v.is_span]


def test_dashboards_and_matrices_count_a_span_and_quote_its_words(team_store) -> None:
    from evaltool import analysis

    store = team_store
    text = store.document_text(1)
    # long enough for a dashboard quote (40 characters or more)
    words = "Kommunens strategi gav os ryg. Vi satte kaffe"
    store.code_span(1, *_span(text, words), "ctx_strategi", coder="Åse")
    counts = {key: (own, total) for key, own, total in store.count_by_code_tree(["accepted"])}
    assert counts["ctx_strategi"] == (1, 1)
    assert store.count_by_category("theme", ["accepted"]) == [("T2", "context", 1)]
    quotes = store.strongest_quotes(["T2"], ["accepted"])
    assert [q.text for q in quotes["T2"]] == [words]
    m = store.matrix("site")
    assert m.count("ctx_strategi", "Tønder") == 1
    (quote,) = analysis.matrix_quotes(store, m, "ctx_strategi", "Tønder")
    assert (quote.quote, quote.is_span) == (words, True)


# The fixture transcript edited: a turn added at the start (every turn number moves up by
# one), Søren's turn reworded; Mette's and Åse's turns unchanged.
EDITED = """---
title: Kaffe på biblioteket
site: Tønder
---
[00:00:01] Mette (bibliotekar): Velkommen til.
[00:00:05] Mette (bibliotekar): Kommunens strategi gav os ryg. Vi satte kaffe på bordet. Der kom nye brugere.
[00:00:30] Søren (frivillig): Kaffen var god. Strategien var ny. Det var hyggeligt.
[00:01:00] Åse (borger): Jeg fik lånerkort. Kagen var lækker. Vi talte længe. Tak for i dag.
"""


def test_reimport_carries_spans_of_unchanged_turns_and_reports_the_rest(team_store, tmp_path,
                                                                        blank_nlp) -> None:
    from evaltool.importer import import_paths

    store = team_store
    text = store.document_text(1)
    kept = store.code_span(1, *_span(text, "fik lånerkort. Kagen"), "udf_nye_brugere",
                           coder="Åse", memo="to sætninger")
    first = store.code_span(1, *_span(text, "Kommunens strategi"), "ctx_strategi", coder="Bo")
    changed = store.code_span(1, *_span(text, "Strategien var klar"), "ctx_strategi", coder="Bo")
    path = tmp_path / "bibliotek_toender.txt"
    path.write_text(EDITED, encoding="utf-8")
    before = _counts(store)
    [refused] = import_paths([path], store, lambda: blank_nlp, replace=True).results
    assert refused.status == "failed" and "\n" not in refused.message
    assert (f"turn 2 characters {changed.start}-{changed.end} ctx_strategi"
            in refused.message)
    assert "Strategien" not in refused.message and _counts(store) == before
    [done] = import_paths([path], store, lambda: blank_nlp, replace=True,
                          discard_decisions=True).results
    assert done.status == "imported", done.message
    new_id = done.document_id
    new_text = store.document_text(new_id)
    views = {v.id: v for v in store.coding_views(status="all", document_id=new_id)}
    assert set(views) == {kept.id, first.id}  # the same rows, moved
    for old, turn in ((kept, 4), (first, 2)):
        v = views[old.id]
        assert (v.quote, v.is_span, v.turn, v.memo, v.coder) == (
            old.quote, True, turn, old.memo, old.coder)
        assert new_text[v.start:v.end] == old.quote
        sentence = next(s for s in store.segments(new_id) if s.id == v.segment_id)
        assert sentence.start_char <= v.start < sentence.end_char  # its first sentence
    (lost,) = done.carry.not_carried
    assert (lost.span, lost.code_key, lost.human) == ((changed.start, changed.end),
                                                      "ctx_strategi", True)
    # the carried span's history comes along and shows its new place
    entries = store.history(views[kept.id].segment_id)
    assert [e.action for e in entries] == ["add", "carry"]
    assert entries[-1].quote == kept.quote and entries[-1].start_char == views[kept.id].start


def test_deleting_a_document_removes_its_span_codings(team_store) -> None:
    store = team_store
    store.code_span(1, *_span(store.document_text(1), "nye brugere"), "udf_nye_brugere",
                    coder="Åse")
    deletion = store.delete_document(1, actor="Bo")
    assert (deletion.codings, deletion.human_decisions) == (1, 1)
    with store.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Coding)) == 0


NAMED = ("Anette Jensen (bibliotekar): Jeg hedder Anette Jensen og kom i går.\n"
         "Karen Holm (frivillig): Tak, Anette. Det var godt.\n")


def test_pseudonymisation_moves_span_offsets_with_the_names(any_store, tmp_path,
                                                            blank_nlp) -> None:
    from evaltool import export
    from evaltool import pseudonymize as ps
    from evaltool.importer import import_paths

    store = any_store
    path = tmp_path / "navne_spans.txt"
    path.write_text(NAMED, encoding="utf-8")
    assert import_paths([path], store, lambda: blank_nlp).failed == 0
    store.load_codebook(codebook.load(FIXTURES / "mini_kodebog.yaml"), "mini_kodebog.yaml")
    text = store.document_text(1)
    whole = store.code_span(1, *_span(text, "hedder Anette Jensen og"), "mek_kaffe", coder="Åse")
    start, end = _span(text, "nette Jensen og kom")  # begins inside the name
    part = store.code_span(1, start, end, "ctx_strategi", coder="Åse", memo="om hende")
    thanks = store.code_span(1, *_span(text, "Tak, Anette"), "udf_nye_brugere", coder="Åse")
    # the export's pseudonymised quotes, offsets into the pseudonymised text (database unchanged)
    frame = export.build_frame(store, pseudonyms=ps.export_hook(store, lambda: blank_nlp))
    exported = sorted(zip(frame["start_char"], frame["end_char"], frame["text"], strict=True))
    assert [q for _, _, q in exported] == [
        "hedder Deltager 1 og", "Deltager 1 og kom", "Tak, Deltager 1"]
    assert store.document_text(1) == text
    # the memo export's quote of that span too
    memos = export.memo_frame(store.memos(), pseudonyms=ps.export_hook(store, lambda: blank_nlp))
    assert list(memos["quote"]) == ["Deltager 1 og kom"]
    # pseudonymising the document moves the spans the same way
    ps.pseudonymize(store, 1, lambda: blank_nlp)
    after = store.document_text(1)
    views = {v.id: v for v in store.coding_views(document_id=1)}
    assert [views[c.id].quote for c in (whole, part, thanks)] == [
        "hedder Deltager 1 og", "Deltager 1 og kom", "Tak, Deltager 1"]
    assert all(after[v.start:v.end] == v.quote for v in views.values())
    assert sorted((v.start, v.end, v.quote) for v in views.values()) == exported
    assert "Anette" not in after and "nette" not in "".join(v.quote for v in views.values())
    # restoring puts the names back; a span that began inside a name now holds all of it
    ps.restore(store, 1)
    assert store.document_text(1) == text
    views = {v.id: v for v in store.coding_views(document_id=1)}
    assert [views[c.id].quote for c in (whole, part, thanks)] == [
        "hedder Anette Jensen og", "Anette Jensen og kom", "Tak, Anette"]
    assert (views[whole.id].start, views[thanks.id].end) == (whole.start, thanks.end)


def test_the_database_keeps_sentence_codings_unique_and_spans_unique_per_span(team_store) -> None:
    from sqlalchemy import insert
    from sqlalchemy.exc import IntegrityError

    store = team_store
    seg = store.segments(1)[0]
    (cid,) = store.add_coding([seg.id], "mek_kaffe", "Åse")
    with store.engine.connect() as conn:
        row = dict(conn.execute(select(Coding).where(Coding.id == cid)).mappings().one())
    del row["id"]
    span = {**row, "start_char": seg.start_char, "end_char": seg.start_char + 9}
    with store.write() as conn:
        conn.execute(insert(Coding).values(**span))  # a span beside the sentence coding
        conn.execute(insert(Coding).values(**{**span, "end_char": seg.start_char + 8}))
    for duplicate in (row, span):
        with pytest.raises(IntegrityError), store.write() as conn:
            conn.execute(insert(Coding).values(**duplicate))
    assert _counts(store)[0] == 3


def test_upgrading_to_spans_keeps_codings_and_downgrading_drops_only_spans(coded_store,
                                                                           db_path) -> None:
    from alembic import command

    from evaltool.store import open_store
    from evaltool.store.db import alembic_config, head_revision, make_engine

    store = coded_store
    segs = store.segments(1)
    store.add_coding([s.id for s in segs[:3]], "mek_kaffe", "Åse")
    store.code_span(1, segs[0].start_char, segs[0].start_char + 5, "mek_kaffe", coder="Åse")
    store.close()

    def downgrade(revision: str) -> None:
        engine = make_engine(f"sqlite:///{db_path}")
        with engine.connect() as conn:
            conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
            with conn.begin():
                command.downgrade(alembic_config(conn), revision)
        engine.dispose()

    downgrade("0012")  # before span codings: the span goes, the sentence codings stay
    upgraded = open_store(str(db_path))
    assert upgraded.schema_version() == head_revision()
    views = upgraded.coding_views(document_id=1)
    assert [(v.segment_id, v.is_span) for v in views] == [(s.id, False) for s in segs[:3]]
    with upgraded.engine.connect() as conn:
        schema = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE name = 'uq_codings_sentence'").scalar_one()
        fts = conn.exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE name LIKE 'segments_fts%'").scalar_one()
    assert "WHERE start_char IS NULL" in schema
    assert fts > 0  # the search index on segments is untouched
    again = upgraded.code_span(1, segs[0].start_char, segs[0].start_char + 5, "mek_kaffe",
                               coder="Åse")
    assert again.is_span
    upgraded.close()


def test_a_blind_recode_and_memo_of_a_span_stay_on_the_span_and_undo(team_store) -> None:
    store = team_store
    store.assign(1, ["Åse"], blind=True)
    start, end = _span(store.document_text(1), "Kagen var lækker")
    mine = store.code_span(1, start, end, "mek_kaffe", coder="Åse")
    noted = store.decide_as("Åse", mine.id, "memo", expected_version=mine.version, memo="kage")
    recoded = store.decide_as("Åse", mine.id, "recode", expected_version=noted.version,
                              code_key="udf_nye_brugere")
    seen = {(v.code_key, v.status, v.is_span, v.start, v.end, v.memo)
            for v in store.coder_view(1, "Åse")}
    assert seen == {("mek_kaffe", "rejected", True, start, end, "kage"),
                    ("udf_nye_brugere", "accepted", True, start, end, "")}
    assert recoded.layer == "Åse" and store.coding_views(status="all", document_id=1) == []
    store.undo_last("Åse", 3)  # the recode (two events) and the memo
    ((code, status, memo),) = {(v.code_key, v.status, v.memo) for v in store.coder_view(1, "Åse")}
    assert (code, status, memo) == ("mek_kaffe", "accepted", "")
