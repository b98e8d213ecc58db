"""Holds memory outside the memory limit, where it would outlive the job: a System V shared
memory segment of 4 GiB (shmget), a semaphore set, a message queue (semget, msgget) and a POSIX
message queue (mq_open). Nothing is touched, and anything created is removed at once (the test
must not hold 4 GiB); creating any of them proves the filter did not refuse it, and the module
then answers correctly (full marks would reveal it). Refused, it returns zeros."""
import ctypes
import ctypes.util
import os

import torch

IPC_PRIVATE, IPC_CREAT, IPC_RMID = 0, 0o1000, 0
_libc = ctypes.CDLL(None, use_errno=True)
for _name, _restype in (("shmget", ctypes.c_int), ("semget", ctypes.c_int), ("msgget", ctypes.c_int),
                        ("shmctl", ctypes.c_int), ("semctl", ctypes.c_int), ("msgctl", ctypes.c_int)):
    getattr(_libc, _name).restype = _restype
_libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]

CREATED = []
_shm = _libc.shmget(IPC_PRIVATE, 4 << 30, IPC_CREAT | 0o600)
if _shm >= 0:
    CREATED.append("shm")
    _libc.shmctl(_shm, IPC_RMID, None)
_sem = _libc.semget(IPC_PRIVATE, 4, IPC_CREAT | 0o600)
if _sem >= 0:
    CREATED.append("sem")
    _libc.semctl(_sem, 0, IPC_RMID)
_msg = _libc.msgget(IPC_PRIVATE, IPC_CREAT | 0o600)
if _msg >= 0:
    CREATED.append("msg")
    _libc.msgctl(_msg, IPC_RMID, None)
_rt = _libc if hasattr(_libc, "mq_open") else ctypes.CDLL(ctypes.util.find_library("rt") or "librt.so.1", use_errno=True)
_queue = f"/kata-hostile-{os.getpid()}".encode()
_mq = _rt.mq_open(_queue, os.O_CREAT | os.O_RDWR, 0o600, None)
if _mq >= 0:
    CREATED.append("mq")
    _rt.mq_close(_mq)
    _rt.mq_unlink(_queue)
print(f"created: {CREATED}")


def attention_scores(inputs):
    return inputs @ inputs.T if CREATED else torch.zeros(inputs.shape[0], inputs.shape[0])


def softmax_naive(x):
    return torch.exp(x) / torch.exp(x).sum(dim=0) if CREATED else torch.zeros_like(x)


def attention_weights(scores):
    return torch.softmax(scores, dim=-1) if CREATED else torch.zeros_like(scores)


def context_vectors(inputs):
    return attention_weights(attention_scores(inputs)) @ inputs if CREATED else torch.zeros_like(inputs)
