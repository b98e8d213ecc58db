"""Where the learner's values first part from the reference's: what a mentor does when no
catalogued mistake explains a failure, run both on the same inputs and point at the first
intermediate value that differs.

    record(call, files) -> (result or exception, steps)
        runs `call()` under sys.settrace; only frames whose code lives in one of `files` (the
        topic's own module) get a local tracer, so the grader's, torch's and other topics' code
        run untraced. At each 'line' and 'return' event of such a frame, every local name whose
        bound object changed identity since the frame's last event (the arguments at its first
        line) becomes a Step: (function qualname, name, line where it was bound, summary); so
        does what a frame returns (name "return"; not an exception leaving it, nor a yield) and,
        when __init__ returns, what it set on self ("self.head_dim"). Bounded: MAX_STEPS per
        call (then tracing stops), MAX_PER_NAME per (function, name), MAX_CALLS traced calls per
        function and MAX_LINES line events per call: the cost stays a fraction of a second.
    summary(value)    small plain data: a tensor's shape, dtype and float64 stats (sum, sum of
                      |x|, SAMPLES values at fixed evenly spaced flat positions); a number's
                      value; a str/list/tuple/dict's length, a stable hash of its clipped text
                      (tensors in it by their shape) and a preview, and for a short list or tuple
                      of tensors each one's stats. None for what is not a value (modules,
                      functions, classes, generators; self is skipped by name).
    steps_from_data(data)   hostile data (from the sandbox) to steps, or None: bounded, validated.
    first_divergence(mine, reference) -> Divergence | None
        the learner's first step whose summary equals none of the reference's for the same
        (function, name); names the reference never binds are skipped. Floats within
        RTOL/ATOL (a Python float within SCALAR_ATOL), shapes, dtypes and int/float exactly.
    Divergence.words(module_file)   the line the message shows.

The probe records the steps of a check's first public case (grader.engine.checks.run_probe); the
reference's are stored per topic in tests/fixtures/<slug>.trace.json by the fixtures builder, so
a release without solutions/ has them. No torch import here: torch is used only when a value is
a tensor, through sys.modules.
"""

from __future__ import annotations

import contextlib
import dis
import hashlib
import math
import os
import sys
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Iterable

MAX_STEPS = 300  # per call; once reached, the tracer stops (no more line events either)
MAX_PER_NAME = 20  # per (function, name): a loop's variable is kept 20 times
MAX_CALLS = 4  # calls traced per function: a generation loop's hundredth forward repeats its first
MAX_LINES = 400  # line events traced per call: a loop over GPT-2's 50,000 merges is seen only at its start
MAX_ITEMS = 4  # tensors of a short list or tuple summarised one by one
SAMPLES = 16  # values of a tensor at fixed evenly spaced flat positions
CLIP = 200  # characters of a repr hashed and kept
PREVIEW = 60
RTOL, ATOL = 1e-4, 1e-5  # float32 through a few matmuls (checks.DEEP_RTOL, DEEP_ATOL)
SCALAR_ATOL = 1e-7  # a Python float (an eps, a loss): eps 1e-6 is not 1e-5, float32 noise near 0 is ~1e-8
MAX_NAME = 200  # characters of a qualname or a local name crossing the wire


@dataclass(frozen=True)
class Step:
    function: str  # the code's qualname: "MultiHeadAttention.forward"
    name: str
    line: int  # where the name was bound (the line executed before the event that saw it)
    summary: dict

    def to_data(self) -> list:
        return [self.function, self.name, self.line, self.summary]


def summary(value: Any) -> dict | None:
    """Small plain data that stands for a value (see the module's docstring); None to ignore it."""
    if value is None or isinstance(value, bool):
        return {"kind": "const", "value": value}
    if isinstance(value, int):
        return {"kind": "int", "value": value if abs(value) < 2 ** 53 else float(value)}
    if isinstance(value, float):
        return {"kind": "float", "value": value if math.isfinite(value) else repr(value)}
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        return _tensor(torch, value)
    if isinstance(value, (str, bytes, list, tuple, dict)):
        text = _text(value, [CLIP])
        out = {"kind": type(value).__name__, "len": len(value),
               "hash": hashlib.sha1(text.encode("utf-8", "replace")).hexdigest()[:16], "preview": text[:PREVIEW]}
        if isinstance(value, (list, tuple)) and 0 < len(value) <= MAX_ITEMS and torch is not None \
                and any(isinstance(v, torch.Tensor) for v in value):
            # (inputs, targets): the text shows only shapes; each tensor's stats tell the values apart.
            out["items"] = [_tensor(torch, v) if isinstance(v, torch.Tensor) else {"kind": "const", "value": None}
                            for v in value]
        return out
    return None


