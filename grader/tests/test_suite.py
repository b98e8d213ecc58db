"""The suite proves itself: for every topic of the curriculum, the files exist and agree, the
untouched stub fails every check, every catalogued mistake fails a check that names it, and
the fixtures on disk are what `make fixtures` regenerates, under each check's own comparison. (`pytest tests --impl
solutions`, the other half of `make test`, proves the reference passes every check.)"""

import ast
import inspect
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from grader.builders.fixtures import reference_steps
from grader.engine import checks as C, trace
from grader.course.curriculum import ROOT, load
from grader.engine.cases import decode, encode, load_fixture, trace_file
from grader.engine.reference import build_cases
from grader.engine.impl import import_topic, load_package
from grader.course.mistakes import catalogue, mistaken_tree
from grader.engine.judge import judge_topic
from grader.engine.probe import probe_topic
from grader.engine.session import TopicSession, run_topic, session

# gpt_blocks' mistake shortcut_without_shape_check feeds mse_loss mismatched shapes on purpose
pytestmark = pytest.mark.filterwarnings("ignore:Using a target size:UserWarning")

CURRICULUM = load()
TOPICS = [t for t in CURRICULUM.topics if t.test_file().exists()]


def by_slug(topic):
    return topic.slug


def test_every_topic_has_checks():
    assert [t.slug for t in TOPICS] == CURRICULUM.slugs, "topics without tests/test_<slug>.py"


def test_no_file_outside_the_manifest():
    expected = {
        "exercises": {t.module_file for t in CURRICULUM.topics},
        "solutions": {t.module_file for t in CURRICULUM.topics} | {"mistakes", "hidden.toml"},
        "solutions/mistakes": {f"{t.slug}.toml" for t in CURRICULUM.topics},
        "hints": {f"{t.slug}.toml" for t in CURRICULUM.topics},
        "tests": {t.test_file().name for t in CURRICULUM.topics} | {"fixtures"},
        "tests/fixtures": {t.fixture_file().name for t in CURRICULUM.topics} | {trace_file(t).name for t in CURRICULUM.topics},
    }
    for folder, names in expected.items():
        present = {p.name for p in (ROOT / folder).iterdir()
                   if p.name != "__pycache__" and not p.name.endswith(".bak")}  # kata reset keeps .bak copies
        assert present == names, f"{folder}/: unexpected {present - names or '-'}, missing {names - present or '-'}"


@pytest.mark.parametrize("topic", TOPICS, ids=by_slug)
def test_every_task_has_checks_hints_and_points(topic):
    checks = C.load_checks(topic.test_file())
    for task in topic.tasks:
        assert any(c.task == task.id for c in checks), f"task {task.id} has no check"
        assert len(task.hints) >= 3 and all(h.strip() for h in task.hints), f"task {task.id} needs 3 hints"
        assert task.points > 0
    assert {c.task for c in checks} <= {t.id for t in topic.tasks}


def _public_api(path: Path, package: str, slug: str) -> dict[str, str]:
    module = import_topic(package, slug)
    api = {}
    for name, obj in vars(module).items():
        if name.startswith("_") or getattr(obj, "__module__", module.__name__) != module.__name__:
            continue
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if inspect.isfunction(member) and (not attr.startswith("_") or attr in ("__init__", "forward", "__len__", "__getitem__")):
                    api[f"{name}.{attr}"] = str(inspect.signature(member))
            api[name] = "class " + ",".join(b.__name__ for b in obj.__bases__)
        elif inspect.isfunction(obj):
            api[name] = str(inspect.signature(obj))
    return api


