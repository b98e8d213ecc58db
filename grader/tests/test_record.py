"""grade.json, the one record of a student's grade (grader.grading.record).

Without grading: a record reads back as the grade it was made from (hypothesis: record ->
StudentGrade -> record, through the file too, whatever text a submission put in it); a record
that is not exactly what this grader writes is refused, and reading any file never raises.
With a small class graded by `python -m grader grade`: every report is made from the records
alone (delete them all, make them again from grade.json: the same bytes); "unchanged" follows the
record's submission and grader fingerprints (and no longer reads results.json); a corrupt, an
old-version and a tampered grade.json each get their student graded again, and the class goes on.
"""

from __future__ import annotations

import copy
import csv
import json
import math
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.builders.demo import submission_files, write_submission
from grader.course.curriculum import Curriculum, load
from grader.engine import verdicts as V
from grader.engine.secret import instructor_secret
from grader.grading import record
from grader.grading.record import RecordError, StudentGrade, TopicGrade, from_record, to_record
from grader.tests.needs import sandbox_or_skip
from grader.grading.reports.outputs import write_class, write_student
from grader.grading.sandbox.host import Isolation

SETTINGS = settings(max_examples=60, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
TOPICS = ("special_tokens", "softmax_attention")
SECRET = b"a secret of the tests, 32 bytes long"


@pytest.fixture(scope="module")
def curriculum() -> Curriculum:
    full = load()
    return Curriculum(tuple(full[s] for s in TOPICS), full.root)


# ---------------------------------------------------------------------------------------------
# Records, without grading

text = st.one_of(st.text(max_size=8), st.sampled_from(["\ud800", "\udcff", "\x1b[2J", "\u202e", "\r\n", "|`<>", "\x00"]))
numbers = st.floats(allow_nan=True, allow_infinity=True)
matrices = st.lists(st.lists(numbers, min_size=1, max_size=3), min_size=1, max_size=3)
visuals = st.one_of(st.none(), st.fixed_dictionaries({"expected_shape": st.lists(st.integers(0, 9), max_size=3),
                                                      "got_shape": st.lists(st.integers(0, 9), max_size=3)},
                                                     optional={"expected": matrices, "got": matrices}))
reasons = st.sampled_from([V.PASSED, V.WRONG_VALUES, V.WRONG_SHAPE, V.EXCEPTION, V.TIMEOUT, V.NOT_IMPLEMENTED])


@st.composite
def topic_grades(draw, topic) -> TopicGrade:
    def verdicts(hidden: bool):
        return st.lists(st.builds(
            lambda task, check, reason, message, mistake, seed, visual, candidates, shows, note, variants, diverges: V.Verdict(
                topic.slug, task, check, reason, message, mistake, seed, "what it checks", visual, candidates, shows,
                hidden, note, variants, diverges=diverges, diverges_in=diverges[:8]),
            st.sampled_from([t.id for t in topic.tasks]), text, reasons, text,
            st.one_of(st.none(), st.sampled_from(sorted(topic.mistakes)), text), st.one_of(st.none(), st.integers(0, 2**40)),
            visuals, st.lists(text, max_size=2).map(tuple), text, text, st.lists(text, max_size=2).map(tuple), text),
            max_size=4)
    return TopicGrade(topic.slug, draw(verdicts(False)), draw(verdicts(True)),
                      draw(st.floats(0, topic.max_points)), topic.max_points, draw(text), draw(text),
                      draw(numbers), draw(text))


@st.composite
def student_grades(draw, curriculum) -> StudentGrade:
    topics = {t.slug: draw(topic_grades(t)) for t in curriculum.topics if draw(st.booleans())}
    isolation = draw(st.builds(Isolation, st.sampled_from(["bubblewrap", "none"]), text, st.booleans()))
    return StudentGrade(draw(text), topics, draw(st.lists(st.tuples(text, text), max_size=2)), draw(text),
                        draw(numbers), draw(st.sampled_from(["", "ab" * 32])), draw(st.sampled_from(["", "cd" * 32])),
                        isolation, draw(st.sampled_from(["", record.now()])))


@SETTINGS
@given(data=st.data())
def test_a_record_reads_back_as_itself(curriculum, data, tmp_path_factory):
    """record -> StudentGrade -> record, in memory and through grade.json; strict JSON."""
    made = to_record(data.draw(student_grades(curriculum)), curriculum)
    json.dumps(made, allow_nan=False)  # strict JSON: other tools read it (non-finite numbers of a picture are words)
    grade = from_record(made, curriculum)
    assert to_record(grade, curriculum) == made
    path = tmp_path_factory.mktemp("record") / "grade.json"
    record.save(path, made, SECRET)
    path.read_bytes().decode("ascii")  # a lone surrogate a submission printed is kept, escaped
    again = record.load(path, curriculum, SECRET, grade.student)
    assert again is not None and to_record(again, curriculum) == made
    assert record.load(path, curriculum, SECRET, grade.student + "x") is None  # another student's record


def paths(value, at=()):
    """Every place in a JSON value, as a path of keys and indexes."""
    yield at
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from paths(inner, (*at, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from paths(inner, (*at, index))


json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), numbers, text),
                           lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3)),
                           max_leaves=8)