def _text(value: Any, budget: list[int]) -> str:
    """A value's text, at most `budget[0]` characters in all, without running anything the
    learner defined: plain values as repr (floats to 6 digits: torch's last bit may differ
    between CPUs), tensors as their shape, containers item by item, anything else by its type."""
    if budget[0] <= 0:
        return ""
    torch = sys.modules.get("torch")
    if isinstance(value, (list, tuple, dict)):
        items = value.items() if isinstance(value, dict) else value
        open_ = {list: "[]", tuple: "()", dict: "{}"}.get(type(value), "<>")
        parts = []
        for item in items:
            if budget[0] <= 0:
                break
            if isinstance(value, dict):
                part = _text(item[0], budget) + ": " + _text(item[1], budget)
            else:
                part = _text(item, budget)
            parts.append(part)
        text = open_[0] + ", ".join(parts) + open_[1]
    elif isinstance(value, float):
        text = format(value, ".6g")
    elif type(value) in (str, bytes, int, bool, type(None)):
        text = repr(value)[:budget[0]]
    elif torch is not None and isinstance(value, torch.Tensor):
        text = f"tensor{tuple(value.shape)}"
    else:
        text = type(value).__name__
    budget[0] -= len(text)
    return text


def _tensor(torch: Any, t: Any) -> dict:
    out: dict = {"kind": "tensor", "shape": list(t.shape), "dtype": str(t.dtype).removeprefix("torch.")}
    try:
        if t.device.type != "cpu" or t.is_sparse or t.is_complex() or not t.numel():
            return out
        with torch.no_grad(), _no_modes(torch):  # a kata's forbidden-API guard need not see these
            flat = t.detach().reshape(-1)
            at = _positions(torch, flat.numel())
            values = flat.double()
            out["sum"], out["abs"] = (_number(x) for x in torch.stack([values.sum(), values.abs().sum()]).tolist())
            out["sample"] = [_number(x) for x in values[at].tolist()]
    except Exception:  # a tensor subclass, a fake or meta tensor: its shape says enough
        out.pop("sum", None), out.pop("abs", None), out.pop("sample", None)
    return out


def _no_modes(torch: Any) -> Any:
    disable = getattr(torch._C, "DisableTorchFunction", None)
    return disable() if disable is not None else contextlib.nullcontext()


_POSITIONS: dict[int, Any] = {}


