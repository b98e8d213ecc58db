"""Taking in a class: one entry per student, untrusted, read as bytes and never executed here.

A class folder holds, per student, a folder (topic modules flat, or in `exercises/`, possibly
inside one wrapper folder) or a `.zip` of such a folder. It may also be a learning platform's
bulk download, read per student:
- Canvas ("Download Submissions"): every file loose in one folder, named `<sortable name>_<user
  id>_<submission id>_<file name>`, with `_LATE` (or `_late`) after the name for a late one; the
  student is `<sortable name>_<user id>`, and Canvas's `-1` on a file uploaded again under the
  same name (`causal_attention-1.py`) is dropped;
- Moodle ("Download all submissions"): a folder per participant, `<full name>_<participant
  id>_assignsubmission_file_`, or the same prefix on each loose file; the student is the name with
  anything but letters, digits and . _ @ + - turned into `-`, then `_<participant id>`. Only the curriculum's topic modules
are taken: regular files, UTF-8, at most MAX_FILE bytes, found at the shallowest depth (as they
are: Python reads a byte-order mark and Windows line ends, and test_intake proves them graded as
the clean file is).
A Jupyter notebook named after a topic (`causal_attention.ipynb`, or a browser's copy of it) is
that topic's module: the functions, classes, imports and module-level assignments of its code
cells, read as JSON and never run here; magics and shell lines (`%`, `!`) and every other
top-level statement are dropped and listed. One notebook per topic, named after it: a notebook
named otherwise (`week3.ipynb`) is not read, since which of its definitions is which topic's
would be a guess. The module as a `.py` file, beside its notebook, is taken instead of it.
Everything else (conftest.py, pytest.ini, .pth, sitecustomize.py, __pycache__, symlinks,
torch.py, ...) is ignored and reported, so nothing but the topic modules reaches a worker.

Reading one entry never stops the class: an entry that cannot be read (a corrupt zip, a file the
grader may not open, a name that is not UTF-8) becomes a submission with an `error`, and every
other student is read as usual. Two entries for one id (a folder and a zip) are both refused.
"""

from __future__ import annotations

import ast
import hashlib
import json
import lzma
import os
import re
import stat
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MAX_FILE = 256 * 1024
MAX_NOTEBOOK = 8 * 1024 * 1024  # a notebook carries its outputs (plots); its code is at most MAX_FILE
MAX_ENTRIES = 2000
MAX_DEPTH = 4
# Matched whole (fullmatch): "$" would let a trailing newline through, and a look-alike row in.
STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")
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
        if self.error:  # an entry that could not be read is read again once it can be
            h.update(b"error\0" + self.error.encode("utf-8", "backslashreplace"))
        return h.hexdigest()


# What reading a zip may raise on a corrupt or strange archive: a bad deflate or LZMA stream, a
# name flagged UTF-8 that is not, an unsupported method, a truncated file.
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, struct.error, UnicodeDecodeError, OSError,
              RuntimeError, NotImplementedError, EOFError, ValueError, OverflowError)


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def shown(name: str) -> str:
    """A file or entry name as a person can find it: bytes that are not UTF-8 as \\xff, control
    characters (a newline among them) as \\x0a, so that no name can pass for another line."""
    text = os.fsencode(name).decode("utf-8", "backslashreplace") if isinstance(name, str) else str(name)
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256 else f"\\u{ord(m.group()):04x}",
                        text)


def _why_ignored(name: str) -> str:
    lower = name.lower()
    if lower in ("conftest.py", "pytest.ini", "pyproject.toml", "setup.cfg", "tox.ini", "sitecustomize.py",
                 "usercustomize.py", "__init__.py"):
        return "never used: only topic modules are graded"
    if lower.endswith((".pth", ".pyc", ".so")):
        return "never used: not a topic module"
    if lower.endswith(".py"):
        return "not a topic module of the curriculum"
    if lower.endswith(".ipynb"):
        return "a notebook is read only when named after its topic (causal_attention.ipynb): one per topic"
    return "not a Python module"


