"""A check, written once: the learner's pytest run, the grader and nbgrader all use it as is.

A check has three parts, so that learner code and the verdict can live in different processes:

    inputs(seed) -> dict        trusted: makes the inputs (stored in the fixtures for seed 0)
    probe(m, **inputs) -> value runs the learner's code; in the grader, only in the sandbox
    judge(got, expected)        trusted: raises `Failed` with a message a beginner can act on

`expected` is what the reference's probe returns on the same inputs. Values cross between the
parts as data (`grader.engine.wire`), in pytest as well, so both runs judge exactly the same thing.

    @check(task=1, inputs=lambda seed: {"num_tokens": 5 + seed % 3}, dims=("query", "key"))
    def mask_hides_the_future(m, num_tokens):
        "causal_mask(num_tokens)"
        return m.causal_mask(num_tokens)
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import linecache
import random
import re
import sys
import textwrap
import traceback
import types
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, Callable

import torch

from . import trace, wire
from .impl import MissingName
from .verdicts import (BAD_OUTPUT, CRASH, EXCEPTION, FORBIDDEN_API, MEMORY, MISSING_NAME, NOT_IMPLEMENTED, NOT_RUN,  # noqa: F401
                       OUTCOME_STATUSES, PASSED, STUB_RAISES, TIMEOUT, WRONG_LENGTH, WRONG_SHAPE, WRONG_TYPE, WRONG_VALUES,
                       Verdict)

MESSAGE_CAP = 4000  # characters of an error message kept: learner code can raise anything
PROBE_SEED = 20240  # every probe starts from the same RNG state, whatever ran before it
RTOL, ATOL = 1e-5, 1e-6  # float32 defaults; a check states it when it needs more
# Outputs that pass through several matmuls, a softmax and a LayerNorm: float32 rounding alone moves
# them by up to 1.7 times the defaults (measured between PyTorch's AVX2 and portable kernels, i.e.
# ATEN_CPU_CAPABILITY=default); these leave a margin of 5 on every stored value.
DEEP_RTOL, DEEP_ATOL = 1e-4, 1e-5


class Failed(Exception):
    """A judge's verdict against the learner's output."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason, self.message = reason, message


class ForbiddenAPI(Exception):
    def __init__(self, name: str):
        super().__init__(f"{name} is not allowed in this kata: write it yourself")
        self.name = name


@dataclass(frozen=True)
class Check:
    slug: str
    task: int
    name: str
    probe: Callable[..., Any]
    inputs: Callable[[int], dict]
    judge: Callable[[Any, Any], None] | None = None
    dims: tuple[str, ...] | dict[str, tuple[str, ...]] | None = None
    rtol: float = RTOL
    atol: float = ATOL
    seeds: tuple[int, ...] = (0,)
    variants: tuple["Variant", ...] = ()  # other ways the output comes out, named when it matches one

    @property
    def what(self) -> str:
        """What the check calls, in the learner's terms (the probe's docstring)."""
        return inspect.cleandoc(self.probe.__doc__ or self.name).splitlines()[0]

    def verdict(self, got: Any, expected: Any) -> None:
        if self.judge is not None:
            self.judge(got, expected)
        else:
            compare(got, expected, dims=self.dims, rtol=self.rtol, atol=self.atol)


def check(*, task: int, inputs: Callable[[int], dict] | None = None, judge=None, dims=None,
          rtol: float = RTOL, atol: float = ATOL, seeds: tuple[int, ...] = (0,), variants=()):
    """Declare a check in tests/test_<slug>.py; pytest collects it through grader.learner.pytest_plugin.
    `variants`: `Variant`s, wrong versions of the reference the judge computes on the same inputs
    and names when the learner's output equals one (and no catalogued mistake matches)."""
    def declare(probe: Callable[..., Any]) -> Check:
        slug = Path(inspect.getfile(probe)).stem.removeprefix("test_")
        return Check(slug, task, probe.__name__, probe, inputs or (lambda seed: {}), judge, dims,
                     rtol, atol, seeds, tuple(variants))
    return declare


@dataclass(frozen=True)
class Variant:
    """A realistic wrong version of what a check's probe returns, computed live from the check's
    inputs by trusted code (plain torch in tests/test_<slug>.py, never the learner's module nor
    solutions/): `compute(**inputs)`. `says` is what code written that way does, in the learner's
    words and without a value (hidden verdicts show it): "your attention weights equal
    softmax(scores / d_k) where the book divides by sqrt(d_k)"."""
    name: str
    says: str
    compute: Callable[..., Any]


def variant(says: str) -> Callable[[Callable[..., Any]], Variant]:
    """Declare a variant: `@variant("your ...")` over a function of the check's inputs."""
    def declare(compute: Callable[..., Any]) -> Variant:
        return Variant(compute.__name__, says, compute)
    return declare


def load_checks(test_file: Path) -> list[Check]:
    """The checks of one topic, in the order the file defines them (trusted code)."""
    return [v for v in vars(checks_module(test_file)).values() if isinstance(v, Check)]


def checks_module(test_file: Path) -> types.ModuleType:
    """A topic's test file imported once per process (trusted code): its checks and whatever else
    it defines (a speed challenge)."""
    name = f"kata_checks_{test_file.stem}"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, test_file)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load checks from {test_file}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module


def sizes(seed: int, **base: int) -> dict[str, int]:
    """Dimension sizes for a case: `base` for seed 0, fresh distinct sizes for any other seed."""
    if seed == 0:
        return base
    rng, taken, out = random.Random(seed), set(), {}
    for name, size in base.items():
        choice = rng.choice([s for s in range(size, size + 5) if s not in taken])
        taken.add(choice)
        out[name] = choice
    return out


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------------------------------------
# Running a probe: the only place learner code is called.