@pytest.mark.parametrize("topic", TOPICS, ids=by_slug)
def test_stub_has_the_reference_api(topic):
    stub = _public_api(topic.exercise(), load_package(ROOT / "exercises"), topic.slug)
    reference = _public_api(topic.solution(), load_package(ROOT / "solutions"), topic.slug)
    missing = {k: v for k, v in reference.items() if k not in stub}
    assert not missing, f"the stub lacks {missing}"
    differ = {k: (stub[k], v) for k, v in reference.items() if stub[k] != v}
    assert not differ, f"signatures differ (stub, reference): {differ}"
    stub_module = import_topic(load_package(ROOT / "exercises"), topic.slug)
    reference_module = import_topic(load_package(ROOT / "solutions"), topic.slug)
    for task in topic.tasks:
        for name in task.api:
            if name.isupper():  # a module constant, such as GPT_CONFIG_124M
                assert hasattr(reference_module, name) and hasattr(stub_module, name), f"{name} is missing"
            else:
                assert name in reference or name.split(".")[0] in reference, f"task {task.id}: {name} is not in the reference"


@pytest.mark.parametrize("topic", TOPICS, ids=by_slug)
def test_stub_bodies_raise_not_implemented_naming_the_task(topic):
    tree = ast.parse(topic.exercise().read_text())
    raises = [n for n in ast.walk(tree) if isinstance(n, ast.Raise)]
    for task in topic.tasks:
        for name in task.api:
            if name.isupper():  # a constant such as GPT_CONFIG_124M
                continue
            wanted = f"{topic.slug} task {task.id}: {name}"
            # A method that serves two tasks raises with the first task's number.
            assert any(wanted in ast.unparse(r) or f": {name}\"" in ast.unparse(r).replace("'", '"')
                       for r in raises), f"no `raise NotImplementedError(\"{wanted}\")` in the stub"
    assert "pass\n" not in topic.exercise().read_text().replace("class ", ""), "a stub body must raise, not pass"


@pytest.mark.parametrize("topic", TOPICS, ids=by_slug)
def test_untouched_stub_fails_every_check(topic):
    verdicts = run_topic(topic, ROOT / "exercises")
    assert verdicts
    wrong = [(v.check, v.reason, v.message) for v in verdicts if v.reason != C.NOT_IMPLEMENTED]
    assert not wrong, f"on the stub these checks did not fail as 'not implemented': {wrong}"


@pytest.mark.parametrize("topic", TOPICS, ids=by_slug)
def test_catalogue_and_hints_agree(topic):
    ids = [p.id for p in catalogue(topic)]
    assert len(ids) >= 3, "at least three catalogued mistakes per topic"
    assert len(set(ids)) == len(ids), "mistake ids must be unique"
    assert set(ids) == set(topic.mistakes), (
        f"in the catalogue only: {set(ids) - set(topic.mistakes)}; in the hints only: {set(topic.mistakes) - set(ids)}")
    for mistake in topic.mistakes.values():
        task = topic.task(mistake.task)
        assert 1 <= mistake.hint <= len(task.hints), f"{mistake.id}: no hint {mistake.hint} in task {task.id}"
        assert mistake.says.strip()




def stale_values(topic, fresh: dict, stored: dict) -> list[str]:
    """Where the regenerated fixture differs from the stored one under each check's own
    comparison: exact for ids, strings, bools, shapes and dtypes; the check's tolerance for
    floats. Never float bytes: another CPU (or ATEN_CPU_CAPABILITY=default) rounds the last bit
    of a float32 differently, and that is not a stale fixture."""
    found = []
    for chk in C.load_checks(topic.test_file()):
        old, new = stored.get(chk.name, []), fresh.get(chk.name, [])
        if len(old) != len(new):
            found.append(f"{chk.name}: {len(new)} cases regenerated, {len(old)} stored")
            continue
        for n, (a, b) in enumerate(zip(new, old)):
            pairs = [("inputs", a.inputs, b.inputs), ("expected", a.expected, b.expected)]
            if set(a.mistakes) != set(b.mistakes) or a.raised != b.raised:
                found.append(f"{chk.name} case {n}: the mistakes it tells apart changed")
                continue
            pairs += [(f"mistake {m}", a.mistakes[m], b.mistakes[m]) for m in a.mistakes]
            for what, x, y in pairs:
                try:
                    C.compare(x, y, dims=chk.dims, rtol=chk.rtol, atol=chk.atol)
                except C.Failed as err:
                    found.append(f"{chk.name} case {n} {what}: {err.message.splitlines()[0]}")
    return found


