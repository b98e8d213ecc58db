"""Checks for topic 1, tokenizing text (book sections 2.2-2.3).

Every text comes from the suite's corpus (data/corpus.txt), read when the inputs are made and
stored with them: a probe never reads a file. Vocabularies are given to the tokenizers as
inputs, with shuffled ids, so tasks 3-5 do not depend on the learner's split_text or build_vocab
for anything but what the book's SimpleTokenizerV1 itself calls.
"""

import random
import re

from grader.engine.checks import WRONG_VALUES, Failed, check, compare, text_back_through_ids
from grader.engine.text_cases import consecutive, paragraphs, shuffled_vocab

SPECIALS = ["<|endoftext|>", "<|unk|>"]
UNKNOWN_WORDS = ["dog", "zebra", "lantern", "violin", "comet", "walrus", "banjo", "teapot"]


# Inputs: excerpts of the corpus --------------------------------------------------------------

def plain_sentences() -> list[str]:
    """Corpus sentences of words, digits and , . ? ! only: decode gives exactly these back."""
    found = (s.strip() for p in paragraphs() for s in re.findall(r"[^.?!]*[.?!]", p))
    return [s for s in found if re.fullmatch(r"[A-Za-z0-9 ,.?!]+", s)]


def plain_tokens(text: str) -> list[str]:
    """The tokens of a plain sentence: its words and its , . ? ! marks."""
    return re.findall(r"[,.?!]|[^\s,.?!]+", text)


def some_tokens(text: str) -> list[str]:
    """Words, double dashes and single marks: tokens for a vocabulary or for decode's input."""
    return re.findall(r"--|\w+|[^\w\s]", text)


def split_inputs(seed: int) -> dict:
    # Seed 0: the double dash and an apostrophe, ( ) : ;, and _ around a title. Hidden seeds
    # take three other paragraphs, one of them with a double dash.
    found, rng = paragraphs(), random.Random(seed)
    dashed = rng.choice([i for i, p in enumerate(found) if "--" in p])
    others = rng.sample([i for i in range(len(found)) if i != dashed], 2)
    chosen = [0, 4, 19] if seed == 0 else sorted([dashed, *others])
    # The corpus has few questions and exclamations in these paragraphs: one line with both.
    return {"text": "\n\n".join(found[i] for i in chosen) + "\n\nWho told you so? Nobody did!"}


def vocab_inputs(seed: int, special_tokens=()) -> dict:
    text = " ".join(consecutive(seed, paragraphs(), 2, first=1))  # '"Not boats," she told me ...'
    return {"tokens": some_tokens(text), "special_tokens": list(special_tokens)}


def encode_inputs(seed: int) -> dict:
    sentences = consecutive(seed, plain_sentences(), 5, first=8)
    vocab = shuffled_vocab(seed, plain_tokens(" ".join(sentences)))
    return {"vocab": vocab, "text": " ".join(sentences[1:4])}


def unknown_word_inputs(seed: int) -> dict:
    sentence = consecutive(seed, plain_sentences(), 1, first=12)[0]  # 'Then he pointed, ...'
    words = sentence.split()
    rng = random.Random(seed)
    word = rng.choice(UNKNOWN_WORDS)
    at = len(words) - 1 if seed == 0 else rng.randrange(len(words))  # seed 0: the last word
    words[at] = word + words[at][-1] if words[at][-1] in ",.?!" else word
    return {"vocab": shuffled_vocab(seed, plain_tokens(sentence)), "text": " ".join(words), "word": word}


def decode_inputs(seed: int) -> dict:
    tokens = some_tokens(" ".join(consecutive(seed, paragraphs(), 2, first=2)))  # quotes, ' and ;
    vocab = shuffled_vocab(seed, tokens)
    return {"vocab": vocab, "ids": [vocab[t] for t in tokens]}


def round_trip_inputs(seed: int) -> dict:
    text = " ".join(consecutive(seed, plain_sentences(), 3, first=4))
    return {"vocab": shuffled_vocab(seed, plain_tokens(text)), "text": text}