@SETTINGS
@given(data=st.data())
def test_a_changed_record_is_refused_or_still_exactly_a_record(curriculum, data, tmp_path_factory):
    """Any one change (a value replaced, a field dropped or added): from_record refuses it with
    RecordError, or it is still exactly what to_record writes; with its old MAC, load refuses it."""
    made = to_record(data.draw(student_grades(curriculum)), curriculum)
    changed = copy.deepcopy(made)
    at = data.draw(st.sampled_from(list(paths(made))))
    what = data.draw(st.sampled_from(["replace", "drop", "add"]))
    if not at:
        changed = data.draw(json_values)
    else:
        parent = changed
        for key in at[:-1]:
            parent = parent[key]
        if what == "replace":
            parent[at[-1]] = data.draw(json_values)
        elif what == "drop":
            del parent[at[-1]]
        elif isinstance(parent, dict):
            parent[data.draw(text)] = data.draw(json_values)
        else:
            parent.append(data.draw(json_values))
    try:
        grade = from_record(changed, curriculum)
    except RecordError:
        pass
    else:
        assert to_record(grade, curriculum) == changed
    path = tmp_path_factory.mktemp("record") / "grade.json"
    sealed = {**made, "mac": record._mac(made, SECRET)}
    if isinstance(changed, dict):
        changed = {**changed, "mac": sealed["mac"]}
    path.write_text(json.dumps(changed), encoding="utf-8")
    same = json.dumps(changed, sort_keys=True) == json.dumps(sealed, sort_keys=True)  # 1 == 1.0, but not to a MAC
    assert (record.load(path, curriculum, SECRET) is None) == (not same)


@SETTINGS
@given(content=st.one_of(st.binary(max_size=64), json_values.map(json.dumps),
                         st.integers(1, 100_000).map(lambda n: "[" * n + "]" * n),
                         st.just('{"version": 1, "score": NaN}')))
def test_reading_any_file_never_raises(curriculum, content, tmp_path_factory):
    path = tmp_path_factory.mktemp("record") / "grade.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert record.load(path, curriculum, SECRET) is None


def test_what_is_refused_and_why(curriculum, tmp_path):
    """Each of these would have been trusted by a reader that only checks types."""
    topic = curriculum["softmax_attention"]
    failing = V.Verdict(topic.slug, 1, "a_check", V.WRONG_VALUES, "wrong")
    grade = StudentGrade("ada", {topic.slug: TopicGrade(topic.slug, [failing], [], 0.0, topic.max_points)},
                         submission="ab", grader="cd", isolation=Isolation("bubblewrap"))
    made = to_record(grade, curriculum)
    path = tmp_path / "grade.json"
    record.save(path, made, SECRET)
    assert record.load(path, curriculum, SECRET, "ada") is not None

    def refused(change, sealed: bool) -> bool:
        data = copy.deepcopy(made)
        change(data)
        if sealed:
            record.save(path, data, SECRET)
        else:
            path.write_text(json.dumps({**data, "mac": record._mac(made, SECRET)}))
        return record.load(path, curriculum, SECRET, "ada") is None

    def passes(data):  # a failing check turned into a pass, with every total to match
        check = data["topics"][topic.slug]["checks"][0]
        check.update(reason=V.PASSED, passed=True, points=check["max_points"])
        data["topics"][topic.slug]["tasks"][0].update(points=check["max_points"], passed=True)
        data["topics"][topic.slug]["points"] = data["score"] = check["max_points"]

    forged = copy.deepcopy(made)
    passes(forged)
    assert from_record(forged, curriculum).total == forged["score"]  # consistent in itself ...
    assert refused(passes, sealed=False)  # ... but not what the grader wrote: the MAC says so
    assert refused(lambda d: d.update(version=0), sealed=True)  # another version
    assert refused(lambda d: d["topics"][topic.slug].update(points=4.0), sealed=True)  # totals not from its checks
    assert refused(lambda d: d["topics"].update(attention={}), sealed=True)  # a topic this curriculum lacks
    assert refused(lambda d: d["topics"][topic.slug]["checks"][0].update(task=99), sealed=True)
    assert refused(lambda d: d["topics"][topic.slug]["checks"][0].update(extra=1), sealed=True)
    assert refused(lambda d: d.update(student="ben"), sealed=True)  # copied from another student's folder
    record.save(path, made, b"another instructor's secret")
    assert record.load(path, curriculum, SECRET, "ada") is None
    path.write_text(path.read_text()[:200])
    assert record.load(path, curriculum, SECRET, "ada") is None