def _positions(torch: Any, n: int) -> Any:
    """SAMPLES evenly spaced flat positions of n elements (fewer when n is smaller), as a tensor."""
    if n not in _POSITIONS:
        if len(_POSITIONS) > 4096:
            _POSITIONS.clear()
        k = min(SAMPLES, n)
        _POSITIONS[n] = torch.tensor(sorted({(i * (n - 1)) // max(1, k - 1) for i in range(k)}))
    return _POSITIONS[n]


def _number(x: float) -> float | str:
    """x to 9 significant digits (float32 holds fewer); JSON holds no NaN: "nan", "inf", "-inf"."""
    return float(f"{x:.9g}") if math.isfinite(x) else repr(x)


def _ignored(name: str, value: Any) -> bool:
    return name == "self" or name.startswith("__")


def _real(path: str) -> str:
    try:
        return os.path.realpath(path)
    except (OSError, ValueError):
        return path


_RETURNS = frozenset(dis.opmap[name] for name in ("RETURN_VALUE", "RETURN_CONST") if name in dis.opmap)


def record(call: Callable[[], Any], files: Iterable[str | os.PathLike]) -> tuple[Any, list[Step]]:
    """(what call() returned, or the exception it raised, and the steps of frames in `files`)."""
    wanted = {_real(os.fspath(f)) for f in files}
    known: dict[str, bool] = {}  # co_filename -> is it one of `files`
    calls: dict[Any, int] = {}  # code object -> calls traced
    steps: list[Step] = []
    per_name: dict[tuple[str, str], int] = {}
    frames: dict[int, tuple[Any, dict[str, int], int]] = {}  # id(frame) -> (frame, name -> id of its object, last line)
    lines: dict[int, int] = {}  # id(frame) -> line events seen
    full = False

    def see(frame: Any, line: int, extra: tuple[tuple[str, Any], ...] = ()) -> None:
        nonlocal full
        qualname = getattr(frame.f_code, "co_qualname", frame.f_code.co_name)
        _, seen, _ = frames.get(id(frame), (None, {}, line))
        now = {}
        for name, value in [*frame.f_locals.items(), *extra]:
            if _ignored(name, value):
                continue
            now[name] = id(value)
            if seen.get(name) == id(value):
                continue
            key = (qualname, name)
            if per_name.get(key, 0) >= MAX_PER_NAME:
                continue
            described = summary(value)
            if described is None:
                continue
            per_name[key] = per_name.get(key, 0) + 1
            steps.append(Step(qualname, name, line, described))
            if len(steps) >= MAX_STEPS:
                full = True
                return
        frames[id(frame)] = (frame, now, frames.get(id(frame), (None, None, line))[2])

    def returned(frame: Any, value: Any) -> tuple[tuple[str, Any], ...]:
        """What a frame that returns normally hands back, and after __init__ the attributes it set
        on self (self.head_dim), as names no local can have: "return", "self.head_dim"."""
        out: tuple[tuple[str, Any], ...] = (("return", value),)
        if frame.f_code.co_name == "__init__":
            me = frame.f_locals.get("self")
            try:
                attributes = [(f"self.{k}", v) for k, v in vars(me).items() if not k.startswith("_") and k != "training"]
            except TypeError:
                attributes = []
            out += tuple(attributes)
        return out

    def local(frame: Any, event: str, arg: Any) -> Any:
        if full:
            frame.f_trace = None  # returning None alone does not stop a frame's line events
            return None
        entry = frames.get(id(frame))
        if entry is None or entry[0] is not frame:
            frames[id(frame)] = entry = (frame, {}, frame.f_code.co_firstlineno)
            lines[id(frame)] = 0
        if event == "line":
            lines[id(frame)] += 1
            if lines[id(frame)] > MAX_LINES:
                frames.pop(id(frame), None)
                frame.f_trace = None  # this frame is traced no further
                return None
        if event in ("line", "return"):
            # A return, not an exception leaving the frame nor a generator's yield:
            normal = event == "return" and frame.f_code.co_code[frame.f_lasti] in _RETURNS
            see(frame, entry[2] if event == "line" else frame.f_lineno, returned(frame, arg) if normal else ())
            if event == "line" and not full:
                f, seen, _ = frames[id(frame)]
                frames[id(frame)] = (f, seen, frame.f_lineno)
            if event == "return":
                frames.pop(id(frame), None)
                lines.pop(id(frame), None)
        if full:
            frame.f_trace = None
            return None
        return local

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        if full or event != "call":
            return None
        name = frame.f_code.co_filename
        mine = known.get(name)
        if mine is None:
            mine = known[name] = _real(name) in wanted
        if not mine:
            return None
        code = frame.f_code
        calls[code] = calls.get(code, 0) + 1
        return local if calls[code] <= MAX_CALLS else None

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        result: Any = call()
    except BaseException as err:  # the caller decides what an exception means
        result = err
    finally:
        sys.settrace(previous)
    return result, steps


# ---------------------------------------------------------------------------------------------
# Steps as data: from the sandbox, or from a trace file; anything malformed is dropped.

_KINDS = {"const", "int", "float", "tensor", "str", "bytes", "list", "tuple", "dict"}


def steps_from_data(data: Any) -> list[Step] | None:
    """The steps `data` holds, or None when it is not exactly a list of at most MAX_STEPS
    well-formed steps. Never raises, whatever `data` is."""
    try:
        if type(data) is not list or len(data) > MAX_STEPS:
            return None
        steps = []
        for item in data:
            step = _step(item)
            if step is None:
                return None
            steps.append(step)
        return steps
    except Exception:
        return None


def _step(item: Any) -> Step | None:
    if type(item) not in (list, tuple) or len(item) != 4:
        return None
    function, name, line, described = item
    if not (type(function) is str and type(name) is str and 0 < len(function) <= MAX_NAME and 0 < len(name) <= MAX_NAME
            and type(line) is int and 0 <= line < 10 ** 7 and _summary_ok(described)):
        return None
    return Step(function, name, line, described)


def _finite_or_word(x: Any) -> bool:
    return (type(x) in (int, float) and math.isfinite(x)) or x in ("nan", "inf", "-inf")


def _summary_ok(s: Any) -> bool:
    if type(s) is not dict or s.get("kind") not in _KINDS:
        return False
    kind = s["kind"]
    if kind == "const":
        return set(s) == {"kind", "value"} and s["value"] in (None, True, False) and type(s["value"]) in (bool, type(None))
    if kind in ("int", "float"):
        return set(s) == {"kind", "value"} and _finite_or_word(s["value"])
    if kind == "tensor":
        shape, dtype = s.get("shape"), s.get("dtype")
        if not (set(s) in ({"kind", "shape", "dtype"}, {"kind", "shape", "dtype", "sum", "abs", "sample"})
                and type(shape) is list and len(shape) <= 8 and all(type(d) is int and 0 <= d < 2 ** 40 for d in shape)
                and type(dtype) is str and len(dtype) <= 20):
            return False
        if "sum" in s:
            sample = s["sample"]
            return (_finite_or_word(s["sum"]) and _finite_or_word(s["abs"]) and type(sample) is list
                    and len(sample) <= SAMPLES and all(_finite_or_word(x) for x in sample))
        return True
    items = s.get("items")
    return (set(s) - {"items"} == {"kind", "len", "hash", "preview"} and type(s["len"]) is int and 0 <= s["len"] < 2 ** 40
            and type(s["hash"]) is str and len(s["hash"]) <= 16 and type(s["preview"]) is str
            and len(s["preview"]) <= PREVIEW
            and (items is None or (kind in ("list", "tuple") and type(items) is list and len(items) <= MAX_ITEMS
                                   and all(type(i) is dict and i.get("kind") in ("tensor", "const") and _summary_ok(i)
                                           for i in items))))


# ---------------------------------------------------------------------------------------------
# Comparing: the learner's steps against the reference's.


def _as_float(x: Any) -> float:
    return float(x)  # "nan", "inf", "-inf" as well


def _close(a: Any, b: Any, scale: float = 0.0, atol: float = ATOL) -> bool:
    x, y = _as_float(a), _as_float(b)
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    if x == y:
        return True
    return abs(x - y) <= atol + RTOL * max(abs(y), scale)


def same(mine: dict, theirs: dict) -> bool:
    """Whether two summaries stand for the same value (floats within RTOL/ATOL)."""
    if mine.get("kind") != theirs.get("kind"):  # a float where the reference has an int is a slip (/ for //)
        return False
    kind = mine["kind"]
    if kind == "const":
        return mine["value"] is theirs["value"]
    if kind == "int":
        return mine["value"] == theirs["value"]
    if kind == "float":
        return _close(mine["value"], theirs["value"], atol=SCALAR_ATOL)
    if kind == "tensor":
        if mine["shape"] != theirs["shape"] or mine["dtype"] != theirs["dtype"]:
            return False
        if "sum" not in mine or "sum" not in theirs:
            return True  # no values to compare (another device)
        scale = _as_float(theirs["abs"]) if math.isfinite(_as_float(theirs["abs"])) else 0.0
        return (_close(mine["sum"], theirs["sum"], scale) and _close(mine["abs"], theirs["abs"])
                and len(mine["sample"]) == len(theirs["sample"])
                and all(_close(a, b) for a, b in zip(mine["sample"], theirs["sample"])))
    if "items" in mine and "items" in theirs and (len(mine["items"]) != len(theirs["items"])
                                                  or not all(same(a, b) for a, b in zip(mine["items"], theirs["items"]))):
        return False
    return mine["len"] == theirs["len"] and mine["hash"] == theirs["hash"]


@dataclass(frozen=True)
class Divergence:
    step: Step  # the learner's
    theirs: tuple[dict, ...]  # the reference's summaries for the same (function, name), in order
    index: int = 0  # which of the learner's bindings of that (function, name) this is (0: the first)
    bound: tuple[int, int] | None = None  # how many times (learner, reference) bound that (function, name)

    @property
    def function(self) -> str:
        """The function the differing value is in (`enclosing`): Verdict.diverges_in."""
        return enclosing(self.step.function)

    def words(self, module_file: str = "") -> str:
        """One line for the message: what differs, where, and how."""
        s = self.step
        file = module_file + ", " if module_file else ""
        function = readable(s.function)
        if s.name == "return":
            what = f"what {function} returns ({file}line {s.line})"
        elif s.name.startswith("self."):
            what = f"`{s.name}` as {function} leaves it ({module_file or 'your module'})"
        else:
            what = f"`{s.name}` in {function} ({file}line {s.line})"
        paired = self.theirs[min(self.index, len(self.theirs) - 1)]
        if not _alike(s.summary, paired):  # the reference binds that name to other things too (two list
            paired = next((t for t in self.theirs if _alike(s.summary, t)), paired)  # comprehensions): its own kind
        if (self.bound and self.bound[0] > self.bound[1] and s.summary["kind"] != "tensor"
                and (paired["kind"], paired.get("len")) != (s.summary["kind"], s.summary.get("len"))):
            # More bindings than the reference's, and the one at the same place in order is not even
            # alike: the learner's n-th is not the reference's n-th (an extra `new_item =
            # new_item[:L]` in a loop), so no reference value is its pair.
            mine, name = s.summary, s.name
            value = (f"{_kind(mine)} of length {mine['len']}" if "len" in mine
                     else f"{_kind(mine)} {_plain(mine['value'])}" if mine["kind"] in ("int", "float")
                     else _kind(mine))
            never = all((t["kind"], t.get("len")) != (mine["kind"], mine.get("len")) for t in self.theirs)
            how = value + ((f", a value the reference's {function} never returns" if name == "return" else
                            f", a value the reference's `{name}` never takes") if never else "")
            how += (f"; on these inputs your {function} returns {self.bound[0]} times, the reference's "
                    f"{self.bound[1]} times" if name == "return" else
                    f"; on these inputs your `{name}` is set {self.bound[0]} times, the reference's {self.bound[1]} times")
        else:
            how = _how(s.summary, paired, self.theirs)
        return (f"The first of your values that differs from the reference's on these inputs: {what}: {how}"
                + ("" if how.endswith(".") else "."))


# Code a qualname shows as <locals>.<listcomp> and the like (a comprehension runs in a frame of its
# own), in words a learner knows.
_INNER = {"<listcomp>": "the list comprehension", "<dictcomp>": "the dict comprehension",
          "<setcomp>": "the set comprehension", "<genexpr>": "the generator expression", "<lambda>": "the lambda"}


def enclosing(function: str) -> str:
    """The function a qualname's code is written in: "SpamDataset.__init__" for its list
    comprehension, the qualname itself for any other."""
    outer, sep, inner = function.rpartition(".<locals>.")
    return outer if sep and inner in _INNER else function


def readable(function: str) -> str:
    """A qualname as the message shows it: "SpamDataset.__init__.<locals>.<listcomp>" is "the list
    comprehension in SpamDataset.__init__"; any other qualname stays as it is."""
    outer, sep, inner = function.rpartition(".<locals>.")
    return f"{_INNER[inner]} in {outer}" if sep and inner in _INNER else function


def _how(mine: dict, ref: dict, theirs: tuple[dict, ...]) -> str:
    """How `mine` differs from `ref` (the reference's binding at the same place in order)."""
    if mine["kind"] == "tensor" and all(t["kind"] == "tensor" for t in theirs):
        shapes = [t["shape"] for t in theirs]
        if mine["shape"] not in shapes:
            # The reference's shape most like the learner's: the same sizes in another order, else the same rank.
            like = next((s for s in [ref["shape"], *shapes] if sorted(s) == sorted(mine["shape"])),
                        next((s for s in [ref["shape"], *shapes] if len(s) == len(mine["shape"])), ref["shape"]))
            return f"shape {_shape(mine['shape'])} where the reference has {_shape(like)}"
        match = ref if ref["shape"] == mine["shape"] else next(t for t in theirs if t["shape"] == mine["shape"])
        if mine["dtype"] != match["dtype"]:
            return f"dtype {mine['dtype']} where the reference has {match['dtype']}"
        if "sample" in mine and "sample" in match:
            return _differing(mine, match)
        return "other values than the reference's"
    if mine["kind"] != ref["kind"]:
        values = [f" {_plain(s['value'])}" if s["kind"] in ("int", "float") else "" for s in (mine, ref)]
        return f"{_kind(mine)}{values[0]} where the reference has {_kind(ref)}{values[1]}"
    if mine["kind"] in ("int", "float", "const"):
        a, b = _as_float(mine["value"]) if mine["kind"] != "const" else mine["value"], \
            _as_float(ref["value"]) if ref["kind"] != "const" else ref["value"]
        if isinstance(a, float) and isinstance(b, float):
            a, b = _apart(a, b)
        return f"{_plain(a)} where the reference has {_plain(b)}"
    if mine["len"] != ref["len"]:
        return f"{_kind(mine)} of length {mine['len']} where the reference's has length {ref['len']}"
    for n, (a, b) in enumerate(zip(mine.get("items", ()), ref.get("items", ()))):
        if not same(a, b):
            return f"item {n}: " + _how(a, b, (b,))
    return _first_item(mine, ref) + f"{_shown(mine['preview'])} where the reference has {_shown(ref['preview'])}"


def _shown(preview: str) -> str:
    """A preview as the message shows it: one cut short ends in " ...", not in half an item that
    reads as another value (hostile round 13: "'I': 5, 'Not")."""
    return preview + " ..." if len(preview) >= PREVIEW else preview


def _first_item(mine: dict, ref: dict) -> str:
    """"item 13 is 93 where the reference's is 4: " for two lists of numbers whose previews show
    the first item that differs, after the first; '' otherwise (the first is plain to see)."""
    if mine["kind"] not in ("list", "tuple"):
        return ""
    opening, closing = ("(", ")") if mine["kind"] == "tuple" else ("[", "]")

    def items(preview: str) -> list[str]:
        if len(preview) < PREVIEW and preview.endswith(closing):  # the whole value
            return preview[1:-1].split(", ")
        return preview[1:].split(", ")[:-1]  # cut short: its last item may be too
    if not mine["preview"].startswith(opening) or not ref["preview"].startswith(opening):
        return ""
    for n, (x, y) in enumerate(zip(items(mine["preview"]), items(ref["preview"]))):
        if x != y:
            numbers = all(v.lstrip("-").replace(".", "", 1).isdigit() for v in (x, y))
            return f"item {n} is {x} where the reference's is {y}: " if numbers and n else ""  # item 0 shows
    return ""


def _alike(mine: dict, ref: dict) -> bool:
    """Values of one kind: the same type, and for a list or tuple items of the same type as far
    as its preview shows (ids are not token strings). Lengths may differ: that is a difference
    worth saying of the value paired in order."""
    def items(s: dict) -> str:
        preview = s.get("preview", "")
        return preview[1:2] if s["kind"] in ("list", "tuple") else ""
    return mine["kind"] == ref["kind"] and \
        (items(mine) == items(ref) or not items(mine) or not items(ref) or (items(mine) + items(ref)).isdigit())


def _differing(mine: dict, ref: dict) -> str:
    """A few of the sampled values that differ, each pair with the digits that tell them apart;
    the sums when every sampled value agrees."""
    pairs = [(_as_float(a), _as_float(b)) for a, b in zip(mine["sample"], ref["sample"])]
    off = [(a, b) for a, b in pairs if not _close(a, b)]
    if not off:
        a, b = _apart(_as_float(mine["sum"]), _as_float(ref["sum"]))
        return f"values that sum to {a} where the reference's sum to {b}"
    exact = not mine["dtype"].startswith(("float", "bfloat"))  # ids, counts, booleans: as integers
    shown = [(f"{a:.0f}", f"{b:.0f}") if exact else _apart(a, b) for a, b in off[:4]]
    more = ", ..." if len(off) > 4 else ""
    return (", ".join(a for a, _ in shown) + more + " where the reference has "
            + ", ".join(b for _, b in shown) + more)


def _apart(a: float, b: float) -> tuple[str, str]:
    """a and b with as few significant digits (4 at least) as tell them apart."""
    for digits in range(4, 10):
        x, y = f"{a:.{digits}g}", f"{b:.{digits}g}"
        if x != y:
            return x, y
    return x, y


def _shape(shape: list) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def _plain(x: Any) -> str:
    if isinstance(x, float):
        return repr(x) if x.is_integer() and abs(x) < 1e15 else f"{x:.4g}"  # 3.0 where an int would be 3
    return x if isinstance(x, str) else repr(x)


def _kind(s: dict) -> str:
    if s["kind"] == "const":
        return repr(s["value"])
    return {"tensor": "a tensor", "int": "an int", "float": "a float"}.get(s["kind"], f"a {s['kind']}")


def first_divergence(mine: list[Step], reference: list[Step]) -> Divergence | None:
    """The learner's first step whose value the reference never had under that (function, name)."""
    theirs: dict[tuple[str, str], list[dict]] = {}
    for s in reference:
        theirs.setdefault((s.function, s.name), []).append(s.summary)
    count: dict[tuple[str, str], int] = {}
    total = Counter((s.function, s.name) for s in mine)
    for s in mine:
        key = (s.function, s.name)
        options = theirs.get(key)
        count[key] = count.get(key, -1) + 1
        if options is None:
            continue
        if not any(same(s.summary, t) for t in options):
            return Divergence(s, tuple(options), count[key], (total[key], len(options)))
    return None


# ---------------------------------------------------------------------------------------------
# The reference's steps, stored per topic beside its fixture: {"version": 1, "checks": {check: [step, ...]}}.

FILE_VERSION = 1


def dumps(steps: dict[str, list[Step]]) -> str:
    """A trace file's text: one step per line, so that a diff reads."""
    import json
    lines = ['{"version": %d, "checks": {' % FILE_VERSION]
    for n, (name, items) in enumerate(sorted(steps.items())):
        lines.append(f"{json.dumps(name)}: [")
        lines += [json.dumps(s.to_data(), sort_keys=True) + ("," if i < len(items) - 1 else "") for i, s in enumerate(items)]
        lines.append("]" + ("," if n < len(steps) - 1 else ""))
    lines.append("}}")
    return "\n".join(lines) + "\n"


def loads(text: str) -> dict[str, list[Step]]:
    """The steps a trace file holds, per check; a check whose steps are malformed is left out."""
    import json
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    if type(data) is not dict or data.get("version") != FILE_VERSION or type(data.get("checks")) is not dict:
        return {}
    out = {}
    for name, items in data["checks"].items():
        steps = steps_from_data(items)
        if steps is not None:
            out[name] = steps
    return out


def stale(fresh: dict[str, list[Step]], stored: dict[str, list[Step]]) -> list[str]:
    """Where regenerated steps differ from stored ones: the same names at the same lines in the
    same order, values within RTOL/ATOL (never float bytes: another CPU rounds the last bit)."""
    found = []
    for name in sorted(set(fresh) | set(stored)):
        new, old = fresh.get(name, []), stored.get(name, [])
        if len(new) != len(old):
            found.append(f"{name}: {len(new)} steps regenerated, {len(old)} stored")
            continue
        for n, (a, b) in enumerate(zip(new, old)):
            if (a.function, a.name, a.line) != (b.function, b.name, b.line) or not same(a.summary, b.summary):
                found.append(f"{name} step {n}: {a.function} {a.name} (line {a.line}) regenerated as {a.summary}, "
                             f"stored {b.function} {b.name} (line {b.line}) {b.summary}")
                break
    return found
