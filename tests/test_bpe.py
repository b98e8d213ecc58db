"""Checks for the BPE topic: byte-level BPE from scratch (beyond book section 2.5).

Task 2 builds its tokenizer from merges given in the inputs, so encode and decode are checked
whatever train_bpe does. Task 3 gives from_gpt2 a prefix of GPT-2's rank file (its first 500
or 800 lines are a BPE of their own): loading all 50,000 ranks takes a second, too slow for a
check run for every student. grader/tests/test_bpe_reference.py proves, with the full ranks,
that the reference gives exactly tiktoken's ids.
"""

import base64
import random
import tempfile
from functools import cache, partial
from pathlib import Path

from grader.engine.checks import WRONG_VALUES, Failed, check, compare, text_back_through_ids
from grader.course.curriculum import ROOT
from grader.course.offline import merge_of

CORPUS = ROOT / "data" / "corpus.txt"
RANKS = ROOT / "data" / "gpt2.tiktoken"
END = "<|endoftext|>"
END_ID = 50256  # GPT-2's id for it, however many ranks the file has

# Pieces of text that GPT-2's pre-tokeniser treats differently: letters of several scripts (with
# accents, combining marks and vowel signs), emoji (skin tones, ZWJ sequences, flags), numbers
# (\p{N} includes fullwidth and Arabic-Indic digits and ½), runs of spaces and newlines (the last
# space of a run starts the next word), the contractions GPT-2 splits off (only lowercase ones,
# only with a straight quote) and punctuation.
WORDS = ["the", "ship", "bottle", "Hello", "world", "harbour", "tweezers", "A", "I", "x"]
SCRIPTS = ["naïve", "café", "Zürich", "façade", "λόγος", "Ελλάδα", "привет", "мир", "日本語",
           "東京", "مرحبا", "שלום", "नमस्ते", "हिन्दी", "안녕하세요", "สวัสดี", "Ñandú"]
COMBINING = ["e\u0301", "a\u0308", "n\u0303", "o\u0302\u0323", "\u0301"]
EMOJI = ["😀", "👍🏽", "👩\u200d💻", "👨\u200d👩\u200d👧", "🇫🇷", "❤️", "🎉"]
NUMBERS = ["3.14", "2024", "1,000,000", "007", "１２３", "½", "x²", "٣٤", "9"]
SPACES = [" ", "  ", "   ", "\n", "\n\n", " \n", "\t", "\r\n", "  \n\n  ", "\xa0", "\u3000", " \t "]
CONTRACTIONS = ["it's", "don't", "they're", "we've", "I'm", "you'll", "he'd", "IT'S", "it’s",
                "'s", "'ll", "o'clock", "''"]
PUNCTUATION = [".", ",", "!?", "...", "--", "(", ")", "“", "”", "«", "»", "@#$", "<|", "|>", "'"]
POOLS = [WORDS, WORDS, SCRIPTS, COMBINING, EMOJI, NUMBERS, SPACES, SPACES, CONTRACTIONS, PUNCTUATION]


def mixed_strings(seed: int, count: int, pieces: int = 12) -> list[str]:
    """`count` strings, each a random mix of the pieces above."""
    rng = random.Random(seed)
    return ["".join(rng.choice(rng.choice(POOLS)) + rng.choice(["", "", " "]) for _ in range(pieces))
            for _ in range(count)]


def corpus_excerpt(seed: int, length: int) -> str:
    """`length` characters of data/corpus.txt (from its start for seed 0)."""
    text = CORPUS.read_text(encoding="utf-8")
    start = 0 if seed == 0 else random.Random(seed).randrange(len(text) - length)
    return text[start:start + length]


def corpus_pieces(seed: int, count: int, length: int = 150) -> list[str]:
    """`count` excerpts of the corpus, newlines and all."""
    return [corpus_excerpt(seed * 1000 + i, length) for i in range(count)]


def encodings(bpe, strings: list[str], **options) -> dict[str, list[int]]:
    """{"encode('text')": ids}: a failure message then says which text it was."""
    return {f"encode({text!r})": bpe.encode(text, **options) for text in strings}


