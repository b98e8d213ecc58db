"""Spins forever as soon as it is imported. gpt_blocks imports this module, so without care every
topic built on it would wait out its own time limit too; it must be skipped, then graded with the
reference multihead_attention instead, and the note must say why."""

while True:
    pass
