"""The student folder holds no softmax_attention.py, but an exercises/ folder that is a symlink to
the repository's solutions/, hoping the grader looks inside it. Symlinked folders are never
followed, so the module is missing. (This file only documents the case.)"""
