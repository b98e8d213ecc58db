"""The speed challenges: optional, measured against the learner's own baseline, never a score.

A topic offers one by defining, in tests/test_<slug>.py, `speed_challenge(m, model, max_new_tokens)`
(it runs the learner's module `m` both ways and returns the seconds of each, and whether both gave
the same ids), `SPEED_MODELS` (the model sizes it knows, the first the default) and
`SPEED_TARGET` (the ratio to reach, per model).
Both runs are the learner's code, one after the other in one process on one thread, so the ratio
compares like with like on whatever machine runs it; nothing here judges an absolute time, and
`make grade` does not run it.

    kata speed kv_cache [--model small|tiny|gpt2] [--tokens 200]
    python -m grader.learner.speed kv_cache [--impl DIR] [--model ...] [--tokens ...] [--require]

With --require the exit status is 1 when the ratio misses the target (or the ids differ): for an
instructor who turns the challenge on for their own class. It runs the code as is, outside any
sandbox: run it on submissions only where `make grade` would be safe to run them unsandboxed.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

from ..course.curriculum import Topic, load
from ..engine.checks import checks_module
from ..engine.impl import TopicModule, import_topic, load_package, unload_package


class NotMeasured(Exception):
    """No ratio to show: the topic has no challenge, the model is unknown, or the code raised."""


@dataclass(frozen=True)
class Result:
    topic: str
    model: str
    config: dict
    prompt_tokens: int
    max_new_tokens: int
    uncached_seconds: float
    cached_seconds: float
    same_ids: bool
    target: float

    @property
    def ratio(self) -> float:
        return self.uncached_seconds / max(self.cached_seconds, 1e-9)

    @property
    def reached(self) -> bool:
        return self.same_ids and self.ratio >= self.target

    def lines(self) -> list[str]:
        cfg = self.config
        model = (f"model {self.model!r}: emb_dim {cfg['emb_dim']}, {cfg['n_layers']} layers, "
                 f"vocab_size {cfg['vocab_size']}")
        lines = [f"{self.topic} speed challenge ({model}; {self.max_new_tokens} new tokens after a prompt of "
                 f"{self.prompt_tokens}; each way once, one thread, on this machine):",
                 f"  uncached {self.uncached_seconds:.3f} s, cached {self.cached_seconds:.3f} s: "
                 f"your cache makes generation {self.ratio:.1f} times as fast (target: {self.target:g} times)."]
        if not self.same_ids:
            lines.append("  But your cached run gives other ids than your uncached one: a fast wrong answer does "
                         f"not count. kata check {self.topic} names the step where they part.")
        elif self.reached:
            lines.append("  Challenge met.")
        else:
            lines.append("  Not yet: with use_cache=True each step should feed the model only the new token, and "
                         "attention should reuse the cached keys and values instead of recomputing them.")
        return lines


def challenge_of(topic: Topic):
    """The topic's test module if it offers a speed challenge, else None."""
    module = checks_module(topic.test_file())
    return module if hasattr(module, "speed_challenge") else None


def measure(topic: Topic, impl: Path, model: str | None = None, max_new_tokens: int = 200) -> Result:
    """Run the topic's speed challenge on the implementation in `impl` (learner code, in this process)."""
    challenge = challenge_of(topic)
    if challenge is None:
        raise NotMeasured(f"{topic.slug} has no speed challenge.")
    model = model or next(iter(challenge.SPEED_MODELS))
    if model not in challenge.SPEED_MODELS:
        raise NotMeasured(f"{topic.slug}'s speed challenge knows the models {', '.join(challenge.SPEED_MODELS)}.")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the least noise on a shared machine, and the probe's setting
    package = load_package(impl)
    try:
        m = TopicModule(import_topic(package, topic.slug), topic.slug)
        with torch.no_grad():
            got = challenge.speed_challenge(m, model, max_new_tokens)
    except Exception as err:  # the learner's code: what it raised, and where to look
        raise NotMeasured(f"Your code raised {type(err).__name__}: {err}. "
                          f"kata check {topic.slug} says what to fix first.") from None
    finally:
        unload_package(package)
        torch.set_num_threads(threads)
    return Result(topic.slug, model, got["config"], got["prompt_tokens"], got["max_new_tokens"],
                  got["uncached_seconds"], got["cached_seconds"], got["same_ids"], challenge.SPEED_TARGET[model])


def main(argv: list[str] | None = None) -> int:
    parse = argparse.ArgumentParser(prog="python -m grader.learner.speed", description=__doc__.splitlines()[0])
    parse.add_argument("topic", help="a topic slug with a speed challenge, e.g. kv_cache")
    parse.add_argument("--impl", type=Path, default=None, help="the folder of topic modules (default: exercises/)")
    parse.add_argument("--model", default=None, help="the model size (default: the topic's first)")
    parse.add_argument("--tokens", type=int, default=200, help="new tokens to generate (default: 200)")
    parse.add_argument("--require", action="store_true", help="exit with status 1 when the target is missed")
    args = parse.parse_args(argv)
    curriculum = load()
    if args.topic not in curriculum.slugs:
        print(f"There is no topic {args.topic!r}.", file=sys.stderr)
        return 2
    topic = curriculum[args.topic]
    impl = args.impl or topic.exercise().parent
    try:
        result = measure(topic, impl, args.model, args.tokens)
    except NotMeasured as err:
        print(str(err), file=sys.stderr)
        return 2
    print("\n".join(result.lines()))
    return 1 if args.require and not result.reached else 0


if __name__ == "__main__":
    sys.exit(main())
