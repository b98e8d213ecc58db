"""grader.worker.run_job, forked here without the sandbox: what an endless loop costs the topics
built on it. A loop while the module imports stalls every topic that imports it, so those are
skipped (and graded with the reference later); a loop inside a call costs only the calls."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from grader import wire, worker
from grader.curriculum import load
from grader.fixtures import load_fixture
from grader.offline import install

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
        self.packed, self.asked, self.topics, self.outcomes = packed, [], {}, {}

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
