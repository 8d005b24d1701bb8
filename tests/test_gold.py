"""Gold CSV files: the demo corpus's gold codings and how a gold file is read."""

from __future__ import annotations

import re
from pathlib import Path

from evaltool import gold

CORPUS_GOLD = Path(__file__).parent.parent / "corpus" / "gold"

# Common English words that are not also Danish words ("to", "at", "for", "i", "men",
# "have", "by", "is", "and" and "under" are Danish, so they are not listed).
ENGLISH_WORDS = {"the", "of", "with", "was", "were", "are", "not", "from", "this", "which",
                 "their", "they", "into", "has", "would", "only", "than", "instead",
                 "because", "without", "through", "been", "what", "does", "on", "who",
                 "it", "its", "as", "no", "a", "an", "his", "after", "already", "uncertain"}


def test_demo_gold_memos_are_danish() -> None:
    """The evaluator's memos in the demo's gold files are written in Danish."""
    memos = [(Path(r.path).name, r.line, r.memo)
             for rows in gold.read_dir(CORPUS_GOLD).values() for r in rows if r.memo]
    assert len(memos) > 150  # the demo does carry memos
    english = [(name, line, sorted(ENGLISH_WORDS & set(re.findall(r"[a-z']+", memo.lower()))))
               for name, line, memo in memos]
    assert [e for e in english if e[2]] == []
