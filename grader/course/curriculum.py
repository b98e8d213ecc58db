"""The curriculum: topics, tasks, hints and the catalogue of mistakes, read from their files.

`curriculum.toml` is the one ordered list of topics; every path follows from a topic's slug.
Hints and what each mistake "says" ship to learners (hints/<slug>.toml); how a mistake is made
(a text patch of the reference) lives with the solutions and never ships.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Task:
    id: int
    title: str
    api: tuple[str, ...]
    points: int
    hints: tuple[str, ...] = ()
    calls: tuple[int, ...] = ()  # earlier tasks of the topic whose code this task's checks run (grader/once.py)


@dataclass(frozen=True)
class Mistake:
    id: str
    task: int
    hint: int
    says: str
    # A word the line of code raising this mistake's error holds (e.g. "keys"): where several slips
    # raise the same error, the learner's error must come from such a line to be named this mistake.
    raised_at: str = ""


@dataclass(frozen=True)
class Topic:
    slug: str
    title: str
    chapter: str
    depends: tuple[str, ...]
    forbid: tuple[str, ...]
    forbid_calls: tuple[str, ...]
    tasks: tuple[Task, ...]
    mistakes: dict[str, Mistake] = field(default_factory=dict, hash=False, compare=False)
    root: Path = ROOT

    def task(self, task_id: int) -> Task:
        return next(t for t in self.tasks if t.id == task_id)

    @property
    def module_file(self) -> str:
        return f"{self.slug}.py"

    @property
    def max_points(self) -> int:
        return sum(t.points for t in self.tasks)

    def exercise(self) -> Path:
        return self.root / "exercises" / self.module_file

    def solution(self) -> Path:
        return self.root / "solutions" / self.module_file

    def test_file(self) -> Path:
        return self.root / "tests" / f"test_{self.slug}.py"

    def fixture_file(self) -> Path:
        return self.root / "tests" / "fixtures" / f"{self.slug}.safetensors"

    def hints_file(self) -> Path:
        return self.root / "hints" / f"{self.slug}.toml"

    def mistakes_file(self) -> Path:
        return self.root / "solutions" / "mistakes" / f"{self.slug}.toml"


@dataclass(frozen=True)
class Curriculum:
    """The topics graded, in order. `context`: topics they build on that are not graded here (an
    assignment's earlier topics): a graded topic that fails through one of them is graded again
    with the reference's, as with a failing graded one. `assignments`: (name, topic slugs) from
    curriculum.toml's [[assignment]] tables; `assignment(name)` is the curriculum of one."""
    topics: tuple[Topic, ...]
    root: Path
    context: tuple[Topic, ...] = ()
    assignments: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def __getitem__(self, slug: str) -> Topic:
        for topic in self.topics + self.context:
            if topic.slug == slug:
                return topic
        known = ", ".join(t.slug for t in self.topics)
        raise KeyError(f"there is no topic {slug!r}; the topics are: {known}")

    @property
    def slugs(self) -> list[str]:
        return [t.slug for t in self.topics]

    def requires(self, slug: str) -> list[str]:
        """Every topic `slug` builds on, directly or not, in curriculum order (context first)."""
        order = [t.slug for t in self.context + self.topics]
        seen: set[str] = set()
        stack = list(self[slug].depends)
        while stack:
            dep = stack.pop()
            if dep not in seen and dep in order:
                seen.add(dep)
                stack.extend(self[dep].depends)
        return [s for s in order if s in seen]

    def assignment(self, name: str) -> Curriculum:
        """The curriculum of one assignment: its topics graded, the earlier ones they build on as context."""
        chosen = dict(self.assignments).get(name)
        if chosen is None:
            known = ", ".join(n for n, _ in self.assignments) or "none (curriculum.toml has no [[assignment]])"
            raise KeyError(f"there is no assignment {name!r}; the assignments are: {known}")
        return self.only(chosen)

    def only(self, slugs: tuple[str, ...]) -> Curriculum:
        """These topics graded, the earlier ones they build on as context."""
        graded = tuple(t for t in self.topics if t.slug in slugs)
        needed = {d for t in graded for d in self.requires(t.slug)} - set(slugs)
        return Curriculum(graded, self.root, tuple(t for t in self.topics if t.slug in needed))


def _read_toml(path: Path) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


@cache
def load(root: Path = ROOT) -> Curriculum:
    data = _read_toml(root / "curriculum.toml")
    topics = []
    for raw in data["topic"]:
        slug = raw["slug"]
        hints = _read_toml(root / "hints" / f"{slug}.toml")
        task_hints = hints.get("task", {})
        tasks = tuple(
            Task(t["id"], t["title"], tuple(t["api"]), t["points"],
                 tuple(task_hints.get(str(t["id"]), {}).get("hints", ())), tuple(t.get("calls", ())))
            for t in raw["task"])
        mistakes = {mid: Mistake(mid, m["task"], m.get("hint", 1), m["says"], m.get("raised_at", ""))
                    for mid, m in hints.get("mistake", {}).items()}
        topics.append(Topic(slug, raw["title"], raw.get("chapter", ""), tuple(raw.get("depends", ())),
                            tuple(raw.get("forbid", ())), tuple(raw.get("forbid_calls", ())), tasks, mistakes,
                            root))
    slugs = {t.slug for t in topics}
    assignments = tuple((a["name"], tuple(a["topics"])) for a in data.get("assignment", ()))
    for name, chosen in assignments:
        unknown = set(chosen) - slugs
        if unknown or not chosen:
            raise ValueError(f"curriculum.toml: assignment {name!r} names no topic or unknown ones: {sorted(unknown)}")
    return Curriculum(tuple(topics), root, (), assignments)