@dataclass
class Outcome:
    """What one probe call produced, as plain data that can cross a process boundary."""
    status: str  # "ok" or a failure reason
    value: Any = None
    message: str = ""
    steps: list | None = None  # grader.engine.trace's steps, as data: a public case's intermediate values

    def to_data(self) -> dict:
        return ({"status": self.status, "value": self.value, "message": self.message[:MESSAGE_CAP]}
                | ({"steps": self.steps} if self.steps is not None else {}))

    @classmethod
    def from_data(cls, data: Any) -> "Outcome":
        """Read an outcome that may come from learner code: only a judge decides that a check
        passed, so "passed", or anything but exactly {"status": "ok" or a reason to fail,
        "value": ..., "message": a str, optionally "steps"}, is bad output. Steps that are not
        exactly what grader.engine.trace records are dropped. Never raises, whatever `data` is."""
        bad = cls(BAD_OUTPUT, message="what came back from your code is not a result")
        if type(data) is not dict or set(data) - {"status", "value", "message", "steps"}:
            return bad
        status, message = data.get("status"), data.get("message", "")
        if type(status) is not str or status not in OUTCOME_STATUSES or type(message) is not str:
            return bad
        steps = trace.steps_from_data(data["steps"]) if "steps" in data else None
        return cls(status, data.get("value"), message[:MESSAGE_CAP],
                   [s.to_data() for s in steps] if steps is not None else None)


def _fresh_state() -> None:
    torch.default_generator.manual_seed(PROBE_SEED)  # torch.manual_seed also seeds every accelerator: 1 ms
    torch.set_num_threads(1)  # the same float rounding on every machine, in pytest and the grader
    torch.set_default_dtype(torch.float32)
    torch.set_grad_enabled(True)


def run_probe(check: Check, module: Any, inputs: dict, learner_dir: Path | None = None) -> Outcome:
    """Call the probe on the learner's module; never raises for anything the learner did."""
    _fresh_state()
    try:
        value = check.probe(module, **_fresh_copy(inputs))
        value = wire.normalize(value)  # exactly what would cross the sandbox boundary
    except NotImplementedError as err:
        if str(err) and not STUB_RAISES.match(str(err)):  # not a stub's: torch's, for a module without forward
            return Outcome(EXCEPTION, message=describe_exception(err, learner_dir) + _without_forward(str(err)))
        return Outcome(NOT_IMPLEMENTED, message=f"not implemented yet ({str(err) or 'a function'})")
    except MissingName as err:
        return Outcome(MISSING_NAME, message=str(err))
    except ForbiddenAPI as err:
        return Outcome(FORBIDDEN_API, message=str(err))
    except wire.WireError as err:
        return Outcome(BAD_OUTPUT, message=f"your code returned something we cannot compare: {err}")
    except MemoryError:
        return Outcome(MEMORY, message="MemoryError: your code asked for more memory than allowed")
    except RecursionError:
        return Outcome(EXCEPTION, message="RecursionError: a function calls itself without end")
    except Exception as err:
        if isinstance(err, RuntimeError) and "allocate" in str(err):
            return Outcome(MEMORY, message=f"out of memory: {str(err).splitlines()[0][:200]}")
        return Outcome(EXCEPTION, message=describe_exception(err, learner_dir))
    return Outcome("ok", value)


def probe_steps(check: Check, module: Any, inputs: dict, traced: Path) -> list:
    """The steps (as data) of `traced`'s frames while the probe runs again from the same state as
    run_probe's call (grader.engine.trace.record): a separate run, so that tracing, which can
    change what code does (a loop over locals() sees the tracer refresh them), never decides an
    outcome. Whatever the call ends with, the steps recorded until then."""
    _fresh_state()
    result, steps = trace.record(partial(check.probe, module, **_fresh_copy(inputs)), [traced])
    if isinstance(result, BaseException) and not isinstance(result, Exception):
        raise result  # as run_probe lets it through: KeyboardInterrupt, SystemExit
    return [s.to_data() for s in steps]


def _without_forward(message: str) -> str:
    """What torch's 'Module [X] is missing the required "forward" function' means."""
    found = re.search(r"Module \[(\w+)\] is missing the required \"forward\" function", message)
    if not found:
        return ""
    if found[1] in ("ModuleList", "ModuleDict"):
        return (f"\n    An nn.{found[1]} only holds modules and cannot be called: call them one by one in a loop, "
                f"or hold them in nn.Sequential(*modules), which calls them in turn.")
    return (f"\n    {found[1]} has no method named exactly `forward`, so nn.Module cannot call it: check the "
            f"spelling of `def forward(self, ...)` (foward, Forward) and that it is indented inside the class.")


def _fresh_copy(value: Any) -> Any:
    """Inputs are never shared between calls: a learner's in-place edit cannot leak."""
    if isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, dict):
        return {k: _fresh_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_fresh_copy(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_fresh_copy(v) for v in value)
    return value


def error_line(message: str) -> str:
    """`TypeError: ...`: the first line of a describe_exception message, without where it happened."""
    return message.split("\n", 1)[0]


def describe_exception(err: BaseException, learner_dir: Path | None) -> str:
    """`TypeError: ...`, then the last line of the learner's own code it went through."""
    text = f"{type(err).__name__}: {err}".strip()
    if isinstance(err, SyntaxError):
        return f"SyntaxError in {Path(err.filename or '?').name}, line {err.lineno}: {err.msg}\n    {(err.text or '').strip()}"
    frames = traceback.extract_tb(err.__traceback__)
    if learner_dir is not None:
        mine = [f for f in frames if Path(f.filename).resolve().is_relative_to(learner_dir.resolve())]
        if mine:
            f = mine[-1]
            text += f"\n    at {Path(f.filename).name}, line {f.lineno}, in {f.name}: {(f.line or '').strip()}"
            if len(mine) > 1:  # the learner's line that called it: assign raises, the caller's arguments are wrong
                c = mine[-2]
                text += f"\n    called from {Path(c.filename).name}, line {c.lineno}, in {c.name}: {_statement(c)}"
            return text
        if "'NoneType'" in str(err):  # raised in the check's own code, on a result of the learner's
            text += f"\n    {_returned_none(err)}"
    return text


def _statement(frame: traceback.FrameSummary, limit: int = 240) -> str:
    """The whole call at a frame, on one line, even when it spans several lines of source."""
    start = frame.lineno or 0
    end = getattr(frame, "end_lineno", None) or start
    lines = [linecache.getline(frame.filename, n) for n in range(start, min(end, start + 5) + 1)]
    lines = [line.split("  # ", 1)[0] if len(lines) > 1 else line for line in lines]  # no comment mid-statement
    text = " ".join(" ".join(line.split()) for line in lines if line.strip()) or (frame.line or "").strip()
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _returned_none(err: BaseException) -> str:
    """Which function gave the check the None it failed on, read from the check's source at the
    innermost frame outside torch (`loaded = m.load_for_inference(...)`, and `loaded` is None)."""
    called = ""
    for frame, _ in reversed(list(traceback.walk_tb(err.__traceback__))):
        if Path(frame.f_code.co_filename).resolve().is_relative_to(Path(torch.__file__).parent):
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(frame.f_code)))
        except (OSError, TypeError, SyntaxError):
            break
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) \
                    and isinstance(node.value.func, ast.Attribute) \
                    and any(isinstance(t, ast.Name) and t.id in frame.f_locals and frame.f_locals[t.id] is None
                            for t in node.targets):
                called = node.value.func.attr
        break
    which = f"your {called}" if called else "a function or method of yours"
    return f"{which} returned None where the check uses what it returns: did you forget its `return` line?"


