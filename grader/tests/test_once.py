"""Each mistake charged once inside a topic (grader/once.py), proven for every task that calls
another: curriculum.toml's `calls` are what the stubs show, a failing called task costs only its
own points in run_topic (kata, pytest, nbgrader) and in the class grader, and the borrowing
itself holds for the shapes the code takes (a whole class, a method whose super() must mean the
learner's class, a classmethod, a name the learner never wrote)."""

import ast
import json
import shutil
import time
from pathlib import Path

import pytest

from grader.course.curriculum import load
from grader.grading.grade import score
from grader.engine.once import borrowing, callers, next_regrade
from grader.engine.session import run_topic

CURRICULUM = load()
TOPICS = [t for t in CURRICULUM.topics if t.test_file().exists()]
def stubbed(topic, task_id: int) -> str:
    """The topic's reference with the functions of task `task_id` raising the stub's
    NotImplementedError: a learner who wrote everything but that task (but for what another
    task lists too: causal_attention's tasks 2 and 3 share CausalAttention.forward)."""
    tree = ast.parse(topic.solution().read_text(encoding="utf-8"))
    names = set(topic.task(task_id).api) - {api for t in topic.tasks if t.id != task_id for api in t.api}
    for node in tree.body:
        owner = [(node.name, fn) for fn in node.body] if isinstance(node, ast.ClassDef) else [(None, node)]
        for cls, fn in owner:
            if isinstance(fn, ast.FunctionDef) and (f"{cls}.{fn.name}" if cls else fn.name) in names:
                fn.body = ast.parse(f"raise NotImplementedError({f'{topic.slug} task {task_id}: {fn.name}'!r})").body
    return ast.unparse(tree)


def with_stub_for(topic, task_id: int, folder: Path) -> Path:
    """Every topic's reference in `folder`, the topic's module with task `task_id` a stub."""
    folder.mkdir(parents=True, exist_ok=True)
    for module in topic.solution().parent.glob("*.py"):
        shutil.copy(module, folder / module.name)
    (folder / topic.module_file).write_text(stubbed(topic, task_id), encoding="utf-8")
    return folder


@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.slug)
def test_calls_are_what_the_stubs_show_and_each_is_charged_once(topic, tmp_path):
    """For each task: the reference with that task's stub fails exactly the tasks that list it
    in `calls` (besides itself); graded as every path grades, only the task itself loses points."""
    started = time.perf_counter()
    for task in topic.tasks:
        folder = with_stub_for(topic, task.id, tmp_path / f"task{task.id}")
        raw = run_topic(topic, folder, once=False)
        failing = {v.task for v in raw if not v.passed}
        if task.id not in failing:  # every name it lists is another task's too (causal_attention 3)
            shared = {api for t in topic.tasks if t.id != task.id for api in t.api}
            assert set(task.api) <= shared, f"task {task.id}'s stub fails none of its own checks"
            continue
        assert sorted(failing - {task.id}) == callers(topic, task), (
            f"with task {task.id} a stub, tasks {sorted(failing - {task.id})} fail; curriculum.toml lists "
            f"{callers(topic, task)} as calling it: correct its `calls`")
        graded = run_topic(topic, folder)
        assert {v.task for v in graded if not v.passed} == {task.id}, "a task that calls it still loses points"
        assert score(topic, graded) == topic.max_points - task.points
        for caller in callers(topic, task):
            notes = {v.note for v in graded if v.task == caller}
            assert all(n.startswith("keeps its points") and f"(task {task.id})" in n for n in notes), notes
    print(f"{topic.slug}: {time.perf_counter() - started:.2f} s")


def test_a_task_that_reached_only_its_own_stub_is_not_graded_again(tmp_path):
    """The untouched stub: every task fails, and no regrade is planned (no task has code of its own)."""
    topic = CURRICULUM["tokenizer"]
    for module in topic.exercise().parent.glob("*.py"):
        shutil.copy(module, tmp_path / module.name)
    verdicts = run_topic(topic, tmp_path, once=False)
    assert next_regrade(topic, verdicts, "") is not None  # decode's checks first reach split_text's stub
    assert next_regrade(topic, verdicts, topic.exercise().read_bytes()) is None