def unseen_mistakes(topic, stored: dict, outcomes: dict[str, dict]) -> list[str]:
    """Each catalogued mistake whose outcomes (probe_topic's, on the stored inputs) fail no check,
    or fail none that names it, judged against the stored fixture as the grader judges."""
    checks = C.load_checks(topic.test_file())
    unseen = []
    for patch in catalogue(topic):
        failed = [v for v in judge_topic(checks, stored, outcomes[patch.id]) if not v.passed]
        if not failed:
            unseen.append(f"{patch.id} passes every check: the checks cannot see it")
        elif not any(v.mistake == patch.id for v in failed):
            unseen.append(f"{patch.id}: no failing check recognises it: {[(v.check, v.reason, v.mistake) for v in failed]}")
    return unseen


@pytest.mark.parametrize("topic", TOPICS, ids=by_slug)
def test_fixtures_are_fresh_and_every_mistake_fails_a_check_that_names_it(topic):
    """One run of the reference and of every catalogued mistake, as `make fixtures` makes it,
    proves both: the fixtures on disk are what it regenerates, and each mistake's outcomes on
    those inputs fail at least one check that names the mistake."""
    stored, outcomes = load_fixture(topic), {}
    fresh = build_cases(topic, C.load_checks(topic.test_file()),
                        mistake_outcomes=lambda patch, got: outcomes.__setitem__(patch.id, got))
    stale = stale_values(topic, decode(encode(fresh)), stored)  # what a regenerated file would hold
    assert not stale, "stale fixture: run `make fixtures`\n" + "\n".join(stale[:10])
    assert set(outcomes) == {p.id for p in catalogue(topic)}
    unseen = unseen_mistakes(topic, stored, outcomes)
    assert not unseen, "\n".join(unseen)
    # The reference's steps beside the fixture (tests/fixtures/<slug>.trace.json), under the same rules.
    steps = trace.loads(trace_file(topic).read_text(encoding="utf-8")) if trace_file(topic).is_file() else {}
    stale = trace.stale(reference_steps(topic, C.load_checks(topic.test_file())), steps)
    assert not stale, "stale trace: run `make fixtures`\n" + "\n".join(stale[:10])


def test_a_mistake_the_checks_cannot_see_is_reported():
    """The judging above is not vacuous: the reference's own outcomes, passed off as a mistake's,
    fail no check; a wrong one named as another mistake is not recognised."""
    topic = next(t for t in TOPICS if t.slug == "causal_attention")
    stored, patch = load_fixture(topic), catalogue(topic)[0]
    checks = C.load_checks(topic.test_file())
    inputs = {name: [case.inputs for case in cases] for name, cases in stored.items()}
    reference = probe_topic(topic, topic.solution().parent, inputs, checks)
    as_if = {p.id: reference for p in catalogue(topic)}
    assert all("passes every check" in line for line in unseen_mistakes(topic, stored, as_if))
    with mistaken_tree(topic, patch) as tree:
        mistaken = probe_topic(topic, tree, inputs, checks)
    seen = unseen_mistakes(topic, stored, {p.id: mistaken for p in catalogue(topic)})
    assert not any(line.startswith(patch.id) for line in seen)
    assert seen and all("no failing check recognises it" in line for line in seen), seen


def test_freshness_sees_a_changed_value():
    """The comparison above is not vacuous: a value moved past a check's tolerance is stale, and
    one moved in its last bit is not."""
    topic = next(t for t in TOPICS if t.slug == "softmax_attention")
    stored = load_fixture(topic)
    name, case = next((n, cs[0]) for n, cs in stored.items()
                      if isinstance(cs[0].expected, torch.Tensor) and cs[0].expected.is_floating_point())
    nudged = case.expected.clone()
    nudged.view(-1)[0] = torch.nextafter(nudged.view(-1)[0], torch.tensor(float("inf")))
    fresh = {**stored, name: [replace(case, expected=nudged), *stored[name][1:]]}
    assert stale_values(topic, fresh, stored) == []
    moved = case.expected.clone()
    moved.view(-1)[0] += 0.01
    fresh = {**stored, name: [replace(case, expected=moved), *stored[name][1:]]}
    assert stale_values(topic, fresh, stored)


