"""An nbgrader course from the same sources: python -m grader.builders.notebooks [--out DIR] [TOPIC ...]

Writes DIR (default dist/nbgrader) as an nbgrader course folder:

    nbgrader_config.py            course settings; KATA_COURSE = this repository (hidden checks)
    README.md                     for the instructor: the commands, the release order, trust
    source/<slug>/<slug>.ipynb    one assignment per topic, one notebook each
    source/<slug>/support/        what the notebook's cells import: the grader, this topic's
                                  checks, fixtures and hints, the reference of the topics it
                                  builds on, GPT-2's ranks where needed

A notebook is built from the topic's files, nothing is written twice: the prose is the stub's
module docstring and each top-level docstring (exercises/<slug>.py); each solution cell is the
stub's code with every `raise NotImplementedError(...)` body replaced by the reference's body
(solutions/<slug>.py) between nbgrader's `### BEGIN SOLUTION` / `### END SOLUTION`, so the
student version nbgrader makes is the stub again; each task has one autograded test cell worth
its points in curriculum.toml, calling `grader.learner.notebook_checks.check_task` (the checks of
tests/test_<slug>.py), with the same call on hidden seeds inside `### BEGIN HIDDEN TESTS`. The
hints of each task follow its test cell, folded.

One assignment per topic, not per chapter: a topic that builds on another (multi-head attention
uses CausalAttention) imports the reference of that topic in its locked setup cell, so the
notebook stands alone (it needs no earlier notebook of the student's, and one mistake is not
charged twice, as `make grade` ensures by regrading with the reference). Shipping that reference
is only harmless once its own assignment is closed, so assignments must be separate, released in
curriculum order. Assignment and notebook names are the topic slugs (nbgrader forbids "+" in
assignment names; slugs are lowercase letters and underscores).

Where the reference defines helpers the stub does not have (bpe's `_merge_pair`, ...), they go
inside the solution region of a neighbouring stub function, so the student version has no trace
of them and still runs top to bottom.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import inspect
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..course.curriculum import ROOT, Curriculum, Topic, load
from .release import for_learners, learner_modules

COURSE_ID = "llm_katas"
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
SCHEMA_VERSION = 3  # nbgrader 0.9's cell metadata schema (nbgrader/nbgraderformat/v3.json)
CELL_TIMEOUT = 120  # seconds nbgrader gives one cell; the slowest task's checks take a few
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
REPO_ROOT_EXPR = "Path(__file__).resolve().parent.parent"  # a module's way to find the repository


class GenerationError(ValueError):
    """The stub and the reference cannot be merged into a notebook as they stand."""


# ---------------------------------------------------------------------------------------------
# Cells


@dataclass
class Cell:
    kind: str  # "markdown" or "code"
    source: str
    role: str = ""  # "", "setup" (locked), "solution", "test" (autograded)
    grade_id: str = ""
    points: int = 0

    def metadata(self) -> dict:
        if not self.role:
            return {}
        return {"nbgrader": {
            "grade": self.role == "test", "solution": self.role == "solution",
            "locked": self.role in ("setup", "test"), "task": False, "grade_id": self.grade_id,
            **({"points": self.points} if self.role == "test" else {}),
            "schema_version": SCHEMA_VERSION}}


def to_notebook(cells: list[Cell], slug: str):
    import nbformat
    from nbformat import v4

    nb = v4.new_notebook(metadata={"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}})
    for number, cell in enumerate(cells, 1):
        make = v4.new_markdown_cell if cell.kind == "markdown" else v4.new_code_cell
        nb.cells.append(make(cell.source, metadata=cell.metadata(), id=f"{slug[:40]}-{number:03d}"))
    nbformat.validate(nb)
    return nb


# ---------------------------------------------------------------------------------------------
# Reading a module: statements with the comments above them, function bodies as lines


@dataclass
class Source:
    text: str
    tree: ast.Module = field(init=False)
    lines: list[str] = field(init=False)

    def __post_init__(self):
        self.tree = ast.parse(self.text)
        self.lines = self.text.splitlines()

    def statements(self) -> list[ast.stmt]:
        """The top-level statements after the module docstring."""
        return [node for node in self.tree.body if node is not self.docstring_node()]

    def docstring_node(self) -> ast.Expr | None:
        first = self.tree.body[0] if self.tree.body else None
        return first if _is_docstring(first) else None

    def block_start(self, node: ast.stmt) -> int:
        """The first line of a statement: its decorators, and the comment lines right above."""
        decorators = getattr(node, "decorator_list", [])
        first = decorators[0].lineno if decorators else node.lineno
        while first > 1 and self.lines[first - 2].strip().startswith("#"):
            first -= 1
        return first

    def block(self, node: ast.stmt) -> list[str]:
        return self.lines[self.block_start(node) - 1:node.end_lineno]

    def body_lines(self, function: ast.FunctionDef) -> list[str]:
        """A function's body without its docstring, with any comment lines above the first statement."""
        body = function.body[1:] if _is_docstring(function.body[0]) else function.body
        first = body[0].lineno
        while self.lines[first - 2].strip().startswith("#"):
            first -= 1
        return self.lines[first - 1:body[-1].end_lineno]


