"""Special context tokens and GPT-2's BPE (book sections 2.4-2.5).

SimpleTokenizerV1 crashes on the first word it has never seen. You fix that with a special
<|unk|> token, and you mark where one document ends and the next begins with <|endoftext|>.
Then you meet the tokenizer GPT-2 really uses, byte pair encoding (through tiktoken): it needs
no <|unk|> at all, because it spells an unknown word out of smaller subword pieces.

Check your work: kata check special_tokens   (or make check TOPIC=special_tokens)
"""

import re

import tiktoken

from .tokenizer import split_text


class SimpleTokenizerV2:
    def __init__(self, vocab):
        """Task 1. Keep the vocabulary both ways round, as in SimpleTokenizerV1.

        `vocab` must contain the special token "<|unk|>" (build it with
        build_vocab(tokens, ["<|endoftext|>", "<|unk|>"])).

        Attributes to create:
          str_to_int: the dict `vocab` itself, token -> id
          int_to_str: the inverse dict, id -> token
        """
        raise NotImplementedError("special_tokens task 1: SimpleTokenizerV2.__init__")

    def encode(self, text: str) -> list[int]:
        """Task 1. Text to token ids; a token not in the vocabulary becomes "<|unk|>".

        Split `text` with split_text, replace every token the vocabulary does not know by
        "<|unk|>", then look each token up. Never raises on an unknown word.

        Returns a list of ints, one per token of split_text(text).

        >>> from .tokenizer import build_vocab
        >>> specials = ['<|endoftext|>', '<|unk|>']
        >>> vocab = build_vocab(split_text('The cat sat. The cat ran!'), specials)
        >>> vocab
        {'!': 0, '.': 1, 'The': 2, 'cat': 3, 'ran': 4, 'sat': 5, '<|endoftext|>': 6, '<|unk|>': 7}
        >>> SimpleTokenizerV2(vocab).encode('The dog sat!')
        [2, 7, 5, 0]
        """
        raise NotImplementedError("special_tokens task 1: SimpleTokenizerV2.encode")

    def decode(self, ids) -> str:
        """Task 2. Token ids back to text.

        As SimpleTokenizerV1.decode: join the tokens with single spaces, then remove the
        whitespace before punctuation; now before each of , . : ; ? ! " ( ) ' (colon and
        semicolon added).

        >>> from .tokenizer import build_vocab
        >>> specials = ['<|endoftext|>', '<|unk|>']
        >>> vocab = build_vocab(split_text('Note: it rained; we ran.'), specials)
        >>> SimpleTokenizerV2(vocab).encode('Note: it rained; we ran.')
        [3, 1, 4, 5, 2, 7, 6, 0]
        >>> SimpleTokenizerV2(vocab).decode([3, 1, 4, 5, 2, 7, 6, 0])
        'Note: it rained; we ran.'
        """
        raise NotImplementedError("special_tokens task 2: SimpleTokenizerV2.decode")


def join_documents(texts) -> str:
    """Task 3. Join independent documents into one training text.

    Put " <|endoftext|> " (the marker with one space on each side) between consecutive texts,
    so the model can learn where one document stops and the next starts.

    >>> join_documents(['One.', 'Two.', 'Three.'])
    'One. <|endoftext|> Two. <|endoftext|> Three.'
    """
    raise NotImplementedError("special_tokens task 3: join_documents")


def gpt2_encode(text: str) -> list[int]:
    """Task 4. Encode `text` with GPT-2's byte pair encoding.

    Use tiktoken.get_encoding("gpt2") (call it inside the function) and allow the special
    token "<|endoftext|>", which must come out as the single id 50256 (tiktoken refuses it by
    default). GPT-2's vocabulary has 50257 ids: 0 .. 50256.

    >>> gpt2_encode('Hello, world. <|endoftext|> The end')
    [15496, 11, 995, 13, 220, 50256, 383, 886]
    """
    raise NotImplementedError("special_tokens task 4: gpt2_encode")


def subword_pieces(word: str) -> list[str]:
    """Task 5. How GPT-2's BPE spells `word`: the text of each of its tokens, in order.

    Encode `word` with GPT-2's BPE, then decode each token id on its own. The pieces joined
    give `word` back. A piece can start with a space: GPT-2 keeps the space with the word after
    it (" hello" is one token).

    >>> subword_pieces('Akwirw ier')
    ['Ak', 'w', 'ir', 'w', ' ', 'ier']
    >>> subword_pieces('quinquereme')
    ['qu', 'inqu', 'ere', 'me']
    """
    raise NotImplementedError("special_tokens task 5: subword_pieces")
