"""Checks for topic 2, special context tokens and GPT-2's BPE (book sections 2.4-2.5).

Every text comes from the suite's corpus (data/corpus.txt), read when the inputs are made and
stored with them: a probe never reads a file. Vocabularies are given as inputs, with shuffled
ids, so that <|unk|> has to be looked up, not assumed to be the last id. SimpleTokenizerV2
splits with the learner's own split_text (tokenizer task 1), as in the book.
"""

import random
import re
import traceback
from pathlib import Path

from grader.engine.checks import Failed, check, compare, text_back_through_ids
from grader.engine.text_cases import consecutive, paragraphs, shuffled_vocab

END_OF_TEXT, UNKNOWN = "<|endoftext|>", "<|unk|>"


# Inputs: excerpts of the corpus --------------------------------------------------------------

def sentences(marks: str, needing: str = "") -> list[str]:
    """Corpus sentences of words, digits, spaces and the given marks only (one of `needing` in each)."""
    found = (s.strip() for p in paragraphs() for s in re.findall(r"[^.?!]*[.?!]", p))
    return [s for s in found if re.fullmatch(rf"[A-Za-z0-9 {marks}]+", s)
            and (not needing or re.search(f"[{needing}]", s))]


def plain_tokens(text: str) -> list[str]:
    """The tokens of a sentence of words and , . : ; ? ! marks."""
    return re.findall(r"[,.:;?!]|[^\s,.:;?!]+", text)


def encode_inputs(seed: int) -> dict:
    # The vocabulary of four paragraphs; the text, two sentences, the second with words the
    # vocabulary never saw.
    known = re.findall(r"--|\w+|[^\w\s]", " ".join(consecutive(seed, paragraphs(), 4, first=0)))
    found = sentences(",.?!")
    news = [s for s in found if set(plain_tokens(s)) - set(known)]
    chosen = [found[0], found[1]] if seed == 0 else random.Random(seed).sample(found, 1) + [random.Random(seed).choice(news)]
    return {"vocab": shuffled_vocab(seed, {*known, END_OF_TEXT, UNKNOWN}), "text": f" {END_OF_TEXT} ".join(chosen)}


def decode_inputs(seed: int) -> dict:
    rng = random.Random(seed)
    first = consecutive(seed, sentences(",.:;?!", needing=":;"), 1, first=7)[0]  # '... the kettle boiled: ...'
    second = consecutive(seed + 1, sentences(",.?!"), 1, first=1)[0]  # 'She tapped the side ...'
    tokens = plain_tokens(first) + [END_OF_TEXT] + plain_tokens(second)
    words = [i for i, token in enumerate(tokens) if token.isalpha()]
    for i in rng.sample(words, 2):
        tokens[i] = UNKNOWN
    vocab = shuffled_vocab(seed, {*tokens, END_OF_TEXT, UNKNOWN})
    return {"vocab": vocab, "ids": [vocab[t] for t in tokens]}


def round_trip_inputs(seed: int) -> dict:
    found = sentences(",.:;?!", needing=":;")
    chosen = [0, 8] if seed == 0 else sorted(random.Random(seed).sample(range(len(found)), 2))
    text = f" {END_OF_TEXT} ".join(found[i] for i in chosen)
    return {"vocab": shuffled_vocab(seed, {*plain_tokens(text), END_OF_TEXT, UNKNOWN}), "text": text}


def documents_inputs(seed: int) -> dict:
    short = [p for p in paragraphs() if len(p) < 60]
    return {"texts": consecutive(seed, short, 3, first=0)}


def gpt2_inputs(seed: int) -> dict:
    short = [p for p in paragraphs() if len(p) < 150]
    return {"text": f" {END_OF_TEXT} ".join(consecutive(seed, short, 2, first=9))}


def words_inputs(seed: int) -> dict:
    # Seed 0: the book's made-up 'Akwirw ier' and two rare words of the corpus; hidden seeds make
    # up their own words, each with a space inside, so that one piece starts with a space.
    if seed == 0:
        return {"words": ["Akwirw ier", "quinquereme", "Susurrus"]}
    rng = random.Random(seed)
    made_up = ["".join(rng.choice("aeiouklmnrstwzq") for _ in range(rng.randint(4, 7)))
               + " " + "".join(rng.choice("aeiourx") for _ in range(3)) for _ in range(2)]
    rare = sorted({w for w in re.findall(r"[A-Za-z]+", " ".join(paragraphs())) if len(w) >= 9})
    return {"words": [made_up[0].capitalize(), rng.choice(rare), made_up[1]]}


