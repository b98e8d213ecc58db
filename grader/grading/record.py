"""A student's grade, and grade.json: the one record of it that every report is made from.

`make grade` keeps one grade.json per student in the output folder; results.json (Gradescope's
schema), feedback.md and .html, the gradebook and the class report are computed from it, and
"unchanged since the last run" compares its submission and grader fingerprints. Other formats
(JUnit, PrairieLearn, an LMS's CSV) can be made from it alone. Version 4:

    {"version": 4, "student": id, "submission": sha256 of the submitted files ("" when the student
     must be graded again), "grader": fingerprint of everything that decides a grade, "graded_at":
     UTC time, "isolation": {"sandbox", "reason", "seccomp", "degraded"}, "score", "max_score",
     "seconds", "error", "ignored": [[path, why]],
     "topics": {slug: {"points", "max_points", "seconds", "note", "not_run", "output",
                       "tasks": [{"id", "points", "max_points", "passed", "checks"}],
                       "checks": [{"task", "check", "hidden", "passed", "points", "max_points", "reason",
                                   "mistake", "candidates", "variants", "message", "what", "shows",
                                   "diverges", "diverges_in", "note", "seed", "visual"}]}},
     "mac": HMAC of the rest under the instructor's secret}

The output folder is the instructor's, but what is in it is read as untrusted data: a record
that is not exactly what this grader writes for this curriculum (another version, a field
missing, extra or of another type, an unknown topic or task, totals that do not follow from its
checks, a MAC that does not match) is not known, and its student is graded again. Reading one
never raises.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from ..course.curriculum import Curriculum
from ..course.files import json_text, write_atomic
from ..engine import verdicts as V
from ..engine.messages import without_surrogates
from .sandbox.host import Isolation

VERSION = 4  # 4: "diverges_in", the function "diverges" names; 3: "diverges", where the values first
#              part from the reference's; 2: "wrong_length" is its own reason
FILE = "grade.json"
MAX_BYTES = 64 << 20  # a record holds at most a few MiB of pictures; anything larger is not ours
UNRECORDED = Isolation("none", "how this student was graded is not recorded")


@dataclass
class TopicGrade:
    slug: str
    verdicts: list[V.Verdict]
    hidden: list[V.Verdict]
    points: float
    max_points: int
    note: str = ""
    output: str = ""
    seconds: float = 0.0
    not_run: str = ""  # the topic whose endless import kept this one from running

    @property
    def all_verdicts(self) -> list[V.Verdict]:
        return self.verdicts + self.hidden


@dataclass
class StudentGrade:
    student: str
    topics: dict[str, TopicGrade] = field(default_factory=dict)
    ignored: list[tuple[str, str]] = field(default_factory=list)
    error: str = ""
    seconds: float = 0.0
    submission: str = ""  # Submission.digest() of the files graded; "" when they must be graded again
    grader: str = ""  # grade.fingerprint() of the grader that graded them
    isolation: Isolation = UNRECORDED
    graded_at: str = ""  # UTC, ISO 8601

    @property
    def total(self) -> float:
        return round(sum(t.points for t in self.topics.values()), 2)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


UNEARNED = ("passed on these inputs, but the same check fails on other inputs: it counts only when it "
            "passes on every input")


def earned(verdicts: list[V.Verdict]) -> list[bool]:
    """Which verdicts (a check on one input) earn their share: a passed one whose check passed on
    every other input too, public and hidden. Code right on the public inputs alone (a table of the
    released fixtures' outputs) earns nothing; the hidden inputs are what tell it from a solution."""
    failing = {(v.task, v.check) for v in verdicts if not v.passed}
    return [v.passed and (v.task, v.check) not in failing for v in verdicts]


def check_points(curriculum: Curriculum, grade: TopicGrade) -> list[tuple[V.Verdict, float, float]]:
    """Every verdict of a topic, public then hidden, with (points, max points): each task's points
    are shared equally by its verdicts, and a verdict earns its share as `earned` says. The one
    place results.json, PrairieLearn's results and grade.json split a topic's points."""
    verdicts = grade.all_verdicts
    counts: dict[int, int] = {}
    for v in verdicts:
        counts[v.task] = counts.get(v.task, 0) + 1
    share = {t.id: t.points / counts[t.id] for t in curriculum[grade.slug].tasks if counts.get(t.id)}
    return [(v, round(share[v.task], 4) if won else 0.0, round(share[v.task], 4))
            for v, won in zip(verdicts, earned(verdicts))]


# ---------------------------------------------------------------------------------------------
# StudentGrade -> record


_NOT_FINITE = {"NaN": "nan", "Infinity": "inf", "-Infinity": "-inf"}


def _finite(value: Any) -> Any:
    """A picture's numbers as strict JSON: a float that is not finite as its name ('nan', 'inf'),
    which the pictures read back as the float (by json, in C: a picture holds thousands)."""
    if value is None:
        return None
    return json.loads(json.dumps(value), parse_constant=_NOT_FINITE.__getitem__)


def _seconds(value: float) -> float:
    """A time as the record keeps it: finite (a worker's reply is not trusted to be)."""
    return value if isinstance(value, (int, float)) and math.isfinite(value) else 0.0


def _check(v: V.Verdict, hidden: bool, points: float, max_points: float) -> dict:
    return {"task": v.task, "check": v.check, "hidden": hidden, "passed": v.passed,
            "points": points, "max_points": max_points, "reason": v.reason, "mistake": v.mistake,
            "candidates": list(v.candidates), "variants": list(v.variants), "message": v.message, "what": v.what,
            "shows": v.shows, "diverges": v.diverges,
            "diverges_in": v.diverges_in, "note": v.note, "seed": v.seed, "visual": _finite(v.visual)}


def _topic(curriculum: Curriculum, grade: TopicGrade) -> dict:
    checks = [_check(v, n >= len(grade.verdicts), points, most)
              for n, (v, points, most) in enumerate(check_points(curriculum, grade))]
    tasks = []
    for task in curriculum[grade.slug].tasks:
        mine = [c for c in checks if c["task"] == task.id]
        tasks.append({"id": task.id, "points": round(sum(c["points"] for c in mine), 4), "max_points": task.points,
                      "passed": bool(mine) and all(c["passed"] for c in mine), "checks": len(mine)})
    return {"points": grade.points, "max_points": grade.max_points, "seconds": _seconds(grade.seconds), "note": grade.note,
            "not_run": grade.not_run, "output": grade.output, "tasks": tasks, "checks": checks}


def _strict(value: Any) -> Any:
    """`value` with every lone surrogate in its strings shown as messages.clean shows it (text a
    submission printed or raised may hold one): strict JSON readers refuse its escape."""
    if isinstance(value, str):
        return without_surrogates(value)
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strict(v) for v in value]
    return value


