"""The one child runner (grader.engine.child): fork, run, frames back, a time limit, how it ended;
and that `kata` and the class grader's worker both run learner code through it."""

from __future__ import annotations

import faulthandler
import os
import signal
import time

from grader.engine import child, wire
from grader.tests.test_layout import WORKER, graph
from grader.course.curriculum import ROOT


def test_frames_come_back_in_order_and_a_clean_end_is_ok():
    def target(channel):
        channel.send(b"one")
        channel.send(wire.pack({"two": 2}))

    ended = child.run(target, timeout=10)
    assert ended.status == "ok" and ended.exit_code == 0 and ended.signal is None
    assert ended.messages[0] == b"one" and wire.unpack(ended.messages[1]) == {"two": 2}


def test_a_hang_is_killed_and_what_came_before_it_is_kept():
    def target(channel):
        channel.send(b"before")
        channel.send(b"still before")
        while True:
            pass

    started = time.monotonic()
    ended = child.run(target, timeout=1.0)
    print(f"a hang with a 1 s limit ended after {time.monotonic() - started:.2f} s")
    assert ended.status == "timeout" and ended.timed_out
    assert ended.messages == [b"before", b"still before"]
    assert ended.signal == signal.SIGKILL


def test_each_frame_gives_the_child_the_limit_again():
    def target(channel):
        for i in range(4):
            time.sleep(0.5)
            channel.send(str(i).encode())

    ended = child.run(target, timeout=1.5)  # 2 s in all, never 1.5 s without a frame
    assert ended.status == "ok" and ended.messages == [b"0", b"1", b"2", b"3"]


def test_a_crash_says_which_signal():
    def target(channel):
        channel.send(b"about to crash")
        faulthandler.disable()  # pytest's dump of the child's stack is noise here
        os.kill(os.getpid(), signal.SIGSEGV)

    ended = child.run(target, timeout=10)
    assert ended.status == "signal" and ended.signal == signal.SIGSEGV
    assert ended.how == "killed by signal SIGSEGV" and ended.messages == [b"about to crash"]


def test_an_exit_says_its_code_and_an_exception_is_not_ok():
    assert child.run(lambda channel: os._exit(3), timeout=10).how == "exit code 3"
    assert child.run(lambda channel: os._exit(0), timeout=10).status == "ok"  # the caller decides what no result means
    raised = child.run(lambda channel: 1 / 0, timeout=10)
    assert (raised.status, raised.exit_code) == ("exit", child.EXIT_ERROR)
    assert child.run(lambda channel: exec("raise MemoryError"), timeout=10).status == "memory"
    assert child.run(lambda channel: 5, timeout=10).exit_code == 5


def test_the_setup_hook_runs_in_the_child_before_the_target():
    parent = os.getpid()

    def setup(channel):
        channel.send(b"setup in %d" % (os.getpid() != parent))

    ended = child.run(lambda channel: channel.send(b"target"), timeout=10, setup=setup)
    assert ended.messages == [b"setup in 1", b"target"]
    failed = child.run(lambda channel: channel.send(b"target"), timeout=10, setup=lambda channel: 1 / 0)
    assert failed.messages == [] and failed.exit_code == child.EXIT_ERROR  # no target after a failed setup


def test_frames_go_both_ways_and_a_forged_header_is_bad_output():
    def echo(channel):
        channel.send(channel.receive()[::-1])

    proc = child.Child(echo)
    assert proc.send(b"abc", time.monotonic() + 10)
    kind, frame = proc.receive(time.monotonic() + 10)
    assert (kind, bytes(frame)) == ("ok", b"cba")
    assert proc.end(grace=10).status == "ok"

    ended = child.run(lambda channel: os.write(channel.fd, wire.frame_header(wire.MAX_FRAME + 1)), timeout=10)
    assert ended.status == "bad_output" and ended.messages == []


def test_kata_and_the_worker_run_learner_code_through_this_runner():
    edges, _ = graph(ROOT)
    assert "grader.engine.child" in edges["grader.learner.progress"]
    assert "grader.engine.child" in edges[WORKER]
    for module in ("grader/learner/progress.py", "grader/grading/sandbox/inside/worker.py", "grader/grading/sandbox/host.py"):
        source = (ROOT / module).read_text(encoding="utf-8")
        assert "os.fork(" not in source.split("def filter_blocks")[0], f"{module} forks learner code by itself"
        assert 'unpack("<Q"' not in source and 'unpack_from("<Q"' not in source, f"{module} reads frames of its own"