def test_a_wrong_caller_stays_wrong(tmp_path):
    """split_text fails and decode is wrong too: decode is graded again and still fails, encode
    (right) keeps its points."""
    topic = CURRICULUM["tokenizer"]
    folder = with_stub_for(topic, 1, tmp_path)
    source = (folder / topic.module_file).read_text(encoding="utf-8")
    wrong = source.replace("def decode(self, ids) -> str:", "def decode(self, ids) -> str:\n        return ' '.join(self.int_to_str[i] for i in ids)", 1)
    assert wrong != source
    (folder / topic.module_file).write_text(wrong, encoding="utf-8")
    graded = run_topic(topic, folder)
    assert {v.task for v in graded if not v.passed} == {1, 4}
    assert all(not v.note for v in graded if v.task == 4)


def _import(folder: Path, name: str):
    import importlib
    import sys
    (folder / "__init__.py").write_text("", encoding="utf-8")
    sys.path.insert(0, str(folder.parent))
    try:
        return importlib.import_module(f"{folder.name}.{name}")
    finally:
        sys.path.remove(str(folder.parent))


def test_borrowing_a_method_keeps_super_the_learners(tmp_path):
    """causal_attention task 3 (dropout, in CausalAttention.forward) is judged with the learner's
    forward and the reference's __init__, whose super().__init__() must work on the learner's
    class; the donor's helper method comes along, the learner's forward stays."""
    topic = CURRICULUM["causal_attention"]
    (tmp_path / "donor.py").write_text(
        "class Base:\n    def __init__(self):\n        self.base = True\n\n"
        "class CausalAttention(Base):\n    def __init__(self, d):\n        super().__init__()\n        self.d = self._twice(d)\n"
        "    def _twice(self, d):\n        return 2 * d\n    def forward(self, x):\n        return 'donor'\n", encoding="utf-8")
    (tmp_path / "mine.py").write_text(borrowing(
        "from .donor import Base\n\nclass CausalAttention(Base):\n    def __init__(self, d):\n        raise ValueError\n"
        "    def forward(self, x):\n        return 'mine'\n", topic, (2,), (3,), donor="donor"), encoding="utf-8")
    module = _import(tmp_path, "mine")
    made = module.CausalAttention(3)
    assert type(made) is module.CausalAttention and made.base and made.d == 6 and made.forward(0) == "mine"


def test_a_name_the_learner_never_wrote_is_bound_to_the_donors(tmp_path):
    """The appended block binds what it can and never raises: a module without the class still imports."""
    topic = CURRICULUM["input_target_pairs"]
    (tmp_path / "donor.py").write_text("class GPTDatasetV1:\n    pass\n", encoding="utf-8")
    (tmp_path / "mine.py").write_text(borrowing("x = 1\n", topic, (2,), (3,), donor="donor"), encoding="utf-8")
    module = _import(tmp_path, "mine")
    assert module.GPTDatasetV1.__module__.endswith("donor") and module.x == 1


def test_the_class_grader_charges_each_once(tmp_path):
    """The same rule in `make grade`: a student with a task that other tasks call left a stub
    scores the whole course but that task's points, and feedback says why. Every such task is
    proven above through run_topic; here the shapes the jobs take: one caller, a chain (tokenizer's
    decode borrows split_text once encode is kept), a method inside the caller's class
    (causal_attention), three callers, and tasks borrowed together."""
    from grader.__main__ import main
    from grader.grading.sandbox.host import probe_isolation
    from grader.course.offline import install

    install()
    chosen = {"tokenizer": 1, "input_target_pairs": 2, "causal_attention": 2, "gpt_blocks": 2, "training": 2}
    cases = {f"{slug}-{task_id}": (CURRICULUM[slug], CURRICULUM[slug].task(task_id)) for slug, task_id in chosen.items()}
    for student, (topic, task) in cases.items():
        folder = tmp_path / "class" / student
        with_stub_for(topic, task.id, folder)
    started = time.perf_counter()
    assert main(["grade", str(tmp_path / "class"), "--out", str(tmp_path / "out"), "--workers", "2"]) == 0
    print(f"{len(cases)} students in {time.perf_counter() - started:.1f} s ({probe_isolation().describe()})")
    total = sum(t.max_points for t in CURRICULUM.topics)
    for student, (topic, task) in cases.items():
        results = json.loads((tmp_path / "out" / student / "results.json").read_text(encoding="utf-8"))
        lost = [t["name"] for t in results["tests"] if t["score"] < t["max_score"]]
        assert results["score"] == total - task.points, f"{student}: {lost}"
        assert all(name.startswith(f"{topic.slug} task {task.id}:") for name in lost), lost
        feedback = (tmp_path / "out" / student / "feedback.md").read_text(encoding="utf-8")
        for caller in callers(topic, task):
            assert f"Task {caller} keeps its points: it calls your" in feedback