def char_inputs(seed: int) -> dict:
    text = "\n\n".join(consecutive(seed, paragraphs(), 2, first=5))  # '"How did you get it in?" ...'
    start = random.Random(seed).randrange(len(text) // 2)
    return {"text": text, "part": text[start:start + 24]}


# Judges ---------------------------------------------------------------------------------------

def _gives_the_text_back(got, expected):
    # (ids, decode(ids)): the reference round trips these texts exactly, so expected[1] is the text.
    try:
        compare(text_back_through_ids(got, "encode"), expected[1], name="decode(encode(text))")
    except Failed as failed:
        raise Failed(failed.reason, failed.message + "\nDecoding the ids of a text must give that "
                     "text back: here every token is in the vocabulary and the spacing is the "
                     "tokenizer's own, so nothing may be lost or added.") from None


def _raises_key_error_naming_the_word(got, expected):
    word = expected["word"]
    if got.get("raised") is None:
        raise Failed("wrong_values", f"encode returned {got.get('ids')!r:.120} for a text with the "
                     f"word {word!r}, which is not in the vocabulary. It must raise KeyError instead "
                     f"of inventing an id (SimpleTokenizerV2 is the one that maps it to <|unk|>).")
    if word not in str(got.get("message")):
        raise Failed("wrong_values", f"encode raised KeyError: {str(got.get('message'))[:120]}, which does "
                     f"not name the unknown word {word!r}: look the tokens up one by one and raise "
                     f"KeyError with the missing token in the message.")


# Task 1 ---------------------------------------------------------------------------------------

@check(task=1, inputs=split_inputs)
def words_and_punctuation_are_separate_tokens(m, text):
    """split_text(text) on three paragraphs of the corpus (quotes, --, ( ) : ; _ and newlines) and a line with ? and !"""
    return m.split_text(text)


# Task 2 ---------------------------------------------------------------------------------------

@check(task=2, inputs=vocab_inputs)
def vocab_ids_follow_sorted_order(m, tokens, special_tokens):
    """build_vocab(tokens) for the tokens of two paragraphs, repeats included"""
    return {"vocab": m.build_vocab(tokens)}


@check(task=2, inputs=lambda seed: vocab_inputs(seed, SPECIALS))
def special_tokens_take_the_last_ids(m, tokens, special_tokens):
    """build_vocab(tokens, ["<|endoftext|>", "<|unk|>"])"""
    return {"vocab": m.build_vocab(tokens, special_tokens)}


# Task 3 ---------------------------------------------------------------------------------------

@check(task=3, inputs=encode_inputs)
def vocab_kept_both_ways_round(m, vocab, text):
    """SimpleTokenizerV1(vocab).str_to_int and .int_to_str"""
    tokenizer = m.SimpleTokenizerV1(vocab)
    return {"str_to_int": tokenizer.str_to_int, "int_to_str": tokenizer.int_to_str}


@check(task=3, inputs=encode_inputs)
def encode_looks_each_token_up_in_the_vocab(m, vocab, text):
    """SimpleTokenizerV1(vocab).encode(text) for three sentences of the corpus (vocab ids shuffled)"""
    return m.SimpleTokenizerV1(vocab).encode(text)


@check(task=3, inputs=unknown_word_inputs, judge=_raises_key_error_naming_the_word)
def unknown_word_raises_key_error_naming_it(m, vocab, text, word):
    """SimpleTokenizerV1(vocab).encode(text) where one word of text is not in vocab"""
    try:
        ids = m.SimpleTokenizerV1(vocab).encode(text)
    except KeyError as err:
        return {"word": word, "raised": "KeyError", "message": str(err)}
    return {"word": word, "raised": None, "ids": ids}


# Task 4 ---------------------------------------------------------------------------------------

@check(task=4, inputs=decode_inputs)
def decode_removes_spaces_before_punctuation(m, vocab, ids):
    """SimpleTokenizerV1(vocab).decode(ids) for two paragraphs with quotes, ' and ;"""
    return m.SimpleTokenizerV1(vocab).decode(ids)


@check(task=4, inputs=round_trip_inputs, judge=_gives_the_text_back)
def decode_of_encode_gives_the_text_back(m, vocab, text):
    """SimpleTokenizerV1(vocab).decode(tokenizer.encode(text)) for three sentences of words and , . ? !"""
    tokenizer = m.SimpleTokenizerV1(vocab)
    ids = tokenizer.encode(text)
    return ids, tokenizer.decode(ids)


# Task 5 ---------------------------------------------------------------------------------------

def _numbered_in_sorted_order(got, expected):
    """Names the slip no stored output can: the right characters and ids in another order. An
    unsorted set's order follows Python's string hashing, which changes from run to run."""
    mine, want = (got.get("str_to_int"), expected.get("str_to_int")) if isinstance(got, dict) else (None, None)
    if (isinstance(mine, dict) and isinstance(want, dict) and mine != want and set(mine) == set(want)
            and sorted(mine.values(), key=repr) == sorted(want.values(), key=repr)):
        wrong = next(c for c in sorted(want, key=want.get) if mine[c] != want[c])
        raise Failed(WRONG_VALUES, f"your ids are a permutation of the reference's: the same characters and the same "
                                   f"ids 0 to {len(want) - 1}, in another order ({wrong!r} gets {mine[wrong]} where "
                                   f"sorted order gives it {want[wrong]}). Sort the characters before numbering "
                                   f"them, sorted(set(text)). A set's own "
                                   f"order follows Python's string hashing, which changes from one run to the next.")
    compare(got, expected)


@check(task=5, inputs=char_inputs, judge=_numbered_in_sorted_order)
def char_vocab_is_the_sorted_characters(m, text, part):
    """CharTokenizer(text).str_to_int and .int_to_str for two paragraphs, newlines included"""
    tokenizer = m.CharTokenizer(text)
    return {"str_to_int": tokenizer.str_to_int, "int_to_str": tokenizer.int_to_str}


@check(task=5, inputs=char_inputs)
def char_encode_gives_one_id_per_character(m, text, part):
    """CharTokenizer(text).encode(part) for 24 characters of text"""
    return m.CharTokenizer(text).encode(part)


@check(task=5, inputs=char_inputs, judge=_gives_the_text_back)
def char_decode_of_encode_gives_the_text_back(m, text, part):
    """CharTokenizer(text).decode(tokenizer.encode(text)), spaces and newlines included"""
    tokenizer = m.CharTokenizer(text)
    ids = tokenizer.encode(text)
    return ids, tokenizer.decode(ids)