# Decisions with a margin: an id chosen by argmax, top-k or sampling must not turn on the last bit
# of a float, or another CPU's kernels could change it (and the verdict with it).

MARGIN = 1e-3  # relative gap between the chosen and the next candidate; kernels differ by ~1e-5
# Softmax probabilities move by about 1e-7 between kernels; a sample must hold when they move 100 times
# as far (a larger move flips some of decoding's 4,000 draws, which its judge counts, not compares).
SAMPLE_MARGIN = 1e-5
EXACT_TIES = {("decoding", "top_k_keeps_ties_with_the_kth_largest")}  # tied on purpose, in exact values


class Decisions(torch.overrides.TorchFunctionMode):
    """Records, for each argmax / max over a dim / topk the reference makes, the gap between the
    chosen value and the next one (relative to max(1, |chosen|)); re-samples each multinomial from
    the same random state with probabilities moved by SAMPLE_MARGIN, and records whether the ids held."""

    def __init__(self):
        super().__init__()
        self.gaps: list[tuple[str, float]] = []
        self.unstable: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        if name == "multinomial":
            return self._sample(name, func, args, kwargs)
        out = func(*args, **kwargs)
        if name == "topk":
            k = kwargs.get("k", args[1] if len(args) > 1 else None)
            self._gap(name, args[0], kwargs.get("dim", args[2] if len(args) > 2 else -1), k)
        elif name == "argmax" or (name == "max" and (len(args) > 1 or "dim" in kwargs)):
            self._gap(name, args[0], kwargs.get("dim", args[1] if len(args) > 1 else None), 1)
        return out

    def _gap(self, name, x, dim, k):
        x = x.detach().double()
        if dim is None:
            x, dim = x.flatten(), 0
        if x.shape[dim] <= k:
            return
        s = x.sort(dim=dim, descending=True).values
        chosen, rest = s.narrow(dim, k - 1, 1), s.narrow(dim, k, 1)
        self.gaps.append((name, ((chosen - rest) / chosen.abs().clamp(min=1)).min().item()))

    def _sample(self, name, func, args, kwargs):
        generator = kwargs.get("generator")
        state = generator.get_state() if generator is not None else torch.get_rng_state()
        out = func(*args, **kwargs)
        after = generator.get_state() if generator is not None else torch.get_rng_state()
        probs, moves = args[0].detach(), torch.Generator().manual_seed(0)
        for _ in range(8):
            sign = torch.randint(0, 2, probs.shape, generator=moves).double() * 2 - 1
            moved = (probs.double() * (1 + SAMPLE_MARGIN * sign)).to(probs.dtype)
            (generator.set_state if generator is not None else torch.set_rng_state)(state)
            if not torch.equal(func(moved, *args[1:], **kwargs), out):
                self.unstable.append(name)
                break
        (generator.set_state if generator is not None else torch.set_rng_state)(after)
        return out


def narrow_decisions(topic, cases: dict, unread: frozenset = frozenset()) -> list[str]:
    """What the reference decides without a margin on `cases` ({check: [Case]}), one line each;
    none for the checks in `unread` ((slug, check) pairs)."""
    narrow = []
    for chk in session(topic).checks:
        if not cases.get(chk.name) or (topic.slug, chk.name) in EXACT_TIES | unread:
            continue
        recorder = Decisions()
        with recorder:
            outcomes = probe_topic(topic, topic.solution().parent, {chk.name: [c.inputs for c in cases[chk.name]]}, [chk])
        assert all(o["status"] == "ok" for o in outcomes[chk.name]), (chk.name, outcomes[chk.name])
        narrow += [f"{chk.name}: {name} chooses by a relative gap of {gap:.2g}" for name, gap in recorder.gaps if gap < MARGIN]
        narrow += [f"{chk.name}: {name} samples other ids when the probabilities move by {SAMPLE_MARGIN:g}"
                   for name in recorder.unstable]
    return narrow


@pytest.mark.parametrize("topic", TOPICS, ids=by_slug)
def test_every_decision_has_a_margin(topic):
    narrow = narrow_decisions(topic, load_fixture(topic))
    assert not narrow, "inputs without a margin: " + "; ".join(narrow[:5])


