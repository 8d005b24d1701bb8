"""Shared fixtures: real database files under tmp, Danish fixture transcripts,
a blank Danish pipeline for fast unit tests and the real model where lemmas matter."""

from __future__ import annotations

import shutil
import unicodedata
from pathlib import Path

import pytest
import spacy
from click.testing import CliRunner

from evaltool import nlp as nlp_mod
from evaltool.store import open_store

FIXTURES = Path(__file__).parent / "fixtures"
JOURNEYS = Path(__file__).parent / "journeys"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Group tests for pytest-xdist (``make test`` runs ``-n 2 --dist loadgroup``).

    Every test under tests/journeys is a browser test in the group 'journeys', so they all
    run on one worker (one app server, one Chromium) while the other worker runs the rest;
    by folder, so a new journey file joins without a list. The tests that use a module- or
    session-scoped fixture of their own module (a benchmark run, a loaded NER model, a
    virtualenv made in the repo) share a worker too, so that it is built once, by one worker."""
    for item in items:
        if JOURNEYS in item.path.parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.xdist_group("journeys"))
            continue
        info = getattr(item, "_fixtureinfo", None)
        defs = [d[-1] for d in info.name2fixturedefs.values() if d] if info is not None else []
        module = getattr(item, "module", None)
        if module is not None and any(
                d.scope != "function" and getattr(d.func, "__module__", None) == module.__name__
                for d in defs):
            item.add_marker(pytest.mark.xdist_group(item.path.stem))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Warn when ``--dist loadgroup`` did not group (pytest-xdist marks a grouped test by an
    ``@group`` suffix on its id; pytest 9.2 ignores that: pytest-xdist#1386)."""
    if not getattr(session.config.option, "loadgroup", False):
        return
    lost = [i.nodeid for i in session.items
            if i.get_closest_marker("xdist_group") and "@" not in i.nodeid]
    if lost:
        import warnings

        warnings.warn(pytest.PytestWarning(
            f"pytest-xdist did not group {len(lost)} tests (e.g. {lost[0]}): each worker will "
            "start its own app server and browser; use a pytest below 9.2"), stacklevel=1)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Path of a fresh SQLite database file."""
    return tmp_path / "test.db"


@pytest.fixture
def store(db_path: Path):
    """An opened, migrated store on ``db_path``."""
    s = open_store(str(db_path))
    yield s
    s.close()


@pytest.fixture(scope="session")
def blank_nlp():
    """A tokenizer + rule sentencizer: fast, deterministic, no model needed."""
    nlp = spacy.blank("da")
    nlp.add_pipe("sentencizer")
    return nlp


@pytest.fixture(scope="session")
def model_nlp():
    """The installed Danish pipeline, loaded for segmentation."""
    return nlp_mod.load("segment")


@pytest.fixture
def runner() -> CliRunner:
    """Click's CLI runner."""
    return CliRunner()


@pytest.fixture
def fixtures(tmp_path: Path) -> Path:
    """A writable copy of tests/fixtures."""
    target = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, target)
    return target


def first_schema_database(path: Path) -> Path:
    """An 'old' database: schema 0001 only, holding one short document ('gammel.txt', Morsø,
    one turn by Åse: 'Hej med jer.')."""
    from alembic import command

    from evaltool.store.db import alembic_config, make_engine

    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
        conn.exec_driver_sql(
            "INSERT INTO documents (name, format, site, content_hash, text, model, imported_at) "
            "VALUES ('gammel.txt', 'txt', 'Morsø', 'abc', 'Hej med jer.', 'x', '2016-12-01')")
        conn.exec_driver_sql("INSERT INTO speakers (document_id, name, is_moderator) "
                             "VALUES (1, 'Åse', 0)")
        conn.exec_driver_sql("INSERT INTO turns (document_id, speaker_id, number, start_char, "
                             "end_char, text) VALUES (1, 1, 1, 0, 12, 'Hej med jer.')")
    engine.dispose()
    return path


def write_variants(src: Path, folder: Path) -> dict[str, Path]:
    """The same transcript saved as cp1252+CRLF, UTF-8 BOM + NFD, UTF-16 and .docx."""
    import docx

    text = src.read_text(encoding="utf-8")
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    out["utf8"] = folder / "utf8.txt"
    out["utf8"].write_bytes(text.encode("utf-8"))
    out["cp1252_crlf"] = folder / "cp1252.txt"
    out["cp1252_crlf"].write_bytes(text.replace("\n", "\r\n").encode("cp1252"))
    out["bom_nfd"] = folder / "bom_nfd.txt"
    out["bom_nfd"].write_bytes(b"\xef\xbb\xbf" + unicodedata.normalize("NFD", text).encode())
    out["utf16_cr"] = folder / "utf16.md"
    out["utf16_cr"].write_bytes(text.replace("\n", "\r").encode("utf-16"))
    document = docx.Document()
    for line in text.rstrip("\n").split("\n"):
        document.add_paragraph(line)
    out["docx"] = folder / "word.docx"
    document.save(out["docx"])
    return out


def _load_coded(store, fixtures: Path, nlp) -> None:
    """Import the two short transcripts (Morsø, Vesthimmerland) and load the mini codebook."""
    from evaltool import codebook
    from evaltool.importer import import_paths

    summary = import_paths([fixtures / "kaffe_morsoe.txt", fixtures / "kaffe_aars.txt"], store,
                           lambda: nlp)
    assert summary.failed == 0
    store.load_codebook(codebook.load(fixtures / "mini_kodebog.yaml"), "mini_kodebog.yaml")


