"""`make notebooks`, proved: every notebook is valid nbgrader, its student version is the stub,
its source passes its own test cells; and, with the real nbgrader on a few topics, the whole
instructor loop (generate_assignment, a student's validate, autograde, generate_feedback,
export) gives the reference full marks and the untouched stub zero, hidden checks included."""

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.nbgraderformat import MetadataValidator
from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

from grader.course.curriculum import ROOT, load
from grader.builders.notebooks import BEGIN, END, SCHEMA_VERSION, write_course

CURRICULUM = load()
SLUGS = [t.slug for t in CURRICULUM.topics if t.test_file().exists()]
# The nbgrader run: a topic that builds on another (its setup cell imports that reference) and
# one that needs GPT-2's tokenizer offline from support/ (and builds on the tokenizer).
E2E = ["multihead_attention", "special_tokens"]
STUB_LINES = {"# YOUR CODE HERE", "raise NotImplementedError()"}


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("nbgrader-course")
    write_course(out, SLUGS, CURRICULUM)
    return out


def notebook(course: Path, slug: str):
    return nbformat.read(course / "source" / slug / f"{slug}.ipynb", as_version=4)


def student_version(nb):
    """What `nbgrader generate_assignment` does to the cells, with nbgrader's own preprocessors."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    resources = {}
    for preprocessor in (ClearSolutions(), ClearHiddenTests()):
        nb, resources = preprocessor.preprocess(nb, resources)
    return nb


def role(cell) -> str:
    meta = cell.metadata.get("nbgrader", {})
    return "test" if meta.get("grade") else "solution" if meta.get("solution") else "setup" if meta.get("locked") else ""


@pytest.mark.parametrize("slug", SLUGS)
def test_support_ships_exactly_the_learners_folders_of_grader(course, slug):
    support = course / "source" / slug / "support" / "grader"
    shipped = {p.relative_to(support).as_posix() for p in support.rglob("*") if p.is_file()}
    assert {name.split("/")[0] for name in shipped} == {"course", "engine", "learner"}, sorted(shipped)
    assert {"learner/notebook_checks.py", "engine/probe.py", "course/curriculum.py"} <= shipped


@pytest.mark.parametrize("slug", SLUGS)
def test_notebook_is_valid_nbgrader_with_one_test_cell_per_task(course, slug):
    nb = notebook(course, slug)
    nbformat.validate(nb)
    MetadataValidator().validate_nb(nb)
    assert all(c.metadata["nbgrader"]["schema_version"] == SCHEMA_VERSION for c in nb.cells if role(c))
    tests = {c.metadata.nbgrader.grade_id: c.metadata.nbgrader.points for c in nb.cells if role(c) == "test"}
    assert tests == {f"test_task_{t.id}": t.points for t in CURRICULUM[slug].tasks}
    for cell in nb.cells:
        if role(cell) == "test":
            task = cell.metadata.nbgrader.grade_id.removeprefix("test_task_")
            assert f'check_task("{slug}", {task}, globals())' in cell.source
            assert f'check_task("{slug}", {task}, globals(), hidden=True)' in cell.source
        if cell.cell_type == "code":
            compile(cell.source, f"{slug}.ipynb", "exec")


@pytest.mark.parametrize("slug", SLUGS)
def test_student_version_is_the_stub(course, slug):
    """Every line of the student's solution cells is a line of the stub (or nbgrader's own
    placeholder): no reference body, no reference helper, no hidden test reaches a student."""
    stub = {line.strip() for line in CURRICULUM[slug].exercise().read_text(encoding="utf-8").splitlines()}
    released = student_version(notebook(course, slug))
    for cell in released.cells:
        if role(cell) == "solution":
            compile(cell.source, f"{slug}.ipynb", "exec")
            leaked = [line for line in cell.source.splitlines() if line.strip() not in stub | STUB_LINES]
            assert not leaked, f"lines not in the stub: {leaked[:3]}"
        if role(cell) == "test":
            assert "hidden" not in cell.source
    assert BEGIN not in json.dumps(released) and END not in json.dumps(released)


def run_cells(nb, folder: Path) -> dict[str, str]:
    """Run a notebook's code cells in one namespace, as a kernel would (IPython keeps the cells
    it ran in `In`): test cell's grade_id -> "" or its failure message."""
    namespace, results = {"__name__": "__main__", "In": [""]}, {}
    here = Path.cwd()
    os.chdir(folder)
    try:
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            namespace["In"].append(cell.source)
            try:
                exec(compile(cell.source, "cell", "exec"), namespace)
                failure = ""
            except AssertionError as err:
                failure = str(err)
            if role(cell) == "test":
                results[cell.metadata.nbgrader.grade_id] = failure
            else:
                assert not failure, failure
    finally:
        os.chdir(here)
    return results


