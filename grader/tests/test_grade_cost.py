"""What the class grader spends per submission, and that saving it changes no grade: a topic
still as shipped, or not in the submission, gets its hidden verdicts without a second job
(grading.grade.stub_outcomes), the same verdicts a hidden job gives it, and is never graded again
with a reference beside it; a topic with anything written is run on its hidden cases."""
import os

import pytest

from grader.course.curriculum import Curriculum, load
from grader.grading import grade
from grader.grading.sandbox.host import Isolation, Worker
from grader.grading.submissions import Submission

CURRICULUM = load()
SLUGS = ("tokenizer", "special_tokens")  # two topics with hidden cases and cheap references


@pytest.fixture(scope="module")
def prepared():
    return grade.prepare(Curriculum(tuple(CURRICULUM[s] for s in SLUGS), CURRICULUM.root))


@pytest.fixture(scope="module")
def worker(prepared):
    os.environ["KATA_SECCOMP"] = "off"  # this file proves what is run, not the sandbox
    w = Worker(Isolation("none", "test: counting jobs"), prepared.packed_cases())
    yield w
    w.close()
    del os.environ["KATA_SECCOMP"]


def graded(worker, prepared, files, monkeypatch, skip: bool = True, traced: list | None = None
           ) -> tuple[dict, list[list[str]]]:
    """grade_topics on SLUGS, and the topics of each job the worker ran; the jobs that only record
    the steps of failing checks (grade.add_steps) go to `traced` instead, as {topic: [check]}."""
    jobs, run = [], worker.run

    def counted(topics, *args, **kwargs):
        if kwargs.get("trace") is not None:
            (traced if traced is not None else []).append(kwargs["trace"])
        else:
            jobs.append(list(topics))
        return run(topics, *args, **kwargs)
    monkeypatch.setattr(worker, "run", counted)
    if not skip:
        monkeypatch.setattr(grade, "stub_outcomes", lambda *args: None)
    results = grade.grade_topics(worker, prepared, list(SLUGS), files)
    monkeypatch.undo()
    return results, jobs


def stub_files() -> dict[str, bytes]:
    return {CURRICULUM[s].module_file: CURRICULUM[s].exercise().read_bytes() for s in SLUGS}


def test_untouched_stubs_run_one_job_and_get_the_verdicts_two_would_give(worker, prepared, monkeypatch):
    files = stub_files()
    saved, jobs = graded(worker, prepared, files, monkeypatch)
    assert jobs == [list(SLUGS)], "the hidden job ran on topics where nothing is written"
    full, jobs = graded(worker, prepared, files, monkeypatch, skip=False)
    assert jobs == [list(SLUGS), list(SLUGS)]
    for slug in SLUGS:
        assert saved[slug].hidden, "a stub's hidden checks must still be judged (and fail)"
        assert saved[slug].hidden == full[slug].hidden
        assert saved[slug].verdicts == full[slug].verdicts and saved[slug].points == full[slug].points == 0


def test_a_topic_not_submitted_runs_no_second_job_and_gets_the_verdicts_two_would_give(worker, prepared, monkeypatch):
    files = {"tokenizer.py": CURRICULUM["tokenizer"].solution().read_bytes()}  # special_tokens.py not handed in
    saved, jobs = graded(worker, prepared, files, monkeypatch)
    assert jobs == [list(SLUGS), ["tokenizer"]], "the hidden job ran on a topic that was not submitted"
    full, jobs = graded(worker, prepared, files, monkeypatch, skip=False)
    assert jobs == [list(SLUGS), list(SLUGS)]
    assert saved["special_tokens"].hidden and saved["special_tokens"].hidden == full["special_tokens"].hidden
    assert saved["special_tokens"].verdicts == full["special_tokens"].verdicts and saved["special_tokens"].points == 0


class Serial:
    """grade.Pool's run() on one worker, one job after another, counting the topics of each job."""
    def __init__(self, worker):
        self.worker, self.jobs = worker, []

    def run(self, jobs, work, done) -> None:
        queue = list(jobs)
        while queue:
            job = queue.pop(0)
            self.jobs.append(job)
            done(job, work(self.worker, job), queue.append)


