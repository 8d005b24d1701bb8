"""Editing the active codebook: add, edit, parent, merge, retire, export (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaltool import codebook, codetree
from evaltool.domain import Suggestion
from evaltool.errors import CodebookEditError, CodebookError, ConflictError
from evaltool.store import open_store

C, K, N, INV = "ctx_strategi", "mek_kaffe", "udf_nye_brugere", "udf_invitationer"
NEW = {"id": "mek_samtale", "label": "Samtaler over disken", "definition": "Snak ved skranken.",
       "cmo": "mechanism", "column": "Aktiviteter", "themes": ["T1"], "goals": ["G1"],
       "examples": "Vi fik snakket.\nHun blev stående og fortalte."}


def _snapshot(store) -> tuple:
    cb = store.active_codebook()
    return cb["version"], cb["content"], [(c.key, c.parent, c.retired)
                                          for c in store.codes(include_retired=True)]


def _places(store) -> dict[tuple[int, str], tuple[str, str | None, str]]:
    """(segment, code) → (status, coder, memo) of the shared layer."""
    return {(v.segment_id, v.code_key): (v.status, v.coder, v.memo)
            for v in store.coding_views(status="all")}


def test_add_code_is_a_new_version_with_the_code(team_store) -> None:
    version = team_store.active_codebook()["version"]
    change = codebook.add_code(team_store, {**NEW, "parent": K}, coder="Anna")
    assert (change.action, change.code, change.version) == ("add", NEW["id"], version + 1)
    cb = team_store.active_codebook()
    assert cb["version"] == cb["content"]["version"] == version + 1
    added = {c.key: c for c in team_store.codes()}[NEW["id"]]
    assert (added.label, added.parent, added.themes) == (NEW["label"], K, ("T1",))
    assert cb["content"]["codes"][-1]["examples"] == ["Vi fik snakket.",
                                                     "Hun blev stående og fortalte."]
    assert team_store.codebook_history()[-1].after["action"] == "add"


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"label": ""}, "label", "at least 1 character"),
    ({"themes": ["T9"]}, "themes", "unknown theme 'T9'"),
    ({"id": "9x"}, "id", "should match pattern"),
    ({"patterns": [[{"FOO": "x"}]]}, "patterns", "unsupported token attribute"),
])
def test_an_invalid_new_code_is_refused_as_validate_would_and_nothing_is_written(
        team_store, fields: dict, field: str, message: str) -> None:
    before = _snapshot(team_store)
    with pytest.raises(CodebookError) as err:
        codebook.add_code(team_store, {**NEW, **fields})
    assert field in (err.value.field or "") and message in err.value.message
    assert "\n" not in str(err.value)
    assert _snapshot(team_store) == before


def test_a_taken_id_is_refused(team_store) -> None:
    with pytest.raises(CodebookEditError, match="exists already"):
        codebook.add_code(team_store, {**NEW, "id": K})


def test_edit_changes_only_the_fields_given_and_says_which(team_store) -> None:
    change = codebook.edit_code(team_store, K, {"label": "Kaffe og kage", "definition":
                                                "Kaffe, kage og samvær.", "include": "",
                                                "cmo": "mechanism"})
    assert change.fields == ("label", "definition")
    code = {c["id"]: c for c in team_store.active_codebook()["content"]["codes"]}[K]
    assert (code["label"], code["definition"], code["cmo"]) == (
        "Kaffe og kage", "Kaffe, kage og samvær.", "mechanism")
    with pytest.raises(CodebookEditError, match="nothing to change"):
        codebook.edit_code(team_store, K, {"label": "Kaffe og kage"})
    with pytest.raises(CodebookEditError, match="not a field"):
        codebook.edit_code(team_store, K, {"id": "x"})


def test_a_parent_cycle_is_refused_and_nothing_is_written(team_store) -> None:
    before = _snapshot(team_store)
    with pytest.raises(CodebookError, match="parent cycle"):
        codebook.set_parent(team_store, N, INV)  # INV is N's child
    with pytest.raises(CodebookError, match="own parent"):
        codebook.set_parent(team_store, K, K)
    assert _snapshot(team_store) == before
    codebook.set_parent(team_store, INV, None)
    codebook.set_parent(team_store, N, INV)
    assert {c.key: c.parent for c in team_store.codes()}[N] == INV


def test_merge_moves_codings_and_keeps_the_stronger_decision(team_store) -> None:
    """A = mek_kaffe into B = ctx_strategi, on four sentences:
    1: A accepted by Anna, B a machine suggestion   → Anna's accepted row, now B
    2: A rejected by Bo, B accepted by Anna           → B accepted, Bo's memo kept too
    3: A a machine suggestion alone                   → moved to B, still a suggestion
    4: B accepted alone                               → untouched
    """
    s = team_store
    s.write_suggestions([Suggestion(1, C, "rules", 0.9, "x"), Suggestion(3, K, "model", 0.6, "y")],
                        segment_ids=[1, 2, 3, 4], model_version="m", codebook_version=1)
    s.add_coding([1], K, "Anna", memo="god kaffe")
    s.add_coding([2], K, "Bo", status="rejected", memo="ikke kaffe")
    s.add_coding([2, 4], C, "Anna", memo="strategi")
    counts = dict(((k, st), n) for k, st, n in s.count_by_code(("accepted", "suggested",
                                                                 "rejected")))
    assert counts == {(C, "suggested"): 1, (C, "accepted"): 2, (K, "accepted"): 1,
                      (K, "rejected"): 1, (K, "suggested"): 1}

    change = codebook.merge_codes(s, K, C, coder="Lea")
    assert (change.moved, change.combined, change.into) == (1, 2, C)
    assert _places(s) == {(1, C): ("accepted", "Anna", "god kaffe"),
                          (2, C): ("accepted", "Anna", "strategi\nikke kaffe"),
                          (3, C): ("suggested", None, ""),
                          (4, C): ("accepted", "Anna", "strategi")}
    counts = dict(((k, st), n) for k, st, n in s.count_by_code(("accepted", "suggested",
                                                                 "rejected")))
    assert counts == {(C, "accepted"): 3, (C, "suggested"): 1}
    assert K not in {c.key for c in s.codes()}
    assert {c.key: c.retired for c in s.codes(include_retired=True)}[K] is True
    assert K not in {c["id"] for c in s.active_codebook()["content"]["codes"]}
    # the history of sentence 1 shows the merge; Bo's rejection (folded into Anna's
    # acceptance) can no longer be undone
    assert [e.action for e in s.history(1)][-2:] == ["merge", "merge"]
    with pytest.raises(ConflictError):
        s.undo_last("Bo")
    last = s.codebook_history()[-1]
    assert (last.coder, last.after["action"], last.after["code"], last.after["into"]) == (
        "Lea", "merge", K, C)


def test_merge_hands_children_to_the_target_and_refuses_nonsense(team_store) -> None:
    with pytest.raises(CodebookEditError, match="into itself"):
        codebook.merge_codes(team_store, K, K)
    change = codebook.merge_codes(team_store, N, K)
    assert change.children == (INV,)
    assert {c.key: c.parent for c in team_store.codes()}[INV] == K
    with pytest.raises(CodebookEditError, match="is retired"):
        codebook.merge_codes(team_store, N, C)
    with pytest.raises(CodebookEditError, match="no code 'nope'"):
        codebook.merge_codes(team_store, "nope", C)


def test_retire_keeps_codings_and_stops_suggestions(team_store) -> None:
    s = team_store
    s.add_coding([2], K, "Anna")
    with pytest.raises(CodebookEditError, match="has sub-codes"):
        codebook.retire_code(s, N)
    codebook.retire_code(s, K, coder="Lea")
    assert (2, K) in _places(s)
    assert K not in {c.key for c in s.codes()}
    wrote = s.write_suggestions([Suggestion(5, K, "rules", 0.9, "kaffe")], segment_ids=[5],
                                model_version="m", codebook_version=2)
    assert wrote.added == 0
    with pytest.raises(CodebookEditError, match="retired code"):
        codebook.add_code(s, {**NEW, "id": K})


def test_an_edit_on_a_stale_version_is_a_conflict(team_store) -> None:
    before = _snapshot(team_store)
    spec, version = codebook.active_spec(team_store)
    with pytest.raises(ConflictError, match="Kodebogen er ændret"):
        team_store.save_codebook_edit(spec.model_copy(update={"version": version + 1}),
                                      expected_version=version - 1, coder=None,
                                      change={"action": "edit"})
    assert _snapshot(team_store) == before


def test_export_then_load_is_the_same_codebook_without_a_new_version(
        team_store, tmp_path: Path) -> None:
    before = _snapshot(team_store)
    out = tmp_path / "kodebog.yaml"
    codebook.export_codebook(team_store, out)
    assert codebook.load(out) == codebook.active_spec(team_store)[0]
    codebook.load_codebook_file(team_store, out, seed=False)
    assert _snapshot(team_store) == before


def test_an_edited_codebook_exports_to_a_fresh_database(team_store, tmp_path: Path) -> None:
    codebook.add_code(team_store, {**NEW, "parent": N})
    codebook.merge_codes(team_store, C, K)
    out = tmp_path / "kodebog.yaml"
    spec = codebook.export_codebook(team_store, out)
    fresh = open_store(str(tmp_path / "fresh.db"))
    try:
        codebook.load_codebook_file(fresh, out)
        assert [(c.key, c.parent, c.label) for c in fresh.codes()] == [
            (c.key, c.parent, c.label) for c in team_store.codes()]
        assert fresh.active_codebook()["version"] == spec.version == 3
    finally:
        fresh.close()


def test_export_refuses_a_folder_in_one_line(team_store, tmp_path: Path) -> None:
    from evaltool.errors import FaultError

    with pytest.raises(FaultError):
        codebook.export_codebook(team_store, tmp_path)


def test_rollup_sums_children_into_parents() -> None:
    parents = {"a": None, "b": "a", "c": "b", "d": None, "e": "a"}
    assert codetree.rollup({"a": 1, "b": 2, "c": 4, "d": 8, "e": 16}, parents) == {
        "a": 23, "b": 6, "c": 4, "d": 8, "e": 16}
    assert codetree.tree_order(parents) == [("a", 0), ("b", 1), ("c", 2), ("e", 1), ("d", 0)]
    assert codetree.path("c", parents, {"a": "A", "b": "B", "c": "C"}) == "A › B › C"


def test_cli_merge_retire_set_parent_and_export(team_store, team_db: str, runner,
                                                tmp_path: Path) -> None:
    from evaltool.cli import cli

    team_store.add_coding([2], K, "Anna")

    def run(*args: str):
        return runner.invoke(cli, ["--db", team_db, "codebook", *args])

    r = run("set-parent", INV, K)
    assert r.exit_code == 0 and f"{INV} is now under {K}" in r.output
    r = run("set-parent", K, INV)
    assert r.exit_code == 1 and "parent cycle" in r.output and len(r.output.splitlines()) == 1
    r = run("merge", K, C, "--coder", "Lea")
    assert r.exit_code == 0, r.output
    assert f"merged {K} into {C} (1 coding moved" in r.output and INV in r.output
    r = run("retire", C)  # INV followed K under C
    assert r.exit_code == 1 and f"{C!r} has sub-codes ({INV})" in r.output
    r = run("retire", INV)
    assert r.exit_code == 0 and f"retired {INV}" in r.output
    out = tmp_path / "ud.yaml"
    r = run("export", str(out))
    assert r.exit_code == 0 and "v4, 2 codes" in r.output
    assert [c.id for c in codebook.load(out).codes] == [C, N]
    r = run("export", str(tmp_path))
    assert r.exit_code == 1 and len(r.output.splitlines()) == 1
    assert {(v.segment_id, v.code_key) for v in team_store.coding_views(status="all")} == {
        (2, C)}


def test_quotes_roll_up_to_parents_distinctly(team_store) -> None:
    """N is INV's parent; sentence 1 has N and INV, sentence 2 INV, sentence 3 K."""
    from evaltool.analysis import code_counts

    s = team_store
    s.add_coding([1], N, "Anna")
    s.add_coding([1, 2], INV, "Anna")
    s.add_coding([3], K, "Anna")
    s.add_coding([4], C, "Anna", status="rejected")
    assert sorted(s.count_by_code_tree(("accepted",))) == [(K, 1, 1), (INV, 2, 2), (N, 1, 2)]
    rows = [(c.path, c.depth, c.quotes, c.with_children) for c in code_counts(s)]
    assert rows == [("Kommunal strategi", 0, 0, 0), ("Kaffe og uformelt samvær", 0, 1, 1),
                    ("Nye brugere", 0, 1, 2),
                    ("Nye brugere › Invitationer fra forvaltninger", 1, 2, 2)]
    codebook.set_parent(s, K, INV)  # two levels: K under INV under N
    assert sorted(s.count_by_code_tree(("accepted",))) == [(K, 1, 1), (INV, 2, 3), (N, 1, 3)]
    assert sorted(s.count_by_code_tree(("accepted", "rejected"))) == [
        (C, 1, 1), (K, 1, 1), (INV, 2, 3), (N, 1, 3)]
    own = {k: n for k, _, n in s.count_by_code(("accepted",))}
    parents = {c.key: c.parent for c in s.codes()}
    assert codetree.rollup(own, parents) == {C: 0, K: 1, N: 4, INV: 3}