class _Intake:
    def __init__(self, student: str, modules: set[str]):
        self.sub = Submission(student)
        self.modules = modules
        self.depth: dict[str, float] = {}
        self.taken: dict[str, str] = {}  # the path each module was taken from

    def offer(self, path: PurePosixPath, size: int, read) -> None:
        name, path = path.name, PurePosixPath(shown(str(path)))
        if "__pycache__" in path.parts:
            return self.sub.ignored.append((str(path), "never used: compiled cache"))
        depth: float = len(path.parts)
        notebook = name.lower().endswith(".ipynb") and name[:-6] + ".py" in self.modules
        if notebook:  # causal_attention.ipynb: the module its code cells define
            name = name[:-6] + ".py"
            depth += 0.25  # the module as a .py file, beside it, is taken instead
        renamed = RENAMED.fullmatch(name) if name not in self.modules else None
        if renamed and renamed["stem"] + ".py" in self.modules:
            notebook = renamed["suffix"].lower() == ".ipynb"
            name = renamed["stem"] + ".py"  # a browser's "tokenizer (1).py": taken when alone
            depth += 0.5  # the module under its own name, beside it, is taken instead
        if name not in self.modules:
            return self.sub.ignored.append((str(path), _why_ignored(name)))
        limit = MAX_NOTEBOOK if notebook else MAX_FILE
        if size > limit:
            return self.sub.ignored.append((str(path), f"too large ({size:,} bytes; at most {limit:,})"))
        if name in self.depth and self.depth[name] <= depth:
            return self.sub.ignored.append((str(path), "another copy of this module was taken instead"))
        if name in self.depth:  # this one is nearer the top, or has the module's own name
            self.sub.ignored.append((self.taken[name], "another copy of this module was taken instead"))
        try:
            data = read(limit + 1)
        except ZIP_ERRORS as err:
            why = f"cannot be read ({_reason(err)})"
            self.sub.error = self.sub.error or f"{path} {why}: ask for it again"
            return self.sub.ignored.append((str(path), why))
        if len(data) > limit:
            return self.sub.ignored.append((str(path), "too large"))
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return self.sub.ignored.append((str(path), "not UTF-8 text"))
        if notebook:
            try:
                data, dropped = notebook_module(data, str(path))
            except (NotebookError, RecursionError, MemoryError) as err:
                return self.sub.ignored.append((str(path), str(err)))
            if len(data) > MAX_FILE:
                return self.sub.ignored.append((str(path), f"its code is too large (at most {MAX_FILE:,} bytes)"))
            self.sub.ignored += dropped
        self.depth[name], self.taken[name] = depth, str(path)
        self.sub.files[name] = data


class NotebookError(ValueError):
    """Why a notebook gives no module (the reason listed for the student)."""


# Top-level statements taken from a notebook's code cells: what a module is made of. Everything
# else (a call, a training loop, a print) is a cell's work, not the module's, and is dropped.
DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom, ast.Assign,
               ast.AnnAssign)


