"""Tokenizing text (book sections 2.2-2.3).

A word-level tokenizer: split text into words and punctuation, give every distinct token an id,
and map text to ids and back. A character-level tokenizer stands beside it for contrast.
"""

import re


def split_text(text: str) -> list[str]:
    # The capture group keeps the punctuation as tokens of its own; whitespace is captured too,
    # then dropped, because the decoder puts single spaces back.
    parts = re.split(r'([,.:;?_!"()\']|--|\s)', text)
    return [part.strip() for part in parts if part.strip()]


def build_vocab(tokens, special_tokens=()) -> dict[str, int]:
    # Sorted, so the same text always gives the same ids; special tokens take the last ids.
    all_tokens = sorted(set(tokens)) + list(special_tokens)
    return {token: token_id for token_id, token in enumerate(all_tokens)}


class SimpleTokenizerV1:
    def __init__(self, vocab):
        self.str_to_int = vocab
        self.int_to_str = {token_id: token for token, token_id in vocab.items()}

    def encode(self, text: str) -> list[int]:
        ids = []
        for token in split_text(text):
            if token not in self.str_to_int:
                raise KeyError(f"{token!r} is not among the {len(self.str_to_int)} tokens of the "
                               "vocabulary (SimpleTokenizerV2 maps unknown words to <|unk|>)")
            ids.append(self.str_to_int[token])
        return ids

    def decode(self, ids) -> str:
        text = " ".join(self.int_to_str[i] for i in ids)
        # split_text lost the spacing; punctuation usually hugs the word before it.
        return re.sub(r'\s+([,.?!"()\'])', r"\1", text)


class CharTokenizer:
    def __init__(self, text: str):
        chars = sorted(set(text))
        self.str_to_int = {char: char_id for char_id, char in enumerate(chars)}
        self.int_to_str = {char_id: char for char, char_id in self.str_to_int.items()}

    def encode(self, text: str) -> list[int]:
        # A handful of ids covers any text in the alphabet, but sequences get ~4x longer than words.
        for char in text:
            if char not in self.str_to_int:
                raise KeyError(f"{char!r} is not in the alphabet of {len(self.str_to_int)} "
                               "characters this CharTokenizer was built from")
        return [self.str_to_int[char] for char in text]

    def decode(self, ids) -> str:
        # Every character, spaces included, is a token: decoding is exact, no spacing rules.
        return "".join(self.int_to_str[i] for i in ids)
