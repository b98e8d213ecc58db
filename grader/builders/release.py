"""`make release`: the course as a learner gets it, without solutions.

    python -m grader.builders.release [--out dist]     # writes dist/student/ and dist/student.zip

What ships: the stubs (exercises/), the public checks with their fixtures (tests/), the hints,
curriculum.toml, pyproject.toml, the data (the corpus, GPT-2's ranks and their notice; the
tiktoken cache is rebuilt by the learner's `make setup`), scripts/train_tiny.py, and the
learner's folders of grader/ (course/, engine/, learner/: what `kata` and pytest run), so nothing
only an instructor needs (grading/: grader, sandbox, reports; builders/: demo, exporters) comes along.
A README, a Makefile and a .gitignore written for the learner (grader/builders/templates/student/)
replace the repository's.

What never ships: solutions/ (the references, the catalogue of mistakes, the hidden seeds),
examples/, grader/tests/. Mistakes are still named in the release: the fixtures store each
mistake's outputs, and what a mistake "says" lives in the hints.

The zip is deterministic (entries sorted, fixed timestamps and modes): two builds of the same
sources are byte for byte the same, so a release can be compared with the last one handed out.
"""

from __future__ import annotations

import argparse
import ast
import io
import shutil
import string
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..course.curriculum import ROOT, Curriculum, load
from ..course.files import write_atomic

TEMPLATES = Path(__file__).resolve().parent / "templates"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can store: no build date in the bytes
# The grader's folders a learner runs (the `kata` CLI, the pytest plugin, the checks' engine and
# the course), whole; never grading/ (the class grader, the sandbox) or builders/ (this module).
LEARNER_PACKAGES = ("course", "engine", "learner")
SHIPPED_AS_IS = ("curriculum.toml", "pyproject.toml", "LICENSE", "data/corpus.txt", "data/gpt2.tiktoken",
                 "data/NOTICE.md", "data/instructions.json", "data/sms_tiny.csv", "scripts/train_tiny.py",
                 "scripts/finetune_tiny.py")


@dataclass(frozen=True)
class Entry:
    data: bytes
    executable: bool = False


Files = dict[str, Entry]  # POSIX path inside the release -> content


def learner_modules(root: Path = ROOT) -> list[str]:
    """The grader modules the learner's tools need, by path under grader/: every module of the
    learner's folders (grader/tests/test_layout.py proves they import nothing else of grader)."""
    grader = root / "grader"
    return sorted(path.relative_to(grader).as_posix() for package in LEARNER_PACKAGES
                  for path in (grader / package).rglob("*.py") if "__pycache__" not in path.parts)


NOT_SHIPPED = ('raise NotImplementedError("computed by the instructor\'s grader only: a variant is the reference '
               'computed another way, so it does not ship")')
KEEP_IN_VARIANT_MATH = ("with_last_token_changed",)  # plumbing the checks call at import; no maths


def for_learners(relative: str, data: bytes) -> bytes:
    """What a file of the course becomes in the learner's copy (the release and the notebooks'
    support/): a check's declared variants (tests/test_*.py, functions under @variant) and the
    attention, LayerNorm and GELU maths they share (grader/variant_math.py) keep their names and
    signatures, but their bodies only raise, since each is the reference computed with one knob
    turned. The judge skips a variant that raises, so the learner's checks only lose the naming
    of mistakes nobody catalogued; the instructor's grader names them."""
    if relative == "grader/engine/variant_math.py":
        return strip_bodies(data.decode("utf-8"), lambda fn: fn.name not in KEEP_IN_VARIANT_MATH).encode()
    if relative.startswith("tests/test_") and relative.endswith(".py"):
        return strip_bodies(data.decode("utf-8"), lambda fn: any(
            isinstance(d, ast.Call) and getattr(d.func, "id", "") == "variant" for d in fn.decorator_list)).encode()
    return data