def gpt2_rank_lines(seed: int, base: int) -> str:
    """The first lines of GPT-2's rank file, `base64(token) rank` each: `base` of them for seed 0."""
    count = base if seed == 0 else random.Random(seed).randrange(base * 3 // 4, base * 3 // 2)
    return "".join(RANKS.read_text().splitlines(keepends=True)[:count])


def gpt2_ranks(rank_lines: str) -> dict[bytes, int]:
    """tiktoken's format: one `base64(token) rank` per line."""
    return {base64.b64decode(token): int(rank) for token, rank in (line.split() for line in rank_lines.splitlines())}


def gpt2_bpe(rank_lines: str) -> tuple[dict[int, bytes], list[tuple[bytes, bytes]]]:
    """GPT-2's first ranks as BPETokenizer's arguments: vocab {id: bytes} and merges in rank order.

    Task 2's probes build them from the rank lines rather than store them (the lines are a
    quarter of the size in the fixture); four probes share one build, each gets its own copy."""
    vocab, merges = _gpt2_bpe(rank_lines)
    return dict(vocab), list(merges)


@cache
def _gpt2_bpe(rank_lines: str) -> tuple[dict[int, bytes], list[tuple[bytes, bytes]]]:
    ranks = gpt2_ranks(rank_lines)
    vocab = {rank: token for token, rank in ranks.items()}
    merges = [merge_of(vocab[rank], rank, ranks) for rank in range(256, len(vocab))]
    vocab[END_ID] = END.encode("utf-8")
    return vocab, merges


def _short(value, width: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= width else text[:width] + " ..."


def _first_wrong_merge(got, expected, note: str = "") -> None:
    """Name the first merge that differs: every later one follows from it."""
    if isinstance(got, (list, tuple)):
        for k, (mine, theirs) in enumerate(zip(got, expected)):
            try:
                compare(mine, theirs)
            except Failed:
                before = f"; your {k} merges before it are right" if k else ""
                raise Failed(WRONG_VALUES, f"merge {k} (id {256 + k}): expected {theirs!r}, got {_short(mine)}"
                                           f"{before}.{note}") from None
    compare(got, expected, name="merges")


# Task 1 ---------------------------------------------------------------------------------------

def training_text(seed: int) -> dict:
    """An excerpt of the corpus with one special token in it, to learn 40 merges."""
    text = corpus_excerpt(seed, 1500 + 100 * (seed % 5))
    cut = text.find("\n", len(text) // 2) + 1  # 0, the start, if no line ends after the middle
    return {"text": text[:cut] + END + text[cut:], "vocab_size": 256 + 40 + 1 + seed % 7}


@check(task=1, inputs=training_text, judge=_first_wrong_merge)
def merges_pick_the_most_frequent_pair(m, text, vocab_size):
    """train_bpe(1,500 characters of data/corpus.txt and one <|endoftext|>, vocab_size=297)[1]: the 40 merges, in the order learned"""
    vocab, merges = m.train_bpe(text, vocab_size)
    return merges


def tied_words(seed: int) -> dict:
    """Words sharing a stem, as in "low lower lowest": the stem's pairs tie, and the later pair is greater."""
    rng = random.Random(seed)
    if seed == 0:
        stem, endings = "low", ["", "er", "est", "ly", "ish", "ered"]
    else:
        first, second, third = sorted(rng.sample("abcdefghijklmnopqrstuvwxyz", 3))
        stem = first + rng.choice([second, third]) + rng.choice([second, third])  # pair 2 >= pair 1
        endings = ["", *("".join(rng.sample("aeiouynrst", rng.randint(1, 3))) for _ in range(5))]
    text = " ".join(stem + ending for ending in endings)
    return {"text": f"{text} {text.upper()}", "vocab_size": 256 + 12 + 1}


TIES = (" Many pairs in this text have the same count; among equal counts the greatest pair (left, right),"
        " compared as a tuple of bytes, wins: max(pair_counts, key=lambda p: (pair_counts[p], p))")


@check(task=1, inputs=tied_words, judge=partial(_first_wrong_merge, note=TIES))
def ties_go_to_the_greatest_pair(m, text, vocab_size):
    """train_bpe("low lower lowest lowly lowish lowered LOW LOWER ...", vocab_size=269)[1]: 12 merges, most of them ties"""
    vocab, merges = m.train_bpe(text, vocab_size)
    return merges


def documents(seed: int) -> dict:
    """Short sentences of the corpus joined by the special token, which outnumbers most pairs."""
    sentences = [s.strip() + "." for s in corpus_excerpt(seed, 1200).replace("\n", " ").split(".")[1:-1]]
    return {"text": END.join(sentences[:12]), "vocab_size": 256 + 30 + 1}


def _special_token_not_merged(got, expected) -> None:
    if isinstance(got, (list, tuple)):
        for k, merge in enumerate(got):
            if isinstance(merge, (list, tuple)) and all(isinstance(part, bytes) for part in merge) \
                    and b"|" in b"".join(merge):
                raise Failed(WRONG_VALUES, f"merge {k} (id {256 + k}) is {tuple(merge)!r}: you merged bytes of "
                             f"the special token {END!r}. Split the special tokens out of the text before "
                             f"pre-tokenising: they are never counted or merged.")
    _first_wrong_merge(got, expected)


@check(task=1, inputs=documents, judge=_special_token_not_merged)
def special_tokens_are_never_merged(m, text, vocab_size):
    """train_bpe("sentence.<|endoftext|>sentence.<|endoftext|>...", vocab_size=287)[1]: no merge touches <|endoftext|>"""
    vocab, merges = m.train_bpe(text, vocab_size)
    return merges


def vocab_cases(seed: int) -> dict:
    rng = random.Random(seed)
    letters = rng.sample("abcdefghijklmnopqrstuvwxyz", 3)
    short = " ".join(rng.choice(letters) * rng.randint(2, 4) for _ in range(3))
    return {"text": corpus_excerpt(seed, 400), "vocab_size": 256 + 20 + 2,
            "special_tokens": (END, "<|pad|>"), "short_text": short}


NOT_BYTES = "ids below 256 whose token is not bytes([id])"


def above_the_bytes(vocab: dict) -> dict:
    """The ids 0..255 that are not their own byte, and every id from 256 on (a fixture 10x smaller)."""
    return {NOT_BYTES: {i: vocab.get(i) for i in range(256) if vocab.get(i) != bytes([i])},
            "ids from 256 on": {i: token for i, token in vocab.items() if not 0 <= i < 256},
            "len(vocab)": len(vocab)}


def _bytes_then_merges(got, expected) -> None:
    for which in ("vocab", "vocab when pairs run out"):
        part = got.get(which) if isinstance(got, dict) else None
        wrong = part.get(NOT_BYTES) if isinstance(part, dict) else None
        if isinstance(wrong, dict) and wrong:
            shown = ", ".join(f"vocab[{i}] is {token!r}" for i, token in list(wrong.items())[:3])
            raise Failed(WRONG_VALUES, f"{which}: {shown}, not bytes([{next(iter(wrong))}]): ids 0..255 are the "
                                       f"256 single bytes (vocab[i] == bytes([i])), merges take ids from 256 on")
    compare(got, expected)


@check(task=1, inputs=vocab_cases, judge=_bytes_then_merges)
def vocab_is_bytes_then_merges_then_special_tokens(m, text, vocab_size, special_tokens, short_text):
    """train_bpe(400 characters, vocab_size=278, special_tokens=("<|endoftext|>", "<|pad|>"))[0], and train_bpe("mmm nnn yyy", 300, ())[0] that runs out of pairs"""
    vocab, merges = m.train_bpe(text, vocab_size, special_tokens=special_tokens)
    short_vocab, short_merges = m.train_bpe(short_text, 300, special_tokens=())
    return {"vocab": above_the_bytes(vocab), "vocab when pairs run out": above_the_bytes(short_vocab)}


# Task 2 ---------------------------------------------------------------------------------------

def gpt2_prefix(seed: int) -> dict:
    """Task 2's merges: GPT-2's first 344 (GPT-2's first 600 ranks)."""
    return {"rank_lines": gpt2_rank_lines(seed, 600)}


def tokenizer(m, rank_lines):
    return m.BPETokenizer(*gpt2_bpe(rank_lines), [END])


def encode_cases(seed: int) -> dict:
    return {**gpt2_prefix(seed), "strings": corpus_pieces(seed, 3) + mixed_strings(seed, 8)}


@check(task=2, inputs=encode_cases)
def encode_merges_the_lowest_rank_first(m, rank_lines, strings):
    """BPETokenizer(vocab, merges, ["<|endoftext|>"]).encode(text) with GPT-2's first 344 merges, on pieces of the corpus and mixed strings"""
    return encodings(tokenizer(m, rank_lines), strings)


REFUSED = "raised ValueError"


def special_cases(seed: int) -> dict:
    a, b, c = mixed_strings(seed, 3, pieces=4)
    return {**gpt2_prefix(seed), "text": f"{a}{END} {b} {END}{END}\n{c}"}


def _refuses_unallowed_special_tokens(got, expected) -> None:
    if isinstance(got, dict) and "allowed_special=set()" in got and got["allowed_special=set()"] != REFUSED:
        raise Failed(WRONG_VALUES, f"encode(text) on a text containing {END!r}, without allowed_special, "
                     f"returned {_short(got['allowed_special=set()'])}; it must raise ValueError naming the "
                     f"token (tiktoken does), so that text from a user cannot slip in a special token")
    compare(got, expected)


@check(task=2, inputs=special_cases, judge=_refuses_unallowed_special_tokens)
def special_tokens_encode_only_when_allowed(m, rank_lines, text):
    """encode("...<|endoftext|>...") with allowed_special="all", with {"<|endoftext|>"} (one id each, 50256), and with neither (ValueError)"""
    bpe = tokenizer(m, rank_lines)
    try:
        refused = bpe.encode(text)
    except ValueError:
        refused = REFUSED
    return {'allowed_special="all"': bpe.encode(text, allowed_special="all"),
            "allowed_special={'<|endoftext|>'}": bpe.encode(text, allowed_special={END}),
            "allowed_special=set()": refused}


def decode_cases(seed: int) -> dict:
    given = gpt2_prefix(seed)
    ids_of = {token: i for i, token in gpt2_bpe(given["rank_lines"])[0].items()}
    text = " ".join(["naïve café 日本語 😀", *mixed_strings(seed, 2, pieces=4)])
    one_byte_each = [ids_of[bytes([b])] for b in text.encode("utf-8")]
    half_a_character = [ids_of[b"a"], ids_of["é".encode("utf-8")[:1]], ids_of[b"b"]]
    return {**given, "id_lists": [one_byte_each, half_a_character]}


def _decodes_whole_characters(got, expected) -> None:
    if isinstance(got, list):
        for mine, theirs in zip(got, expected):
            if isinstance(mine, str) and mine.count("\ufffd") > theirs.count("\ufffd"):
                raise Failed(WRONG_VALUES, f"decode gave {_short(mine)}, expected {_short(theirs)}: more '\\ufffd' "
                             f"(unreadable) than expected, where a character's UTF-8 bytes are spread over "
                             f"several tokens (é is b'\\xc3' + b'\\xa9')")
    compare(got, expected)


@check(task=2, inputs=decode_cases, judge=_decodes_whole_characters)
def decode_joins_the_bytes_before_utf8(m, rank_lines, id_lists):
    """decode(ids) where every id is one byte of "naïve café 日本語 😀 ...", and decode of a character cut in half ('\ufffd')"""
    bpe = tokenizer(m, rank_lines)
    return [bpe.decode(ids) for ids in id_lists]


def round_trip_cases(seed: int) -> dict:
    strings = [corpus_excerpt(seed, 300), f"naïve café 日本語 😀{END}x", *mixed_strings(seed + 1, 6)]
    return {**gpt2_prefix(seed), "strings": strings}


def _gives_the_text_back(got, expected) -> None:
    got, expected = text_back_through_ids(got, "encode"), expected[1]  # (ids, texts back)
    if isinstance(got, list):
        for mine, text in zip(got, expected):
            if mine != text:
                raise Failed(WRONG_VALUES, f"decode(encode(text)) gave back {_short(mine, 100)}\n"
                                           f"instead of the text                 {_short(text, 100)}")
    compare(got, expected)


@check(task=2, inputs=round_trip_cases, judge=_gives_the_text_back)
def decode_of_encode_gives_the_text_back(m, rank_lines, strings):
    """decode(encode(text, allowed_special="all")) == text, on corpus text and mixed strings"""
    bpe = tokenizer(m, rank_lines)
    ids = [bpe.encode(text, allowed_special="all") for text in strings]
    return ids, [bpe.decode(one) for one in ids]


# Task 3 ---------------------------------------------------------------------------------------

def from_gpt2(m, rank_lines):
    """The learner's from_gpt2 on a file holding `rank_lines`."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "gpt2-prefix.tiktoken"
        path.write_text(rank_lines)
        return m.BPETokenizer.from_gpt2(path)


@check(task=3, inputs=lambda seed: {"rank_lines": gpt2_rank_lines(seed, 500)})
def from_gpt2_rebuilds_the_merges(m, rank_lines):
    """BPETokenizer.from_gpt2(path of a file holding the first 500 lines of data/gpt2.tiktoken): len(vocab), merges, vocab[50256]"""
    bpe = from_gpt2(m, rank_lines)
    return {"len(vocab)": len(bpe.vocab), "merges": bpe.merges, "vocab[50256]": bpe.vocab[END_ID]}


def tiktoken_cases(seed: int) -> dict:
    strings = [*corpus_pieces(seed, 3), *mixed_strings(seed, 8), f"{END}Hello, world!{END}\n\n{END}"]
    return {"rank_lines": gpt2_rank_lines(seed, 800), "strings": strings}


@check(task=3, inputs=tiktoken_cases)
def from_gpt2_encodes_like_tiktoken(m, rank_lines, strings):
    """from_gpt2(the first 800 lines of data/gpt2.tiktoken).encode(text, allowed_special="all"): tiktoken's ids with the same ranks"""
    return encodings(from_gpt2(m, rank_lines), strings, allowed_special="all")
