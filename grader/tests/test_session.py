"""One TopicSession per topic (grader.engine.session) serves pytest, `kata`, nbgrader and the class
grader: each topic's checks are loaded once per process whichever paths run, and nbgrader's hidden
cases are the class grader's for the same secret."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from grader.course.curriculum import ROOT, Curriculum, load
from grader.engine import checks as C
from grader.engine import session as S
from grader.engine import wire
from grader.engine.secret import instructor_secret

CURRICULUM = load()


@pytest.fixture
def fresh(monkeypatch):
    """No session made yet in this process, and every load of a topic's checks counted."""
    from grader.learner import progress
    monkeypatch.setattr(S, "_sessions", {})
    monkeypatch.setattr(progress, "_warm_once", lambda checks_module: None)  # the device checks' first meta tensor: not the point here
    loads: dict[str, int] = {}
    real = C.load_checks

    def counted(test_file: Path):
        loads[test_file.stem] = loads.get(test_file.stem, 0) + 1
        return real(test_file)
    monkeypatch.setattr(C, "load_checks", counted)
    return loads


def namespace_of(module_file: Path) -> dict:
    """A notebook's namespace as the learner's cells would leave it: here, the reference's code."""
    spec = importlib.util.spec_from_file_location(f"_session_test_{module_file.stem}", module_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {"__name__": "__main__", **{k: v for k, v in vars(module).items() if not k.startswith("__")}}


def test_the_four_paths_share_one_session_and_load_the_checks_once(fresh, capsys):
    from grader.grading.grade import prepare
    from grader.learner import notebook_checks, progress
    topic = CURRICULUM["softmax_attention"]

    verdicts = progress.run_checks(topic, ROOT / "solutions", quiet=True)  # kata
    assert verdicts and all(v.passed for v in verdicts), verdicts
    assert pytest.main([str(topic.test_file()), "--impl", str(ROOT / "solutions"), "-q", "-p", "no:cacheprovider"]) == 0
    for task in topic.tasks:  # nbgrader: the public test cells
        notebook_checks.check_task(topic.slug, task.id, namespace_of(topic.solution()))
    prep = prepare(Curriculum((topic,), CURRICULUM.root))  # the class grader
    capsys.readouterr()

    assert fresh == {topic.test_file().stem: 1}, "each path loaded the topic's checks itself"
    assert prep.session(topic.slug) is S.session(topic)
    assert prep.checks[topic.slug] is S.session(topic).checks


def test_notebook_hidden_cases_are_the_graders_for_the_same_secret(monkeypatch, capsys):
    """qkv_attention task 1 has checks whose inputs ignore the seed: the grader gives them no
    hidden case (their hidden inputs would be the public ones), and so must the notebook."""
    from grader.grading.grade import prepare
    from grader.learner import notebook_checks
    monkeypatch.setenv("KATA_SECRET", str(ROOT / "grader" / "tests" / "test_secret"))
    monkeypatch.setattr(S, "_sessions", {})
    topic = CURRICULUM["qkv_attention"]
    seen: dict[str, list[bytes]] = {}
    real = notebook_checks.probe_namespace

    def recording(topic_, checks, inputs, namespace):
        for name, items in inputs.items():
            seen.setdefault(name, []).extend(wire.pack(getattr(i, "inputs", i)) for i in items)
        return real(topic_, checks, inputs, namespace)
    monkeypatch.setattr(notebook_checks, "probe_namespace", recording)
    namespace = namespace_of(topic.solution())
    for task in topic.tasks:
        notebook_checks.check_task(topic.slug, task.id, namespace, hidden=True)
    capsys.readouterr()

    monkeypatch.setattr(S, "_sessions", {})  # the grader builds its own, in another process as it were
    hidden = prepare(Curriculum((topic,), CURRICULUM.root)).hidden[topic.slug]
    graders = {name: [wire.pack(case.inputs) for case in cases] for name, cases in hidden.items() if cases}
    assert seen == graders
    assert any(not cases for cases in hidden.values()), "qkv_attention no longer shows the difference: pick a topic that does"
    assert instructor_secret()[0] in S.session(topic)._hidden


def test_a_stubs_verdict_names_the_stub_that_blocks_it():
    """What kata says of a task waiting on another topic's stub, and what the regrades skip, come
    from the verdict's `blocked_by`, set by the judge, not from its text."""
    topic = CURRICULUM["causal_attention"]
    verdicts = S.run_topic(topic, ROOT / "exercises", once=False)
    assert verdicts and all(v.blocked_by is not None and v.blocked_by[0] == topic.slug for v in verdicts)
    assert {v.blocked_by[1] for v in verdicts} <= {t.id for t in topic.tasks}
    assert all(v.blocked_by is None for v in S.run_topic(topic, ROOT / "solutions", once=False))


def test_hidden_verdicts_carry_no_stub_text():
    topic = CURRICULUM["softmax_attention"]
    checks = S.session(topic).checks
    stub = C.Outcome(C.NOT_IMPLEMENTED, message="not implemented yet (softmax_attention task 1: secret 42)").to_data()
    public = S.session(topic).public
    hidden = {name: [type(c)(c.seed, c.inputs, c.expected, hidden=True) for c in cases] for name, cases in public.items()}
    verdicts = S.session(topic).judge({c.name: [stub] * len(hidden[c.name]) for c in checks}, True, cases=hidden)
    assert verdicts and all(v.blocked_by is None and "42" not in v.message for v in verdicts)
