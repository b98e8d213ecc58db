"""The hostile catalogue (grader/tests/hostile/catalogue.toml), proven against `python -m grader grade`.

One class run grades a student per hostile case (the reference solutions with one topic module
replaced; topics well after that one are left out, so the run stays fast) beside honest students
(the reference, the stubs, the reference with one catalogued mistake). Then, per case: the
catalogued verdict for its topic, full marks for the student's other reference topics unless the
catalogue says the attack may reach them, and no reference solution in what the student is shown.
For the class: honest students graded exactly as in a class of their own; no file changed in the
repository or the class folder; nothing the attacks create outside the sandbox (/tmp/pwned-*); no
process left behind; outputs capped. A small subset runs again with --no-sandbox, where every
report must say the isolation was degraded.

The honest-only run also feeds the golden tests: results.json of canned submissions compared with
grader/tests/golden_results/ (KATA_UPDATE_GOLDEN=1 rewrites them).
"""

from __future__ import annotations

import contextlib
import csv
import glob
import hashlib
import io
import json
import os
import py_compile
import re
import shutil
import socket
import stat
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.engine.probe import off_limits
from grader.tests.needs import sandbox_or_skip
from grader.engine.checks import load_checks
from grader.course.curriculum import ROOT, Curriculum, Topic, load
from grader.builders.demo import submission_files, write_submission
from grader.course.offline import install
from grader.grading.reports.outputs import STUDENT_FILES
from grader.grading.submissions import STUDENT_ID

pytestmark = pytest.mark.timeout(900)

HERE = Path(__file__).resolve().parent
HOSTILE = HERE / "hostile"
GOLDEN = HERE / "golden_results"
CASES: list[dict] = tomllib.loads((HOSTILE / "catalogue.toml").read_text(encoding="utf-8"))["case"]
TIMEOUT = 4.0            # seconds per topic: loops and sleeps cost little; the reference needs < 1 s
WORKERS = 2
EARLIER_TOPICS = 1       # a hostile student has the reference for this many topics before its own
LATER_TOPICS = 2         # and for this many after it; the other topics are missing (fast to grade)
MISTAKE = "softmax_attention:weights_softmax_over_dim0"
HONEST = {"zz-honest-reference": {"base": "solutions"},
          "zz-honest-stubs": {"base": "exercises"},
          "zz-honest-mistake": {"base": "solutions", "mistakes": [MISTAKE]}}
RESERVED = ("gradebook.csv", "class_report.md", "class_report.html")
OUTPUT_CAP = 1 << 20     # no report file may grow past this, whatever the submission printed or raised
MARKERS = ("/tmp/pwned*", "/pwned*", str(ROOT / "pwned*"), str(ROOT.parent / "pwned*"))
SKIP_IN_SNAPSHOT = {".git", ".venv", "grades", ".pytest_cache", ".hypothesis", ".ruff_cache"}  # tools' caches
REASONS = {"not_implemented", "missing_name", "wrong_values", "wrong_shape", "wrong_length", "wrong_type", "exception",
           "forbidden_api", "bad_output", "timeout", "memory", "crash"}


def graded_topics() -> Curriculum:
    """The topics the grader grades (those with checks), as grader.grade.prepare selects them."""
    curriculum = load()
    return Curriculum(tuple(t for t in curriculum.topics if t.test_file().exists()), curriculum.root)


def student_id(case: dict) -> str:
    return f"h-{case['id']}"


# ---------------------------------------------------------------------------------------------
# Building the class


def included_topics(curriculum: Curriculum, case: dict) -> list[Topic]:
    """The topics a hostile student submits: its own, with EARLIER_TOPICS before and LATER_TOPICS after."""
    at = curriculum.slugs.index(case["topic"])
    return list(curriculum.topics[max(0, at - EARLIER_TOPICS):at + LATER_TOPICS + 1])


def replaced_topics(curriculum: Curriculum, case: dict) -> set[str]:
    """Topics whose module is not the reference: the case's own, and any module given in `extra`."""
    modules = {t.module_file: t.slug for t in curriculum.topics}
    return {case["topic"]} | {modules[name] for name in case.get("extra", {}) if name in modules}