def solved_version(course: Path, slug: str, change=lambda source: source):
    """The student version with the source's solution cells (passed through `change`): public
    checks only, as a student runs them (hidden ones are proved through nbgrader below)."""
    released = student_version(notebook(course, slug))
    for mine, theirs in zip(released.cells, notebook(course, slug).cells):
        if role(mine) == "solution":
            mine.source = change(theirs.source)
    return released


@pytest.fixture
def in_process(monkeypatch):
    """Notebook cells run here import the course itself (as autograde does) and `solutions`."""
    monkeypatch.setenv("KATA_COURSE", str(ROOT))
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield
    for name in [m for m in sys.modules if m == "solutions" or m.startswith("solutions.")]:
        del sys.modules[name]


@pytest.mark.parametrize("slug", SLUGS)
def test_source_passes_its_checks_and_student_version_fails_them(course, slug, in_process, capsys):
    tasks = CURRICULUM[slug].tasks
    assert run_cells(solved_version(course, slug), course / "source" / slug) == {f"test_task_{t.id}": "" for t in tasks}
    failures = run_cells(student_version(notebook(course, slug)), course / "source" / slug)
    assert all("not implemented yet" in failures[f"test_task_{t.id}"] for t in tasks), failures


def test_a_failure_names_the_mistake_and_the_hint_in_the_notebook(course, in_process, capsys):
    right = "torch.softmax(attn_scores / keys.shape[-1] ** 0.5, dim=-1)"
    wrong = solved_version(course, "causal_attention", lambda s: s.replace(right, "torch.softmax(attn_scores, dim=-1)"))
    failures = run_cells(wrong, course / "source" / "causal_attention")
    assert failures["test_task_1"] == ""
    assert "without dividing the scores by sqrt(d_k)" in failures["test_task_2"]
    assert "explains it: open hint 3 below the test cell of task 2" in failures["test_task_2"]
    assert "kata hint" not in failures["test_task_2"]


def test_a_mistake_in_a_called_task_is_charged_once_in_the_notebook(course, in_process, capsys):
    """split_text wrong (task 1): encode and decode (tasks 3, 4), which call it, pass with the
    reference's split_text and say so; task 1 fails (grader/once.py)."""
    right = "return [part.strip() for part in parts if part.strip()]"
    wrong = solved_version(course, "tokenizer", lambda s: s.replace(right, "return text.split()"))
    assert any(right in c.source for c in notebook(course, "tokenizer").cells)
    failures = run_cells(wrong, course / "source" / "tokenizer")
    assert failures["test_task_1"] and not failures["test_task_3"] and not failures["test_task_4"], failures
    printed = capsys.readouterr().out
    assert "tokenizer task 3 (" in printed and "keeps its points: it calls your split_text (task 1), which fails" in printed
    assert "tokenizer task 4 (" in printed


def test_a_forbidden_api_in_a_cell_fails_the_checks_run_after_it(course, in_process, capsys):
    fused = "\n_fused = torch.nn.functional.scaled_dot_product_attention\n"
    cheat = solved_version(course, "multihead_attention", lambda s: s + fused if "class MultiHeadAttention(" in s else s)
    failures = run_cells(cheat, course / "source" / "multihead_attention")
    assert failures["test_task_1"] == ""  # its test cell ran before that cell
    assert "uses torch.nn.functional.scaled_dot_product_attention" in failures["test_task_2"]


