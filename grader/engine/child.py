"""Run code in a forked child with a time limit: the one runner that `kata` (grader.learner.progress)
and the class grader's sandboxed worker (grader.grading.sandbox.inside.worker) both use.

    Child(target, setup)      forks. The child runs setup(channel) (the caller's hook: limits,
                              filters, where its prints go), then target(channel), and leaves
                              through os._exit: 0, what target returned, EXIT_MEMORY after a
                              MemoryError, EXIT_ERROR after any other exception.
    child.send / write        a frame (grader.engine.wire's one format) to the child, or bytes
                              already framed, before a deadline
    child.receive(deadline)   the child's next frame: ("ok", frame), or ("timeout" | "eof" |
                              "bad_output", b""), read into memory no later fork inherits
    child.end(grace)          wait for it (killing its process group after `grace` seconds) and
                              say how it ended (Ended: ok, timeout, memory, exit code, signal)
    run(target, timeout)      all of that at once: every frame the child sends, each within
                              `timeout` seconds of the one before, and how it ended

In the child, `channel.send(data)` sends a frame and `channel.receive()` reads one.
"""

from __future__ import annotations

import mmap
import os
import select
import signal
import socket
import sys
import time
import warnings
from dataclasses import dataclass, field
from typing import Callable

from . import wire

EXIT_MEMORY = 71  # the child ran out of memory (a MemoryError reached the runner)
EXIT_ERROR = 70   # any other exception reached the runner


@dataclass
class Ended:
    """How a child ended, and the frames `run` received from it."""
    wait_status: int
    timed_out: bool = False   # a deadline passed: it was killed
    bad_output: bool = False  # it sent what is not a frame, or far too much
    messages: list[bytes] = field(default_factory=list)

    @property
    def signal(self) -> int | None:
        return os.WTERMSIG(self.wait_status) if os.WIFSIGNALED(self.wait_status) else None

    @property
    def exit_code(self) -> int | None:
        return os.WEXITSTATUS(self.wait_status) if os.WIFEXITED(self.wait_status) else None

    @property
    def status(self) -> str:
        """"timeout", "bad_output", "memory", "ok" (exit code 0), "exit" (another code) or "signal"."""
        return ("timeout" if self.timed_out else "bad_output" if self.bad_output else "signal" if self.exit_code is None
                else "memory" if self.exit_code == EXIT_MEMORY else "ok" if self.exit_code == 0 else "exit")

    @property
    def how(self) -> str:
        if self.signal is None:
            return f"exit code {self.exit_code}"
        try:
            return f"killed by signal {signal.Signals(self.signal).name}"
        except ValueError:  # a real-time signal has no name
            return f"killed by signal {self.signal}"


class Channel:
    """The child's end: frames to and from the parent, on a blocking socket."""

    def __init__(self, fd: int):
        self.fd = fd

    def send(self, data: bytes) -> None:
        wire.write_frame(self.fd, data)

    def receive(self) -> bytes | None:
        return wire.read_frame(self.fd)


