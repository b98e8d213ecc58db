"""Byte-level BPE from scratch (beyond book section 2.5).

In section 2.5 the book hands tokenization to tiktoken. Here you build what tiktoken does: train
byte pair encoding on a text (start from the 256 single bytes, merge the most frequent adjacent
pair again and again), then encode and decode with the learned merges. Working on UTF-8 bytes
means no word is ever unknown. Finally you load GPT-2's own 50,000 merges and get exactly
tiktoken's ids, so you know the black box from the book is nothing more than this.

Check your work: kata check bpe   (or make check TOPIC=bpe)
"""

import base64
from collections import Counter, defaultdict
from pathlib import Path

import regex  # the `re` module has no \p{L} (any letter) or \p{N} (any number)

ROOT = Path(__file__).resolve().parent.parent

# GPT-2's pre-tokeniser, given: split text into pieces with regex.findall(GPT2_PATTERN, text)
# before any merging. In order, the alternatives match: English contractions; letters; numbers;
# other symbols (each of these three may start with one space); then runs of whitespace, where
# `\s+(?!\S)` leaves the last space of a run to start the next word.
#     regex.findall(GPT2_PATTERN, "I'm here  now,\n\n  3.14 naïve")
#     -> ['I', "'m", ' here', ' ', ' now', ',', '\n\n ', ' 3', '.', '14', ' naïve']
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def train_bpe(text: str, vocab_size: int, special_tokens=("<|endoftext|>",)):
    """Task 1. Learn byte-level BPE merges from `text`.

    Returns (vocab, merges):
      vocab: dict[int, bytes] with vocab_size entries (fewer only if the text runs out of pairs):
        ids 0..255 are the single bytes (vocab[i] == bytes([i])), the k-th merge (a, b) gets
        id 256 + k with vocab[256 + k] == a + b, and the special tokens, UTF-8 encoded, take
        the last ids, in the order given.
      merges: list[tuple[bytes, bytes]], in the order learned (at most
        vocab_size - 256 - len(special_tokens) of them).

    How:
      1. Split the special tokens out of the text; they are never counted or merged.
      2. Pre-tokenise each remaining piece with regex.findall(GPT2_PATTERN, piece). Merges never
         cross a pre-token, so count each distinct pre-token's UTF-8 bytes once, with its
         frequency.
      3. Count every adjacent pair of tokens inside the pre-tokens, weighted by frequency.
      4. Merge the pair with the highest count. Tie-break: among equal counts, the greatest
         pair (a, b), compared as a tuple of bytes ((b"o", b"w") beats (b"l", b"o")).
      5. Repeat. Do not recount the whole text after each merge: keep the pair counts and an
         index pair -> words that contain it, and update only the words the merge touched.

    Example ("low" 1x, " lower" 1x, " lowest" 1x; (l,o) and (o,w) tie at 3, (o,w) is greater):
        >>> vocab, merges = train_bpe("low lower lowest", 260)
        >>> merges
        [(b'o', b'w'), (b'l', b'ow'), (b'low', b'e')]
        >>> {i: vocab[i] for i in range(256, 260)}
        {256: b'ow', 257: b'low', 258: b'lowe', 259: b'<|endoftext|>'}
    """
    raise NotImplementedError("bpe task 1: train_bpe")


class BPETokenizer:
    def __init__(self, vocab, merges, special_tokens=None):
        """Task 2. Keep what encode and decode need.

        vocab: dict[int, bytes] (id -> token bytes); merges: list[tuple[bytes, bytes]] in rank
        order (merges[0] has rank 0, the first to apply); special_tokens: list of str or None,
        each of them in vocab as its UTF-8 bytes.
        Attributes: self.vocab and self.merges as given, self.special_tokens as a list ([] for
        None). Take ids from vocab only: vocab[i] == bytes([i]) holds after train_bpe, but not in
        GPT-2's vocab (there id 0 is b"!"). Worth building once here too: the reverse map
        bytes -> id, the rank of each merge, and an empty cache dict pre-token -> ids (encode
        fills it).
        """
        raise NotImplementedError("bpe task 2: BPETokenizer.__init__")

    def encode(self, text: str, allowed_special=frozenset()) -> list[int]:
        """Task 2. Text -> list[int] of token ids.

        allowed_special: a set of special tokens, or "all" for all of them. A special token in
        `allowed_special` becomes its one id; any other special token found in the text raises
        ValueError naming it (tiktoken's default, so that user text cannot inject one).
        Split the allowed special tokens out first, pre-tokenise the rest with GPT2_PATTERN and
        encode each pre-token on its own: start from its UTF-8 bytes and repeatedly merge the
        adjacent pair of lowest rank (earliest in `merges`; every occurrence of it at once, left
        to right) until no adjacent pair is a merge. Rank a pair (a, b) by the token a + b, as
        tiktoken does: by the first merge whose two halves joined make a + b.
        Pre-tokens repeat a lot: cache each one's ids.

        Example, with train_bpe's example above (258 = b"lowe", 257 = b"low", 259 = special):
            >>> tokenizer = BPETokenizer(vocab, merges, ["<|endoftext|>"])
            >>> tokenizer.encode("lowest<|endoftext|>low", allowed_special="all")
            [258, 115, 116, 259, 257]
            >>> tokenizer.encode("slow")  # 115 is b"s"; "low" inside a word merges all the same
            [115, 257]
        """
        raise NotImplementedError("bpe task 2: BPETokenizer.encode")

    def decode(self, ids) -> str:
        """Task 2. list[int] of ids -> str.

        Concatenate the tokens' bytes, then decode the whole with UTF-8, errors="replace".
        One character may span several tokens (b"\\xc3" + b"\\xa9" is "é"), so decoding token by
        token would break it.
            >>> tokenizer.decode([258, 115, 116, 259, 257])
            'lowest<|endoftext|>low'
            >>> tokenizer.decode([195, 169]), tokenizer.decode([195])
            ('é', '�')
        """
        raise NotImplementedError("bpe task 2: BPETokenizer.decode")

    @classmethod
    def from_gpt2(cls, path="data/gpt2.tiktoken"):
        """Task 3. GPT-2's tokenizer, built from its ranks in tiktoken's file format.

        A relative `path` is resolved against ROOT (the repository root), so any cwd works.
        Each line of the file is `base64(token bytes) rank`, ranks 0, 1, 2, ... in order: 0..50255
        in GPT-2's file, but the checks give you a file with only its first few thousand lines (a
        smaller BPE of its own), so take as many ranks as the file holds. Ranks 0..255 are
        single bytes (not in byte order); they are the ids. The token of rank r >= 256 is one
        merge: run your BPE on its bytes using only the merges of rank < r; it stops at exactly
        two parts, and that pair is merges[r - 256]. Add "<|endoftext|>" as id 50256.
        Then encode must give exactly tiktoken.get_encoding("gpt2").encode(text, ...)'s ids.
            >>> gpt2 = BPETokenizer.from_gpt2()
            >>> len(gpt2.vocab), len(gpt2.merges), gpt2.merges[0]
            (50257, 50000, (b' ', b't'))
            >>> gpt2.encode("Hello, world! <|endoftext|>", allowed_special="all")
            [15496, 11, 995, 0, 220, 50256]
        """
        raise NotImplementedError("bpe task 3: BPETokenizer.from_gpt2")