# ---------------------------------------------------------------------------------------------
# The real nbgrader, end to end


def nbgrader(course: Path, env: dict, *args: str, cwd: Path | None = None) -> str:
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd or course, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def isolated_jupyter(tmp: Path) -> dict:
    """Jupyter's config, data and runtime in `tmp`, and a python3 kernel that is this Python."""
    env = {k: v for k, v in os.environ.items() if k != "KATA_COURSE" and not k.startswith("JUPYTER")}
    kernel = tmp / "jupyter" / "kernels" / "python3"
    kernel.mkdir(parents=True)
    (kernel / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)", "language": "python"}))
    env |= {"JUPYTER_PATH": str(tmp / "jupyter"), "JUPYTER_CONFIG_DIR": str(tmp / "jupyter-config"),
            "JUPYTER_DATA_DIR": str(tmp / "jupyter-data"), "JUPYTER_RUNTIME_DIR": str(tmp / "jupyter-runtime"),
            "IPYTHONDIR": str(tmp / "ipython"), "JUPYTER_PLATFORM_DIRS": "1"}
    return env


def submit(course: Path, student: str, slug: str, solved: bool) -> Path:
    """The student version as handed out, with (solved) the source's solution cells filled in."""
    folder = course / "submitted" / student / slug
    shutil.copytree(course / "release" / slug, folder)
    nb = nbformat.read(folder / f"{slug}.ipynb", as_version=4)
    if solved:
        answers = {c.metadata.nbgrader.grade_id: c.source for c in notebook(course, slug).cells if role(c) == "solution"}
        for cell in nb.cells:
            if role(cell) == "solution":
                cell.source = "\n".join(line for line in answers[cell.metadata.nbgrader.grade_id].splitlines()
                                        if line.strip() not in (BEGIN, END))
    nbformat.write(nb, folder / f"{slug}.ipynb")
    return folder


@pytest.mark.timeout(900)  # about 40 s of CPU: five nbgrader commands, six kernels importing torch
def test_nbgrader_end_to_end(tmp_path):
    course = tmp_path / "course"
    write_course(course, E2E, CURRICULUM)
    env = isolated_jupyter(tmp_path)
    nbgrader(course, env, "generate_assignment", "*")
    for slug in E2E:
        released = (course / "release" / slug / f"{slug}.ipynb").read_text()
        assert "hidden=True" not in released and BEGIN not in released and "raise NotImplementedError()" in released
        # A student's machine: the checks come from support/ beside the notebook, not the course.
        where = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, 'support'); "
                                "import grader.course.curriculum as c; print(c.ROOT)"],
                               cwd=course / "release" / slug, env=env, capture_output=True, text=True)
        assert where.stdout.strip() == str(course / "release" / slug / "support"), where.stderr
        submit(course, "ada", slug, solved=True)
        submit(course, "ben", slug, solved=False)
    # What the student's Validate button says, run in their own folder: no nbgrader_config.py,
    # so no KATA_COURSE, so the checks come from support/.
    validated = nbgrader(course, env, "validate", *(f"{slug}/{slug}.ipynb" for slug in E2E), cwd=course / "submitted" / "ada")
    assert validated.count("Success! Your notebook passes all the tests.") == len(E2E), validated

    nbgrader(course, env, "autograde", "*")
    nbgrader(course, env, "generate_feedback", "*")
    nbgrader(course, env, "export")

    with open(course / "grades.csv", newline="") as f:
        scores = {(row["student_id"], row["assignment"]): (float(row["score"]), float(row["max_score"]))
                  for row in csv.DictReader(f)}
    for slug in E2E:
        points = float(CURRICULUM[slug].max_points)
        assert scores[("ada", slug)] == (points, points), scores
        assert scores[("ben", slug)] == (0.0, points), scores
        graded = (course / "autograded" / "ada" / slug / f"{slug}.ipynb").read_text()
        assert graded.count("hidden checks pass") == len(CURRICULUM[slug].tasks)  # hidden tests ran
        feedback = (course / "feedback" / "ben" / slug / f"{slug}.html").read_text()
        assert "not implemented yet" in feedback
