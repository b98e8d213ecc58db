"""`python -m grader.builders.scaffold` makes a topic that the suite accepts as it stands.

In a temporary copy of the repository (without .venv: this interpreter runs there, importing the
copy's grader), a throwaway topic is scaffolded with the command a contributor types. Then, in
the copy: `pytest tests/test_SLUG.py --impl solutions` passes, together with the suite's own
per-topic proofs selected with `-k SLUG` (test_suite: files, API, stub fails as "not implemented",
every catalogued mistake fails and is named, fixtures fresh; test_trivial: code that does nothing
earns 0; test_examples: the stub's `>>>` examples hold; test_release: the leak searches); the
same checks on exercises/ fail every check as "not implemented"; a catalogued mistake pasted into
a learner's folder is named with what the hints say about it; ruff passes the new files. The
same proof run on a copy whose reference was broken after scaffolding fails.

Refusals (a slug taken, not an identifier, an unknown dependency) write nothing, and a fixture
that cannot be built leaves the repository as it was.

The four pytest runs in the copy start together (each pays an interpreter start and a torch
import): the module took 22 s on the 2-core machine this was written on, and 40 to 70 s while
other test runs loaded it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from grader.builders import scaffold
from grader.course.curriculum import ROOT, load
from grader.course.mistakes import Patch, catalogue, mistaken_source

SLUG = "zz_scaffolded"
# Not copied: the environment, git, and what builds, grading and the learner's tools leave behind.
LEFT_OUT = {".venv", ".git", "dist", "grades", "build", ".kata", "__pycache__", ".pytest_cache", ".ruff_cache",
            ".hypothesis"}
# The suite's proofs that name each topic in their ids (selected with -k SLUG), and the ones
# over the whole curriculum that a new topic must not break.
PER_TOPIC = {
    "test_suite.py": ["test_every_task_has_checks_hints_and_points", "test_stub_has_the_reference_api",
                      "test_stub_bodies_raise_not_implemented_naming_the_task", "test_untouched_stub_fails_every_check",
                      "test_catalogue_and_hints_agree", "test_fixtures_are_fresh_and_every_mistake_fails_a_check_that_names_it",
                      "test_every_decision_has_a_margin", "test_a_float_where_an_int_is_expected_fails_as_wrong_type"],
    "test_trivial.py": ["test_trivial_code_earns_nothing"],
    "test_examples.py": ["test_the_stubs_examples_hold_for_the_reference"],
}
WHOLE = {"test_suite.py": ["test_every_topic_has_checks", "test_no_file_outside_the_manifest"],
         "test_examples.py": ["test_every_topic_has_worked_examples"],
         "test_release.py": ["test_no_solution_code_in_the_release", "test_no_run_of_reference_lines_in_the_release"]}


def copy_repository(source: Path, target: Path) -> Path:
    def left_out(folder: str, names: list[str]) -> set[str]:
        here = Path(folder).resolve()
        return {n for n in names if n in LEFT_OUT or (here == source / "examples" and n == "submissions")}
    shutil.copytree(source, target, ignore=left_out, symlinks=True)
    return target


def environment(root: Path) -> dict[str, str]:
    """This interpreter, with the copy's grader first on sys.path (the venv's editable install of
    the repository's grader comes after any folder on the path)."""
    return {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "200", "NO_COLOR": "1"}