def strip_bodies(source: str, chosen) -> str:
    """`source` with the body (after any docstring) of each chosen top-level function replaced by
    one `raise`, every other line as it was."""
    lines = source.splitlines(keepends=True)
    spans = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and chosen(node):
            body = node.body[1:] if ast.get_docstring(node) is not None else node.body
            if body:
                spans.append((body[0].lineno, node.end_lineno, " " * body[0].col_offset))
    for start, end, indent in reversed(spans):
        lines[start - 1:end] = [f"{indent}{NOT_SHIPPED}\n"]
    return "".join(lines)


def topics_table(curriculum: Curriculum) -> str:
    rows = ["| # | topic | book | you write |", "|---|---|---|---|"]
    for number, topic in enumerate(curriculum.topics, 1):
        names = dict.fromkeys(name.split(".")[0] for task in topic.tasks for name in task.api)
        rows.append(f"| {number} | `{topic.slug}` | {topic.chapter} | {', '.join(f'`{n}`' for n in names)} |")
    return "\n".join(rows)


def student_readme(curriculum: Curriculum) -> str:
    template = string.Template((TEMPLATES / "student" / "README.md").read_text(encoding="utf-8"))
    return template.substitute(topics=topics_table(curriculum), count=len(curriculum.topics),
                               first=curriculum.topics[0].slug)


def release_files(root: Path = ROOT) -> Files:
    """Every file of the learner's release, by its path in the release."""
    curriculum = load(root)
    files: Files = {}

    def take(path: Path) -> None:
        relative = path.relative_to(root).as_posix()
        files[relative] = Entry(for_learners(relative, path.read_bytes()))

    for name in SHIPPED_AS_IS:
        take(root / name)
    for topic in curriculum.topics:
        take(topic.exercise())
        take(topic.hints_file())
        trace = topic.fixture_file().with_name(f"{topic.slug}.trace.json")  # grader.engine.cases.trace_file
        for optional in (topic.test_file(), topic.fixture_file(), trace):  # a topic may have no checks yet
            if optional.exists():
                take(optional)
    for module in learner_modules(root):
        take(root / "grader" / module)
    files["README.md"] = Entry(student_readme(curriculum).encode())
    files["Makefile"] = Entry((TEMPLATES / "student" / "Makefile").read_bytes())
    files[".gitignore"] = Entry((TEMPLATES / "student" / "gitignore").read_bytes())
    return files


def write_tree(files: Files, folder: Path) -> None:
    """The files as a folder, replacing whatever was there."""
    if folder.exists():
        shutil.rmtree(folder)
    for name in sorted(files):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[name].data)
        path.chmod(0o755 if files[name].executable else 0o644)


def write_zip(files: Files, target: Path, prefix: str = "") -> None:
    """A deterministic zip: sorted entries, one fixed timestamp, fixed modes; written atomically."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(prefix + name, date_time=ZIP_TIME)
            info.create_system = 3  # Unix, so the modes below are read back
            info.external_attr = (0o100755 if files[name].executable else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name].data, compresslevel=9)
    write_atomic(target, buffer.getvalue())


def extract(archive: Path, folder: Path) -> None:
    """Unpack a zip written by `write_zip`, keeping the executable bits (zipfile drops them)."""
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            path = Path(zf.extract(info, folder))
            if not info.is_dir():
                path.chmod(0o755 if (info.external_attr >> 16) & 0o100 else 0o644)


def build(out: Path) -> tuple[Path, Path]:
    files = release_files()
    folder, archive = out / "student", out / "student.zip"
    write_tree(files, folder)
    write_zip(files, archive, prefix="student/")
    return folder, archive


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.builders.release", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="output folder (default: dist)")
    args = parser.parse_args(argv)
    folder, archive = build(args.out)
    count = sum(1 for p in folder.rglob("*") if p.is_file())
    print(f"Release for learners: {folder}/ ({count} files) and {archive} ({archive.stat().st_size:,} bytes).")
    print("No solutions, mistakes' patches, hidden seeds or examples inside; hand out either one.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
