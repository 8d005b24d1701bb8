"""Hostile codebooks and gold files: one-line errors with file, line and field, bounded
work at validation and at matching, never a traceback."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evaltool import codebook, gold, saferegex
from evaltool.autocode.rules import RuleCoder
from evaltool.cli import cli
from evaltool.domain import CodingUnit
from evaltool.errors import CodebookError, IngestError

FIXTURES = Path(__file__).parent / "fixtures"
MINI = (FIXTURES / "mini_kodebog.yaml").read_text(encoding="utf-8")
KAFFE = '    patterns: ["kaffe", "*kaffe", "kage"]'  # mek_kaffe, line 34


def _patterns(value: str) -> str:
    """MINI with mek_kaffe's patterns replaced by the YAML flow sequence ``value``."""
    return MINI.replace(KAFFE, f"    patterns: {value}")


HOSTILE = [
    # (name, codebook text, line, field, part of the message)
    ("invalid regex", _patterns('[[{LOWER: {REGEX: "(kaffe"}}]]'), 34,
     "codes[1] (mek_kaffe).patterns[0][0].LOWER", "invalid regular expression: missing )"),
    ("bad escape", _patterns(r'[[{LOWER: {REGEX: "\\p{L}"}}]]'), 34,
     "codes[1] (mek_kaffe).patterns[0][0].LOWER", "invalid regular expression: bad escape"),
    ("nested quantifier", _patterns('[[{LOWER: {REGEX: "^(a+)+$"}}]]'), 34,
     "codes[1] (mek_kaffe).patterns[0][0].LOWER", "catastrophic backtracking"),
    ("overlapping alternatives", _patterns('[[{TEXT: {REGEX: "(a|ab)*c"}}]]'), 34,
     "codes[1] (mek_kaffe).patterns[0][0].TEXT", "catastrophic backtracking"),
    ("regex inside another predicate", _patterns('[[{LOWER: {FUZZY: {REGEX: "(x*)*"}}}]]'), 34,
     "codes[1] (mek_kaffe).patterns[0][0].LOWER", "catastrophic backtracking"),
    ("adjacent repeats", _patterns(r'[[{LOWER: {REGEX: "\\w*\\w*\\w*x"}}]]'), 34,
     "codes[1] (mek_kaffe).patterns[0][0].LOWER", "more than 2 repeats"),
    ("back-reference", _patterns(r'[[{LOWER: {REGEX: "(a)\\1"}}]]'), 34,
     "codes[1] (mek_kaffe).patterns[0][0].LOWER", "back-references"),
    ("shorthand 2^20", _patterns('["' + " ".join(["kaffe"] * 20) + '"]'), 34,
     "codes[1] (mek_kaffe).patterns[0]", "shorthand expands to 1,048,576 patterns (at most 256"),
    ("shorthand too long", _patterns('["kaffe ' + "_ " * 25 + '"]'), 34,
     "codes[1] (mek_kaffe).patterns[0]", "more than 20 tokens"),
    ("{n,m} operator", _patterns('[[{LOWER: kaffe, OP: "{1,100000}"}]]'), 34,
     "codes[1] (mek_kaffe).patterns[0]", "more than 20 tokens"),
    ("bad operator", _patterns('[[{LOWER: kaffe, OP: "{١}"}]]'), 34,
     "codes[1] (mek_kaffe).patterns[0][0].OP", "OP must be"),
    ("custom attribute", _patterns("[[{_: {farve: kaffe}}]]"), 34,
     "codes[1] (mek_kaffe).patterns[0][0]._", "custom attributes (_) are not supported"),
    ("lower-case custom attribute key", _patterns("[[{LOWER: kaffe}, {_: {x: 1}}]]"), 34,
     "codes[1] (mek_kaffe).patterns[0][1]._", "custom attributes"),
    ("attribute the segments do not have", _patterns("[[{MORPH: {IS_SUPERSET: [Number=Plur]}}]]"),
     34, "codes[1] (mek_kaffe).patterns[0][0].MORPH", "unsupported token attribute 'MORPH'"),
    ("self-parent", MINI.replace("    parent: udf_nye_brugere", "    parent: udf_invitationer"), 56,
     "codes[3] (udf_invitationer).parent", "a code cannot be its own parent"),
    ("parent cycle", MINI.replace('    patterns: ["ny* bruger*"',
                                  '    parent: udf_invitationer\n    patterns: ["ny* bruger*"'), 45,
     "codes[2] (udf_nye_brugere).parent",
     "parent cycle: udf_nye_brugere → udf_invitationer → udf_nye_brugere"),
    ("absurd version", MINI.replace("version: 1\n", "version: 99999999999999999999999\n"), 2,
     "version", "less than or equal to 2147483647"),
    ("version beyond 64 bits", MINI.replace("version: 1\n", "version: 9223372036854775808\n"), 2,
     "version", "less than or equal to"),
    ("lone surrogate", MINI.replace("label: Kaffe og uformelt samvær", 'label: "Kaffe \\ud800"'), 27,
     "codes[1] (mek_kaffe).label", "not valid Unicode"),
]


