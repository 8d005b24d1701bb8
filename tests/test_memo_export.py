"""Memo export (CSV, XLSX): its columns, neutralised cells, pseudonymised names, and the
``memos`` / ``memo`` commands."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import openpyxl
import pytest

from evaltool import export
from evaltool.cli import cli
from evaltool.pseudonymize import export_hook


def _memos(store) -> None:
    """Memos that name speakers of the transcript (Mette, Søren, Åse) and start like formulas."""
    segs = store.segments(1)
    store.add_coding([segs[1].id], "mek_kaffe", "Bo", memo="Mette tog kaffen med")
    store.add_memo(segs[0].id, "Bo", "@Søren: strategien?")
    store.add_document_memo(1, "Åse", "Tønder: Søren og Mette er enige")
    store.add_project_memo("Bo", "=Åse siger det samme i Tønder")


def _rows(path: Path, **kwargs) -> list[dict[str, str]]:
    with path.open(encoding=kwargs.get("encoding", "utf-8"), newline="") as fh:
        return list(csv.DictReader(fh, delimiter=kwargs.get("delimiter", ",")))


def test_csv_has_every_memo_with_its_place_and_neutralised_text(team_store, tmp_path) -> None:
    _memos(team_store)
    out = tmp_path / "memoer.csv"
    assert export.export_memos(team_store, out) == 4
    rows = _rows(out)
    assert list(rows[0]) == export.MEMO_COLUMNS
    by_kind = {r["kind"]: r for r in rows}
    assert [r["kind"] for r in rows] == ["project", "document", "segment", "coding"]
    seg1 = team_store.segments(1)[1]
    coding = by_kind["coding"]
    assert (coding["document"], coding["site"], coding["turn"], coding["segment_id"],
            coding["code_id"], coding["code_label"], coding["coder"], coding["quote"],
            coding["memo"]) == ("bibliotek_toender.txt", "Tønder", "1", str(seg1.id),
                                "mek_kaffe", "Kaffe og uformelt samvær", "Bo", seg1.text,
                                "Mette tog kaffen med")
    assert by_kind["segment"]["memo"] == "'@Søren: strategien?"  # a formula is defused
    assert by_kind["project"]["memo"] == "'=Åse siger det samme i Tønder"
    assert by_kind["project"]["document"] == "" and by_kind["project"]["turn"] == ""
    assert by_kind["document"]["turn"] == "" and by_kind["document"]["quote"] == ""
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", r["time"]) for r in rows)
    assert out.read_bytes().count(b"\r\n") == 5  # header + 4 rows, RFC 4180 line ends


def test_filters_reach_the_file_and_excel_dialect(team_store, tmp_path) -> None:
    _memos(team_store)
    out = tmp_path / "da.csv"
    assert export.export_memos(team_store, out, dialect="excel-da",
                               kinds=["document", "project"], coder="Bo") == 1
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    (row,) = _rows(out, encoding="utf-8-sig", delimiter=";")
    assert row["kind"] == "project"


def test_xlsx_keeps_formula_like_memos_as_text(team_store, tmp_path) -> None:
    _memos(team_store)
    out = tmp_path / "memoer.xlsx"
    assert export.export_memos(team_store, out, fmt="xlsx") == 4
    sheet = openpyxl.load_workbook(out)["Memoer"]
    values = list(sheet.values)
    assert list(values[0]) == export.MEMO_COLUMNS
    memo_col = export.MEMO_COLUMNS.index("memo")
    assert values[1][memo_col] == "'=Åse siger det samme i Tønder"
    assert all(cell.data_type == "s" for cell in sheet["M"][1:])


def test_pseudonymised_export_names_nobody_and_leaves_the_database(team_store, tmp_path,
                                                                    blank_nlp) -> None:
    _memos(team_store)
    out = tmp_path / "pseudo.csv"
    hook = export_hook(team_store, lambda: blank_nlp)
    assert export.export_memos(team_store, out, pseudonyms=hook) == 4
    text = out.read_text(encoding="utf-8")
    body = "\n".join(line.split(",", 10)[-1] for line in text.splitlines())  # time, quote, memo
    for name in ("Mette", "Søren", "Åse"):
        assert name not in body
    rows = {r["kind"]: r for r in _rows(out)}
    assert re.fullmatch(r"'=Deltager \d siger det samme i Tønder", rows["project"]["memo"])
    assert re.fullmatch(r"Tønder: Deltager \d og Deltager \d er enige", rows["document"]["memo"])
    assert rows["coding"]["coder"] == "Bo"  # coders are the project's staff, not participants
    assert "Mette tog kaffen med" in {m.text for m in team_store.memos()}


def test_cli_lists_without_text_and_writes_the_file(team_store, team_db: str, runner,
                                                    tmp_path) -> None:
    _memos(team_store)
    result = runner.invoke(cli, ["--db", team_db, "memos"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["kind", "id", "document", "turn", "code", "coder", "time", "(UTC)"]
    assert [line.split()[0] for line in lines[2:]] == ["project", "document", "segment", "coding"]
    for word in ("Mette", "Søren", "kaffen", "strategien"):  # no memo or transcript text
        assert word not in result.output
    result = runner.invoke(cli, ["--db", team_db, "memos", "--kind", "coding", "--kind",
                                 "segment", "--coder", "Bo"])
    assert [line.split()[0] for line in result.output.splitlines()[2:]] == ["segment", "coding"]
    out = tmp_path / "m.xlsx"
    result = runner.invoke(cli, ["--db", team_db, "memos", "--document", "bibliotek_toender.txt",
                                 "--out", str(out), "--format", "xlsx"])
    assert result.exit_code == 0 and result.output.strip() == f"3 memos written to {out}"
    assert openpyxl.load_workbook(out)["Memoer"].max_row == 4


def test_cli_writes_document_and_project_memos(team_store, team_db: str, runner) -> None:
    result = runner.invoke(cli, ["--db", team_db, "memo", "Kaffe virker", "--coder", "Åse",
                                 "--document", "bibliotek_toender.txt"])
    assert result.exit_code == 0 and "on bibliotek_toender.txt by Åse" in result.output
    result = runner.invoke(cli, ["--db", team_db, "memo", "Går igen", "--coder", "Åse"])
    assert result.exit_code == 0 and "on the project by Åse" in result.output
    assert [(m.kind, m.text) for m in team_store.memos()] == [("project", "Går igen"),
                                                             ("document", "Kaffe virker")]


@pytest.mark.parametrize("args, message", [
    (["memo", "  ", "--coder", "Åse"], "Error: memo: a memo needs some text"),
    (["memo", "x", "--coder", "Åse", "--document", "nix.txt"], "Error: no document 'nix.txt'"),
    (["memos", "--pseudonymize"], "Error: --pseudonymize and --dialect apply to a file"),
])
def test_cli_bad_input_is_one_line_and_writes_nothing(team_store, team_db: str, runner,
                                                      args: list[str], message: str) -> None:
    result = runner.invoke(cli, ["--db", team_db, *args])
    assert result.exit_code == 1
    assert result.output.strip().startswith(message) and len(result.output.splitlines()) == 1
    assert team_store.memos() == []
