"""The case format: a check's inputs with the reference's and each mistake's outputs, as stored in
tests/fixtures/<slug>.safetensors (grader.builders.fixtures writes them) and as the grader's hidden
cases (grader.engine.reference builds them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import trace, wire
from ..course.curriculum import Topic


@dataclass
class Case:
    seed: int
    inputs: dict
    expected: Any
    mistakes: dict[str, Any] = field(default_factory=dict)
    raised: dict[str, str] = field(default_factory=dict)  # mistake id -> the error it raises here
    hidden: bool = False  # a hidden case: its inputs, expected value and seed are never shown
    trace: list[trace.Step] | None = None  # the reference's steps (a check's first public case; <slug>.trace.json)


def encode(cases: dict[str, list[Case]]) -> bytes:
    return wire.pack({name: [{"seed": c.seed, "inputs": c.inputs, "expected": c.expected,
                              "mistakes": c.mistakes} | ({"raised": c.raised} if c.raised else {})
                             for c in items]
                      for name, items in cases.items()})


def decode(data: bytes) -> dict[str, list[Case]]:
    return {name: [Case(c["seed"], c["inputs"], c["expected"], c["mistakes"], c.get("raised", {})) for c in items]
            for name, items in wire.unpack(data).items()}


def load_fixture(topic: Topic, with_traces: bool = True) -> dict[str, list[Case]]:
    """The topic's public cases; `with_traces` adds the reference's steps (what judging needs, not
    what the grader's worker needs to decide which checks to trace)."""
    path = topic.fixture_file()
    if not path.exists():
        return {}
    cases = decode(path.read_bytes())
    if not with_traces:
        return cases
    steps = trace.loads(trace_file(topic).read_text(encoding="utf-8")) if trace_file(topic).is_file() else {}
    for name, items in cases.items():
        if items and name in steps:
            items[0].trace = steps[name]
    return cases


def trace_file(topic: Topic):
    """tests/fixtures/<slug>.trace.json: the reference's steps (grader.engine.trace)."""
    return topic.fixture_file().with_name(f"{topic.slug}.trace.json")
