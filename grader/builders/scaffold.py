"""`make topic`: a new topic's files and curriculum entry, starting as "stub fails, reference passes".

    python -m grader.builders.scaffold SLUG --title "Layer normalisation" --chapter "4.2" [--depends a,b]

Writes exercises/SLUG.py (the stub), solutions/SLUG.py (the reference), tests/test_SLUG.py (one
check on seeded inputs), hints/SLUG.toml (three hints, what each mistake says) and
solutions/mistakes/SLUG.toml (three catalogued mistakes), appends a [[topic]] entry to
curriculum.toml, then builds tests/fixtures/SLUG.safetensors (python -m grader.builders.fixtures SLUG).
The topic holds one placeholder task, `row_means`, that passes every proof of `make test`:
replace it with the topic's real tasks (CONTRIBUTING.md says how).

It refuses a slug that is not a lowercase Python identifier, a slug the curriculum already has or
whose files exist, and a dependency the curriculum does not have; then it writes nothing. If the
fixture cannot be built, every file it wrote is removed and curriculum.toml is restored.

The module needs only the standard library and the files it writes: it finds the repository by
walking up to curriculum.toml.
"""

from __future__ import annotations

import argparse
import json
import keyword
import re
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

FIXTURES_MODULE = "grader.builders.fixtures"  # run as `python -m`, in the repository, to build the fixture


class Refused(Exception):
    """The topic cannot be scaffolded as asked; nothing was written."""


def repository_root(start: Path = Path(__file__).resolve()) -> Path:
    for folder in start.parents:
        if (folder / "curriculum.toml").is_file():
            return folder
    raise Refused(f"no curriculum.toml above {start}")


def topic_files(root: Path, slug: str) -> dict[str, Path]:
    """Every file a topic has, by what it is (the paths curriculum.toml's header lists)."""
    return {"stub": root / "exercises" / f"{slug}.py",
            "reference": root / "solutions" / f"{slug}.py",
            "checks": root / "tests" / f"test_{slug}.py",
            "hints": root / "hints" / f"{slug}.toml",
            "mistakes": root / "solutions" / "mistakes" / f"{slug}.toml",
            "fixture": root / "tests" / "fixtures" / f"{slug}.safetensors"}


# ---------------------------------------------------------------------------------------------
# The placeholder topic. `{slug}`, `{title}`, `{chapter}` and `{number}` are filled in; doubled
# braces are literal ones. The stub's `>>>` example holds for the reference (test_examples), the
# three mistakes fail the check and are named by it (test_suite), and returning the input, zeros,
# a constant or the docstring's example earns nothing (test_trivial).

STUB = '''\
"""{title} (book section {chapter}).

TODO: what the learner builds in this topic and why, in two or three sentences.

Check your work: kata check {slug}   (or make check TOPIC={slug})
"""

import torch


def row_means(x: torch.Tensor) -> torch.Tensor:
    """Task 1. A placeholder task: the mean of each row of `x`. Replace it with the topic's first task.

    means[i] = (x[i, 0] + ... + x[i, num_cols - 1]) / num_cols.

    Shapes: x (num_rows, num_cols) -> means (num_rows,).

    >>> row_means(torch.tensor([[1.0, 2.0, 3.0], [4.0, 6.0, 8.0]]))
    tensor([2., 6.])
    """
    raise NotImplementedError("{slug} task 1: row_means")
'''

REFERENCE = '''\
"""{title} (book section {chapter}).

TODO: the reference, written to be read top to bottom: the same names and API as the stub.
"""

import torch


def row_means(x: torch.Tensor) -> torch.Tensor:
    # A placeholder: one value per row, averaged over the columns (the last dimension).
    means = x.mean(dim=-1)  # (num_rows, num_cols) -> (num_rows,)
    return means
'''