def build_hostile(class_dir: Path, curriculum: Curriculum, case: dict) -> None:
    student, topic = student_id(case), curriculum[case["topic"]]
    files = {t.module_file: t.solution().read_bytes() for t in included_topics(curriculum, case)}
    files[topic.module_file] = (HOSTILE / case["file"]).read_bytes()
    for name, source in case.get("extra", {}).items():
        files[name] = (HOSTILE / "extra" / source).read_bytes()
    build = case.get("build", "module")
    if build == "zip_slip":
        return build_zip_slip(class_dir / f"{student}.zip", student, files, topic)
    if build in INTAKE_BUILDS:
        return INTAKE_BUILDS[build](class_dir, student, files, topic)
    if build == "reserved_names":
        for name in RESERVED:
            write_submission(class_dir, name, {k: v for k, v in files.items() if k != topic.module_file})
        return
    write_submission(class_dir, student, files)
    folder = class_dir / student
    if build == "symlink":
        (folder / topic.module_file).unlink()
        (folder / topic.module_file).symlink_to(topic.solution())
    elif build == "symlinked_folder":
        (folder / topic.module_file).unlink()
        (folder / "exercises").symlink_to(ROOT / "solutions", target_is_directory=True)
    elif build == "planted_pyc":
        cache = folder / "__pycache__" / f"{topic.slug}.{sys.implementation.cache_tag}.pyc"
        py_compile.compile(str(topic.solution()), cfile=str(cache), doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        py_compile.compile(str(topic.solution()), cfile=str(folder / f"{topic.slug}.pyc"), doraise=True)
    elif build != "module":
        raise ValueError(f"{case['id']}: unknown build {build!r}")


def build_zip_slip(archive: Path, student: str, files: dict[str, bytes], topic: Topic) -> None:
    reference = topic.solution().read_bytes()
    with zipfile.ZipFile(archive, "w") as zf:
        for name, content in files.items():
            if name != topic.module_file:
                zf.writestr(f"{student}/{name}", content)
        zf.writestr(f"../../../tmp/pwned-zip/{topic.module_file}", reference)
        zf.writestr(f"/tmp/pwned-zip-abs/{topic.module_file}", reference)
        link = zipfile.ZipInfo(f"{student}/{topic.module_file}")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, str(topic.solution()))


# -- Issue 11: entries the intake must read safely or refuse clearly (catalogue: build)

FORGED_HEADING = "## Every student: 70 of 70"


def build_corrupt_zip(method: int, keep: int):
    """A zip whose stream for the case's module no decompressor accepts (after `keep` bytes:
    the LZMA header); the other modules are intact."""
    def build(class_dir: Path, student: str, files: dict[str, bytes], topic: Topic) -> None:
        archive = class_dir / f"{student}.zip"
        with zipfile.ZipFile(archive, "w", method) as zf:
            for name, content in files.items():
                zf.writestr(name, content * (20 if name == topic.module_file else 1))
            info = zf.getinfo(topic.module_file)
        data = bytearray(archive.read_bytes())
        start = info.header_offset + 30 + len(info.filename.encode()) + keep
        data[start:start + info.compress_size - keep] = b"\xff" * (info.compress_size - keep)
        archive.write_bytes(bytes(data))
    return build


def build_utf8_flag_name(class_dir: Path, student: str, files: dict[str, bytes], topic: Topic) -> None:
    """A zip holding a member whose name is flagged UTF-8 but is not (zipfile cannot list it)."""
    archive = class_dir / f"{student}.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name, content in files.items():
            zf.writestr(name, content)
        zf.writestr("caf\u00e9.txt", b"notes")  # stored as UTF-8, with the flag
    archive.write_bytes(archive.read_bytes().replace("caf\u00e9".encode(), b"caf\xe9\xe9"))


def build_non_utf8_names(class_dir: Path, student: str, files: dict[str, bytes], topic: Topic) -> None:
    """The student's folder holds a file and a folder whose names are not UTF-8; beside it, an
    entry whose own name is not UTF-8."""
    write_submission(class_dir, student, files)
    folder = os.fsencode(class_dir / student)
    with open(os.path.join(folder, b"notes\xff.txt"), "wb") as f:
        f.write(b"notes")
    os.mkdir(os.path.join(folder, b"old\xfe"))
    with open(os.path.join(folder, b"old\xfe", topic.module_file.encode()), "wb") as f:
        f.write(files[topic.module_file])
    write_submission(class_dir, os.fsdecode(os.fsencode(student) + b"\xff"), files)


def build_fifo_module(class_dir: Path, student: str, files: dict[str, bytes], topic: Topic) -> None:
    """The module is a FIFO: opening it to read would wait forever (as root, chmod 000 still
    reads; grader/tests/test_trusted_side.py simulates the refused open)."""
    write_submission(class_dir, student, {k: v for k, v in files.items() if k != topic.module_file})
    os.mkfifo(class_dir / student / topic.module_file)