def to_record(grade: StudentGrade, curriculum: Curriculum) -> dict:
    """The record of a grade (without its MAC: `save` adds it), strict JSON once encoded."""
    iso = grade.isolation
    return _strict({"version": VERSION, "student": grade.student, "submission": grade.submission, "grader": grade.grader,
            "graded_at": grade.graded_at,
            "isolation": {"sandbox": iso.sandbox, "reason": iso.reason, "seccomp": iso.seccomp, "degraded": iso.degraded},
            "score": grade.total, "max_score": sum(t.max_points for t in curriculum.topics), "seconds": _seconds(grade.seconds),
            "error": grade.error, "ignored": [[path, why] for path, why in grade.ignored],
            "topics": {slug: _topic(curriculum, t) for slug, t in grade.topics.items()}})


# ---------------------------------------------------------------------------------------------
# record -> StudentGrade (strict)


class RecordError(ValueError):
    """A grade.json that cannot stand for its student: they are graded again."""


def _is_text(v: Any) -> bool:
    return type(v) is str


def _is_number(v: Any) -> bool:
    return type(v) in (int, float) and math.isfinite(v)


def _is_int(v: Any) -> bool:
    return type(v) is int


def _is_bool(v: Any) -> bool:
    return type(v) is bool


def _is_texts(v: Any) -> bool:
    return type(v) is list and all(type(x) is str for x in v)