def _is_docstring(node) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str))


def _definitions(tree: ast.Module) -> dict[str, ast.stmt]:
    return {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}


def _methods(cls: ast.ClassDef) -> dict[str, ast.stmt]:
    return {n.name: n for n in cls.body if isinstance(n, ast.FunctionDef)}


def _stub_raise(function: ast.FunctionDef) -> ast.Raise:
    body = function.body[1:] if _is_docstring(function.body[0]) else function.body
    if len(body) != 1 or not isinstance(body[0], ast.Raise):
        raise GenerationError(f"{function.name}: a stub's body must be one `raise NotImplementedError(...)`")
    return body[0]


# ---------------------------------------------------------------------------------------------
# The notebook of one topic


def topic_cells(topic: Topic, curriculum: Curriculum) -> list[Cell]:
    stub = Source(topic.exercise().read_text(encoding="utf-8"))
    reference = Source(topic.solution().read_text(encoding="utf-8"))
    regions = SolutionRegions(topic.slug, stub, reference)

    cells = [Cell("markdown", introduction(topic, curriculum.slugs.index(topic.slug) + 1, stub))]
    setup_lines = setup_header()
    given_at: dict[str, int] = {}  # names the given code defines: their tests follow the setup cell
    definitions: list[ast.stmt] = []
    for node in stub.statements():
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            setup_lines.append(import_line(node, stub, topic, curriculum))
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            definitions.append(node)
        else:  # given module-level code: constants, GPT2_PATTERN, GPT_CONFIG_124M
            if definitions:
                raise GenerationError(f"{topic.slug}: module-level code after a definition "
                                      f"(line {node.lineno}) is not supported")
            setup_lines += [""] + given_code(stub.block(node), topic)
            targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            given_at.update({n.id: 0 for t in targets if t is not None for n in ast.walk(t) if isinstance(n, ast.Name)})
    cells.append(Cell("code", "\n".join(setup_lines).strip() + "\n", "setup", "setup"))

    # A task's test cell follows the cell that completes its API (0: the setup cell).
    position = given_at | {d.name: number for number, d in enumerate(definitions, 1)}
    place: dict[int, list] = {}
    for task in topic.tasks:
        owners = {api.split(".")[0] for api in task.api}
        if not owners <= position.keys():
            raise GenerationError(f"{topic.slug} task {task.id}: the stub defines no {sorted(owners - position.keys())}")
        place.setdefault(max(position[o] for o in owners), []).append(task)

    for task in place.get(0, []):
        cells += task_cells(topic, task)
    for number, node in enumerate(definitions, 1):
        doc = ast.get_docstring(node)
        heading = f"## `{node.name}`"
        cells.append(Cell("markdown", heading + ("\n\n" + docstring_markdown(doc) if doc else "")))
        given = not regions._functions(node)  # no method to write (kv_cache's TransformerBlock): a plain cell
        cells.append(Cell("code", regions.definition_cell(node), *(("",) if given else ("solution", node.name))))
        for task in place.get(number, []):
            cells += task_cells(topic, task)
    return cells


def introduction(topic: Topic, number: int, stub: Source) -> str:
    doc = ast.get_docstring(stub.tree) or ""
    prose = "\n".join(line for line in doc.splitlines() if not line.startswith("Check your work:")).strip()
    title, _, rest = prose.partition("\n")  # "Causal attention (book section 3.5)."
    rows = "\n".join(f"| {t.id} | {_escape(t.title)} | {', '.join(f'`{a}`' for a in t.api)} | {t.points} |"
                     for t in topic.tasks)
    return (f"# {number}. {_escape(title.strip().rstrip('.'))}\n\n{docstring_markdown(rest.strip())}\n\n"
            f"| task | what | you write | points |\n|---|---|---|---|\n{rows}\n\n"
            f"Run the setup cell first. Then, for each task, replace `raise NotImplementedError()` "
            f"with your code and run the task's test cell: it runs the checks and, if one fails, "
            f"says what your code returned and what was expected. The grader also runs hidden "
            f"checks (other inputs and sizes), so make the code right, not the numbers. Hints "
            f"follow each test cell, one fold at a time.")