# Judges ---------------------------------------------------------------------------------------

def _gives_the_text_back(got, expected):
    # (ids, decode(ids)): the reference round trips these texts exactly, so expected[1] is the text.
    try:
        compare(text_back_through_ids(got, "encode"), expected[1], name="decode(encode(text))")
    except Failed as failed:
        raise Failed(failed.reason, failed.message + "\nDecoding the ids of a text must give that "
                     "text back: here every token is in the vocabulary and the text has the "
                     "tokenizer's own spacing, ': ' and '; ' included.") from None


def _pieces_spell_the_word(got, expected):
    for word in expected:
        pieces = got.get(word) if isinstance(got, dict) else None
        if isinstance(pieces, list) and all(isinstance(p, str) for p in pieces) and "".join(pieces) != word:
            raise Failed("wrong_values", f"the pieces {pieces!r} of {word!r} join to {''.join(pieces)!r}, "
                         f"not to the word: BPE spells every word exactly, spaces included, so its "
                         f"pieces must join back into it. The reference's pieces: {expected[word]!r}")
    compare(got, expected)


# Task 1 ---------------------------------------------------------------------------------------

@check(task=1, inputs=encode_inputs)
def unknown_words_become_unk(m, vocab, text):
    """SimpleTokenizerV2(vocab).encode(text), two sentences joined by <|endoftext|>, some of their words not in vocab"""
    return m.SimpleTokenizerV2(vocab).encode(text)


# Task 2 ---------------------------------------------------------------------------------------

@check(task=2, inputs=decode_inputs)
def decode_removes_spaces_before_colon_and_semicolon(m, vocab, ids):
    """SimpleTokenizerV2(vocab).decode(ids) for a sentence with ':', <|endoftext|>, another sentence, two <|unk|>"""
    return m.SimpleTokenizerV2(vocab).decode(ids)


@check(task=2, inputs=round_trip_inputs, judge=_gives_the_text_back)
def decode_of_encode_gives_the_text_back(m, vocab, text):
    """SimpleTokenizerV2(vocab).decode(tokenizer.encode(text)) for two sentences with ':' and ';' joined by <|endoftext|>"""
    tokenizer = m.SimpleTokenizerV2(vocab)
    ids = tokenizer.encode(text)
    return ids, tokenizer.decode(ids)


# Task 3 ---------------------------------------------------------------------------------------

@check(task=3, inputs=documents_inputs)
def endoftext_between_documents_with_spaces(m, texts):
    """join_documents(texts) for three short paragraphs, then join_documents(texts[:1])"""
    return m.join_documents(texts), m.join_documents(texts[:1])


# Task 4 ---------------------------------------------------------------------------------------

def offline_encoding(call):
    """call(), with a download tiktoken cannot make offline told as what it is: another encoding
    than GPT-2's (cl100k_base, from tiktoken's README) surfaces as a network error otherwise."""
    try:
        return call()
    except Exception as err:
        # Only a download: tiktoken fetches encoding files in tiktoken/load.py. An error of encode's
        # own (allowed_special as a str, not a set) is the learner's to read as it is.
        if not any(Path(frame.filename).parts[-2:] == ("tiktoken", "load.py")
                   for frame in traceback.extract_tb(err.__traceback__)):
            raise
        name = re.search(r"/(\w+)\.tiktoken", str(err))
        raise LookupError(f"tiktoken tried to download the encoding {name.group(1) if name else 'you asked for'} "
                          f"and could not ({type(err).__name__}): this kata runs offline, and only GPT-2's "
                          f"encoding ships with it, tiktoken.get_encoding(\"gpt2\"), the one the book uses") from None


@check(task=4, inputs=gpt2_inputs)
def endoftext_is_the_single_id_50256(m, text):
    """gpt2_encode(text) for two paragraphs joined by <|endoftext|>, a space on each side"""
    return offline_encoding(lambda: m.gpt2_encode(text))


# Task 5 ---------------------------------------------------------------------------------------

@check(task=5, inputs=words_inputs, judge=_pieces_spell_the_word)
def pieces_join_back_into_the_word(m, words):
    """subword_pieces(word) for three rare or made-up words, one with a space inside"""
    return {word: m.subword_pieces(word) for word in words}
