"""grader.worker.run_job, forked here without the sandbox: what an endless loop costs the topics
built on it. A loop while the module imports stalls every topic that imports it, so those are
skipped (and graded with the reference later); a loop inside a call costs only the calls."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from grader import worker
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


def run(warm, causal_source: str) -> dict:
    slot = Path(tempfile.mkdtemp(prefix="kata-worker-test-"))
    try:
        slot.chmod(0o755)  # the child may drop to uid 65534
        for slug in TOPICS:
            shutil.copy(CURRICULUM[slug].solution(), slot / CURRICULUM[slug].module_file)
        (slot / "causal_attention.py").write_text(causal_source, encoding="utf-8")
        for path in slot.iterdir():
            path.chmod(0o644)
        cases = {slug: {name: [case.inputs for case in items]
                        for name, items in load_fixture(CURRICULUM[slug]).items()} for slug in TOPICS}
        job = {"topics": TOPICS, "timeout": TIMEOUT, "uses": {"multihead_attention": ["causal_attention"]}}
        reply, frames = worker.run_job(job, cases, slot, warm)
        return reply["topics"]
    finally:
        shutil.rmtree(slot, ignore_errors=True)


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