# ---------------------------------------------------------------------------------------------
# Judging: trusted code only, on data.


def compare(got: Any, expected: Any, *, dims=None, rtol: float = RTOL, atol: float = ATOL,
            name: str = "output") -> None:
    """Raise `Failed` unless `got` equals `expected` (floats within rtol/atol)."""
    if isinstance(expected, torch.Tensor):
        names = dims.get(name) if isinstance(dims, dict) else dims
        return _compare_tensors(got, expected, names, rtol, atol, name)
    if _is_int(expected) and isinstance(got, float):  # an id, a count, a size: exact, never a float
        raise Failed(WRONG_TYPE, f"{name}: expected an integer, got a float {got!r:.40}"
                                 + (": ids, counts and sizes are ints" if got == expected else ""))
    if isinstance(expected, float):
        got = _as_number(got, name)
        if not (abs(got - expected) <= atol + rtol * abs(expected)):
            raise Failed(WRONG_VALUES, f"{name}: expected {expected:.6g}, got {got:.6g}")
        return
    if isinstance(expected, (list, tuple)):
        if type(got) is type(expected) and _plain(expected) and _plain(got) and got == expected \
                and all(type(g) is type(e) for g, e in zip(got, expected)):
            return  # a long list of ids or strings, equal and of the same types: no need to walk it
        if not isinstance(got, (list, tuple)):
            raise Failed(WRONG_TYPE, f"{name}: expected a {type(expected).__name__}, got {_kind(got)}")
        if len(got) != len(expected):
            raise Failed(WRONG_LENGTH, f"{name}: expected {_items(len(expected))}, got {len(got)}"
                         + _first_difference(got, expected))
        for i, (g, e) in enumerate(zip(got, expected)):
            compare(g, e, dims=dims, rtol=rtol, atol=atol, name=f"{name}[{i}]")
        return
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            raise Failed(WRONG_TYPE, f"{name}: expected a dict, got {_kind(got)}")
        # Keys match by value and type: 3.0 is not the id 3, True is not 1.
        mine = {_exact(k): k for k in got}
        for k in expected:
            if _exact(k) not in mine and k in got:
                other = next(g for g in got if g == k)
                raise Failed(WRONG_TYPE, f"{name}: expected the key {k!r:.40} ({_types(k)}), "
                                         f"got the key {other!r:.40} ({_types(other)})")
        missing = [k for k in expected if _exact(k) not in mine]
        theirs = {_exact(k) for k in expected}
        extra = [k for k in got if _exact(k) not in theirs]
        if missing or extra:
            wrong = ([f"no key {_few(missing)}"] * bool(missing)
                     + [f"unexpected key{'s' * (len(extra) > 1)} {_few(extra)}"] * bool(extra))
            raise Failed(WRONG_VALUES, f"{name} has {' and '.join(wrong)}")
        for k in expected:
            compare(got[mine[_exact(k)]], expected[k], dims=dims, rtol=rtol, atol=atol,
                    name=k if name == "output" and isinstance(k, str) else f"{name}[{k!r}]")
        return
    if type(got) is not type(expected) and not (isinstance(got, int) and isinstance(expected, int)
                                                  and not isinstance(got, bool)):
        raise Failed(WRONG_TYPE, f"{name}: expected {_kind(expected)} {expected!r:.80}, got {_kind(got)} {got!r:.80}")
    if got != expected:
        if isinstance(expected, (str, bytes)):
            at = next((i for i, (g, e) in enumerate(zip(got, expected)) if g != e), min(len(got), len(expected)))
            raise Failed(WRONG_VALUES, f"{name}: first difference at position {at} of {len(expected)}: "
                                       f"expected {_around(expected, at)}, got {_around(got, at)}")
        raise Failed(WRONG_VALUES, f"{name}: expected {_clip(expected)}, got {_clip(got)}")


_PLAIN = (int, str, bytes, bool, type(None))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _types(key: Any) -> str:
    """'an integer', 'a float', 'a tuple of an integer, a float'."""
    if isinstance(key, tuple):
        return "a tuple of " + ", ".join(_types(k) for k in key)
    return "an integer" if _is_int(key) else _kind(key)


def _exact(key: Any) -> Any:
    """A dict key with its type: equal only to a key of the same value and the same type."""
    if isinstance(key, tuple):
        return (tuple, tuple(_exact(k) for k in key))
    return (type(key), key)


def _plain(items) -> bool:
    """Values equality decides alone (never a tensor, never a float with a tolerance). Values
    judged here came through grader.engine.wire, so no learner-defined __eq__ runs."""
    return all(type(x) in _PLAIN for x in items)


