"""Instruction data: prompts, batches and masked targets (book sections 7.2-7.4).

Instruction fine-tuning trains a pretrained GPT on (instruction, input, output) entries written out
as one Alpaca-style text: the prompt, then "### Response:" and the answer. The texts have different
lengths, so a batch pads them with the end-of-text id; the loss must learn to end the answer (the
first end-of-text id is a target) but not to predict padding (the other padding targets become
-100, which cross_entropy skips).
"""

import torch
from torch.utils.data import Dataset


def format_input(entry: dict) -> str:
    # The Alpaca prompt: a fixed preamble, the instruction, and the input only when there is one.
    instruction_text = (
        "Below is an instruction that describes a task. "
        "Write a response that appropriately completes the request."
        f"\n\n### Instruction:\n{entry['instruction']}"
    )
    input_text = f"\n\n### Input:\n{entry['input']}" if entry["input"] else ""
    return instruction_text + input_text


class InstructionDataset(Dataset):
    def __init__(self, data, tokenizer):
        self.data = data
        self.encoded_texts = []  # token ids of each entry's whole text, computed once
        for entry in data:
            instruction_plus_input = format_input(entry)
            response_text = f"\n\n### Response:\n{entry['output']}"
            self.encoded_texts.append(tokenizer.encode(instruction_plus_input + response_text))

    def __getitem__(self, index):
        return self.encoded_texts[index]  # a list of ids; custom_collate_fn pads it

    def __len__(self):
        return len(self.data)


def custom_collate_fn(batch, pad_token_id=50256, ignore_index=-100, allowed_max_length=None,
                      device="cpu"):
    # One end-of-text id closes every sequence, so the longest needs one more position.
    batch_max_length = max(len(item) + 1 for item in batch)
    inputs_lst, targets_lst = [], []
    for item in batch:
        new_item = item.copy()  # extended below: the dataset's own list must stay as it is
        new_item += [pad_token_id] * (batch_max_length - len(item))
        inputs = torch.tensor(new_item[:-1])   # (batch_max_length - 1,)
        targets = torch.tensor(new_item[1:])   # the same ids one position on: the next token
        # The first end-of-text target teaches the model to stop; every later one is only padding.
        padding_positions = torch.nonzero(targets == pad_token_id).flatten()
        targets[padding_positions[1:]] = ignore_index
        if allowed_max_length is not None:  # cut after shifting, so inputs and targets stay aligned
            inputs = inputs[:allowed_max_length]
            targets = targets[:allowed_max_length]
        inputs_lst.append(inputs)
        targets_lst.append(targets)
    inputs_tensor = torch.stack(inputs_lst).to(device)    # (batch, num_tokens)
    targets_tensor = torch.stack(targets_lst).to(device)  # (batch, num_tokens)
    return inputs_tensor, targets_tensor


def calc_loss_batch(input_batch, target_batch, model, device):
    input_batch, target_batch = input_batch.to(device), target_batch.to(device)
    logits = model(input_batch)  # (b, num_tokens) -> (b, num_tokens, vocab_size)
    # cross_entropy's default ignore_index=-100: positions whose target is -100 add nothing to the
    # mean, which is taken over the other positions only.
    loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), target_batch.flatten())
    return loss
