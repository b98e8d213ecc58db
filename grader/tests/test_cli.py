"""`kata`, the learner's loop, tested the way a learner uses it: on a scratch copy of the
repository whose exercises/ holds the stubs, the reference, or the reference with one catalogued
mistake pasted in. Commands run in this process (`main([...])`, output captured without colour);
a few run the real console script.

Golden files pin the exact words of a handful of messages. After an intended change of wording:
    KATA_UPDATE_GOLDEN=1 .venv/bin/python -m pytest grader/tests/test_cli.py
"""

import io
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from rich.console import Console

from grader.learner import cli
from grader.learner import progress as L
from grader.course.curriculum import ROOT, load
from grader.course.mistakes import catalogue, mistaken_source

CURRICULUM = load()
TOPICS = [t for t in CURRICULUM.topics if t.test_file().exists()]
MISTAKES = [(t, p) for t in TOPICS for p in catalogue(t)]
GOLDEN = Path(__file__).parent / "golden"
KATA = Path(sys.executable).parent / "kata"


def make_root(where: Path, exercises: str = "solutions") -> Path:
    """A scratch kata repository: the real curriculum, hints and checks; exercises/ copied from
    `exercises` (the stubs) or `solutions` (everything done)."""
    root = where / "kata"
    (root / "exercises").mkdir(parents=True)
    for name in ("curriculum.toml", "hints", "tests"):
        (root / name).symlink_to(ROOT / name)
    for module in (ROOT / exercises).glob("*.py"):
        shutil.copy(module, root / "exercises" / module.name)
    return root


def kata(root: Path, *argv: str) -> tuple[int, str]:
    """Run `kata ARGV` in `root`; its exit status and output as the learner reads it without colour."""
    out = io.StringIO()
    code = cli.main(list(argv), console=Console(file=out, width=88, color_system=None), cwd=root)
    return code, "\n".join(line.rstrip() for line in out.getvalue().splitlines()) + "\n"


def same_words(text: str) -> str:
    return " ".join(text.split())


