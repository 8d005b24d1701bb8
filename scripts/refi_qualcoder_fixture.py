"""Write tests/fixtures/refi/qualcoder_kaffe.qdpx with QualCoder's own REFI-QDA exporter.

Makes a small project (one made-up Danish focus group, four codes under a category and a
parent code, five codings by two coders, one with a memo) in QualCoder's database schema
(its CREATE TABLE statements read from its __main__.py) and runs refi.RefiExport headless
(Qt offscreen; dialogs answered, its helpers module replaced by a silent Message). Needs a
QualCoder checkout and PyQt6 in the running Python (QualCoder is not on PyPI):
    HOME=$(mktemp -d) QUALCODER_SRC=<checkout>/src python scripts/refi_qualcoder_fixture.py OUTDIR
"""
import os, sqlite3, sys, types, re
os.environ["QT_QPA_PLATFORM"] = "offscreen"
SRC = os.environ["QUALCODER_SRC"]  # QualCoder's src/ folder
sys.path.insert(0, SRC)
from PyQt6 import QtWidgets
qapp = QtWidgets.QApplication([])
import qualcoder  # noqa
helpers = types.ModuleType("qualcoder.helpers")
class Message:
    def __init__(self, *a, **k): pass
    def exec(self): return 0
helpers.Message = Message
sys.modules["qualcoder.helpers"] = helpers
from qualcoder import refi

OUT = sys.argv[1]  # where kaffe.qdpx is written
proj = os.path.join(OUT, "kaffe.qda")
os.makedirs(os.path.join(proj, "documents"))
os.makedirs(os.path.join(os.path.expanduser("~"), ".qualcoder"), exist_ok=True)
conn = sqlite3.connect(os.path.join(proj, "data.qda"))
main = open(os.path.join(SRC, "qualcoder", "__main__.py"), encoding="utf-8").read()
start = main.index('cur.execute(\n            "CREATE TABLE project')
end = main.index("self.app.update_coder_names()", start)
for stmt in re.findall(r'cur\.execute\(\s*((?:"[^"]*"\s*)+)\)', main[start:end]):
    conn.execute("".join(re.findall(r'"([^"]*)"', stmt)))
conn.execute("create view annotation_visible as select * from annotation")
conn.execute("INSERT INTO project VALUES('v17','2026-11-30 23:00:00','','QualCoder 4.0 Beta',0,0,'mette','',null,null,null)")
text = ("Interviewer: Hvad fik jer til at komme igen?\n"
        "Deltager A: Kaffen og snakken. Man føler sig velkommen, når nogen kender ens navn.\n"
        "Deltager B: For mig var det bibliotekaren, der ringede og spurgte, om jeg ville med.\n"
        "Interviewer: Og hvad har det betydet?\n"
        "Deltager A: Jeg har fået lånerkort, og jeg har taget min nabo med to gange.\n")
conn.execute("insert into source values (1,'fokusgruppe_kaffe.txt',?,null,'','mette','2026-11-30 23:00:00',null,null)", (text,))
conn.execute("insert into code_cat values (1,'Mekanismer','mette','2026-11-30 23:00:00','Hvad virker',null)")
conn.execute("insert into code_name values (1,'Uformelt samvær','Kaffe, snak og at blive genkendt',1,'mette','2026-11-30 23:00:00','#F3A6A6',null)")
conn.execute("insert into code_name values (2,'Personlig invitation','Nogen inviterer direkte',1,'mette','2026-11-30 23:00:00','#A6C8F3',null)")
conn.execute("insert into code_name values (3,'Nye brugere','Borgere, der begynder at bruge biblioteket',null,"
             "'mette','2026-11-30 23:00:00','#B8F3A6',null)")
conn.execute("insert into code_name values (4,'Tager andre med','En bruger tager andre med',null,'jonas','2026-11-30 23:01:00','#F3E1A6',3)")
def code(cid, phrase, owner, memo=""):
    p0 = text.index(phrase); p1 = p0 + len(phrase)
    conn.execute("insert into code_text (cid,fid,seltext,pos0,pos1,owner,date,memo,important) values (?,?,?,?,?,?,?,?,null)",
                 (cid, 1, phrase, p0, p1, owner, "2026-11-30 23:05:00", memo))
code(1, "Kaffen og snakken", "mette", "Kernen i mekanismen")
code(1, "Man føler sig velkommen, når nogen kender ens navn.", "jonas")
code(2, "bibliotekaren, der ringede og spurgte, om jeg ville med", "mette")
code(3, "Jeg har fået lånerkort", "mette")
code(4, "jeg har taget min nabo med to gange", "jonas")
conn.commit()

class App:
    def __init__(self):
        self.conn = conn
        self.project_name = "kaffe.qda"
        self.project_path = proj
        self.settings = {"codername": "mette", "directory": OUT, "fontsize": 10, "font": "Noto Sans"}
        self.version = "QualCoder 4.0 Beta"
    def get_annotations(self):
        return []
refi.RefiLineEndings.exec = lambda self: 0
QtWidgets.QFileDialog.getExistingDirectory = staticmethod(lambda *a, **k: OUT)
class Log:
    def append(self, s): print(s)
refi.RefiExport(App(), Log(), "project")