def test_merge_of_span_codings_matches_by_span(team_store) -> None:
    """Span codings meet only on the same words: the same span of A and B becomes one,
    another span of A moves over."""
    s = team_store
    text = s.document_text(1)
    start = text.index("kaffe")
    s.code_span(1, start, start + 5, K, coder="Anna")
    s.code_span(1, start, start + 5, C, coder="Bo", memo="strategi?")
    other = text.index("Kaffen")
    s.code_span(1, other, other + 6, K, coder="Anna")
    change = codebook.merge_codes(s, K, C, coder="Lea")
    assert (change.moved, change.combined) == (1, 1)
    spans = sorted((v.start, v.end, v.code_key, v.coder, v.memo)
                   for v in s.coding_views(status="all") if v.is_span)
    assert spans == [(start, start + 5, C, "Bo", "strategi?"), (other, other + 6, C, "Anna", "")]


def test_cli_show_indents_sub_codes_under_their_parent(team_store, team_db: str,
                                                       runner) -> None:
    from evaltool.cli import cli

    codebook.set_parent(team_store, C, INV)  # listed in its own column, two levels deep
    out = runner.invoke(cli, ["--db", team_db, "codebook", "show"]).output.splitlines()
    effekter = out[out.index("Effekter") + 1:]
    assert effekter[0].startswith(f"  {N} ") and effekter[1].startswith(f"    {INV} ")
    assert any(line.startswith(f"      {C} ") for line in out)  # two levels down


