"""Streamlit components of evaltool's own, in plain HTML/JS (static files, no build step)."""