def notebook_module(data: bytes, where: str) -> tuple[bytes, list[tuple[str, str]]]:
    """The module a Jupyter notebook (format 4, read as JSON; nothing in it is run) defines: the
    functions, classes, imports and module-level assignments of its code cells, in order, each
    under a `# code cell N` line (N counts code cells only); and (entry, why) for what was dropped: IPython magics and shell
    lines (`%`, `%%`, `!`), cells that are not Python, and other top-level statements."""
    try:
        notebook = json.loads(data)
        cells = notebook["cells"] if isinstance(notebook, dict) and notebook.get("nbformat") == 4 else None
    except (ValueError, RecursionError, KeyError) as err:
        raise NotebookError(f"not a readable notebook ({_reason(err)})") from None
    if not isinstance(cells, list):
        raise NotebookError("not a Jupyter notebook of format 4 (save it again from Jupyter, or submit the .py file)")
    parts, dropped = [f"# The code of {PurePosixPath(where).name}: its functions, classes, imports and assignments."], []
    number = 0
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        number += 1
        source = cell.get("source", "")
        source = "".join(s for s in source if isinstance(s, str)) if isinstance(source, list) else str(source)
        source = source.replace("\r\n", "\n")
        if source.lstrip().startswith("%%"):
            dropped.append((f"{where}: code cell {number}", "an IPython cell magic (%%): not Python, dropped"))
            continue
        lines = source.split("\n")
        magics = [i for i, line in enumerate(lines) if line.lstrip().startswith(("%", "!"))]
        for i in magics:
            lines[i] = ""
        if magics:
            dropped.append((f"{where}: code cell {number}", f"{len(magics)} IPython magic or shell line"
                                                       f"{'s' * (len(magics) > 1)} (% or !): not Python, dropped"))
        taken, others = _definitions("\n".join(lines))
        if taken is None:
            dropped.append((f"{where}: code cell {number}", f"not valid Python ({others}): dropped"))
            continue
        if others:
            dropped.append((f"{where}: code cell {number}", f"{others} statement{'s' * (others > 1)} that "
                                                       f"define{'s' * (others == 1)} nothing (a call, a loop, a print): "
                                                       "dropped, only definitions are taken"))
        if taken:
            parts += ["", f"# code cell {number}", taken]
    return ("\n".join(parts) + "\n").encode("utf-8"), dropped


def _definitions(source: str) -> tuple[str | None, int | str]:
    """(the text of the cell's top-level definitions, how many other statements) or (None, why)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as err:
        return None, type(err).__name__ + (f" on line {err.lineno}" if getattr(err, "lineno", None) else "")
    lines = source.split("\n")
    spans = [(min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]), node.end_lineno or node.lineno)
             for node in tree.body]
    kept, others = [], 0
    for index, node in enumerate(tree.body):
        if not isinstance(node, DEFINITIONS):
            docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            others += not docstring  # a string alone does nothing: not worth a note
            continue
        start, end = spans[index]
        shared = any(s <= end and start <= e for j, (s, e) in enumerate(spans) if j != index)
        # A statement sharing a line with another (`x = 1; print(x)`) is written out alone.
        kept.append(ast.unparse(node) if shared else "\n".join(lines[start - 1:end]))
    return "\n\n".join(kept), others


def _reason(err: BaseException) -> str:
    kind = type(err).__name__ if type(err).__module__ == "builtins" else f"{type(err).__module__}.{type(err).__name__}"
    return f"{kind}: {shown(str(err))}"[:300]


def _read_regular(path: Path, limit: int) -> bytes:
    """At most `limit` bytes of a regular file; never follows a link nor waits on a FIFO or a
    device put there after it was listed."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError("not a regular file any more")
        return f.read(limit)


def read_folder(folder: Path, student: str, modules: set[str]) -> Submission:
    intake = _Intake(student, modules)
    seen = 0
    for current, dirs, files in os.walk(folder, followlinks=False):
        rel = Path(current).relative_to(folder)
        if len(rel.parts) >= MAX_DEPTH:
            dirs[:] = []
        for entry in sorted(dirs):
            if (Path(current) / entry).is_symlink():
                intake.sub.ignored.append((shown(str(rel / entry)), "symlink: never followed"))
        dirs[:] = sorted(d for d in dirs if not (Path(current) / d).is_symlink())
        for name in sorted(files):
            seen += 1
            if seen > MAX_ENTRIES:
                intake.sub.error = f"more than {MAX_ENTRIES} files; the rest were not read"
                return intake.sub
            path = Path(current) / name
            try:
                info = path.lstat()
            except OSError as err:
                intake.sub.ignored.append((shown(str(rel / name)), f"cannot be read ({_reason(err)})"))
                continue
            if not stat.S_ISREG(info.st_mode):
                intake.sub.ignored.append((shown(str(rel / name)), "symlink or special file: never followed"))
                continue
            intake.offer(PurePosixPath(*(rel / name).parts), info.st_size,
                         lambda limit, _path=path: _read_regular(_path, limit))
    return intake.sub


CENTRAL_DIRECTORY_CAP = MAX_ENTRIES * (46 + 1024)  # bytes: a header and a long name per entry