# ---------------------------------------------------------------------------------------------
# A class graded by `python -m grader grade`

STUDENTS = {"ada": {"base": "solutions"}, "ben": {"base": "exercises"},
            "dev": {"base": "solutions", "mistakes": ["tokenizer:vocab_not_sorted", "causal_attention:scale_missing"]},
            "eve": {"base": "solutions", "files": {"embeddings.py": "embeddings.py"}}}  # prints as it imports


def graded(class_dir: Path, out: Path, capsys, *extra: str) -> str:
    from grader.__main__ import main
    assert main(["grade", str(class_dir), "--out", str(out), "--workers", "2", *extra]) == 0
    return capsys.readouterr().out


def counts(printed: str) -> tuple[int, int]:
    found = re.search(r"(\d+)\s+to\s+grade,\s+(\d+)\s+unchanged", printed)  # the line may wrap
    return int(found.group(1)), int(found.group(2))


@pytest.fixture(scope="module")
def full() -> Curriculum:
    return load()


@pytest.fixture
def a_class(full, tmp_path) -> Path:
    class_dir = tmp_path / "class"
    class_dir.mkdir()
    (tmp_path / "embeddings.py").write_bytes(b'print("eve was here", flush=True)\n' + full["embeddings"].solution().read_bytes())
    for student, recipe in STUDENTS.items():
        write_submission(class_dir, student, submission_files(full, recipe, tmp_path))
    return class_dir


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_reports_are_made_from_the_records_alone_and_unchanged_reads_the_record(full, a_class, tmp_path, capsys,
                                                                                monkeypatch):
    sandbox_or_skip("reusing a grade")  # a run without the sandbox grades everyone again, by design
    out = tmp_path / "out"
    assert counts(graded(a_class, out, capsys)) == (4, 0)
    before = files_of(out)
    assert {name for name in before if name.endswith("grade.json")} == {f"{s}/grade.json" for s in STUDENTS}

    # Every report again, from the grade.json files alone, in a folder that holds nothing else.
    rebuilt = tmp_path / "rebuilt"
    secret = instructor_secret()[0]
    grades = {}
    for student in STUDENTS:
        (rebuilt / student).mkdir(parents=True)
        shutil.copy(out / student / "grade.json", rebuilt / student / "grade.json")
        grade = record.load(rebuilt / student / "grade.json", full, secret, student)
        grades[student] = write_student(rebuilt, full, grade, secret)
    report = (out / "class_report.md").read_text(encoding="utf-8")
    seconds = float(re.search(r"^Time: ([\d.]+) s\.$", report, re.MULTILINE).group(1))
    write_class(rebuilt, full, grades, grades["ada"].isolation, seconds, len(STUDENTS), [])
    assert files_of(rebuilt) == before
    assert b"sqrt(d_k)" in before["dev/feedback.md"] and b"eve was here" in before["eve/feedback.md"]

    # Unchanged: the record's fingerprints say so; results.json is not read (garbage in it changes nothing).
    (out / "ada" / "results.json").write_text("garbage", encoding="utf-8")
    (out / "ben" / "results.json").unlink()
    assert counts(graded(a_class, out, capsys)) == (0, 4)
    assert (out / "ada" / "grade.json").read_bytes() == before["ada/grade.json"]

    # The student's files change: that student alone is graded again.
    (a_class / "ben" / "tokenizer.py").write_bytes(full["tokenizer"].solution().read_bytes())
    assert counts(graded(a_class, out, capsys)) == (1, 3)
    assert json.loads((out / "ben" / "results.json").read_text())["extra_data"]["topics"]["tokenizer"] == 7

    # The grader changes (its fingerprint): everyone is graded again.
    import grader.grading.cli as cli
    monkeypatch.setattr(cli, "fingerprint", lambda root, secret=None: "another grader")
    assert counts(graded(a_class, out, capsys)) == (4, 0)


def test_a_corrupt_an_old_and_a_tampered_record_are_graded_again(full, a_class, tmp_path, capsys):
    sandbox_or_skip("reusing a grade")
    out = tmp_path / "out"
    graded(a_class, out, capsys)
    gradebook = (out / "gradebook.csv").read_bytes()
    (out / "ada" / "grade.json").write_bytes(b"\x00{not json")
    old = json.loads((out / "ben" / "grade.json").read_text())
    old.pop("mac")
    record.save(out / "ben" / "grade.json", {**old, "version": 0}, instructor_secret()[0])
    tampered = json.loads((out / "dev" / "grade.json").read_text())
    tampered["error"] = "edited"
    (out / "dev" / "grade.json").write_text(json.dumps(tampered))
    assert counts(graded(a_class, out, capsys)) == (3, 1)
    assert (out / "gradebook.csv").read_bytes() == gradebook
    secret = instructor_secret()[0]
    assert all(record.load(out / s / "grade.json", full, secret, s) is not None for s in STUDENTS)


