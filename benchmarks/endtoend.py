"""1 M words imported and auto-coded, end to end (target: under 5 minutes).

Setup (not in the figure): the demo corpus, codebook and gold codings are loaded
and a coder is trained and stored, as after ``evaltool demo``, then the demo
documents are deleted; training is a one-off cost reported by the auto-coding
benchmark. Timed: ``import_paths`` of the generated
transcripts with the real model, then ``autocode.run.run`` (rules + model,
suggestions written, one transaction per document).

Without ``--full`` a 100 k-word corpus is measured and the time per word scaled
linearly to 1 M words; the row says "extrapolated". The baseline is raw
``nlp.pipe`` over the same paragraphs.
"""

from __future__ import annotations

from benchmarks.autocoding import trained_db
from benchmarks.common import Config, Row, measure, paragraphs, segment_nlp, word_count
from benchmarks.throughput import copy_db, import_into, raw_pipe

NAME = "endtoend"
TARGET_S = 300.0
TARGET_WORDS = 1_000_000


def run(cfg: Config) -> list[Row]:
    """Wall-clock seconds to import and auto-code the corpus, scaled to 1 M words."""
    from evaltool.autocode import run as autocode_run
    from evaltool.store import open_store

    words_n = cfg.size(3_000, 100_000, TARGET_WORDS)
    paths = cfg.corpus(words_n)
    nlp = segment_nlp()
    db = cfg.workdir / f"e2e-{words_n}.db"
    copy_db(trained_db(cfg)[0], db)
    store = open_store(str(db))
    try:
        # The trained model stays stored; the demo documents go, so that only the
        # generated corpus is imported and coded in the timed part.
        with store.document_writer() as writer:
            for doc in store.list_documents():
                writer.delete(doc.id)

        def work() -> int:
            import_into(store, paths, nlp)
            return autocode_run.run(store, lambda: nlp).segments

        wall, cpu, segments = measure(work)
    finally:
        store.close()
    texts = paragraphs(paths)
    words = word_count(texts)
    base_wall, base_cpu, _ = measure(lambda: raw_pipe(nlp, texts))
    scale = TARGET_WORDS / words
    measured = words_n >= TARGET_WORDS
    label = "measured" if measured else f"extrapolated ×{scale:.1f} from {words} words"
    total = wall * (1 if measured else scale)
    measured_row = Row(NAME, f"import + auto-code {words} words", wall, "s",
                       "raw nlp.pipe, same texts", base_wall,
                       note=f"CPU {cpu:.0f} s vs {base_cpu:.0f} s; {segments} segments coded",
                       higher_is_better=False)
    return [
        *([] if measured else [measured_row]),
        Row(NAME, f"import + auto-code 1M words ({label})", total, "s",
            "raw nlp.pipe, 1M words" + ("" if measured else " (extrapolated)"),
            base_wall * (1 if measured else scale), f"< {TARGET_S:.0f} s", total < TARGET_S,
            note=f"CPU-time equivalent {cpu * (1 if measured else scale):.0f} s; "
                 f"{segments} segments coded" + ("" if measured else f" in the {words}-word run"),
            higher_is_better=False),
    ]