def _declared_size(archive: Path) -> tuple[int, int] | None:
    """(entries, central directory bytes) as the zip's end record declares them, read from its
    last 64 KiB without parsing the directory (zipfile would build every entry first: a 141 MB
    directory of 3 million entries took the grader to 1.4 GB). None if there is no such record."""
    with open(archive, "rb") as f:
        f.seek(0, 2)
        size = f.tell()
        f.seek(max(0, size - (1 << 16) - 22))
        tail = f.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return None
    entries, directory = int.from_bytes(tail[at + 10:at + 12], "little"), int.from_bytes(tail[at + 12:at + 16], "little")
    if entries == 0xFFFF or directory == 0xFFFFFFFF:  # zip64: the real figures are elsewhere, and large
        return (MAX_ENTRIES + 1, directory)
    return entries, directory


def read_zip(archive: Path, student: str, modules: set[str]) -> Submission:
    intake = _Intake(student, modules)
    try:
        declared = _declared_size(archive)
        if declared is not None and (declared[0] > MAX_ENTRIES or declared[1] > CENTRAL_DIRECTORY_CAP):
            intake.sub.error = (f"the zip declares {declared[0]:,} entries in a {declared[1]:,}-byte directory "
                                f"(at most {MAX_ENTRIES} entries): not read")
            return intake.sub
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
                    intake.sub.ignored.append((shown(info.filename), "unsafe path in the zip"))
                    continue
                if stat.S_ISLNK(info.external_attr >> 16):
                    intake.sub.ignored.append((shown(info.filename), "symlink: never followed"))
                    continue

                def read(limit: int, _info=info) -> bytes:
                    with zf.open(_info) as f:
                        return f.read(limit)
                intake.offer(path, info.file_size, read)
    except ZIP_ERRORS as err:
        intake.sub.error = f"the zip cannot be read ({_reason(err)})"
    return intake.sub


# A platform's name for one student's file or folder (see the module's docstring).
CANVAS = re.compile(r"(?P<name>[A-Za-z0-9-]+?)(?:_late)?_(?P<user>\d+)_(?P<submission>\d+)_(?P<file>.+)", re.I)
MOODLE = re.compile(r"(?P<name>.+?)_(?P<user>\d+)_assignsubmission_[a-z]+_?(?P<file>.*)")
RENAMED = re.compile(r"(?P<stem>.+?)(?:-\d+| \(\d+\))(?P<suffix>\.py|\.ipynb)", re.I)  # a platform's or browser's copy


def platform_entry(name: str) -> tuple[str, str] | None:
    """(student id, the file's own name, '' for a folder) when `name` is a Canvas or Moodle bulk
    download's name for one student's file or folder."""
    found = CANVAS.fullmatch(name)
    if found:
        return f"{found['name'].lower()}_{found['user']}", found["file"]
    found = MOODLE.fullmatch(name)
    if found:
        ascii_name = unicodedata.normalize("NFKD", found["name"]).encode("ascii", "ignore").decode()  # María: Maria
        person = re.sub(r"[^A-Za-z0-9._@+-]+", "-", ascii_name).strip("-._@+")[:40] or "student"
        return f"{person}_{found['user']}", found["file"]
    return None


def read_loose(student: str, files: list[tuple[Path, str]], modules: set[str]) -> Submission:
    """One student's loose files of a bulk download: their own names, a platform's `-1` or a
    browser's ` (1)` dropped when that leaves a topic module; one .zip alone is read as a zip."""
    if len(files) == 1 and files[0][1].lower().endswith(".zip"):
        return read_entry(files[0][0], student, modules)
    intake = _Intake(student, modules)
    for path, own in sorted(files, key=lambda f: f[1]):
        renamed = RENAMED.fullmatch(own)
        if own not in modules and renamed and renamed["stem"] + renamed["suffix"] in modules:
            own = renamed["stem"] + renamed["suffix"]
        try:
            info = path.lstat()
        except OSError as err:
            intake.sub.ignored.append((shown(path.name), f"cannot be read ({_reason(err)})"))
            continue
        if not stat.S_ISREG(info.st_mode):
            intake.sub.ignored.append((shown(path.name), "symlink or special file: never followed"))
            continue
        if "/" in own or own in ("", ".", ".."):
            intake.sub.ignored.append((shown(path.name), "not a usable file name"))
            continue
        intake.offer(PurePosixPath(own), info.st_size, lambda limit, _path=path: _read_regular(_path, limit))
    return intake.sub


