"""Search: lemma-aware matches, filters, keyword in context, syntax errors, on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from evaltool import attributes, codebook
from evaltool.errors import SearchSyntaxError
from evaltool.importer import import_paths
from evaltool.search import parse
from evaltool.store import Store

FIXTURES = Path(__file__).parent / "fixtures"

SAMSKABELSE = """---
title: Samskabelse i Aars
site: Aars
---
Ordstyrer: Hvordan gik samarbejdet med kommunen?
Lene (borger): Vi samskabte et nyt tilbud sammen med biblioteket. Det var sjovt.
Ole (frivillig): Samskabelsen tog tid, men kaffen hjalp. Vi vil gerne samskabe mere.
Lene: Jeg drak kaffe hver dag.
Ole: Kaffemaskinen gik i stykker.
"""

TOENDER = """---
title: Kaffe i Tønder
site: Tønder
---
Mette (bibliotekar): Vi samskaber med foreningerne. Der kom kaffe på bordet.
"""


@pytest.fixture
def search_store(any_store: Store, tmp_path: Path, model_nlp) -> Store:
    """Two Danish transcripts (Aars, Tønder) segmented by the real model, mini codebook."""
    paths = []
    for name, body in (("samskabelse_aars.txt", SAMSKABELSE), ("kaffe_toender.txt", TOENDER)):
        path = tmp_path / name
        path.write_text(body, encoding="utf-8")
        paths.append(path)
    assert import_paths(paths, any_store, lambda: model_nlp).failed == 0
    any_store.load_codebook(codebook.load(FIXTURES / "mini_kodebog.yaml"), "mini_kodebog.yaml")
    return any_store


def _matches(hits) -> list[str]:
    return [h.match for h in hits]


def test_lemma_search_finds_inflections(search_store: Store) -> None:
    hits = search_store.search("samskabe", lemma=True)
    assert sorted(m.lower() for m in _matches(hits)) == [
        "samskabe", "samskabelsen", "samskaber", "samskabte"]
    # word forms only without lemma mode
    assert _matches(search_store.search("samskabe")) == ["samskabe"]
    assert _matches(search_store.search("samskab*")) == ["samskabte", "Samskabelsen", "samskabe",
                                                         "samskaber"]


def test_hits_point_into_the_document_text(search_store: Store) -> None:
    hits = search_store.search("kaffen OR kaffe")
    assert [(h.document, h.turn, h.speaker) for h in hits] == [
        ("samskabelse_aars.txt", 3, "Ole"), ("samskabelse_aars.txt", 4, "Lene"),
        ("kaffe_toender.txt", 1, "Mette")]
    for hit in hits:
        assert search_store.document_text(hit.document_id)[hit.start:hit.end] == hit.match
        segment = next(s for s in search_store.segments(hit.document_id) if s.id == hit.segment_id)
        assert segment.text == hit.left + hit.match + hit.right
    assert hits[0].match == "kaffen" and hits[0].left.startswith("Samskabelsen tog tid")


def test_phrase_prefix_and_exclusion(search_store: Store) -> None:
    assert _matches(search_store.search('"tog tid"')) == ["tog tid"]
    assert _matches(search_store.search('"tid tog"')) == []
    assert _matches(search_store.search("kaffe*")) == ["kaffen", "kaffe", "Kaffemaskinen", "kaffe"]
    assert [h.document for h in search_store.search("kaffe* -tønder -bordet")] == [
        "samskabelse_aars.txt"] * 3
    assert _matches(search_store.search("kaffen samskabelsen")) == ["Samskabelsen"]


def test_filters(search_store: Store) -> None:
    docs = {d.name: d.id for d in search_store.list_documents()}
    assert [h.document for h in search_store.search("kaffe*", site="Tønder")] == ["kaffe_toender.txt"]
    assert len(search_store.search("kaffe*", documents=[docs["samskabelse_aars.txt"]])) == 3
    assert [h.speaker for h in search_store.search("kaffe*", role="frivillig")] == ["Ole", "Ole"]
    assert [h.speaker for h in search_store.search("kaffe*", role="borger")] == ["Lene"]
    assert search_store.speaker_roles() == ["bibliotekar", "borger", "frivillig"]
    assert search_store.search("kaffe*", code="K1") == []
    hit = search_store.search("kaffemaskinen")[0]
    code = search_store.codes()[0].key
    search_store.add_as("Åse", [hit.segment_id], code)
    assert [h.segment_id for h in search_store.search("kaffe*", code=code)] == [hit.segment_id]
    assert [h.segment_id for h in search_store.search("kaffe*", status=["accepted"])] == [hit.segment_id]
    assert search_store.search("kaffe*", code=code, status=["rejected"]) == []


def _tag(store: Store) -> None:
    """Target groups and another attribute on the two documents; Lene her own target group."""
    docs = {d.site: d.id for d in store.list_documents()}
    store.set_attributes(docs["Aars"], {"target_groups": "Borgere", "kommune": "Vesthimmerland"},
                         actor="Åse")
    store.set_attributes(docs["Tønder"], {"target_groups": "Personale", "kommune": "Tønder"},
                         actor="Åse")
    store.set_attributes(docs["Aars"], {"target_group": "Unge"}, speaker="Lene", actor="Åse")


def test_attribute_filters_change_the_hits(search_store: Store) -> None:
    _tag(search_store)

    def who(**kw) -> list[tuple[str, str]]:
        scope = attributes.scope(search_store, **kw)
        return [(h.speaker, h.match) for h in search_store.search("kaffe*", scope=scope)]

    everyone = [("Ole", "kaffen"), ("Lene", "kaffe"), ("Ole", "Kaffemaskinen"), ("Mette", "kaffe")]
    assert who() == everyone
    # a target group by the quote rule: Lene's own, Ole's from his document
    assert who(target_group="Unge") == [("Lene", "kaffe")]
    assert who(target_group="Borgere") == [("Ole", "kaffen"), ("Ole", "Kaffemaskinen")]
    assert who(target_group="Personale") == [("Mette", "kaffe")]
    # speaker attributes (the role too) and document attributes (the site too)
    speaker_role = attributes.parse_filter("speaker:role=frivillig")
    assert who(filters=[speaker_role]) == [("Ole", "kaffen"), ("Ole", "Kaffemaskinen")]
    assert who(filters=[attributes.parse_filter("speaker:target_group=Unge")]) == [
        ("Lene", "kaffe")]
    assert who(filters=[attributes.parse_filter("kommune=Tønder")]) == [("Mette", "kaffe")]
    assert who(filters=[attributes.parse_filter("site=Aars")]) == everyone[:3]
    assert who(filters=[attributes.parse_filter("kommune=Vesthimmerland"), speaker_role]) == [
        ("Ole", "kaffen"), ("Ole", "Kaffemaskinen")]
    # nothing matches the filter: no hits, not every hit
    assert who(filters=[attributes.parse_filter("kommune=Aarhus")]) == []
    assert who(target_group="Unge", filters=[speaker_role]) == []
    # the other filters still narrow inside the scope
    scope = attributes.scope(search_store, target_group="Borgere")
    assert search_store.search("kaffemaskinen", scope=scope)[0].speaker == "Ole"
    assert search_store.search("kaffe*", scope=scope, site="Tønder") == []


def test_documents_being_imported_are_not_found(search_store: Store) -> None:
    doc = next(d for d in search_store.list_documents() if d.site == "Tønder")
    with search_store.write() as conn:
        conn.execute(text("UPDATE documents SET status = 'importing' WHERE id = :d"), {"d": doc.id})
    assert search_store.search("samskaber") == []
    assert [h.site for h in search_store.search("kaffe")] == ["Aars"]


def test_deleted_documents_leave_the_index(search_store: Store) -> None:
    doc = next(d for d in search_store.list_documents() if d.site == "Tønder")
    assert search_store.search("mette") == []  # speaker names are not text
    search_store.delete_document(doc.id, actor="Åse")
    assert search_store.search("samskaber") == []
    assert search_store.search("foreningerne") == []
    if search_store.is_sqlite:  # the FTS5 index still matches the segments exactly
        with search_store.write() as conn:
            conn.exec_driver_sql("INSERT INTO segments_fts(segments_fts) VALUES ('integrity-check')")
            conn.exec_driver_sql("DELETE FROM segments")
            assert conn.exec_driver_sql("SELECT count(*) FROM segments_fts WHERE segments_fts "
                                        "MATCH 'kaffe'").scalar_one() == 0


def test_limit(search_store: Store) -> None:
    assert len(search_store.search("kaffe*", limit=2)) == 2


@pytest.mark.parametrize("query,kind", [
    ("", "empty"), ("   ", "empty"), ('"tog tid', "unclosed_quote"), ("OR kaffe", "or_without_term"),
    ("kaffe OR", "or_without_term"), ("kaffe OR OR te", "or_without_term"),
    ("-kaffe", "only_excluded"), ("ka*ffe", "misplaced_star"), ("*", "no_word"),
    ("kaffe:", "bad_character"), ("(kaffe)", "bad_character"),
])
def test_syntax_errors_are_named(query: str, kind: str) -> None:
    with pytest.raises(SearchSyntaxError) as err:
        parse(query)
    assert err.value.kind == kind
    assert str(err.value).startswith("search query, character ")
    assert "\n" not in str(err.value)


def test_syntax_error_from_the_store(search_store: Store) -> None:
    with pytest.raises(SearchSyntaxError, match="closing"):
        search_store.search('"kaffe')


def test_search_without_fts5_gives_the_same_hits(search_store: Store) -> None:
    if not search_store.is_sqlite:
        pytest.skip("FTS5 fallback is SQLite only")
    queries = ["samskabe", "kaffe* -bordet", '"tog tid"', "kaffen OR samskaber"]
    with_index = {q: search_store.search(q, lemma=True) for q in queries}
    with search_store.write() as conn:
        conn.exec_driver_sql("DROP TABLE segments_fts")  # as on a SQLite built without FTS5
    assert {q: search_store.search(q, lemma=True) for q in queries} == with_index


def test_index_is_used(search_store: Store) -> None:
    with search_store.engine.connect() as conn:
        if search_store.is_sqlite:
            rows = conn.exec_driver_sql(
                "SELECT count(*) FROM segments_fts WHERE segments_fts MATCH 'lemmas : \"samskab\" *'"
            ).scalar_one()
            assert rows == 4
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")
            plan = " ".join(r[0] for r in conn.exec_driver_sql(
                "EXPLAIN SELECT id FROM segments WHERE to_tsvector('simple'::regconfig, "
                "text || ' ' || lemmas) @@ to_tsquery('simple'::regconfig, 'kaffe')"))
            assert "ix_segments_search" in plan


def test_cli_prints_keyword_in_context(search_store: Store, runner) -> None:
    from evaltool.cli import cli

    url = search_store.engine.url.render_as_string(hide_password=False)
    result = runner.invoke(cli, ["--db", url, "search", "samskabe", "--lemma", "--site", "Aars"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 3 and result.stderr.strip() == "3 hits"
    assert lines[0].startswith("samskabelse_aars.txt:2 [")
    assert lines[0].endswith("Vi [samskabte] et nyt tilbud sammen med biblioteket.")
    assert "[Samskabelsen] tog tid" in lines[1]
    words = runner.invoke(cli, ["--db", url, "search", "samskabe", "--document",
                                "samskabelse_aars.txt"])
    assert words.stdout.count("\n") == 1 and "[samskabe]" in words.stdout


def test_cli_attribute_filters(search_store: Store, runner) -> None:
    from evaltool.cli import cli

    _tag(search_store)
    url = search_store.engine.url.render_as_string(hide_password=False)

    def search(*args: str) -> list[str]:
        result = runner.invoke(cli, ["--db", url, "search", "kaffe*", *args])
        assert result.exit_code == 0, result.output
        return [line.split(" [")[0] for line in result.stdout.splitlines()] + [
            result.stderr.strip()]

    assert search() == ["samskabelse_aars.txt:3", "samskabelse_aars.txt:4",
                        "samskabelse_aars.txt:5", "kaffe_toender.txt:1", "4 hits"]
    assert search("--target-group", "Unge") == ["samskabelse_aars.txt:4", "1 hit"]
    assert search("--where", "speaker:role=frivillig", "--where", "kommune=Vesthimmerland") == [
        "samskabelse_aars.txt:3", "samskabelse_aars.txt:5", "2 hits"]
    assert search("--where", "kommune=Aarhus") == ["0 hits"]
    bad = runner.invoke(cli, ["--db", url, "search", "kaffe*", "--where", "kommune"])
    assert bad.exit_code != 0 and len(bad.stderr.strip().splitlines()) == 1


def test_cli_syntax_error_is_one_line(search_store: Store, runner) -> None:
    from evaltool.cli import cli

    url = search_store.engine.url.render_as_string(hide_password=False)
    result = runner.invoke(cli, ["--db", url, "search", "kaffe OR"])
    assert result.exit_code == 1
    assert result.stderr == ("Error: search query, character 9: OR needs a word or phrase on "
                             "both sides\n")
    assert result.stdout == ""