def _compare_tensors(got, expected, names, rtol, atol, name) -> None:
    if not isinstance(got, torch.Tensor):
        raise Failed(WRONG_TYPE, f"{name}: expected a tensor of shape {_shape(expected.shape, names)}, got {_kind(got)}")
    if got.shape != expected.shape:
        hint = ""
        if sorted(got.shape) == sorted(expected.shape):
            hint = " (the same sizes in another order: a transpose or a view in the wrong order?)"
        raise Failed(WRONG_SHAPE, f"{name}: expected shape {_shape(expected.shape, names)}, got {tuple(got.shape)}{hint}")
    if got.dtype != expected.dtype:
        raise Failed(WRONG_TYPE, f"{name}: expected a tensor of {_dtype_words(expected.dtype)}, "
                                 f"got a tensor of {_dtype_words(got.dtype)}")
    if not expected.is_floating_point():
        wrong = (got != expected).nonzero()
        if len(wrong):
            at = tuple(wrong[0].tolist())
            raise Failed(WRONG_VALUES, f"{name}: {len(wrong)} of {expected.numel()} elements differ; first at "
                                       f"{_index(at, names)}: expected {expected[at].item()}, got {got[at].item()}")
        return
    g, e = got.double(), expected.double()
    if torch.isclose(g, e, rtol=rtol, atol=atol, equal_nan=True).all():  # the same rule as below, in one call
        return
    nan_where = torch.isnan(g) & ~torch.isnan(e)
    if nan_where.any():
        at = tuple(nan_where.nonzero()[0].tolist())
        raise Failed(WRONG_VALUES, f"{name}: contains NaN ({int(nan_where.sum())} elements), first at "
                                   f"{_index(at, names)} where {expected[at].item():.6g} is expected")
    inf = torch.full_like(g, float("inf"))
    excess = (g - e).abs() - (atol + rtol * e.abs())
    excess = torch.where(g == e, torch.zeros_like(g), excess)  # equal, infinities included
    excess = torch.where((torch.isinf(e) | torch.isinf(g)) & (g != e), inf, excess)  # -inf is not 0
    excess = torch.where(torch.isnan(e) & torch.isnan(g), torch.zeros_like(g), excess)
    excess = torch.where(torch.isnan(e) != torch.isnan(g), inf, excess)
    if (excess > 0).any() and expected.dim() == 0:  # one number: no shape or position to speak of
        raise Failed(WRONG_VALUES, f"{name}: expected {e.item():.6g}, got {g.item():.6g} "
                                   f"(tolerance {atol:g} + {rtol:g} x |expected|)")
    if (excess > 0).any():
        at = tuple(int(i) for i in torch.unravel_index(excess.flatten().argmax(), excess.shape))
        count = int((excess > 0).sum())
        raise Failed(WRONG_VALUES, f"{name} of shape {_shape(expected.shape, names)}: {count} of {expected.numel()} "
                                   f"values differ; worst at {_index(at, names)}: expected {e[at].item():.6g}, "
                                   f"got {g[at].item():.6g} (tolerance {atol:g} + {rtol:g} x |expected|)")


def _dtype_words(dtype: torch.dtype) -> str:
    """'integers (int64)', 'floats (float32)', 'booleans (bool)'."""
    short = str(dtype).removeprefix("torch.")
    kind = "booleans" if dtype == torch.bool else "floats" if dtype.is_floating_point else "integers"
    return f"{kind} ({short})"


def _as_number(value: Any, name: str) -> float:
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.is_floating_point():
        return float(value.item())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise Failed(WRONG_TYPE, f"{name}: expected a number, got {_kind(value)}")


