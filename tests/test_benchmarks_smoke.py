"""Smoke test of the benchmarks: every one runs at tiny sizes, so they cannot rot.

The real runs (`make bench`) take about ten minutes and are not part of the tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import generate, run
from evaltool.ingest import read_document


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory) -> dict:
    """One `python -m benchmarks.run --quick` for the whole module.

    In a process of its own, as a user runs it: the browser benchmark starts Playwright's
    sync API, which refuses to start inside a process whose journeys already hold one.
    """
    out = tmp_path_factory.mktemp("bench")
    code = subprocess.run([sys.executable, "-m", "benchmarks.run", "--quick", "--json",
                           str(out / "results.json"), "--workdir", str(out / "w")],
                          cwd=Path(__file__).resolve().parent.parent, timeout=1800).returncode
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    results["exit_code"] = code
    return results


@pytest.mark.parametrize("name", list(run.BENCHMARKS))
def test_each_benchmark_reports_figures_with_baselines(quick_results: dict, name: str) -> None:
    assert name not in quick_results["failed"]
    rows = [r for r in quick_results["rows"] if r["bench"] == name]
    assert rows, f"{name} reported nothing"
    for r in rows:
        if r["note"].startswith("skipped"):
            continue
        assert r["value"] is not None and r["value"] > 0, r
        if r["base_value"] is not None:
            assert r["ratio"] == pytest.approx(r["value"] / r["base_value"])


def test_run_exits_zero_and_names_the_machine_and_model(quick_results: dict) -> None:
    assert quick_results["exit_code"] == 0
    assert quick_results["machine"]["cores"] and quick_results["model"]


def test_generator_is_deterministic_and_reads_back_as_danish_focus_groups(tmp_path: Path) -> None:
    first = generate.generate(2_500, tmp_path / "a", group_words=1_000)
    second = generate.generate(2_500, tmp_path / "b", group_words=1_000)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    assert len(first) == 3
    doc = read_document(first[0])
    assert doc.metadata["site"] and doc.metadata["target_groups"]
    assert len({t.speaker for t in doc.turns}) > 2
    assert any(ch in "".join(t.text for t in doc.turns) for ch in "æøå")
    assert generate.count_words(first) >= 2_500


def test_generated_transcripts_differ_with_another_seed(tmp_path: Path) -> None:
    one = generate.generate(1_000, tmp_path / "a", seed=1)
    two = generate.generate(1_000, tmp_path / "b", seed=2)
    assert one[0].read_text(encoding="utf-8") != two[0].read_text(encoding="utf-8")
