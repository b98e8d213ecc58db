"""A check, written once: the learner's pytest run, the grader and nbgrader all use it as is.

A check has three parts, so that learner code and the verdict can live in different processes:

    inputs(seed) -> dict        trusted: makes the inputs (stored in the fixtures for seed 0)
    probe(m, **inputs) -> value runs the learner's code; in the grader, only in the sandbox
    judge(got, expected)        trusted: raises `Failed` with a message a beginner can act on

`expected` is what the reference's probe returns on the same inputs. Values cross between the
parts as data (`grader.wire`), in pytest as well, so both runs judge exactly the same thing.

    @check(task=1, inputs=lambda seed: {"num_tokens": 5 + seed % 3}, dims=("query", "key"))
    def mask_hides_the_future(m, num_tokens):
        "causal_mask(num_tokens)"
        return m.causal_mask(num_tokens)
"""

from __future__ import annotations

import importlib.util
import inspect
import random
import re
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

from . import wire
from .impl import MissingName

# Reasons a check can end with. Only PASSED scores.
PASSED = "passed"
NOT_IMPLEMENTED = "not_implemented"
MISSING_NAME = "missing_name"
WRONG_VALUES = "wrong_values"
WRONG_SHAPE = "wrong_shape"
WRONG_TYPE = "wrong_type"
EXCEPTION = "exception"
FORBIDDEN_API = "forbidden_api"
BAD_OUTPUT = "bad_output"
TIMEOUT = "timeout"
MEMORY = "memory"
CRASH = "crash"

# What an outcome may say: "ok" (a value for the judge) or why there is none. Never "passed".
OUTCOME_STATUSES = frozenset({"ok", NOT_IMPLEMENTED, MISSING_NAME, WRONG_VALUES, WRONG_SHAPE, WRONG_TYPE,
                              EXCEPTION, FORBIDDEN_API, BAD_OUTPUT, TIMEOUT, MEMORY, CRASH})

MESSAGE_CAP = 4000  # characters of an error message kept: learner code can raise anything
PROBE_SEED = 20240  # every probe starts from the same RNG state, whatever ran before it
RTOL, ATOL = 1e-5, 1e-6  # float32 defaults; a check states it when it needs more


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
          rtol: float = RTOL, atol: float = ATOL, seeds: tuple[int, ...] = (0,)):
    """Declare a check in tests/test_<slug>.py; pytest collects it through grader.pytest_plugin."""
    def declare(probe: Callable[..., Any]) -> Check:
        slug = Path(inspect.getfile(probe)).stem.removeprefix("test_")
        return Check(slug, task, probe.__name__, probe, inputs or (lambda seed: {}), judge, dims,
                     rtol, atol, seeds)
    return declare


def load_checks(test_file: Path) -> list[Check]:
    """The checks of one topic, in the order the file defines them (trusted code)."""
    name = f"kata_checks_{test_file.stem}"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, test_file)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return [v for v in vars(module).values() if isinstance(v, Check)]


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

    def to_data(self) -> dict:
        return {"status": self.status, "value": self.value, "message": self.message[:MESSAGE_CAP]}

    @classmethod
    def from_data(cls, data: Any) -> "Outcome":
        """Read an outcome that may come from learner code: only a judge decides that a check
        passed, so "passed", or anything else but "ok" and a reason to fail, is bad output."""
        if not isinstance(data, dict) or data.get("status") not in OUTCOME_STATUSES:
            return cls(BAD_OUTPUT, message="what came back from your code is not a result")
        return cls(data["status"], data.get("value"), str(data.get("message", ""))[:MESSAGE_CAP])


def run_probe(check: Check, module: Any, inputs: dict, learner_dir: Path | None = None) -> Outcome:
    """Call the probe on the learner's module; never raises for anything the learner did."""
    torch.default_generator.manual_seed(PROBE_SEED)  # torch.manual_seed also seeds every accelerator: 1 ms
    torch.set_num_threads(1)  # the same float rounding on every machine, in pytest and the grader
    torch.set_default_dtype(torch.float32)
    torch.set_grad_enabled(True)
    try:
        value = check.probe(module, **_fresh_copy(inputs))
        value = wire.normalize(value)  # exactly what would cross the sandbox boundary
    except NotImplementedError as err:
        what = str(err) or "a function"
        return Outcome(NOT_IMPLEMENTED, message=f"not implemented yet ({what})")
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
    return text


# ---------------------------------------------------------------------------------------------
# Judging: trusted code only, on data.


