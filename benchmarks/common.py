"""What every benchmark shares: result rows, sizes, timing, pipelines and cached inputs."""

from __future__ import annotations

import functools
import gc
import os
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import generate

ROOT = generate.ROOT
CODEBOOK = ROOT / "codebooks" / "smaat_braendbart.yaml"
GOLD = ROOT / "corpus" / "gold"
DDT_TEST = ROOT.parent / "shared" / "data" / "ud_danish_ddt" / "da_ddt-ud-test.conllu"


@dataclass
class Row:
    """One figure of the results table, with its same-run baseline.

    ``ratio`` is figure / baseline; ``higher_is_better`` says which way is good.
    """

    bench: str
    metric: str
    value: float | None
    unit: str
    baseline: str = ""
    base_value: float | None = None
    target: str = ""
    ok: bool | None = None
    note: str = ""
    higher_is_better: bool = True

    @property
    def ratio(self) -> float | None:
        """Figure divided by its baseline (None without one)."""
        if self.value is None or not self.base_value:
            return None
        return self.value / self.base_value

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for the JSON output."""
        return {"bench": self.bench, "metric": self.metric, "value": self.value,
                "unit": self.unit, "baseline": self.baseline, "base_value": self.base_value,
                "ratio": self.ratio, "target": self.target, "ok": self.ok, "note": self.note}


@dataclass
class Config:
    """Sizes and shared state of one benchmark run."""

    workdir: Path
    quick: bool = False
    full: bool = False
    repeats: int = 3
    _memo: dict[str, Any] = field(default_factory=dict)

    def size(self, quick: int, normal: int, full: int | None = None) -> int:
        """The size for this run's mode."""
        if self.quick:
            return quick
        return full if self.full and full is not None else normal

    def memo(self, key: str, build: Callable[[], Any]) -> Any:
        """Build an input once per run (generated corpora, prepared databases)."""
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]

    def corpus(self, words: int) -> list[Path]:
        """Generated transcripts of about ``words`` words (written once per run)."""
        return self.memo(f"corpus-{words}",
                         lambda: generate.generate(words, self.workdir / f"corpus-{words}"))


def seconds(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Wall-clock seconds of one call, and its result (garbage collected before)."""
    gc.collect()
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def cpu_seconds() -> float:
    """CPU seconds used so far by this process and its reaped children."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def measure(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds, result) of one call.

    CPU time is the steadier figure on a shared machine: other tenants slow the
    wall clock of both sides of a comparison, but not our CPU work.
    """
    gc.collect()
    cpu, start = cpu_seconds(), time.perf_counter()
    result = fn()
    return time.perf_counter() - start, cpu_seconds() - cpu, result


def load_average() -> str:
    """The 1-minute load average (how busy the machine was)."""
    return f"{os.getloadavg()[0]:.1f}"


def median_seconds(fn: Callable[[], Any], repeats: int) -> float:
    """Median wall-clock seconds over ``repeats`` calls (these machines are noisy)."""
    return statistics.median(seconds(fn)[0] for _ in range(max(1, repeats)))


@functools.cache
def segment_nlp():
    """evaltool's segmentation pipeline (the installed Danish model, loaded once)."""
    from evaltool import nlp

    return nlp.load("segment")


@functools.cache
def sentencizer_nlp():
    """spaCy's blank Danish tokenizer plus the rule-based sentencizer."""
    import spacy

    nlp = spacy.blank("da")
    nlp.add_pipe("sentencizer")
    return nlp


def model_description() -> str:
    """The segmentation model's name, version and active components."""
    from evaltool import nlp

    return nlp.describe(segment_nlp())


def paragraphs(paths: list[Path]) -> list[str]:
    """The paragraph texts evaltool sends through ``nlp.pipe`` for these files."""
    from evaltool.ingest import read_document

    return [p for path in paths for t in read_document(path).turns for p in t.paragraphs]


def word_count(texts: list[str]) -> int:
    """Whitespace-separated words."""
    return sum(len(t.split()) for t in texts)