def assert_golden(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("KATA_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}: run with KATA_UPDATE_GOLDEN=1 to write it"
    assert text == path.read_text(encoding="utf-8"), f"differs from {path.name} (KATA_UPDATE_GOLDEN=1 rewrites it)"


@pytest.fixture(scope="module")
def done_root(tmp_path_factory):
    """Every exercise solved; a test that breaks a file restores it."""
    return make_root(tmp_path_factory.mktemp("done"))


@pytest.fixture
def stub_root(tmp_path):
    return make_root(tmp_path, "exercises")


def write_exercise(root: Path, slug: str, source: str) -> None:
    (root / "exercises" / f"{slug}.py").write_text(source, encoding="utf-8")


def edit_reference(root: Path, find: str, replacement: str) -> None:
    """exercises/causal_attention.py becomes the reference with one edit."""
    source = CURRICULUM["causal_attention"].solution().read_text()
    assert source.count(find) == 1, find
    write_exercise(root, "causal_attention", source.replace(find, replacement))


@pytest.fixture
def restore(done_root):
    yield
    for topic in CURRICULUM.topics:
        shutil.copy(topic.solution(), done_root / "exercises" / topic.module_file)


# Messages that name the mistake -----------------------------------------------------------------


@pytest.mark.parametrize("topic,patch", MISTAKES, ids=[f"{t.slug}-{p.id}" for t, p in MISTAKES])
def test_check_names_every_catalogued_mistake(done_root, restore, topic, patch):
    write_exercise(done_root, topic.slug, mistaken_source(topic, patch))
    code, out = kata(done_root, "check", topic.slug)
    assert code == 1
    says = topic.mistakes[patch.id].says.rstrip(".")
    assert same_words(says) in same_words(out), f"`kata check {topic.slug}` does not name {patch.id}:\n{out}"


def test_check_passes_the_reference(done_root):
    code, out = kata(done_root, "check")
    assert code == 0, out
    assert "tasks pass" in out and "✗" not in out


def test_golden_check_scale_missing(done_root, restore):
    topic = CURRICULUM["causal_attention"]
    patch = next(p for p in catalogue(topic) if p.id == "scale_missing")
    write_exercise(done_root, topic.slug, mistaken_source(topic, patch))
    code, out = kata(done_root, "check", "causal_attention")
    assert code == 1
    assert_golden("check_causal_attention_scale_missing", out)


@pytest.mark.parametrize("exercises,name,status", [("exercises", "stub", 1), ("solutions", "done", 0)])
def test_golden_check_stub_and_done(tmp_path, exercises, name, status):
    code, out = kata(make_root(tmp_path, exercises), "check", "causal_attention")
    assert code == status
    assert_golden(f"check_causal_attention_{name}", out)


def test_an_infinite_loop_times_out_and_names_its_check(done_root, restore, monkeypatch):
    monkeypatch.setattr(L, "TIMEOUT_SECONDS", 2)
    edit_reference(done_root, "        keys = self.W_key(x)", "        while True:\n            pass")
    code, out = kata(done_root, "check", "causal_attention")
    assert code == 1
    assert "✓ 1. The causal mask" in out  # task 1 does not hang: it still passes
    assert "task 2 (CausalAttention: masked, scaled, batched): too slow" in out
    assert "timed out: still running after 2 s. An infinite loop?" in out
    assert "? 3. " in out and "not run" in out  # task 3's checks never ran: not told as failing


def test_learner_code_that_exits_is_a_crash_not_a_pass(done_root, restore):
    edit_reference(done_root, "import torch\n", "import os, torch\nos._exit(0)\n")
    code, out = kata(done_root, "check", "causal_attention")
    assert code == 1
    assert "the checks stopped without a result (exit code 0)" in out


def test_a_file_that_does_not_import_is_not_blamed_on_one_task(done_root, restore):
    edit_reference(done_root, "keys = self.W_key(x)", "keys = self.W_key(x")
    code, out = kata(done_root, "check", "causal_attention")
    assert code == 1
    assert "exercises/causal_attention.py: raised an exception" in out and "SyntaxError" in out
    assert "Every check of causal_attention stops here" in out and "Fix task" not in out


# What to do next ------------------------------------------------------------------------------


def test_next_names_the_file_the_functions_and_the_command(done_root, restore):
    write_exercise(done_root, "causal_attention", CURRICULUM["causal_attention"].exercise().read_text())
    code, out = kata(done_root, "next")
    assert code == 0
    assert "Next: Causal attention, task 1 of 3: The causal mask (1 point)" in out
    assert "edit   exercises/causal_attention.py: causal_mask" in out
    assert "kata check causal_attention" in out and "kata hint causal_attention 1" in out


def test_no_arguments_shows_help_then_next(stub_root):
    code, out = kata(stub_root)
    assert code == 0
    assert "kata hint TOPIC [TASK [LEVEL]]" in out
    assert f"Next: {CURRICULUM.topics[0].title}, task 1" in out


def test_list_shows_every_task_and_marks_the_next(done_root, restore):
    write_exercise(done_root, "causal_attention", CURRICULUM["causal_attention"].exercise().read_text())
    code, out = kata(done_root, "list")
    assert code == 0
    for topic in CURRICULUM.topics:
        assert topic.title in out
        for task in topic.tasks if topic.test_file().exists() else ():
            assert task.title in same_words(out)
    assert re.search(r"→ 1\. The causal mask +not started +0/1", out)
    assert "→ next: causal_attention task 1, The causal mask" in out
    total = sum(t.max_points for t in TOPICS)
    assert re.search(rf"█+░+  \d+/{total} points, \d+/\d+ tasks done", out)


def test_overviews_reuse_verdicts_until_a_file_changes(stub_root, monkeypatch):
    code, first = kata(stub_root, "next")

    def must_not_run(*args, **kwargs):
        raise RuntimeError("checks ran again")
    monkeypatch.setattr(L, "run_checks", must_not_run)
    assert kata(stub_root, "next") == (code, first)
    exercise = stub_root / "exercises" / CURRICULUM.topics[0].module_file
    exercise.write_text(exercise.read_text() + "\n")
    code, out = kata(stub_root, "next")
    assert code == 70 and "checks ran again" in out


def test_list_and_next_answer_from_saved_verdicts_without_torch(stub_root):
    """Once a check has run and no file changed, `kata list` and `kata next` import no torch."""
    kata(stub_root, "list")  # checks every topic once and saves the verdicts
    probe = ("import sys, time; from grader.learner.cli import main; t = time.perf_counter(); "
             "codes = [main([c]) for c in ('list', 'next')]; "
             "print('torch' in sys.modules, round(time.perf_counter() - t, 3), codes)")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"COLUMNS": "100"}
    done = subprocess.run([sys.executable, "-c", probe], cwd=stub_root, capture_output=True, text=True, env=env,
                          timeout=120)
    torch_loaded, seconds, codes = done.stdout.strip().splitlines()[-1].split(" ", 2)
    print(f"kata list + kata next from saved verdicts: {seconds} s")
    assert torch_loaded == "False", done.stdout[-2000:] + done.stderr[-2000:]


# Hints ----------------------------------------------------------------------------------------


def test_hints_unfold_one_level_each_time(stub_root):
    hints = CURRICULUM["causal_attention"].task(2).hints
    code, first = kata(stub_root, "hint", "causal_attention", "2")
    assert code == 0
    assert_golden("hint_causal_attention_2_first", first)
    for level in range(2, len(hints) + 1):
        _, out = kata(stub_root, "hint", "causal_attention", "2")
        assert f"Hint {level} of {len(hints)}" in out and same_words(hints[level - 1]) in same_words(out)
    assert "last hint" in out
    _, out = kata(stub_root, "hint", "causal_attention", "2")
    assert f"You have seen all {len(hints)} hints" in out
    assert all(same_words(h) in same_words(out) for h in hints)
    _, out = kata(stub_root, "hint", "causal_attention", "1")  # levels are remembered per task
    assert "Hint 1 of" in out


def test_hint_level_named_by_a_mistake_message(stub_root):
    code, out = kata(stub_root, "hint", "causal_attention", "2", "3")
    hints = CURRICULUM["causal_attention"].task(2).hints
    assert code == 0 and "Hint 3 of 3" in out and same_words(hints[2]) in same_words(out)


@pytest.mark.parametrize("expected,got", [([1], []), ([1, 2], [1]), ([], [3])])
def test_a_list_of_the_wrong_length_is_headed_wrong_length(expected, got):
    """The reason says it (data, kept in grade.json); nothing reads it back from the message."""
    from grader.engine import checks as C
    from grader.engine.messages import headline
    with pytest.raises(C.Failed) as failed:
        C.compare(got, expected)
    assert failed.value.reason == C.WRONG_LENGTH
    verdict = C.Verdict("tokenizer", 1, "check", failed.value.reason, "")
    assert headline(verdict) == "wrong length", failed.value.message


def test_a_hint_asked_by_level_names_the_next_level(stub_root):
    _, out = kata(stub_root, "hint", "causal_attention", "2", "2")
    assert "Hint 2 of 3" in out and "The next hint: kata hint causal_attention 2 3" in out
    assert "last hint" not in out


def test_a_task_waiting_on_another_topics_stub_points_there(stub_root):
    shutil.copy(CURRICULUM["multihead_attention"].solution(), stub_root / "exercises" / "multihead_attention.py")
    code, out = kata(stub_root, "check", "multihead_attention")
    assert code == 1
    assert "first  causal_attention task 2 is still a stub (CausalAttention.__init__)" in out
    assert "edit   exercises/causal_attention.py: CausalAttention.__init__" in out
    assert "failing" not in out  # written and waiting is not wrong


def test_a_flood_of_prints_is_cut_and_the_verdict_still_shows(done_root, restore, capsys):
    source = CURRICULUM["causal_attention"].solution().read_text()
    write_exercise(done_root, "causal_attention", "for i in range(5000):\n    print('line', i)\n" + source)
    code, out = kata(done_root, "check", "causal_attention")
    printed = capsys.readouterr().out
    assert code == 0 and "All 3 tasks pass" in out
    assert "line 0\n" in printed and "line 4999\n" in printed
    assert "[... 4,950 more lines your code printed are not shown ...]" in printed
    assert len(printed.splitlines()) < 60


def test_hint_defaults_to_the_first_unfinished_task(done_root, restore):
    edit_reference(done_root, "/ keys.shape[-1] ** 0.5", "")
    _, out = kata(done_root, "hint", "causal_attention")
    assert "causal_attention task 2: CausalAttention" in out


def test_hint_never_shows_the_solution(stub_root):
    solution_lines = {line.strip() for line in CURRICULUM["causal_attention"].solution().read_text().splitlines()
                      if len(line.strip()) > 30 and not line.strip().startswith("#")}
    for _ in range(4):
        _, out = kata(stub_root, "hint", "causal_attention", "2")
        assert not [line for line in solution_lines if line in out]


# Reset ----------------------------------------------------------------------------------------


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), "-c", "user.name=learner", "-c", "user.email=l@example.org", *args],
                   check=True, capture_output=True)


