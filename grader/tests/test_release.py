"""The learner's release stands alone and gives nothing away.

It is built into a temporary folder (twice: the zips must be byte for byte the same), unpacked
from the zip, set up by its own Makefile, and checked by its own `kata`: every task of the stubs
"not started", every task passing once the references are copied into its exercises/, and a
pasted catalogued mistake named, from the fixtures alone. Then every file handed out is searched
for the solutions' code.

Setting up without downloads: the release's `make setup DEPS=no` runs every step of its setup
except the downloads (pip installs the course itself with --no-deps; GPT-2's offline cache;
`kata snapshot`) into a .venv this test makes from the repository venv's interpreter, with the
repository venv's pinned packages visible through a .pth file (a folder of links to them, less
this project's own editable install, so every `import grader` resolves inside the release).
About 40 s on a quiet machine (two full `kata check` runs dominate).
"""

import ast
import os
import re
import shutil
import site
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from grader.builders import release
from grader.course.curriculum import ROOT, load
from grader.course.mistakes import catalogue, mistaken_source

CURRICULUM = load()
CHECKED = [t for t in CURRICULUM.topics if t.test_file().exists()]
MISTAKE = ("causal_attention", "scale_missing")  # the README's example of a named mistake
SHORTEST_SECRET = 24  # characters; shorter lines are boilerplate such as `super().__init__()`
# Lines the search finds that give nothing away, each with the reason.
GIVEN = {
    "self.tok_emb = nn.Embedding(vocab_size, emb_dim)":
        "the GPTEmbedding stub's docstring states it (tok_emb: nn.Embedding(vocab_size, emb_dim)); "
        "TinyLM in tests/test_training.py has the same layer",
    "self.pos_emb = nn.Embedding(context_length, emb_dim)":
        "the GPTEmbedding stub's docstring states it; TinyLM in tests/test_training.py has the same layer",
    "torch.arange(1, num_tokens + 1, device=in_idx.device)":
        "a mistake's text, not the reference's; TinyLM in tests/test_training.py counts tokens with it",
    "token, rank = line.split()":
        "the format of data/gpt2.tiktoken; grader/course/offline.py reads it to make tiktoken work offline",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    first, second = tmp_path_factory.mktemp("release-1"), tmp_path_factory.mktemp("release-2")
    folder, archive = release.build(first)
    _, again = release.build(second)
    return folder, archive, again


@pytest.fixture(scope="module")
def unpacked(built, tmp_path_factory):
    """The zip unpacked and set up by its own Makefile, without downloads (see the docstring)."""
    where = tmp_path_factory.mktemp("learner")
    release.extract(built[1], where)
    root = where / "student"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / ".venv")], check=True)
    pinned = where / "pinned-packages"
    pinned.mkdir()
    ours = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["name"].replace("-", "_")
    for parent in site.getsitepackages():
        for entry in Path(parent).iterdir():
            if not entry.name.startswith((ours, "__editable__", "__pycache__")) and entry.suffix != ".pth":
                (pinned / entry.name).symlink_to(entry)
    [purelib] = (root / ".venv" / "lib").glob("python*/site-packages")
    (purelib / "pinned-packages.pth").write_text(f"{pinned}\n")
    done = run(root, "make", "setup", "DEPS=no")
    assert done.returncode == 0, done.stdout
    return root


def run(root: Path, *command: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "TIKTOKEN_CACHE_DIR", "PYTHONHOME")}
    env.update(PATH=f"{root / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}", COLUMNS="200", NO_COLOR="1")
    return subprocess.run(command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=600)


def same_words(text: str) -> str:
    return " ".join(text.split())


def test_the_zip_is_deterministic(built):
    _, archive, again = built
    assert archive.read_bytes() == again.read_bytes()
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
        assert names == sorted(names)
        assert {info.date_time for info in zf.infolist()} == {release.ZIP_TIME}


