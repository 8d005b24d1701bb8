"""What a user reads in the app is Danish: no Streamlit English, right plural forms,
whole-number axes, Danish messages where the core's are English."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import streamlit as st
from streamlit.proto.SelectWidgetFilterMode_pb2 import SelectWidgetFilterMode

from evaltool.ui.text import count
from tests.app_util import open_page, start

PAGES = ["coding.py", "import_page.py", "dashboard.py", "agreement.py", "codebook_page.py",
         "export_page.py", "search_page.py", "matrix_page.py", "memo_page.py", "chapter_page.py"]


def test_count_says_singular_and_plural() -> None:
    assert count(1, "sted", "steder") == "1 sted"
    assert count(0, "sted", "steder") == "0 steder"
    assert count(2, "sted", "steder") == "2 steder"
    assert count(1234, "række", "rækker") == "1.234 rækker"


@pytest.mark.parametrize("page", PAGES)
def test_no_english_widget_texts(app_db, page: str) -> None:
    """No multiselect ('Select all', 'No results'), no searchable selectbox ('No results'),
    and every selectbox has a Danish placeholder instead of 'Choose an option'."""
    at = open_page(start(), page)
    assert not at.multiselect
    boxes = list(at.selectbox) + list(at.sidebar.selectbox)
    assert boxes
    for box in boxes:
        assert box.proto.filter_mode == SelectWidgetFilterMode.FILTER_MODE_NONE, box.key
        assert box.proto.placeholder and "Choose" not in box.proto.placeholder, box.key


def _charts(at) -> list[dict]:
    return [json.loads(c.proto.spec) for kind in ("vega_lite_chart", "arrow_vega_lite_chart")
            for c in at.get(kind)]


def test_dashboard_count_axes_are_whole_numbers(app_db) -> None:
    at = open_page(start(None), "dashboard.py")
    bars = [c for c in _charts(at) if c.get("mark", {}).get("type") == "bar"
            or c.get("mark") == "bar"]
    assert bars
    for chart in bars:
        axis = chart["encoding"]["x"]["axis"]
        assert axis["format"] == "d" and axis["tickMinStep"] == 1


@pytest.fixture
def empty_db(store, db_path: Path, monkeypatch):
    """A database without a codebook, named by EVALTOOL_DB."""
    monkeypatch.setenv("EVALTOOL_DB", str(db_path))
    monkeypatch.delenv("EVALTOOL_MODE", raising=False)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield store
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.mark.parametrize("page", ["dashboard.py", "codebook_page.py", "export_page.py"])
def test_no_codebook_is_said_in_danish(empty_db, page: str) -> None:
    at = open_page(start(), page)
    assert [i.value for i in at.info] == [
        "Der er ikke indlæst nogen kodebog endnu. Indlæs en med `evaltool codebook load FIL` "
        "(eller prøv demoen med `evaltool demo`)."]


def test_export_preview_has_danish_headings(app_db) -> None:
    at = open_page(start(None), "export_page.py")
    frame = at.dataframe[0]
    assert "code_id" in frame.value.columns  # the data (and the files) keep the contract names
    config = json.loads(frame.proto.columns)
    assert config["code_id"]["label"] == "Kode-id" and config["text"]["label"] == "Tekst"
