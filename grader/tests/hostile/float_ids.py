"""Returns every token id as a float (3.0 for 3): ids that compare equal to the reference's
(3.0 == 3 in Python) without being ids, hoping a check compares with == or a tolerance and
counts them. Otherwise the reference for special_tokens."""
import re

import tiktoken

from .tokenizer import split_text


class SimpleTokenizerV2:
    def __init__(self, vocab):
        self.str_to_int = vocab
        self.int_to_str = {token_id: token for token, token_id in vocab.items()}

    def encode(self, text: str) -> list[int]:
        tokens = [token if token in self.str_to_int else "<|unk|>" for token in split_text(text)]
        return [float(self.str_to_int[token]) for token in tokens]

    def decode(self, ids) -> str:
        text = " ".join(self.int_to_str[i] for i in ids)
        return re.sub(r'\s+([,.:;?!"()\'])', r"\1", text)


def join_documents(texts) -> str:
    return " <|endoftext|> ".join(texts)


def gpt2_encode(text: str) -> list[int]:
    return [float(i) for i in tiktoken.get_encoding("gpt2").encode(text, allowed_special={"<|endoftext|>"})]


def subword_pieces(word: str) -> list[str]:
    tokenizer = tiktoken.get_encoding("gpt2")
    return [tokenizer.decode([int(i)]) for i in gpt2_encode(word)]
