"""Special context tokens and GPT-2's BPE (book sections 2.4-2.5).

A word-level tokenizer that survives unknown words (<|unk|>), documents joined with an
<|endoftext|> separator, and GPT-2's byte pair encoding through tiktoken, which needs neither:
it can spell any word out of smaller subword pieces.
"""

import re

import tiktoken

from .tokenizer import split_text


class SimpleTokenizerV2:
    def __init__(self, vocab):
        assert "<|unk|>" in vocab, "the vocabulary has no <|unk|> token for unknown words"
        self.str_to_int = vocab
        self.int_to_str = {token_id: token for token, token_id in vocab.items()}

    def encode(self, text: str) -> list[int]:
        tokens = [token if token in self.str_to_int else "<|unk|>" for token in split_text(text)]
        return [self.str_to_int[token] for token in tokens]

    def decode(self, ids) -> str:
        text = " ".join(self.int_to_str[i] for i in ids)
        # V1's rule, now with ':' and ';' too.
        return re.sub(r'\s+([,.:;?!"()\'])', r"\1", text)


def join_documents(texts) -> str:
    # Spaces around the marker keep it a token of its own for split_text and for BPE.
    return " <|endoftext|> ".join(texts)


def gpt2_encode(text: str) -> list[int]:
    tokenizer = tiktoken.get_encoding("gpt2")
    # tiktoken refuses special tokens in text unless told: a user could otherwise inject them.
    return tokenizer.encode(text, allowed_special={"<|endoftext|>"})


def subword_pieces(word: str) -> list[str]:
    tokenizer = tiktoken.get_encoding("gpt2")
    # Decoding one id at a time shows each piece; a piece may start with the space before it.
    return [tokenizer.decode([token_id]) for token_id in gpt2_encode(word)]