def setup_header() -> list[str]:
    return [
        "# Setup: run this cell first. It is locked: grading runs the original.",
        "# The checks come from support/ beside this notebook (when grading, from the course itself).",
        "import os, sys",
        'sys.path.insert(0, os.environ.get("KATA_COURSE") or os.path.abspath("support"))',
        "from grader.learner.notebook_checks import check_task, setup",
        "setup()  # GPT-2's tokenizer works offline, as everywhere in the course",
        "",
    ]


def import_line(node: ast.Import | ast.ImportFrom, stub: Source, topic: Topic, curriculum: Curriculum) -> str:
    """The stub's import, with `from .topic import X` turned into the reference of that topic
    (support/solutions/ ships the reference of every topic this one depends on)."""
    text = "\n".join(stub.block(node))
    if isinstance(node, ast.ImportFrom) and node.level:
        if node.level != 1 or node.module not in curriculum.requires(topic.slug):
            raise GenerationError(f"{topic.slug}: {text!r} imports a topic that curriculum.toml does "
                                  f"not list among the ones {topic.slug} depends on")
        number = curriculum.slugs.index(node.module) + 1
        names = ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in node.names)
        return (f"\n# This topic builds on topic {number}, {node.module}: its reference solution.\n"
                f"from solutions.{node.module} import {names}")
    return text


def given_code(lines: list[str], topic: Topic) -> list[str]:
    text = "\n".join(lines)
    if REPO_ROOT_EXPR in text:  # a module finds the repository; a notebook, its support folder
        text = text.replace(REPO_ROOT_EXPR, "course_root()")
        text = "from grader.learner.notebook_checks import course_root\n" + text
    if "__file__" in text:
        raise GenerationError(f"{topic.slug}: a notebook has no __file__: {text!r}")
    return text.splitlines()


def task_cells(topic: Topic, task) -> list[Cell]:
    call = f'check_task("{topic.slug}", {task.id}, globals()'
    points = f"{task.points} point{'s' if task.points != 1 else ''}"
    test = "\n".join([f"# Task {task.id} ({points}): {task.title}", call + ")",
                      BEGIN_HIDDEN, call + ", hidden=True)", END_HIDDEN])
    cells = [Cell("code", test, "test", f"test_task_{task.id}", task.points)]
    if task.hints:
        folds = "\n\n".join(f"<details><summary>Hint {n}</summary>\n\n{_escape(hint)}\n\n</details>"
                            for n, hint in enumerate(task.hints, 1))
        cells.append(Cell("markdown", f"**Stuck on task {task.id}?** Open one hint at a time.\n\n{folds}"))
    return cells