def _load_app(store, fixtures: Path, nlp) -> None:
    """Add the hostile document, gold codings on one document and auto-coded suggestions."""
    from evaltool import gold
    from evaltool.autocode import run as autocode_run
    from evaltool.importer import import_paths

    (fixtures / "ondsindet.txt").write_text(APP_EVIL, encoding="utf-8")
    import_paths([fixtures / "ondsindet.txt"], store, lambda: nlp)
    gold.load_gold(store, fixtures / "gold", documents=["kaffe_morsoe.txt"])
    autocode_run.run(store, lambda: nlp)


def _template(folder: Path, steps, nlp) -> Path:
    """Build a database once with ``steps`` (each ``step(store, fixtures, nlp)``) and keep a
    clean single-file copy of it (SQLite's backup API) for tests to copy."""
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "fixtures"
    shutil.copytree(FIXTURES, data)
    built = open_store(str(folder / "built.db"))
    for step in steps:
        step(built, data, nlp)
    built.backup(folder / "template.db")
    built.close()
    return folder / "template.db"


@pytest.fixture(scope="session")
def _coded_template(tmp_path_factory: pytest.TempPathFactory, model_nlp) -> Path:
    """The ``coded_store`` database, built once per session (per xdist worker)."""
    return _template(tmp_path_factory.mktemp("coded_template"), [_load_coded], model_nlp)


@pytest.fixture(scope="session")
def _app_template(tmp_path_factory: pytest.TempPathFactory, model_nlp) -> Path:
    """The ``app_db`` database, built once per session (per xdist worker)."""
    return _template(tmp_path_factory.mktemp("app_template"), [_load_coded, _load_app], model_nlp)


_BUILT = pytest.StashKey[str]()


@pytest.fixture
def coded_store(request: pytest.FixtureRequest, db_path: Path, fixtures: Path):
    """Two short transcripts (Morsø, Vesthimmerland) and the mini codebook loaded.

    A copy of a database built once per session (importing with the real model costs
    seconds); the ``app_db`` content when the test also uses ``app_db``. Built in place, as
    before, if the test opened ``store`` first."""
    if db_path.exists():
        store = request.getfixturevalue("store")
        _load_coded(store, fixtures, request.getfixturevalue("model_nlp"))
        request.node.stash[_BUILT] = "coded"
        return store
    wants_app = "app_db" in request.fixturenames
    shutil.copyfile(request.getfixturevalue("_app_template" if wants_app else "_coded_template"),
                    db_path)
    request.node.stash[_BUILT] = "app" if wants_app else "coded"
    return request.getfixturevalue("store")


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL cluster on localhost (tests skip, with the reason, without one)."""
    from tests.pgcluster import PgUnavailable, cluster

    manager = cluster()
    try:
        server = manager.__enter__()
    except PgUnavailable as exc:
        pytest.skip(f"no PostgreSQL server: {exc}")
    yield server
    manager.__exit__(None, None, None)


@pytest.fixture(scope="session")
def postgres_url(postgres_server) -> str:
    """SQLAlchemy URL (``postgresql+psycopg://``) of an empty database on the test server."""
    return postgres_server.create_database()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_store(request, tmp_path: Path):
    """An opened, migrated store on a fresh database: SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        s = open_store(str(tmp_path / "any.db"))
        yield s
        s.close()
        return
    server = request.getfixturevalue("postgres_server")
    url = server.create_database()  # a database per test: no state leaks between tests
    s = open_store(url)
    yield s
    s.close()
    server.drop_database(url)


BIBLIOTEK = """---
title: Kaffe på biblioteket
site: Tønder
---
[00:00:05] Mette (bibliotekar): Kommunens strategi gav os ryg. Vi satte kaffe på bordet. Der kom nye brugere.
[00:00:30] Søren (frivillig): Kaffen var god. Strategien var klar. Det var hyggeligt.
[00:01:00] Åse (borger): Jeg fik lånerkort. Kagen var lækker. Vi talte længe. Tak for i dag.
"""


@pytest.fixture
def team_store(any_store, tmp_path: Path, blank_nlp):
    """One ten-sentence Danish transcript (three turns) and the mini codebook, for team tests
    (on SQLite and on PostgreSQL)."""
    store = any_store
    from evaltool import codebook
    from evaltool.importer import import_paths

    path = tmp_path / "bibliotek_toender.txt"
    path.write_text(BIBLIOTEK, encoding="utf-8")
    assert import_paths([path], store, lambda: blank_nlp).failed == 0
    store.load_codebook(codebook.load(FIXTURES / "mini_kodebog.yaml"), "mini_kodebog.yaml")
    return store


@pytest.fixture
def team_db(team_store) -> str:
    """The URL of the team store's database, for the CLI and second connections."""
    return team_store.engine.url.render_as_string(hide_password=False)


APP_EVIL = """---
title: Ondsindet
site: Testby
moderator: Ordstyrer
---
Ordstyrer: Hvad skete der?
<script>alert(1)</script> (frivillig): Vi skrev **fed tekst** og <b>html</b> på tavlen,
og over en kop kaffe blev vi enige.
"""


@pytest.fixture
def app_db(coded_store, fixtures: Path, db_path: Path, monkeypatch,
           request: pytest.FixtureRequest):
    """A database with gold codings on one document and suggestions to review, named by
    EVALTOOL_DB for the Streamlit app (see tests/app_util.py), with clean Streamlit caches."""
    import streamlit as st

    if request.node.stash.get(_BUILT, "") == "app":  # copied from the session's template
        (fixtures / "ondsindet.txt").write_text(APP_EVIL, encoding="utf-8")
    else:
        _load_app(coded_store, fixtures, request.getfixturevalue("model_nlp"))
    monkeypatch.setenv("EVALTOOL_DB", str(db_path))
    monkeypatch.delenv("EVALTOOL_MODE", raising=False)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield coded_store
    st.cache_resource.clear()
    st.cache_data.clear()
