"""`evaltool decide`: a coder's everyday decisions from the command line."""

from __future__ import annotations

import pytest

from evaltool.cli import cli
from evaltool.domain import Suggestion

C, K, N = "ctx_strategi", "mek_kaffe", "udf_nye_brugere"


@pytest.fixture
def suggested(team_store):
    """Machine suggestions on segments 1 (strategi) and 2 (kaffe)."""
    team_store.write_suggestions(
        [Suggestion(1, C, "rules", 0.9, "strategi"), Suggestion(2, K, "model", 0.7, "kaffe")],
        segment_ids=[s.id for s in team_store.segments(1)], model_version="m1", codebook_version=1)
    return team_store


def _coding(store, segment: int, layer: str = ""):
    return store.coding_views(status="all", segment_ids=[segment], layer=layer)[0]


def _decide(runner, db: str, *args: str):
    return runner.invoke(cli, ["--db", db, "decide", *args])


def test_accept_reject_recode_and_memo(suggested, team_db: str, runner) -> None:
    c1, c2 = _coding(suggested, 1), _coding(suggested, 2)
    result = _decide(runner, team_db, "--coding", str(c1.id), "--accept", "--coder", "Anna",
                     "--expected-version", "1")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"coding {c1.id}: accepted by Anna (version 2)"
    assert (_coding(suggested, 1).status, _coding(suggested, 1).coder) == ("accepted", "Anna")
    result = _decide(runner, team_db, "--coding", str(c2.id), "--recode", N, "--coder", "Anna",
                     "--memo", "Nye ansigter, ikke kaffen.")
    assert result.exit_code == 0, result.output
    now = _coding(suggested, 2)
    assert (now.code_key, now.status, now.source, now.memo) == (
        N, "accepted", "human", "Nye ansigter, ikke kaffen.")
    result = _decide(runner, team_db, "--coding", str(c1.id), "--memo", "Klar tale.",
                     "--coder", "Anna")
    assert result.exit_code == 0 and _coding(suggested, 1).memo == "Klar tale."
    assert _coding(suggested, 1).status == "accepted"
    result = _decide(runner, team_db, "--coding", str(c1.id), "--reject", "--coder", "Bo")
    assert result.exit_code == 0 and _coding(suggested, 1).status == "rejected"
    assert [e.action for e in suggested.history(1)][-3:] == ["accept", "memo", "reject"]


def test_stale_version_is_refused_in_one_english_line(suggested, team_db: str, runner) -> None:
    c1 = _coding(suggested, 1)
    suggested.decide(c1.id, "reject", "Bo")
    result = _decide(runner, team_db, "--coding", str(c1.id), "--accept", "--coder", "Anna",
                     "--expected-version", "1")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: coding {c1.id} was changed since version 1 (now rejected, version 2); "
        "look at it again and retry"]
    assert _coding(suggested, 1).status == "rejected"  # nothing written


def test_blind_coder_decides_in_own_layer(suggested, team_db: str, runner) -> None:
    suggested.assign(1, ["Anna", "Bo"])
    c2 = _coding(suggested, 2)
    result = _decide(runner, team_db, "--coding", str(c2.id), "--accept", "--coder", "Anna")
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("layer Anna)")
    assert _coding(suggested, 2).status == "suggested"  # the shared row is untouched
    assert _coding(suggested, 2, layer="Anna").status == "accepted"


@pytest.mark.parametrize(("args", "message"), [
    (["--accept"], "give exactly one of --coding and --segment"),
    (["--coding", "1"], "give --accept, --reject, --recode CODE or --memo TEXT"),
    (["--coding", "1", "--accept", "--recode", N], "give one of --accept, --reject and --recode"),
    (["--coding", "999", "--accept"], "no coding 999"),
    (["--coding", "1", "--recode", "nix"], "no code 'nix' in the active codebook"),
    (["--segment", "1", "--accept"], "--segment takes only --memo (decisions are made on a coding)"),
])
def test_bad_input_is_one_line(suggested, team_db: str, runner, args: list[str],
                               message: str) -> None:
    before = [(v.id, v.status, v.version) for v in suggested.coding_views(status="all")]
    result = _decide(runner, team_db, *args, "--coder", "Anna")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [f"Error: {message}"]
    assert [(v.id, v.status, v.version) for v in suggested.coding_views(status="all")] == before


def test_memo_on_a_segment(suggested, team_db: str, runner) -> None:
    result = _decide(runner, team_db, "--segment", "3", "--memo", "C: ældre alene.",
                     "--coder", "Anna")
    assert result.exit_code == 0, result.output
    assert result.output.strip().startswith("memo ") and "segment 3 by Anna" in result.output
    assert suggested.segment_memos(3) == [("Anna", "C: ældre alene.")]
    result = _decide(runner, team_db, "--segment", "999", "--memo", "x", "--coder", "Anna")
    assert result.exit_code == 1 and result.output.strip() == "Error: no segment 999"
