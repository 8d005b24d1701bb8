"""Journey on Import: a REFI-QDA project from another tool becomes a new evaltool project."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from evaltool.store import open_store
from tests.browser_util import act, alerts, go_to, serve_app
from tests.journeys.journey import export_rows, main, start

pytestmark = pytest.mark.browser

TEXT = ("Mette (bibliotekar): Vi satte kaffe på bordet. Der kom nye brugere.\n\n"
        "Søren: Kaffen var god.\n")


def _qdpx(folder: Path) -> Path:
    """A small project as another tool writes it: two codes, two coded selections."""
    def sel(guid: str, phrase: str, code: str) -> str:
        start = TEXT.index(phrase)
        return (f'<PlainTextSelection guid="{guid}" startPosition="{start}" '
                f'endPosition="{start + len(phrase)}"><Coding guid="k{guid}" creatingUser="u1">'
                f'<CodeRef targetGUID="{code}"/></Coding></PlainTextSelection>')
    qde = ('<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" '
           'name="Kaffeprojekt" origin="NVivo 14"><Users><User guid="u1" name="Hanne"/></Users>'
           '<CodeBook><Codes><Code guid="c1" name="Kaffe" isCodable="true"/>'
           '<Code guid="c2" name="Nye brugere" isCodable="true"/></Codes></CodeBook>'
           '<Sources><TextSource guid="s1" name="Interview Lemvig" '
           'plainTextPath="internal://s1.txt">'
           + sel("a", "kaffe på bordet", "c1") + sel("b", "Der kom nye brugere.", "c2")
           + '</TextSource></Sources></Project>')
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "kaffeprojekt.qdpx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("project.qde", qde)
        z.writestr("sources/s1.txt", TEXT)
    return path


@pytest.fixture(scope="module")
def empty_url(chromium: str, journey_dir: Path) -> Iterator[str]:
    """An app server on a new, empty database (a project is imported only into one)."""
    db = journey_dir / "refi_empty.db"
    open_store(str(db)).close()
    with serve_app(db) as url:
        yield url


def _upload(page: Page, path: Path) -> None:
    go_to(page, "Import")
    form = main(page).get_by_test_id("stForm").filter(has_text="Vælg projektfil")
    form.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))
    expect(form.get_by_text(path.name)).to_be_visible()
    act(page, form.get_by_role("button", name="Importér projekt").click, timeout=180_000)


def test_project_upload_makes_documents_and_codings(page: Page, empty_url: str,
                                                    journey_dir: Path) -> None:
    """The person uploads a .qdpx on Import into a new project: the document and both codings
    are there (Eksport counts them), the codes wait for a CMO kind on Kodebog."""
    path = _qdpx(journey_dir / "refi")
    start(page, empty_url)
    _upload(page, path)
    expect(alerts(page).filter(has_text=re.compile(
        r"importeret: 1 dokument, 2 koder, 2 kodninger fra 2 markeringer"))).to_be_visible()
    go_to(page, "Eksport")
    assert export_rows(page) == 2
    go_to(page, "Kodebog")
    expect(main(page).get_by_text("Ikke tildelt").first).to_be_visible()


def test_project_upload_into_a_project_with_documents_is_refused(page: Page, app_url: str,
                                                                  journey_dir: Path) -> None:
    """On the shared demo project the upload is refused with one message; nothing changes."""
    path = _qdpx(journey_dir / "refi_demo")
    start(page, app_url)
    go_to(page, "Eksport")
    before = export_rows(page)
    _upload(page, path)
    expect(alerts(page).filter(has_text="intet er gemt")).to_contain_text("allerede")
    go_to(page, "Eksport")
    assert export_rows(page) == before
