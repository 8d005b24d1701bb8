"""Auto-coding throughput (segments/s), rules and model separately.

The coder is trained the way ``evaltool demo`` does it: the demo corpus imported
with the real model, the Småt Brændbart codebook, every gold coding accepted.
It then codes a generated corpus imported with the real model.

Baselines isolate the library work under each layer: for rules, spaCy's
``Matcher`` with every pattern over Docs rebuilt beforehand (what the rule layer
did before its literal pre-filter; ours rebuilds Docs only for the segments the
filter lets through, collects words, combines); for the model, ``SuggestionModel.predict``
on examples prepared beforehand (our part: masking names and building the
examples, choosing codable segments, explanations, combining into suggestions).
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.common import (
    CODEBOOK,
    GOLD,
    ROOT,
    Config,
    Row,
    measure,
    segment_nlp,
)
from benchmarks.throughput import fresh_store, import_into, model_db

NAME = "autocode"


def trained_db(cfg: Config) -> tuple[Path, object, float, float]:
    """(database, coder, training wall s, training CPU s): the demo corpus, codebook and
    gold codings loaded and a coder trained and stored in the database (built once)."""
    def build():
        from evaltool import codebook, gold
        from evaltool.autocode import run as autocode_run

        db = cfg.workdir / "train.db"
        store = fresh_store(db)
        try:
            import_into(store, [ROOT / "corpus"], segment_nlp())
            store.load_codebook(codebook.load(CODEBOOK), CODEBOOK.name)
            docs = [d.id for d in store.list_documents()]
            # --quick trains on two transcripts' gold only: the smoke test needs speed, not skill.
            gold.load_gold(store, GOLD, documents=docs[:2] if cfg.quick else None)
            wall, cpu, coder = measure(lambda: autocode_run.train(store, segment_nlp()))
        finally:
            store.close()
        return db, coder, wall, cpu
    return cfg.memo("trained-db", build)


def coding_units(cfg: Config, words: int) -> list:
    """Coding units of a generated corpus of ``words`` words (real-model segments)."""
    from evaltool.store import open_store

    store = open_store(str(model_db(cfg, words)))
    try:
        return store.coding_units()
    finally:
        store.close()


def run(cfg: Config) -> list[Row]:
    """Segments per second of rule and model suggestions vs their library baselines."""
    from evaltool import autocode
    from evaltool.autocode.rules import unit_doc

    _, coder, train_wall, train_cpu = trained_db(cfg)
    units = coding_units(cfg, cfg.size(3_000, 100_000))
    n = len(units)
    repeats = 1 if cfg.quick else 2

    docs = [unit_doc(coder.rules.vocab, u.text, u.tokens) for u in units if u.tokens]
    base_rules = min(measure(lambda: [coder.rules.matcher(d) for d in docs])[1]
                     for _ in range(repeats))
    rules = min(measure(lambda: autocode.suggest(coder, units, use_model=False))[1]
                for _ in range(repeats))

    # The model's inputs as score() prepares them (masked text, turn context), built untimed.
    views = autocode.examples_of(units, getattr(coder, "known_names", frozenset()))
    codable = [v for u, v in zip(units, views, strict=True) if autocode.is_codable(u)]
    base_model = min(measure(lambda: coder.model.predict(codable))[1] for _ in range(repeats))
    model = min(measure(lambda: autocode.suggest(coder, units, use_rules=False))[1]
                for _ in range(repeats))
    both = min(measure(lambda: autocode.suggest(coder, units))[1] for _ in range(repeats))
    note = f"{n} segments, {len(codable)} codable (CPU time)"
    return [
        Row(NAME, "auto-coding, rules only", n / rules, "segments/s",
            "spaCy Matcher, all patterns on every prebuilt Doc", n / base_rules,
            note=note + "; the baseline is the rule layer without its literal pre-filter"),
        Row(NAME, "auto-coding, model only", n / model, "segments/s",
            "SuggestionModel.predict on prepared examples", n / base_model, note=note),
        Row(NAME, "auto-coding, rules + model", n / both, "segments/s",
            "sum of the two baselines' times", n / (base_rules + base_model), note=note),
        Row(NAME, "training on demo gold (one-off)", train_cpu, "s",
            note=f"{coder.version}; wall {train_wall:.1f} s", higher_is_better=False),
    ]