# The hidden cases are the grader's own (TopicSession.hidden: the seeds of grader/tests/test_secret,
# those equal to seed 0's inputs dropped), built by the same code as in `make grade`.
@pytest.mark.parametrize("topic", TOPICS, ids=by_slug)
def test_every_decision_has_a_margin_on_hidden_cases(topic):
    narrow = narrow_decisions(topic, session(topic).hidden())
    assert not narrow, "hidden inputs without a margin: " + "; ".join(narrow[:5])


# Another instructor's secret gives other hidden seeds, so inputs must leave a margin on any seed
# (those of an argmax draw again until they do). These secrets' hidden cases are rebuilt as the
# grader builds them: OTHER_SECRETS of them, each as cheap as the test secret's above.
OTHER_SECRETS = tuple(f"another instructor's secret {i}".encode() for i in range(8))
# Decisions that reach no verdict of a hidden case (whose expected values the grading machine
# computes itself, so that a moved id can only matter through the verdict):
UNREAD = frozenset({
    # train_model_simple prints a greedy sample after each epoch; the check discards what is printed.
    ("training", "training_lowers_the_loss_and_counts_tokens"), ("training", "training_steps_run_in_train_mode"),
    # Their judge counts 4,000 draws and allows 6 sigma: a draw or two that move change no verdict.
    # (A public case must hold every draw: its stored counts must be fresh on any CPU.)
    ("decoding", "sampling_follows_softmax_of_the_top_k_logits"), ("decoding", "eos_stops_on_the_sampled_id"),
})


@pytest.mark.parametrize("topic", TOPICS, ids=by_slug)
def test_every_decision_has_a_margin_for_other_secrets(topic):
    narrow = [f"{line} (secret {i})" for i, secret in enumerate(OTHER_SECRETS)
              for line in narrow_decisions(topic, session(topic).hidden(secret), UNREAD)]
    assert not narrow, "hidden inputs without a margin: " + "; ".join(narrow[:5])


def test_a_narrow_hidden_case_is_seen():
    """The proof of the hidden cases sees a near-tie that only they have: decoding's greedy check
    with inputs whose argmax ties on every seed but 0, built as the grader builds hidden cases."""
    topic = next(t for t in TOPICS if t.slug == "decoding")
    chk = next(c for c in session(topic).checks if c.name == "greedy_when_temperature_is_zero")

    def tied(seed):
        case = chk.inputs(seed)
        if seed:  # every row's largest logit twice
            case["table"][:, 0] = case["table"].max(dim=-1).values
        return case
    hidden = TopicSession(topic, checks=[replace(chk, inputs=tied)]).hidden()
    assert hidden[chk.name] and narrow_decisions(topic, load_fixture(topic)) == []
    assert any(line.startswith(chk.name) for line in narrow_decisions(topic, hidden))


def test_a_decision_without_margin_is_seen():
    recorder = Decisions()
    with recorder:
        torch.tensor([[1.0, 1.0 + 1e-6, 0.0]]).argmax(dim=-1)
        torch.multinomial(torch.tensor([0.5, 0.5]), 1, generator=torch.Generator().manual_seed(3))
    assert recorder.gaps[0][1] < MARGIN
    with recorder:
        # a million draws: some fall within SAMPLE_MARGIN of the boundary at 0.5
        torch.multinomial(torch.tensor([0.5, 0.5]), 10**6, replacement=True, generator=torch.Generator().manual_seed(1))
    assert recorder.unstable


def _as_floats(value, seen: list):
    """`value` with every int (not bool) a float and every integer tensor a float tensor."""
    import torch
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        seen.append(value)
        return float(value)
    if isinstance(value, torch.Tensor) and not value.is_floating_point() and value.dtype != torch.bool:
        seen.append(value)
        return value.float()
    if isinstance(value, (list, tuple)):
        return type(value)(_as_floats(v, seen) for v in value)
    if isinstance(value, dict):
        return {k: _as_floats(v, seen) for k, v in value.items()}
    return value


