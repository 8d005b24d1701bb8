"""Which Danish spaCy pipeline to use, how to install it, and loading it once.

Library functions take ``nlp`` as an argument (tests pass ``spacy.blank("da")``
with a sentencizer); only entry points call :func:`load` here, which caches one
pipeline per (model, purpose) in the process.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from evaltool import config
from evaltool.errors import ModelError

Purpose = Literal["segment", "ner"]


def is_installed(name: str) -> bool:
    """True when a spaCy pipeline package of this name can be imported."""
    return importlib.util.find_spec(name) is not None


def model_name() -> str:
    """Name of the pipeline to use: the override, the official model, or the stand-in."""
    forced = config.model_override()
    if forced:
        return forced
    if is_installed(config.PREFERRED_MODEL):
        return config.PREFERRED_MODEL
    return config.FALLBACK_MODEL


def find_wheel(folder: Path) -> Path | None:
    """A model wheel in ``folder``: the official model first, then the stand-in."""
    if not folder.is_dir():
        return None
    for name in (config.PREFERRED_MODEL, config.FALLBACK_MODEL):
        wheels = sorted(folder.glob(f"{name}-*.whl"))
        if wheels:
            return wheels[-1]
    return None


def install(*, quiet: bool = True) -> str:
    """Make sure a Danish pipeline is installed; return what was done, in one line.

    Nothing to do when the configured or a known model is importable. Otherwise a
    wheel from the local wheelhouse is installed when one is present, else spaCy's
    own downloader fetches ``da_core_news_sm``.
    """
    forced = config.model_override()
    candidates = [forced] if forced else [config.PREFERRED_MODEL, config.FALLBACK_MODEL]
    for name in candidates:
        if name and is_installed(name):
            return f"model {name} already installed"
    wheel = find_wheel(config.wheelhouse())
    pip = [sys.executable, "-m", "pip", "install", *(["--quiet"] if quiet else [])]
    if wheel is not None:
        cmd = [*pip, "--no-deps", str(wheel)]
        what = f"installed {wheel.name} from wheelhouse {config.wheelhouse()}"
    else:
        cmd = [sys.executable, "-m", "spacy", "download", forced or config.PREFERRED_MODEL]
        what = f"downloaded {forced or config.PREFERRED_MODEL} with spaCy's downloader"
    result = subprocess.run(cmd, check=False)
    if result.returncode != 0:
        raise ModelError(
            f"model install failed ({' '.join(cmd[2:])}); set EVALTOOL_WHEELHOUSE to a folder "
            "with a da_core_news_sm or da_ddt_sm wheel, or install one with pip"
        )
    importlib.invalidate_caches()
    return what


@dataclass(frozen=True)
class ModelInfo:
    """Name, version and components of an installed pipeline."""

    name: str
    version: str
    spacy_version: str
    components: tuple[str, ...]
    disabled: tuple[str, ...]


def info(name: str | None = None) -> ModelInfo:
    """Read a pipeline's meta.json without loading its weights."""
    import spacy.util

    name = name or model_name()
    if not is_installed(name):
        raise ModelError(f"spaCy model {name!r} is not installed; run `evaltool model install`")
    meta_path = Path(spacy.util.get_package_path(name)) / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    return ModelInfo(
        name=name,
        version=str(meta.get("version", "?")),
        spacy_version=str(meta.get("spacy_version", "?")),
        components=tuple(meta.get("components") or meta.get("pipeline") or ()),
        disabled=tuple(meta.get("disabled") or ()),
    )


def plan(purpose: Purpose, components: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Components to exclude and to enable for a job.

    Segmentation needs sentence boundaries and lemmas: with a trained ``senter``
    the (slower) parser and the NER are excluded; without one the parser stays
    because it is what sets the boundaries. NER jobs keep everything but the parser
    when a senter exists.
    """
    has_senter = "senter" in components
    exclude: list[str] = []
    if has_senter:
        exclude.append("parser")
    if purpose == "segment":
        exclude.append("ner")
    enable = ["senter"] if has_senter else []
    return [c for c in exclude if c in components], enable


@functools.lru_cache(maxsize=4)
def load(purpose: Purpose = "segment", name: str | None = None):  # -> spacy.Language
    """Load (once per process) the pipeline with just the components ``purpose`` needs."""
    import spacy

    meta = info(name)
    exclude, enable = plan(purpose, meta.components)
    nlp = spacy.load(meta.name, exclude=exclude)
    for component in enable:
        if component in nlp.disabled:
            nlp.enable_pipe(component)
    return nlp


def describe(nlp) -> str:
    """One line naming a loaded pipeline and its active components."""
    meta = nlp.meta
    return f"{meta.get('lang')}_{meta.get('name')} {meta.get('version')} ({', '.join(nlp.pipe_names)})"
