"""How the judge names a catalogued mistake: only one that explains every public result of the
failing task (grader.engine.judge.consistent_with_the_task), so that words written for one slip
are never given to another that looks the same on one check. Held-out trial 7 found three such
misnamings (gm4, de5, tr2); the cases below are theirs."""

import torch

from grader.engine import checks as C
from grader.engine.cases import Case
from grader.engine.judge import judge_topic

TOO_LONG = "AssertionError: Cannot forward 8 tokens, context_length is only 7"


def a_check(name: str, task: int = 4) -> C.Check:
    return C.Check("no_such_topic", task, name, lambda m: None, lambda seed: {})


def ok(value) -> dict:
    return C.Outcome("ok", value).to_data()


def raised(line: str) -> dict:
    return C.Outcome(C.EXCEPTION, message=f"{line}\n    at gpt_model.py, line 36, in forward: assert ...").to_data()


CHECKS = [a_check("greedy"), a_check("crop"), a_check("other_task", task=3)]
EXPECTED = {"greedy": torch.tensor([1, 2, 3]), "crop": torch.tensor([4, 5]), "other_task": torch.tensor([6])}


def fixture() -> dict[str, list[Case]]:
    """Two mistakes that raise the same error on `greedy`; on `crop` one gives [4, 9], the other
    passes. `other_task` belongs to another task, where neither mistake changes anything."""
    return {"greedy": [Case(0, {}, EXPECTED["greedy"], raised={"no_crop": TOO_LONG, "one_too_many": TOO_LONG})],
            "crop": [Case(0, {}, EXPECTED["crop"], mistakes={"no_crop": torch.tensor([4, 9])})],
            "other_task": [Case(0, {}, EXPECTED["other_task"])]}


def greedy_verdict(crop_outcome: dict, other_outcome: dict | None = None) -> C.Verdict:
    outcomes = {"greedy": [raised(TOO_LONG)], "crop": [crop_outcome],
                "other_task": [other_outcome or ok(EXPECTED["other_task"])]}
    return next(v for v in judge_topic(CHECKS, fixture(), outcomes) if v.check == "greedy")


def test_a_mistake_that_another_check_of_the_task_contradicts_is_not_named():
    """The same error on one check, but the learner's crop check passes where no_crop's fails:
    only one_too_many explains both (gm4: a crop one too long was told 'you feed all the ids')."""
    v = greedy_verdict(ok(EXPECTED["crop"]))
    assert v.candidates == ("one_too_many",) and v.mistake == "one_too_many"


def test_a_mistake_that_explains_every_check_of_the_task_is_kept():
    v = greedy_verdict(ok(torch.tensor([4, 9])))
    assert v.candidates == ("no_crop",) and v.mistake == "no_crop"


def test_a_result_no_mistake_gives_names_none():
    """The crop check gives values neither mistake gives: the error alone names nothing."""
    v = greedy_verdict(ok(torch.tensor([7, 7])))
    assert v.candidates == () and v.mistake is None


def test_another_error_on_another_check_contradicts_a_mistake():
    v = greedy_verdict(raised("IndexError: index 9 is out of bounds"))
    assert v.candidates == ()


def test_a_check_the_code_did_not_finish_and_another_task_tell_nothing():
    """A timeout says nothing about which mistake it is, and a task of its own may hold another slip."""
    v = greedy_verdict(C.Outcome(C.TIMEOUT, message="too slow").to_data(), other_outcome=ok(torch.tensor([0])))
    assert v.candidates == ("no_crop", "one_too_many")


def test_the_checks_own_judge_decides_agreement():
    """A check that judges by statistics (sampling) agrees with a mistake when its judge would
    accept the learner's value with the mistake's as the expected one, not only when they are equal."""
    def within_one(got, expected):
        if abs(int(got) - int(expected)) > 1:
            raise C.Failed(C.WRONG_VALUES, "too far")
    counts = C.Check("no_such_topic", 4, "counts", lambda m: None, lambda seed: {}, judge=within_one)
    cases = fixture() | {"counts": [Case(0, {}, 100, mistakes={"no_crop": 50})]}
    outcomes = {"greedy": [raised(TOO_LONG)], "crop": [ok(torch.tensor([4, 9]))],
                "other_task": [ok(EXPECTED["other_task"])], "counts": [ok(51)]}
    v = next(v for v in judge_topic(CHECKS + [counts], cases, outcomes) if v.check == "greedy")
    assert v.candidates == ("no_crop",)