def build_duplicate_entries(class_dir: Path, student: str, files: dict[str, bytes], topic: Topic) -> None:
    """A folder and a zip under one id: the zip was graded for both."""
    write_submission(class_dir, student, files)
    with zipfile.ZipFile(class_dir / f"{student}.zip", "w") as zf:
        for name, content in files.items():
            zf.writestr(name, content)


def build_newline_entry(class_dir: Path, student: str, files: dict[str, bytes], topic: Topic) -> None:
    """An entry whose name carries Markdown after newlines: a heading and a table row."""
    write_submission(class_dir, f"{student}\n\n{FORGED_HEADING}\n\n| zz-honest-stubs | 70 |", files)


def build_trailing_newline_id(class_dir: Path, student: str, files: dict[str, bytes], topic: Topic) -> None:
    """A look-alike of an honest student: its id with a trailing newline ('$' matched it)."""
    write_submission(class_dir, "zz-honest-stubs\n", files)


INTAKE_BUILDS = {
    "corrupt_deflate": build_corrupt_zip(zipfile.ZIP_DEFLATED, 0),
    "corrupt_lzma": build_corrupt_zip(zipfile.ZIP_LZMA, 9),
    "utf8_flag_name": build_utf8_flag_name,
    "non_utf8_names": build_non_utf8_names,
    "fifo_module": build_fifo_module,
    "duplicate_entries": build_duplicate_entries,
    "newline_entry": build_newline_entry,
    "trailing_newline_id": build_trailing_newline_id,
}
SKIPPED_BUILDS = {"reserved_names", "newline_entry", "trailing_newline_id"}  # no row of their own


def build_honest(class_dir: Path, curriculum: Curriculum) -> None:
    for student, recipe in HONEST.items():
        write_submission(class_dir, student, submission_files(curriculum, recipe, HOSTILE))


# ---------------------------------------------------------------------------------------------
# Watching the machine


def snapshot(root: Path, skip: set[str] = frozenset()) -> dict[str, tuple]:
    """(size, mtime, sha256) of every file under root (symlinks as their target text)."""
    found = {}
    for current, dirs, files in os.walk(root):
        rel = Path(current).relative_to(root)
        dirs[:] = sorted(d for d in dirs if not (rel == Path(".") and d in skip))
        for name in files + [d for d in dirs if (Path(current) / d).is_symlink()]:
            path = Path(current) / name
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                found[str(rel / name)] = ("link", os.readlink(path))
            elif not stat.S_ISREG(info.st_mode):  # a FIFO: reading it would wait forever
                found[str(rel / name)] = ("special", stat.S_IFMT(info.st_mode), info.st_mtime_ns)
            else:
                found[str(rel / name)] = (info.st_size, info.st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest())
    return found


def markers() -> dict[str, float]:
    return {p: os.lstat(p).st_mtime for pattern in MARKERS for p in glob.glob(pattern)}