class SolutionRegions:
    """The stub's definitions with the reference's bodies between nbgrader's solution markers."""

    def __init__(self, slug: str, stub: Source, reference: Source):
        self.slug, self.stub, self.reference = slug, stub, reference
        self.extras = self._place_extras()

    def definition_cell(self, node: ast.FunctionDef | ast.ClassDef) -> str:
        """The stub's definition, without its docstring (the markdown above shows it)."""
        start = self.stub.block_start(node)
        edits = []  # (first line, last line, replacement), 1-based, inclusive
        doc = node.body[0] if _is_docstring(node.body[0]) else None
        if doc is not None:
            last = doc.end_lineno
            if isinstance(node, ast.ClassDef) and not self.stub.lines[last].strip():
                last += 1  # and the blank line under a class docstring
            edits.append((doc.lineno, last, []))
        for function in self._functions(node):
            edits.append(self._region(node, function))
        lines = self.stub.lines[start - 1:node.end_lineno]
        for first_line, last_line, replacement in sorted(edits, reverse=True):
            lines[first_line - start:last_line - start + 1] = replacement
        return "\n".join(lines) + "\n"

    def _functions(self, node) -> list[ast.FunctionDef]:
        if isinstance(node, ast.FunctionDef):
            return [node]
        # A method with no NotImplementedError in it is given code (kv_cache's __init__s): kept as written.
        return [f for f in _methods(node).values() if "NotImplementedError" in ast.unparse(f)]

    def _region(self, owner, function: ast.FunctionDef) -> tuple[int, int, list[str]]:
        stub_raise = _stub_raise(function)
        qualified = function.name if owner is function else f"{owner.name}.{function.name}"
        solved = self._reference_function(qualified)
        indent = " " * stub_raise.col_offset
        body = self.reference.body_lines(solved)
        if not body[0].startswith(indent) or body[0][len(indent)] == " ":
            raise GenerationError(f"{self.slug}: {qualified} is indented differently in the stub and the reference")
        extra = self.extras.get(qualified, [])
        return stub_raise.lineno, stub_raise.end_lineno, [indent + BEGIN, *body, *extra, indent + END]

    def _reference_function(self, qualified: str) -> ast.FunctionDef:
        top, _, method = qualified.partition(".")
        node = _definitions(self.reference.tree).get(top)
        if node is not None and method:
            node = _methods(node).get(method) if isinstance(node, ast.ClassDef) else None
        if not isinstance(node, ast.FunctionDef):
            raise GenerationError(f"{self.slug}: the reference has no {qualified}")
        return node

    def _place_extras(self) -> dict[str, list[str]]:
        """What only the reference has, keyed by the stub function whose region carries it.

        Methods join a region of their own class; module-level code joins the region that ends
        the first top-level definition able to hold it (a function, or a class whose last
        statement is a stub method), so it is defined before any test cell runs."""
        stub_defs = _definitions(self.stub.tree)
        stub_code = {ast.dump(n) for n in self.stub.statements()}
        extras: dict[str, list[str]] = {}
        module_level: list[str] = []
        for node in self.reference.statements():
            name = getattr(node, "name", None)
            if name in stub_defs:
                if isinstance(node, ast.ClassDef):
                    self._place_methods(stub_defs[name], node, extras)
                continue
            if name is None and ast.dump(node) in stub_code:
                continue
            if isinstance(node, ast.ImportFrom) and node.level:
                raise GenerationError(f"{self.slug}: the reference imports {node.module} relatively "
                                      f"and the stub does not: add the import to the stub")
            module_level += ["", "", *self.reference.block(node)]
        if module_level:
            holder = next(self._module_level_holders(), None)
            if holder is None:
                raise GenerationError(f"{self.slug}: no stub function can carry the reference's helpers")
            extras.setdefault(holder, []).extend(module_level)
        return extras

    def _place_methods(self, stub_class: ast.ClassDef, ref_class: ast.ClassDef, extras) -> None:
        stub_methods = _methods(stub_class)
        previous = next(iter(stub_methods), None)
        for node in ref_class.body:
            if _is_docstring(node):
                continue
            if isinstance(node, ast.FunctionDef) and node.name in stub_methods:
                previous = node.name
                continue
            if previous is None:
                raise GenerationError(f"{self.slug}: {stub_class.name} has no stub method to carry {ast.unparse(node)[:40]!r}")
            extras.setdefault(f"{stub_class.name}.{previous}", []).extend(["", *self.reference.block(node)])

    def _module_level_holders(self):
        for node in self.stub.tree.body:
            if isinstance(node, ast.FunctionDef):
                yield node.name
            elif isinstance(node, ast.ClassDef) and isinstance(node.body[-1], ast.FunctionDef):
                yield f"{node.name}.{node.body[-1].name}"


# ---------------------------------------------------------------------------------------------
# Docstrings as markdown


def docstring_markdown(doc: str) -> str:
    """Prose paragraphs as markdown; indented lines (formulas, shapes) and doctest examples fenced,
    exactly as written."""
    out = []
    for block in re.split(r"\n\s*\n", inspect.cleandoc(doc)):
        lines = block.splitlines()
        example = next((i for i, line in enumerate(lines) if line.lstrip().startswith(">>>")), None)
        text, code = (lines, []) if example is None else (lines[:example], lines[example:])
        runs: list[tuple[bool, list[str]]] = []
        for line in text:
            indented = line.startswith(" ")
            if runs and runs[-1][0] == indented:
                runs[-1][1].append(line)
            else:
                runs.append((indented, [line]))
        for indented, run in runs:
            if indented:
                out.append("```text\n" + inspect.cleandoc("\n".join(run)) + "\n```")
            else:
                out.append(_escape("\n".join(run)))
        if code:
            width = len(code[0]) - len(code[0].lstrip())
            out.append("```python\n" + "\n".join(line[width:] for line in code) + "\n```")
    return "\n\n".join(out)


