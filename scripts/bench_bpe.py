"""Time the reference BPE (solutions/bpe.py) against tiktoken on data/corpus.txt.

    python scripts/bench_bpe.py

Prints the time of train_bpe to a vocabulary of 1000, of loading GPT-2's ranks, of encoding
the corpus with them (first call: every pre-token merged; second call: all from the cache),
and of tiktoken's encode on the same text.
"""

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.course import offline  # noqa: E402
from solutions.bpe import BPETokenizer, train_bpe  # noqa: E402


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def main():
    offline.install()
    import tiktoken

    text = (ROOT / "data" / "corpus.txt").read_text(encoding="utf-8")
    print(f"corpus: {len(text):,} characters, {len(text.encode('utf-8')):,} bytes")

    (vocab, merges), train_seconds = timed(train_bpe, text, 1000)
    print(f"train_bpe to vocab 1000 ({len(merges)} merges): {train_seconds * 1e3:9.1f} ms")

    tokenizer, load_seconds = timed(BPETokenizer.from_gpt2)
    ids, encode_seconds = timed(tokenizer.encode, text)
    _, warm_seconds = timed(tokenizer.encode, text)
    print(f"from_gpt2 load of the ranks:          {load_seconds * 1e3:9.1f} ms")
    print(f"encode, first call (excluding load):  {encode_seconds * 1e3:9.1f} ms  ({len(ids):,} tokens)")
    print(f"encode, first call (including load):  {(load_seconds + encode_seconds) * 1e3:9.1f} ms")
    print(f"encode, second call (cache warm):     {warm_seconds * 1e3:9.1f} ms")

    encoding, tiktoken_load_seconds = timed(tiktoken.get_encoding, "gpt2")
    expected, _ = timed(encoding.encode, text)  # its first call builds its regex state
    tiktoken_seconds = min(timed(encoding.encode, text)[1] for _ in range(5))
    assert ids == expected, "the reference's ids differ from tiktoken's on the corpus"
    print(f"tiktoken get_encoding('gpt2'):        {tiktoken_load_seconds * 1e3:9.1f} ms")
    print(f"tiktoken encode (best of 5):          {tiktoken_seconds * 1e3:9.1f} ms  (same ids)")
    print(f"ratio, our first encode / tiktoken:   {encode_seconds / tiktoken_seconds:9.1f}x")
    print(f"ratio, our warm encode / tiktoken:    {warm_seconds / tiktoken_seconds:9.1f}x")


if __name__ == "__main__":
    main()
