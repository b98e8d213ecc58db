"""The worker protocol, without the sandbox. grader.worker.run_job forked here (with a fake host):
what an endless loop costs the topics built on it (a loop while the module imports stalls every
topic that imports it, so those are skipped and graded with the reference later; a loop inside a
call costs only the calls), and the counts of public cases the child passes on. Then a real worker
process driven by grader.sandbox.Worker: a child that kills or stops its worker costs only its own
topic, and a child finds no other topic's cases in its memory."""

from __future__ import annotations

import ast
import os
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pytest

from grader.engine import wire

from grader.grading.sandbox.inside import worker
from grader.engine.checks import load_checks
from grader.course.curriculum import load
from grader.engine.cases import load_fixture
from grader.course.offline import install

CURRICULUM = load()
TOPICS = ["causal_attention", "multihead_attention"]
TIMEOUT = 2.0


@pytest.fixture(scope="module")
def warm():
    install()
    return worker.Warm()


class FakeHost:
    """The host's side of the protocol, in this process: answers each request for cases with the
    topic's packed public cases, and keeps what the worker reports."""

    def __init__(self, packed: dict[str, bytes]):
        self.packed, self.asked, self.topics, self.outcomes, self.output = packed, [], {}, {}, ""

    def cases(self, slug: str):
        import mmap
        import struct
        self.asked.append(slug)
        memory = mmap.mmap(-1, 8 + len(self.packed[slug]))
        memory.write(struct.pack("<Q", len(self.packed[slug])) + self.packed[slug])
        return memory

    def started(self, slug: str, pid: int) -> None:
        pass

    def report(self, slug: str, entry: dict, outcomes=None, output: str = "") -> None:
        self.topics[slug] = entry | ({"output": output} if output else {})
        if outcomes is not None:
            self.outcomes[slug] = wire.unpack(bytes(outcomes))

    def report_output(self, output: str) -> None:
        self.output = output

    def done(self) -> None:
        pass


def packed_public(slugs) -> dict[str, bytes]:
    packed = {}
    for slug in slugs:
        fixture = load_fixture(CURRICULUM[slug])
        packed[slug] = wire.pack({"cases": {name: [case.inputs for case in items] for name, items in fixture.items()},
                                  "public": {name: len(items) for name, items in fixture.items()}})
    return packed


def run_host(warm, causal_source: str, topics=TOPICS) -> FakeHost:
    slot = Path(tempfile.mkdtemp(prefix="kata-worker-test-"))
    try:
        slot.chmod(0o755)  # the child may drop to uid 65534
        for slug in topics:
            shutil.copy(CURRICULUM[slug].solution(), slot / CURRICULUM[slug].module_file)
        (slot / "causal_attention.py").write_text(causal_source, encoding="utf-8")
        for path in slot.iterdir():
            path.chmod(0o644)
        host = FakeHost(packed_public(topics))
        job = {"topics": list(topics), "timeout": TIMEOUT, "uses": {"multihead_attention": ["causal_attention"]}}
        worker.run_job(job, slot, warm, host)
        return host
    finally:
        shutil.rmtree(slot, ignore_errors=True)


def run(warm, causal_source: str) -> dict:
    return {slug: {k: v for k, v in entry.items() if k != "output"}
            for slug, entry in run_host(warm, causal_source).topics.items()}


def test_a_loop_at_import_skips_the_topics_that_import_it(warm):
    topics = run(warm, "while True:\n    pass\n")
    assert topics["causal_attention"]["status"] == "timeout"
    assert topics["multihead_attention"] == {"seconds": 0.0, "status": "skipped", "how": "causal_attention"}


def test_a_loop_in_a_call_does_not_skip_them(warm):
    reference = CURRICULUM["causal_attention"].solution().read_text(encoding="utf-8")
    head = "def causal_mask(num_tokens: int) -> torch.Tensor:\n"
    assert reference.count(head) == 1
    topics = run(warm, reference.replace(head, head + "    while True:\n        pass\n"))
    assert topics["causal_attention"]["status"] == "timeout"
    # multihead_attention ran with the student's own module (and met the same loop in its calls)
    assert topics["multihead_attention"]["status"] == "timeout"


def test_an_honest_submission_is_one_child_and_every_topic_ok(warm):
    topics = run(warm, CURRICULUM["causal_attention"].solution().read_text(encoding="utf-8"))
    assert {slug: entry["status"] for slug, entry in topics.items()} == {slug: "ok" for slug in TOPICS}


# ---------------------------------------------------------------------------------------------
# The host's side (grader.sandbox.Worker, a real worker process, here without bubblewrap so that
# the child's parent is the worker itself): what a child that kills or stops its worker costs,
# and which cases a child can find in its own memory.

HOST_TOPICS = ["embeddings", "softmax_attention", "qkv_attention", "causal_attention"]
KILL_WORKER = '''
import os
import signal


def context_vectors(inputs):
    os.kill(os.getppid(), signal.SIGKILL)  # the worker
    os.killpg(0, signal.SIGKILL)           # and everything in this process group
'''
STOP_WORKER = '''
import os
import signal
import time


def context_vectors(inputs):
    os.kill(os.getppid(), signal.SIGSTOP)  # the worker: it never answers again
    time.sleep(3600)                       # and this child would outlive it
'''
# Prints the check names of every cases mapping ({check: [inputs, ...]}; not the outcomes of the topic
# before, {check: [{"status": ...}, ...]}, the student's own) this process holds: the
# hidden inputs of any topic whose cases it can find in its own memory could be printed the same way.
SEE_CASES = '''
import gc

gc.unfreeze()
seen = set()
for o in gc.get_objects():
    if (isinstance(o, dict) and o and all(isinstance(k, str) for k in o)
            and all(isinstance(v, list) and v and isinstance(v[0], dict) for v in o.values())
            and not any("status" in v[0] for v in o.values())):  # outcomes, not inputs
        seen.update(o)
print("CASES-SEEN", sorted(seen))
'''


