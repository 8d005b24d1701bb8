"""Every number the app shows is current: writes from anywhere show at the next render."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import yaml
from streamlit.runtime.media_file_manager import MediaFileManager

from evaltool import codebook, export
from evaltool.analysis import dashboard
from evaltool.cli import cli
from evaltool.store import open_store
from evaltool.ui.text import number
from tests.app_util import open_page, start


def _theme_quotes(at) -> list[str]:
    """The 'Citater' metric of each theme card, in order."""
    return [m.value for m in at.metric if m.label == "Citater"]


def _expected_quotes(store) -> list[str]:
    return [number(card.quotes) for card in dashboard(store).themes]


def test_dashboard_shows_a_cli_decision_at_the_next_render(app_db, db_path: Path,
                                                           runner) -> None:
    at = open_page(start(None), "dashboard.py")
    before = _theme_quotes(at)
    assert before == _expected_quotes(app_db)
    open_ = app_db.coding_views(status="suggested")[:6]
    assert open_
    for c in open_:  # another process: the CLI on the same database file
        result = runner.invoke(cli, ["--db", str(db_path), "adjudicate", "--segment",
                                     str(c.segment_id), "--code", c.code_key, "--accept",
                                     "--coder", "Bo"])
        assert result.exit_code == 0, result.output
    assert _expected_quotes(app_db) != before
    at.run()
    assert _theme_quotes(at) == _expected_quotes(app_db)


def test_dashboard_of_a_second_session_sees_a_decision_in_the_first(app_db) -> None:
    lead = open_page(start(None), "dashboard.py")
    before = _theme_quotes(lead)
    coder = open_page(start(), "coding.py")
    coder.segmented_control(key="kod_view").set_value("Næste usikre").run()
    for _ in range(4):
        coder.button(key="kod_qa").click().run()
    lead.run()
    assert _theme_quotes(lead) == _expected_quotes(app_db) != before


def test_coding_page_shows_a_codebook_loaded_elsewhere(app_db, fixtures: Path,
                                                       db_path: Path) -> None:
    at = open_page(start(), "coding.py")
    assert any("Kaffe og uformelt samvær" in m.value for m in at.markdown)
    spec = yaml.safe_load((fixtures / "mini_kodebog.yaml").read_text(encoding="utf-8"))
    spec["version"] = 2
    next(c for c in spec["codes"] if c["id"] == "mek_kaffe")["label"] = "Kaffe og kage"
    changed = fixtures / "mini_kodebog_v2.yaml"
    changed.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    other = open_store(str(db_path))
    other.load_codebook(codebook.load(changed), changed.name)
    other.close()
    at.run()
    shown = " ".join(m.value for m in at.markdown)
    assert "Kaffe og kage" in shown and "Kaffe og uformelt samvær" not in shown


@pytest.fixture
def deferred(monkeypatch) -> dict:
    """The download buttons' deferred callables by file id, as a click would run them."""
    made: dict = {}
    original = MediaFileManager.add_deferred

    def record(self, data_callable, *args, **kwargs):
        file_id = original(self, data_callable, *args, **kwargs)
        made[file_id] = data_callable
        return file_id

    monkeypatch.setattr(MediaFileManager, "add_deferred", record)
    return made


def _accept_some(db_path: Path, n: int) -> None:
    other = open_store(str(db_path))
    for c in other.coding_views(status="suggested")[:n]:
        other.decide(c.id, "accept", "Bo")
    other.close()


def test_export_count_and_download_follow_new_decisions(app_db, db_path: Path,
                                                        deferred: dict) -> None:
    at = open_page(start(), "export_page.py")
    assert at.caption[0].value == f"{number(len(export.build_frame(app_db)))} rækker"
    _accept_some(db_path, 3)
    at.run()
    now = len(export.build_frame(app_db))
    assert at.caption[0].value == f"{number(now)} rækker"
    # decisions after the page was drawn are in the file the next click downloads
    _accept_some(db_path, 3)
    later = len(export.build_frame(app_db))
    assert later > now
    button = next(b for b in at.get("download_button") if b.proto.label == "Hent CSV (UTF-8)")
    data = deferred[button.proto.deferred_file_id]()
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == later