def test_no_regrade_when_the_topics_process_was_lost(tmp_path):
    """A segfault or a loop takes every task of the topic down, right ones included: nothing is
    graded again with borrowed code (the hostile catalogue's segfault_ctypes scores 0)."""
    from dataclasses import replace
    topic = CURRICULUM["tokenizer"]
    folder = with_stub_for(topic, 1, tmp_path)
    verdicts = run_topic(topic, folder, once=False)
    assert next_regrade(topic, verdicts) == ((1,), 3)
    for reason in ("crash", "timeout", "memory", "not_run", "bad_output"):
        lost = [replace(v, reason=reason) if v.task == 1 else v for v in verdicts]
        assert next_regrade(topic, lost) is None, reason


def test_a_donor_holds_no_code_of_the_task_it_grades():
    """For every regrade the curriculum can ask for, the donor staged beside the learner's code
    defines no working function or method of any task but the borrowed ones (causal_attention's
    forward, shared by tasks 2 and 3, is cut too): a learner's code that reaches for the donor
    finds nothing to pass the task being graded with."""
    from grader.engine.once import CUT, donor_source
    for topic in TOPICS:
        reference = topic.solution().read_text(encoding="utf-8")
        for task in topic.tasks:
            for borrowed in {tuple(task.calls), *((t,) for t in task.calls)} - {()}:
                tree = ast.parse(donor_source(reference, topic, borrowed))
                others = {api for t in topic.tasks if t.id not in borrowed for api in t.api}
                for node in tree.body:
                    defs = [(node.name, node)] if isinstance(node, ast.FunctionDef) else [
                        (f"{node.name}.{m.name}", m) for m in node.body if isinstance(m, ast.FunctionDef)
                    ] if isinstance(node, ast.ClassDef) else []
                    for name, fn in defs:
                        if name in others:
                            assert ast.unparse(fn.body[0]) == CUT, f"{topic.slug} {borrowed}: {name} ships in the donor"


def test_a_regrade_lifts_no_task_that_calls_the_donor(tmp_path):
    """softmax_attention with attention_scores wrong on purpose and a context_vectors that calls
    the donor's: the regrade finds no context_vectors there, and task 4 stays at 0."""
    topic = CURRICULUM["softmax_attention"]
    folder = with_stub_for(topic, 1, tmp_path)
    source = (folder / topic.module_file).read_text(encoding="utf-8")
    tree = ast.parse(source)
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "context_vectors")
    fn.body = ast.parse("from . import _kata_donor_softmax_attention as donor\nreturn donor.context_vectors(inputs)").body
    (folder / topic.module_file).write_text(ast.unparse(tree), encoding="utf-8")
    graded = run_topic(topic, folder)
    assert {v.task for v in graded if not v.passed} == {1, 4}, [(v.task, v.check, v.message[:80]) for v in graded]


def test_a_module_that_does_not_parse_is_not_graded_again(tmp_path):
    """The reference with a trailing backslash does not parse: every task fails, and no regrade
    may lift one (the block a regrade appends would complete the broken last line)."""
    topic = CURRICULUM["tokenizer"]
    for module in topic.solution().parent.glob("*.py"):
        shutil.copy(module, tmp_path / module.name)
    (tmp_path / topic.module_file).write_text(topic.solution().read_text(encoding="utf-8") + "_x = 1 \\\n",
                                              encoding="utf-8")
    assert score(topic, run_topic(topic, tmp_path)) == 0
