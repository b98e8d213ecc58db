"""The catalogue of mistakes: text patches that turn the reference into a learner's wrong code.

`solutions/mistakes/<slug>.toml` holds, for each mistake, `replace = [[find, replacement], ...]`;
every `find` must occur exactly once in `solutions/<slug>.py`, so the catalogue cannot drift
from the reference unnoticed. What the learner is told about a mistake lives in the hints.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .curriculum import Topic


@dataclass(frozen=True)
class Patch:
    id: str
    replace: tuple[tuple[str, str], ...]

    def apply(self, source: str) -> str:
        for find, replacement in self.replace:
            count = source.count(find)
            if count != 1:
                raise ValueError(f"mistake {self.id!r}: {find!r} occurs {count} times in the reference, not once")
            source = source.replace(find, replacement)
        return source


def catalogue(topic: Topic) -> list[Patch]:
    path = topic.mistakes_file()
    if not path.exists():
        return []
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [Patch(m["id"], tuple((f, r) for f, r in m["replace"])) for m in data.get("mistake", [])]


def mistaken_source(topic: Topic, patch: Patch) -> str:
    return patch.apply(topic.solution().read_text(encoding="utf-8"))


@contextlib.contextmanager
def mistaken_tree(topic: Topic, patch: Patch) -> Iterator[Path]:
    """A temporary implementation folder: the reference, with one topic module mistaken."""
    with tempfile.TemporaryDirectory(prefix=f"mistake-{patch.id}-") as tmp:
        tree = Path(tmp)
        for module in topic.solution().parent.glob("*.py"):
            shutil.copy(module, tree / module.name)
        (tree / topic.module_file).write_text(mistaken_source(topic, patch), encoding="utf-8")
        yield tree