def _escape(text: str) -> str:
    """Markdown-escape * _ < \\ outside `code spans`, so `__init__` and `h*head_dim` stay text."""
    parts = re.split(r"(`[^`]*`)", text)
    return "".join(part if part.startswith("`") else re.sub(r"([\\*_<])", r"\\\1", part) for part in parts)


# ---------------------------------------------------------------------------------------------
# The course folder


def support_files(topic: Topic, curriculum: Curriculum) -> dict[str, Path]:
    """What the notebook's cells import, by path inside support/."""
    root = curriculum.root
    files = {"curriculum.toml": root / "curriculum.toml"}
    for module in learner_modules(root):  # the learner's folders of grader/, as the release ships them
        files[f"grader/{module}"] = root / "grader" / module
    files[f"tests/{topic.test_file().name}"] = topic.test_file()
    files[f"tests/fixtures/{topic.fixture_file().name}"] = topic.fixture_file()
    files[f"hints/{topic.slug}.toml"] = topic.hints_file()
    builds_on = curriculum.requires(topic.slug)
    for dep in builds_on:
        files[f"solutions/{dep}.py"] = curriculum[dep].solution()
    files["data/corpus.txt"] = root / "data" / "corpus.txt"
    files["data/NOTICE.md"] = root / "data" / "NOTICE.md"
    if any("tiktoken" in path.read_text(encoding="utf-8")
           for slug in (topic.slug, *builds_on)
           for path in (curriculum[slug].exercise(), curriculum[slug].solution(), curriculum[slug].test_file())
           if path.exists()):
        from ..course.offline import CACHE_DIR, RANKS_FILE, cache_ready, write_cache
        if not cache_ready():
            write_cache()
        files["data/gpt2.tiktoken"] = RANKS_FILE
        for cached in sorted(CACHE_DIR.iterdir()):
            files[f"data/tiktoken-cache/{cached.name}"] = cached
    return files


def support_readme(topic: Topic, curriculum: Curriculum) -> str:
    builds_on = curriculum.requires(topic.slug)
    reference = (f"- `solutions/`: the reference of {', '.join(builds_on)}, the topics this one builds on "
                 f"(the setup cell imports it)\n" if builds_on else "")
    return (f"# support/: what the cells of {topic.slug}.ipynb import\n\n"
            f"Leave this folder as it is: it is the course's own code, and grading uses the "
            f"instructor's copy anyway.\n\n"
            f"- `grader/`: the check engine (`grader/learner/notebook_checks.py` is what the test cells call)\n"
            f"- `tests/test_{topic.slug}.py` and `tests/fixtures/`: this topic's checks and their "
            f"inputs with the expected outputs\n"
            f"- `hints/{topic.slug}.toml`: the hints (the notebook shows them too)\n{reference}"
            f"- `data/`: the course's small corpus, and GPT-2's BPE ranks where this topic uses "
            f"tiktoken (see `data/NOTICE.md`)\n")


def write_assignment(topic: Topic, curriculum: Curriculum, source_dir: Path) -> Path:
    import nbformat

    folder = source_dir / topic.slug
    if folder.exists():
        shutil.rmtree(folder)
    support = folder / "support"
    for relative, path in support_files(topic, curriculum).items():
        (support / relative).parent.mkdir(parents=True, exist_ok=True)
        (support / relative).write_bytes(for_learners(relative, path.read_bytes()))  # no variant maths
    (support / "README.md").write_text(support_readme(topic, curriculum), encoding="utf-8")
    notebook = folder / f"{topic.slug}.ipynb"
    nbformat.write(to_notebook(topic_cells(topic, curriculum), topic.slug), str(notebook))
    return notebook


def nbgrader_config(root: Path) -> str:
    return f'''# nbgrader settings for the LLM katas. Written by `make notebooks` (grader/builders/notebooks.py);
# running it again rewrites this file, so put your own settings (exchange, course id, ...) in
# nbgrader_config_local.py beside it: it is loaded last and wins.
import os
import sys

c = get_config()  # noqa: F821 (nbgrader defines it)
c.CourseDirectory.course_id = "{COURSE_ID}"
# The gradebook is gradebook.db (sqlite) in this folder: run nbgrader from here.
# nbgrader creates it by running `alembic` from PATH: the one installed beside this Python.
os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")

# The hidden checks compute their expected values with the reference (solutions/) when you
# autograde: the kernels nbgrader starts read the course repository from KATA_COURSE.
os.environ.setdefault("KATA_COURSE", {str(root)!r})

# One test cell runs one task's checks: seconds, or a learner's endless loop.
c.Execute.timeout = {CELL_TIMEOUT}

# No sandbox: nbgrader runs the learner's code and the checks in one kernel on this machine
# (nbgrader's trust model). `make grade` on the same code grades it in a sandbox; see README.md.

load_subconfig("nbgrader_config_local.py")  # noqa: F821 (absent: nothing happens)
'''


