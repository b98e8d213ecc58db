"""Grading a class (trusted process: it never imports submitted code).

For every student and topic, one job runs on a warm sandboxed worker (grader.grading.sandbox.host) with the
public inputs (the fixtures) and hidden inputs (other seeds, so other values and sizes, whose
expected values the reference computes here once per class). The outcomes come back as data
and are judged here. A topic that fails while one of the topics it builds on also fails is
graded again with the reference for those, and keeps the better result, so one mistake is
not charged twice. Re-running grades only submissions whose files or whose checks changed.
"""

from __future__ import annotations

import ast
import hashlib
import hmac
import queue
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from ..engine import checks as C
from ..engine import once
from ..course.curriculum import Curriculum, Topic, load
from ..engine.cases import Case
from ..engine.probe import failing_public
from ..engine.session import TopicSession, session
from ..engine.secret import _fresh_seeds, hidden_seeds, instructor_secret  # noqa: F401 (grade.hidden_seeds, as before)
from .sandbox.host import Isolation, Worker, WorkerDied
from .record import StudentGrade, TopicGrade, earned
from .submissions import Submission

TOPIC_TIMEOUT = 10.0  # seconds per topic; the reference needs well under one
REGRADE_FLOOR = 5.0  # seconds a regrade may always take, however fast the learner's own run was
FAILURE_WORDS = {
    "timeout": (C.TIMEOUT, "stopped after {timeout:g} s: an endless loop, or far too slow?"),
    "memory": (C.MEMORY, "your code ran out of the memory allowed for a check"),
    "crash": (C.CRASH, "the process running your code died ({how})"),
    "bad_output": (C.BAD_OUTPUT, "what came back from your code could not be read"),
    "skipped": (C.NOT_RUN, "not run: it needs your {how}, whose import never finished"),
}


@dataclass
class Prepared:
    """What every job of a class shares: each topic's TopicSession (its checks, public and
    hidden cases), and the same as plain tables."""
    curriculum: Curriculum
    checks: dict[str, list[C.Check]]
    public: dict[str, dict[str, list[Case]]]
    hidden: dict[str, dict[str, list[Case]]]
    fingerprint: str
    secret_note: str = ""  # where the hidden inputs come from (never the secret): print it once
    sessions: dict[str, TopicSession] = field(default_factory=dict, repr=False)

    def session(self, slug: str) -> TopicSession:
        if slug not in self.sessions:  # a Prepared made by hand (the proofs): a session of its tables
            self.sessions[slug] = TopicSession(self.curriculum[slug], self.checks[slug], self.public[slug],
                                               self.hidden[slug])
        return self.sessions[slug]

    def packed_cases(self) -> dict:
        """Each topic's inputs (TopicSession.packed): {slug: its public cases, ("hidden", slug):
        its hidden cases}. A worker sends a topic's cases to the child only as it starts that
        topic, and public and hidden cases run in different jobs (grade_topics), so no child that
        shows its output or returns values for the public feedback ever holds a hidden input."""
        packed = {}
        for slug in self.checks:
            packed[slug] = self.session(slug).packed()
            if (hidden := self.session(slug).packed(hidden=True)) is not None:
                packed[("hidden", slug)] = hidden
        return packed


def gradable(curriculum: Curriculum | None = None) -> Curriculum:
    """The topics that have checks (all of them, once a suite is complete)."""
    curriculum = curriculum or load()
    return Curriculum(tuple(t for t in curriculum.topics if t.test_file().exists()), curriculum.root,
                      curriculum.context, curriculum.assignments)


def prepare(curriculum: Curriculum | None = None) -> Prepared:
    curriculum = gradable(curriculum)
    secret, note = instructor_secret()
    sessions = {topic.slug: session(topic) for topic in curriculum.topics}
    return Prepared(curriculum, {slug: s.checks for slug, s in sessions.items()},
                    {slug: s.public for slug, s in sessions.items()},
                    {slug: s.hidden(secret) for slug, s in sessions.items()},
                    fingerprint(curriculum.root, secret), note, sessions)


