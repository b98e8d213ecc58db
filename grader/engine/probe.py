"""The probe: the only code that calls the learner's code (the untrusted half of a check).

    probe_topic(...)   imports the learner's topic module and calls every probe; returns data.
                       In `make grade` this half runs only inside the sandboxed child.
    Probing then judging in this process (pytest, `kata check`, nbgrader) is
    grader.engine.session's TopicSession.run.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import importlib
import os
import shutil
import sys
import tempfile
from pathlib import Path
from types import FrameType
from typing import Any, Callable, Iterator

import torch

from . import checks as C
from .cases import Case
from .impl import TopicModule, import_topic, load_package, unload_package
from .judge import _curriculum
from .once import staged, without_the_block
from ..course.curriculum import Topic


def forbidden_use(source: str, forbid: tuple[str, ...]) -> tuple[str, int] | None:
    """(dotted name, line) of the first use of a forbidden API in `source`, if any."""
    if not forbid:
        return None
    last = {dotted.rsplit(".", 1)[1]: dotted for dotted in forbid}
    if source.isascii() and not any(name in source for name in last):
        return None  # no name can be one that is nowhere in the text (ASCII: no other spelling)
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        name = (node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name)
                else node.name.rsplit(".", 1)[-1] if isinstance(node, ast.alias) else None)
        if name in last:
            return last[name], node.lineno if hasattr(node, "lineno") else 0
    return None


def _caller(own_file: Path | None) -> str | None:
    """Where the learner's code made the current call: "file, line N" when the nearest frame of
    the learner's folder is `own_file` (the topic's module), None when it is another topic's
    module there, inside what that topic's kata asks for (CausalAttention.forward may use what
    its own kata allows, and multi-head attention's wrapper calls it). A helper of the other
    file's own is refused as if it were in `own_file`. Without `own_file` (a notebook), always
    the nearest frame outside the grader and torch."""
    frame: FrameType | None = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if own_file is None:
            if not name.startswith((str(_GRADER), str(_TORCH))) and "importlib" not in name:
                return f"{Path(name).name}, line {frame.f_lineno}"
        elif Path(name).resolve().parent == own_file.parent:
            where = Path(name).resolve()
            if where != own_file and frame.f_code.co_qualname.split(".")[0] in _api_names(where.name):
                return None
            return f"{where.name}, line {frame.f_lineno}"
        frame = frame.f_back
    return "" if own_file is None else f"{own_file.name}"


def _api_names(module_file: str) -> frozenset[str]:
    """The names a topic's kata asks for (its classes and functions), by its module file."""
    return frozenset(api.split(".")[0] for topic in _curriculum().topics if topic.module_file == module_file
                     for task in topic.tasks for api in task.api)


_GRADER, _TORCH = Path(__file__).resolve().parents[1], Path(torch.__file__).resolve().parent

# What no kata needs and graded code could use to find the answers in the process that checks it:
# the grader's and the checks' own modules (the variants' maths), the call stack (a check's
# globals), the process's objects and modules, code made from strings, and torch's raw kernels
# (torch.ops.aten's fused attention is no call a forbid list sees).
_OFF_LIMITS_MODULES = frozenset({"grader", "tests", "solutions", "importlib", "inspect", "gc", "ctypes", "builtins"})
_OFF_LIMITS_NAMES = frozenset({"__import__", "eval", "exec", "__builtins__", "breakpoint"})
_OFF_LIMITS_ATTRIBUTES = frozenset({"_getframe", "f_globals", "f_locals", "f_back", "f_builtins", "tb_frame", "gi_frame",
                                    "cr_frame", "ag_frame", "__globals__", "__subclasses__", "get_objects", "__builtins__",
                                    "__closure__", "__code__", "__self__", "_current_frames", "currentframe"})
_TORCH_INTERNALS = frozenset({"ops", "_C", "_VF", "_ops", "_refs", "_prims"})


@functools.lru_cache(maxsize=256)
def off_limits(source: str) -> tuple[str, int] | None:
    """(what, line) of the first thing in `source` that reaches past the kata into the process that
    grades it (_OFF_LIMITS_*), if any. Names written plainly: a determined attacker can spell them
    otherwise, and the hidden inputs and the sandbox stay the defence; this keeps the grader's own
    answers one import away from no one."""
    try:
        tree = ast.parse(without_the_block(source))  # a regrade's own import of the grader is allowed
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None  # the import reports it
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                if top in _OFF_LIMITS_MODULES or (top == "torch" and alias.name.split(".")[1:2] and
                                                  alias.name.split(".")[1] in _TORCH_INTERNALS):
                    return f"import {alias.name}", line
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            top = node.module.split(".")[0]
            if top in _OFF_LIMITS_MODULES:
                return f"from {node.module} import ...", line
            if top == "torch" and (node.module.split(".")[1:2] and node.module.split(".")[1] in _TORCH_INTERNALS
                                   or node.module == "torch" and any(a.name in _TORCH_INTERNALS for a in node.names)):
                return f"from {node.module} import ...", line
        elif isinstance(node, ast.Name) and node.id in _OFF_LIMITS_NAMES:
            return node.id, line
        elif isinstance(node, ast.Attribute):
            if node.attr in _OFF_LIMITS_ATTRIBUTES:
                return f".{node.attr}", line
            if node.attr == "modules" and isinstance(node.value, ast.Name) and node.value.id == "sys":
                return "sys.modules", line
            if node.attr in _TORCH_INTERNALS and isinstance(node.value, ast.Name) and node.value.id == "torch":
                return f"torch.{node.attr}", line
    return None