def course_readme(curriculum: Curriculum, slugs: list[str], root: Path) -> str:
    rows = []
    for slug in slugs:
        topic = curriculum[slug]
        builds_on = curriculum.requires(slug)
        rows.append(f"| {curriculum.slugs.index(slug) + 1} | `{slug}` | {topic.title} | {topic.max_points} | "
                    f"{', '.join(f'`{d}`' for d in builds_on) or '-'} |")
    table = "\n".join(rows)
    return f"""# The LLM katas as an nbgrader course

Generated by `make notebooks` from the course repository ({root}): the stubs, the reference
solutions, the checks and the hints. Regenerate rather than edit: `source/` is rewritten.

## Assignments

One assignment per topic; each has one notebook, `<topic>.ipynb`, with one autograded test cell
per task (worth the task's points) and hidden checks in each test cell. Each notebook imports the
reference of the topics it builds on, in its locked setup cell (shipped in
`source/<topic>/support/solutions/`): release an assignment only after those topics' deadlines.

| # | assignment | title | points | builds on (ships their reference) |
|---|---|---|---|---|
{table}

## Running it

The notebooks run in the kernel named `python3`, which needs Python 3.11 or later and the
course's packages at the versions pinned in the repository's pyproject.toml: torch, numpy,
safetensors, tiktoken, regex. Students need nothing else: `support/` beside each notebook holds
the checks. Run every command from this folder (the gradebook is `gradebook.db` here), with the
nbgrader of the course's environment (`{root}/.venv/bin/nbgrader`, or activate that venv):

```sh
nbgrader generate_assignment causal_attention     # release/causal_attention/: the student version
nbgrader release_assignment causal_attention      # or hand out release/ yourself
nbgrader collect causal_attention                 # or put notebooks in submitted/<student>/causal_attention/
nbgrader autograde causal_attention
nbgrader generate_feedback causal_attention
nbgrader export                                   # grades.csv
```

`autograde` must run on a machine with the course repository: the hidden checks compute their
expected values with the reference, found through `KATA_COURSE` (nbgrader_config.py sets it to
{root}). When it is missing, every hidden check fails (a task never passes unchecked).

## Scores

A test cell scores its task's points when every check of the task passes, public and hidden, and
zero otherwise; the message of the first failing check is in the cell's output (and the feedback).
`make grade` shares a task's points among its checks, so a half-right task scores there, not here.

## Trust

nbgrader runs the student's code and the checks in one kernel, on this machine, without a sandbox:
a student's notebook can read your files, and a determined one can forge a passing test cell.
That is nbgrader's model. For grades that matter, also grade the same code with `make grade`,
which runs each submission sandboxed and judges it in a separate process.
"""


def write_course(out: Path, slugs: list[str] | None = None, curriculum: Curriculum | None = None) -> list[Path]:
    """The course folder in `out`; returns the notebooks written."""
    curriculum = curriculum or load()
    slugs = slugs or [t.slug for t in curriculum.topics if t.test_file().exists()]
    out.mkdir(parents=True, exist_ok=True)
    notebooks = [write_assignment(curriculum[slug], curriculum, out / "source") for slug in slugs]
    (out / "nbgrader_config.py").write_text(nbgrader_config(curriculum.root), encoding="utf-8")
    (out / "README.md").write_text(course_readme(curriculum, slugs, curriculum.root), encoding="utf-8")
    return notebooks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.builders.notebooks", description=__doc__.splitlines()[0])
    parser.add_argument("topics", nargs="*", help="topic slugs (default: every topic with checks)")
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "nbgrader", help="course folder (default: dist/nbgrader)")
    args = parser.parse_args(argv)
    if importlib.util.find_spec("nbformat") is None:
        print("make notebooks needs nbgrader and its packages: .venv/bin/pip install -e '.[nbgrader]'")
        return 2
    curriculum = load()
    missing = [t.slug for t in curriculum.topics if not t.test_file().exists()]
    for slug in missing:
        if not args.topics:
            print(f"  {slug}: no checks yet, skipped")
    for notebook in write_course(args.out, args.topics or None, curriculum):
        print(f"  {notebook.relative_to(args.out)}")
    print(f"nbgrader course in {args.out}/ (see its README.md)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
