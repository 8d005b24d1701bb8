"""Code matrices: co-occurrence in a sentence, a turn or a window of turns, and codes by case;
counts worked by hand on the ten-sentence Tønder transcript, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaltool import analysis
from evaltool.cli import cli
from evaltool.errors import NotFoundError
from evaltool.importer import import_paths

AARS = """---
site: Aars
target_groups: [Seniorer, Frivillige]
---
Per (frivillig): Kaffen var god. Vi kom igen.
"""


@pytest.fixture
def coded(team_store):
    """Codes A, B, C on the Tønder sentences: A on 0, 1, 3; B on 1, 6; C on 4.

    Turns: 1 = sentences 0-2 (bibliotekar), 2 = 3-5 (frivillig), 3 = 6-9 (borger).
    """
    store = team_store
    segs = [s.id for s in store.segments(store.list_documents()[0].id)]
    assert len(segs) == 10
    a, b, c = (code.key for code in store.codes()[:3])
    store.add_coding([segs[0], segs[1], segs[3]], a, "Åse")
    store.add_coding([segs[1], segs[6]], b, "Åse")
    store.add_coding([segs[4]], c, "Åse")
    return store, (a, b, c), segs


def _grid(m, keys) -> list[list[int]]:
    return [[m.count(r, c) for c in keys] for r in keys]


def test_cooccurrence_in_sentences_turns_and_windows(coded) -> None:
    store, (a, b, c), _ = coded
    m = store.matrix("code")
    assert m.rows == (a, b, c) and m.cols == (a, b, c)
    assert _grid(m, (a, b, c)) == [[3, 1, 0], [1, 2, 0], [0, 0, 1]]
    assert m.jaccard(a, b) == pytest.approx(1 / 4)
    turns = store.matrix("code", unit="turn")
    assert _grid(turns, (a, b, c)) == [[2, 1, 1], [1, 2, 0], [1, 0, 1]]
    window = store.matrix("code", unit="turn", window=1)
    assert _grid(window, (a, b, c)) == [[2, 2, 2], [2, 2, 2], [1, 1, 1]]


def test_codes_by_role_and_site(coded) -> None:
    store, (a, b, c), _ = coded
    roles = store.matrix("role")
    assert roles.cols == ("bibliotekar", "borger", "frivillig")
    assert [[roles.count(k, r) for r in roles.cols] for k in (a, b, c)] == [
        [2, 0, 1], [1, 1, 0], [0, 0, 1]]
    assert roles.col_totals == {"bibliotekar": 3, "frivillig": 3, "borger": 4}
    sites = store.matrix("site", unit="turn")
    assert sites.cols == ("Tønder",) and [sites.count(k, "Tønder") for k in (a, b, c)] == [2, 2, 1]
    assert store.matrix("site").jaccard(a, "Tønder") == pytest.approx(3 / 10)


def test_documents_and_attributes(coded, tmp_path: Path, blank_nlp) -> None:
    store, (a, _b, _c), _ = coded
    path = tmp_path / "aars.txt"
    path.write_text(AARS, encoding="utf-8")
    assert import_paths([path], store, lambda: blank_nlp).failed == 0
    doc = next(d for d in store.list_documents() if d.site == "Aars")
    store.add_coding([store.segments(doc.id)[0].id], a, "Åse")
    sites = store.matrix("site")
    assert [sites.count(a, s) for s in sites.cols] == [1, 3] and sites.cols == ("Aars", "Tønder")
    groups = store.matrix("attr:target_groups")
    assert groups.cols == ("Frivillige", "Seniorer")
    assert [groups.count(a, g) for g in groups.cols] == [1, 1]
    assert groups.col_totals == {"Frivillige": 2, "Seniorer": 2}
    assert store.matrix("document").cols == ("aars.txt", "bibliotek_toender.txt")


def test_statuses_and_bad_dimensions(coded) -> None:
    store = coded[0]
    assert store.matrix("code", statuses=("suggested",)).rows == ()
    with pytest.raises(NotFoundError, match="unknown columns"):
        store.matrix("speaker")
    with pytest.raises(NotFoundError, match="window"):
        store.matrix("site", unit="turn", window=2)


def test_frame_and_cli(coded, team_db: str, runner, tmp_path: Path) -> None:
    store, (a, b, c), _ = coded
    frame = analysis.matrix_frame(store.matrix("code"), "jaccard")
    assert frame.loc[a, b] == pytest.approx(0.25) and frame.loc[c, c] == 1.0
    result = runner.invoke(cli, ["--db", team_db, "matrix", "--rows", "code", "--cols", "role"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].split() == ["code", "bibliotekar", "borger", "frivillig"]
    out = tmp_path / "m.csv"
    result = runner.invoke(cli, ["--db", team_db, "matrix", "--cols", "code", "--unit", "turn",
                                 "--window", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == f"code,{a},{b},{c}" and lines[1] == f"{a},2,2,2"
    bad = runner.invoke(cli, ["--db", team_db, "matrix", "--cols", "speaker"])
    assert bad.exit_code == 1 and bad.stderr.startswith("Error: unknown columns 'speaker'")


def test_drill_down_to_quotes(coded) -> None:
    store, (a, b, c), segs = coded
    quotes = analysis.matrix_quotes(store, store.matrix("code"), a, b)
    assert [q.segment_id for q in quotes] == [segs[1]]
    window = store.matrix("code", unit="turn", window=1)
    assert [q.segment_id for q in analysis.matrix_quotes(store, window, c, b)] == [segs[4]]
    roles = store.matrix("role")
    assert [q.segment_id for q in analysis.matrix_quotes(store, roles, a, "bibliotekar")] == [
        segs[0], segs[1]]
    for r in roles.rows:  # every cell's count is the number of its quotes
        for col in roles.cols:
            assert len(analysis.matrix_quotes(store, roles, r, col)) == roles.count(r, col)
