"""The rule layer's literal pre-filter: it skips work but never changes what matches."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaltool import codebook
from evaltool.autocode.rules import RuleCoder, regex_literals, token_literals, unit_doc
from evaltool.importer import import_paths

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("regex", "literals"),
    [
        ("^udkant", {"udkant"}),
        ("^(lukke|lukker)$", {"lukke", "lukker"}),
        ("^(lokal)?fællesskab", {"fællesskab"}),
        ("^døre?", {"dør"}),
        ("^co-?creation", {"creation"}),
        (r"^\w+sted", {"sted"}),
        ("(chef|leder)(en|erne)?$", {"chef", "leder"}),
        ("^a|b", None),
        ("^.$", None),
    ],
)
def test_regex_literals_are_what_every_match_contains(regex: str, literals) -> None:
    assert regex_literals(regex) == (None if literals is None else frozenset(literals))


def test_optional_tokens_give_no_requirement() -> None:
    assert token_literals({"OP": "?"}) is None
    assert token_literals({"LOWER": "Åen", "OP": "+"}) == frozenset({"åen"})
    assert token_literals({"POS": "NUM"}) is None


def _full_matcher(rules: RuleCoder, unit) -> dict[str, list[str]]:
    """What the rule layer returned before the pre-filter: every pattern on every segment."""
    doc = unit_doc(rules.vocab, unit.text, unit.tokens)
    out: dict[str, list[str]] = {}
    for match_id, start, end in rules.matcher(doc):
        found = out.setdefault(rules.vocab.strings[match_id], [])
        if doc[start:end].text not in found:
            found.append(doc[start:end].text)
    return out


def test_prefilter_matches_exactly_what_the_full_matcher_matches(store, model_nlp) -> None:
    assert import_paths([ROOT / "corpus" / "02_morsoe.md"], store, lambda: model_nlp).failed == 0
    rules = RuleCoder(codebook.load(ROOT / "codebooks" / "smaat_braendbart.yaml").codes)
    units = [u for u in store.coding_units() if u.tokens]
    expected = [_full_matcher(rules, u) for u in units]
    assert sum(map(len, expected)) > 20  # the corpus does trigger rules
    assert [rules.match(u) for u in units] == expected