def descendants(pid: int) -> list[str]:
    """Processes still running below `pid` (command lines), e.g. a worker that outlived its pool."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    found, frontier = [], {pid}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier}
        for p in frontier:
            try:
                found.append(Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:200])
            except OSError:
                pass
    return found


@dataclass
class Run:
    out: Path
    class_dir: Path
    curriculum: Curriculum
    code: int
    repo_before: dict
    repo_after: dict
    class_before: dict
    class_after: dict
    markers_before: dict
    markers_after: dict
    leftovers: list[str]

    def results(self, student: str) -> dict:
        return json.loads((self.out / student / "results.json").read_text(encoding="utf-8"))

    def gradebook(self) -> list[dict]:
        return list(csv.DictReader(io.StringIO((self.out / "gradebook.csv").read_text(encoding="utf-8"))))


@contextlib.contextmanager
def prepared_once():
    """The class runs of this session share what `prepare` computes (every topic's hidden cases,
    run by the reference: seconds each time); the same curriculum and secret give the same cases."""
    import grader.grading.cli as entry
    original = entry.prepare

    def cached(curriculum):
        key = tuple(curriculum.slugs)
        if key not in _PREPARED:
            _PREPARED[key] = original(curriculum)
        return _PREPARED[key]
    entry.prepare = cached
    try:
        yield
    finally:
        entry.prepare = original


_PREPARED: dict = {}


def grade_class(class_dir: Path, out: Path, curriculum: Curriculum, *extra: str) -> Run:
    """Graded without the source scan for code that reaches past the kata (KATA_OFF_LIMITS=off):
    most of the catalogue is code it refuses before it runs, and this file proves the layers behind
    it on code that runs (the scan is one import away from a string; test_forbidden and
    test_the_scan_refuses_what_it_names below prove it)."""
    from grader.__main__ import main
    install()
    for topic in curriculum.topics:  # everything Python would cache is cached before the snapshot
        load_checks(topic.test_file())
    saved, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    scan, os.environ["KATA_OFF_LIMITS"] = os.environ.get("KATA_OFF_LIMITS"), "off"
    try:
        repo_before, class_before, markers_before = snapshot(ROOT, SKIP_IN_SNAPSHOT), snapshot(class_dir), markers()
        with prepared_once():
            code = main(["grade", str(class_dir), "--out", str(out), "--timeout", f"{TIMEOUT:g}",
                         "--workers", str(WORKERS), *extra])
        return Run(out, class_dir, curriculum, code, repo_before, snapshot(ROOT, SKIP_IN_SNAPSHOT), class_before,
                   snapshot(class_dir), markers_before, markers(), descendants(os.getpid()))
    finally:
        sys.dont_write_bytecode = saved
        if scan is None:
            del os.environ["KATA_OFF_LIMITS"]
        else:
            os.environ["KATA_OFF_LIMITS"] = scan


def test_the_scan_refuses_what_it_names():
    """The source scan (grader.engine.probe.off_limits) on the catalogue's own attacks: the ones
    written plainly with the grader's modules, frames, gc, ctypes or importlib are refused before
    they run; the class runs above prove what stands behind it with the scan off."""
    refused = {case["id"]: off_limits((HOSTILE / case["file"]).read_text(encoding="utf-8")) for case in CASES}
    for plain in ("frame_walk", "segfault_ctypes", "patch_grader_compare", "patch_run_probe"):
        assert refused[plain], f"{plain}: the scan lets it through"
    assert sum(1 for found in refused.values() if found) >= 20, sorted(k for k, v in refused.items() if v)


@pytest.fixture(scope="session")
def curriculum() -> Curriculum:
    return graded_topics()


@pytest.fixture(scope="session")
def hostile_run(tmp_path_factory, curriculum) -> Run:
    """Every hostile case and the honest students, in one class, in one run."""
    sandbox_or_skip("the hostile catalogue")
    base = tmp_path_factory.mktemp("hostile")
    class_dir = base / "class"
    class_dir.mkdir()
    for case in CASES:
        build_hostile(class_dir, curriculum, case)
    build_honest(class_dir, curriculum)
    return grade_class(class_dir, base / "out", curriculum)


@pytest.fixture(scope="session")
def honest_run(tmp_path_factory, curriculum) -> Run:
    """The honest students alone (also the golden submissions)."""
    base = tmp_path_factory.mktemp("honest")
    class_dir = base / "class"
    class_dir.mkdir()
    build_honest(class_dir, curriculum)
    return grade_class(class_dir, base / "out", curriculum)


# ---------------------------------------------------------------------------------------------
# What a student was given


def topic_tests(results: dict, slug: str) -> list[dict]:
    return [t for t in results["tests"] if t["tags"][0] == slug]


def describe(results: dict, slug: str) -> str:
    failing = [t for t in topic_tests(results, slug) if t["status"] != "passed"]
    lines = [f"{slug}: {results['extra_data']['topics'].get(slug)} points; "
             f"{len(failing)} of {len(topic_tests(results, slug))} checks fail"]
    lines += [f"  {t['name']}: {t['tags'][2:]} {t['output'].splitlines()[2:3]}" for t in failing[:6]]
    return "\n".join(lines)


def expect_topic(results: dict, topic: Topic, points: str, reasons: list[str], hidden_only: bool = False) -> None:
    got = results["extra_data"]["topics"][topic.slug]
    tests = topic_tests(results, topic.slug)
    assert tests, f"no checks reported for {topic.slug}"
    why = describe(results, topic.slug)
    if points == "0":
        assert got == 0, why
    elif points == "max":
        assert got == topic.max_points, why
    elif points == "less than max":
        assert got < topic.max_points, why
    else:
        raise ValueError(f"unknown points {points!r}")
    wrong = {t["tags"][2] for t in tests if t["status"] != "passed"} - set(reasons)
    assert not wrong, f"{topic.slug} fails with {sorted(wrong)}, not only {reasons}\n{why}"
    if hidden_only:
        assert all(t["status"] == "passed" for t in tests if t["visibility"] == "visible"), why
        assert any(t["status"] != "passed" for t in tests if t["visibility"] != "visible"), why


def distinctive_solution_lines() -> dict[str, list[str]]:
    """Lines of each reference solution that nothing a student may see contains (stubs, hints, checks)."""
    public = "\n".join(p.read_text(encoding="utf-8") for pattern in ("exercises/*.py", "hints/*.toml", "tests/*.py",
                                                                     "README*", "docs/**/*.md")
                       for p in ROOT.glob(pattern) if p.is_file())
    lines = {}
    for path in sorted((ROOT / "solutions").glob("*.py")):
        mine = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        lines[path.stem] = [line for line in mine if len(line) >= 30 and line not in public
                            and not line.startswith(("#", '"""'))]
    return lines