CHECKS = '''\
"""Checks for topic {number}, {title} (book section {chapter})."""

import torch

from grader.engine.checks import check, generator, sizes

DIMS = ("num_rows",)


def matrix(seed: int) -> dict:
    """Seed 0 is the public case, stored in tests/fixtures; every other seed is a hidden case of
    the grader, with other values and other sizes. Every dimension a different size, so that a
    mean over the wrong dimension fails on shape."""
    n = sizes(seed, num_rows=5, num_cols=3)
    return {{"x": torch.randn(n["num_rows"], n["num_cols"], generator=generator(seed))}}


# Task 1 ---------------------------------------------------------------------------------------

@check(task=1, inputs=matrix, dims=DIMS)
def row_means_match(m, x):
    """row_means(x) with x of shape (num_rows=5, num_cols=3): the mean of each row"""
    return m.row_means(x)
'''

MISTAKES = '''\
# Realistic wrong versions of solutions/{slug}.py. Each `find` occurs exactly once there.

[[mistake]]
id = "mean_over_the_rows"
replace = [
  ["x.mean(dim=-1)", "x.mean(dim=0)"],
]

[[mistake]]
id = "sum_not_mean"
replace = [
  ["x.mean(dim=-1)", "x.sum(dim=-1)"],
]

[[mistake]]
id = "mean_of_everything"
replace = [
  ["x.mean(dim=-1)", "x.mean()"],
]
'''

HINTS = '''\
[task.1]
hints = [
  "A mean adds up the values and divides by how many there are. Here there is one mean per row.",
  "x.mean takes a `dim` argument: the dimension it averages over, which leaves the shape. Which one holds a row's values?",
  "Average over the last dimension, the columns: x.mean(dim=-1) turns (num_rows, num_cols) into (num_rows,).",
]

[mistake.mean_over_the_rows]
task = 1
hint = 3
says = "your means run down each column (over dim 0), one per column; a row's mean is over the last dimension"

[mistake.sum_not_mean]
task = 1
hint = 1
says = "you add up each row but never divide by the number of columns: that is the row's sum, not its mean"

[mistake.mean_of_everything]
task = 1
hint = 2
says = "you return one mean of the whole tensor; a row mean averages over the last dimension only, one value per row"
'''

ENTRY = '''
[[topic]]
slug = {slug_toml}
title = {title_toml}
chapter = {chapter_toml}
depends = [{depends_toml}]

  [[topic.task]]
  id = 1
  title = "A placeholder task: the mean of each row"
  api = ["row_means"]
  points = 1
'''


def _toml_string(text: str) -> str:
    # A JSON string is a TOML basic string for printable text; check_text refuses the rest.
    return json.dumps(text, ensure_ascii=False)


def check_text(what: str, text: str) -> str:
    text = text.strip()
    if not text:
        raise Refused(f"the {what} is empty")
    if any(not ch.isprintable() for ch in text) or "\\" in text or '"""' in text:
        raise Refused(f"the {what} {text!r} holds a control character, a backslash or \"\"\"; "
                      "it goes into docstrings: write it plainly")
    return text


