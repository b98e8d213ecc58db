"""A learning platform's bulk download is graded per student, as it comes (issue 15).

Canvas's "Download Submissions" gives every file loose in one folder, named `<sortable name>_<user
id>_<submission id>_<file name>` (`_LATE` after the name when late; `-1` added by Canvas to a file
uploaded again under the same name); Moodle's "Download all submissions" gives a folder per
participant named `<full name>_<participant id>_assignsubmission_file_`. Neither is a class folder
of one folder per student, and before this the first graded 0 students."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from grader.tests.needs import status_word
from grader.course.curriculum import Curriculum, load
from grader.course.mistakes import catalogue, mistaken_source
from grader.grading.reports.roster import RosterError, fill_roster
from grader.grading.submissions import read_class

# Canvas's Gradebook export: a byte-order mark, the "Points Possible" row, a student's name with a comma.
CANVAS_EXPORT = ("\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,LLM katas (98765),Current Score,Final Score\r\n"
                 "    Points Possible,,,,,100.00,(read only),(read only)\r\n"
                 '"Doe, Jane",12345,s001,jdoe,Sec 1,,,\r\n'
                 '"Smith, Bob",340934,s002,bsmith,Sec 1,,,\r\n'
                 '"Absent, Al",999,s003,aal,Sec 1,,,\r\n').encode("utf-8")
# Moodle's grading worksheet.
MOODLE_WORKSHEET = ("Identifier,Full name,Email address,Status,Grade,Maximum grade,Grade can be changed\n"
                    "Participant 12345,Jane Doe,jane@example.org,Submitted,,100.00,Yes\n"
                    "Participant 777,Ana Maria,ana@example.org,No submission,,100.00,Yes\n").encode("utf-8")


@pytest.fixture(scope="module")
def full() -> Curriculum:
    return load()


def modules(curriculum: Curriculum) -> set[str]:
    return {t.module_file for t in curriculum.topics}


def canvas_download(folder: Path, curriculum: Curriculum) -> Path:
    folder.mkdir()
    reference = curriculum["tokenizer"].solution().read_bytes()
    (folder / "doejane_12345_67890_tokenizer.py").write_bytes(reference)
    (folder / "doejane_12345_67890_notes.txt").write_bytes(b"my notes")
    # Late, and the file uploaded again under the same name: Canvas calls it tokenizer-1.py.
    (folder / "emptyann_55_66_readme.txt").write_bytes(b"I could not do it")  # no module at all: "empty"
    (folder / "smithbob_LATE_340934_208490284_tokenizer-1.py").write_bytes(reference.replace(b"return", b"return None #", 1))
    return folder


def test_a_canvas_download_is_read_per_student(full, tmp_path):
    submissions, skipped = read_class(canvas_download(tmp_path / "canvas", full), modules(full))
    assert not skipped
    by_id = {s.student: s for s in submissions}
    assert set(by_id) == {"doejane_12345", "emptyann_55", "smithbob_340934"}
    assert set(by_id["doejane_12345"].files) == {"tokenizer.py"}
    assert by_id["doejane_12345"].ignored == [("notes.txt", "not a Python module")]
    assert set(by_id["smithbob_340934"].files) == {"tokenizer.py"}, "Canvas's -1 is dropped"


def test_a_moodle_download_is_read_per_participant(full, tmp_path):
    folder = tmp_path / "moodle"
    jane = folder / "Jane Doe_12345_assignsubmission_file_"
    (jane / "exercises").mkdir(parents=True)
    (jane / "exercises" / "tokenizer.py").write_bytes(full["tokenizer"].solution().read_bytes())
    (folder / "Ana María O'Neil_777_assignsubmission_file_").mkdir()
    (folder / "Ana María O'Neil_777_assignsubmission_file_" / "tokenizer.py").write_bytes(b"x = 1\n")
    submissions, skipped = read_class(folder, modules(full))
    assert not skipped
    assert {s.student: set(s.files) for s in submissions} == {"Jane-Doe_12345": {"tokenizer.py"},
                                                              "Ana-Maria-O-Neil_777": {"tokenizer.py"}}


def test_one_student_as_a_folder_and_as_loose_files_is_refused_not_merged(full, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "doejane_12345").mkdir()
    (folder / "doejane_12345_67890_tokenizer.py").write_bytes(b"x = 1\n")
    submissions, _ = read_class(folder, modules(full))
    assert [s.student for s in submissions] == ["doejane_12345"]
    assert "two entries for this student" in submissions[0].error


def test_make_grade_grades_a_canvas_download(full, tmp_path, capsys):
    from grader.__main__ import main
    class_dir = canvas_download(tmp_path / "canvas", full)
    out = tmp_path / "out"
    assert main(["grade", str(class_dir), "--out", str(out)]) == 0
    rows = {r["student"]: r for r in csv.DictReader((out / "gradebook.csv").open(encoding="utf-8"))}
    tokenizer = full["tokenizer"].max_points
    assert float(rows["doejane_12345"]["tokenizer"]) == tokenizer
    assert float(rows["smithbob_340934"]["tokenizer"]) < tokenizer
    assert status_word(rows["doejane_12345"]) == "graded" and status_word(rows["emptyann_55"]) == "empty"
    results = json.loads((out / "doejane_12345" / "results.json").read_text(encoding="utf-8"))
    assert results["extra_data"]["topics"]["tokenizer"] == tokenizer
    # The roster round trip: Canvas's export in, the same file with the totals out, ready to import.
    (tmp_path / "export.csv").write_bytes(CANVAS_EXPORT)
    capsys.readouterr()
    assert main(["grade", str(class_dir), "--out", str(out), "--roster", str(tmp_path / "export.csv"),
                 "--column", "LLM katas"]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "Roster: 2 totals written" in printed and "graded but in no row of the roster: emptyann_55" in printed
    assert "in the roster but not graded (their cell is unchanged): Absent, Al" in printed
    back = {r["ID"]: r["LLM katas (98765)"] for r in csv.DictReader(io.StringIO((out / "export.csv").read_text("utf-8-sig")))}
    assert float(back["12345"]) == float(rows["doejane_12345"]["total"]) and back["999"] == ""
    assert main(["grade", str(class_dir), "--out", str(out), "--roster", str(tmp_path / "export.csv")]) == 2


def test_a_browsers_copy_of_a_module_is_taken_when_alone(full, tmp_path):
    """`tokenizer (1).py` (a browser's second download) or `-1` is the module when it is alone;
    beside the module under its own name, the own name wins and the copy is listed as ignored."""
    folder = tmp_path / "class"
    (folder / "ada").mkdir(parents=True)
    (folder / "ada" / "tokenizer (1).py").write_bytes(b"x = 1\n")
    (folder / "ben").mkdir()
    (folder / "ben" / "tokenizer-2.py").write_bytes(b"x = 2\n")
    (folder / "ben" / "tokenizer.py").write_bytes(b"x = 3\n")
    by_id = {s.student: s for s in read_class(folder, modules(full))[0]}
    assert by_id["ada"].files == {"tokenizer.py": b"x = 1\n"}
    assert by_id["ben"].files == {"tokenizer.py": b"x = 3\n"}
    assert by_id["ben"].ignored == [("tokenizer-2.py", "another copy of this module was taken instead")]


def test_a_canvas_export_gets_the_column_filled_and_nothing_else_changed():
    filled = fill_roster(CANVAS_EXPORT, {"doejane_12345": 87.5, "smithbob_340934": 3.0, "ghost_1": 9.0}, "LLM katas")
    assert filled.column == "LLM katas (98765)" and filled.filled == ["doejane_12345", "smithbob_340934"]
    assert filled.not_in_roster == ["ghost_1"] and filled.not_graded == ["Absent, Al"]
    assert filled.content.startswith(b"\xef\xbb\xbf")
    before = list(csv.reader(io.StringIO(CANVAS_EXPORT.decode("utf-8-sig"))))
    after = list(csv.reader(io.StringIO(filled.content.decode("utf-8-sig"))))
    changed = {(r, c) for r, row in enumerate(after) for c, cell in enumerate(row) if before[r][c] != cell}
    assert changed == {(2, 5), (3, 5)} and after[2][5] == "87.5" and after[3][5] == "3"
    assert filled.content.count(b"\r\n") == CANVAS_EXPORT.count(b"\r\n")


def test_a_moodle_worksheet_fills_grade_and_a_login_id_matches_whole():
    filled = fill_roster(MOODLE_WORKSHEET, {"Jane-Doe_12345": 100.0})
    assert filled.column == "Grade" and filled.not_graded == ["Participant 777"]
    assert list(csv.reader(io.StringIO(filled.content.decode())))[1][4] == "100"
    assert fill_roster(CANVAS_EXPORT, {"jdoe": 5.0}, "LLM katas").filled == ["jdoe"]  # a folder named by login


@pytest.mark.parametrize("column,why", [(None, "say which column"), ("Quiz", "no column"), ("S", "more than one")])
def test_a_roster_that_cannot_be_filled_says_why(column, why):
    with pytest.raises(RosterError, match=why):
        fill_roster(CANVAS_EXPORT, {}, column)


def notebook(*cells: str | list[str], kind: str = "code") -> bytes:
    """A Jupyter notebook (format 4) of these code cells, as Jupyter saves it (source as lines)."""
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# My attention notebook"]},
        *({"cell_type": kind, "metadata": {}, "execution_count": 1, "outputs": [],
           "source": c if isinstance(c, list) else c.splitlines(True)} for c in cells)]}, indent=1).encode()


def as_notebook(source: bytes) -> bytes:
    """A learner's notebook of this module: set-up magics first, the code cut into cells, each
    class or function tried out below it (calls and prints that must not reach the module)."""
    text = source.decode()
    cut = [i for i, line in enumerate(text.splitlines(True)) if line.startswith(("class ", "def "))]
    lines = text.splitlines(True)
    cells: list[str | list[str]] = [["%matplotlib inline\n", "!pip install torch\n", "%load_ext autoreload"]]
    for start, end in zip([0] + cut, cut + [len(lines)]):
        cells.append("".join(lines[start:end]))
    cells.append("%%time\nprint(causal_mask(3))")
    cells.append("torch.manual_seed(123)\nprint(CausalAttention(3, 2, 6, 0.0)(torch.rand(2, 6, 3)).shape)")
    return notebook(*cells)


def test_a_notebook_named_after_its_topic_is_that_topics_module(full, tmp_path):
    """Its functions, classes, imports and assignments are taken; magics, shell lines and
    statements that only try the code out are dropped, each listed with the reason."""
    folder = tmp_path / "class"
    (folder / "ada").mkdir(parents=True)
    (folder / "ada" / "causal_attention.ipynb").write_bytes(as_notebook(full["causal_attention"].solution().read_bytes()))
    (folder / "ada" / "tokenizer (1).ipynb").write_bytes(notebook("x = 1\n!ls\nprint(x)\n"))
    (folder / "ada" / "week3.ipynb").write_bytes(notebook("y = 2\n"))
    (folder / "ben").mkdir()
    (folder / "ben" / "tokenizer.py").write_bytes(b"x = 3\n")
    (folder / "ben" / "tokenizer.ipynb").write_bytes(notebook("x = 4\n"))
    (folder / "ben" / "causal_attention.ipynb").write_bytes(b"{not json")
    by_id = {s.student: s for s in read_class(folder, modules(full))[0]}
    ada, ben = by_id["ada"], by_id["ben"]
    module = ada.files["causal_attention.py"].decode()
    assert "%" not in module and "!pip" not in module and "print(" not in module and "manual_seed" not in module
    assert "class CausalAttention(nn.Module):" in module and "# code cell 3" in module
    compile(module, "causal_attention.py", "exec")
    assert ada.files["tokenizer.py"].endswith(b"# code cell 1\nx = 1\n")
    why = dict(ada.ignored)
    assert why["causal_attention.ipynb: code cell 1"] == "3 IPython magic or shell lines (% or !): not Python, dropped"
    cells = len(json.loads(as_notebook(full["causal_attention"].solution().read_bytes()))["cells"]) - 1  # code cells
    assert why[f"causal_attention.ipynb: code cell {cells - 1}"] == "an IPython cell magic (%%): not Python, dropped"
    assert why[f"causal_attention.ipynb: code cell {cells}"].startswith("2 statements that define nothing")
    assert why["week3.ipynb"].startswith("a notebook is read only when named after its topic")
    assert ben.files == {"tokenizer.py": b"x = 3\n"}, "the .py file wins over its notebook"
    assert dict(ben.ignored) == {"tokenizer.ipynb": "another copy of this module was taken instead",
                                 "causal_attention.ipynb": "not a readable notebook (json.decoder.JSONDecodeError: "
                                                           "Expecting property name enclosed in double quotes: line 1 "
                                                           "column 2 (char 1))"}


def test_a_notebook_crlf_and_a_byte_order_mark_grade_as_the_clean_files(full, tmp_path, capsys):
    """Chapter 3 graded for one student's modules as they are, as Windows saves them (CRLF, a
    byte-order mark) and as notebooks: the same verdicts, and every ignored entry on the console."""
    from grader.__main__ import main
    ch3 = full.assignment("ch3")
    files = {t.module_file: t.solution().read_bytes() for t in ch3.topics}
    files["causal_attention.py"] = mistaken_source(full["causal_attention"], next(
        p for p in catalogue(full["causal_attention"]) if p.id == "scale_missing")).encode()
    folder = tmp_path / "class"
    for student, name, change in (("clean", "{}.py", bytes), ("windows", "{}.py", lambda d: b"\xef\xbb\xbf" + d.replace(b"\n", b"\r\n")),
                                  ("notebook", "{}.ipynb", as_notebook)):
        (folder / student).mkdir(parents=True)
        for module, data in files.items():
            (folder / student / name.format(module[:-3])).write_bytes(change(data))
    (folder / "clean" / "notes.txt").write_bytes(b"notes")
    capsys.readouterr()
    assert main(["grade", str(folder), "--out", str(tmp_path / "out"), "--assignment", "ch3"]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    results = {s: json.loads((tmp_path / "out" / s / "results.json").read_text("utf-8")) for s in ("clean", "windows", "notebook")}
    verdicts = {s: [(t["name"], t["status"], t["score"]) for t in r["tests"]] for s, r in results.items()}
    assert verdicts["clean"] == verdicts["windows"] == verdicts["notebook"]
    assert 0 < results["clean"]["score"] < sum(t.max_points for t in ch3.topics), "the mistake costs points"
    assert "Skipped in clean: notes.txt (not a Python module)" in printed
    assert "Skipped in notebook: causal_attention.ipynb: code cell 1 (3 IPython magic or shell lines (% or !): not Python, dropped)" in printed


# A Gradescope export ("Export Submissions", unzipped): a folder per submission and, beside them,
# submission_metadata.yml (Ruby's YAML: symbol keys), with a solo, a group and an email-less submitter.
GRADESCOPE_METADATA = """\
submission_101:
  :submitters:
  - :name: Jane Doe
    :sid: '001'
    :email: jane@example.org
  :created_at: 2026-12-01 10:00:00.000000000 -08:00
  :score: 0.0