SOLUTION_LINES = distinctive_solution_lines()


def leaked_solutions(run: Run, student: str, submitted: set[str]) -> list[str]:
    """Reference solutions shown to a student who did not submit them (a message may quote the
    student's own code, and a hostile student submits the reference for its other topics)."""
    shown = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in (run.out / student).glob("*"))
    return sorted(slug for slug, lines in SOLUTION_LINES.items()
                  if slug not in submitted and any(line in shown for line in lines))


# ---------------------------------------------------------------------------------------------
# The catalogue, case by case


def test_the_catalogue_is_well_formed(curriculum):
    assert len(CASES) >= 30
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    listed = {c["file"] for c in CASES}
    on_disk = {p.name for p in HOSTILE.glob("*.py")}
    assert listed == on_disk, f"files not catalogued: {sorted(on_disk - listed)}; missing: {sorted(listed - on_disk)}"
    for case in CASES:
        assert case["topic"] in curriculum.slugs, case["id"]
        assert case["points"] in ("0", "less than max", "max", "skipped"), case["id"]
        assert set(case["reasons"]) | set(case.get("degraded_reasons", [])) <= REASONS, case["id"]
        assert case["others"] in ("max", "max but next", "max before", "crash", "none"), case["id"]
        assert case.get("status", "graded") in ("graded", "error") and (case.get("status") != "error") == (
            "error" not in case), case["id"]
        assert case.get("build", "module") in {"module", "symlink", "symlinked_folder", "planted_pyc", "zip_slip",
                                               *INTAKE_BUILDS, *SKIPPED_BUILDS}, case["id"]
        source = (HOSTILE / case["file"]).read_text(encoding="utf-8")
        assert source.startswith('"""'), f"{case['file']} must start with a docstring saying what it attempts"
        for extra in case.get("extra", {}).values():
            assert (HOSTILE / "extra" / extra).is_file(), extra
    # pytest would load a conftest.py found in the tree it collects: never ship one here
    assert not list(HOSTILE.rglob("conftest.py")) and not list(HOSTILE.rglob("pytest.ini"))


def case_param(case: dict):
    marks = [pytest.mark.xfail(strict=True, reason=case["known_gap"])] if case.get("known_gap") else []
    return pytest.param(case, id=case["id"], marks=marks)