def test_only_what_a_learner_needs(built):
    folder, archive, _ = built
    with zipfile.ZipFile(archive) as zf:
        names = {name.removeprefix("student/") for name in zf.namelist()}
    assert names == {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    for never in ("solutions/", "examples/", "grader/tests/", "data/tiktoken-cache/", "grades/", ".kata/"):
        assert not [n for n in names if n.startswith(never)], never
    assert not [n for n in names if "hidden" in n or "__pycache__" in n or n.endswith(".pyc")]
    shipped = {n.split("/")[1] for n in names if n.startswith("grader/")}
    assert shipped == {"course", "engine", "learner"}, "exactly the learner's folders of grader/"
    for instructor_only in ("__main__.py", "grading/", "builders/"):
        assert not [n for n in names if n.startswith(f"grader/{instructor_only}")], instructor_only
    for topic in CURRICULUM.topics:
        assert (folder / "exercises" / topic.module_file).read_bytes() == topic.exercise().read_bytes()
        assert f"hints/{topic.slug}.toml" in names
    for topic in CHECKED:
        assert {f"tests/test_{topic.slug}.py", f"tests/fixtures/{topic.slug}.safetensors"} <= names
    assert {"README.md", "Makefile", "curriculum.toml", "pyproject.toml", "data/corpus.txt",
            "data/gpt2.tiktoken", "data/NOTICE.md"} <= names
    assert "kata next" in (folder / "README.md").read_text()


def secrets() -> dict[str, str]:
    """Line -> where it comes from: every line of a reference, and of every mistake's
    replacement text, that no stub shows (the stubs ship: what they show is the learner's)."""
    stubs = "\n".join(t.exercise().read_text(encoding="utf-8") for t in CURRICULUM.topics)
    found = {}

    def consider(text: str, origin: str) -> None:
        for line in text.splitlines():
            line = line.strip()
            if len(line) >= SHORTEST_SECRET and not line.startswith("#") and line not in stubs:
                found.setdefault(line, origin)

    for topic in CURRICULUM.topics:
        consider(topic.solution().read_text(encoding="utf-8"), f"solutions/{topic.module_file}")
        for patch in catalogue(topic):
            for _, replacement in patch.replace:
                consider(replacement, f"solutions/mistakes/{topic.slug}.toml ({patch.id})")
    return found


def test_no_solution_code_in_the_release(built):
    folder, archive, _ = built
    secret = secrets()
    assert len(secret) > 100, "the search found almost nothing to look for"
    with zipfile.ZipFile(archive) as zf:
        shipped = {info.filename: zf.read(info) for info in zf.infolist()}
    shipped |= {str(p): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    leaks = sorted((line, origin, name) for line, origin in secret.items() if line not in GIVEN
                   for name, data in shipped.items() if line.encode() in data)
    assert not leaks, "solution code in the release:\n" + "\n".join(
        f"  {line!r} (from {origin}) in {name}" for line, origin, name in leaks)


def test_no_variant_maths_in_the_release(built):
    """A declared variant is the reference computed with one knob turned (grader/variant_math.py's
    attend() with its defaults is the book's causal attention): none ships with a body, and the
    shipped checks still import and run (test_the_release_stands_alone)."""
    folder, _, _ = built
    shipped = folder / "grader" / "engine" / "variant_math.py"
    kept = {"with_last_token_changed"}
    sources = [shipped, *(folder / "tests").glob("test_*.py")]
    assert shipped.exists() and len(sources) > 5
    stripped = 0
    for path in sources:
        for fn in [n for n in ast.parse(path.read_text(encoding="utf-8")).body if isinstance(n, ast.FunctionDef)]:
            is_variant = any(isinstance(d, ast.Call) and getattr(d.func, "id", "") == "variant" for d in fn.decorator_list)
            if (path == shipped and fn.name not in kept) or is_variant:
                body = fn.body[1:] if ast.get_docstring(fn) is not None else fn.body
                assert len(body) == 1 and isinstance(body[0], ast.Raise), f"{path.name}: {fn.name} ships with its maths"
                stripped += 1
    assert stripped > 50, stripped  # the variants of seven topics and the shared maths


RUN = 3  # consecutive lines: three lines of the reference in a row are code, whatever their length


def code_lines(text: str) -> list[str]:
    """The lines that carry code: stripped, without blank lines and comment-only lines."""
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def runs(lines: list[str]) -> set[tuple[str, ...]]:
    return {tuple(lines[i:i + RUN]) for i in range(len(lines) - RUN + 1)}


def reference_runs() -> dict[tuple[str, ...], str]:
    """Every RUN consecutive code lines of a reference that no stub shows in a row -> its file."""
    shown = set().union(*(runs(code_lines(t.exercise().read_text(encoding="utf-8"))) for t in CURRICULUM.topics))
    found = {}
    for topic in CURRICULUM.topics:
        for run_ in runs(code_lines(topic.solution().read_text(encoding="utf-8"))) - shown:
            found.setdefault(run_, f"solutions/{topic.module_file}")
    return found


def test_no_run_of_reference_lines_in_the_release(built):
    """Short lines escape the line search above (`super().__init__()`, `self.tok_emb = ...`): three
    of them in a row, as the reference has them, are still the reference's code."""
    folder, archive, _ = built
    wanted = reference_runs()
    assert len(wanted) > 100, "the search found almost nothing to look for"
    with zipfile.ZipFile(archive) as zf:
        shipped = {info.filename: zf.read(info) for info in zf.infolist() if not info.is_dir()}
    leaks = []
    for name, data in sorted(shipped.items()):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        leaks += [(name, wanted[r], r) for r in runs(code_lines(text)) & wanted.keys()]
    assert not leaks, "reference code in the release:\n" + "\n".join(
        f"  {name}: {' / '.join(r)} (from {origin})" for name, origin, r in leaks[:10])


def test_the_run_search_sees_a_pasted_reference():
    reference = CURRICULUM.topics[0].solution().read_text(encoding="utf-8")
    assert runs(code_lines("x = 1\n" + reference)) & reference_runs().keys()


def test_the_release_stands_alone(unpacked):
    root = unpacked
    where = run(root, ".venv/bin/python", "-c", "import grader.learner.cli, grader.course.offline as o; print(grader.learner.cli.__file__, o.CACHE_DIR)")
    assert where.stdout.split() == [str(root / "grader" / "learner" / "cli.py"), str(root / "data" / "tiktoken-cache")], where.stdout
    assert (root / ".kata" / "stubs" / f"{CHECKED[0].slug}.py").exists(), "setup keeps the stubs for kata reset"

    stubs = run(root, "kata", "check")
    assert stubs.returncode == 1, stubs.stdout
    lines = stubs.stdout.splitlines()
    for topic in CHECKED:
        assert any(f" {topic.slug} " in line and line.rstrip().endswith("not started") for line in lines), (
            f"{topic.slug} is not 'not started' on the stub:\n{stubs.stdout}")
    assert not re.search(r"\b(failing|in progress)\b", stubs.stdout), stubs.stdout
    tasks = sum(len(t.tasks) for t in CHECKED)
    assert f"0 of {tasks} tasks done" in stubs.stdout, stubs.stdout

    hint = run(root, "kata", "hint", *MISTAKE[:1], "1")
    assert hint.returncode == 0 and "Hint 1 of" in hint.stdout, hint.stdout

    for module in (ROOT / "solutions").glob("*.py"):
        shutil.copy(module, root / "exercises" / module.name)
    solved = run(root, "kata", "check")
    assert solved.returncode == 0, solved.stdout
    assert f"All {tasks} tasks pass" in solved.stdout, solved.stdout
    pytest_run = run(root, "make", "test", f"TOPIC={CHECKED[0].slug}")
    assert pytest_run.returncode == 0 and " passed" in pytest_run.stdout, pytest_run.stdout

    topic = CURRICULUM[MISTAKE[0]]
    patch = next(p for p in catalogue(topic) if p.id == MISTAKE[1])
    (root / "exercises" / topic.module_file).write_text(mistaken_source(topic, patch), encoding="utf-8")
    mistaken = run(root, "make", "check", f"TOPIC={topic.slug}")
    assert mistaken.returncode != 0, mistaken.stdout
    assert same_words(topic.mistakes[patch.id].says) in same_words(mistaken.stdout), mistaken.stdout