def test_a_topic_with_nothing_written_is_never_graded_again_with_a_reference(worker, prepared):
    """special_tokens builds on tokenizer. A tokenizer with a mistake sends a written special_tokens
    back with the reference tokenizer beside it; a special_tokens still as shipped, or not handed
    in (a week's assignment holds a few topics), is not: nothing of its own could pass there."""
    wrong = CURRICULUM["tokenizer"].solution().read_bytes().replace(  # split_text keeps punctuation on words
        b"return [part.strip() for part in parts if part.strip()]", b"return text.split()", 1)
    assert wrong != CURRICULUM["tokenizer"].solution().read_bytes()
    cases = {"written": CURRICULUM["special_tokens"].solution().read_bytes(),
             "stub": CURRICULUM["special_tokens"].exercise().read_bytes(), "missing": None}
    for name, special in cases.items():
        files = {"tokenizer.py": wrong} | ({"special_tokens.py": special} if special is not None else {})
        pool = Serial(worker)
        [graded_student] = grade.grade_submissions([Submission(name, files)], prepared, pool)
        regraded = [job for job in pool.jobs[1:] if "special_tokens" in job[1]]
        assert bool(regraded) == (name == "written"), (name, pool.jobs)
        assert graded_student.topics["special_tokens"].points == (
            CURRICULUM["special_tokens"].max_points if name == "written" else 0)


def test_a_topic_with_anything_written_runs_its_hidden_cases(worker, prepared, monkeypatch):
    """One task written (the reference's topic in place of the stub) runs the hidden job for that
    topic; code that raises NotImplementedError from a body that is not a stub's runs it too."""
    files = stub_files()
    files["tokenizer.py"] = CURRICULUM["tokenizer"].solution().read_bytes()
    _, jobs = graded(worker, prepared, files, monkeypatch)
    assert jobs == [list(SLUGS), ["tokenizer"]]
    source = CURRICULUM["special_tokens"].exercise().read_text(encoding="utf-8")
    files["special_tokens.py"] = (source + "\n\ndef _not_yet(*why):\n    raise NotImplementedError('soon')\n"
                                  ).replace("raise NotImplementedError(", "_not_yet(", 1).encode()
    _, jobs = graded(worker, prepared, files, monkeypatch)
    assert jobs == [list(SLUGS), list(SLUGS)]


def test_only_failing_checks_are_traced_in_a_job_of_their_own(worker, prepared, monkeypatch):
    """The worker never holds an expected value, so the grader picks the checks whose first public
    case failed and runs those alone again, traced: a passing submission pays for no trace, and a
    mistake still gets the line where its values part from the reference's."""
    files = {CURRICULUM[s].module_file: CURRICULUM[s].solution().read_bytes() for s in SLUGS}
    traced: list = []
    results, jobs = graded(worker, prepared, files, monkeypatch, traced=traced)
    assert traced == [] and jobs == [list(SLUGS), list(SLUGS)]
    assert all(v.passed for r in results.values() for v in r.all_verdicts)
    files["tokenizer.py"] = files["tokenizer.py"].replace(b"sorted(set(", b"list(set(", 1)
    assert files["tokenizer.py"] != CURRICULUM["tokenizer"].solution().read_bytes()
    results, jobs = graded(worker, prepared, files, monkeypatch, traced=traced)
    failing = {v.check for v in results["tokenizer"].verdicts if not v.passed}
    assert len(traced) == 1 and set(traced[0]) == {"tokenizer"} and set(traced[0]["tokenizer"]) <= failing
    assert any(v.diverges for v in results["tokenizer"].verdicts if not v.passed)


def test_imports_are_read_only_where_a_topic_is_named_and_in_any_spelling():
    """`uses` skips parsing a module that names no topic it may import, and still reads an import
    spelled in other characters that Python folds to the topic's name (NFKC)."""
    files = {"gpt_model.py": "from .ｇｐｔ_blocks import TransformerBlock\n".encode()}
    assert grade.uses(CURRICULUM, "gpt_model", files) == ["gpt_blocks"]
    files = {"gpt_model.py": b"import torch\nfrom .gpt_blocks import LayerNorm\n"}
    assert grade.uses(CURRICULUM, "gpt_model", files) == ["gpt_blocks"]
    assert grade.uses(CURRICULUM, "gpt_model", {"gpt_model.py": b"import torch\n"}) == []