@pytest.mark.parametrize("case", [case_param(c) for c in CASES])
def test_hostile_case(hostile_run, case):
    run, curriculum = hostile_run, hostile_run.curriculum
    student = student_id(case)
    if case.get("build") in SKIPPED_BUILDS:
        return expect_refused_entry(run, case)
    results = run.results(student)
    topic = curriculum[case["topic"]]
    status = next(row["status"] for row in run.gradebook() if row["student"] == student)
    report = (run.out / "class_report.md").read_text(encoding="utf-8")
    if "listed" in case:
        assert case["listed"] in report, f"the class report does not list {case['listed']!r}"
    if "ignored" in case:
        assert any(case["ignored"] in path for path, _ in results["extra_data"]["ignored"]), results["extra_data"]
    if case.get("status") == "error":
        assert status.startswith("error: ") and case["error"] in status, status
    elif case.get("contained") and status.startswith("error: "):  # contained here; its root is mended elsewhere
        assert case["contained"] in status, status
        assert results["extra_data"]["topics"][topic.slug] == 0
        return
    else:
        assert status == "graded", status
    expect_topic(results, topic, case["points"], case["reasons"], case.get("hidden_only", False))

    included = [t.slug for t in included_topics(curriculum, case)]
    replaced = replaced_topics(curriculum, case)
    others = [t for t in curriculum.topics if t.slug not in replaced]
    if case["others"] == "crash":
        regraded = set(results["extra_data"]["notes"])  # graded again in a fresh job: may pass
        for t in curriculum.topics:
            if t.slug not in regraded:
                expect_topic(results, t, "0", ["crash"])
    else:
        after = curriculum.slugs[curriculum.slugs.index(topic.slug) + 1:]  # the order topics are graded in
        exempt = {"max": set(), "max but next": set(after[:1]), "max before": set(after), "none": set()}[case["others"]]
        for t in others:
            if t.slug in exempt:
                continue
            if t.slug in included and case["others"] != "none":
                expect_topic(results, t, "max", [])
            else:
                expect_topic(results, t, "0", ["missing_name"])
    for slug, text in case.get("notes", {}).items():
        assert text in results["extra_data"]["notes"].get(slug, ""), (slug, results["extra_data"]["notes"])
    leaked = leaked_solutions(run, student, set(included) - replaced)
    assert not leaked, f"reference solutions shown to {student}: {leaked}"
    shown = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in (run.out / student).glob("*"))
    from grader.engine.secret import hidden_seeds
    for text in case.get("never_shown", []) + [str(seed) for seed in hidden_seeds()]:
        assert text not in shown, f"{student} was shown {text!r}"


def expect_refused_entry(run: Run, case: dict) -> None:
    """An entry that is no student of its own: refused, listed, and it changes no one's row."""
    rows = run.gradebook()
    report = (run.out / "class_report.md").read_text(encoding="utf-8")
    if case["build"] == "reserved_names":
        for name in RESERVED:
            assert (run.out / name).is_file(), f"{name} must be the class's file, not a student's folder"
            assert name not in {row["student"] for row in rows}
        assert all(name in report for name in RESERVED), "the class report lists the entries it did not grade"
        return
    assert case["listed"] in report, f"the class report does not list {case['listed']!r}"
    assert case["listed"] in (run.out / "class_report.html").read_text(encoding="utf-8")
    assert [row["student"] for row in rows].count("zz-honest-stubs") == 1
    assert all(STUDENT_ID.fullmatch(row["student"]) for row in rows), [r["student"] for r in rows]
    assert FORGED_HEADING not in report.splitlines(), "a forged heading in the class report"


# ---------------------------------------------------------------------------------------------
# The class as a whole


def test_the_class_run_finished_and_reports_everyone(hostile_run):
    run = hostile_run
    assert run.code == 0
    expected = {student_id(c) for c in CASES if c.get("build") not in SKIPPED_BUILDS} | set(HONEST)
    rows = run.gradebook()
    assert sorted(row["student"] for row in rows) == sorted(expected)  # each once: no look-alike row
    errors = {student_id(c) for c in CASES if c.get("status") == "error"}
    contained = {student_id(c) for c in CASES if c.get("contained")}
    assert all(row["status"] == "graded" for row in rows if row["student"] not in errors | contained), \
        [r for r in rows if r["status"] != "graded"]
    assert all(row["status"].startswith("error: ") for row in rows if row["student"] in errors)
    max_total = sum(t.max_points for t in run.curriculum.topics)
    assert {row["max_total"] for row in rows} == {str(max_total)}
    for student in expected:
        results = run.results(student)
        assert set(results["extra_data"]["topics"]) == set(run.curriculum.slugs)
        assert results["extra_data"]["isolation_degraded"] is False
        assert "bubblewrap sandbox" in results["output"]
        assert results["score"] == pytest.approx(sum(results["extra_data"]["topics"].values()), abs=0.02)
    assert run.results("zz-honest-reference")["score"] == max_total


def test_the_output_folder_holds_only_reports(hostile_run):
    run = hostile_run
    allowed = {"gradebook.csv", "class_report.md", "class_report.html"}
    for path in run.out.rglob("*"):
        rel = path.relative_to(run.out)
        if path.is_dir():
            assert len(rel.parts) == 1, f"unexpected folder {rel}"
            continue
        assert str(rel) in allowed or (len(rel.parts) == 2 and rel.name in ("grade.json", *STUDENT_FILES)), \
            f"unexpected file in the output folder: {rel}"
        assert path.stat().st_size < OUTPUT_CAP, f"{rel} is {path.stat().st_size:,} bytes"
        assert "PWNED" not in path.read_text(encoding="utf-8", errors="replace"), f"forged content in {rel}"
        if path.suffix == ".html":  # whatever a submission printed or raised is escaped, never markup
            assert not re.search(r"<\s*(script|img|iframe)", path.read_text(encoding="utf-8"), re.IGNORECASE), rel


UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def test_the_reports_cannot_be_forged(hostile_run):
    """Whatever the students wrote or named: every report is UTF-8 without a control character
    (terminal escape codes among them), class_report.md has the grader's headings and tables
    only, and the gradebook one line per student."""
    run = hostile_run
    for path in sorted(run.out.rglob("*")):
        if path.is_file():
            text = path.read_bytes().decode("utf-8")  # strictly: no lone surrogate got through
            found = UNSAFE.search(text.replace("\r\n", "\n") if path.suffix == ".csv" else text)
            assert found is None, f"{path.relative_to(run.out)} holds {found.group()!r}"
    report = (run.out / "class_report.md").read_text(encoding="utf-8")
    headings = [line for line in report.splitlines() if line.startswith("#")]
    assert headings == ["# Class report", "## Pass rate per task", "## Most common recognised mistakes",
                        "## Submissions that hit limits or crashed"], headings
    rows = [line for line in report.splitlines() if line.startswith("|")]
    assert all(len(re.findall(r"(?<!\\)\|", line)) == 4 for line in rows), [r for r in rows if r.count("|") != 4]
    assert "\\<\\|unk\\|\\>" in report  # a task title's pipes stay in their cell
    gradebook = (run.out / "gradebook.csv").read_text(encoding="utf-8")
    assert len(gradebook.splitlines()) == len(run.gradebook()) + 1


def test_a_rerun_meets_no_abort_and_regrades_what_it_cannot_trust(hostile_run, tmp_path):
    """Grading the class again (into a copy of its outputs): every student is kept as graded,
    but one whose grade.json is malformed, who is graded again; the run ends normally."""
    from grader.__main__ import main
    run = hostile_run
    out = tmp_path / "out"
    shutil.copytree(run.out, out)
    (out / "zz-honest-reference" / "grade.json").write_text('{"version": 1, "topics": []}', encoding="utf-8")
    with prepared_once():
        code = main(["grade", str(run.class_dir), "--out", str(out), "--timeout", f"{TIMEOUT:g}", "--workers", "1"])
    assert code == 0
    again = list(csv.DictReader(io.StringIO((out / "gradebook.csv").read_text(encoding="utf-8"))))
    assert again == run.gradebook()
    assert "1 graded in this run" in (out / "class_report.md").read_text(encoding="utf-8")


def test_honest_students_are_graded_as_when_alone(hostile_run, honest_run):
    for student in HONEST:
        in_class, alone = hostile_run.results(student), honest_run.results(student)
        assert in_class["extra_data"]["topics"] == alone["extra_data"]["topics"], student
        assert in_class["tests"] == alone["tests"], student
    assert honest_run.results("zz-honest-reference")["score"] == sum(t.max_points for t in honest_run.curriculum.topics)


@pytest.mark.parametrize("which", ["hostile_run", "honest_run"])
def test_no_file_changes_outside_the_output_folder(request, which):
    run = request.getfixturevalue(which)
    changed = sorted(k for k in run.repo_before.keys() | run.repo_after.keys()
                     if run.repo_before.get(k) != run.repo_after.get(k))
    assert not changed, f"repository files changed by grading: {changed[:20]}"
    changed = sorted(k for k in run.class_before.keys() | run.class_after.keys()
                     if run.class_before.get(k) != run.class_after.get(k))
    assert not changed, f"class folder changed by grading: {changed[:20]}"
    new = {p: t for p, t in run.markers_after.items() if run.markers_before.get(p) != t}
    assert not new, f"attacks left marks outside their sandbox: {sorted(new)}"
    assert not run.leftovers, f"processes outlived the run: {run.leftovers}"


# ---------------------------------------------------------------------------------------------
# Without the sandbox (degraded): a safe subset, and every report says so

LISTENER_PORT_FILE = Path("/tmp/kata-hostile-listener-port")  # read by hostile/io_uring_socket.py


