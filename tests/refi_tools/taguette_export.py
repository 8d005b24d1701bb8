"""Run inside Taguette's own virtualenv (it pins SQLAlchemy 1.4): create a Taguette project
through its database models, with a document, tags and highlights, then write the codebook
with Taguette's own REFI-QDA exporter (``taguette.export.codebook_xml``).

Usage: python taguette_export.py OUT_DIR. Writes OUT_DIR/codebook.qdc and OUT_DIR/tags.json
(the tags and highlights as Taguette stores them, for the test to compare).
"""

import json
import sys
from pathlib import Path

from taguette import database
from taguette.export import codebook_xml

out = Path(sys.argv[1])
db = database.connect(f"sqlite:///{out / 'taguette.sqlite3'}")()
user = database.User(login="lise")
db.add(user)
project = database.Project(name="Kaffe på biblioteket", description="Prøveprojekt")
db.add(project)
db.add(database.ProjectMember(project=project, user=user,
                              privileges=database.Privileges.ADMIN))
text = "<p>Vi satte kaffe på bordet.</p><p>Der kom nye brugere, også ældre.</p>"
document = database.Document(name="Interview 1", description="", filename="interview1.txt",
                             project=project, contents=text,
                             text_direction=database.TextDirection.LEFT_TO_RIGHT)
db.add(document)
tags = {path: database.Tag(project=project, path=path, description=desc) for path, desc in [
    ("kaffe", "Kaffe og samvær"), ("kaffe.uformelt", "Uformelt samvær over kaffen"),
    ("nye brugere", "Nye brugere kommer"), ("Ældre", "")]}
db.add_all(tags.values())
db.flush()
for start, end, names in [(3, 27, ["kaffe", "kaffe.uformelt"]), (38, 56, ["nye brugere"])]:
    db.add(database.Highlight(document=document, start_offset=start, end_offset=end,
                              snippet=text[start:end], tags=[tags[n] for n in names]))
db.commit()
stored = db.query(database.Tag).filter(database.Tag.project_id == project.id) \
    .order_by(database.Tag.path).all()
codebook_xml(stored, str(out / "codebook.qdc"))  # Taguette's own exporter
highlights = [{"tags": sorted(t.path for t in h.tags), "snippet": h.snippet}
              for h in db.query(database.Highlight).all()]
(out / "tags.json").write_text(json.dumps({
    "tags": [{"path": t.path, "description": t.description} for t in stored],
    "highlights": highlights}, ensure_ascii=False))
