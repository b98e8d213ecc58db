"""The warm worker: runs inside the sandbox, forks one child per job (a submission's topics).

Started by grader.grading.sandbox.host as `python -m grader.grading.sandbox.inside.worker SLOT` (inside bubblewrap when it can
start). It imports torch and every topic's checks once, then answers jobs on stdin/stdout, one
length-prefixed frame of grader.engine.wire data at a time:

    host   {"topics": [slug, ...], "timeout": seconds, "uses": {slug: [slug it imports, ...]}}
    host   per topic, in that order, its cases (packed once per class by the trusted side):
           {"cases": {check: [inputs, ...]}, "public": {check: how many of them are public}}
    then, as the job goes:
    worker {"pid": child}                          each child it forks for the job (the host
                                                   kills it too if this worker stops answering)
    worker {"topic": slug, "status": "ok" | "timeout" | "memory" | "crash" | "bad_output"
            | "skipped", "seconds": float, "how"?: str, "output": str}
           and, when the status is "ok", the child's outcomes frame as it came: {check: [outcome]}
    worker {"output": str}                         what a child that finished the job printed
    worker {"done": true}

The host allows each message the topic timeout plus a little from the one before, so a worker
that a child stopped or killed costs that topic, never the class: the host kills it, starts a
fresh one, and runs the topics it had not reported again, one job each.

The child (forked by grader.engine.child, the runner `kata` uses too), not the worker, touches
submitted code: it sets resource limits, installs a seccomp
filter (no new processes or threads, no sockets or io_uring, no signals but to itself, no IPC:
see REFUSED), then for each topic in turn receives that
topic's cases, imports the topic module from SLOT, calls the probes and sends the outcomes as
one frame of data (grader.engine.wire), all through a socket only it and the worker hold. A child thus
holds only the cases of the topic it runs (and forgets those of the topic before): the worker
keeps a job's cases only while the job runs, in memory no child inherits (MADV_DONTFORK), and
sends each topic's as the child starts it; what a child sends back is read into such memory too.
The worker gives each topic its own deadline; when a topic times out or the child dies, it forks
a fresh child for the topics left, so a loop or a crash costs only its own topic and an honest
submission costs one fork. Before each topic's outcomes the child sends IMPORTED once the module
is loaded; when a topic times out before that (a loop at import), the topics that import it are
not run ("skipped", "how" naming it): they would only wait out the same loop, and are graded with
the reference for it instead.
Whatever comes back is judged by the trusted grader against values the child never sees.
"""

from __future__ import annotations

import mmap
import os
import resource
import signal
import stat
import struct
import sys
import time
from pathlib import Path

from grader.engine import wire
from grader.engine.child import Child, Ended

OUTPUT_CAP = 4096          # bytes of the child's printed output kept for the feedback
FILE_CAP = 1 << 20         # RLIMIT_FSIZE: no file written may exceed 1 MiB
MEMORY_BUDGET = 3 << 30    # address space a child may add on top of the warm worker's
OPEN_FILES = 256
IMPORTED = b"imported"     # the child's frame before each topic's outcomes: its module is loaded
REAP_GRACE = 1.0          # seconds a child may take to exit once it has sent its outcomes
IN_SANDBOX = os.environ.get("KATA_SANDBOX") == "bwrap"


