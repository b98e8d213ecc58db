"""Where the learner's values first part from the reference's (grader.engine.trace): recording,
comparing, the stored reference's steps, and the line a failing public verdict gains."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.builders.fixtures import reference_steps
from grader.course.curriculum import load
from grader.engine import checks as C, trace
from grader.engine.cases import Case, load_fixture, trace_file
from grader.engine.judge import judge_topic
from grader.engine.messages import explain
from grader.engine.session import run_topic

CURRICULUM = load()
TOPICS = [t for t in CURRICULUM.topics if t.test_file().exists()]
HERE = Path(__file__)


def helper_elsewhere(x):
    """Code of another file than the recorded one (torch's own __init__ stands in below)."""
    return sys._getframe().f_trace, x + 1


def traced_function(a):
    b = a * 2
    c = torch.ones(2, 3) * b
    b = b + 1
    return c.sum() + b


def test_record_restores_the_previous_tracer_and_records_only_the_given_file():
    calls = []

    def previous(frame, event, arg):
        calls.append(event)
        return None

    sys.settrace(previous)
    try:
        result, steps = trace.record(lambda: traced_function(3), [HERE])
        assert sys.gettrace() is previous
        raised, _ = trace.record(lambda: 1 / 0, [HERE])
        assert sys.gettrace() is previous
    finally:
        sys.settrace(None)
    assert float(result) == 6 * 6 + 7
    assert isinstance(raised, ZeroDivisionError)
    names = [(s.function, s.name, s.line) for s in steps]
    line = traced_function.__code__.co_firstlineno
    # The argument at the def line, then each binding at the line that made it; a rebinding is a new step.
    assert names[:4] == [("traced_function", "a", line), ("traced_function", "b", line + 1),
                         ("traced_function", "c", line + 2), ("traced_function", "b", line + 3)]
    assert steps[2].summary["shape"] == [2, 3] and steps[2].summary["sum"] == 36.0
    assert all(s.function == "traced_function" or s.function.endswith("<lambda>") for s in steps)
    returned = next(s for s in steps if s.function == "traced_function" and s.name == "return")
    assert returned.summary["sum"] == 43.0 and returned.line == line + 4  # what it returns, at its return line


def test_frames_of_other_files_get_no_local_tracer():
    """The cost stays small: code outside the recorded files runs without line events."""
    (local, _), _steps = trace.record(lambda: helper_elsewhere(1), ["/nonexistent/elsewhere.py"])
    assert local is None
    (local, _), _steps = trace.record(lambda: helper_elsewhere(1), [HERE])
    assert local is not None  # the same call, in the recorded file, is traced: the test above can fail


def test_the_step_cap_stops_tracing():
    def loop():
        total = 0
        for i in range(5000):
            total = total + i
        return total

    result, steps = trace.record(loop, [HERE])
    assert result == sum(range(5000))
    assert len(steps) <= trace.MAX_STEPS
    assert sum(s.name == "total" for s in steps) == trace.MAX_PER_NAME


def test_summaries_compare_with_tolerance():
    t = torch.randn(3, 4, generator=torch.Generator().manual_seed(0))
    s = trace.summary(t)
    assert trace.same(trace.summary(t * (1 + 1e-7)), s)
    assert trace.same(trace.summary(torch.nextafter(t, torch.full_like(t, 9.0))), s)
    assert not trace.same(trace.summary(t * 1.01), s)
    assert not trace.same(trace.summary(t.T.contiguous()), s)  # another shape
    assert not trace.same(trace.summary(t.double()), s)  # another dtype
    moved = t.clone()
    moved[1, 2] += 0.5  # one value the samples may miss: the sums see it
    assert not trace.same(trace.summary(moved), s)
    assert trace.same(trace.summary(3), trace.summary(3)) and not trace.same(trace.summary(3), trace.summary(4))
    assert not trace.same(trace.summary(3.0), trace.summary(3))  # head_dim = d_out / num_heads: a float
    assert trace.same(trace.summary(0.1 + 0.2), trace.summary(0.3))
    assert not trace.same(trace.summary(1e-6), trace.summary(1e-5))  # LayerNorm's eps from another library
    assert trace.same(trace.summary([1, "a"]), trace.summary([1, "a"]))
    assert not trace.same(trace.summary([1, "a"]), trace.summary([1, "b"]))
    assert trace.summary(torch) is None and trace.summary(len) is None


def _patched(topic, tmp_path, old: str, new: str) -> tuple[Path, int]:
    folder = tmp_path / "impl"
    shutil.copytree(topic.solution().parent, folder, ignore=shutil.ignore_patterns("mistakes", "__pycache__", "*.toml"))
    module = folder / topic.module_file
    source = module.read_text(encoding="utf-8")
    assert source.count(old) == 1
    module.write_text(source.replace(old, new), encoding="utf-8")
    return folder, source[:source.index(old)].count("\n") + 1


@pytest.mark.parametrize("slug, old, new, name, words", [
    ("multihead_attention", "values = values.view(b, num_tokens, self.num_heads, self.head_dim).transpose(1, 2)",
     "values = values.view(b, num_tokens, self.num_heads, self.head_dim)", "values",
     "shape (2, 5, 4, 3) where the reference has (2, 4, 5, 3)"),
    ("gpt_blocks", "var = x.var(dim=-1, keepdim=True, unbiased=False)",
     "var = x.std(dim=-1, keepdim=True, unbiased=False)", "var", " where the reference has "),
], ids=["values not transposed", "std for var"])
def test_a_hand_made_mistake_is_located(tmp_path, slug, old, new, name, words):
    topic = CURRICULUM[slug]
    folder, line = _patched(topic, tmp_path, old, new)
    failed = [v for v in run_topic(topic, folder, once=False) if not v.passed]
    assert failed
    expected = f"`{name}` in "
    for v in failed:
        assert expected in v.diverges and f"line {line})" in v.diverges and words in v.diverges, v.diverges
        assert v.diverges in explain(v, topic)


def test_a_hidden_verdict_never_says_where():
    topic = CURRICULUM["multihead_attention"]
    public = load_fixture(topic)
    checks = C.load_checks(topic.test_file())
    chk = checks[0]
    case = public[chk.name][0]
    assert case.trace  # the stored reference's steps reach the case
    wrong = [trace.Step(s.function, s.name, s.line, trace.summary(torch.zeros(1, 2, 3))) for s in case.trace]
    data = {"status": C.EXCEPTION, "value": None, "message": "RuntimeError: no", "steps": [s.to_data() for s in wrong]}
    shown = judge_topic([chk], {chk.name: [case]}, {chk.name: [data]})[0]
    assert shown.diverges.startswith("The first of your values that differs")
    hidden = Case(7, case.inputs, case.expected, hidden=True, trace=case.trace)
    assert judge_topic([chk], {chk.name: [hidden]}, {chk.name: [data]})[0].diverges == ""


@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.slug)
def test_the_reference_does_not_part_from_its_own_trace(topic):
    stored = trace.loads(trace_file(topic).read_text(encoding="utf-8"))
    fresh = reference_steps(topic, C.load_checks(topic.test_file()))
    assert set(stored) == set(fresh)
    for name, steps in fresh.items():
        assert trace.first_divergence(steps, stored[name]) is None, name


