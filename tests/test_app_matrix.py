"""The Matricer page: codes × site counts, Jaccard on demand, a CSV download, quotes of a cell."""

from __future__ import annotations

from evaltool.ui.codes import code_labels
from tests.app_util import open_page, start


def test_code_by_site_with_quotes(app_db) -> None:
    m = app_db.matrix("site")
    assert m.rows, "the app database has accepted codings"
    at = open_page(start("Åse"), "matrix_page.py")
    at.selectbox(key="mat_cols").select("site").run()
    assert not at.exception
    frame = at.dataframe[0].value
    labels = code_labels(app_db.codes())  # the table names codes as the pickers do
    assert frame.index.name == "Kode" and list(frame.index) == [labels[r] for r in m.rows]
    assert list(frame.columns) == list(m.cols)
    assert [int(frame.loc[labels[r], c]) for r in m.rows for c in m.cols] == [
        m.count(r, c) for r in m.rows for c in m.cols]
    row, col = m.rows[0], next(c for c in m.cols if m.count(m.rows[0], c))
    at.selectbox(key="mat_row").select(row)
    at.selectbox(key="mat_col").select(col).run()
    assert at.caption[0].value.split()[0] == str(m.count(row, col))
    at.toggle(key="mat_jaccard").set_value(True).run()
    assert 0 < at.dataframe[0].value.loc[labels[row], col] <= 1