class Child:
    """One forked child running `target(channel)` after `setup(channel)`; the parent's side."""

    def __init__(self, target: Callable[[Channel], int | None], setup: Callable[[Channel], None] = lambda c: None):
        mine, theirs = socket.socketpair()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()  # or the child would print the parent's buffered text a second time
            except Exception:  # noqa: BLE001 -- a closed or replaced stream: nothing buffered to lose
                pass
        with warnings.catch_warnings():
            # Python warns that forking a threaded process may deadlock; the child touches no lock
            # of those threads: it runs its target and leaves through os._exit.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # pragma: no cover -- the child: never returns
            code = EXIT_ERROR
            try:
                mine.close()
                channel = Channel(theirs.fileno())
                setup(channel)
                code = target(channel) or 0
            except MemoryError:
                code = EXIT_MEMORY
            except BaseException:  # noqa: BLE001 -- whatever happens here, the parent sees an exit code
                code = EXIT_ERROR
            finally:
                for stream in filter(None, (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)):
                    try:
                        stream.flush()  # print() buffers, and os._exit drops buffers
                    except BaseException:  # noqa: BLE001 -- the code may have closed or replaced it
                        pass
                os._exit(code)
        theirs.close()
        self.pid, self.socket, self.fd = pid, mine, mine.fileno()
        os.set_blocking(self.fd, False)
        self.timed_out = self.bad_output = False
        # Room for two largest frames; pages are touched only as they fill. MADV_DONTFORK: what
        # a child sent (the worker's hidden values among it) stays out of any child forked later.
        self.memory = mmap.mmap(-1, 2 * (wire.FRAME_HEADER + wire.MAX_BYTES))
        self.memory.madvise(mmap.MADV_DONTFORK)
        self.view = memoryview(self.memory)
        self.start = self.end_ = self.total = 0  # the bytes read and not yet taken: view[start:end_]
        self.eof = False
        self.taken: list[memoryview] = []

    def write(self, data, deadline: float) -> bool:
        """Write `data` (bytes already framed) before the deadline; False if it could not (the
        child then counts as timed out). A child that is gone takes it all: what it left says why."""
        done = 0
        with memoryview(data) as view:
            while done < len(view):
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([], [self.fd], [], left)[1]:
                    self.timed_out = True
                    return False
                try:
                    with view[done:] as rest:
                        done += os.write(self.fd, rest)
                except BlockingIOError:
                    continue
                except OSError:
                    return True
        return True

    def send(self, data: bytes, deadline: float) -> bool:
        return self.write(wire.frame_header(len(data)) + data, deadline)

    def receive(self, deadline: float) -> tuple[str, memoryview | bytes]:
        """The next frame, a view valid until `release`, or why there is none."""
        while True:
            if self.end_ - self.start >= wire.FRAME_HEADER:
                try:
                    size = wire.frame_size(self.memory, self.start)
                except wire.WireError:
                    self.bad_output = True
                    return "bad_output", b""
                if self.end_ - self.start >= wire.FRAME_HEADER + size:
                    frame = self.view[self.start + wire.FRAME_HEADER:self.start + wire.FRAME_HEADER + size]
                    self.taken.append(frame)
                    self.start += wire.FRAME_HEADER + size
                    return "ok", frame
            if self.eof:
                return "eof", b""
            if self.end_ == len(self.memory):
                self.bad_output = True
                return "bad_output", b""
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                self.timed_out = True
                return "timeout", b""
            try:
                with self.view[self.end_:self.end_ + (1 << 20)] as room:
                    got = os.readv(self.fd, [room])
            except BlockingIOError:
                continue
            except OSError:  # a reset connection: the child is gone
                got = 0
            self.eof = not got
            self.end_ += got
            self.total += got
            if self.total > 4 * wire.MAX_BYTES:  # a thread writing forever
                self.bad_output = True
                return "bad_output", b""

    def release(self) -> None:
        """The frames taken so far are used: make room for the next ones."""
        for frame in self.taken:
            frame.release()
        self.taken.clear()
        self.memory.move(0, self.start, self.end_ - self.start)
        self.start, self.end_ = 0, self.end_ - self.start

    def kill(self) -> None:
        """Kill the child's process group (the worker's children lead one), else the child."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except OSError:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except OSError:
                pass

    def end(self, grace: float = 0.0) -> Ended:
        """Close this side, wait for the child up to `grace` seconds (none after a deadline
        passed), then kill it; free the memory its frames were read into."""
        if self.socket.fileno() != -1:
            self.socket.close()
        deadline = time.monotonic() + (0.0 if self.timed_out or self.bad_output else grace)
        while True:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() >= deadline:
                self.kill()
                _, status = os.waitpid(self.pid, 0)
                break
            time.sleep(0.002)
        for frame in self.taken:
            frame.release()
        self.taken.clear()
        self.view.release()
        self.memory.close()
        return Ended(status, self.timed_out, self.bad_output)


def run(target: Callable[[Channel], int | None], timeout: float,
        setup: Callable[[Channel], None] = lambda c: None) -> Ended:
    """Fork, run `target` in the child, and collect every frame it sends until it ends: killed
    when silent for `timeout` seconds (each frame gives it `timeout` seconds more)."""
    child = Child(target, setup)
    messages = []
    try:
        while True:
            kind, frame = child.receive(time.monotonic() + timeout)
            if kind != "ok":
                break
            messages.append(bytes(frame))
            child.release()
    except BaseException:  # Ctrl-C while it runs: stop the child too
        child.kill()
        child.end()
        raise
    ended = child.end(grace=timeout)
    ended.messages = messages
    return ended