def start_pytest(root: Path, name: str, *args: str) -> tuple[subprocess.Popen, Path]:
    report = root.parent / f"{name}.xml"
    process = subprocess.Popen([sys.executable, "-m", "pytest", *args, f"--junitxml={report}", "-q", "-rA"], cwd=root, env=environment(root),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return process, report


def outcomes(report: Path) -> dict[str, tuple[str, str]]:
    """Test name (with its parameters) -> (passed / failed / error / skipped, message)."""
    found = {}
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        result = next((child for child in case if child.tag in ("failure", "error", "skipped")), None)
        outcome = "passed" if result is None else {"failure": "failed"}.get(result.tag, result.tag)
        text = "" if result is None else f"{result.get('message', '')}\n{result.text or ''}"
        found[case.get("name")] = (outcome, text)
    return found


def finish(started: dict[str, tuple[subprocess.Popen, Path]]) -> dict[str, tuple[int, str, dict]]:
    """Per run: its exit status, what it printed and the outcome of every test."""
    done = {}
    for name, (process, report) in started.items():
        output, _ = process.communicate(timeout=600)
        done[name] = (process.returncode, output, outcomes(report) if report.exists() else {})
    return done


def catalogued(root: Path, slug: str) -> list[Patch]:
    return catalogue(load(root)[slug])


def mistaken(root: Path, slug: str, mistake: str) -> str:
    topic = load(root)[slug]
    return mistaken_source(topic, next(p for p in catalogue(topic) if p.id == mistake))


def suite_proofs(root: Path, slug: str) -> list[str]:
    files = ["tests/test_" + slug + ".py"] + [f"grader/tests/{name}" for name in sorted(PER_TOPIC.keys() | WHOLE.keys())]
    selected = " or ".join([slug, *(test for tests in WHOLE.values() for test in tests)])
    return [*files, "--impl", "solutions", "-k", selected]


@pytest.fixture(scope="module")
def proof(tmp_path_factory):
    """Scaffold the throwaway topic in a copy, then run every proof in it, four pytest runs at once."""
    root = copy_repository(ROOT, tmp_path_factory.mktemp("scaffold") / "repository")
    made = subprocess.run([sys.executable, "-m", "grader.builders.scaffold", SLUG, "--title", "A throwaway topic",
                           "--chapter", "9.9", "--depends", "softmax_attention"],
                          cwd=root, env=environment(root), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert made.returncode == 0, made.stdout

    learner = root.parent / "learner"  # a learner's folder: the reference with one mistake pasted in
    shutil.copytree(root / "solutions", learner, ignore=shutil.ignore_patterns("mistakes", "*.toml"))
    mistake = catalogued(root, SLUG)[0].id
    (learner / f"{SLUG}.py").write_text(mistaken(root, SLUG, mistake), encoding="utf-8")

    broken = copy_repository(root, root.parent / "broken")  # the reference broken after its fixture was built
    (broken / "solutions" / f"{SLUG}.py").write_text(mistaken(broken, SLUG, "sum_not_mean"), encoding="utf-8")

    runs = finish({"suite": start_pytest(root, "suite", *suite_proofs(root, SLUG)),
                   "stub": start_pytest(root, "stub", f"tests/test_{SLUG}.py"),
                   "learner": start_pytest(root, "learner", f"tests/test_{SLUG}.py", "--impl", str(learner)),
                   "broken": start_pytest(broken, "broken", *suite_proofs(broken, SLUG))})
    return root, made.stdout, mistake, runs


def test_the_scaffold_writes_the_topic_into_the_copy_only(proof):
    root, printed, _, _ = proof
    curriculum = load(root)
    topic = curriculum[SLUG]
    assert curriculum.slugs[-1] == SLUG and curriculum.slugs[:-1] == load().slugs, "appended, the rest unchanged"
    assert (topic.title, topic.chapter, topic.depends) == ("A throwaway topic", "9.9", ("softmax_attention",))
    assert [task.api for task in topic.tasks] == [("row_means",)]
    for path in scaffold.topic_files(root, SLUG).values():
        assert path.is_file() and path.relative_to(root).as_posix() in printed, path
        assert not (ROOT / path.relative_to(root)).exists(), f"written into the repository: {path.relative_to(root)}"
    assert SLUG not in (ROOT / "curriculum.toml").read_text(encoding="utf-8")
    where = subprocess.run([sys.executable, "-c", "import grader.course.curriculum as c; print(c.ROOT)"], cwd=root,
                           env=environment(root), capture_output=True, text=True)
    assert where.stdout.strip() == str(root), "the runs in the copy must import the copy's grader"


def test_the_reference_passes_and_the_suite_proves_the_topic(proof):
    root, _, _, runs = proof
    status, output, tests = runs["suite"]
    assert status == 0, output[-4000:]
    expected = {"row_means_match"} | {test for group in WHOLE.values() for test in group}
    expected |= {f"{test}[{SLUG}]" for group in PER_TOPIC.values() for test in group
                 if test != "test_trivial_code_earns_nothing"}
    expected |= {f"test_trivial_code_earns_nothing[{SLUG}-{variant}]"
                 for variant in ("identity", "zeros", "constant", "docstring_example")}
    assert len(catalogued(root, SLUG)) >= 3  # every one of them is judged by the freshness proof above
    missing = expected - tests.keys()
    assert not missing, f"these proofs did not run: {sorted(missing)}"
    assert all(outcome == "passed" for outcome, _ in tests.values()), tests


def test_the_stub_fails_every_check_as_not_implemented(proof):
    _, _, _, runs = proof
    status, output, tests = runs["stub"]
    assert status == 1 and tests, output[-4000:]
    assert all(outcome == "failed" and f"not implemented yet ({SLUG} task 1: row_means)" in text
               for outcome, text in tests.values()), tests


def test_a_pasted_mistake_is_named_with_its_hint(proof):
    root, _, mistake, runs = proof
    status, output, tests = runs["learner"]
    assert status == 1 and tests and all(outcome == "failed" for outcome, _ in tests.values()), output[-4000:]
    says = load(root)[SLUG].mistakes[mistake].says
    flat = " ".join(output.split())
    assert " ".join(says.split()) in flat, output[-4000:]
    assert f"kata hint {SLUG} 1" in flat, output[-4000:]


def test_a_broken_reference_fails_the_same_proof(proof):
    """The proof above can fail: the reference broken after scaffolding fails its own check and
    leaves the fixture stale."""
    _, _, _, runs = proof
    status, output, tests = runs["broken"]
    assert status == 1, output[-4000:]
    assert tests["row_means_match"][0] == "failed", tests["row_means_match"]
    assert tests[f"test_fixtures_are_fresh_and_every_mistake_fails_a_check_that_names_it[{SLUG}]"][0] == "failed"


def test_the_new_files_pass_lint(proof):
    root, _, _, _ = proof
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent))
    assert ruff, "ruff is missing: make test installs it (pip install -e '.[dev]')"
    files = [str(p) for kind, p in scaffold.topic_files(root, SLUG).items() if p.suffix == ".py"]
    linted = subprocess.run([ruff, "check", *files], cwd=root, capture_output=True, text=True)
    assert linted.returncode == 0, linted.stdout + linted.stderr