@pytest.fixture(scope="module")
def host_worker():
    """A worker without the sandbox and without the children's filter (as where libseccomp is
    missing): the filter would refuse the kill and the stop; here the host's own defences are proved."""
    from grader.grading.sandbox.host import Isolation, Worker
    started = time.monotonic()
    os.environ["KATA_SECCOMP"] = "off"  # for the worker, and for each restart of it
    os.environ["KATA_OFF_LIMITS"] = "off"  # the cases below look for what a child holds (gc): let them run
    w = Worker(Isolation("none", "test: the child's parent is the worker"), packed_public(
        [t.slug for t in CURRICULUM.topics if t.test_file().exists()]))
    print(f"worker started in {time.monotonic() - started:.1f} s")
    yield w
    w.close()
    del os.environ["KATA_SECCOMP"], os.environ["KATA_OFF_LIMITS"]


def reference_files(**replaced: str) -> dict[str, bytes]:
    files = {CURRICULUM[s].module_file: CURRICULUM[s].solution().read_bytes() for s in HOST_TOPICS}
    for slug, extra in replaced.items():
        files[CURRICULUM[slug].module_file] += extra.encode()
    return files


def grade_on(w, files: dict[str, bytes], topics=HOST_TOPICS) -> dict:
    started = time.monotonic()
    reply = w.run(list(topics), files, TIMEOUT, {})
    print(f"graded in {time.monotonic() - started:.1f} s: "
          f"{ {s: e.get('status') for s, e in reply['topics'].items()} }")
    return reply


def test_a_child_that_kills_its_worker_costs_only_its_own_topic(host_worker):
    reply = grade_on(host_worker, reference_files(softmax_attention=KILL_WORKER))
    topics = reply["topics"]
    assert topics["softmax_attention"]["status"] == "crash"
    assert "grading worker was killed" in topics["softmax_attention"]["how"]
    assert {s: topics[s]["status"] for s in HOST_TOPICS if s != "softmax_attention"} == \
        {s: "ok" for s in HOST_TOPICS if s != "softmax_attention"}
    assert set(reply["outcomes"]) == set(HOST_TOPICS) - {"softmax_attention"}
    assert grade_on(host_worker, reference_files())["topics"].keys() == set(HOST_TOPICS)  # and it still works


def test_a_child_that_stops_its_worker_costs_only_its_own_topic(host_worker):
    children, watching = set(), [True]

    def watch() -> None:  # the worker's children, whichever worker is current
        while watching:
            worker = host_worker.process.pid
            for entry in os.listdir("/proc"):
                if entry.isdigit():
                    try:
                        with open(f"/proc/{entry}/stat", "rb") as stat:
                            if int(stat.read().rsplit(b")", 1)[1].split()[1]) == worker:
                                children.add(int(entry))
                    except (OSError, IndexError, ValueError):
                        pass
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        reply = grade_on(host_worker, reference_files(softmax_attention=STOP_WORKER))
    finally:
        watching.clear()
        watcher.join()
    topics = reply["topics"]
    assert topics["softmax_attention"]["status"] == "timeout"
    assert "stopped answering" in topics["softmax_attention"]["how"]
    assert {s: topics[s]["status"] for s in HOST_TOPICS if s != "softmax_attention"} == \
        {s: "ok" for s in HOST_TOPICS if s != "softmax_attention"}
    honest = grade_on(host_worker, reference_files())
    assert {e["status"] for e in honest["topics"].values()} == {"ok"}
    assert len(children) >= 2  # the job's child, and its topic's again in a fresh worker
    for _ in range(100):  # killed with the worker; init may take a moment to reap them
        alive = [p for p in children if _running(p)]
        if not alive:
            break
        time.sleep(0.05)
    assert not alive, f"children of a stopped worker outlived it: {alive}"


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def test_a_child_holds_only_its_own_topics_cases(host_worker):
    reply = grade_on(host_worker, reference_files(qkv_attention=SEE_CASES))
    assert reply["topics"]["qkv_attention"]["status"] == "ok"
    seen = re.findall(r"CASES-SEEN (\[.*\])", reply["output"])
    assert len(seen) == 1, reply["output"]
    names = set(ast.literal_eval(seen[0]))
    own = {c.name for c in load_checks(CURRICULUM["qkv_attention"].test_file())}
    assert names and names <= own, f"a child found the cases of other topics' checks: {sorted(names - own)}"


def test_the_child_passes_how_many_cases_are_public_where_probe_topic_takes_it(warm, monkeypatch):
    import grader.engine.probe
    original = grader.engine.probe.probe_topic

    def probe_topic(topic, impl_dir, cases, checks, imported=lambda: None, n_public=None, **options):
        # to fd 1, the child's output file (pytest's capture replaced sys.stdout in this process)
        os.write(1, f"N-PUBLIC {topic.slug} {sorted((n_public or {}).items())}\n".encode())
        return original(topic, impl_dir, cases, checks, imported, **options)

    monkeypatch.setattr(grader.engine.probe, "probe_topic", probe_topic)  # the forked child imports it from there
    host = run_host(warm, CURRICULUM["causal_attention"].solution().read_text(encoding="utf-8"))
    assert {e["status"] for e in host.topics.values()} == {"ok"}
    for slug in TOPICS:
        expected = sorted((name, len(items)) for name, items in load_fixture(CURRICULUM[slug]).items())
        assert f"N-PUBLIC {slug} {expected}" in host.output
