"""Tokenizing text (book sections 2.2-2.3).

An LLM never sees characters: it sees integers. Here you build the simplest bridge between the
two, a word-level tokenizer. You split text into words and punctuation, give every distinct token
an id in a vocabulary, and write SimpleTokenizerV1 to turn text into ids and ids back into text.
Last, a character-level tokenizer shows the other extreme: a tiny vocabulary, long sequences.

Check your work: kata check tokenizer   (or make check TOPIC=tokenizer)
"""

import re


def split_text(text: str) -> list[str]:
    r"""Task 1. Split `text` into words and punctuation tokens, as the book does.

    Split with a regular expression on each of the characters , . : ; ? _ ! " ( ) ' and on the
    double dash --, and on whitespace, keeping the separators as tokens (a capture group does
    that). Then strip each item and drop the empty ones: whitespace is never a token.

    Returns a list of strings, in the order they appear in `text`.

    >>> split_text('"It\'s late," she said--quietly.\n\nWhy?')
    ['"', 'It', "'", 's', 'late', ',', '"', 'she', 'said', '--', 'quietly', '.', 'Why', '?']
    """
    raise NotImplementedError("tokenizer task 1: split_text")


def build_vocab(tokens, special_tokens=()) -> dict[str, int]:
    """Task 2. Map every distinct token to an integer id.

    The ids go to the sorted unique tokens first (Python's string order, so "The" < "cat" <
    "the"), 0, 1, 2, ...; then the `special_tokens` get the next ids, in the order given.
    Special tokens are expected not to occur in `tokens`.

    Returns a dict {token: id} with ids 0 .. len - 1.

    >>> build_vocab(['the', 'cat', 'sat', 'The', 'cat'], ['<|unk|>'])
    {'The': 0, 'cat': 1, 'sat': 2, 'the': 3, '<|unk|>': 4}
    """
    raise NotImplementedError("tokenizer task 2: build_vocab")


class SimpleTokenizerV1:
    def __init__(self, vocab):
        """Task 3. Keep the vocabulary both ways round.

        Attributes to create:
          str_to_int: the dict `vocab` itself, token -> id
          int_to_str: the inverse dict, id -> token

        >>> tokenizer = SimpleTokenizerV1({'!': 0, '.': 1, 'The': 2, 'cat': 3, 'ran': 4, 'sat': 5})
        >>> tokenizer.int_to_str[3]
        'cat'
        """
        raise NotImplementedError("tokenizer task 3: SimpleTokenizerV1.__init__")

    def encode(self, text: str) -> list[int]:
        """Task 3. Text to token ids: split `text` with split_text, then look each token up.

        A token that is not in the vocabulary raises KeyError with a friendly sentence that
        names it, e.g. KeyError: "'dog' is not among the 6 tokens of the vocabulary".

        Returns a list of ints, one per token of split_text(text).

        >>> vocab = build_vocab(split_text('The cat sat. The cat ran!'))
        >>> vocab
        {'!': 0, '.': 1, 'The': 2, 'cat': 3, 'ran': 4, 'sat': 5}
        >>> SimpleTokenizerV1(vocab).encode('The cat ran.')
        [2, 3, 4, 1]
        """
        raise NotImplementedError("tokenizer task 3: SimpleTokenizerV1.encode")

    def decode(self, ids) -> str:
        r"""Task 4. Token ids back to text.

        Look each id up, join the tokens with single spaces, then remove the whitespace before
        each of , . ? ! " ( ) ' (a regular expression substitution does it in one go). The
        original spacing is lost, so the text comes back normalised, not identical.

        >>> tokenizer = SimpleTokenizerV1(build_vocab(split_text('"I can\'t," she said.')))
        >>> tokenizer.encode('"I can\'t," she said.')
        [0, 4, 5, 1, 8, 2, 0, 7, 6, 3]
        >>> tokenizer.decode([0, 4, 5, 1, 8, 2, 0, 7, 6, 3])
        '" I can\' t," she said.'
        """
        raise NotImplementedError("tokenizer task 4: SimpleTokenizerV1.decode")


class CharTokenizer:
    def __init__(self, text: str):
        """Task 5. A character-level vocabulary built from `text`.

        Attributes to create:
          str_to_int: dict character -> id, for the sorted unique characters of `text`
                      (spaces and newlines included), ids 0, 1, 2, ...
          int_to_str: the inverse dict, id -> character

        >>> CharTokenizer('hello world').str_to_int
        {' ': 0, 'd': 1, 'e': 2, 'h': 3, 'l': 4, 'o': 5, 'r': 6, 'w': 7}
        """
        raise NotImplementedError("tokenizer task 5: CharTokenizer.__init__")

    def encode(self, text: str) -> list[int]:
        """Task 5. One id per character of `text` (len(result) == len(text)).

        A character outside the alphabet raises KeyError naming it.

        >>> CharTokenizer('hello world').encode('held')
        [3, 2, 4, 1]
        """
        raise NotImplementedError("tokenizer task 5: CharTokenizer.encode")

    def decode(self, ids) -> str:
        """Task 5. The characters of `ids`, concatenated: decode(encode(text)) == text exactly.

        >>> CharTokenizer('hello world').decode([3, 4, 5, 2, 6])
        'hloer'
        """
        raise NotImplementedError("tokenizer task 5: CharTokenizer.decode")