# ---------------------------------------------------------------------------------------------
# Refusals, in a small repository of its own: nothing is written.

@pytest.fixture
def small_root(tmp_path):
    shutil.copy(ROOT / "curriculum.toml", tmp_path / "curriculum.toml")
    return tmp_path


def files_of(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("slug, title, depends, words", [
    ("softmax_attention", "Again", [], "already has a topic 'softmax_attention'"),
    ("2fast", "T", [], "is not a topic slug"),
    ("has-dash", "T", [], "is not a topic slug"),
    ("class", "T", [], "is not a topic slug"),
    ("Upper", "T", [], "is not a topic slug"),
    ("new_topic", "T", ["tokenizer", "no_such_topic"], "no topic of the curriculum: no_such_topic"),
    ("new_topic", "   ", [], "the title is empty"),
    ("new_topic", 'say """hi"""', [], "the title"),
], ids=["taken", "digit first", "dash", "keyword", "upper case", "unknown dependency", "empty title", "quotes"])
def test_a_refused_topic_writes_nothing(small_root, slug, title, depends, words):
    before = files_of(small_root)
    with pytest.raises(scaffold.Refused, match=words.replace("(", r"\(")):
        scaffold.scaffold(small_root, slug, title, "1.1", depends, fixture=False)
    assert files_of(small_root) == before


def test_files_of_a_topic_missing_from_the_curriculum_are_not_overwritten(small_root):
    (small_root / "hints").mkdir()
    (small_root / "hints" / "orphan.toml").write_text("# someone's work\n")
    before = files_of(small_root)
    with pytest.raises(scaffold.Refused, match="its files exist: hints/orphan.toml"):
        scaffold.scaffold(small_root, "orphan", "T", "1.1", fixture=False)
    assert files_of(small_root) == before


def test_the_command_says_why_it_refused(small_root, monkeypatch, capsys):
    monkeypatch.setattr(scaffold, "repository_root", lambda: small_root)
    assert scaffold.main(["tokenizer", "--title", "T", "--chapter", "1"]) == 2
    assert "already has a topic 'tokenizer'" in capsys.readouterr().err


def test_a_fixture_that_cannot_be_built_leaves_the_repository_as_it_was(small_root, monkeypatch):
    before = files_of(small_root)
    failed = subprocess.CompletedProcess([], 1, stdout="ReferenceFailed: boom")
    monkeypatch.setattr(scaffold, "build_fixture", lambda root, slug: failed)
    with pytest.raises(RuntimeError, match="boom"):
        scaffold.scaffold(small_root, "new_topic", "T", "1.1")
    assert files_of(small_root) == before
