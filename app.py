"""Streamlit entry point: `streamlit run app.py` (see README). All logic lives in evaltool.ui."""

from evaltool.ui.main import run

run()