# What the children's seccomp filter refuses, in words (the reports quote them) and in system calls.
# A grading child imports a module and calls functions on tensors: it needs none of these.
REFUSED = {
    "new processes and threads": ("clone", "clone3", "fork", "vfork"),
    "running programs": ("execve", "execveat"),
    "every socket (any family) and io_uring": ("socket", "socketpair", "io_uring_setup", "io_uring_enter",
                                                "io_uring_register"),
    "signals to any process but itself": ("kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
                                          "pidfd_open", "pidfd_send_signal", "pidfd_getfd"),
    "System V IPC and POSIX message queues": ("shmget", "semget", "msgget", "ipc", "mq_open"),
    "reaching other processes (ptrace, their memory, limits and pages)": (
        "ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "process_mrelease", "kcmp",
        "migrate_pages", "move_pages"),  # and prlimit64 on another process: a rule of its own below
    "kernel interfaces (bpf, perf events, userfaultfd, keyrings, mounts, namespaces, modules, kexec, "
    "file handles, clocks, swap, reboot)": (
        "bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key", "mount", "umount2",
        "pivot_root", "chroot", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree",
        "mount_setattr", "unshare", "setns", "personality", "kexec_load", "kexec_file_load", "init_module",
        "finit_module", "delete_module", "name_to_handle_at", "open_by_handle_at", "fanotify_init",
        "lookup_dcookie", "quotactl", "acct", "swapon", "swapoff", "reboot", "syslog", "vhangup", "iopl",
        "ioperm", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "sethostname", "setdomainname"),
}
# Refused only where they aim elsewhere: signals unless at the child's own pid (each child adds that
# rule for itself, `for_child`), limits of another process, and SIGIO redirected at another process.
SIGNAL_CALLS = ("kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")
F_SETOWN, F_SETOWN_EX, FIOSETOWN, SIOCSPGRP = 8, 15, 0x8901, 0x8902


def seccomp_rules():
    """The children's filter, built once in the worker (None where libseccomp is missing): every
    call in REFUSED fails with EPERM (clone3 with ENOSYS, so that libc tries clone, refused too),
    and so do prlimit64 on another process and fcntl/ioctl that aim SIGIO at one. Each child adds
    its own signal rule (`for_child`) and loads it for itself. A deny list, not an allow list:
    torch and libc use a broad, version-dependent set of calls, and a call missing from an allow
    list would fail honest students at random; these are the calls that reach beyond the child."""
    try:
        import pyseccomp as sc
    except Exception:
        return None
    try:
        rules = sc.SyscallFilter(sc.ALLOW)
        for calls in REFUSED.values():
            for call in calls:
                if call in SIGNAL_CALLS:
                    continue
                errno = 38 if call == "clone3" else 1  # ENOSYS, EPERM
                try:
                    rules.add_rule(sc.ERRNO(errno), call)
                except OSError:  # not a call of this architecture (e.g. iopl on aarch64)
                    pass
        rules.add_rule(sc.ERRNO(1), "prlimit64", sc.Arg(0, sc.NE, 0))  # 0 is the caller itself
        for command in (F_SETOWN, F_SETOWN_EX):
            rules.add_rule(sc.ERRNO(1), "fcntl", sc.Arg(1, sc.EQ, command))
        for request in (FIOSETOWN, SIOCSPGRP):
            rules.add_rule(sc.ERRNO(1), "ioctl", sc.Arg(1, sc.EQ, request))
        return rules
    except Exception:
        return None


def for_child(rules, pid: int):
    """Add the rule only a child's own pid can state: a signal may go to that pid, nowhere else
    (not the worker, not a process group, not -1). Called in the forked child, on its copy."""
    import pyseccomp as sc
    for call in SIGNAL_CALLS:
        rules.add_rule(sc.ERRNO(1), call, sc.Arg(0, sc.NE, pid))
    return rules


class Warm:
    """What the worker prepares once and every forked child inherits."""

    def __init__(self):
        from grader.engine.checks import warm_up
        from grader.engine.session import session
        from grader.course.curriculum import load
        self.topics = {t.slug: t for t in load().topics if t.test_file().exists()}
        self.checks = {slug: session(t).checks for slug, t in self.topics.items()}
        warm_up()  # the device checks' first meta tensor: once here, not in every child
        # KATA_SECCOMP=off: what grading does where libseccomp is missing (test_worker proves the
        # host's own defences that way); the reports then say the filter is off.
        self.seccomp = None if os.environ.get("KATA_SECCOMP") == "off" else working_seccomp_rules()
        # KATA_OFF_LIMITS=off: no source scan for what reaches past the kata (probe.off_limits), so
        # that grader/tests/test_hostile.py proves the layers behind it on code that runs. Read
        # here, once, before any submitted code: a module cannot turn it off for the topics after it.
        self.off_limits = os.environ.get("KATA_OFF_LIMITS") != "off"


def _limit(which: int, soft: int) -> None:
    _, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(which, (soft, hard if hard != resource.RLIM_INFINITY else soft))