def test_an_entry_that_cannot_be_graded_keeps_the_earlier_grade(full, a_class, tmp_path, capsys):
    """A later download in which a student's entry cannot be graded at all (here a second entry for
    the same id, as a hand-made class folder can hold: hostile trial 9, B2) never replaces the grade
    the output folder holds: the record stays byte for byte, and the console says why."""
    out = tmp_path / "out"
    graded(a_class, out, capsys)
    before = (out / "ada" / "grade.json").read_bytes()
    shutil.make_archive(str(a_class / "ada"), "zip", a_class / "ada")  # ada/ and ada.zip: two entries
    printed = " ".join(graded(a_class, out, capsys, "--force").split())
    assert "Kept ada's earlier grade (" in printed and "two entries for this student" in printed
    assert (out / "ada" / "grade.json").read_bytes() == before
    rows = {r["student"]: r for r in csv.DictReader((out / "gradebook.csv").open(encoding="utf-8"))}
    assert float(rows["ada"]["total"]) == sum(t.max_points for t in full.topics)


def test_finite_numbers_only():
    """Seconds a worker reported as NaN are kept as 0: the record stays strict JSON."""
    grade = StudentGrade("ada", seconds=math.nan)
    assert to_record(grade, load())["seconds"] == 0.0


def test_a_folder_that_is_no_class_is_an_error_not_zero_graded(full, tmp_path, capsys):
    """Files lying loose in the class folder, not named as a Canvas or Moodle download names them
    (those are read per student: test_intake), or an empty folder: exit 2, each skipped entry on
    the console with its reason, nothing written."""
    from grader.__main__ import main
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / "tokenizer.py").write_bytes(full["tokenizer"].solution().read_bytes())
    assert main(["grade", str(loose), "--out", str(tmp_path / "out")]) == 2
    printed = " ".join(capsys.readouterr().out.split())
    assert "Skipped tokenizer.py: neither a folder nor a .zip" in printed
    assert "No submission in" in printed and "nothing was graded" in printed and "a folder of their own" in printed
    (tmp_path / "empty").mkdir()
    assert main(["grade", str(tmp_path / "empty"), "--out", str(tmp_path / "out")]) == 2
    assert "nothing was graded" in " ".join(capsys.readouterr().out.split()) and not (tmp_path / "out").exists()


def test_a_check_counts_only_where_it_passes_on_every_input(curriculum):
    """A table of the released fixtures' outputs passes every public case and no hidden one: a
    check earns its share only when it passed on all its inputs, in the score, grade.json,
    Gradescope's and PrairieLearn's tests alike, and the feedback says why (hostile trial 9, B1)."""
    from grader.builders.prairielearn import results as prairielearn_results
    from grader.grading.grade import score
    from grader.grading.record import UNEARNED, check_points
    from grader.grading.reports.report import results_json, task_results
    topic = curriculum["softmax_attention"]
    public = [V.Verdict(topic.slug, 1, name, V.PASSED) for name in ("one", "two")]
    hidden = [V.Verdict(topic.slug, 1, "one", V.WRONG_VALUES, "wrong", hidden=True),
              V.Verdict(topic.slug, 1, "two", V.PASSED, hidden=True)]
    share = topic.task(1).points / 4
    assert score(topic, public + hidden) == round(2 * share, 2)
    grade = TopicGrade(topic.slug, public, hidden, score(topic, public + hidden), topic.max_points)
    assert [p for _, p, _ in check_points(curriculum, grade)] == [0.0, share, 0.0, share]
    record = to_record(StudentGrade("ann", topics={topic.slug: grade}), curriculum)["topics"][topic.slug]
    assert [c["points"] for c in record["checks"]] == [0.0, share, 0.0, share]
    assert record["tasks"][0]["points"] == 2 * share
    student = StudentGrade("ann", topics={topic.slug: grade})
    tests = results_json(curriculum, student)["tests"]
    assert [t["score"] for t in tests] == [0.0, share, 0.0, share] and tests[0]["output"] == UNEARNED
    one = Curriculum((topic,), curriculum.root)
    pl = prairielearn_results(one, student, True)["tests"]
    assert [t["points"] for t in pl] == [0.0, share, 0.0, share] and pl[0]["message"] == UNEARNED
    assert task_results(topic, grade)[0].status.startswith("3 of 4 checks passed, 2 of them on every input")