@pytest.mark.parametrize(("name", "text", "line", "field", "message"), HOSTILE,
                         ids=[h[0] for h in HOSTILE])
def test_hostile_codebook_is_refused_with_file_line_and_field(
        tmp_path: Path, name: str, text: str, line: int, field: str, message: str) -> None:
    assert text != MINI, name
    path = tmp_path / "kodebog.yaml"
    path.write_text(text, encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(CodebookError) as err:
        codebook.load(path)
    assert time.perf_counter() - started < 5  # refused before any expansion or matching
    e = err.value
    assert (e.path, e.line, e.field) == (str(path), line, field)
    assert message in e.message
    assert "\n" not in str(e)


@pytest.mark.parametrize("name", ["invalid regex", "shorthand 2^20", "absurd version",
                                  "custom attribute", "parent cycle"])
def test_cli_validate_and_load_print_one_line(tmp_path: Path, runner, name: str) -> None:
    _, text, line, field, message = next(h for h in HOSTILE if h[0] == name)
    path = tmp_path / "kodebog.yaml"
    path.write_text(text, encoding="utf-8")
    db = tmp_path / "t.db"
    for args in (["codebook", "validate", str(path)],
                 ["--db", str(db), "codebook", "load", str(path)]):
        result = runner.invoke(cli, args)
        assert result.exit_code == 1
        assert isinstance(result.exception, SystemExit)  # not a traceback
        [out] = result.output.splitlines()
        assert out.startswith(f"Error: {path}:{line}: [{field}] ")
        assert message in out
    result = runner.invoke(cli, ["--db", str(db), "codebook", "show"])
    assert "no codebook loaded" in result.output  # nothing was stored


def test_fifo_or_folder_named_like_a_codebook_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "kodebog.yaml"
    import os
    os.mkfifo(fifo)  # reading it would block forever
    with pytest.raises(CodebookError, match="not a regular file"):
        codebook.load(fifo)
    with pytest.raises(CodebookError, match="not a regular file"):
        codebook.load(tmp_path)


def test_oversized_codebook_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "stor.yaml"
    path.write_text(MINI + "#" * codebook.MAX_CODEBOOK_BYTES, encoding="utf-8")
    with pytest.raises(CodebookError, match="larger than 5,000,000 bytes"):
        codebook.load(path)


def test_shipped_codebooks_stay_within_the_caps() -> None:
    root = Path(__file__).parent.parent / "codebooks"
    for path in root.glob("*.yaml"):
        codebook.load(path)  # raises if a cap or regex rule refused it


def _unit(text: str, pos: str = "NOUN") -> CodingUnit:
    """A segment whose tokens are its space-separated words (lemma = lower-cased word)."""
    tokens, start = [], 0
    for word in text.split(" "):
        tokens.append([start, start + len(word), word.lower(), pos])
        start += len(word) + 1
    return CodingUnit(segment_id=1, document_id=1, site=None, turn_id=1, turn=1, sent_index=0,
                      speaker="A", role=None, is_moderator=False, text=text,
                      lemmas=text.lower(), tokens=tokens)


def test_a_slow_but_accepted_regex_cannot_run_long_on_a_huge_token() -> None:
    # \w*\w*x passes validation (two repeats); on a 20,000-character token it would
    # cost ~10^12 steps, but the rule layer only shows it the token's first 64 characters
    spec = codebook.parse(_patterns(r'[[{LOWER: {REGEX: "\\w*\\w*x"}}]]'))
    rules = RuleCoder(spec.codes)
    started = time.perf_counter()
    found = rules.match(_unit("vi drak " + "a" * 20_000 + " kaffe"))
    assert time.perf_counter() - started < 2
    assert found == {}
    assert rules.match(_unit("en kaffex")) == {"mek_kaffe": ["kaffex"]}


def test_pos_pattern_on_segments_without_part_of_speech() -> None:
    # segments made with a pipeline without a tagger store no POS; matching must not fail
    spec = codebook.parse(_patterns("[[{POS: NOUN}, {LOWER: kaffe}]]"))
    rules = RuleCoder(spec.codes)
    assert rules.match(_unit("drak kaffe", pos="")) == {}
    assert rules.match(_unit("drak kaffe")) == {"mek_kaffe": ["drak kaffe"]}


def test_stored_codebook_that_no_longer_validates_is_a_clear_error(store) -> None:
    # a codebook stored before a check existed (here: a self-parent) is refused by name
    from evaltool.autocode import run

    store.load_codebook(codebook.parse(MINI), "mini_kodebog.yaml")
    content = store.active_codebook()["content"]
    content["codes"][3]["parent"] = content["codes"][3]["id"]
    with pytest.raises(CodebookError) as err:
        codebook.from_content(content, "stored codebook v1")
    assert str(err.value) == ("stored codebook v1: [codes[3] (udf_invitationer).parent] "
                              "a code cannot be its own parent")
    assert run.active_spec(store)[1] == 1  # the real stored one is fine


# -- regular expressions ------------------------------------------------------------

_ATOMS = st.sampled_from(["a", "b", "ab", ".", r"\w", "[ab]", "[^b]", "x", "(?:a)", "(a)"])
_QUANTS = st.sampled_from(["", "", "*", "+", "?", "{2}", "{1,3}", "*?", "++"])


@st.composite
def _regexes(draw, depth: int = 0) -> str:
    """Small random regular expressions built from atoms, groups, alternation, repeats."""
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        if depth < 2 and draw(st.booleans()):
            inner = draw(st.lists(_regexes(depth + 1), min_size=1, max_size=3))
            atom = "(?:" + "|".join(inner) + ")"
        else:
            atom = draw(_ATOMS)
        parts.append(atom + draw(_QUANTS))
    return "".join(parts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_regexes())
def test_accepted_regexes_are_fast_on_token_sized_input(rx: str) -> None:
    if saferegex.problem(rx) is not None:
        return
    compiled = re.compile(rx)
    n = saferegex.MAX_TOKEN_CHARS
    for probe in ("a" * n, "ab" * (n // 2), "a" * (n - 1) + "!", "b" * n, "xa" * (n // 2)):
        started = time.perf_counter()
        compiled.search(probe)
        assert time.perf_counter() - started < 0.5, (rx, probe[:10])


@pytest.mark.parametrize("rx", [r"^(a+)+$", r"(a|a)*b", r"(a?a?)+b", r"(\w*x)*", r"(?:a*){2}b",
                                r"(?:a?){10}a{10}", r"(x+x+)+y", r"(.*a){5}", r"a?a?\w*\w*x",
                                r"a?a?a?a?a?x"])
def test_known_catastrophic_shapes_are_refused(rx: str) -> None:
    assert saferegex.problem(rx) is not None


@pytest.mark.parametrize("rx", [r"^forsøg(et|ene|s|sperioden?)?$", r"^(mange|stærkt?|aktivt?|svagt?)$",
                                r"^(lov|tilladelse)$", r".*a.*b", r"(?:ab|cd)+", r"^samskab"])
def test_ordinary_regexes_are_accepted(rx: str) -> None:
    assert saferegex.problem(rx) is None


# -- any pattern a codebook can hold validates cleanly and never fails at matching -----

_KEYS = st.sampled_from(["LOWER", "LEMMA", "TEXT", "ORTH", "POS", "LENGTH", "OP", "IS_ALPHA",
                         "_", "MORPH", "DEP", "TAG", "ENT_TYPE", "lower", "op", "FOO"])
_VALUES = st.one_of(
    st.text(max_size=8), st.integers(-3, 10**30), st.booleans(), st.none(),
    st.sampled_from(["+", "*", "?", "!", "{2}", "{1,3}", "{,2}", "{3,}", "{}", "{9,1}", "NOUN"]),
    st.fixed_dictionaries({}, optional={"REGEX": st.text(max_size=12), "IN": st.lists(st.text(max_size=4)),
                                        "FUZZY": st.text(max_size=6), ">=": st.integers(0, 10**20),
                                        "foo": st.text(max_size=3)}),
)
_TOKENS = st.dictionaries(_KEYS, _VALUES, max_size=3)


@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(_TOKENS, min_size=1, max_size=4), min_size=1, max_size=3))
def test_any_token_pattern_is_refused_cleanly_or_matches_without_error(blank_nlp, patterns) -> None:
    text = _patterns(yaml.safe_dump(patterns, default_flow_style=True, width=10**6).strip())
    try:
        spec = codebook.parse(text, "k.yaml")
    except CodebookError as exc:
        assert "\n" not in str(exc)
        return
    rules = RuleCoder(spec.codes)
    for sample in ("Vi drak kaffe med de ældre hver mandag.", "a" * 300, "12 3,5 !"):
        rules.match_text(sample, blank_nlp)
        rules.match(_unit(sample, pos=""))


# -- gold files -----------------------------------------------------------------------


@pytest.mark.parametrize(("row", "message"), [
    ("²,mek_kaffe,x,", "turn must be a positive whole number"),
    ("١,mek_kaffe,x,", "turn must be a positive whole number"),
    ("9" * 5000 + ",mek_kaffe,x,", "turn must be a positive whole number"),
    ("0,mek_kaffe,x,", "turn must be a positive whole number"),
    ("Vi drak kaffe hver mandag,mek_kaffe,x,", "turn must be a positive whole number"),
    ('3,"Vi drak kaffe, og så",x,', "unknown code (not a code id)"),
    ("3,mek_findes_ikke,x,", "unknown code 'mek_findes_ikke'"),
    ('3,mek_kaffe,"' + "x" * 200_000 + '",', "not a valid CSV row (field larger than field limit"),
])
def test_bad_gold_row_is_one_line_naming_file_and_line(tmp_path: Path, row: str, message: str) -> None:
    path = tmp_path / "kaffe_morsoe.csv"
    path.write_text("turn,code,quote,memo\n2,mek_kaffe,,\n" + row + "\n", encoding="utf-8")
    with pytest.raises(IngestError) as err:
        gold.read_file(path, {"mek_kaffe", "udf_nye_brugere"})
    assert str(err.value).startswith(f"{path}:3: ")
    assert message in str(err.value)
    assert "Vi drak" not in str(err.value)  # cell text is never repeated
    assert len(str(err.value)) < 200


def test_gold_load_with_a_superscript_turn_is_one_line(coded_store, fixtures: Path, runner,
                                                       db_path: Path) -> None:
    path = fixtures / "gold" / "kaffe_morsoe.csv"
    path.write_text(path.read_text(encoding="utf-8") + "²,mek_kaffe,,\n", encoding="utf-8")
    result = runner.invoke(cli, ["--db", str(db_path), "gold", "load", str(fixtures / "gold")])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert result.output.splitlines() == [
        f"Error: {path}:6: turn must be a positive whole number of at most 9 digits"]


def test_fifo_in_the_gold_folder_is_refused(tmp_path: Path) -> None:
    import os
    os.mkfifo(tmp_path / "kaffe_morsoe.csv")
    with pytest.raises(IngestError, match="not a regular file"):
        gold.read_dir(tmp_path)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_gold_text_reads_or_fails_cleanly(tmp_path_factory, body: str) -> None:
    path = tmp_path_factory.mktemp("gold") / "g.csv"
    path.write_text("turn,code,quote,memo\n" + body, encoding="utf-8", errors="surrogatepass")
    try:
        rows = gold.read_file(path, {"mek_kaffe"})
    except IngestError as exc:
        assert "\n" not in str(exc)
        return
    assert all(1 <= r.turn < 10**9 and r.code == "mek_kaffe" for r in rows)


# -- the Kodebog page -------------------------------------------------------------------


def test_code_labels_show_literally_in_the_kodebog_page(store, db_path: Path, monkeypatch) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from evaltool.ui.text import md

    label = "**Fed** [klik](http://x) `kode` _kursiv_"
    text = (MINI.replace("label: Kaffe og uformelt samvær", f'label: "{label}"')
            .replace("columns: [Ressourcer, Aktiviteter, Effekter]",
                     'columns: ["# Ressourcer", Aktiviteter, Effekter]')
            .replace("    column: Ressourcer\n", '    column: "# Ressourcer"\n'))
    store.load_codebook(codebook.parse(text), "k.yaml")
    monkeypatch.setenv("EVALTOOL_DB", str(db_path))
    st.cache_resource.clear()
    st.cache_data.clear()
    try:
        at = AppTest.from_file(str(Path(__file__).parent.parent / "evaltool/ui/pages/codebook_page.py"),
                               default_timeout=60)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        titles = [e.label for e in at.expander]
        kaffe = next(t for t in titles if "mek" in t)
        assert kaffe.startswith(md(label) + " · " + md("mek_kaffe") + " · ")
        assert at.subheader[0].value == md("# Ressourcer")
    finally:
        st.cache_resource.clear()
        st.cache_data.clear()