def confine(job: dict, topics: list[str], slot: Path, result_fd: int, output_path: str, warm: Warm) -> None:
    """The child's setup (grader.engine.child runs it in the forked child, before any submitted
    code): its own session, output to a file, limits, no root, Landlock, the seccomp filter."""
    os.setsid()
    out = os.open(output_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.closerange(3, result_fd)  # one close_range call each, not a thousand close calls
    os.closerange(result_fd + 1, 1024)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a huge write fails instead of killing
    with open("/proc/self/statm") as statm:
        virtual = int(statm.read().split()[0]) * resource.getpagesize()
    _limit(resource.RLIMIT_AS, virtual + MEMORY_BUDGET)
    _limit(resource.RLIMIT_CPU, int(job["timeout"] * len(topics)) + 1)
    _limit(resource.RLIMIT_FSIZE, FILE_CAP)
    _limit(resource.RLIMIT_NOFILE, OPEN_FILES)
    _limit(resource.RLIMIT_CORE, 0)
    # No new task at all where the kernel counts them (a non-root real uid; root and a sandbox
    # run by root are exempt): there the seccomp filter refuses every clone.
    _limit(resource.RLIMIT_NPROC, 0)
    if os.getuid() == 0 and _world_readable(Path(sys.base_prefix)):  # never run it as root
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
    writable = WRITABLE if IN_SANDBOX else (str(slot), _private_tmp())
    try:  # without bubblewrap (where a child may even stay root) what keeps it off the disk
        confine_writes(writable)
    except OSError:
        pass  # not claimed in any report: the seccomp filter and the limits still stand
    if warm.seccomp is not None:  # proved to load and block at start-up: if it fails now, run nothing
        for_child(warm.seccomp, os.getpid()).load()
    os.chdir("/tmp" if IN_SANDBOX else str(slot))


def probe_topics(topics: list[str], slot: Path, channel, warm: Warm, trace: dict | None = None) -> None:
    """The child's work, with submitted code loaded: for each topic in turn, receive its cases,
    import its module (then send IMPORTED), call the probes and send the outcomes. `trace`
    ({topic: [check]}, public cases only): run just those checks, each first case also traced (the
    grader picked the failing ones from a first run: no child ever holds an expected value)."""
    from grader.engine.probe import probe_topic
    for slug in topics:
        cases = None  # the topic before's cases are dropped before the next arrive
        frame = channel.receive()
        if frame is None:
            raise EOFError(f"no cases came for {slug}")
        cases = wire.unpack(frame)  # {"cases": {check: [inputs]}, "public": {check: how many are public}}
        marked = []

        def imported() -> None:  # the topic module is loaded: a loop from here on is in a call
            if not marked:
                channel.send(IMPORTED)
                marked.append(True)

        checks, inputs, n_public = warm.checks[slug], cases["cases"], cases.get("public", {})
        if trace is not None:  # only the steps of each chosen check's first case are wanted
            checks = [c for c in checks if c.name in trace.get(slug, ())]
            inputs = {c.name: list(inputs.get(c.name, ()))[:1] for c in checks}
            n_public = {c.name: 1 for c in checks}
        outcomes = probe_topic(warm.topics[slug], slot, inputs, checks, imported, n_public=n_public,
                               trace=trace is not None, off_limits_scan=warm.off_limits)
        imported()
        channel.send(wire.pack(outcomes))  # every value passed wire.normalize: it packs


# Landlock (Linux 5.13+, no privilege needed): the same system call numbers on x86_64 and aarch64.
_LANDLOCK_CREATE_RULESET, _LANDLOCK_ADD_RULE, _LANDLOCK_RESTRICT_SELF = 444, 445, 446
_WRITES = (1 << 1) | sum(1 << bit for bit in range(4, 13))  # write a file, remove, make anything
_FILE_WRITES = 1 << 1                                        # the subset a rule on a single file may hold
_REFER, _TRUNCATE = 1 << 13, 1 << 14                         # Landlock ABI 2 and 3
_NET_TCP = (1 << 0) | (1 << 1)                               # ABI 4: bind and connect TCP


_PRIVATE_TMP = "/tmp/kata-child-"


def _private_tmp() -> str:
    """Without the sandbox the machine's /tmp is shared (other workers' slots are there): the child
    gets a folder of its own for temporary files (checks write some), removed by clean_up_after."""
    import tempfile
    folder = tempfile.mkdtemp(prefix=f"{os.path.basename(_PRIVATE_TMP)}{os.getpid()}-", dir=os.path.dirname(_PRIVATE_TMP))
    os.environ["TMPDIR"] = tempfile.tempdir = folder
    return folder


def confine_writes(writable: tuple[str, ...]) -> bool:
    """Landlock the child: it may write, create or remove files only beneath `writable` (in the
    sandbox its private /tmp and /dev/shm; without it, its own slot and temporary folder, since
    the machine's /tmp holds the other workers' slots) and write /dev/null, and it may bind or
    connect no TCP socket however it was made. It holds for root too: without bubblewrap the
    child may stay uid 0 (when uid 65534 cannot read the runtime), and could otherwise rewrite the
    repository, plant modules on the import path or change another student's files. Reads are
    left alone. False where the kernel has no Landlock (then only the filter stands)."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    abi = libc.syscall(_LANDLOCK_CREATE_RULESET, None, 0, 1)  # LANDLOCK_CREATE_RULESET_VERSION
    if abi < 1:
        return False
    writes = _WRITES | (_REFER if abi >= 2 else 0) | (_TRUNCATE if abi >= 3 else 0)
    file_writes = _FILE_WRITES | (_TRUNCATE if abi >= 3 else 0)
    attr = struct.pack("<QQ", writes, _NET_TCP) if abi >= 4 else struct.pack("<Q", writes)
    ruleset = libc.syscall(_LANDLOCK_CREATE_RULESET, attr, len(attr), 0)
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset")
    try:
        for path, allowed in [(p, writes) for p in writable] + [(os.devnull, file_writes)]:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                rule = struct.pack("<Qi", allowed, fd)  # struct landlock_path_beneath_attr, packed
                if libc.syscall(_LANDLOCK_ADD_RULE, ruleset, 1, rule, 0) != 0:  # LANDLOCK_RULE_PATH_BENEATH
                    raise OSError(ctypes.get_errno(), f"landlock_add_rule {path}")
            finally:
                os.close(fd)
        if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS, which Landlock needs without CAP_SYS_ADMIN
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
        if libc.syscall(_LANDLOCK_RESTRICT_SELF, ruleset, 0) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self")
    finally:
        os.close(ruleset)
    return True


def _world_readable(path: Path) -> bool:
    """Can uid 65534 still import from the runtime once we drop to it?"""
    return all(p.stat().st_mode & 0o005 == 0o005 for p in [path, *path.parents])


class Host:
    """The worker's side of the protocol (see the module docstring), on raw file descriptors."""

    def __init__(self, in_fd: int, out_fd: int):
        self.in_fd, self.out_fd = in_fd, out_fd
        self.pending: dict[str, mmap.mmap] = {}

    def send(self, message: dict, *then) -> None:
        wire.write_frame(self.out_fd, wire.pack(message))
        for frame in then:
            wire.write_frame(self.out_fd, frame)

    def job(self) -> dict | None:
        """The next job, and then the cases of each of its topics, read into mappings of their
        own that no child inherits (MADV_DONTFORK) and that are unmapped once passed on: no
        buffer of this process keeps them, and a child only ever receives its topic's."""
        frame = wire.read_frame(self.in_fd)
        if frame is None:
            return None
        job = wire.unpack(frame)
        self.pending = {slug: self._read_cases() for slug in job["topics"]}
        return job

    def _read_cases(self) -> mmap.mmap:
        header = bytearray(wire.FRAME_HEADER)
        if not wire.read_into(self.in_fd, memoryview(header)):
            raise EOFError("the host closed the protocol")
        size = wire.frame_size(header)
        packed = mmap.mmap(-1, wire.FRAME_HEADER + size)
        packed.madvise(mmap.MADV_DONTFORK)
        with memoryview(packed) as view:
            view[:wire.FRAME_HEADER] = header  # kept: the frame goes on to the child as it came
            if not wire.read_into(self.in_fd, view[wire.FRAME_HEADER:]):
                raise EOFError("the host closed the protocol")
        return packed

    def cases(self, slug: str) -> mmap.mmap:
        """A topic's cases, as a frame, once: the caller unmaps them when they are sent."""
        return self.pending.pop(slug)

    def started(self, slug: str, pid: int) -> None:
        self.send({"pid": pid})

    def report(self, slug: str, entry: dict, outcomes=None, output: str = "") -> None:
        self.send({"topic": slug, **entry, "output": output}, *([outcomes] if outcomes is not None else []))

    def report_output(self, output: str) -> None:
        """What a child that ran to the end printed (a failed one's comes with its topic)."""
        if output:
            self.send({"output": output})

    def done(self) -> None:
        for packed in self.pending.values():  # topics skipped
            packed.close()
        self.pending = {}
        self.send({"done": True})


def run_job(job: dict, slot: Path, warm: Warm, host: Host) -> None:
    """The job's topics in order, in one child (grader.engine.child) while all goes well; each
    topic's cases are sent to the child as it starts that topic, and each topic is reported to
    `host` once known. When a topic times out or the child dies, a fresh child takes the topics left."""
    output_path = f"/tmp/kata-output-{os.getpid()}"
    timeout, uses = float(job["timeout"]), job.get("uses") or {}
    remaining = list(job["topics"])
    while remaining:
        topics = list(remaining)
        proc = Child(lambda channel: probe_topics(topics, slot, channel, warm, job.get("trace")),
                     lambda channel: confine(job, topics, slot, channel.fd, output_path, warm))
        host.started(remaining[0], proc.pid)
        first, failed = remaining[0], None
        try:
            for slug in list(remaining):
                packed = host.cases(slug)
                started = time.monotonic()
                deadline = started + timeout
                try:
                    sent = proc.write(packed, deadline)
                finally:
                    packed.close()
                kind, frame = proc.receive(deadline) if sent else ("timeout", b"")
                at_import = kind != "ok"  # stopped before the module finished importing
                if kind == "ok" and frame != IMPORTED:
                    kind = "bad_output"
                elif kind == "ok":
                    kind, frame = proc.receive(deadline)  # the outcomes
                entry = {"seconds": round(time.monotonic() - started, 4)}
                if kind != "ok":
                    failed = (slug, entry, kind, at_import)
                    break
                remaining.remove(slug)
                host.report(slug, entry | {"status": "ok"}, frame)
                proc.release()
        finally:
            ended = proc.end(REAP_GRACE if failed is None else 0.0)
        output = _printed(output_path)  # before the clean-up empties /tmp
        clean_up_after(proc.pid)
        if failed is None:
            host.report_output(output)
            break
        slug, entry, kind, at_import = failed
        entry |= _why_it_stopped(kind, ended)
        if at_import and entry["status"] in ("crash", "memory") and slug != first:
            # Died before this topic's module was even loaded, with earlier topics' code in the
            # process (memory they hoarded, say): a fresh child runs it, and only then is it charged.
            continue
        remaining.remove(slug)
        host.report(slug, entry, None, output)
        if entry["status"] == "timeout" and at_import:  # its users would import it: the same loop
            stalled = {slug}
            for user in list(remaining):  # curriculum order: a user comes after what it uses
                if stalled.intersection(uses.get(user, ())):
                    host.report(user, {"seconds": 0.0, "status": "skipped", "how": slug})
                    remaining.remove(user)
                    stalled.add(user)
    host.done()


def _why_it_stopped(kind: str, ended: Ended) -> dict:
    if kind in ("timeout", "bad_output"):
        return {"status": kind}
    if ended.status == "memory":
        return {"status": "memory"}
    if ended.signal == signal.SIGXCPU:
        return {"status": "timeout"}
    if ended.signal is not None:
        return {"status": "crash", "how": ended.how}
    if ended.exit_code == 0:
        return {"status": "crash", "how": "your code ended the process (sys.exit or os._exit?)"}
    return {"status": "crash", "how": f"exit status {ended.exit_code}"}


# Every place a child can write inside the sandbox: sized tmpfs (grader.grading.sandbox.host.bwrap_command),
# emptied after each child. The rest of the sandbox is read-only.
WRITABLE = ("/tmp", "/dev/shm")


def clean_up_after(pid: int) -> None:
    """Nothing a child started or left may outlive its job: kill leftovers, empty every writable
    place, remove System V IPC objects (the filter refuses them; this is in case it could not load)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
    if not IN_SANDBOX:
        import glob
        for folder in glob.glob(f"{_PRIVATE_TMP}{pid}-*"):  # the child's own temporary folder
            if os.path.isdir(folder) and not os.path.islink(folder):
                import shutil
                _make_writable(folder)
                shutil.rmtree(folder, ignore_errors=True)
        return
    me = os.getpid()
    for entry in os.listdir("/proc"):  # our own PID namespace: everything here is the sandbox's
        if entry.isdigit() and int(entry) not in (1, me):
            try:
                os.kill(int(entry), signal.SIGKILL)
            except OSError:
                pass
    for place in WRITABLE:
        _empty(place)
    _remove_ipc_objects()  # our own IPC namespace: every object here is a child's
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass


def _empty(place: str) -> None:
    """Remove everything under `place`, folders a child made read-only or unreadable included,
    without crossing into another filesystem: a repository cloned under /tmp is bound in there
    read-only, and walking its .venv after every job would cost minutes. Iterative: a child may
    nest folders deeper than Python's recursion limit."""
    try:
        device = os.lstat(place).st_dev
    except OSError:
        return
    stack: list[tuple[str, bool]] = [(place, False)]
    while stack:
        path, emptied = stack.pop()
        if emptied:
            try:
                os.rmdir(path)
            except OSError:
                pass
            continue
        try:
            if path != place:
                os.chmod(path, 0o700)
            entries = list(os.scandir(path))
        except OSError:
            continue
        if path != place:
            stack.append((path, True))
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
                if not stat.S_ISDIR(info.st_mode):
                    os.unlink(entry.path)
                elif info.st_dev == device:  # a mount point (another device) is not ours to empty
                    stack.append((entry.path, False))
            except OSError:
                pass


def _remove_ipc_objects() -> None:
    """Remove every shared memory segment, semaphore set and message queue listed in /proc/sysvipc."""
    import ctypes
    libc = None
    for kind, control in (("shm", "shmctl"), ("sem", "semctl"), ("msg", "msgctl")):
        try:
            with open(f"/proc/sysvipc/{kind}") as table:
                ids = [int(line.split()[1]) for line in table.readlines()[1:] if line.strip()]
        except (OSError, ValueError, IndexError):
            continue
        for ident in ids:
            libc = libc or ctypes.CDLL(None, use_errno=True)
            getattr(libc, control)(ident, 0, 0)  # IPC_RMID is 0: shmctl(id, 0, 0), msgctl(id, 0, 0), semctl(id, 0, 0)


def _make_writable(top: str) -> None:
    """A child may leave folders read-only or unreadable so that rmtree cannot empty them."""
    try:
        os.chmod(top, 0o700)
    except OSError:
        pass
    for current, dirs, _ in os.walk(top):  # top-down: a folder is opened up before it is entered
        for name in dirs:
            path = os.path.join(current, name)
            if not os.path.islink(path):
                try:
                    os.chmod(path, 0o700)
                except OSError:
                    pass


def _printed(path: str) -> str:
    # The child could have swapped the file for a FIFO (open would block) or a symlink.
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return ""
    try:
        text = os.read(fd, OUTPUT_CAP + 1) if stat.S_ISREG(os.fstat(fd).st_mode) else b""
        os.unlink(path)
    except OSError:
        return ""
    finally:
        os.close(fd)
    suffix = "\n[... output cut ...]" if len(text) > OUTPUT_CAP else ""
    return text[:OUTPUT_CAP].decode("utf-8", "replace") + suffix


def _not_dumpable() -> None:
    """Children run as the same uid: without this, one could open /proc/<worker>/fd/N and write a
    forged reply into the grader's pipe, or a forged job into the worker's."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    PR_SET_DUMPABLE = 4
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE, 0) failed")


def main() -> None:
    _not_dumpable()  # before any child is forked: they inherit it
    slot = Path(sys.argv[1])
    # The protocol owns the real stdout; anything printed by mistake goes to stderr instead.
    # Raw descriptors, no buffered streams: a topic's cases pass through no buffer of this process.
    protocol_out = os.dup(1)
    os.dup2(2, 1)
    protocol_in = os.dup(0)
    os.environ["OMP_NUM_THREADS"] = "1"
    import torch
    torch.set_num_threads(1)
    # No accelerator exists in the sandbox; torch.manual_seed would still try each one lazily (about
    # 1 ms a call, and probes call it hundreds of times a submission). Same CPU stream, without that.
    torch.manual_seed = torch.random.manual_seed = lambda seed: torch.default_generator.manual_seed(int(seed))
    from grader.course.offline import install
    import grader.engine.probe  # noqa: F401  (imported before forking, not by the child)
    install()
    warm = Warm()
    import tiktoken
    tiktoken.get_encoding("gpt2")  # loaded once here (0.35 s), shared by every forked child
    import base64, json, math, re, regex  # noqa: E401,F401  what topic modules import: not per child
    # Every optimizer step imports torch._dynamo (some 800 modules, 1.3 s of CPU): once here, not in
    # each child that trains. (The device checks' warm-up no longer imports it: without this line the
    # demo class took 1.34 s per submission instead of 0.89. Warming more of torch here, a whole tiny
    # GPT step, measured no faster on a 100-student class.)
    import torch._dynamo  # noqa: F401
    import gc
    gc.freeze()  # fewer copy-on-write page faults in each forked child
    host = Host(protocol_in, protocol_out)
    host.send({"ready": True, "seccomp": warm.seccomp is not None})
    while (job := host.job()) is not None:
        run_job(job, slot, warm, host)


def filter_blocks(rules) -> bool:
    """Load the filter in a throwaway child, as a grading child does, and try there what it must
    refuse: a fork, a thread, a Unix socket, io_uring, a System V segment, a signal to the worker.
    True only if every one is refused, so the reports name the filter only where it was seen to work."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            for_child(rules, os.getpid()).load()
            code = 0 if all(_refused(attempt) for attempt in _ATTEMPTS) else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def _refused(attempt) -> bool:
    try:
        return attempt() is False
    except (OSError, RuntimeError):
        return True


def _try_fork():
    child = os.fork()
    if child == 0:
        os._exit(0)
    os.waitpid(child, 0)


def _try_thread():
    import threading
    thread = threading.Thread(target=lambda: None)
    thread.start()
    thread.join()


def _try_socket():
    import socket
    socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).close()