def test_reset_finds_the_stub_in_git_even_after_the_learner_commits(stub_root, monkeypatch):
    exercise = stub_root / "exercises" / "causal_attention.py"
    stub = exercise.read_text()
    git(stub_root, "init", "-q")
    git(stub_root, "add", "exercises")
    git(stub_root, "commit", "-qm", "the katas")
    exercise.write_text(stub.replace('raise NotImplementedError("causal_attention task 1: causal_mask")', "return 1"))
    git(stub_root, "commit", "-qam", "my work")
    mine = exercise.read_text()
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    code, out = kata(stub_root, "reset", "causal_attention")
    assert code == 1 and exercise.read_text() == mine and "Nothing changed" in out
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    code, out = kata(stub_root, "reset", "causal_attention")
    assert code == 0 and exercise.read_text() == stub
    backups = list(exercise.parent.glob("causal_attention.py.*.bak"))
    assert len(backups) == 1 and backups[0].read_text() == mine
    assert f"exercises/{backups[0].name}" in out


def test_reset_without_git_uses_the_snapshot(stub_root):
    exercise = stub_root / "exercises" / "causal_attention.py"
    stub = exercise.read_text()
    code, out = kata(stub_root, "snapshot")
    assert code == 0 and f"stubs of {len(CURRICULUM.topics)} topics" in out
    exercise.write_text("my attempt\n")
    code, _ = kata(stub_root, "snapshot")  # a second snapshot keeps the stub, not the attempt
    code, out = kata(stub_root, "reset", "causal_attention", "--yes")
    assert code == 0 and exercise.read_text() == stub