# Gradescope's "Export Submissions": beside a folder per submission, `submission_<id>/` holding
# the files as uploaded, `submission_metadata.yml` maps each folder's name to its record, in YAML
# written by Ruby (hence the symbol keys):
#   submission_123:
#     :submitters:
#     - :name: Jane Doe
#       :sid: '001'
#       :email: jane@example.org
#     :created_at: 2026-12-01 10:00:00.000000000 -08:00
#     :score: 10.0
# (Gradescope documents the autograder's submission_metadata.json, not this export; this is the
# shape its exports have, and what other tools read from them.) A group submission lists each
# member; each is graded on the group's files.
GRADESCOPE_METADATA = "submission_metadata.yml"
GRADESCOPE_FOLDER = re.compile(r"submission_\d+")
MAX_METADATA = 16 * 1024 * 1024


def gradescope_export(folder: Path) -> Path | None:
    """The folder of a Gradescope export: `folder`, or the one folder it holds (as unzipped)."""
    if (folder / GRADESCOPE_METADATA).is_file():
        return folder
    inside = [e for e in folder.iterdir() if not e.name.startswith(".")]
    if len(inside) == 1 and inside[0].is_dir() and not inside[0].is_symlink() and (inside[0] / GRADESCOPE_METADATA).is_file():
        return inside[0]
    return None


def gradescope_student(person: object, submission: str) -> str:
    """A submitter's id: their email, or their name and student id (as for Moodle) when it is not usable."""
    person = person if isinstance(person, dict) else {}
    email = str(person.get(":email") or "")
    if STUDENT_ID.fullmatch(email) and email.lower() not in RESERVED_IDS:
        return email
    ascii_name = unicodedata.normalize("NFKD", str(person.get(":name") or "")).encode("ascii", "ignore").decode()
    name = re.sub(r"[^A-Za-z0-9._@+-]+", "-", ascii_name).strip("-._@+")[:40] or "student"
    number = re.sub(r"[^A-Za-z0-9]+", "", str(person.get(":sid") or ""))[:20] or submission.removeprefix("submission_")
    return f"{name}_{number}"


def read_gradescope(folder: Path, modules: set[str]) -> tuple[list[Submission], list[tuple[str, str]]]:
    """A Gradescope export, per submitter (see GRADESCOPE_METADATA)."""
    import yaml  # only for this export: the rest of the grader reads no YAML

    try:
        text = _read_regular(folder / GRADESCOPE_METADATA, MAX_METADATA + 1)
        if len(text) > MAX_METADATA:
            raise ValueError(f"larger than {MAX_METADATA:,} bytes")
        records = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # data only: no tags run
        if not isinstance(records, dict):
            raise ValueError("not a mapping of submission folders to records")
    except (OSError, ValueError, RecursionError, yaml.YAMLError) as err:
        return [], [(GRADESCOPE_METADATA, f"cannot be read ({_reason(err)}); its submission folders were not graded")]
    skipped: list[tuple[str, str]] = []
    entries: dict[str, list[str]] = {}
    for key, record in records.items():
        submitters = record.get(":submitters") if isinstance(record, dict) else None
        if not isinstance(key, str) or not GRADESCOPE_FOLDER.fullmatch(key):
            skipped.append((shown(str(key)), f"in {GRADESCOPE_METADATA}, not a submission_<id> folder's record"))
        elif not isinstance(submitters, list) or not submitters:
            skipped.append((key, f"no submitter in {GRADESCOPE_METADATA}"))
        else:
            for person in submitters:
                entries.setdefault(gradescope_student(person, key), []).append(key)
    for entry in sorted(folder.iterdir()):
        if entry.name != GRADESCOPE_METADATA and not entry.name.startswith(".") and entry.name not in records:
            skipped.append((shown(entry.name), f"not in {GRADESCOPE_METADATA}: whose it is is unknown"))
    submissions = []
    for student, keys in sorted(entries.items()):
        entry = folder / keys[0]
        if len(keys) > 1:
            submissions.append(Submission(student, error=f"two submissions for this student ({' and '.join(keys)}); "
                                                          "neither was graded: keep one and grade again"))
        elif entry.is_symlink() or not entry.is_dir():
            submissions.append(Submission(student, ignored=[(keys[0], "no such folder in the export")]))
        else:
            submissions.append(read_entry(entry, student, modules))
    return submissions, skipped