@pytest.mark.parametrize("topic", TOPICS, ids=by_slug)
def test_a_float_where_an_int_is_expected_fails_as_wrong_type(topic):
    """Ids, counts, sizes and integer tensors are exact: the reference's own output with its ints
    made floats (3 -> 3.0, an int64 tensor -> float32) fails every check that holds an int."""
    from grader.engine.cases import load_fixture
    checks = {c.name: c for c in C.load_checks(topic.test_file())}
    for name, cases in load_fixture(topic).items():
        for case in cases:
            ints: list = []
            floats = _as_floats(case.expected, ints)
            if not ints:
                continue
            verdict = C.judge(checks[name], C.Outcome("ok", floats), case.expected)
            assert verdict.reason == C.WRONG_TYPE, f"{name}: floats for ints gave {verdict.reason}: {verdict.message}"
            assert "integer" in verdict.message, verdict.message


@pytest.mark.parametrize("got, expected, words", [
    (3.0, 3, "expected an integer, got a float 3.0"),
    ([1, 2.0], [1, 2], "expected an integer, got a float 2.0"),
    ({1.0: "a"}, {1: "a"}, "expected the key 1 (an integer), got the key 1.0 (a float)"),
    ({(1, 2.0): 5}, {(1, 2): 5}, "got the key (1, 2.0) (a tuple of an integer, a float)"),
    ({"n": True}, {"n": 1}, "expected an int"),
], ids=["a float", "a float in a list", "a float key", "a float in a tuple key", "a bool"])
def test_compare_is_exact_for_ints(got, expected, words):
    with pytest.raises(C.Failed, match=words.replace("(", r"\(").replace(")", r"\)")) as failed:
        C.compare(got, expected)
    assert failed.value.reason == C.WRONG_TYPE
    C.compare(expected, expected)
    C.compare(3, 3.0)  # an int where a float is expected is a number like any other


# ---------------------------------------------------------------------------------------------
# Hidden checks stay hidden: seeds from the instructor's secret, no hidden value in any message.

def test_hidden_seeds_come_from_the_secret_not_the_repository(tmp_path, monkeypatch):
    from grader.grading import grade
    import tomllib
    assert set(tomllib.loads((ROOT / "solutions" / "hidden.toml").read_text())) == {"count"}, \
        "hidden.toml holds how many hidden seeds, never the seeds"
    one, other = grade.hidden_seeds(ROOT, b"a" * 32), grade.hidden_seeds(ROOT, b"b" * 32)
    assert one and len(one) == len(other) and set(one).isdisjoint(other)
    assert grade.hidden_seeds(ROOT, b"a" * 32) == one, "the same secret gives the same seeds"
    assert all(s > 0 for s in one), "seed 0 is the public one"
    path = tmp_path / "config" / "kata" / "secret"
    monkeypatch.setenv("KATA_SECRET", str(path))
    secret, note = grade.instructor_secret()
    assert path.stat().st_mode & 0o777 == 0o600 and secret.decode() not in note and str(path) in note
    assert grade.instructor_secret()[0] == secret, "made once, then read"
    assert grade.hidden_seeds(ROOT) == grade.hidden_seeds(ROOT, secret)
    assert grade.fingerprint(ROOT) != grade.fingerprint(ROOT, b"b" * 32), "a new secret grades everything again"


def _tree_with(tmp_path: Path, slug: str, source: str) -> Path:
    import shutil
    for module in (ROOT / "solutions").glob("*.py"):
        shutil.copy(module, tmp_path / module.name)
    (tmp_path / f"{slug}.py").write_text(source, encoding="utf-8")
    return tmp_path


def _hidden_cases(topic, checks):
    from grader.engine.reference import build_cases
    from grader.engine.secret import hidden_seeds
    seeds = hidden_seeds(ROOT, b"k" * 32)
    return build_cases(topic, checks, {c.name: seeds for c in checks}, with_mistakes=False, hidden=True), seeds