def off_limits_in(impl_dir: Path) -> tuple[str, str, int] | None:
    """(file, what, line) of the first module of the learner's folder that reaches past the kata:
    any of them, since a topic's module may import the others."""
    for path in sorted(Path(impl_dir).glob("*.py")):
        try:
            found = off_limits(path.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            continue
        if found:
            return path.name, *found
    return None


def off_limits_words(where: tuple[str, str, int]) -> str:
    name, what, line = where
    return (f"{name}, line {line}, uses {what}: graded code may not reach into the grader, the call stack, the "
            f"process's modules or torch's internals (no kata needs them); remove it and check again")


class _RefuseCalls(torch.overrides.TorchFunctionMode):
    """Sees every torch call, however it was reached, and refuses the forbidden ones that the
    topic's own file makes."""

    def __init__(self, names: tuple[str, ...], own_file: Path | None):
        super().__init__()
        self.names, self.own_file = names, own_file

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if any(forbidden in name for forbidden in self.names):
            where = _caller(self.own_file)
            if where is not None:
                raise C.ForbiddenAPI(f"torch's {name}" + (f" (called in {where})" if where else ""))
        return func(*args, **(kwargs or {}))


@contextlib.contextmanager
def forbidden_apis(topic: Topic, own_file: Path | None = None) -> Iterator[None]:
    """While active, a forbidden API raises ForbiddenAPI: by its documented name, and by any
    call whose name matches `forbid_calls`, when the call comes from `own_file` (the topic's
    module; another topic's module may use what its own kata allows)."""
    own_file = Path(own_file).resolve() if own_file is not None else None
    saved = []
    for dotted in topic.forbid:
        owner_name, attr = dotted.rsplit(".", 1)
        owner = importlib.import_module(owner_name)
        original = getattr(owner, attr)
        saved.append((owner, attr, original))

        def refuse(*args, _dotted=dotted, _original=original, **kwargs):
            where = _caller(own_file)
            if where is None:
                return _original(*args, **kwargs)
            raise C.ForbiddenAPI(_dotted + (f" (called in {where})" if where else ""))
        setattr(owner, attr, refuse)
    try:
        if topic.forbid_calls:
            with _RefuseCalls(topic.forbid_calls, own_file):
                yield
        else:
            yield
    finally:
        for owner, attr, original in saved:
            setattr(owner, attr, original)


Needs = Callable[[C.Check, dict], bool]  # (check, outcome data) -> record the steps of its first public case?


def failing_public(public: dict[str, list[Case]]) -> Needs:
    """Steps only where the judge can use them: a first public case that has the reference's steps
    and whose outcome raised, or fails against the public expected value (the learner's release
    holds those too). A passing check needs no 'where', nor code not written yet, and tracing costs.
    The grader's worker never holds expected values: the grader asks this of the outcomes it got
    back, then runs only those checks again, traced (grader.grading.grade.grade_topics)."""
    def needs(chk: C.Check, outcome: dict) -> bool:
        cases = public.get(chk.name)
        if not cases or cases[0].trace is None or outcome.get("status") not in ("ok", C.EXCEPTION):
            return False
        if outcome.get("status") == C.EXCEPTION:
            return True
        try:  # the check's own comparison alone: no diagnosis here, it runs inside the learner's time limit
            chk.verdict(outcome.get("value"), cases[0].expected)
        except Exception:  # noqa: BLE001 -- Failed, or a judge that cannot decide: record the steps
            return True
        return False
    return needs


def probe_topic(topic: Topic, impl_dir: Path, cases: dict[str, list[dict]],
                checks: list[C.Check], imported: Callable[[], None] = lambda: None,
                n_public: dict[str, int] | None = None, trace: bool | Needs = True,
                off_limits_scan: bool = True) -> dict[str, list[dict]]:
    """Outcomes (as data) of every check on every case's inputs. Never raises for learner code.
    With `trace`, each check's first public case also records the topic module's steps
    (grader.engine.trace), for the judge to say where the values first differ from the reference's;
    `trace` may be a predicate of (check, outcome data) saying whose (`failing_public`: only a
    case that fails needs them, and tracing costs about three times the run).
    `imported()` is called once the module has loaded, before the first probe. `n_public`: per
    check, how many of its cases are public; the others are hidden, and run after every public
    case of the topic with the process's stdout and stderr sent to /dev/null, so that what the
    learner's code prints while it sees hidden inputs never reaches the feedback."""
    impl_dir = Path(impl_dir)
    source_file = impl_dir / topic.module_file

    def everywhere(outcome: C.Outcome) -> dict[str, list[dict]]:
        return {c.name: [outcome.to_data()] * len(cases.get(c.name, ())) for c in checks}

    if not source_file.is_file():
        return everywhere(C.Outcome(C.MISSING_NAME, message=f"we cannot find {topic.module_file} in {impl_dir.name}/"))
    used = forbidden_use(source_file.read_text(encoding="utf-8", errors="replace"), topic.forbid)
    if used:
        return everywhere(C.Outcome(C.FORBIDDEN_API, message=(
            f"{topic.module_file}, line {used[1]}, uses {used[0]}: this kata asks you to write it yourself")))
    reaching = off_limits_in(impl_dir) if off_limits_scan else None
    if reaching:
        return everywhere(C.Outcome(C.FORBIDDEN_API, message=off_limits_words(reaching)))
    package = load_package(impl_dir)
    try:
        with forbidden_apis(topic, source_file):
            try:
                module = TopicModule(import_topic(package, topic.slug), topic.slug)
                imported()
            except NotImplementedError as err:
                return everywhere(C.Outcome(C.NOT_IMPLEMENTED, message=f"not implemented yet ({err})"))
            except C.ForbiddenAPI as err:
                return everywhere(C.Outcome(C.FORBIDDEN_API, message=str(err)))
            except BaseException as err:  # SyntaxError, SystemExit, anything at import time
                if isinstance(err, KeyboardInterrupt):
                    raise
                return everywhere(C.Outcome(C.EXCEPTION, message=(
                    f"{topic.module_file} could not be imported: " + C.describe_exception(err, impl_dir))))
            return probe_module(module, cases, checks, impl_dir, n_public, traced=source_file if trace else None,
                                needs=trace if callable(trace) else None)
    finally:
        unload_package(package)


def probe_module(module: Any, cases: dict[str, list[dict]], checks: list[C.Check],
                 learner_dir: Path | None = None, n_public: dict[str, int] | None = None,
                 traced: Path | None = None, needs: Needs | None = None) -> dict[str, list[dict]]:
    """Outcomes (as data) of every check on a module already loaded (a topic module, or a
    notebook's namespace), inside the topic's forbidden-API guard the caller holds. Public cases
    first, then the hidden ones (beyond n_public[check]) with the output silenced. `traced`: the
    module's file, whose steps each check's first public case records (never a hidden one's)."""
    def run(chk: C.Check, inputs: dict, first: bool = False) -> dict:
        out = C.run_probe(chk, module, inputs, learner_dir).to_data()
        if first and traced is not None and (needs is None or needs(chk, out)):
            with silenced():  # a second run: what it prints was shown once already
                out["steps"] = C.probe_steps(chk, module, inputs, traced)
        return out

    if n_public is None:
        return {chk.name: [run(chk, inputs, n == 0) for n, inputs in enumerate(cases.get(chk.name, ()))]
                for chk in checks}
    split = {chk.name: max(0, n_public.get(chk.name, 0)) for chk in checks}
    out = {chk.name: [run(chk, inputs, n == 0) for n, inputs in enumerate(list(cases.get(chk.name, ()))[:split[chk.name]])]
           for chk in checks}
    if any(len(cases.get(chk.name, ())) > split[chk.name] for chk in checks):
        with silenced():
            for chk in checks:
                out[chk.name] += [run(chk, inputs) for inputs in list(cases.get(chk.name, ()))[split[chk.name]:]]
    return out


@contextlib.contextmanager
def silenced() -> Iterator[None]:
    """File descriptors 1 and 2 (and sys.stdout, sys.stderr) go to /dev/null, then back."""
    def flush() -> None:
        for stream in filter(None, (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)):
            try:
                stream.flush()
            except BaseException:
                pass

    flush()
    saved, streams = [os.dup(1), os.dup(2)], (sys.stdout, sys.stderr)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        os.dup2(null, 2)
        os.close(null)
        sys.stdout = sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 (closed below)
        yield
    finally:
        flush()  # what the learner's code buffered while it saw hidden inputs goes to /dev/null too
        quiet, (sys.stdout, sys.stderr) = sys.stdout, streams
        try:
            quiet.close()
        except BaseException:
            pass
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)


@contextlib.contextmanager
def borrowed_from(impl_dir: Path, topic: Topic, donor: bytes, borrowed: tuple[int, ...], judged: int
                  ) -> Iterator[Path]:
    """A temporary copy of the learner's folder in which the topic's module takes the `borrowed`
    tasks from `donor` (grader/once.py), staged beside it."""
    with tempfile.TemporaryDirectory(prefix="kata-once-") as tmp:
        folder = Path(tmp) / impl_dir.name
        shutil.copytree(impl_dir, folder, ignore=shutil.ignore_patterns("__pycache__", ".*"), symlinks=True)
        for name, content in staged(topic, (folder / topic.module_file).read_bytes()
                                    if (folder / topic.module_file).is_file() else b"", donor, borrowed, judged).items():
            (folder / name).write_bytes(content)
        yield folder