def fingerprint(root: Path, secret: bytes | None = None) -> str:
    """Changes whenever anything that decides a grade changes, the instructor's secret included
    (through an HMAC: the fingerprint is in every results.json and says nothing of the secret)."""
    secret = secret if secret is not None else instructor_secret()[0]
    h = hashlib.sha256(hmac.new(secret, b"kata fingerprint", hashlib.sha256).digest())
    for pattern in ("curriculum.toml", "grader/**/*.py", "tests/*.py", "tests/fixtures/*", "solutions/*.py",
                    "solutions/hidden.toml", "hints/*.toml"):
        for path in sorted(p for p in root.glob(pattern) if not p.is_relative_to(root / "grader" / "tests")):
            h.update(str(path.relative_to(root)).encode() + hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def score(topic: Topic, verdicts: list[C.Verdict]) -> float:
    """A task's points, shared equally by its verdicts (public and hidden); a verdict counts only
    where its check passed on every input (record.earned)."""
    total = 0.0
    won = earned(verdicts)
    for task in topic.tasks:
        mine = [w for v, w in zip(verdicts, won) if v.task == task.id]
        if mine:
            total += task.points * sum(mine) / len(mine)
    return round(total, 2)


def grade_topics(worker: Worker, prep: Prepared, slugs: list[str], files: dict[str, bytes],
                 timeout: float = TOPIC_TIMEOUT, used: dict[str, list[str]] | None = None, steps: bool = True
                 ) -> dict[str, TopicGrade]:
    """Two jobs on one worker: the submission's files on each topic's public cases, then, in a
    fresh child, on its hidden cases. What the second prints is never shown and its time never
    reported, so no hidden input reaches the feedback by any channel the code controls (its
    output, a value a later topic returns, the time it takes). `used`: the topics each topic's
    module uses; one that uses a topic whose import never finished is skipped. `steps`: trace the
    failing checks (add_steps); a regrade, whose text is never shown, does not."""
    public = worker.run(slugs, files, timeout, used or {})
    output = str(public.get("output", ""))[:4096]
    unwritten = {s: stub_outcomes(prep, s, public["outcomes"].get(s), files) for s in slugs}
    if steps:
        add_steps(worker, prep, public, files, timeout, used or {})
    ran = [s for s in slugs if ("hidden", s) in (worker.cases or {}) and unwritten[s] is None
           and isinstance(public["topics"].get(s), dict) and public["topics"][s].get("status") == "ok"]
    hidden = worker.run(ran, files, timeout, used or {}, hidden=True) if ran else {"topics": {}, "outcomes": {}}
    return {slug: _judge_reply(prep, prep.curriculum[slug], public["topics"].get(slug), public["outcomes"].get(slug),
                               hidden["topics"].get(slug, public["topics"].get(slug)),
                               hidden["outcomes"].get(slug, unwritten[slug]), timeout, output)
            for slug in slugs}


def add_steps(worker: Worker, prep: Prepared, public: dict, files: dict[str, bytes], timeout: float,
              used: dict[str, list[str]]) -> None:
    """The steps of each check whose first public case failed, from one more job that runs only
    those checks, traced, so the judge can say where the learner's values first part from the
    reference's. The worker never holds an expected value, so it cannot choose them itself; a
    passing submission pays nothing (tracing costs about three times a run). Steps that do not
    come back (a timeout, odd data) only leave that line out."""
    wanted: dict[str, list[str]] = {}
    for slug, outcomes in public["outcomes"].items():
        if not isinstance(outcomes, dict) or (public["topics"].get(slug) or {}).get("status") != "ok":
            continue
        needs = failing_public(prep.session(slug).public)
        names = [c.name for c in prep.checks[slug] if isinstance(outcomes.get(c.name), list) and outcomes[c.name]
                 and isinstance(outcomes[c.name][0], dict) and needs(c, outcomes[c.name][0])]
        if names:
            wanted[slug] = names
    if not wanted:
        return
    own = sum(float(public["topics"][s].get("seconds", 0) or 0) for s in wanted)
    limit = min(timeout, max(REGRADE_FLOOR, 4 * own))  # a traced run takes about three times the run
    traced = worker.run(list(wanted), files, limit, used, trace=wanted)
    for slug, names in wanted.items():
        got = traced["outcomes"].get(slug)
        for name in names:
            try:
                steps = got[name][0]["steps"]
            except (KeyError, IndexError, TypeError):
                continue
            public["outcomes"][slug][name][0]["steps"] = steps  # Outcome.from_data checks them when judged


def stub_outcomes(prep: Prepared, slug: str, outcomes, files: dict[str, bytes]) -> dict | None:
    """A topic still as shipped (or not submitted), its hidden cases' outcomes without running
    them: every function the stub leaves to write still only raises NotImplementedError, and every
    public case failed as not implemented (or the module is missing, and every case said so).
    Code that raises NotImplementedError with the same words whatever it is given fails each
    hidden case as its public case failed. None when anything was written (or ran): then the
    hidden cases run, and a learner's code that raises only on public inputs is never judged by
    them alone."""
    public = {name: [C.Outcome.from_data(data) for data in items] for name, items in
              (outcomes.items() if isinstance(outcomes, dict) else ())}
    hidden = prep.hidden[slug]
    shipped = C.MISSING_NAME if prep.curriculum[slug].module_file not in files else C.NOT_IMPLEMENTED
    if (not hidden or any(not public.get(name) for name in hidden)
            or any(o.status != shipped for items in public.values() for o in items)):
        return None
    if not untouched(prep, slug, files):
        return None
    return {name: [public[name][0].to_data()] * len(cases) for name, cases in hidden.items()}


def untouched(prep: Prepared, slug: str, files: dict[str, bytes]) -> bool:
    """Nothing of the learner's in this topic: its module is not in the submission (a week's
    assignment holds a few topics), or every function the stub leaves to write still only raises
    NotImplementedError (as shipped). Nothing there can pass, whatever is put beside it."""
    if (source := files.get(prep.curriculum[slug].module_file)) is None:
        return True
    left = prep.session(slug).shipped_stubs
    unwritten = once.still_stubs(source)
    return bool(left) and unwritten is not None and left <= unwritten


def _phase_outcomes(reply, outcomes, cases: dict[str, list[Case]], timeout: float) -> dict:
    """{check: [outcome data]} for one job's cases of a topic, whatever happened to the job."""
    reply = reply if isinstance(reply, dict) else {"status": "crash", "how": "no reply"}
    if reply.get("status") != "ok":
        reason, words = FAILURE_WORDS.get(reply.get("status"), FAILURE_WORDS["crash"])
        if reply.get("status") == "timeout" and reply.get("how"):  # the worker itself stopped answering
            words = "{how}"
        failed = C.Outcome(reason, message=words.format(timeout=timeout, how=reply.get("how", "unknown"))).to_data()
        return {name: [failed] * len(items) for name, items in cases.items()}
    return outcomes if isinstance(outcomes, dict) else {}


def _judge_reply(prep: Prepared, topic: Topic, reply, outcomes, hidden_reply, hidden_outcomes, timeout: float,
                 output: str) -> TopicGrade:
    judged = prep.session(topic.slug)
    verdicts = judged.judge(_phase_outcomes(reply, outcomes, judged.public, timeout))
    hidden = prep.hidden[topic.slug]
    hidden_verdicts = judged.judge(_phase_outcomes(hidden_reply, hidden_outcomes, hidden, timeout), True, cases=hidden)
    reply = reply if isinstance(reply, dict) else {}
    seconds = reply.get("seconds", 0.0)  # the public job's only: the hidden job's time is never shown
    return TopicGrade(topic.slug, verdicts, hidden_verdicts, score(topic, verdicts + hidden_verdicts),
                      topic.max_points, output=output,
                      seconds=float(seconds) if isinstance(seconds, (int, float)) else 0.0,
                      not_run=str(reply.get("how", "")) if reply.get("status") == "skipped" else "")


def _passes(grade: TopicGrade | None) -> bool:
    return grade is not None and all(v.passed for v in grade.all_verdicts)


class Pool:
    """One warm worker per thread; jobs are (key, function(worker) -> result).

    Entering launches the workers; `start(cases)` then waits for them and gives them the class's
    inputs. Given `cases` up front, entering does both. Between the two, the workers import
    torch while this process computes the hidden cases."""

    def __init__(self, isolation: Isolation, size: int, cases: bytes | None = None):
        self.isolation, self.size, self.cases = isolation, size, cases
        self.workers: list[Worker] = []

    def __enter__(self) -> "Pool":
        # Launched from this thread: bwrap's --die-with-parent follows the launching thread.
        self.workers = [Worker(self.isolation, None, ready=False) for _ in range(self.size)]
        if self.cases is not None:
            self.start(self.cases)
        return self

    def start(self, cases: dict[str, bytes]) -> Isolation:
        """Wait for the workers and hand them the cases (Prepared.packed_cases: they send each
        topic's to the worker when it asks); returns the isolation they achieved. If
        bubblewrap cannot start them, they start again without it, and the isolation says why."""
        try:
            for worker in self.workers:
                worker.cases = cases
                worker.wait_ready()
        except WorkerDied as died:
            if self.isolation.degraded:
                raise
            self.__exit__()
            self.isolation = Isolation("none", f"bubblewrap could not start the workers here ({died})")
            self.workers = [Worker(self.isolation, cases, ready=False) for _ in range(self.size)]
            for worker in self.workers:
                worker.wait_ready()
        self.isolation = replace(self.isolation, seccomp=all(w.seccomp for w in self.workers))
        return self.isolation

    def __exit__(self, *exc) -> None:
        for w in self.workers:
            w.close()

    def run(self, jobs: list, work: Callable, done: Callable) -> None:
        """work(worker, job) -> result on the workers; done(job, result, submit) here, one at a
        time; `submit(job)` adds a job while the pool runs."""
        todo: queue.Queue = queue.Queue()
        lock = threading.Lock()
        pending = [len(jobs)]
        failure: list[BaseException] = []
        for job in jobs:
            todo.put(job)

        def submit(job) -> None:
            pending[0] += 1
            todo.put(job)

        def serve(worker: Worker) -> None:
            while not failure:
                try:
                    job = todo.get(timeout=0.05)
                except queue.Empty:
                    with lock:
                        if pending[0] == 0:
                            return
                    continue
                try:
                    result = work(worker, job)
                    with lock:
                        done(job, result, submit)
                        pending[0] -= 1
                except BaseException as err:  # a bug here must not hang the other threads
                    failure.append(err)
                    return

        threads = [threading.Thread(target=serve, args=(w,), daemon=True) for w in self.workers]
        for t in threads:
            t.start()
        for t in threads:
            while t.is_alive():
                t.join(0.2)  # stays responsive to Ctrl-C
        if failure:
            raise failure[0]


def grade_submissions(submissions: list[Submission], prep: Prepared, pool: Pool,
                      on_done: Callable[[StudentGrade], None] = lambda g: None,
                      progress: Callable[[int], None] = lambda n: None,
                      timeout: float = TOPIC_TIMEOUT) -> list[StudentGrade]:
    """Grade every submission; `on_done` gets each student as soon as they are complete.

    Jobs are (student, topics, failing dependencies, borrowed tasks): first every topic with the
    student's own files, then, for a failing topic that uses a failing topic, that topic with the
    reference for those dependencies, and, for a failing task that calls a failing task of its
    topic, that topic with the reference's code for those tasks (grader/once.py), one task at a
    time in task order."""
    curriculum = prep.curriculum
    grades = {s.student: StudentGrade(s.student, ignored=s.ignored, error=s.error) for s in submissions}
    files = {s.student: s.files for s in submissions}
    used = {s.student: {t.slug: uses(curriculum, t.slug, s.files) for t in curriculum.topics} for s in submissions}
    waiting = {s.student: 1 for s in submissions}

    def grader_failed(grade: StudentGrade, slugs: tuple[str, ...], failing: tuple[str, ...], err: Exception) -> None:
        """The grader itself failed on one job of this student (a bug, or a reply it could not
        judge): the student's status says so; the rest of the class is graded as usual."""
        what = ("this submission" if set(slugs) == set(curriculum.slugs) else ", ".join(slugs)) + (
            f" (with the reference {', '.join(failing)})" if failing else "")
        if not failing:
            for slug in slugs:
                grade.topics.pop(slug, None)  # not graded: see not_graded
        grade.error = grade.error or (f"the grader failed on {what} ({type(err).__name__}: {err}"[:400]
                                      + "); not a verdict on the code: report it, then grade again")

    def referenced(job) -> tuple[str, ...]:
        """What a regrade puts beside the learner's code: the reference of other topics, or of
        the failing tasks a task calls (grader/once.py); nothing for the learner's own run."""
        student, slugs, failing, borrow = job
        return failing + tuple(f"{slugs[0]} task {t}" for t in (borrow[0] if borrow else ()))

    def not_graded(topic) -> TopicGrade:
        return TopicGrade(topic.slug, [], [], 0.0, topic.max_points,
                          note="Not graded: the grader failed on this topic (see the problem above).")

    def work(worker: Worker, job) -> dict[str, TopicGrade] | Exception:
        student, slugs, failing, borrow = job
        try:
            mine = dict(files[student])
            for dep in failing:  # the reference for the topics this one builds on
                mine[curriculum[dep].module_file] = curriculum[dep].solution().read_bytes()
            if borrow:  # the reference's code for the failing tasks a task calls (grader/once.py)
                topic = curriculum[slugs[0]]
                mine.update(once.staged(topic, mine.get(topic.module_file, b""), topic.solution().read_bytes(), *borrow))
            references = referenced(job)
            limit = timeout
            if references:  # a regrade may take a few times what the learner's own run took, not more:
                own = sum(grades[student].topics[s].seconds for s in slugs if s in grades[student].topics)
                limit = min(timeout, max(REGRADE_FLOOR, 3 * own))  # code that stalls only there gains nothing
            results = grade_topics(worker, prep, list(slugs), mine, limit, {} if references else used[student],
                                   steps=not references)
            if not references:
                return results
            return {slug: without_learner_text(r, references) for slug, r in results.items()}
        except Exception as err:  # noqa: BLE001 -- this student's failure, not the class's (see `done`)
            try:  # the worker may have stopped halfway through a reply: the next student gets a fresh one
                worker.restart()
            except Exception:  # noqa: BLE001 -- its next job meets (and contains) the same failure
                pass
            return err

    def done(job, results: dict[str, TopicGrade] | Exception, submit) -> None:
        student, slugs, failing, borrow = job
        grade = grades[student]
        waiting[student] -= 1

        def regrade(slug: str, step) -> None:
            if step is not None and not untouched(prep, slug, files[student]):
                waiting[student] += 1
                submit((student, (slug,), (), step))

        if not failing and not borrow:
            progress(1)
        try:
            if isinstance(results, Exception):
                raise results
            grade.seconds += sum(r.seconds for r in results.values())
            if borrow:
                keep_task(grade, slugs[0], results[slugs[0]], *borrow, curriculum=curriculum)
                topic = curriculum[slugs[0]]
                regrade(topic.slug, once.next_regrade(topic, grade.topics[topic.slug].all_verdicts,
                                                      files[student].get(topic.module_file, b""), after=borrow[1]))
            elif not failing:
                grade.topics.update(results)
                again: dict[tuple[str, ...], list[str]] = {}
                for slug, deps in regrades_needed(curriculum, grade, used[student]):
                    if not untouched(prep, slug, files[student]):  # a stub gains nothing from a reference beside it
                        again.setdefault(deps, []).append(slug)
                for deps, topics in again.items():  # one job per set of references: one fork, not one per topic
                    waiting[student] += 1
                    submit((student, tuple(topics), deps, ()))
                for slug in slugs:  # inside a topic: a task that fails only through a task it calls
                    regrade(slug, once.next_regrade(curriculum[slug], grade.topics[slug].all_verdicts,
                                                    files[student].get(curriculum[slug].module_file, b"")))
            else:
                for slug in slugs:
                    keep_better(grade, slug, failing, results[slug])
        except Exception as err:  # noqa: BLE001 -- contained: the student gets an error, the class goes on
            grader_failed(grade, slugs, referenced(job), err)
        if waiting[student] == 0:
            grade.topics = {t.slug: grade.topics.get(t.slug) or not_graded(t) for t in curriculum.topics}
            grade.seconds = round(grade.seconds, 3)
            try:
                on_done(grade)
            except Exception as err:  # noqa: BLE001 -- the caller's failure for this student; the class goes on
                grade.error = grade.error or f"this student's grade could not be reported ({type(err).__name__}: {err})"

    pool.run([(s.student, tuple(curriculum.slugs), (), ()) for s in submissions], work, done)
    return [grades[s.student] for s in submissions]


def uses(curriculum: Curriculum, slug: str, files: dict[str, bytes]) -> list[str]:
    """The earlier topics this submission's module for `slug` imports: import statements only
    (`from .causal_attention import ...`, `from . import causal_attention`, `import
    causal_attention`), read with ast. A topic named in a comment or a string is not used: a
    regrade puts a reference beside the learner's code, and the learner must not choose that."""
    source = files.get(curriculum[slug].module_file, b"")
    if source.isascii() and not any(d.encode() in source for d in curriculum.requires(slug)):
        return []  # no import can name a topic whose name is nowhere in it (ASCII: no other spelling)
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level and not node.module:  # from . import causal_attention
                imported.update(alias.name for alias in node.names)
            elif node.module and node.level <= 1:  # from .causal_attention import X, or absolute
                imported.add(node.module.split(".")[0])
    return [d for d in curriculum.requires(slug) if d in imported]


def regrades_needed(curriculum: Curriculum, grade: StudentGrade, used: dict[str, list[str]]):
    """(topic, failing dependencies) for each failing topic whose module imports a failing topic
    (`used`: per topic, the earlier topics its module imports, from `uses`)."""
    for topic in curriculum.topics:
        if _passes(grade.topics.get(topic.slug)):
            continue
        failing = tuple(d for d in curriculum.requires(topic.slug) if not _passes(grade.topics.get(d)))
        if failing and any(d in used.get(topic.slug, ()) for d in failing):
            yield topic.slug, failing


def without_learner_text(grade: TopicGrade, references: tuple[str, ...]) -> TopicGrade:
    """A regrade ran with reference modules beside the learner's code, which could print them,
    raise them or return them as values, or spend time to encode them: keep its verdicts, none
    of its text, no picture and no time."""
    note = f"(graded with the reference {', '.join(references)}; details are in your own run)"
    for verdict in grade.all_verdicts:
        if not verdict.passed:
            verdict.message, verdict.visual = note, None
    grade.output = ""
    grade.seconds = 0.0
    return grade


def keep_better(grade: StudentGrade, slug: str, failing: tuple[str, ...], result: TopicGrade,
                curriculum: Curriculum | None = None) -> None:
    """Keep, per task, the regrade's result only where every check of the task (public and hidden)
    passed with the reference beside the learner's code; every other task keeps the learner's own
    verdicts. So a regrade tells one bit per task (all passed, or not), never which checks passed:
    the learner's code, which can read the reference, cannot spell it out one check at a time."""
    curriculum = curriculum or load()
    topic = curriculum[slug]
    own, names = grade.topics[slug], ", ".join(failing)

    def passes(verdicts: list[C.Verdict], task: int) -> bool:
        mine = [v for v in verdicts if v.task == task]
        return bool(mine) and all(v.passed for v in mine)

    won = [t.id for t in topic.tasks if passes(result.all_verdicts, t.id) and not passes(own.all_verdicts, t.id)]
    if not won:
        own.note = f"Graded again with the reference {names}: no task more passed, so your own result counts."
        return
    theirs = {(v.check, i): v for i, v in enumerate(result.verdicts)}
    theirs_hidden = {(v.check, i): v for i, v in enumerate(result.hidden)}
    verdicts = [theirs.get((v.check, i), v) if v.task in won else v for i, v in enumerate(own.verdicts)]
    hidden = [theirs_hidden.get((v.check, i), v) if v.task in won else v for i, v in enumerate(own.hidden)]
    if not all(v.passed for v in verdicts + hidden if v.task in won):  # the two runs judged other checks
        own.note = f"Graded again with the reference {names}: not comparable, so your own result counts."
        return
    points = score(topic, verdicts + hidden)
    why = (f"This topic was not run with your own code (it needs your {own.not_run}, whose import "
           f"never finished)" if own.not_run else f"Your {names} has failing checks")
    tasks = ", ".join(str(t) for t in won)
    kept = replace(own, verdicts=verdicts, hidden=hidden, points=points)
    kept.note = (f"{why}, so it was graded{'' if own.not_run else ' again'} with the reference {names}: "
                 f"task{'s' * (len(won) > 1)} {tasks} passed every check with it and count{'s' * (len(won) == 1)} "
                 f"({points:g} instead of {own.points:g}); the other tasks keep your own result.")
    grade.topics[slug] = kept


def keep_task(grade: StudentGrade, slug: str, result: TopicGrade, borrowed: tuple[int, ...], judged: int,
              curriculum: Curriculum | None = None) -> None:
    """Keep the judged task's verdicts from a regrade with the reference's code for the failing
    tasks it calls when every one of them (public and hidden) passed there (grader/once.py);
    one bit per task, as in keep_better."""
    topic = (curriculum or load())[slug]
    own = grade.topics[slug]
    kept = once.keep(topic, own.verdicts + own.hidden, result.verdicts + result.hidden, borrowed, judged)
    if kept is None:
        return
    split = len(own.verdicts)
    new = replace(own, verdicts=kept[:split], hidden=kept[split:], points=score(topic, kept))
    new.note = " ".join(filter(None, (own.note, f"Task {judged} {once.graded_with_reference(topic, borrowed)}")))
    grade.topics[slug] = new