def _maybe(test: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: v is None or test(v)


def _is_visual(v: Any) -> bool:
    return v is None or (type(v) is dict and set(v) <= {"expected_shape", "got_shape", "expected", "got"})


def _fields(data: Any, where: str, **tests: Callable[[Any], bool]) -> dict:
    """`data` itself when it is an object with exactly these fields, each passing its test."""
    if type(data) is not dict or set(data) != set(tests):
        raise RecordError(f"{where}: not the fields of version {VERSION}")
    for name, test in tests.items():
        if not test(data[name]):
            raise RecordError(f"{where}: {name} is not what version {VERSION} holds")
    return data


def _list(data: Any, where: str) -> list:
    if type(data) is not list:
        raise RecordError(f"{where}: not a list")
    return data


def from_record(data: Any, curriculum: Curriculum, made_here: bool = False) -> StudentGrade:
    """The grade a record holds, or RecordError (see the module's docstring). `made_here`: the
    record is to_record's, just made in this process, so its totals follow from its checks by
    construction and are not computed again."""
    if type(data) is not dict or data.get("version") != VERSION:
        raise RecordError(f"not a version {VERSION} record")
    top = _fields(data, "record", version=_is_int, student=_is_text, submission=_is_text, grader=_is_text,
                  graded_at=_is_text, isolation=lambda v: type(v) is dict, score=_is_number, max_score=_is_number,
                  seconds=_is_number, error=_is_text, ignored=lambda v: type(v) is list, topics=lambda v: type(v) is dict)
    iso = _fields(top["isolation"], "isolation", sandbox=_is_text, reason=_is_text, seccomp=_is_bool, degraded=_is_bool)
    ignored = [_pair(pair) for pair in top["ignored"]]
    grade = StudentGrade(top["student"], {}, ignored, top["error"], top["seconds"], top["submission"], top["grader"],
                         Isolation(iso["sandbox"], iso["reason"], iso["seccomp"]), top["graded_at"])
    for slug, topic in top["topics"].items():
        if slug not in curriculum.slugs:
            raise RecordError(f"no topic {slug!r} in this curriculum")
        grade.topics[slug] = _topic_grade(curriculum, slug, topic)
    if not made_here and to_record(grade, curriculum) != data:  # totals, shares, task results: each follows from the checks
        raise RecordError("its totals do not follow from its checks")
    return grade


def _pair(pair: Any) -> tuple[str, str]:
    if type(pair) is not list or len(pair) != 2 or not all(type(x) is str for x in pair):
        raise RecordError("ignored: not a list of [path, why]")
    return pair[0], pair[1]


def _topic_grade(curriculum: Curriculum, slug: str, data: Any) -> TopicGrade:
    topic = _fields(data, slug, points=_is_number, max_points=_is_int, seconds=_is_number, note=_is_text,
                    not_run=_is_text, output=_is_text, tasks=lambda v: type(v) is list, checks=lambda v: type(v) is list)
    task_ids = {t.id for t in curriculum[slug].tasks}
    grade = TopicGrade(slug, [], [], topic["points"], topic["max_points"], topic["note"], topic["output"],
                       topic["seconds"], topic["not_run"])
    for check in _list(topic["checks"], slug):
        c = _fields(check, f"{slug} check", task=_is_int, check=_is_text, hidden=_is_bool, passed=_is_bool,
                    points=_is_number, max_points=_is_number, reason=_is_text, mistake=_maybe(_is_text),
                    candidates=_is_texts, variants=_is_texts, message=_is_text, what=_is_text, shows=_is_text,
                    diverges=_is_text, diverges_in=_is_text, note=_is_text, seed=_maybe(_is_int), visual=_is_visual)
        if c["task"] not in task_ids:
            raise RecordError(f"{slug} has no task {c['task']}")
        verdict = V.Verdict(slug, c["task"], c["check"], c["reason"], c["message"], c["mistake"], c["seed"], c["what"],
                            c["visual"], tuple(c["candidates"]), c["shows"], c["hidden"], c["note"], tuple(c["variants"]),
                            diverges=c["diverges"], diverges_in=c["diverges_in"])
        (grade.hidden if c["hidden"] else grade.verdicts).append(verdict)
    return grade


# ---------------------------------------------------------------------------------------------
# grade.json


def _mac(record: dict, secret: bytes) -> str:
    key = hmac.new(secret, b"kata grade record", hashlib.sha256).digest()
    body = json.dumps(record, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def save(path: Path, record: dict, secret: bytes) -> None:
    """Write a record (to_record's) with its MAC, atomically. ASCII JSON: text a submission
    printed may hold what UTF-8 cannot (a lone surrogate), and is kept exactly."""
    sealed = {**record, "mac": _mac(record, secret)}
    write_atomic(path, json_text(sealed, 4) + "\n")  # a check on each line



def _no_constant(name: str) -> Any:
    raise RecordError(f"{name} is not JSON")


def load(path: Path, curriculum: Curriculum, secret: bytes, student: str | None = None) -> StudentGrade | None:
    """The grade a grade.json holds for `student`, or None when it is missing or cannot be
    trusted (see the module's docstring). Never raises."""
    try:
        with open(path, "rb") as file:
            text = file.read(MAX_BYTES + 1)
        if len(text) > MAX_BYTES:
            return None
        data = json.loads(text, parse_constant=_no_constant)
        mac = data.pop("mac") if type(data) is dict else None
        if type(mac) is not str or not hmac.compare_digest(mac, _mac(data, secret)):
            return None
        grade = from_record(data, curriculum)
    except Exception:  # noqa: BLE001 -- whatever the file holds, its student is graded again
        return None
    return grade if student is None or grade.student == student else None
