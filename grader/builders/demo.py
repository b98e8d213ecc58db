"""Build a class of submissions from a recipe: the demo class of `make grade`, and the large
generated class of `make bench`.

    python -m grader.builders.demo examples/class.toml examples/submissions
"""

from __future__ import annotations

import argparse
import io
import random
import shutil
import tomllib
import zipfile
from pathlib import Path

from ..course.curriculum import ROOT, Curriculum, load
from ..course.mistakes import catalogue, mistaken_source


def submission_files(curriculum: Curriculum, student: dict, files_dir: Path) -> dict[str, bytes]:
    """{path inside the submission: content} for one recipe entry."""
    base = curriculum.root / student.get("base", "solutions")
    files = {t.module_file: (base / t.module_file).read_bytes() for t in curriculum.topics}
    for slug in student.get("reference", []):
        files[curriculum[slug].module_file] = curriculum[slug].solution().read_bytes()
    for entry in student.get("mistakes", []):
        slug, mistake_id = entry.split(":")
        topic = curriculum[slug]
        patch = next(p for p in catalogue(topic) if p.id == mistake_id)
        files[topic.module_file] = mistaken_source(topic, patch).encode()
    for name, source in student.get("files", {}).items():
        files[name] = (files_dir / source).read_bytes()
    return files


def write_submission(out: Path, student: str, files: dict[str, bytes], layout: str = "flat") -> None:
    prefix = "exercises/" if layout == "exercises" else ""
    if layout == "zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, content in sorted(files.items()):
                zf.writestr(f"{student}/exercises/{name}", content)
        (out / f"{student}.zip").write_bytes(buffer.getvalue())
        return
    for name, content in files.items():
        path = out / student / prefix / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def build(recipe: Path, out: Path, curriculum: Curriculum | None = None) -> list[dict]:
    curriculum = curriculum or load()
    students = tomllib.loads(recipe.read_text(encoding="utf-8"))["student"]
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for student in students:
        files = submission_files(curriculum, student, recipe.parent / "files")
        write_submission(out, student["id"], files, student.get("layout", "flat"))
    return students


def generated_class(out: Path, size: int, seed: int = 0, curriculum: Curriculum | None = None) -> None:
    """A large class for benchmarks: references, stubs, catalogued mistakes and mixtures."""
    curriculum = curriculum or load()
    rng = random.Random(seed)
    patches = [(t, p) for t in curriculum.topics for p in catalogue(t)]
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for i in range(size):
        kind = ("reference", "stubs", "mistake", "mixed")[i % 4]
        if kind == "stubs":
            student = {"base": "exercises"}
        elif kind == "mistake":
            topic, patch = patches[rng.randrange(len(patches))]
            student = {"base": "solutions", "mistakes": [f"{topic.slug}:{patch.id}"]}
        elif kind == "mixed":
            done = rng.randint(1, len(curriculum.topics))
            student = {"base": "exercises", "reference": curriculum.slugs[:done]}
        else:
            student = {"base": "solutions"}
        files = submission_files(curriculum, student, ROOT / "examples" / "files")
        # Every submission differs by a comment, as real ones do: nothing may be shared by hash.
        files = {name: content + f"\n# student {i:04d}\n".encode() for name, content in files.items()}
        write_submission(out, f"student{i:04d}", files, "flat")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.builders.demo", description=__doc__.splitlines()[0])
    parser.add_argument("recipe", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    students = build(args.recipe, args.out)
    print(f"{len(students)} demo submissions written to {args.out}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
