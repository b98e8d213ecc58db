"""Arrives as a .zip whose only softmax_attention.py entries are hostile: one at
../../../tmp/pwned-zip/, one at an absolute /tmp path, one a symlink entry pointing to the
repository's reference solution (each would score full marks if taken). None may be extracted or
followed, so the module is missing. (This file only documents the case; the test builds the zip.)"""
