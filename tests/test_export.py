"""Export of coded quotes: columns, filters, both CSV dialects, XLSX, formula injection."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from evaltool import export, gold
from evaltool.autocode import run
from evaltool.cli import cli

EXPECTED_COLUMNS = ["document", "site", "speaker", "role", "turn", "segment_id", "start_char",
                    "end_char", "text", "code_id", "code_label", "cmo", "theme", "goal",
                    "source", "confidence", "status", "coder", "memo", "target_group", "unit",
                    # then the documents' other front-matter keys, sorted
                    "date", "moderator", "target_groups", "title"]


@pytest.fixture
def gold_store(coded_store, fixtures: Path):
    gold.load_gold(coded_store, fixtures / "gold")
    return coded_store


def test_rows_columns_and_values(gold_store) -> None:
    frame = export.build_frame(gold_store, status="accepted")
    assert list(frame.columns) == EXPECTED_COLUMNS
    assert len(frame) == 7
    row = frame[frame.code_id == "udf_invitationer"].iloc[0].to_dict()
    text = gold_store.document_text(2)
    assert text[row["start_char"]:row["end_char"]] == row["text"]
    assert pd.isna(row.pop("confidence"))  # a human coding has no machine confidence
    assert row | {"segment_id": 0, "start_char": 0, "end_char": 0} == {
        "document": "kaffe_aars.txt", "site": "Vesthimmerland", "speaker": "Lone",
        "role": "projektleder", "turn": 2, "segment_id": 0, "start_char": 0, "end_char": 0,
        "text": "Socialforvaltningen ringer nu og inviterer os med til deres møder.",
        "code_id": "udf_invitationer", "code_label": "Invitationer fra forvaltninger",
        "cmo": "outcome", "theme": "T2", "goal": "G2", "source": "gold",
        "status": "accepted", "coder": "guld", "memo": "", "target_group": "", "unit": "sentence",
        "date": "2016-12-06",
        "moderator": "Ordstyrer", "target_groups": "", "title": "Testinterview Aars"}


def test_filters(gold_store) -> None:
    assert set(export.build_frame(gold_store, theme="T2").code_id) == {
        "ctx_strategi", "udf_invitationer"}
    assert set(export.build_frame(gold_store, site="Morsø").document) == {"kaffe_morsoe.txt"}
    assert len(export.build_frame(gold_store, code="mek_kaffe")) == 3
    assert len(export.build_frame(gold_store, status="rejected")) == 0


def test_turn_unit_quotes_the_whole_turn(gold_store) -> None:
    frame = export.build_frame(gold_store, unit="turn", code="udf_nye_brugere", site="Morsø")
    assert len(frame) == 1
    row = frame.iloc[0]
    turn = gold_store.turns(1, 5)[0]
    assert (row.turn, row.text, row.start_char, row.end_char) == (
        5, turn.text, turn.start_char, turn.end_char)


def test_csv_round_trip_both_dialects(gold_store, tmp_path: Path, runner) -> None:
    frame = export.build_frame(gold_store, status="accepted")
    plain, danish = tmp_path / "plain.csv", tmp_path / "excel.csv"
    assert export.write(frame, plain) == 7
    export.write(frame, danish, dialect="excel-da")
    raw = danish.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b";" in raw.splitlines()[0]
    assert "æ".encode() in raw or "ø".encode() in raw
    back_plain = pd.read_csv(plain, keep_default_na=False)
    back_da = pd.read_csv(danish, sep=";", encoding="utf-8-sig", decimal=",",
                          keep_default_na=False)
    assert list(back_da.columns) == EXPECTED_COLUMNS
    for back in (back_plain, back_da):
        assert back["text"].tolist() == frame["text"].tolist()
        assert back["start_char"].tolist() == frame["start_char"].tolist()
        assert back["code_id"].tolist() == frame["code_id"].tolist()


def test_suggestion_confidence_round_trips_with_decimal_comma(coded_store, model_nlp,
                                                              tmp_path: Path) -> None:
    run.run(coded_store, lambda: model_nlp)
    frame = export.build_frame(coded_store, status="suggested")
    path = tmp_path / "s.csv"
    export.write(frame, path, dialect="excel-da")
    assert "0," in path.read_text(encoding="utf-8-sig")
    back = pd.read_csv(path, sep=";", encoding="utf-8-sig", decimal=",")
    assert back["confidence"].round(4).tolist() == frame["confidence"].tolist()


def test_xlsx_round_trip(gold_store, tmp_path: Path) -> None:
    frame = export.build_frame(gold_store)
    path = tmp_path / "citater.xlsx"
    export.write(frame, path, "xlsx")
    sheet = openpyxl.load_workbook(path).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == EXPECTED_COLUMNS
    assert [r[8] for r in rows[1:]] == frame["text"].tolist()
    assert [r[4] for r in rows[1:]] == frame["turn"].tolist()


@pytest.mark.parametrize("evil", ['=HYPERLINK("http://x.invalid","klik")', "+1+2", "-3+4",
                                  "@SUM(A1)", "\t=1", "\r=1"])
def test_formula_injection_is_neutralised(tmp_path: Path, evil: str) -> None:
    frame = pd.DataFrame([{"text": evil, "turn": 1}])
    csv_path, xlsx_path = tmp_path / "x.csv", tmp_path / "x.xlsx"
    export.write(frame, csv_path, dialect="excel-da")
    export.write(frame, xlsx_path, "xlsx")
    back = pd.read_csv(csv_path, sep=";", encoding="utf-8-sig", keep_default_na=False)
    assert back["text"][0] == "'" + evil
    cell = openpyxl.load_workbook(xlsx_path).active["A2"]
    assert cell.value == "'" + evil and cell.data_type == "s"


def test_cli_export(gold_store, db_path: Path, tmp_path: Path, runner) -> None:
    out = tmp_path / "ud.csv"
    result = runner.invoke(cli, ["--db", str(db_path), "export", "--format", "csv",
                                 "--status", "accepted", "--theme", "T1", "--dialect", "excel-da",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"5 rows written to {out}"
    back = pd.read_csv(out, sep=";", encoding="utf-8-sig")
    assert set(back.theme) == {"T1"}


@pytest.mark.parametrize("dialect", [None, "excel-da"])
@pytest.mark.parametrize("filters", [{"status": "all"}, {"status": "all", "theme": "T1"},
                                     {"status": "accepted", "site": "Morsø"},
                                     {"status": "all", "speaker_role": "frivillig"}])
def test_streamed_csv_equals_the_table_path(coded_store, fixtures: Path, model_nlp, tmp_path: Path,
                                            dialect, filters) -> None:
    """`evaltool export` streams plain CSV from the store; it must write exactly the bytes
    the DataFrame path writes (formula neutralising, decimal comma, attributes and a
    speaker's own target groups included, an attribute filter applied)."""
    from evaltool import attributes

    gold.load_gold(coded_store, fixtures / "gold")
    run.run(coded_store, lambda: model_nlp)
    seg = coded_store.segments(1)[2]
    coded_store.add_coding([seg.id], "mek_kaffe", "=HYPERLINK(\"x\")", memo="-minus og @snabel")
    coded_store.set_attributes(1, {"target_group": "=Unge, Frivillige"}, speaker="Bent")
    coded_store.code_span(1, seg.start_char + 2, seg.end_char - 3, "mek_kaffe", coder="Åse")
    filters = dict(filters)
    if "speaker_role" in filters:
        filters["scope"] = attributes.scope(coded_store, filters=[attributes.AttributeFilter(
            "speaker", "role", filters.pop("speaker_role"))])
    streamed, table = tmp_path / "s.csv", tmp_path / "t.csv"
    n = export.export_file(coded_store, streamed, dialect=dialect, **filters)
    frame = export.build_frame(coded_store, **filters)
    assert n == export.write(frame, table, dialect=dialect) > 0
    assert streamed.read_bytes() == table.read_bytes()


def test_xlsx_keeps_empty_cells_types_and_drops_characters_xml_cannot_hold(tmp_path: Path) -> None:
    frame = pd.DataFrame([
        {"document": "møde.docx", "turn": 3, "text": "Første linje\x0cside to\x0bvidere", "memo": None,
         "confidence": 0.8125},
        {"document": "møde.docx", "turn": 4, "text": "Kaffen hjalp.", "memo": "Åbent spørgsmål",
         "confidence": float("nan")}])
    path = tmp_path / "x.xlsx"
    assert export.write(frame, path, "xlsx") == 2
    sheet = openpyxl.load_workbook(path)["Kodede citater"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows == [("document", "turn", "text", "memo", "confidence"),
                    ("møde.docx", 3, "Første linjeside tovidere", None, 0.8125),
                    ("møde.docx", 4, "Kaffen hjalp.", "Åbent spørgsmål", None)]
    assert sheet["A1"].font.bold and sheet.column_dimensions["C"].width == 16