def compare(got: Any, expected: Any, *, dims=None, rtol: float = RTOL, atol: float = ATOL,
            name: str = "output") -> None:
    """Raise `Failed` unless `got` equals `expected` (floats within rtol/atol)."""
    if isinstance(expected, torch.Tensor):
        names = dims.get(name) if isinstance(dims, dict) else dims
        return _compare_tensors(got, expected, names, rtol, atol, name)
    if isinstance(expected, float) or (isinstance(expected, int) and not isinstance(expected, bool)
                                        and isinstance(got, float)):
        got = _as_number(got, name)
        if not (abs(got - expected) <= atol + rtol * abs(expected)):
            raise Failed(WRONG_VALUES, f"{name}: expected {expected:.6g}, got {got:.6g}")
        return
    if isinstance(expected, (list, tuple)):
        if type(got) is type(expected) and _plain(expected) and got == expected:
            return  # a long list of ids or strings, equal: no need to walk it
        if not isinstance(got, (list, tuple)):
            raise Failed(WRONG_TYPE, f"{name}: expected a {type(expected).__name__}, got {_kind(got)}")
        if len(got) != len(expected):
            raise Failed(WRONG_SHAPE, f"{name}: expected {_items(len(expected))}, got {len(got)}"
                         + _first_difference(got, expected))
        for i, (g, e) in enumerate(zip(got, expected)):
            compare(g, e, dims=dims, rtol=rtol, atol=atol, name=f"{name}[{i}]")
        return
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            raise Failed(WRONG_TYPE, f"{name}: expected a dict, got {_kind(got)}")
        missing = [k for k in expected if k not in got]
        extra = [k for k in got if k not in expected]
        if missing or extra:
            wrong = ([f"no key {_few(missing)}"] * bool(missing)
                     + [f"unexpected key{'s' * (len(extra) > 1)} {_few(extra)}"] * bool(extra))
            raise Failed(WRONG_VALUES, f"{name} has {' and '.join(wrong)}")
        for k in expected:
            compare(got[k], expected[k], dims=dims, rtol=rtol, atol=atol,
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


def _plain(items) -> bool:
    """Values equality decides alone (never a tensor, never a float with a tolerance). Values
    judged here came through grader.wire, so no learner-defined __eq__ runs."""
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
        raise Failed(WRONG_TYPE, f"{name}: expected dtype {str(expected.dtype).removeprefix('torch.')}, "
                                 f"got {str(got.dtype).removeprefix('torch.')}")
    if not expected.is_floating_point():
        wrong = (got != expected).nonzero()
        if len(wrong):
            at = tuple(wrong[0].tolist())
            raise Failed(WRONG_VALUES, f"{name}: {len(wrong)} of {expected.numel()} elements differ; first at "
                                       f"{_index(at, names)}: expected {expected[at].item()}, got {got[at].item()}")
        return
    g, e = got.double(), expected.double()
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


def _as_number(value: Any, name: str) -> float:
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.is_floating_point():
        return float(value.item())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise Failed(WRONG_TYPE, f"{name}: expected a number, got {_kind(value)}")


def _kind(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    return "None" if value is None else f"a {type(value).__name__}"


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


_LENGTH = re.compile(r"expected \d+ items?, got \d+")  # the message compare raises for a list's length


def is_wrong_length(verdict: "Verdict") -> bool:
    """A wrong shape that is a list's length, not a tensor's shape."""
    return verdict.reason == WRONG_SHAPE and bool(_LENGTH.search(verdict.message))


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


@dataclass
class Verdict:
    slug: str
    task: int
    check: str
    reason: str
    message: str = ""
    mistake: str | None = None  # the id of a catalogued mistake the output matches
    seed: int | None = None
    what: str = ""
    visual: dict | None = None  # what a picture of the failure needs (see `visual`)

    @property
    def passed(self) -> bool:
        return self.reason == PASSED


def judge(check: Check, outcome: Outcome, expected: Any, mistakes: dict[str, Any] | None = None,
          seed: int | None = None, raised: dict[str, str] | None = None) -> Verdict:
    """The verdict for one case: the outcome against the reference and the known mistakes (by
    their output, or by the error they raise on the same inputs)."""
    base = dict(slug=check.slug, task=check.task, check=check.name, seed=seed, what=check.what)
    if outcome.status != "ok":
        line = error_line(outcome.message) if outcome.status == EXCEPTION else None
        mistake = next((m for m, text in (raised or {}).items() if text == line), None)
        return Verdict(reason=outcome.status, message=outcome.message, mistake=mistake, **base)
    try:
        check.verdict(outcome.value, expected)
    except Failed as failed:
        return Verdict(reason=failed.reason, message=failed.message, visual=visual(outcome.value, expected),
                       mistake=recognise(check, outcome.value, mistakes or {}), **base)
    except Exception as err:  # a judge tripping over strange output is still the output's fault
        return Verdict(reason=BAD_OUTPUT, message=f"your output could not be judged ({type(err).__name__}: {err})", **base)
    return Verdict(reason=PASSED, **base)


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


def recognise(check: Check, got: Any, mistakes: dict[str, Any]) -> str | None:
    """The first catalogued mistake whose output on the same inputs equals the learner's."""
    for mistake_id, value in mistakes.items():
        try:
            compare(got, value, dims=check.dims, rtol=check.rtol, atol=check.atol)
        except Failed:
            continue
        except Exception:
            continue
        return mistake_id
    return None


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
    """Judge for 'same seed, same parameters': the failure is about creation order, not maths."""
    try:
        compare(got, expected)
    except Failed as failed:
        if failed.reason != WRONG_VALUES or " key" in failed.message:  # a wrong shape or name says it all
            raise
        raise Failed(failed.reason, failed.message + "\nThis check is about seeding: with the same "
                     "torch.manual_seed, your module should create the same parameters as the book's. "
                     "Create the layers in the book's order, with the book's shapes.") from None


def sums_to_one(dims, advice: str, sums: Callable[[torch.Tensor], torch.Tensor] = lambda t: t.sum(-1)):
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
        compare(got, expected, dims=dims)
    return judge


def causal(dims, advice: str):
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
        compare(got, expected, dims=dims)
    return judge
