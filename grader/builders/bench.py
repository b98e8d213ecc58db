"""make bench: the grader against the naive way, measured in one run on this machine.

Generates a class (reference, stubs, one catalogued mistake each, partly done; every file made
unique), times `python -m grader grade` on all of it, and times the naive way, one
`pytest tests --impl DIR` process per submission, on a sample. Prints seconds per submission
for both, the ratio, and the peak memory of each process tree. It asserts nothing: numbers
from a shared machine are for reading, and only their ratio within one run is comparable.

    python -m grader.builders.bench [--students 200] [--sample 8]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from ..course.curriculum import ROOT
from .demo import generated_class


def _tree_usage(root_pid: int) -> tuple[int, float]:
    """(resident bytes, CPU seconds) of a process and all its descendants. The CPU seconds count
    each live process and the children it has reaped; a worker killed at the end of a run is read
    while it lives, so sample until then."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            parents[int(entry)] = int(fields[1])
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
            cpu[int(entry)] = sum(int(ticks) for ticks in fields[11:15]) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            continue
    tree, frontier = {root_pid}, [root_pid]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    return sum(rss.get(pid, 0) for pid in tree), sum(cpu.get(pid, 0.0) for pid in tree)


def timed(command: list[str]) -> tuple[float, int, int, float]:
    """(seconds, peak resident bytes of the process tree, exit status, CPU seconds of the tree)."""
    peak, cpu, started = [0], [0.0], time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def sample() -> None:
        while process.poll() is None:
            memory, seconds = _tree_usage(process.pid)
            peak[0], cpu[0] = max(peak[0], memory), max(cpu[0], seconds)
            time.sleep(0.1)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = process.communicate()
    seconds = time.perf_counter() - started
    sampler.join()
    if process.returncode not in (0, 1):  # pytest exits 1 when checks fail: expected here
        print(err.decode(errors="replace")[-2000:], file=sys.stderr)
    return seconds, peak[0], process.returncode, cpu[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.builders.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--sample", type=int, default=8, help="submissions graded the naive way")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kata-bench-") as tmp:
        class_dir, out_dir = Path(tmp) / "class", Path(tmp) / "grades"
        generated_class(class_dir, args.students)
        print(f"class: {args.students} generated submissions; {os.cpu_count()} cores")

        grader_s, grader_mem, status, grader_cpu = timed([sys.executable, "-m", "grader", "grade", str(class_dir),
                                              "--out", str(out_dir), "--force"])
        if status != 0:
            print(f"the grader failed (exit {status})")
            return 1
        graded = len([p for p in out_dir.iterdir() if p.is_dir()])

        students = sorted(p for p in class_dir.iterdir())
        step = max(1, len(students) // args.sample)
        sample = students[::step][:args.sample]
        naive_s, naive_mem, naive_cpu = 0.0, 0, 0.0
        for student in sample:
            seconds, memory, _, cpu = timed([sys.executable, "-m", "pytest", "tests", "--impl", str(student), "-q",
                                             "-p", "no:cacheprovider"])
            naive_s += seconds
            naive_mem = max(naive_mem, memory)
            naive_cpu += cpu

    per_grader, per_naive = grader_s / graded, naive_s / len(sample)
    print(f"grader : {grader_s:7.1f} s for {graded} submissions = {per_grader:.3f} s each "
          f"(public and hidden checks, sandboxed); CPU {grader_cpu / graded:.3f} s each; "
          f"peak memory {grader_mem / 2**20:,.0f} MiB")
    print(f"naive  : {naive_s:7.1f} s for {len(sample)} submissions = {per_naive:.3f} s each "
          f"(one pytest process each, public checks only, no sandbox); CPU {naive_cpu / len(sample):.3f} s each; "
          f"peak memory {naive_mem / 2**20:,.0f} MiB")
    print(f"ratio  : the grader is {per_naive / per_grader:.1f} times faster per submission "
          f"({naive_cpu / len(sample) / (grader_cpu / graded):.1f} times less CPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
