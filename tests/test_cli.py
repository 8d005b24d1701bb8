"""The command line, run through Click's runner against real database files."""

from __future__ import annotations

import re
from pathlib import Path

from evaltool.cli import cli


def run(runner, db_path: Path, *args: str):
    return runner.invoke(cli, ["--db", str(db_path), *args], catch_exceptions=False)


def test_init_creates_database(runner, db_path: Path) -> None:
    result = run(runner, db_path, "init")
    assert result.exit_code == 0
    assert "schema version 0" in result.output
    assert db_path.exists()


def test_ingest_list_show(runner, db_path: Path, fixtures: Path) -> None:
    result = run(runner, db_path, "ingest", str(fixtures / "fokusgruppe.txt"),
                 str(fixtures / "afsnit.md"))
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("2 imported, 0 skipped, 0 failed")
    listing = run(runner, db_path, "list").output.splitlines()
    assert listing[0].split() == ["id", "document", "site", "date", "speakers", "turns",
                                  "segments"]
    row = listing[2].split()
    assert row[:7] == ["1", "fokusgruppe.txt", "Ærøskøbing", "2016-12-01", "3", "6", row[6]]
    shown = run(runner, db_path, "show", "fokusgruppe.txt", "--turn", "3")
    assert shown.exit_code == 0
    lines = shown.output.splitlines()
    assert lines[1] == ("   3 [00:00:15] Øjvind (frivillig i ældreklubben): Øjvind. Jeg er med "
                        "i ældreklubben, og jeg står for kaffen om tirsdagen.")
    assert re.match(r"^\s+0 \[\d+:\d+\] Øjvind\.$", lines[2])


def test_ingest_exit_codes_and_one_line_errors(runner, db_path: Path, fixtures: Path,
                                               tmp_path: Path) -> None:
    bad = tmp_path / "tom.txt"
    bad.write_text("")
    result = run(runner, db_path, "ingest", str(fixtures / "fokusgruppe.txt"), str(bad))
    assert result.exit_code == 1
    assert f"failed: {bad}: file is empty" in result.output
    assert "Traceback" not in result.output
    assert result.output.strip().endswith("1 imported, 0 skipped, 1 failed")
    again = run(runner, db_path, "ingest", str(fixtures / "fokusgruppe.txt"))
    assert again.exit_code == 0
    assert "skipped:" in again.output and "0 imported, 1 skipped, 0 failed" in again.output


def test_usage_errors_exit_2(runner, db_path: Path) -> None:
    assert run(runner, db_path, "ingest").exit_code == 2
    assert run(runner, db_path, "frobnicate").exit_code == 2


def test_show_unknown_document_exits_1(runner, db_path: Path) -> None:
    result = run(runner, db_path, "show", "42")
    assert result.exit_code == 1
    assert result.output.strip() == "Error: no document '42' (see `evaltool list`)"


def test_doctor_reports_model_and_database(runner, db_path: Path) -> None:
    result = run(runner, db_path, "doctor")
    assert result.exit_code == 0, result.output
    assert re.search(r"^spaCy 3\.8\.", result.output, re.M)
    assert re.search(r"^model da_\w+ ", result.output, re.M)
    assert "segmentation uses:" in result.output and "ner" not in result.output.split(
        "segmentation uses:")[1].splitlines()[0]
    assert f"database sqlite:///{db_path}" in result.output
    assert "schema 0001" in result.output or "schema 0" in result.output


def test_ingest_with_two_processes_stores_the_same_segments(runner, tmp_path: Path,
                                                           fixtures: Path) -> None:
    files = [str(fixtures / "fokusgruppe.txt"), str(fixtures / "afsnit.md")]
    listings = []
    for n in ("1", "2"):
        db = tmp_path / f"p{n}.db"
        result = run(runner, db, "ingest", "--processes", n, *files)
        assert result.exit_code == 0, result.output
        listings.append(run(runner, db, "list").output)
    assert listings[0] == listings[1] and "fokusgruppe.txt" in listings[0]
    assert run(runner, tmp_path / "x.db", "ingest", "--processes", "0", *files).exit_code == 2


def test_counted_is_singular_for_one_only() -> None:
    from evaltool.texttable import counted

    assert [counted(n, "turn") for n in (0, 1, 2)] == ["0 turns", "1 turn", "2 turns"]
    assert counted(1, "coded selection") == "1 coded selection"
    assert counted(3, "child", "children") == "3 children"


def test_counts_of_one_are_singular_in_the_output(runner, db_path: Path, tmp_path: Path) -> None:
    one = tmp_path / "én_tur.txt"
    one.write_text("Åse: Vi drak kaffe på biblioteket.\n", encoding="utf-8")
    result = run(runner, db_path, "ingest", str(one))
    assert result.exit_code == 0, result.output
    assert f"{one}: 1 turn, 1 segment" in result.output
    assert "), 1 document\n" in run(runner, db_path, "doctor").output
    assert run(runner, db_path, "memo", "Kaffen går igen", "--coder", "Åse").exit_code == 0
    out = tmp_path / "memoer.csv"
    assert run(runner, db_path, "memos", "--out", str(out)).output == f"1 memo written to {out}\n"
    assert run(runner, db_path, "memo", "Og igen", "--coder", "Bo").exit_code == 0
    assert run(runner, db_path, "memos", "--out", str(out)).output == f"2 memos written to {out}\n"
