"""GPT-2's BPE without a network: `tiktoken.get_encoding("gpt2")` works offline.

tiktoken downloads GPT-2's files (`vocab.bpe`, `encoder.json`) and caches each under
`$TIKTOKEN_CACHE_DIR/<sha1 of its URL>`, checking its sha256 on every read. We ship GPT-2's
ranks once (`data/gpt2.tiktoken`, see data/NOTICE.md) and rebuild the two data-gym files from
them, byte for byte: tiktoken's own hash check then proves the rebuild exact. With the cache in
place, learner code calls `tiktoken.get_encoding("gpt2")` exactly as the book does.

    python -m grader.course.offline     # writes data/tiktoken-cache (the Makefile's setup runs this)
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sys
from pathlib import Path

from .files import write_atomic

ROOT = Path(__file__).resolve().parents[2]
RANKS_FILE = ROOT / "data" / "gpt2.tiktoken"
CACHE_DIR = ROOT / "data" / "tiktoken-cache"

# The URLs and sha256 hashes tiktoken 0.x pins for "gpt2" and "r50k_base" (same ranks).
_BLOB = "https://openaipublic.blob.core.windows.net"
RANKS_SHA256 = "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930"
FILES = {
    f"{_BLOB}/gpt-2/encodings/main/vocab.bpe":
        "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5",
    f"{_BLOB}/gpt-2/encodings/main/encoder.json":
        "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783",
    f"{_BLOB}/encodings/r50k_base.tiktoken": RANKS_SHA256,
}
END_OF_TEXT = ("<|endoftext|>", 50256)


def load_ranks(path: Path = RANKS_FILE) -> dict[bytes, int]:
    """tiktoken's format: one `base64(token) rank` per line."""
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != RANKS_SHA256:
        raise ValueError(f"{path} is not GPT-2's rank file (sha256 mismatch)")
    ranks = {}
    for line in data.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


def _byte_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map from bytes to printable characters, used by its data-gym files."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1),
                 *range(ord("®"), ord("ÿ") + 1)]
    table, shifted = {b: chr(b) for b in printable}, 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + shifted)
            shifted += 1
    return table


def merge_of(token: bytes, rank: int, ranks: dict[bytes, int]) -> tuple[bytes, bytes]:
    """The two tokens whose merge made `token`: run BPE on it with only the lower ranks."""
    parts = [bytes([b]) for b in token]
    while len(parts) > 2:
        pairs = [(ranks.get(a + b, rank), i) for i, (a, b) in enumerate(zip(parts, parts[1:]))]
        best, i = min(pairs)
        if best >= rank:
            break
        parts[i:i + 2] = [parts[i] + parts[i + 1]]
    if len(parts) != 2:
        raise ValueError(f"rank {rank} is not a merge of two lower ranks")
    return parts[0], parts[1]


def data_gym_files(ranks: dict[bytes, int]) -> dict[str, bytes]:
    """Rebuild GPT-2's `vocab.bpe` (merges in rank order) and `encoder.json` (token -> id)."""
    show = _byte_to_unicode()
    text = lambda token: "".join(show[b] for b in token)  # noqa: E731
    by_rank = sorted(ranks, key=ranks.__getitem__)
    merges = ["#version: 0.2"]
    merges += [" ".join(map(text, merge_of(t, ranks[t], ranks))) for t in by_rank if len(t) > 1]
    encoder = {text(t): ranks[t] for t in by_rank}
    encoder[END_OF_TEXT[0]] = END_OF_TEXT[1]
    return {"vocab.bpe": ("\n".join(merges) + "\n").encode(),
            "encoder.json": json.dumps(encoder).encode()}


def write_cache(cache_dir: Path = CACHE_DIR) -> Path:
    """Write the three files tiktoken looks for; every one is checked against tiktoken's hash."""
    ranks_bytes = RANKS_FILE.read_bytes()
    contents = {"r50k_base.tiktoken": ranks_bytes, **data_gym_files(load_ranks())}
    cache_dir.mkdir(parents=True, exist_ok=True)
    for url, sha in FILES.items():
        data = contents[url.rsplit("/", 1)[1]]
        if hashlib.sha256(data).hexdigest() != sha:
            raise ValueError(f"rebuilt {url.rsplit('/', 1)[1]} does not match tiktoken's hash")
        target = cache_dir / hashlib.sha1(url.encode()).hexdigest()
        if not target.exists() or target.read_bytes() != data:
            write_atomic(target, data, mode=0o644)  # the sandbox reads it as another uid
    return cache_dir


def cache_ready(cache_dir: Path = CACHE_DIR) -> bool:
    return all((cache_dir / hashlib.sha1(url.encode()).hexdigest()).exists() for url in FILES)


def install(cache_dir: Path = CACHE_DIR) -> None:
    """Point tiktoken at the offline cache (building it first if setup has not)."""
    if not cache_ready(cache_dir):
        write_cache(cache_dir)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache_dir)


if __name__ == "__main__":
    print(f"tiktoken offline cache: {write_cache(Path(sys.argv[1]) if len(sys.argv) > 1 else CACHE_DIR)}")