def plan(root: Path, slug: str, title: str, chapter: str, depends: list[str]) -> dict[Path, str]:
    """Every file to write with its new text (curriculum.toml with the entry appended), or Refused."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", slug) or keyword.iskeyword(slug):
        raise Refused(f"{slug!r} is not a topic slug: a lowercase Python identifier (letters, digits, "
                      "underscores; not a keyword), since it names the module exercises/<slug>.py")
    title, chapter = check_text("title", title), check_text("chapter", chapter)
    curriculum_file = root / "curriculum.toml"
    curriculum_text = curriculum_file.read_text(encoding="utf-8")
    known = [t["slug"] for t in tomllib.loads(curriculum_text).get("topic", [])]
    if slug in known:
        raise Refused(f"the curriculum already has a topic {slug!r}")
    files = topic_files(root, slug)
    present = [p.relative_to(root).as_posix() for p in files.values() if p.exists()]
    if present:
        raise Refused(f"{slug!r} is not in the curriculum, but its files exist: {', '.join(present)}")
    unknown = [d for d in depends if d not in known]
    if unknown:
        raise Refused(f"--depends names no topic of the curriculum: {', '.join(unknown)} (the topics: {', '.join(known)})")

    fill = dict(slug=slug, title=title, chapter=chapter, number=len(known) + 1)
    entry = ENTRY.format(slug_toml=_toml_string(slug), title_toml=_toml_string(title),
                         chapter_toml=_toml_string(chapter), depends_toml=", ".join(map(_toml_string, depends)))
    new_curriculum = curriculum_text.rstrip("\n") + "\n" + entry
    added = tomllib.loads(new_curriculum)["topic"][-1]  # the entry reads back as written
    assert (added["slug"], added["title"], added["chapter"], added["depends"]) == (slug, title, chapter, depends), added
    return {files["stub"]: STUB.format(**fill), files["reference"]: REFERENCE.format(**fill),
            files["checks"]: CHECKS.format(**fill), files["hints"]: HINTS.format(**fill),
            files["mistakes"]: MISTAKES.format(**fill), curriculum_file: new_curriculum}


def build_fixture(root: Path, slug: str) -> subprocess.CompletedProcess:
    """`python -m grader.builders.fixtures SLUG` in the repository (its cwd puts that grader first on sys.path)."""
    return subprocess.run([sys.executable, "-m", FIXTURES_MODULE, slug], cwd=root, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def scaffold(root: Path, slug: str, title: str, chapter: str, depends: Sequence[str] = (),
             fixture: bool = True) -> list[Path]:
    """Write the topic's files, append its curriculum entry, build its fixture; the paths written."""
    depends = list(depends)
    writes = plan(root, slug, title, chapter, depends)
    curriculum_file = root / "curriculum.toml"
    before = curriculum_file.read_bytes()
    written: list[Path] = []
    try:
        for path, text in writes.items():
            if path != curriculum_file:
                path.parent.mkdir(parents=True, exist_ok=True)
                with path.open("x", encoding="utf-8") as out:  # never over a file that appeared meanwhile
                    written.append(path)
                    out.write(text)
        curriculum_file.write_text(writes[curriculum_file], encoding="utf-8")
        if fixture:
            built = build_fixture(root, slug)
            if built.returncode != 0:
                raise RuntimeError(f"python -m {FIXTURES_MODULE} {slug} failed:\n{built.stdout}")
            written.append(topic_files(root, slug)["fixture"])
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        topic_files(root, slug)["fixture"].unlink(missing_ok=True)
        curriculum_file.write_bytes(before)
        raise
    return written


NEXT_STEPS = """\
Topic {slug} scaffolded: its stub fails and its reference passes. Now
  1. replace the placeholder task row_means in all five files and the curriculum entry
     with the topic's tasks (CONTRIBUTING.md, "Adding a topic");
  2. make fixtures TOPIC={slug}
  3. .venv/bin/python -m pytest tests/test_{slug}.py --impl solutions -q   (passes)
     .venv/bin/python -m pytest grader/tests/test_suite.py grader/tests/test_trivial.py \\
         grader/tests/test_examples.py -q -k {slug}                           (the per-topic proofs)
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.builders.scaffold", description=__doc__.splitlines()[0])
    parser.add_argument("slug", help="the topic's module name, e.g. layer_norm")
    parser.add_argument("--title", required=True, help="what the topic is about, e.g. \"Layer normalisation\"")
    parser.add_argument("--chapter", required=True, help="the book's section(s), e.g. 4.2 or 2.4-2.5")
    parser.add_argument("--depends", default="", help="comma-separated slugs of the topics it builds on")
    args = parser.parse_args(argv)
    depends = [d.strip() for d in args.depends.split(",") if d.strip()]
    root = repository_root()
    try:
        written = scaffold(root, args.slug, args.title, args.chapter, depends)
    except Refused as why:
        print(f"Not scaffolded: {why}.", file=sys.stderr)
        return 2
    except RuntimeError as why:
        print(f"Not scaffolded (everything written was removed): {why}", file=sys.stderr)
        return 1
    for path in written:
        print(f"  wrote {path.relative_to(root)}")
    print(f"  appended [[topic]] {args.slug} to curriculum.toml")
    print(NEXT_STEPS.format(slug=args.slug))
    return 0


if __name__ == "__main__":
    sys.exit(main())