def test_a_hidden_failure_shows_no_hidden_value_no_seed_and_no_learner_text(tmp_path):
    from grader.engine.messages import explain
    from grader.engine.judge import judge_topic
    from grader.engine.probe import probe_topic
    topic = CURRICULUM["softmax_attention"]
    checks = C.load_checks(topic.test_file())
    hidden, seeds = _hidden_cases(topic, checks)
    wrong = (ROOT / "solutions" / "softmax_attention.py").read_text().replace(
        "attn_weights = torch.softmax(scores, dim=-1)", "attn_weights = torch.softmax(scores, dim=0)")
    wrong = wrong.replace("def attention_scores(inputs: torch.Tensor) -> torch.Tensor:\n",
                          "def attention_scores(inputs: torch.Tensor) -> torch.Tensor:\n"
                          "    raise type('Leak' + str(inputs.shape[0]), (ValueError,), {})('LEAK ' + repr(inputs.tolist()))\n")
    tree = _tree_with(tmp_path, "softmax_attention", wrong)
    inputs = {name: [case.inputs for case in cases] for name, cases in hidden.items()}
    verdicts = judge_topic(checks, hidden, probe_topic(topic, tree, inputs, checks))
    failed = [v for v in verdicts if not v.passed]
    assert {v.reason for v in failed} >= {C.EXCEPTION, C.WRONG_VALUES}
    for v in verdicts:
        text = explain(v, topic) if not v.passed else v.message
        assert v.hidden and v.seed is None and v.visual is None
        assert "LEAK" not in text and "Leak" not in text and "hidden inputs" in text.lower() or v.passed
        assert not any(str(s) in text for s in seeds)
        expected = hidden[v.check][0].expected
        if isinstance(expected, torch_tensor()) and expected.is_floating_point():
            assert f"{expected.flatten()[0].item():.6g}" not in text and f"{expected.flatten()[-1].item():.6g}" not in text


def torch_tensor():
    import torch
    return torch.Tensor


def test_what_learner_code_prints_on_hidden_inputs_goes_nowhere(tmp_path, capfd):
    from grader.engine.probe import probe_topic
    topic = CURRICULUM["softmax_attention"]
    checks = C.load_checks(topic.test_file())
    source = (ROOT / "solutions" / "softmax_attention.py").read_text() + (
        "\n\nimport os as _os\n_orig = attention_scores\n\n\ndef attention_scores(inputs):\n"
        "    print('SEEN', tuple(inputs.shape))\n    _os.write(2, b'RAW-SEEN\\n')\n    return _orig(inputs)\n")
    tree = _tree_with(tmp_path, "softmax_attention", source)
    from grader.engine.cases import load_fixture
    public = load_fixture(topic)
    hidden, _ = _hidden_cases(topic, checks)
    cases = {c.name: [k.inputs for k in public[c.name]] + [k.inputs for k in hidden[c.name]] for c in checks}
    n_public = {c.name: len(public[c.name]) for c in checks}
    capfd.readouterr()
    outcomes = probe_topic(topic, tree, cases, checks, n_public=n_public)
    printed = capfd.readouterr()
    public_shape = tuple(public["scores_are_all_dot_products"][0].inputs["inputs"].shape)
    hidden_shape = tuple(hidden["scores_are_all_dot_products"][0].inputs["inputs"].shape)
    assert public_shape != hidden_shape
    assert f"SEEN {public_shape}" in printed.out and "RAW-SEEN" in printed.err, "public cases print as ever"
    assert f"SEEN {hidden_shape}" not in printed.out
    assert printed.err.count("RAW-SEEN") == printed.out.count("SEEN ("), "nothing of the hidden cases reached fd 2"
    assert all(o["status"] == "ok" for items in outcomes.values() for o in items)
    assert {name: len(items) for name, items in outcomes.items()} == {name: len(c) for name, c in cases.items()}
    print("after")  # and the output is back
    assert "after" in capfd.readouterr().out


# ---------------------------------------------------------------------------------------------
# Regrades: the learner's imports decide them, and they tell one bit per task.