def _kind(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    name = type(value).__name__
    return "None" if value is None else f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def _shape(shape, names) -> str:
    if names and len(names) == len(shape):
        return "(" + ", ".join(f"{n}={s}" for n, s in zip(names, shape)) + ")"
    return str(tuple(shape))


def _index(at, names) -> str:
    if names and len(names) == len(at):
        return "[" + ", ".join(f"{n} {i}" for n, i in zip(names, at)) + "]"
    return str(list(at))


def _items(n: int) -> str:
    return f"{n} item{'' if n == 1 else 's'}"




def _clip(value: Any, width: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= width else text[:width] + " [...]"


def _around(text, at: int, before: int = 20, after: int = 40) -> str:
    """The part of a long str or bytes around position `at`, with ... where it is cut."""
    start, end = max(0, at - before), at + after
    return ("..." if start else "") + repr(text[start:end]) + ("..." if end < len(text) else "")


def _few(items: list) -> str:
    return "none" if not items else ", ".join(repr(i) for i in items[:5]) + (" ..." if len(items) > 5 else "")


def _first_difference(got, expected) -> str:
    for i, (g, e) in enumerate(zip(got, expected)):
        if not _same(g, e):
            return f"; first difference at position {i}: expected {_clip(e, 60)}, got {_clip(g, 60)}"
    return ""


def _same(a: Any, b: Any) -> bool:
    try:
        compare(a, b, rtol=0.0, atol=0.0)
    except Failed:
        return False
    except Exception:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# Verdicts: a check's result on every case, with the mistake it shows if it shows one.


HIDDEN_WORDS = {
    WRONG_VALUES: "your output differs from the expected one",
    WRONG_SHAPE: "your output has the wrong shape",
    WRONG_LENGTH: "your output has the wrong length",
    WRONG_TYPE: "your output has the wrong type",
    EXCEPTION: "your code raised an exception",
    NOT_IMPLEMENTED: "not implemented yet",
    MISSING_NAME: "a name the check needs is missing",
    FORBIDDEN_API: "your code used an API this kata forbids",
    BAD_OUTPUT: "what came back from your code could not be judged",
    TIMEOUT: "your code ran out of time",
    MEMORY: "your code ran out of memory",
    CRASH: "the process running your code died",
}


def hidden_verdict(verdict: Verdict) -> Verdict:
    """A verdict on hidden inputs, as a learner may see it: its headline (the reason), the check
    and the mistake it matches; no message of the learner's code, no value, no seed, no picture.
    The public checks are where the details are."""
    if verdict.passed:
        return replace(verdict, seed=None, message="", visual=None, hidden=True)
    # Not even which exception: code that picks one by the hidden inputs would carry them out.
    words = HIDDEN_WORDS.get(verdict.reason, "this check failed")
    advice = (" The public checks pass? Then look for sizes or values your code assumes."
              if verdict.reason in (WRONG_VALUES, WRONG_SHAPE, WRONG_LENGTH, WRONG_TYPE, EXCEPTION) else "")
    # A declared variant's words are fixed text, never a value: they may stay.
    return replace(verdict, seed=None, visual=None, hidden=True, shows=verdict.shows if verdict.variants else "",
                   diverges="", diverges_in="",
                   message=f"On hidden inputs (other values and sizes than the public checks): {words}.{advice}")


def judge(check: Check, outcome: Outcome, expected: Any, mistakes: dict[str, Any] | None = None,
          seed: int | None = None, raised: dict[str, str] | None = None, inputs: dict | None = None,
          reference_steps: list[trace.Step] | None = None) -> Verdict:
    """The verdict for one case: the outcome against the reference and the known mistakes (by
    their output, or by the error they raise on the same inputs). With `reference_steps` (a
    public case's, never a hidden one's), a failure also says where the learner's recorded
    steps first part from the reference's."""
    made = partial(Verdict, slug=check.slug, task=check.task, check=check.name, seed=seed, what=check.what)
    if outcome.status != "ok":
        line = error_line(outcome.message) if outcome.status == EXCEPTION else None
        candidates = tuple(m for m, text in (raised or {}).items() if text == line)
        words, where = divergence(check, outcome, reference_steps) if outcome.status == EXCEPTION else ("", "")
        return made(reason=outcome.status, message=outcome.message, mistake=candidates[0] if candidates else None,
                    candidates=candidates, diverges=words, diverges_in=where)
    try:
        check.verdict(outcome.value, expected)
    except Failed as failed:
        candidates = recognise(check, outcome.value, mistakes or {})
        variants = matching_variants(check, outcome.value, inputs)
        shows = variant_words(variants) or diagnose(outcome.value, expected, check.dims, inputs)
        words, where = divergence(check, outcome, reference_steps)
        return made(reason=failed.reason, message=failed.message, shows=shows, visual=visual(outcome.value, expected),
                    mistake=candidates[0] if candidates else None, candidates=candidates,
                    variants=tuple(v.name for v in variants), diverges=words, diverges_in=where)
    except Exception as err:  # a judge tripping over strange output is still the output's fault
        return made(reason=BAD_OUTPUT, message=f"your output could not be judged ({type(err).__name__}: {err})")
    return made(reason=PASSED)


def divergence(check: Check, outcome: Outcome, reference_steps: list[trace.Step] | None) -> tuple[str, str]:
    """A Verdict's `diverges` (the line naming the learner's first value that the reference never
    had: trace.Divergence) and `diverges_in` (the function it is in); two empty strings without
    both traces or without a difference. Never raises."""
    if not reference_steps or not outcome.steps:
        return "", ""
    try:
        mine = trace.steps_from_data(outcome.steps)
        found = trace.first_divergence(mine, reference_steps) if mine else None
        return (found.words(f"{check.slug}.py"), found.function) if found else ("", "")
    except Exception:
        return "", ""


def visual(got: Any, expected: Any, limit: int = 32) -> dict | None:
    """The first tensor pair of a failed comparison, as small lists for a picture: its shapes,
    and the first 2-D slice (at most limit x limit) of each when both are float matrices."""
    pairs = [(got, expected)]
    while pairs:
        g, e = pairs.pop(0)
        if isinstance(e, torch.Tensor) and isinstance(g, torch.Tensor):
            if _same(g, e):
                continue
            out = {"expected_shape": list(e.shape), "got_shape": list(g.shape)}
            if (e.dim() >= 2 and g.dim() >= 2 and e.is_floating_point() and g.is_floating_point()
                    and e.numel() and g.numel()):  # an empty slice has no picture (and cannot reshape to one)
                first = lambda t: t.reshape(-1, *t.shape[-2:])[0][:limit, :limit]  # noqa: E731
                out |= {"expected": first(e).double().tolist(),
                        "got": first(g).double().tolist()}
            return out
        if isinstance(e, dict) and isinstance(g, dict):
            pairs += [(g[k], e[k]) for k in e if k in g]
        elif isinstance(e, (list, tuple)) and isinstance(g, (list, tuple)):
            pairs += list(zip(g, e))
    return None


def recognise(check: Check, got: Any, mistakes: dict[str, Any]) -> tuple[str, ...]:
    """Every catalogued mistake whose output on the same inputs equals the learner's, in
    catalogue order (grader.engine.judge.judge_topic drops those whose own task passes)."""
    found = []
    for mistake_id, value in mistakes.items():
        try:
            compare(got, value, dims=check.dims, rtol=check.rtol, atol=check.atol)
        except Exception:  # Failed, or a value the comparison trips over: not this mistake
            continue
        found.append(mistake_id)
    return tuple(found)


def matching_variants(check: Check, got: Any, inputs: dict | None) -> list[Variant]:
    """The check's declared variants whose output on the case's inputs equals the learner's,
    under the check's own tolerance. Never raises: a variant that cannot be computed is skipped."""
    if not check.variants or inputs is None:
        return []
    found = []
    for v in check.variants:
        try:
            compare(got, _variant_value(check, v, inputs), dims=check.dims, rtol=check.rtol, atol=check.atol)
        except Exception:  # Failed, or a variant these inputs do not suit: not this one
            continue
        found.append(v)
    return found


_VARIANT_VALUES: OrderedDict = OrderedDict()  # (id of a case's inputs, check, variant) -> (those inputs, value)


def _variant_value(check: Check, v: Variant, inputs: dict) -> Any:
    """A variant's output on a case's inputs, computed once per case: a class has many submissions
    and one set of cases. The entry holds the inputs, so their id cannot be reused while it lives."""
    key = (id(inputs), check.slug, check.name, v.name)
    if key in _VARIANT_VALUES:
        _VARIANT_VALUES.move_to_end(key)
        return _VARIANT_VALUES[key][1]
    try:
        with torch.random.fork_rng(devices=[]):  # a variant that seeds (dropout) leaves the caller's RNG alone
            value = wire.normalize(v.compute(**_fresh_copy(inputs)))
    except Exception as err:  # remembered too: these inputs do not suit this variant
        value = err
    _VARIANT_VALUES[key] = (inputs, value)
    if len(_VARIANT_VALUES) > 4096:
        _VARIANT_VALUES.popitem(last=False)
    if isinstance(value, Exception):
        raise value
    return value


def variant_words(variants: list[Variant]) -> str:
    """What the matching variants say; hedged when more than one explains the output."""
    if not variants:
        return ""
    if len(variants) == 1:
        return f"Your output equals the reference computed another way, on the same inputs: {variants[0].says}."
    return ("Your output equals the reference computed in more than one other way, on the same inputs. One way to "
            "get it: " + "; another: ".join(v.says for v in variants) + ".")


@dataclass
class TopicResult:
    slug: str
    verdicts: list[Verdict] = field(default_factory=list)

    def by_task(self) -> dict[int, list[Verdict]]:
        tasks: dict[int, list[Verdict]] = {}
        for v in self.verdicts:
            tasks.setdefault(v.task, []).append(v)
        return tasks


# ---------------------------------------------------------------------------------------------
# Helpers for writing checks.


def load_weights(module: torch.nn.Module, weights: dict[str, torch.Tensor]) -> torch.nn.Module:
    """Set the module's parameters to `weights`, with a message that names the book's names.

    Parameters only: buffers such as a causal mask stay as the learner's code built them."""
    mine = dict(module.named_parameters())
    missing, unexpected = sorted(set(weights) - set(mine)), sorted(set(mine) - set(weights))
    if missing or unexpected:
        raise AttributeError(
            f"{type(module).__name__} does not have the book's parameters: it lacks "
            f"{_few(missing)} and has {_few(unexpected)} the book does not. "
            f"Create them with the book's names: {', '.join(sorted(weights))}")
    for name, tensor in mine.items():
        if tensor.shape != weights[name].shape:
            raise AttributeError(f"{type(module).__name__}.{name} has shape {tuple(tensor.shape)}; "
                                 f"the book's is {tuple(weights[name].shape)}")
    with torch.no_grad():
        for name, tensor in mine.items():
            tensor.copy_(weights[name])
    return module


def seeded_construction(got: Any, expected: Any) -> None:
    """Judge for 'same seed, same parameters'. Wrong values there come from the creation order
    (another parameter's random numbers) or from one parameter drawn another way (torch.empty, a
    random B where the book has zeros): the message says which the parameters show."""
    try:
        compare(got, expected)
    except Failed as failed:
        if failed.reason != WRONG_VALUES or " key" in failed.message:  # a wrong shape or name says it all
            raise
        raise Failed(failed.reason, failed.message + "\nThis check is about seeding: with the same "
                     "torch.manual_seed, your module should create the same parameters as the book's. "
                     + _seeding_advice(got, expected)) from None


_ORDER_ADVICE = "Create the layers in the book's order, with the book's shapes."


def _seeding_advice(got: Any, expected: Any) -> str:
    """The order sentence when the parameters come in another order or hold another parameter's
    values; otherwise which parameter is the first drawn differently, and how the book draws it."""
    mine, theirs = _parameters(got), _parameters(expected)
    if mine is not None and theirs is not None and set(mine) == set(theirs) and list(mine) != list(theirs):
        return _order_named(list(mine), list(theirs))
    if mine is None or theirs is None or list(mine) != list(theirs):
        return _ORDER_ADVICE
    first = next((k for k in theirs if not _same_values(mine[k], theirs[k])), None)
    if first is None:
        return _ORDER_ADVICE
    if any(_same_values(mine[first], t) for k, t in theirs.items() if k != first):
        return _ORDER_ADVICE  # another parameter's numbers: drawn in another order
    before = list(theirs).index(first)
    matched = {0: "", 1: ", and the one created before it matches"}.get(before, f", and the {before} created before it match")
    return (f"Your parameters have the book's names, shapes and order{matched}: {first} is initialised differently "
            f"(or random numbers were drawn just before it). {_drawn(mine[first], 'Your ' + first)} "
            f"{_drawn(theirs[first], 'The book' + chr(39) + 's ' + first)}")


def _order_named(mine: list[str], theirs: list[str]) -> str:
    """The order sentence, naming the first layer created out of the book's order: the same
    parameters, listed by named_parameters() in another order, were created in another order."""
    mine_layers = list(dict.fromkeys(name.split(".")[0] for name in mine))
    book_layers = list(dict.fromkeys(name.split(".")[0] for name in theirs))
    first = next((i for i, (a, b) in enumerate(zip(mine_layers, book_layers)) if a != b), None)
    if first is None:
        return _ORDER_ADVICE
    early, late = mine_layers[first], book_layers[first]
    return (f"You create self.{early} before self.{late}; the book creates self.{late} first (its order: "
            f"{', '.join(book_layers)}): under the same seed the order decides which random numbers each layer gets. "
            + _ORDER_ADVICE)


def _parameters(value: Any) -> dict | None:
    """name -> tensor of a seeding check's output (a module's named_parameters, maybe under 'parameters')."""
    if isinstance(value, dict) and isinstance(value.get("parameters"), dict):
        value = value["parameters"]
    if isinstance(value, dict) and value and all(isinstance(t, torch.Tensor) for t in value.values()):
        return value
    return None


def _same_values(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and bool(torch.allclose(a.double(), b.double(), rtol=RTOL, atol=ATOL))


def _drawn(t: torch.Tensor, owner: str) -> str:
    """How a parameter's values look: a constant, memory nobody wrote, or random numbers."""
    values = t.detach().double().flatten()
    if not values.numel():
        return ""
    size = values.abs().nan_to_num(nan=float("inf"))
    odd = (size > 1e30) | ((size < 1e-30) & (size > 0))
    if bool(odd.any()):
        return (f"{owner} holds values such as {values[odd.nonzero()[0, 0]].item():.3g} that nobody drew: "
                f"torch.empty leaves the memory as it was.")
    if bool((values == values[0]).all()):
        fill = {0.0: " (torch.zeros)", 1.0: " (torch.ones)"}.get(values[0].item(), "")
        return f"{owner} holds {values[0].item():g} everywhere{fill}."
    low, high = values.min().item(), values.max().item()
    if owner.startswith("Your "):
        return f"{owner} holds other numbers, between {low:.3g} and {high:.3g}."
    return (f"{owner} holds random numbers between {low:.3g} and {high:.3g} from the seeded generator "
            f"(torch.rand draws from [0, 1), torch.randn from a normal distribution, nn.Linear and "
            f"kaiming_uniform_ from +-bound).")


def sums_to_one(dims, advice: str, sums: Callable[[torch.Tensor], torch.Tensor] = lambda t: t.sum(-1),
                rtol: float = RTOL, atol: float = ATOL):
    """Judge: each row of attention weights sums to 1 (`sums` reads the row sums off the output),
    then the output equals the reference."""
    def judge(got: Any, expected: Any) -> None:
        if isinstance(got, torch.Tensor) and got.is_floating_point() and got.numel():
            rows = sums(got.double())
            off = (rows - 1).abs().nan_to_num(nan=float("inf"))
            if off.max() > 1e-5:
                at = tuple(int(i) for i in torch.unravel_index(off.argmax(), off.shape))
                names = dims[:len(at)] if dims else None
                raise Failed(WRONG_VALUES, f"the attention weights at {_index(at, names)} sum to "
                                           f"{rows[at].item():.4g}, not 1. {advice}")
        compare(got, expected, dims=dims, rtol=rtol, atol=atol)
    return judge


def causal(dims, advice: str, rtol: float = RTOL, atol: float = ATOL):
    """Judge for (output, output with the last token changed): earlier positions must not move."""
    def judge(got: Any, expected: Any) -> None:
        if isinstance(got, (list, tuple)) and len(got) == 2 and all(isinstance(t, torch.Tensor) for t in got):
            before, after = got
            if before.shape == after.shape and before.dim() >= 2:
                moved = (before[:, :-1] - after[:, :-1]).abs().nan_to_num(nan=float("inf")).amax().item()
                if moved > 1e-6:
                    raise Failed(WRONG_VALUES, f"changing only the last token changed the outputs of earlier "
                                               f"tokens (by up to {moved:.3g}): earlier queries can still see "
                                               f"later keys. {advice}")
        compare(got, expected, dims=dims, rtol=rtol, atol=atol)
    return judge


def text_back_through_ids(got: Any, encoder: str) -> Any:
    """For a round-trip probe that returns (ids, decode(ids)): fail unless `ids` are token ids
    (ints, lists of them, or an integer tensor), so an `encode` that hands the text through
    unchanged earns nothing; otherwise the decoded text, for the judge to compare."""
    if not (isinstance(got, tuple) and len(got) == 2):
        return got
    ids, text = got
    if isinstance(ids, torch.Tensor) and not ids.is_floating_point() and ids.dtype != torch.bool:
        ids = ids.tolist()

    def token_ids(v: Any) -> bool:
        return isinstance(v, list) and all(type(i) is int or token_ids(i) for i in v)
    if not token_ids(ids):
        raise Failed(WRONG_TYPE, f"{encoder} returned {_kind(got[0])} {_clip(got[0], 60)}, not token ids: it must "
                                 f"turn the text into integers, one per token, that decode turns back into the text.")
    return text


class _DeviceWatch(torch.utils._python_dispatch.TorchDispatchMode):
    """Records every operation that gets tensors on more than one device (0-dim CPU tensors are
    numbers: PyTorch lets them meet tensors anywhere)."""

    def __init__(self) -> None:
        super().__init__()
        self.mixed: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        leaves = torch.utils._pytree.tree_leaves((args, kwargs or {}))
        devices = {t.device.type for t in leaves if isinstance(t, torch.Tensor) and not (t.dim() == 0 and t.device.type == "cpu")}
        if len(devices) > 1:
            name = func.overloadpacket.__name__
            if name not in self.mixed:
                self.mixed.append(name)
        return func(*args, **(kwargs or {}))


_DYNAMO_SPARED = False


def _spare_dynamo_import() -> None:
    """Some of PyTorch's Python decompositions, which the meta device runs (addmm's `alpha * mm`),
    are wrapped by torch._compile._disable_dynamo, whose first call imports torch._dynamo (some
    800 modules: 1.3 s of CPU quiet, 3 s loaded) only to build a wrapper that matters while
    torch.compile traces, never in eager mode. Give each wrapped function itself as that wrapper
    (0.05 s): the same calls, no import. A function wrapped later, or another torch whose wrapper
    differs, imports torch._dynamo as before: slower, never different."""
    global _DYNAMO_SPARED
    if _DYNAMO_SPARED:
        return
    _DYNAMO_SPARED = True
    import gc
    import types
    try:
        from torch import _compile
        code = _compile._disable_dynamo(lambda: None).__code__
        where = code.co_freevars.index("fn")
    except (AttributeError, TypeError, ValueError):
        return
    for obj in gc.get_objects():
        if type(obj) is types.FunctionType and obj.__code__ is code and obj.__closure__:
            fn = obj.__closure__[where].cell_contents
            if callable(fn) and getattr(fn, "__dynamo_disable", None) is None:
                try:
                    fn.__dynamo_disable = fn
                except (AttributeError, TypeError):
                    pass


def on_another_device(module: torch.nn.Module, *inputs: torch.Tensor) -> dict:
    """Run `module` on PyTorch's meta device (shapes, no values: a stand-in for a GPU): the
    operations that mixed it with the CPU, and the output's shape."""
    _spare_dynamo_import()
    module = module.to("meta")
    watch = _DeviceWatch()
    with watch:
        out = module(*(x.to("meta") for x in inputs))
    return {"mixed": watch.mixed, "shape": tuple(out.shape) if isinstance(out, torch.Tensor) else None}


def one_device(made: str, advice: str, dims=None):
    """Judge for `on_another_device`: nothing mixed devices, then the output shape is right."""
    def judge(got: Any, expected: Any) -> None:
        if isinstance(got, dict) and isinstance(got.get("mixed"), list) and got["mixed"]:
            raise Failed(WRONG_VALUES, f"on another device than the CPU (a GPU), your forward mixes devices in "
                                       f"{', '.join(map(str, got['mixed'][:3]))}: {made} is created on the CPU while "
                                       f"the inputs are elsewhere. {advice}")
        compare(got, expected, dims=dims)
    return judge


# What a wrong output shows when no catalogued mistake matches it ----------------------------------

def diagnose(got: Any, expected: Any, dims=None, inputs: dict | None = None) -> str:
    """One sentence on how a wrong output relates to the expected one (a scale factor, an offset,
    a transpose, the right slices in another order or shifted by one, a count ratio, or one of
    the inputs handed back), or '' when nothing simple explains it. Never raises."""
    try:
        return _relation(got, expected, dims) or _an_input(got, inputs or {}) or ""
    except Exception:
        return ""


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and bool(((a - b).abs() <= 1e-6 + 1e-4 * b.abs().amax()).all())


def _nice(c: float) -> str:
    """c as a simple factor the learner may recognise: 2, 1/2, sqrt(8), 1/sqrt(8), -1."""
    for k in range(2, 1025):
        for value, name in ((k, f"{k}"), (1 / k, f"1/{k}"), (k ** 0.5, f"sqrt({k})"), (k ** -0.5, f"1/sqrt({k})")):
            if abs(c - value) <= 1e-3 * abs(value) and not (name.startswith("sqrt") and int(k ** 0.5) ** 2 == k):
                return f" (= {name})"
    return ""


def _dim(d: int, names) -> str:
    return f"the {names[d]} dim" if names and d < len(names) else f"dim {d}"


def _relation(got: Any, expected: Any, dims) -> str:
    names = dims if isinstance(dims, (tuple, list)) else None
    if isinstance(expected, (list, tuple)) and isinstance(got, (list, tuple)) and len(got) != len(expected) and expected:
        return _count(len(got), len(expected), "items")
    if isinstance(expected, (int, float)) and not isinstance(expected, bool) and isinstance(got, (int, float)) \
            and expected and got != expected:
        c = got / expected
        return f"Yours is {c:.4g} times the expected value{_nice(c)}." if _nice(c) or c == -1 else ""
    if not (isinstance(got, torch.Tensor) and isinstance(expected, torch.Tensor)):
        return ""
    if got.dim() == expected.dim() and got.shape != expected.shape:
        differ = [d for d in range(got.dim()) if got.shape[d] != expected.shape[d]]
        if len(differ) == 1:
            d = differ[0]
            return _count(got.shape[d], expected.shape[d], f"along {_dim(d, names)}")
        return ""
    if got.shape != expected.shape or not (got.is_floating_point() and expected.is_floating_point()):
        return ""
    g, e = got.double(), expected.double()
    if not (torch.isfinite(g).all() and torch.isfinite(e).all()) or e.numel() < 2 or e.abs().amax() == 0:
        return ""
    c = float((g * e).sum() / (e * e).sum())
    if abs(c - 1) > 1e-3 and _close(g, c * e):
        return (f"Your values are {c:.4g} times the expected ones{_nice(c)} everywhere: a scale factor differs "
                f"(a square root of a dimension, a missing division, a sign?).")
    shift = float((g - e).mean())
    if abs(shift) > 1e-5 and _close(g, e + shift):
        return f"Your values are the expected ones plus {shift:.4g} everywhere: a constant offset."
    if e.dim() >= 2 and e.shape[-1] == e.shape[-2] and _close(g, e.transpose(-1, -2)):
        return "Your output is the expected one transposed: its last two dims are swapped."
    for d in range(e.dim()):
        n = e.shape[d]
        if n < 2:
            continue
        if _close(g.narrow(d, 1, n - 1), e.narrow(d, 0, n - 1)) or _close(g.narrow(d, 0, n - 1), e.narrow(d, 1, n - 1)):
            return f"Your output is the expected one shifted by one position along {_dim(d, names)}: an off-by-one."
        gs, es = g.movedim(d, 0).reshape(n, -1), e.movedim(d, 0).reshape(n, -1)
        match = [next((j for j in range(n) if _close(gs[i], es[j])), -1) for i in range(n)]
        if -1 not in match and sorted(match) == list(range(n)) and match != list(range(n)):
            return (f"Your output holds the expected values in another order along {_dim(d, names)}: the slices "
                    f"are right but permuted (an index, a view or a transpose in the wrong order?).")
    return ""


def _count(got: int, expected: int, what: str) -> str:
    if got and expected and max(got, expected) % min(got, expected) == 0 and got != expected:
        k = max(got, expected) // min(got, expected)
        more = "times as many" if got > expected else "times fewer"
        return (f"{got} {what} where {expected} are expected: {k} {more}. A step, a stride or a size differs by "
                f"a factor of {k}?")
    return ""


def _an_input(got: Any, inputs: dict) -> str:
    for name, value in inputs.items():
        if isinstance(value, torch.Tensor) and isinstance(got, torch.Tensor) and value.shape == got.shape \
                and value.dtype == got.dtype and torch.equal(value, got):
            return f"Your output equals the input {name}, unchanged: does the code return its argument?"
        if isinstance(value, str) and got == value:
            return f"Your output equals the input {name}, unchanged: does the code return its argument?"
    return ""


def a_python_float(function: str) -> Callable[[Any, Any], None]:
    """A judge for a check that returns {..., "type": type(result).__name__}: `function` must return
    a Python float, as the book's loss loops do by adding each batch's loss.item()."""
    def judge(got: Any, expected: Any) -> None:
        kind = got.get("type") if isinstance(got, dict) else None
        if kind is not None and kind != expected["type"]:
            raise Failed(WRONG_TYPE, f"{function} returned a {kind}, not a float: add up each batch's loss.item() "
                         f"(a Python number). Adding the loss tensors keeps every batch's computation graph alive "
                         f"while the loop runs, and the caller gets a tensor where it expects a number.")
        compare(got, expected)
    return judge


def every_layer_in(given: str, argument: str) -> Callable[[Any, Any], None]:
    """A judge for a check that returns {layer: the dtype of its weight}: every layer in the dtype
    asked for. `given` says where it was asked, with {} for that dtype ("dtype={} was given");
    `argument` is what to pass to each nn.Linear ("dtype=dtype"). Without it a layer is float32."""
    def judge(got: Any, expected: Any) -> None:
        if isinstance(got, dict) and isinstance(expected, dict) and set(got) == set(expected):
            other = [name for name in expected if got[name] != expected[name]]
            if other:
                raise Failed(WRONG_VALUES, f"{', '.join(other)} {'is' if len(other) == 1 else 'are'} {got[other[0]]} "
                                           f"although {given.format(expected[other[0]])}: pass {argument} to every "
                                           f"nn.Linear, or its weights stay in torch's default float32 and a bfloat16 "
                                           f"input cannot go through it.")
        compare(got, expected)
    return judge


def warm_up() -> None:
    """The first forward on the meta device loads torch's decompositions: pay that once in a
    process that forks children to run checks, not in every child."""
    on_another_device(torch.nn.Linear(1, 1), torch.zeros(1, 1))
