"""Codebooks: the shipped files, validation errors with line and field, loading."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from evaltool import codebook
from evaltool.autocode import rules
from evaltool.errors import CodebookError

ROOT = Path(__file__).parent.parent
MINI = (Path(__file__).parent / "fixtures" / "mini_kodebog.yaml").read_text(encoding="utf-8")


def test_default_codebook_covers_the_change_theory() -> None:
    spec = codebook.load(ROOT / "codebooks" / "smaat_braendbart.yaml")
    assert 25 <= len(spec.codes) <= 40
    assert set(spec.columns) == {"Netværk", "Idéer og ressourcer", "Konkrete aktiviteter",
                                 "Aktiviteter", "Resultater", "Kortsigtet effekt",
                                 "Langsigtet effekt"}
    assert set(Counter(c.column for c in spec.codes)) == set(spec.columns)
    assert set(Counter(c.cmo for c in spec.codes)) == {"context", "mechanism", "outcome"}
    assert {t for c in spec.codes for t in c.themes} == {"T1", "T2", "T3"}
    assert {g for c in spec.codes for g in c.goals} == {"G1", "G2", "G3", "G4"}
    assert [t.label for t in spec.themes] == ["Biblioteket som nøgle til samfundet",
                                              "Samskabelse som strategisk værktøj",
                                              "Samskabelse som ny faglighed"]
    assert all(c.examples and c.patterns for c in spec.codes)


def test_second_codebook_is_another_project() -> None:
    spec = codebook.load(ROOT / "codebooks" / "samskabelsespiloter.yaml")
    default = codebook.load(ROOT / "codebooks" / "smaat_braendbart.yaml")
    assert spec.id != default.id
    assert not {c.id for c in spec.codes} & {c.id for c in default.codes}
    assert {c.cmo for c in spec.codes} == {"context", "mechanism", "outcome"}


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "message"),
    [
        ("    cmo: mechanism\n", "    cmo: mekanisme\n", 29, "codes[1] (mek_kaffe).cmo",
         "Input should be 'context', 'mechanism', 'outcome' or 'unassigned'"),
        ("    themes: [T1]\n    goals: [G1]\n    target_groups",
         "    themes: [T9]\n    goals: [G1]\n    target_groups", 31,
         "codes[1] (mek_kaffe).themes", "unknown theme 'T9'"),
        ("    column: Effekter\n    themes: [T2]", "    column: Resultater\n    themes: [T2]", 53,
         "codes[3] (udf_invitationer).column", "unknown column 'Resultater'"),
        ("  - id: udf_invitationer", "  - id: mek_kaffe", 49, "codes[3] (mek_kaffe).id",
         "duplicate id 'mek_kaffe'"),
        ("    label: Nye brugere\n", "    label: Nye brugere\n    farve: grøn\n", 40,
         "codes[2] (udf_nye_brugere).farve", "unknown field"),
        ("    parent: udf_nye_brugere", "    parent: udf_findes_ikke", 56,
         "codes[3] (udf_invitationer).parent", "unknown parent code 'udf_findes_ikke'"),
        ('    patterns: ["kaffe", "*kaffe", "kage"]', "    patterns: [[{TEKST: kaffe}]]", 34,
         "codes[1] (mek_kaffe).patterns[0][0].TEKST", "unsupported token attribute 'TEKST'"),
        ('    patterns: ["kaffe", "*kaffe", "kage"]', "    patterns: [[{LOWER: {IN: kaffe}}]]", 34,
         "codes[1] (mek_kaffe).patterns", "invalid Matcher pattern"),
        ("version: 1\n", "", 1, "version", "required field is missing"),
        ("title: Lille testkodebog", "title: [Lille", 3, None, "invalid YAML"),
    ],
)
def test_invalid_codebook_names_file_line_field(tmp_path: Path, old: str, new: str, line: int,
                                                field: str | None, message: str) -> None:
    assert old in MINI
    path = tmp_path / "kodebog.yaml"
    path.write_text(MINI.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(CodebookError) as err:
        codebook.load(path)
    e = err.value
    assert (e.path, e.line, e.field) == (str(path), line, field)
    assert message in e.message
    assert "\n" not in str(e)


def test_shorthand_expands_to_lemma_and_form_readings() -> None:
    assert rules.shorthand_to_patterns("kaffe") == [[{"LEMMA": "kaffe"}], [{"LOWER": "kaffe"}]]
    assert rules.shorthand_to_patterns("samskab*") == [[{"LOWER": {"REGEX": "^samskab"}}]]
    assert len(rules.shorthand_to_patterns("kaffe *møde _")) == 4
    assert rules.shorthand_to_patterns("_ x*")[0] == [{}, {"LOWER": {"REGEX": "^x"}}]


def test_reloading_keeps_codings_of_unchanged_ids(coded_store, tmp_path: Path) -> None:
    seg = coded_store.segments(1)[1].id
    coded_store.add_coding([seg], "mek_kaffe", "Anna")
    coded_store.add_coding([seg], "udf_invitationer", "Anna")
    changed = MINI.replace("label: Kaffe og uformelt samvær", "label: Kaffe, kage og samvær")
    start = changed.index("  - id: udf_invitationer")
    changed = changed[:start]  # drop the last code
    path = tmp_path / "v2.yaml"
    path.write_text(changed.replace("version: 1", "version: 2"), encoding="utf-8")
    report = coded_store.load_codebook(codebook.load(path), "v2.yaml")
    assert (report.version, report.added, report.updated, report.retired) == (2, 0, 3, 1)
    views = coded_store.coding_views(status="accepted")
    assert [(v.code_key, v.code_label) for v in views] == [
        ("mek_kaffe", "Kaffe, kage og samvær"), ("udf_invitationer", "Invitationer fra forvaltninger")]
    assert [c.key for c in coded_store.codes()] == ["ctx_strategi", "mek_kaffe", "udf_nye_brugere"]