def test_an_older_file_cannot_undo_the_edits_made_since(team_store, tmp_path: Path) -> None:
    from tests.conftest import FIXTURES

    codebook.add_code(team_store, NEW)
    before = _snapshot(team_store)
    with pytest.raises(CodebookError, match=r"version 1 is older than the stored codebook "
                                            r"'mini' \(version 2\)"):
        codebook.load_codebook_file(team_store, FIXTURES / "mini_kodebog.yaml", seed=False)
    assert _snapshot(team_store) == before


def test_a_retired_codes_codings_count_nowhere_but_stay_in_exports(team_store,
                                                                   tmp_path: Path) -> None:
    """A retired code's kept codings leave the theme, goal, CMO, code-tree, chain and matrix
    counts (Dashboard, Temakapitel, report, Matricer) and stay in the Kodebog page's counts and in exports."""
    from evaltool import analysis, export
    from evaltool import report as rp

    s = team_store
    doc = s.get_document("bibliotek_toender.txt").id
    segs = {x.text: x.id for x in s.segments(doc)}
    for text, key in (("Kommunens strategi gav os ryg.", C), ("Strategien var klar.", C),
                      ("Vi satte kaffe på bordet.", K), ("Kaffen var god.", K),
                      ("Der kom nye brugere.", N), ("Jeg fik lånerkort.", INV)):
        s.add_as("Lene", [segs[text]], key)

    def counts() -> tuple:
        board = analysis.dashboard(s)
        tree = {c.key: (c.quotes, c.with_children) for c in analysis.code_counts(s)}
        chains = {(r.context, r.mechanism, r.outcome) for r in s.cmo_chains(("accepted",))}
        chapter = rp.build_chapter(s, "T2")
        return ({c.id: (c.quotes, c.cmo["outcome"]) for c in board.themes},
                {g.key: g.quotes for g in board.goals}, tree[N], chains,
                (chapter.quotes, chapter.sections[0].cmo["outcome"]),
                sum(c.quotes for c in board.column_site if c.column == "Effekter"),
                INV in s.matrix("code").rows, INV in s.matrix("site").rows)

    # T2 = both contexts and Åse's invitation; udf_invitationer sits under udf_nye_brugere;
    # Søren's context and mechanism (turn 2) make a chain with Åse's invitation (turn 3)
    assert counts() == ({"T1": (3, 1), "T2": (3, 1)}, {"G1": 3, "G2": 3}, (1, 2),
                        {(C, K, N), (C, K, INV)}, (3, 1), 2, True, True)
    codebook.retire_code(s, INV, coder="Lea")
    assert counts() == ({"T1": (3, 1), "T2": (2, 0)}, {"G1": 3, "G2": 2}, (1, 1),
                        {(C, K, N)}, (2, 0), 1, False, False)
    # kept: the coding, the Kodebog page's count of it, and a row in the export of quotes
    assert (segs["Jeg fik lånerkort."], INV) in _places(s)
    assert (INV, "accepted", 1) in s.count_by_code(("accepted",))
    out = tmp_path / "citater.csv"
    assert export.export_file(s, out, fmt="csv", status="accepted") == 6
    assert "Jeg fik lånerkort." in out.read_text(encoding="utf-8")