def _try_syscall(numbers: dict[str, int], *args) -> bool:
    """False if the call failed (refused), else True: it went through."""
    import ctypes
    import platform
    number = numbers.get(platform.machine())
    if number is None:
        return False  # an architecture whose number we do not know: the other attempts still count
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    result = libc.syscall(number, *args)
    if result >= 0 and numbers is _IO_URING_SETUP:
        os.close(result)
    elif result >= 0:
        libc.shmctl(int(result), 0, None)  # IPC_RMID: not even a probe leaves a segment behind
    return result >= 0


_IO_URING_SETUP = {"x86_64": 425, "aarch64": 425}
_SHMGET = {"x86_64": 29, "aarch64": 194}
_ATTEMPTS = (_try_fork, _try_thread, _try_socket,
             lambda: _try_syscall(_IO_URING_SETUP, 1, __import__("ctypes").create_string_buffer(120)),
             lambda: _try_syscall(_SHMGET, 0, 4096, 0o1600),  # IPC_PRIVATE, IPC_CREAT | 0600
             lambda: os.kill(os.getppid(), 0))


def working_seccomp_rules():
    """The children's filter if it was seen to block here, else None."""
    rules = seccomp_rules()
    return rules if rules is not None and filter_blocks(rules) else None


def seccomp_available() -> bool:
    return working_seccomp_rules() is not None


if __name__ == "__main__":
    main()