submission_102:
  :submitters:
  - :name: Bob Smith
    :sid: '002'
    :email: bob@example.org
  - :name: "Ana Mar\\xEDa O'Neil"
    :sid: '003'
    :email:
  :created_at: 2026-12-01 11:00:00.000000000 -08:00
submission_103:
  :submitters:
  - :name: Al Absent
    :sid: '004'
    :email: al@example.org
"""


def gradescope_export(root: Path, full: Curriculum) -> Path:
    export = root / "assignment_9100_export"
    (export / "submission_101" / "exercises").mkdir(parents=True)
    (export / "submission_101" / "exercises" / "tokenizer.py").write_bytes(full["tokenizer"].solution().read_bytes())
    (export / "submission_102").mkdir()
    (export / "submission_102" / "tokenizer.py").write_bytes(full["tokenizer"].exercise().read_bytes())
    (export / "submission_999").mkdir()  # in no record
    (export / "submission_metadata.yml").write_text(GRADESCOPE_METADATA, encoding="utf-8")
    return root


def test_a_gradescope_export_is_graded_per_submitter(full, tmp_path, capsys):
    from grader.__main__ import main
    class_dir = gradescope_export(tmp_path / "export", full)
    submissions, skipped = read_class(class_dir, modules(full))
    assert [s.student for s in submissions] == ["Ana-Maria-O-Neil_003", "al@example.org", "bob@example.org",
                                                "jane@example.org"]
    assert skipped == [("submission_999", "not in submission_metadata.yml: whose it is is unknown")]
    by_id = {s.student: s for s in submissions}
    assert by_id["Ana-Maria-O-Neil_003"].files == by_id["bob@example.org"].files, "a group's members share its files"
    assert not by_id["al@example.org"].files and by_id["al@example.org"].ignored == [("submission_103", "no such folder in the export")]
    out = tmp_path / "out"
    assert main(["grade", str(class_dir), "--out", str(out), "--assignment", "ch2"]) == 0
    rows = {r["student"]: r for r in csv.DictReader((out / "gradebook.csv").open(encoding="utf-8"))}
    assert float(rows["jane@example.org"]["tokenizer"]) == full["tokenizer"].max_points
    assert float(rows["bob@example.org"]["tokenizer"]) == float(rows["Ana-Maria-O-Neil_003"]["tokenizer"]) == 0
    assert status_word(rows["al@example.org"]) == "empty" and status_word(rows["jane@example.org"]) == "graded"
    assert "Skipped submission_999: not in submission_metadata.yml" in " ".join(capsys.readouterr().out.split())


def test_a_gradescope_export_whose_metadata_cannot_be_read_is_an_error(full, tmp_path, capsys):
    from grader.__main__ import main
    class_dir = gradescope_export(tmp_path / "export", full)
    (class_dir / "assignment_9100_export" / "submission_metadata.yml").write_text("- !!python/object/apply:os.system ['echo hi']\n")
    submissions, [(name, why)] = read_class(class_dir, modules(full))  # a Python tag is data, never run
    assert submissions == [] and name == "submission_metadata.yml" and why.startswith("cannot be read (yaml.constructor")
    assert main(["grade", str(class_dir), "--out", str(tmp_path / "out")]) == 2
    assert "nothing was graded" in " ".join(capsys.readouterr().out.split())


def test_make_grade_grades_a_moodle_download_per_participant(full, tmp_path):
    """Moodle's "Download all submissions": a folder per participant, or (with "download
    submissions in folders" off) each file under the same prefix; graded per participant."""
    from grader.__main__ import main
    folder = tmp_path / "moodle"
    jane = folder / "Jane Doe_12345_assignsubmission_file_"
    (jane / "exercises").mkdir(parents=True)
    (jane / "exercises" / "tokenizer.py").write_bytes(full["tokenizer"].solution().read_bytes())
    (folder / "Bob Smith_340934_assignsubmission_file_tokenizer.py").write_bytes(full["tokenizer"].exercise().read_bytes())
    (folder / "Ana María_777_assignsubmission_onlinetext_onlinetext.html").write_bytes(b"<p>I ran out of time</p>")
    out = tmp_path / "out"
    assert main(["grade", str(folder), "--out", str(out), "--assignment", "ch2"]) == 0
    rows = {r["student"]: r for r in csv.DictReader((out / "gradebook.csv").open(encoding="utf-8"))}
    assert set(rows) == {"Jane-Doe_12345", "Bob-Smith_340934", "Ana-Maria_777"}
    assert float(rows["Jane-Doe_12345"]["tokenizer"]) == full["tokenizer"].max_points
    assert float(rows["Bob-Smith_340934"]["tokenizer"]) == 0 and status_word(rows["Bob-Smith_340934"]) == "graded"
    assert status_word(rows["Ana-Maria_777"]) == "empty"
    results = json.loads((out / "Jane-Doe_12345" / "results.json").read_text(encoding="utf-8"))
    assert results["extra_data"]["topics"]["tokenizer"] == full["tokenizer"].max_points


def test_a_hidden_entry_is_listed_as_skipped_and_housekeeping_is_not(full, tmp_path):
    """Hostile rounds 12 and 13: `.ivy/` was ignored without a word; a file manager's or git's own
    entries stay silent."""
    folder = tmp_path / "class"
    for name in (".ivy", "ada", ".git"):
        (folder / name).mkdir(parents=True)
        (folder / name / "tokenizer.py").write_bytes(full["tokenizer"].solution().read_bytes())
    (folder / ".DS_Store").write_bytes(b"\0")
    (folder / "._ada").write_bytes(b"\0")
    submissions, skipped = read_class(folder, modules(full))
    assert [s.student for s in submissions] == ["ada"]
    assert [name for name, _ in skipped] == [".ivy"] and "dot" in skipped[0][1]