# Entries a file manager or git leaves in a folder: never a student's, never listed as skipped
# (macOS also writes "._<name>" beside each file copied from it).
HOUSEKEEPING = frozenset({".DS_Store", ".git", ".gitignore", ".gitkeep", ".gitattributes", ".localized",
                          ".ipynb_checkpoints", ".Trashes", ".Spotlight-V100", ".fseventsd"})


def read_class(folder: Path, modules: set[str]) -> tuple[list[Submission], list[tuple[str, str]]]:
    """Every student's submission, sorted by id, and the entries that are not a submission.

    An id is taken whole from the entry's name (a folder, or a .zip without its suffix), or read
    from a Canvas or Moodle bulk download's names, or from a Gradescope export's metadata; two
    entries with one id are both refused, so neither is graded as the other."""
    export = gradescope_export(folder)
    if export is not None:
        return read_gradescope(export, modules)
    entries: dict[str, list[Path]] = {}
    loose: dict[str, list[tuple[Path, str]]] = {}
    skipped = []
    for entry in sorted(folder.iterdir()):
        name = entry.name
        student = name[:-4] if name.lower().endswith(".zip") else name
        if name.startswith("."):
            if name not in HOUSEKEEPING and not name.startswith("._"):  # a hidden entry: say so
                skipped.append((shown(name), "a name starting with a dot (hidden): rename it to have it graded"))
            continue
        platform = platform_entry(name) if not entry.is_symlink() else None
        if platform is not None and STUDENT_ID.fullmatch(platform[0]) and platform[0].lower() not in RESERVED_IDS:
            if entry.is_dir() and not platform[1]:
                entries.setdefault(platform[0], []).append(entry)
                continue
            if entry.is_file() and platform[1]:
                loose.setdefault(platform[0], []).append((entry, platform[1]))
                continue
        if not STUDENT_ID.fullmatch(student):
            skipped.append((shown(name), "not a usable student id (letters, digits, . _ @ + -)"))
        elif student.lower() in RESERVED_IDS:
            skipped.append((name, "not a usable student id (the name of a class report)"))
        elif entry.is_symlink():
            skipped.append((name, "symlink: never followed"))
        elif entry.is_dir() or (entry.is_file() and name.lower().endswith(".zip")):
            entries.setdefault(student, []).append(entry)
        else:
            skipped.append((name, "neither a folder nor a .zip"))
    for student, files in loose.items():
        if student in entries:
            entries[student].append(files[0][0])  # a folder and loose files for one id: refused below
        else:
            entries[student] = []
    submissions = []
    for student, found in sorted(entries.items()):
        if not found:
            submissions.append(read_loose(student, loose[student], modules))
        elif len(found) > 1:
            names = " and ".join(p.name for p in found)
            submissions.append(Submission(student, error=f"two entries for this student ({names}); neither was "
                                                          "graded: keep one and grade again"))
        else:
            submissions.append(read_entry(found[0], student, modules))
    return submissions, skipped


def read_entry(entry: Path, student: str, modules: set[str]) -> Submission:
    """One student's folder or zip; whatever goes wrong is this student's error, not the class's."""
    try:
        if entry.is_dir():
            return read_folder(entry, student, modules)
        return read_zip(entry, student, modules)
    except Exception as err:  # noqa: BLE001 -- one unreadable entry must not stop the class
        return Submission(student, error=f"{entry.name} cannot be read ({_reason(err)})")
