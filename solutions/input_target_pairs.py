"""Input-target pairs with a sliding window (book section 2.6).

An LLM learns to predict the next token. A text of token ids becomes many training examples:
windows of max_length input ids, each paired with the same window shifted one token to the right.
"""

import tiktoken
import torch
from torch.utils.data import DataLoader, Dataset


def next_token_pairs(token_ids, context_size) -> list[tuple[list[int], int]]:
    assert len(token_ids) > context_size, (
        f"{context_size} pairs need {context_size + 1} token ids, got {len(token_ids)}")
    # One window of context_size + 1 tokens holds context_size examples: every prefix predicts
    # the token right after it.
    pairs = []
    for i in range(1, context_size + 1):
        context = token_ids[:i]
        desired = token_ids[i]
        pairs.append((context, desired))
    return pairs


class GPTDatasetV1(Dataset):
    def __init__(self, txt, tokenizer, max_length, stride):
        self.input_ids = []
        self.target_ids = []

        token_ids = tokenizer.encode(txt, allowed_special={"<|endoftext|>"})
        assert len(token_ids) > max_length, (
            f"a window needs max_length + 1 = {max_length + 1} tokens (inputs plus the shifted "
            f"target), the text has {len(token_ids)}")

        # stride < max_length overlaps windows, stride == max_length tiles the text.
        for i in range(0, len(token_ids) - max_length, stride):
            input_chunk = token_ids[i:i + max_length]
            target_chunk = token_ids[i + 1:i + max_length + 1]
            self.input_ids.append(torch.tensor(input_chunk))
            self.target_ids.append(torch.tensor(target_chunk))

    def __len__(self):
        return len(self.input_ids)

    def __getitem__(self, idx):
        return self.input_ids[idx], self.target_ids[idx]


def create_dataloader_v1(txt, batch_size=4, max_length=256, stride=128, shuffle=True,
                         drop_last=True, num_workers=0):
    tokenizer = tiktoken.get_encoding("gpt2")
    dataset = GPTDatasetV1(txt, tokenizer, max_length, stride)
    # drop_last: a short final batch would give a noisy loss spike during training.
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last,
                      num_workers=num_workers)
