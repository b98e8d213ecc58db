"""Each mistake charged once inside a topic.

A task's checks often run an earlier task's code: `create_dataloader_v1` builds a `GPTDatasetV1`,
`context_vectors` takes what `attention_weights` gives. When such a task fails while a task it
calls fails too, it is graded again with the reference's code for the failing tasks it calls
and its own code for everything else; if every check of the task (public and hidden) passes
then, the task keeps its points and its verdicts say so. The same rule serves `kata check`,
pytest and nbgrader (grader.engine.session) and the class grader (grader.grade), which only differ
in where the code runs.

    curriculum.toml  each task's `calls`: the earlier tasks of its topic whose code its checks run
                     (proven in make test by `derive_calls`: the reference with that task's stub
                     fails the caller's checks, and only the callers');
    next_regrade(...) the next regrade a topic's verdicts ask for: (tasks borrowed, task judged);
    borrowing(...)   the learner's module with the borrowed tasks' definitions taken from a donor
                     module beside it (the reference, or in the proofs the stub);
    keep(...)        the judged task's verdicts from the regrade, when all of them passed.

How the borrowing works: the learner's source is kept as it is, and a block appended to it
rebinds names to the donor's objects, so every function keeps its own module's helpers and
imports. A class the judged task does not touch is replaced whole; inside a class it does touch
(causal attention's dropout is task 3 of the class whose __init__ is task 2) only the borrowed
methods are, rebuilt so that `super()` in them means the learner's class, and the donor's helper
methods the class lacks come along. The block never raises: a name it cannot bind stays the
learner's, and the regrade then simply gains nothing.
"""

from __future__ import annotations

import ast
import functools
import threading
import types
from dataclasses import replace
from typing import Any, Callable

from ..course.curriculum import Task, Topic
from .verdicts import BAD_OUTPUT, CRASH, MEMORY, NOT_RUN, TIMEOUT, Verdict


def donor_module(slug: str) -> str:
    """The module name a donor (the reference, or a stub) takes beside the learner's files."""
    return f"_kata_donor_{slug}"


BLOCK_MARK = "# --- appended by the grader for a regrade (grader/once.py): names below come from the donor"
_BLOCK = """

""" + BLOCK_MARK + """
from grader.engine.once import rebind as _kata_rebind
from . import {donor} as _kata_donor
_kata_rebind(globals(), _kata_donor, {whole!r}, {methods!r}, {lend!r})
del _kata_rebind, _kata_donor
"""


def without_the_block(source: str) -> str:
    """`source` without the block `staged` appends, when it ends with exactly that block (the
    block rendered again from the donor and the literals it names gives the same text): the one
    import of the grader a graded module may hold, which probe.off_limits must not refuse.
    Anything else after the mark stays."""
    head, mark, tail = source.rpartition(BLOCK_MARK)
    if not mark:
        return source
    try:  # rendered again from what it names: equal text is that block and nothing else
        body = ast.parse(tail).body
        donor = getattr(body[1], "names")[0].name
        whole, methods, lend = (ast.literal_eval(a) for a in getattr(getattr(body[2], "value"), "args")[2:])
        again = _BLOCK.format(donor=donor, whole=whole, methods=methods, lend=lend)
    except (AttributeError, IndexError, SyntaxError, ValueError, TypeError, RecursionError, MemoryError):
        return source
    return head if tail == again.split(BLOCK_MARK, 1)[1] else source


def rebind(namespace: dict, donor: Any, whole: tuple[str, ...], methods: dict[str, list[str]],
           lend: tuple[str, ...] = ()) -> Callable[[], None]:
    """Bind in `namespace` the donor's objects for the names `whole`, and inside the classes of
    `methods` the donor's methods of those names (plus the donor class's helpers the class lacks),
    rebuilt so that super() in them means the namespace's class; and lend the donor the
    namespace's objects for the names `lend` (the other tasks' API), so the borrowed code calls the
    learner's code for everything it does not borrow. Never raises: a name it cannot bind stays
    as it was. Returns a function that undoes it all (a notebook's kernel lives on)."""
    undo: list[Callable[[], None]] = []

    def put(owner: Any, name: str, value: Any, mapping: bool = False) -> None:
        had, old = (name in owner, owner.get(name)) if mapping else (name in vars(owner), vars(owner).get(name))
        if mapping:
            owner[name] = value
            undo.append(lambda: owner.__setitem__(name, old) if had else owner.pop(name, None))
        else:
            setattr(owner, name, value)
            undo.append(lambda: setattr(owner, name, old) if had else delattr(owner, name))

    for name in whole:
        try:
            put(namespace, name, getattr(donor, name), mapping=True)
        except Exception:  # noqa: BLE001 -- the donor lacks it: the learner's stays
            pass
    for owner_name, names in methods.items():
        try:
            owner, theirs = namespace[owner_name], getattr(donor, owner_name)
            for name in names:
                put(owner, name, _as_method(theirs.__dict__[name], owner))
            for name, given in list(vars(theirs).items()):
                if not name.startswith("__") and not hasattr(owner, name):
                    put(owner, name, _as_method(given, owner))
        except Exception:  # noqa: BLE001 -- no such class here: the regrade gains nothing
            pass

    for name in lend:
        if name in namespace:
            try:
                put(donor, name, namespace[name])
            except Exception:  # noqa: BLE001 -- the donor's own (cut) version stays
                pass

    def undo_all() -> None:
        for step in reversed(undo):
            try:
                step()
            except Exception:  # noqa: BLE001
                pass
    return undo_all