def test_stale_steps_are_seen():
    topic = CURRICULUM["softmax_attention"]
    stored = trace.loads(trace_file(topic).read_text(encoding="utf-8"))
    name, steps = next((n, s) for n, s in stored.items() if any(x.summary["kind"] == "tensor" for x in s))
    at = next(i for i, x in enumerate(steps) if x.summary["kind"] == "tensor" and "sample" in x.summary)
    s = steps[at].summary
    nudged = dict(s, sample=[x * (1 + 1e-9) for x in s["sample"]])
    assert trace.stale({**stored, name: steps[:at] + [trace.Step(*steps[at].to_data()[:3], nudged)] + steps[at + 1:]},
                       stored) == []
    moved = dict(s, sample=[x + 0.01 for x in s["sample"]], sum=s["sum"] + 0.5)
    assert trace.stale({**stored, name: steps[:at] + [trace.Step(*steps[at].to_data()[:3], moved)] + steps[at + 1:]},
                       stored)


# Hostile step data: whatever comes back, it reads as steps or as nothing, and never raises.

_leaf = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=4)
_anything = st.recursive(_leaf, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                                            max_size=3), max_leaves=10)
_summaries = st.fixed_dictionaries({"kind": st.sampled_from(["tensor", "int", "float", "str", "const", "x"])},
                                   optional={"shape": _anything, "dtype": _anything, "sum": _anything, "abs": _anything,
                                             "sample": _anything, "value": _anything, "len": _anything,
                                             "hash": _anything, "preview": _anything})
