"""Byte-level BPE from scratch, as GPT-2 does it (beyond book section 2.5).

Training starts from the 256 single bytes and repeatedly merges the most frequent adjacent pair
into a new token. Encoding replays the learned merges on new text, lowest rank first. Loaded with
GPT-2's own ranks, the same code gives exactly tiktoken's ids.
"""

import base64
from collections import Counter, defaultdict
from pathlib import Path

import regex  # the `re` module has no \p{L} (any letter) or \p{N} (any number)

ROOT = Path(__file__).resolve().parent.parent

# GPT-2's pre-tokeniser: English contractions, letters, numbers, other symbols (each optionally
# after one space), then whitespace. `\s+(?!\S)` leaves the last space of a run to the next word.
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def _split_on_special(text, special_tokens):
    """"a<|endoftext|>b" -> ["a", "<|endoftext|>", "b"]: the special tokens kept, as pieces."""
    if not special_tokens:
        return [text]
    # Longest first, so that a special token containing another one wins.
    alternatives = sorted(special_tokens, key=len, reverse=True)
    return regex.split("(" + "|".join(map(regex.escape, alternatives)) + ")", text)


def _merge_pair(parts, pair):
    """Replace each occurrence of `pair` in `parts`, scanning left to right, by the merged token."""
    merged, i = [], 0
    while i < len(parts):
        if i + 1 < len(parts) and (parts[i], parts[i + 1]) == pair:
            merged.append(parts[i] + parts[i + 1])
            i += 2
        else:
            merged.append(parts[i])
            i += 1
    return merged


def _apply_merges(parts, merge_ranks):
    """Merge the adjacent pair of lowest rank until no pair has one; a pair's rank is its token's."""
    while len(parts) > 1:
        pairs = list(zip(parts, parts[1:]))
        best = min(pairs, key=lambda pair: merge_ranks.get(pair[0] + pair[1], float("inf")))
        if best[0] + best[1] not in merge_ranks:
            break
        parts = _merge_pair(parts, best)
    return parts


def train_bpe(text: str, vocab_size: int, special_tokens=("<|endoftext|>",)):
    """Learn byte-level merges: vocab is {id: bytes}, merges the pairs in the order learned.

    Ties: among pairs of equal count, the greatest pair (left, right) of bytes wins.
    """
    num_merges = vocab_size - 256 - len(special_tokens)
    assert num_merges >= 0, f"vocab_size {vocab_size} is less than 256 bytes + {len(special_tokens)} special tokens"

    # Merges never cross a pre-token, so each distinct pre-token is counted once with its frequency.
    word_counts = Counter()
    for piece in _split_on_special(text, special_tokens):
        if piece not in special_tokens:
            word_counts.update(word.encode("utf-8") for word in regex.findall(GPT2_PATTERN, piece))
    words = [[bytes([b]) for b in word] for word in word_counts]
    counts = list(word_counts.values())

    pair_counts = Counter()
    words_with = defaultdict(set)  # pair -> indices of the words that contain it
    for i, word in enumerate(words):
        for pair in zip(word, word[1:]):
            pair_counts[pair] += counts[i]
            words_with[pair].add(i)

    vocab = {i: bytes([i]) for i in range(256)}
    merges = []
    while len(merges) < num_merges and pair_counts:
        pair = max(pair_counts, key=lambda p: (pair_counts[p], p))
        new_id = 256 + len(merges)
        vocab[new_id] = pair[0] + pair[1]
        merges.append(pair)

        # Only the words holding the pair change: take their old pairs out, put their new ones in.
        # (An index entry can be stale, its word having lost the pair since: then nothing changes.)
        for i in words_with.pop(pair):
            word, new_word = words[i], _merge_pair(words[i], pair)
            for old in zip(word, word[1:]):
                pair_counts[old] -= counts[i]
                if pair_counts[old] == 0:
                    del pair_counts[old]
            for new in zip(new_word, new_word[1:]):
                pair_counts[new] += counts[i]
                words_with[new].add(i)
            words[i] = new_word
        assert pair not in pair_counts, f"{pair} still counted {pair_counts[pair]} times after its merge"

    for special in special_tokens:
        vocab[len(vocab)] = special.encode("utf-8")
    return vocab, merges


class BPETokenizer:
    def __init__(self, vocab, merges, special_tokens=None):
        self.vocab = vocab
        self.merges = merges
        self.special_tokens = list(special_tokens or [])
        self.token_ids = {token: token_id for token_id, token in vocab.items()}
        # As tiktoken does, a pair is ranked by the token it makes: the merge that first made it.
        self.merge_ranks = {}
        for rank, (left, right) in enumerate(merges):
            self.merge_ranks.setdefault(left + right, rank)
        for special in self.special_tokens:
            assert special.encode("utf-8") in self.token_ids, f"special token {special!r} has no id in vocab"
        self.cache = {}  # pre-token -> ids: words repeat, so each distinct one is merged only once

    def _encode_pre_token(self, pre_token):
        if pre_token not in self.cache:
            parts = _apply_merges([bytes([b]) for b in pre_token.encode("utf-8")], self.merge_ranks)
            self.cache[pre_token] = [self.token_ids[part] for part in parts]
        return self.cache[pre_token]

    def encode(self, text: str, allowed_special=frozenset()) -> list[int]:
        specials = set(self.special_tokens)
        allowed = specials if allowed_special == "all" else specials & set(allowed_special)
        # Like tiktoken: text that spells a special token must not silently become one.
        for special in sorted(specials - allowed):
            if special in text:
                raise ValueError(f"text contains the special token {special!r}; "
                                 f"pass allowed_special={{{special!r}}} to encode it as its id")
        ids = []
        for piece in _split_on_special(text, allowed):
            if piece in allowed:
                ids.append(self.token_ids[piece.encode("utf-8")])
            else:
                for pre_token in regex.findall(GPT2_PATTERN, piece):
                    ids.extend(self._encode_pre_token(pre_token))
        return ids

    def decode(self, ids) -> str:
        # Join the bytes first: one character's UTF-8 bytes may be spread over several tokens.
        return b"".join(self.vocab[i] for i in ids).decode("utf-8", errors="replace")

    @classmethod
    def from_gpt2(cls, path="data/gpt2.tiktoken"):
        """GPT-2's tokenizer from tiktoken's rank file (`base64(token) rank` per line)."""
        path = Path(path)
        if not path.is_absolute():
            path = ROOT / path
        vocab = {}
        for line in path.read_text().splitlines():
            token, rank = line.split()
            vocab[int(rank)] = base64.b64decode(token)
        # GPT-2's file has ranks 0..50255; any prefix of it (the checks use one) is a BPE too.
        assert sorted(vocab) == list(range(len(vocab))), "expected ranks 0, 1, 2, ... without a gap"
        assert all(len(vocab[rank]) == 1 for rank in range(256)), "ranks 0..255 must be the 256 single bytes"

        # Ranks 0..255 are the single bytes. The token of rank r >= 256 was made by the merge that
        # BPE on its bytes, with only the merges below r, stops one step short of.
        merges, merge_ranks = [], {}
        for rank in range(256, len(vocab)):
            parts = _apply_merges([bytes([b]) for b in vocab[rank]], merge_ranks)
            assert len(parts) == 2, f"rank {rank} {vocab[rank]!r} is not a merge of two lower ranks: {parts}"
            merge_ranks[vocab[rank]] = len(merges)
            merges.append(tuple(parts))
        vocab[50256] = b"<|endoftext|>"
        return cls(vocab, merges, special_tokens=["<|endoftext|>"])