def _as_method(given: Any, owner: type) -> Any:
    """A donor class's attribute for `owner`: a function whose super() means `owner`."""
    if isinstance(given, (classmethod, staticmethod)):
        return type(given)(_as_method(given.__func__, owner))
    if not isinstance(given, types.FunctionType) or "__class__" not in given.__code__.co_freevars:
        return given
    cells = tuple(types.CellType(owner) if name == "__class__" else cell
                  for name, cell in zip(given.__code__.co_freevars, given.__closure__ or ()))
    made = types.FunctionType(given.__code__, given.__globals__, given.__name__, given.__defaults__, cells)
    made.__kwdefaults__, made.__qualname__, made.__doc__ = given.__kwdefaults__, given.__qualname__, given.__doc__
    return made


def plan_names(topic: Topic, borrowed: tuple[int, ...], judged: tuple[int, ...]
               ) -> tuple[tuple[str, ...], dict[str, list[str]], tuple[str, ...]]:
    """(names bound whole, {class: methods}, names lent) for borrowing the `borrowed` tasks while
    the `judged` tasks keep their own names: a class that another task's API touches too is
    borrowed method by method (GPTModel.__init__ without GPTModel.forward), any other name whole;
    every other top-level name of the topic's API is lent to the donor (SimpleTokenizerV1.__init__,
    borrowed, calls the learner's build_vocab)."""
    keep = {api for task in topic.tasks if task.id in judged for api in task.api}
    touched = {api.split(".")[0] for task in topic.tasks if task.id not in borrowed or task.id in judged
               for api in task.api if "." in api}
    whole: list[str] = []
    methods: dict[str, list[str]] = {}
    for task in topic.tasks:
        if task.id not in borrowed:
            continue
        for api in task.api:
            if api in keep:
                continue
            owner, _, name = api.partition(".")
            if not name or owner not in touched:
                if owner not in whole:
                    whole.append(owner)
            elif name not in methods.setdefault(owner, []):
                methods[owner].append(name)
    lend = tuple(dict.fromkeys(api.split(".")[0] for task in topic.tasks if task.id not in borrowed
                               for api in task.api if api.split(".")[0] not in whole))
    return tuple(whole), methods, lend


def borrowing(source: str, topic: Topic, borrowed: tuple[int, ...], judged: tuple[int, ...] = (),
              donor: str | None = None) -> str:
    """`source` (the learner's module) with the API of the `borrowed` tasks taken from the donor
    module (`donor`, by default `donor_module(topic.slug)`), staged beside it. Names a `judged` task
    also lists stay the learner's (causal attention's tasks 2 and 3 both list CausalAttention.forward)."""
    whole, methods, lend = plan_names(topic, borrowed, judged)
    return source.rstrip("\n") + "\n" + _BLOCK.format(donor=donor or donor_module(topic.slug), whole=whole,
                                                      methods=methods, lend=lend)


def staged(topic: Topic, source: bytes, reference: bytes, borrowed: tuple[int, ...], judged: int) -> dict[str, bytes]:
    """The files a regrade puts in the learner's folder: the topic's module (`source`, the
    learner's bytes, kept as they are) borrowing from the donor, and beside it the donor: the
    `reference` cut down to what the borrowed tasks need (`donor_source`)."""
    text = source.decode("utf-8", errors="surrogateescape")
    return {topic.module_file: borrowing(text, topic, borrowed, (judged,)).encode("utf-8", errors="surrogateescape"),
            donor_module(topic.slug) + ".py": donor_source(reference.decode("utf-8"), topic, borrowed).encode()}


CUT = 'raise NotImplementedError("not in a regrade\'s donor: only the borrowed tasks\' code is")'


# CPython 3.11's ast is not safe to use from two threads at once ("AST constructor recursion depth
# mismatch"), and the class grader stages regrades from a thread per worker.
_AST = threading.Lock()


def donor_source(reference: str, topic: Topic, borrowed: tuple[int, ...]) -> str:
    with _AST:
        return _donor_source(reference, topic, borrowed)


