"""The submitted softmax_attention.py is a symlink to the repository's reference solution
(solutions/softmax_attention.py), hoping the grader follows it. Symlinks are never followed, so
the module is missing. (This file only documents the case: the student folder holds the link.)"""
