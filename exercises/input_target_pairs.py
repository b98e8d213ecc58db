"""Input-target pairs with a sliding window (book section 2.6).

An LLM is trained to predict the next token, so a text of token ids is its own label: every
window of ids is an input, and the same window moved one token to the right is the target. You
first list the next-token examples hidden in one short window, then build GPTDatasetV1, a torch
Dataset that slides that window over a whole text, and create_dataloader_v1, which batches it.

Check your work: kata check input_target_pairs   (or make check TOPIC=input_target_pairs)
"""

import tiktoken
import torch
from torch.utils.data import DataLoader, Dataset


def next_token_pairs(token_ids, context_size) -> list[tuple[list[int], int]]:
    """Task 1. The next-token prediction examples in the first context_size + 1 ids.

    For i = 1, 2, ..., context_size: the context token_ids[:i] (a list of i ids) and the
    desired next id token_ids[i]. `token_ids` must hold more than context_size ids.

    Returns a list of context_size (context, desired) tuples.

    >>> for context, desired in next_token_pairs([3347, 2702, 14096, 11, 290, 287], 4):
    ...     print(context, '---->', desired)
    [3347] ----> 2702
    [3347, 2702] ----> 14096
    [3347, 2702, 14096] ----> 11
    [3347, 2702, 14096, 11] ----> 290
    """
    raise NotImplementedError("input_target_pairs task 1: next_token_pairs")


class GPTDatasetV1(Dataset):
    def __init__(self, txt, tokenizer, max_length, stride):
        """Task 2. Cut the whole text into windows of inputs and shifted targets.

        Encode `txt` with tokenizer.encode(txt, allowed_special={"<|endoftext|>"}), giving
        token_ids. Windows start at i = 0, stride, 2 * stride, ... while
        i + max_length < len(token_ids) (exactly range(0, len(token_ids) - max_length, stride)):
          input  = token_ids[i : i + max_length]
          target = token_ids[i + 1 : i + max_length + 1]   (the input shifted by one)

        Attributes to create:
          input_ids:  list of 1-D LongTensors, each (max_length,)
          target_ids: list of 1-D LongTensors, each (max_length,), same length as input_ids

        >>> import tiktoken
        >>> tokenizer = tiktoken.get_encoding("gpt2")
        >>> txt = 'She sold bottles, and in the best of them she built ships.'
        >>> tokenizer.encode(txt)
        [3347, 2702, 14096, 11, 290, 287, 262, 1266, 286, 606, 673, 3170, 7937, 13]
        >>> dataset = GPTDatasetV1(txt, tokenizer, max_length=4, stride=3)
        >>> for window in dataset.input_ids:
        ...     print(window.tolist())
        [3347, 2702, 14096, 11]
        [11, 290, 287, 262]
        [262, 1266, 286, 606]
        [606, 673, 3170, 7937]
        >>> dataset.target_ids[0].tolist()
        [2702, 14096, 11, 290]
        """
        raise NotImplementedError("input_target_pairs task 2: GPTDatasetV1.__init__")

    def __len__(self):
        """Task 2. The number of windows.

        >>> import tiktoken
        >>> txt = 'She sold bottles, and in the best of them she built ships.'
        >>> len(GPTDatasetV1(txt, tiktoken.get_encoding("gpt2"), max_length=4, stride=3))
        4
        """
        raise NotImplementedError("input_target_pairs task 2: GPTDatasetV1.__len__")

    def __getitem__(self, idx):
        """Task 2. The pair (input_ids[idx], target_ids[idx]), input first; each (max_length,).

        >>> import tiktoken
        >>> txt = 'She sold bottles, and in the best of them she built ships.'
        >>> dataset = GPTDatasetV1(txt, tiktoken.get_encoding("gpt2"), max_length=4, stride=3)
        >>> [t.tolist() for t in dataset[1]]
        [[11, 290, 287, 262], [290, 287, 262, 1266]]
        """
        raise NotImplementedError("input_target_pairs task 2: GPTDatasetV1.__getitem__")


def create_dataloader_v1(txt, batch_size=4, max_length=256, stride=128, shuffle=True,
                         drop_last=True, num_workers=0):
    """Task 3. A DataLoader of (inputs, targets) batches over `txt`, with GPT-2's tokenizer.

    Build a GPTDatasetV1 with tiktoken.get_encoding("gpt2") (call it inside the function), then
    wrap it in torch.utils.data.DataLoader, passing batch_size, shuffle, drop_last and
    num_workers through. Each batch is [inputs, targets], both (batch_size, max_length).

    >>> txt = 'She sold bottles, and in the best of them she built ships.'
    >>> loader = create_dataloader_v1(txt, batch_size=2, max_length=4, stride=4, shuffle=False)
    >>> len(loader)  # 3 windows; drop_last=True drops the incomplete second batch
    1
    >>> inputs, targets = next(iter(loader))
    >>> inputs.tolist()
    [[3347, 2702, 14096, 11], [290, 287, 262, 1266]]
    >>> targets.tolist()
    [[2702, 14096, 11, 290], [287, 262, 1266, 286]]
    """
    raise NotImplementedError("input_target_pairs task 3: create_dataloader_v1")