@contextlib.contextmanager
def listener_on_loopback():
    """A TCP listener on 127.0.0.1 whose port a submission can read (without the sandbox, /tmp is
    the machine's); yields the list of peers that connected, filled in when the block ends."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.setblocking(False)
    LISTENER_PORT_FILE.write_text(str(server.getsockname()[1]))
    LISTENER_PORT_FILE.chmod(0o644)  # the children run as uid 65534
    connections: list = []
    try:
        yield connections
    finally:
        LISTENER_PORT_FILE.unlink(missing_ok=True)
        while True:  # the kernel completes a connection before accept: any that came are queued
            try:
                connection, peer = server.accept()
            except BlockingIOError:
                break
            connections.append(peer)
            connection.close()
        server.close()


DEGRADED = [c for c in CASES if c.get("degraded")]


def test_degraded_mode_grades_the_subset_and_says_so(tmp_path, curriculum):
    assert {c["id"] for c in DEGRADED} >= {"infinite_loop", "fork_bomb", "network", "os_exit_at_import",
                                           "forge_frames_every_fd", "kill_parent"}
    class_dir = tmp_path / "class"
    class_dir.mkdir()
    for case in DEGRADED:
        build_hostile(class_dir, curriculum, case)
    write_submission(class_dir, "zz-honest-reference", submission_files(curriculum, HONEST["zz-honest-reference"], HOSTILE))
    with listener_on_loopback() as connections:  # io_uring_socket dials it: it must never be reached
        run = grade_class(class_dir, tmp_path / "out", curriculum, "--no-sandbox")
    assert not connections, f"a submission connected to 127.0.0.1 on the grading machine: {connections}"
    assert run.code == 0
    rows = run.gradebook()
    assert {r["student"] for r in rows} == {student_id(c) for c in DEGRADED} | {"zz-honest-reference"}
    for row in rows:
        assert row["status"].endswith("(isolation degraded)"), row
        results = run.results(row["student"])
        assert results["extra_data"]["isolation_degraded"] is True
        assert "isolation degraded" in results["output"]
        assert "isolation degraded" in (run.out / row["student"] / "feedback.md").read_text()
    assert "isolation degraded" in (run.out / "class_report.md").read_text()
    for case in DEGRADED:
        expect_topic(run.results(student_id(case)), curriculum[case["topic"]], case["points"],
                     case.get("degraded_reasons", case["reasons"]))
    assert run.results("zz-honest-reference")["score"] == sum(t.max_points for t in curriculum.topics)
    changed = sorted(k for k in run.repo_before.keys() | run.repo_after.keys()
                     if run.repo_before.get(k) != run.repo_after.get(k))
    assert not changed, f"repository files changed: {changed[:20]}"
    assert run.class_before == run.class_after
    assert not {p for p, t in run.markers_after.items() if run.markers_before.get(p) != t}
    assert not run.leftovers, run.leftovers


# ---------------------------------------------------------------------------------------------
# Golden results: canned submissions graded, compared with grader/tests/golden_results/*.json

GOLDEN_STUDENTS = {"reference": "zz-honest-reference", "stubs": "zz-honest-stubs",
                   f"mistake_{MISTAKE.replace(':', '__')}": "zz-honest-mistake"}


def normalised(results: dict) -> dict:
    """What may differ between two runs of the same grader on the same files is blanked out."""
    data = json.loads(json.dumps(results))
    data["execution_time"] = 0
    data["output"] = "\n".join("Isolation: <normalised>" if line.startswith("Isolation:") else line
                               for line in data["output"].splitlines())
    extra = data["extra_data"]
    extra["digest"] = extra["fingerprint"] = "<normalised>"
    extra["isolation_degraded"] = "<normalised>"
    for key in ("seconds",):
        extra.pop(key, None)
    return data


@pytest.mark.parametrize("name", sorted(GOLDEN_STUDENTS))
def test_golden_results(honest_run, name):
    got = normalised(honest_run.results(GOLDEN_STUDENTS[name]))
    path = GOLDEN / f"{name}.json"
    if os.environ.get("KATA_UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(json.dumps(got, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}: run with KATA_UPDATE_GOLDEN=1 to write it"
    expected = json.loads(path.read_text(encoding="utf-8"))
    if got != expected:
        slugs = set(got["extra_data"]["topics"]) ^ set(expected["extra_data"]["topics"])
        first = next((f"{g['name']}: {e['status']} -> {g['status']}" for g, e in zip(got["tests"], expected["tests"])
                      if g != e), "")
        pytest.fail(f"{path.name} differs (topics added or removed: {sorted(slugs) or 'none'}; first changed "
                    f"check: {first or 'see the diff'}). If the change is intended: KATA_UPDATE_GOLDEN=1")