def _donor_source(reference: str, topic: Topic, borrowed: tuple[int, ...]) -> str:
    """The reference with only the code the `borrowed` tasks need: their definitions, the
    module's imports, constants and the helpers those definitions name (transitively). Every
    other task's functions and methods are cut to a raise, so a learner's module that reaches for
    the donor during a regrade (it sits beside it) finds no code for the task being graded: the
    regrade can lift a task only on the learner's own code for it."""
    tree = ast.parse(reference)
    theirs = {api for task in topic.tasks if task.id not in borrowed for api in task.api}
    mine = {api for task in topic.tasks if task.id in borrowed for api in task.api}
    defined = {node.name: node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    needed, todo = set(), [api.split(".")[0] for api in mine]
    while todo:
        name = todo.pop()
        if name in needed or name not in defined:
            continue
        needed.add(name)
        todo += [n.id for n in ast.walk(defined[name]) if isinstance(n, ast.Name) and n.id in defined]
    body = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            if node.name not in needed:
                continue
            if isinstance(node, ast.FunctionDef) and node.name in theirs:
                node.body = ast.parse(CUT).body
            if isinstance(node, ast.ClassDef):
                for method in node.body:
                    qualified = f"{node.name}.{getattr(method, 'name', '')}"
                    if isinstance(method, ast.FunctionDef) and qualified in theirs:  # shared ones too
                        method.body = ast.parse(CUT).body
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id in theirs for t in targets):
                continue
        body.append(node)
    tree.body = body
    return ast.unparse(tree) + "\n"


# Reasons that say the topic's process was lost (killed, out of time or memory, unreadable): a
# segfault in attention_scores takes softmax_attention's right tasks down with it, so no task is
# graded again with borrowed code either, and no regrade waits out a loop a second time.
LOST = frozenset({TIMEOUT, CRASH, MEMORY, BAD_OUTPUT, NOT_RUN})


def next_regrade(topic: Topic, verdicts: list[Verdict], source: str | bytes = "",
                 after: int = 0) -> tuple[tuple[int, ...], int] | None:
    """(the failing tasks it calls, task) for the first task after `after` that fails, calls a
    failing task and has code of its own to grade, in a topic whose process was not lost: not a
    task that reached its own stub in a check, nor one whose functions in `source` (the learner's
    module) still raise the stub's NotImplementedError. One at a time, in task order: a task kept by its regrade counts as
    passing for the next, so tokenizer's decode, which calls split_text and encode, borrows
    split_text alone when split_text's mistake was all that failed encode."""
    if any(v.reason in LOST for v in verdicts):  # the process died or hung: no task's own result is known
        return None
    failing = {v.task for v in verdicts if not v.passed}
    stubs = still_stubs(source)
    if stubs is None:  # the module does not parse on its own: no task of it ran, and none may be
        return None    # lifted by a block appended after it (a trailing backslash would join it)
    for task in topic.tasks:
        if task.id <= after or task.id not in failing or any(api in stubs for api in task.api):
            continue
        borrowed = tuple(t for t in task.calls if t in failing)
        if borrowed and not any(v.blocked_by is not None and v.blocked_by[:2] == (topic.slug, task.id)
                                for v in verdicts if v.task == task.id):
            return borrowed, task.id
    return None


@functools.lru_cache(maxsize=256)
def still_stubs(source: str | bytes) -> frozenset[str] | None:
    """The functions of `source` ("name" or "Class.name") whose body, after any docstring, only
    raises NotImplementedError, as a stub's does; None when `source` does not parse. Remembered per
    source: grading asks it of each module again after every job of a student."""
    try:
        with _AST:
            tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # a submission's source: anything
        return None
    functions = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            functions[node.name] = node
        elif isinstance(node, ast.ClassDef):
            functions |= {f"{node.name}.{f.name}": f for f in node.body if isinstance(f, ast.FunctionDef)}
    return frozenset(name for name, function in functions.items() if _only_raises(function))


def _only_raises(function: ast.FunctionDef) -> bool:
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    if len(body) != 1 or not isinstance(body[0], ast.Raise):
        return False
    raised = body[0].exc.func if isinstance(body[0].exc, ast.Call) else body[0].exc
    return isinstance(raised, ast.Name) and raised.id == "NotImplementedError"


def keep(topic: Topic, own: list[Verdict], regraded: list[Verdict], borrowed: tuple[int, ...],
         judged: int) -> list[Verdict] | None:
    """`own` with the judged task's verdicts taken from the regrade when every one of them
    passed there (the regrade judged the same checks); None when the regrade gains nothing."""
    mine = [i for i, v in enumerate(own) if v.task == judged]
    theirs = [v for v in regraded if v.task == judged]
    if not mine or len(theirs) != len(mine) or [own[i].check for i in mine] != [v.check for v in theirs]:
        return None
    if not all(v.passed for v in theirs) or all(own[i].passed for i in mine):
        return None
    note = graded_with_reference(topic, borrowed)
    kept = list(own)
    for i, v in zip(mine, theirs):
        kept[i] = replace(v, note=note)
    return kept


def graded_with_reference(topic: Topic, borrowed: tuple[int, ...]) -> str:
    """What a task kept by its regrade says (after "task N")."""
    named = " and ".join(f"task {t}" for t in borrowed)
    code = ", ".join(api for t in borrowed for api in topic.task(t).api)
    many = len(borrowed) > 1
    # The outcome first: learners read a line under a passing task as one more failure otherwise.
    return (f"keeps its points: it calls your {code} ({named}), which {'fail' if many else 'fails'}, and "
            f"passes with the reference's in {'their' if many else 'its'} place.")


def callers(topic: Topic, task: Task) -> list[int]:
    """The tasks of `topic` whose checks run `task`'s code."""
    return [t.id for t in topic.tasks if task.id in t.calls]
