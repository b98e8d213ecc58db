"""The Gradescope bundle grades like Gradescope would run it.

`make gradescope`'s zip is built into a temporary folder and unpacked where Gradescope puts it
(ROOT/source, with ROOT standing in for /autograder); its setup.sh is not run (it downloads the
pinned packages): the test runs its last step, `python -m grader.offline`, and gives
run_autograder this venv's interpreter. Three submissions, each in its own ROOT and graded by its
own run_autograder at the same time: the reference (full marks), a partial one (a zip inside the
upload, one catalogued mistake, graded without the sandbox so the result must say "isolation
degraded"), and a hostile one (a topic that loops forever while printing fake passes and
forging results.json: no points for it, full points for the rest). About 35 s on a quiet machine.

The roots are made outside /tmp, as /autograder is: the sandbox mounts a private /tmp.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

from grader.engine import checks as C
from grader.builders import gradescope
from grader.course.curriculum import ROOT, load
from grader.course.mistakes import catalogue, mistaken_source
from grader.builders.release import extract

CURRICULUM = load()
MAX_TOTAL = sum(t.max_points for t in CURRICULUM.topics if t.test_file().exists())
MISTAKE = ("causal_attention", "scale_missing")
PARTIAL = ("tokenizer", "softmax_attention", "multihead_attention")  # the reference; causal mistaken
LOOPING = "softmax_attention"
# Gradescope's results.json fields (gradescope-autograders.readthedocs.io, "Autograder Specifications").
TOP_FIELDS = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
              "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
TEST_FIELDS = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format",
               "tags", "visibility", "extra_data"}
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}


def reference(slug: str) -> bytes:
    return CURRICULUM[slug].solution().read_bytes()


def hostile_module(root: Path) -> str:
    forged = json.dumps({"score": 1000, "output": "all passed", "tests": []})
    return f'''
from pathlib import Path
print("{LOOPING} task 1: passed\\n{LOOPING} task 2: passed\\nScore: 1000/1000")
try:
    Path({str(root / "results" / "results.json")!r}).write_text({forged!r})
except OSError:
    pass

def attention_scores(*args, **kwargs):
    print("passed")
    while True:
        pass

attention_weights = context_vectors = softmax_naive = attention_scores
'''


def make_submissions(base: Path) -> dict[str, tuple[Path, list[str]]]:
    """name -> (its autograder root, extra run_autograder options)."""
    roots = {}
    for name in ("correct", "partial", "hostile"):
        root = base / name
        (root / "submission").mkdir(parents=True)
        (root / "source").symlink_to(base / "source")
        shutil.copy(base / "source" / "run_autograder", root / "run_autograder")  # as Gradescope does
        roots[name] = root
    for module in (ROOT / "solutions").glob("*.py"):  # flat, as uploaded file by file
        shutil.copy(module, roots["correct"] / "submission" / module.name)
        if module.stem != LOOPING:
            shutil.copy(module, roots["hostile"] / "submission" / module.name)
    (roots["hostile"] / "submission" / f"{LOOPING}.py").write_text(hostile_module(roots["hostile"]))
    (roots["hostile"] / "submission" / "conftest.py").write_text("def pytest_runtest_call(item): pass\n")

    topic = CURRICULUM[MISTAKE[0]]
    patch = next(p for p in catalogue(topic) if p.id == MISTAKE[1])
    with zipfile.ZipFile(roots["partial"] / "submission" / "my-work.zip", "w") as zf:
        for slug in PARTIAL:
            zf.writestr(f"exercises/{slug}.py", reference(slug))
        zf.writestr(f"exercises/{topic.module_file}", mistaken_source(topic, patch))
        zf.writestr("exercises/conftest.py", "import os\n")
    (roots["partial"] / "submission" / "notes.txt").write_text("my notes\n")
    return {"correct": (roots["correct"], []), "partial": (roots["partial"], ["--no-sandbox"]),
            "hostile": (roots["hostile"], ["--timeout", "6"])}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    archive = gradescope.build(tmp_path_factory.mktemp("gradescope"))
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
    outside_tmp = "/var/tmp" if Path("/var/tmp").is_dir() else None
    with tempfile.TemporaryDirectory(prefix="kata-autograder-", dir=outside_tmp) as tmp:
        base = Path(tmp)
        extract(archive, base / "source")
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TIKTOKEN_CACHE_DIR")}
        subprocess.run([sys.executable, "-m", "grader.course.offline"], cwd=base / "source", env=env, check=True,
                       stdout=subprocess.DEVNULL)
        where = subprocess.run([sys.executable, "-c", "import grader.builders.gradescope as g; print(g.__file__)"],
                               cwd=base / "source", env=env, capture_output=True, text=True)
        assert Path(where.stdout.strip()).resolve() == (base / "source" / "grader" / "builders" / "gradescope.py").resolve()
        runs = {}
        for name, (root, options) in make_submissions(base).items():
            runs[name] = subprocess.Popen(
                [str(root / "run_autograder"), *options], cwd=root, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True,
                env={**env, "KATA_AUTOGRADER_ROOT": str(root), "KATA_PYTHON": sys.executable})
        found = {"names": names}
        for name, process in runs.items():
            stdout, _ = process.communicate(timeout=300)
            assert process.returncode == 0, f"{name}:\n{stdout}"
            found[name] = json.loads((base / name / "results" / "results.json").read_text())
            found[f"{name} stdout"] = stdout
        yield found


def test_the_bundle_has_what_gradescope_and_the_grader_need(results):
    names = set(results["names"])
    assert {"setup.sh", "run_autograder", "curriculum.toml", "pyproject.toml", "solutions/hidden.toml",
            "grader/builders/gradescope.py", "grader/grading/grade.py",
            "grader/grading/sandbox/inside/worker.py"} <= names
    for topic in CURRICULUM.topics:
        assert {f"solutions/{topic.module_file}", f"solutions/mistakes/{topic.slug}.toml",
                f"hints/{topic.slug}.toml"} <= names
    assert not [n for n in names if n.startswith(("exercises/", "examples/", "grader/tests/", "data/tiktoken-cache"))]
    setup = (ROOT / "grader" / "builders" / "templates" / "gradescope" / "setup.sh").read_text()
    assert "--index-url https://download.pytorch.org/whl/cpu torch==2.13.0" in setup


def assert_gradescope_schema(result: dict) -> None:
    assert set(result) <= TOP_FIELDS, set(result) - TOP_FIELDS
    assert isinstance(result["score"], (int, float)) and isinstance(result["output"], str)
    assert result["visibility"] in VISIBILITIES and result["stdout_visibility"] in VISIBILITIES
    assert result["tests"]
    for test in result["tests"]:
        assert set(test) <= TEST_FIELDS, set(test) - TEST_FIELDS
        assert test["status"] in ("passed", "failed") and test["visibility"] in VISIBILITIES
        assert 0 <= test["score"] <= test["max_score"] and isinstance(test["number"], str)
        assert all(isinstance(tag, str) for tag in test["tags"])
        assert (test["status"] == "passed") == (test["score"] == test["max_score"] > 0)
    hidden = [t for t in result["tests"] if t["visibility"] != "visible"]
    assert hidden and all(t["visibility"] == "after_due_date" and "hidden" in t["name"] for t in hidden)


def topic_points(result: dict) -> dict[str, float]:
    return result["extra_data"]["topics"]


def test_the_reference_gets_full_marks(results):
    result = results["correct"]
    assert_gradescope_schema(result)
    assert result["score"] == MAX_TOTAL
    assert all(t["status"] == "passed" for t in result["tests"])
    assert "Isolation:" in result["output"]


def test_a_partial_submission_from_a_zip_gets_partial_marks(results):
    result = results["partial"]
    assert_gradescope_schema(result)
    points = topic_points(result)
    for slug in PARTIAL:
        assert points[slug] == CURRICULUM[slug].max_points, slug
    mistaken = CURRICULUM[MISTAKE[0]]
    assert 0 < points[mistaken.slug] < mistaken.max_points
    assert result["score"] == pytest.approx(sum(points.values()))
    others = set(points) - set(PARTIAL) - {mistaken.slug}
    assert others and all(points[slug] == 0 for slug in others)
    named = [t for t in result["tests"] if MISTAKE[1] in t["tags"]]
    assert named and mistaken.mistakes[MISTAKE[1]].says in named[0]["output"]
    assert "graded again with the reference" in result["extra_data"]["notes"]["multihead_attention"]
    assert "isolation degraded" in result["output"]
    assert "conftest.py" in result["output"] and "Not graded" in result["output"]


def test_a_hostile_submission_gets_nothing_for_the_looping_topic(results):
    result = results["hostile"]
    assert_gradescope_schema(result)
    points = topic_points(result)
    assert points[LOOPING] == 0
    lost = {t.slug: points[t.slug] for t in CURRICULUM.topics
            if t.slug != LOOPING and t.test_file().exists() and points[t.slug] != t.max_points}
    assert not lost, f"honest topics lost points: {lost}\n{results['hostile stdout']}"
    assert result["score"] == MAX_TOTAL - CURRICULUM[LOOPING].max_points
    looping = [t for t in result["tests"] if t["tags"][0] == LOOPING]
    assert looping and all(t["status"] == "failed" and C.TIMEOUT in t["tags"] for t in looping)
    assert "Score: 1000" not in json.dumps(result)


def test_an_upload_is_read_flat_in_exercises_or_from_a_zip(tmp_path):
    modules = {t.module_file for t in CURRICULUM.topics}
    flat, nested, zipped, empty = (tmp_path / name for name in ("flat", "nested", "zipped", "empty"))
    flat.mkdir()
    (flat / "tokenizer.py").write_text("x = 1\n")
    (nested / "exercises").mkdir(parents=True)
    (nested / "exercises" / "tokenizer.py").write_text("x = 2\n")
    zipped.mkdir()
    with zipfile.ZipFile(zipped / "Archive.zip", "w") as zf:
        zf.writestr("kata/exercises/tokenizer.py", "x = 3\n")
        zf.writestr("kata/exercises/conftest.py", "")
    empty.mkdir()
    (empty / "tokenizer.txt").write_text("x = 4\n")
    assert gradescope.read_submission(flat, modules).files == {"tokenizer.py": b"x = 1\n"}
    assert gradescope.read_submission(nested, modules).files == {"tokenizer.py": b"x = 2\n"}
    from_zip = gradescope.read_submission(zipped, modules)
    assert from_zip.files == {"tokenizer.py": b"x = 3\n"}
    assert [path for path, _ in from_zip.ignored] == ["Archive.zip: kata/exercises/conftest.py"]
    nothing = gradescope.read_submission(empty, modules)
    assert not nothing.files
    assert "No topic module was found" in gradescope.upload_notes(nothing, modules)[0]
    assert gradescope.read_submission(tmp_path / "missing", modules).error


def test_an_assignments_bundle_grades_its_topics_out_of_its_points(tmp_path):
    """`make gradescope ASSIGNMENT=ch5`: the bundle holds chapter 5's topics and the earlier ones
    they build on, no other topic's solution; run from the unpacked bundle, a submission of every
    topic's reference scores chapter 5's points, not the course's, with tests for its topics only."""
    ch5 = CURRICULUM.assignment("ch5")
    archive = gradescope.build(tmp_path, "ch5")
    names = set(zipfile.ZipFile(archive).namelist())
    kept = {t.slug for t in ch5.topics + ch5.context}
    assert {f"solutions/{slug}.py" for slug in kept} <= names and "kata-assignment" in names
    assert {n for n in names if n.startswith("solutions/") and n.endswith(".py")} == {f"solutions/{s}.py" for s in kept}
    assert "tests/test_tokenizer.py" not in names and "tests/fixtures/tokenizer.safetensors" not in names
    outside_tmp = "/var/tmp" if Path("/var/tmp").is_dir() else None
    with tempfile.TemporaryDirectory(prefix="kata-autograder-", dir=outside_tmp) as tmp:
        root = Path(tmp)
        extract(archive, root / "source")
        (root / "submission").mkdir()
        for module in (ROOT / "solutions").glob("*.py"):
            shutil.copy(module, root / "submission" / module.name)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TIKTOKEN_CACHE_DIR")}
        subprocess.run([sys.executable, "-m", "grader.course.offline"], cwd=root / "source", env=env, check=True,
                       stdout=subprocess.DEVNULL)
        run = subprocess.run([str(root / "source" / "run_autograder")], cwd=root, capture_output=True, text=True,
                             env={**env, "KATA_AUTOGRADER_ROOT": str(root), "KATA_PYTHON": sys.executable}, timeout=300)
        assert run.returncode == 0, run.stdout + run.stderr
        result = json.loads((root / "results" / "results.json").read_text())
    assert_gradescope_schema(result)
    total = sum(t.max_points for t in ch5.topics)
    assert result["score"] == total and f"Total: {total:g} / {total}" in result["output"]
    assert {t["tags"][0] for t in result["tests"]} == set(ch5.slugs)
    assert gradescope.main(["--out", str(tmp_path / "x"), "--assignment", "ch9"]) == 2