_steps = st.lists(st.tuples(st.text(max_size=5) | _anything, st.text(max_size=5) | _anything,
                            st.integers() | _anything, _summaries | _anything).map(list), max_size=4)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_steps, _anything))
def test_hostile_steps_are_dropped_or_read_never_trusted(data):
    steps = trace.steps_from_data(data)
    outcome = C.Outcome.from_data({"status": "ok", "value": 1, "message": "", "steps": data})
    assert outcome.status == "ok"
    assert (steps is None) == (outcome.steps is None)
    if steps is not None:
        assert len(steps) <= trace.MAX_STEPS
        for s in steps:
            trace.same(s.summary, s.summary)  # a well-formed summary compares without raising
            trace.Divergence(s, (s.summary,)).words("x.py")


@pytest.mark.parametrize("data", [
    [["f", "x", 1, {"kind": "tensor", "shape": [2], "dtype": "float32", "sum": 1.0}]],  # sum without abs, sample
    [["f", "x", 1, {"kind": "int", "value": 1, "extra": 2}]],
    [["f", "x", -1, {"kind": "int", "value": 1}]],
    [["f", "x", 1, {"kind": "tensor", "shape": [2], "dtype": "float32", "sum": 1.0, "abs": 1.0,
                    "sample": [0.0] * (trace.SAMPLES + 1)}]],
    [["f" * (trace.MAX_NAME + 1), "x", 1, {"kind": "int", "value": 1}]],
    [["f", "x", 1, {"kind": "int", "value": 1}]] * (trace.MAX_STEPS + 1),
], ids=["partial stats", "an extra field", "a negative line", "too many samples", "a long name", "too many steps"])
def test_malformed_steps_are_dropped(data):
    assert trace.steps_from_data(data) is None
    assert C.Outcome.from_data({"status": "ok", "value": 1, "message": "", "steps": data}).steps is None
    assert trace.steps_from_data(data[:1][:0] or [["f", "x", 1, {"kind": "int", "value": 1}]]) is not None


class Holder:
    def __init__(self, d_out, num_heads):
        self.head_dim = d_out / num_heads
        self._private = 1


def raises_through_a_with():
    with open(__file__, encoding="utf-8"):
        raise ValueError("no")


def test_what_a_function_returns_and_what_init_sets_on_self_are_steps_an_exception_is_not():
    _, steps = trace.record(lambda: Holder(12, 4), [HERE])
    found = {(s.function, s.name): s.summary for s in steps}
    assert found[("Holder.__init__", "self.head_dim")] == {"kind": "float", "value": 3.0}
    assert ("Holder.__init__", "self._private") not in found
    words = trace.first_divergence(steps, [trace.Step("Holder.__init__", "self.head_dim", 1, trace.summary(3))]).words("h.py")
    assert "`self.head_dim` as Holder.__init__ leaves it (h.py): a float 3.0 where the reference has an int 3." in words
    raised, steps = trace.record(raises_through_a_with, [HERE])
    assert isinstance(raised, ValueError) and not [s for s in steps if s.name == "return"]


def test_the_tensors_of_a_short_tuple_are_compared_by_their_values():
    """(inputs, inputs) for (inputs, targets): the text of a tuple shows only the shapes."""
    a, b = torch.tensor([1, 2, 3]), torch.tensor([2, 3, 4])
    assert trace.same(trace.summary((a, b)), trace.summary((a.clone(), b.clone())))
    assert not trace.same(trace.summary((a, a)), trace.summary((a, b)))
    words = trace.Divergence(trace.Step("f", "return", 3, trace.summary((a, a))), (trace.summary((a, b)),)).words()
    assert words.endswith("item 1: 1, 2, 3 where the reference has 2, 3, 4."), words


def test_tracing_never_decides_an_outcome(tmp_path):
    """A loop over locals() raises under a tracer (each line event refreshes the dict it walks):
    the steps come from a second run, so the verdict is the untraced code's."""
    topic = CURRICULUM["softmax_attention"]
    folder, _ = _patched(topic, tmp_path, "    return attn_scores\n",
                         "    names = []\n    for name, value in locals().items():\n        names.append(name)\n"
                         "    return attn_scores\n")
    assert all(v.passed for v in run_topic(topic, folder, once=False))