def test_reset_says_what_to_do_when_no_stub_is_found(done_root):
    code, out = kata(done_root, "reset", "causal_attention", "--yes")
    assert code == 2 and "cannot find the untouched stub" in out


# The tool's own errors ------------------------------------------------------------------------


def test_outside_the_repository(tmp_path):
    code, out = kata(tmp_path, "check")
    assert code == 2
    assert f"Run kata inside the kata repository (the folder with curriculum.toml and exercises/): cd {ROOT}" in out


def test_a_topic_may_be_named_by_its_number(stub_root):
    code, out = kata(stub_root, "check", "7")
    assert code == 1 and "causal_attention · book 3.5" in out


def test_unknown_topic_suggests_the_nearest(stub_root):
    code, out = kata(stub_root, "check", "causal")
    assert code == 2 and "There is no topic 'causal'. Did you mean causal_attention?" in out


def test_an_unexpected_error_is_one_line_and_where_to_report(stub_root, monkeypatch):
    def broken(*args):
        raise RuntimeError("disk on fire")
    monkeypatch.setattr(L, "check_topic", broken)
    code, out = kata(stub_root, "list")
    assert code == 70
    assert "kata stopped on an unexpected error: RuntimeError: disk on fire" in out and "report" in out
    assert "Traceback" not in out


def test_before_setup_it_says_make_setup(stub_root, monkeypatch):
    def no_torch(*args, **kwargs):
        raise ModuleNotFoundError("No module named 'torch'", name="torch")
    monkeypatch.setattr(L, "run_checks", no_torch)
    code, out = kata(stub_root, "check", "causal_attention")
    assert code == 2 and "run `make setup` first" in out


# The real console script ----------------------------------------------------------------------


def test_console_script_without_colour(stub_root):
    env = dict(os.environ, NO_COLOR="1", COLUMNS="88")
    done = subprocess.run([str(KATA), "check", "causal_attention"], cwd=stub_root, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "not started" in done.stdout and "\x1b[" not in done.stdout
    assert done.stderr == ""


def test_watch_rechecks_on_save(stub_root):
    """A real save, seen by the polling watcher in a real `kata watch`; reports the latency."""
    watcher = subprocess.Popen([str(KATA), "watch", "causal_attention", "--poll"], cwd=stub_root,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in watcher.stdout], daemon=True).start()

    def wait_for(text: str, seconds: float) -> str:
        deadline, seen = time.monotonic() + seconds, []
        while time.monotonic() < deadline:
            try:
                seen.append(lines.get(timeout=0.2))
            except queue.Empty:
                continue
            if text in seen[-1]:
                return seen[-1]
        raise AssertionError(f"no {text!r} within {seconds} s; got:\n{''.join(seen)}")

    try:
        wait_for("Watching exercises/", 60)  # the first round: interpreter start and torch import
        shutil.copy(CURRICULUM["causal_attention"].solution(), stub_root / "exercises" / "causal_attention.py")
        wait_for("All 3 tasks pass", 20)
        footer = wait_for("after your save", 5)
        latency = float(re.search(r"Verdict ([0-9.]+) s after your save", footer).group(1))
        print(f"kata watch --poll: verdict {latency:.2f} s after the save")  # measured, not asserted
    finally:
        watcher.terminate()
        watcher.wait(timeout=10)
