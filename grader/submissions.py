"""Taking in a class: one entry per student, untrusted, read as bytes and never executed here.

A class folder holds, per student, a folder (topic modules flat, or in `exercises/`, possibly
inside one wrapper folder) or a `.zip` of such a folder. Only the curriculum's topic modules
are taken: regular files, UTF-8, at most MAX_FILE bytes, found at the shallowest depth.
Everything else (conftest.py, pytest.ini, .pth, sitecustomize.py, __pycache__, symlinks,
torch.py, ...) is ignored and reported, so nothing but the topic modules reaches a worker.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MAX_FILE = 256 * 1024
MAX_ENTRIES = 2000
MAX_DEPTH = 4
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")
# The class's own outputs live beside the students' folders: a student named so would take their place.
RESERVED_IDS = frozenset({"gradebook.csv", "class_report.md", "class_report.html"})


@dataclass
class Submission:
    student: str
    files: dict[str, bytes] = field(default_factory=dict)
    ignored: list[tuple[str, str]] = field(default_factory=list)  # (path, why)
    error: str = ""

    def digest(self) -> str:
        h = hashlib.sha256()
        for name in sorted(self.files):
            h.update(name.encode() + b"\0" + hashlib.sha256(self.files[name]).digest())
        return h.hexdigest()


def _why_ignored(name: str) -> str:
    lower = name.lower()
    if lower in ("conftest.py", "pytest.ini", "pyproject.toml", "setup.cfg", "tox.ini", "sitecustomize.py",
                 "usercustomize.py", "__init__.py"):
        return "never used: only topic modules are graded"
    if lower.endswith((".pth", ".pyc", ".so")):
        return "never used: not a topic module"
    if lower.endswith(".py"):
        return "not a topic module of the curriculum"
    return "not a Python module"


class _Intake:
    def __init__(self, student: str, modules: set[str]):
        self.sub = Submission(student)
        self.modules = modules
        self.depth: dict[str, int] = {}

    def offer(self, path: PurePosixPath, size: int, read) -> None:
        name = path.name
        if "__pycache__" in path.parts:
            return self.sub.ignored.append((str(path), "never used: compiled cache"))
        if name not in self.modules:
            return self.sub.ignored.append((str(path), _why_ignored(name)))
        if size > MAX_FILE:
            return self.sub.ignored.append((str(path), f"too large ({size:,} bytes; at most {MAX_FILE:,})"))
        depth = len(path.parts)
        if name in self.depth and self.depth[name] <= depth:
            return self.sub.ignored.append((str(path), "another copy of this module was taken instead"))
        data = read(MAX_FILE + 1)
        if len(data) > MAX_FILE:
            return self.sub.ignored.append((str(path), "too large"))
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return self.sub.ignored.append((str(path), "not UTF-8 text"))
        self.depth[name] = depth
        self.sub.files[name] = data


def read_folder(folder: Path, student: str, modules: set[str]) -> Submission:
    intake = _Intake(student, modules)
    seen = 0
    for current, dirs, files in os.walk(folder, followlinks=False):
        rel = Path(current).relative_to(folder)
        if len(rel.parts) >= MAX_DEPTH:
            dirs[:] = []
        for entry in sorted(dirs):
            if (Path(current) / entry).is_symlink():
                intake.sub.ignored.append((str(rel / entry), "symlink: never followed"))
        dirs[:] = sorted(d for d in dirs if not (Path(current) / d).is_symlink())
        for name in sorted(files):
            seen += 1
            if seen > MAX_ENTRIES:
                intake.sub.error = f"more than {MAX_ENTRIES} files; the rest were not read"
                return intake.sub
            path = Path(current) / name
            info = path.lstat()
            if not stat.S_ISREG(info.st_mode):
                intake.sub.ignored.append((str(rel / name), "symlink or special file: never followed"))
                continue

            def read(limit: int, _path=path) -> bytes:
                fd = os.open(_path, os.O_RDONLY | os.O_NOFOLLOW)
                with os.fdopen(fd, "rb") as f:
                    return f.read(limit)
            intake.offer(PurePosixPath(*(rel / name).parts), info.st_size, read)
    return intake.sub


def read_zip(archive: Path, student: str, modules: set[str]) -> Submission:
    intake = _Intake(student, modules)
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            if len(members) > MAX_ENTRIES:
                intake.sub.error = f"the zip holds more than {MAX_ENTRIES} entries"
                return intake.sub
            for info in members:
                path = PurePosixPath(info.filename)
                if info.is_dir():
                    continue
                if path.is_absolute() or ".." in path.parts or len(path.parts) > MAX_DEPTH + 1:
                    intake.sub.ignored.append((info.filename, "unsafe path in the zip"))
                    continue
                if stat.S_ISLNK(info.external_attr >> 16):
                    intake.sub.ignored.append((info.filename, "symlink: never followed"))
                    continue

                def read(limit: int, _info=info) -> bytes:
                    with zf.open(_info) as f:
                        return f.read(limit)
                intake.offer(path, info.file_size, read)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError) as err:
        intake.sub.error = f"the zip cannot be read ({type(err).__name__}: {err})"
    return intake.sub


def read_class(folder: Path, modules: set[str]) -> tuple[list[Submission], list[tuple[str, str]]]:
    """Every student's submission, sorted by id, and the entries that are not a submission."""
    submissions, skipped = [], []
    for entry in sorted(folder.iterdir()):
        student = entry.name[:-4] if entry.name.lower().endswith(".zip") else entry.name
        if entry.name.startswith("."):
            continue
        if not STUDENT_ID.match(student):
            skipped.append((entry.name, "not a usable student id (letters, digits, . _ @ + -)"))
        elif student.lower() in RESERVED_IDS:
            skipped.append((entry.name, "not a usable student id (the name of a class report)"))
        elif entry.is_symlink():
            skipped.append((entry.name, "symlink: never followed"))
        elif entry.is_dir():
            submissions.append(read_folder(entry, student, modules))
        elif entry.is_file() and entry.name.lower().endswith(".zip"):
            submissions.append(read_zip(entry, student, modules))
        else:
            skipped.append((entry.name, "neither a folder nor a .zip"))
    ids = [s.student for s in submissions]
    for sub in submissions:
        if ids.count(sub.student) > 1:
            sub.error = "two entries for this student (a folder and a zip?)"
    return submissions, skipped