def test_only_a_failing_first_public_case_is_traced(tmp_path):
    """Tracing costs about three times a run: kata, pytest and the grader's worker trace a check's
    first public case only when its outcome fails against the public expected value."""
    from grader.engine.probe import failing_public, probe_topic
    from grader.engine.session import session
    topic = CURRICULUM["gpt_blocks"]
    public = session(topic).public
    inputs = {name: [c.inputs for c in cases] for name, cases in public.items()}
    checks = session(topic).checks
    passing = probe_topic(topic, topic.solution().parent, inputs, checks, trace=failing_public(public))
    assert not any("steps" in out for outs in passing.values() for out in outs)
    folder, _ = _patched(topic, tmp_path, "var = x.var(dim=-1, keepdim=True, unbiased=False)",
                         "var = x.std(dim=-1, keepdim=True, unbiased=False)")
    failing = probe_topic(topic, folder, inputs, checks, trace=failing_public(public))
    verdicts = {v.check: v for v in judge_topic(checks, public, failing)}
    traced = {name for name, outs in failing.items() if "steps" in outs[0]}
    assert traced and traced == {name for name, v in verdicts.items() if not v.passed}


def test_a_named_mistake_hides_a_pointer_into_another_tasks_function(tmp_path):
    # held-out trial 10, t87: replace_linear_with_lora without recursion was named, but the line
    # "`out_dim` in LoRALayer.__init__: 2 where the reference has 768" invited an edit to LoRALayer.
    topic = CURRICULUM["lora"]
    old = "        else:\n            # Linear layers sit inside blocks inside the model: look in every child too.\n            replace_linear_with_lora(module, rank, alpha)\n"
    folder, _ = _patched(topic, tmp_path, old, "")
    failed = [v for v in run_topic(topic, folder, once=False) if not v.passed and v.mistake == "not_recursive"]
    assert failed
    for v in failed:
        if v.diverges:
            assert v.diverges_in == "LoRALayer.__init__", v.diverges
            assert v.diverges not in explain(v, topic) and "known mistake" in explain(v, topic)
    assert any(v.diverges for v in failed)


def test_a_divergence_names_the_function_its_words_point_into():
    """Verdict.diverges_in, which the messages read (a pointer into another task's function is
    left out), is the function the words name; a comprehension's is the one it is written in."""
    step = trace.Step("LoRALayer.__init__", "out_dim", 17, trace.summary(2))
    found = trace.Divergence(step, (trace.summary(768),))
    assert found.function == "LoRALayer.__init__" and "LoRALayer.__init__" in found.words("lora.py")


def test_a_comprehension_is_named_in_words_a_learner_knows():
    # held-out trial 10 (t134 and six more): "what SpamDataset.__init__.<locals>.<listcomp> returns"
    inner = trace.Step("SpamDataset.__init__.<locals>.<listcomp>", "return", 28, trace.summary([1, 2]))
    found = trace.Divergence(inner, (trace.summary([1]),))
    words = found.words("classification.py")
    assert "what the list comprehension in SpamDataset.__init__ returns (classification.py, line 28)" in words
    assert "<locals>" not in words and found.function == "SpamDataset.__init__"
    local = trace.Step("layer_gradients.<locals>.<dictcomp>", "name", 81, trace.summary("a"))
    found = trace.Divergence(local, (trace.summary("b"),))
    assert "`name` in the dict comprehension in layer_gradients (gpt_blocks.py, line 81)" in found.words("gpt_blocks.py")
    assert found.function == "layer_gradients"
    assert trace.readable("outer.<locals>.helper") == "outer.<locals>.helper"


def test_a_value_is_paired_with_the_references_value_of_its_kind():
    # held-out trial 11, t06: encode in one comprehension (ids) where the reference has two (tokens,
    # then ids) under the same name; the pointer paired the learner's ids with the reference's tokens
    listcomp = "SimpleTokenizerV2.encode.<locals>.<listcomp>"
    tokens, ids = trace.summary(["Ships", "are", "<|unk|>"]), trace.summary([9, 12, 4])
    mine = trace.Step(listcomp, "return", 23, trace.summary([9, 12, 93]))
    found = trace.first_divergence([mine], [trace.Step(listcomp, "return", 22, tokens),
                                            trace.Step(listcomp, "return", 23, ids)])
    words = found.words("special_tokens.py")
    assert "item 2 is 93 where the reference's is 4: [9, 12, 93] where the reference has [9, 12, 4]" in words, words
    assert "Ships" not in words
