"""Auto-coding: rule and model suggestions combined into one per (segment, code).

- :mod:`.rules`: codebook patterns on lemmas; explanation = matched words;
- :mod:`.model`: multi-label classifier trained on accepted codings plus the
  codebook's examples; explanation = the terms that drove it;
- :mod:`.coder`: the two combined (:func:`build`, :func:`score`, :func:`suggest`);
- :mod:`.run`: training from and writing suggestions to the store, the review queue.
"""

from evaltool.autocode.coder import (
    MIN_TOKENS,
    NAME,
    RULE_PRIOR,
    THRESHOLD,
    Coder,
    build,
    codebook_examples,
    codebook_vocabulary,
    estimate_rule_precision,
    examples_of,
    is_codable,
    masked,
    params_json,
    score,
    seed_units,
    suggest,
    uncertainty,
)

__all__ = ["MIN_TOKENS", "NAME", "RULE_PRIOR", "THRESHOLD", "Coder", "build", "codebook_examples",
           "codebook_vocabulary", "estimate_rule_precision", "examples_of", "is_codable", "masked",
           "params_json", "score", "seed_units", "suggest", "uncertainty"]
