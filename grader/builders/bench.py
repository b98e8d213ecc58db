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


def _tree_rss(root_pid: int) -> int:
    """Resident memory of a process and all its descendants, in bytes."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            parents[int(entry)] = int(fields[1])
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    tree, frontier = {root_pid}, [root_pid]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    return sum(rss.get(pid, 0) for pid in tree)


def timed(command: list[str]) -> tuple[float, int, int]:
    """(seconds, peak resident bytes of the process tree, exit status)."""
    peak, started = [0], time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def sample() -> None:
        while process.poll() is None:
            peak[0] = max(peak[0], _tree_rss(process.pid))
            time.sleep(0.1)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = process.communicate()
    seconds = time.perf_counter() - started
    sampler.join()
    if process.returncode not in (0, 1):  # pytest exits 1 when checks fail: expected here
        print(err.decode(errors="replace")[-2000:], file=sys.stderr)
    return seconds, peak[0], process.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.builders.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--sample", type=int, default=8, help="submissions graded the naive way")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kata-bench-") as tmp:
        class_dir, out_dir = Path(tmp) / "class", Path(tmp) / "grades"
        generated_class(class_dir, args.students)
        print(f"class: {args.students} generated submissions; {os.cpu_count()} cores")

        grader_s, grader_mem, status = timed([sys.executable, "-m", "grader", "grade", str(class_dir),
                                              "--out", str(out_dir), "--force"])
        if status != 0:
            print(f"the grader failed (exit {status})")
            return 1
        graded = len([p for p in out_dir.iterdir() if p.is_dir()])

        students = sorted(p for p in class_dir.iterdir())
        step = max(1, len(students) // args.sample)
        sample = students[::step][:args.sample]
        naive_s, naive_mem = 0.0, 0
        for student in sample:
            seconds, memory, _ = timed([sys.executable, "-m", "pytest", "tests", "--impl", str(student), "-q",
                                        "-p", "no:cacheprovider"])
            naive_s += seconds
            naive_mem = max(naive_mem, memory)

    per_grader, per_naive = grader_s / graded, naive_s / len(sample)
    print(f"grader : {grader_s:7.1f} s for {graded} submissions = {per_grader:.3f} s each "
          f"(public and hidden checks, sandboxed); peak memory {grader_mem / 2**20:,.0f} MiB")
    print(f"naive  : {naive_s:7.1f} s for {len(sample)} submissions = {per_naive:.3f} s each "
          f"(one pytest process each, public checks only, no sandbox); peak memory {naive_mem / 2**20:,.0f} MiB")
    print(f"ratio  : the grader is {per_naive / per_grader:.1f} times faster per submission")
    return 0


if __name__ == "__main__":
    sys.exit(main())