@pytest.mark.parametrize("source, used", [
    ("# builds on causal_attention, see CausalAttention\nx = 'causal_attention'\n", []),
    ("from .causal_attention import CausalAttention\n", ["causal_attention"]),
    ("from . import causal_attention\n", ["causal_attention"]),
    ("def f():\n    from .causal_attention import causal_mask\n", ["causal_attention"]),
    ("import torch\nfrom .qkv_attention import SelfAttention_v2\n", []),
    ("this is not python (\n", []),
], ids=["named in a comment and a string", "from .topic import", "from . import topic", "inside a function",
        "another module", "a syntax error"])
def test_a_regrade_follows_imports_not_names(source, used):
    from grader.grading.grade import uses
    assert uses(CURRICULUM, "multihead_attention", {"multihead_attention.py": source.encode()}) == used


def test_a_regrade_keeps_only_tasks_whose_every_check_passed():
    from grader.grading.grade import StudentGrade, TopicGrade, keep_better, without_learner_text
    topic = CURRICULUM["multihead_attention"]
    checks = C.load_checks(topic.test_file())

    def verdicts(passing):
        return [C.Verdict(topic.slug, c.task, c.name, C.PASSED if passing(c) else C.WRONG_VALUES, message="mine")
                for c in checks]

    own = TopicGrade(topic.slug, verdicts(lambda c: False), [], 0.0, topic.max_points, output="own output")
    grade = StudentGrade("s", {topic.slug: own})
    # The regrade passes all of task 1 and a pattern of task 2's checks (what a leak would spell).
    task2 = [c.name for c in checks if c.task == 2]
    regrade = TopicGrade(topic.slug, verdicts(lambda c: c.task == 1 or task2.index(c.name) % 2 == 0), [], 9.0,
                         topic.max_points, output="LEAK", seconds=3.0)
    regrade = without_learner_text(regrade, ("causal_attention",))
    assert regrade.output == "" and regrade.seconds == 0.0
    keep_better(grade, topic.slug, ("causal_attention",), regrade, CURRICULUM)
    kept = grade.topics[topic.slug]
    assert [v.passed for v in kept.verdicts if v.task == 1] == [True] * sum(c.task == 1 for c in checks)
    assert not any(v.passed for v in kept.verdicts if v.task == 2), "task 2 is the learner's own: no pattern"
    assert [v.message for v in kept.verdicts if v.task == 2] == ["mine"] * len(task2)
    assert kept.points == topic.task(1).points and "task 1" in kept.note
    # Nothing better: the learner's own result, with a note.
    own2 = TopicGrade(topic.slug, verdicts(lambda c: False), [], 0.0, topic.max_points)
    grade2 = StudentGrade("t", {topic.slug: own2})
    keep_better(grade2, topic.slug, ("causal_attention",),
                TopicGrade(topic.slug, verdicts(lambda c: task2.index(c.name) % 2 == 0 if c.task == 2 else False),
                           [], 3.0, topic.max_points), CURRICULUM)
    assert grade2.topics[topic.slug] is own2 and own2.points == 0.0 and "own result counts" in own2.note


@pytest.mark.parametrize("secret", [b"a" * 32, b"b" * 32, b"c" * 32])
def test_every_check_whose_inputs_follow_the_seed_gets_a_hidden_case_whatever_the_secret(secret):
    """A derived seed may give the public inputs (an input that uses seed % 3): another is tried."""
    from grader.engine.secret import _fresh_seeds
    from grader.course.offline import install
    install()
    for topic in TOPICS:
        for chk in C.load_checks(topic.test_file()):
            follows = any(repr(chk.inputs(s)) != repr(chk.inputs(0)) for s in (1, 2, 3, 5, 7))
            assert bool(_fresh_seeds(chk, secret, 1)) == follows, f"{topic.slug}.{chk.name}"


def test_cases_on_seeds_a_check_does_not_declare_are_hidden():
    """nbgrader builds its hidden cases with build_cases too: they are hidden without saying so."""
    from grader.engine.reference import build_cases
    topic = CURRICULUM["softmax_attention"]
    checks = C.load_checks(topic.test_file())
    cases = build_cases(topic, checks, {c.name: (0, 12345) for c in checks}, with_mistakes=False)
    assert all([k.hidden for k in items] == [False, True] for items in cases.values())
