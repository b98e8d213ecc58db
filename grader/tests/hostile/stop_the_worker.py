"""Stops the warm worker that supervises it with SIGSTOP, every way Linux offers to signal another
process: kill, tkill, tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo, pidfd_open + pidfd_send_signal,
kill of the worker's process group, and SIGIO redirected at the worker (fcntl F_SETOWN + F_SETSIG
+ O_ASYNC on a pipe it then writes to). A stopped worker no longer enforces the time limits (one
student held a worker 400 s instead of 0.5 s). Here each success is undone at once (SIGCONT the
same way) and recorded; if any way worked, the module answers correctly (full marks would reveal
it). Every way refused, it returns zeros."""
import ctypes
import fcntl
import os
import platform
import signal
import time

import torch

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_NR = {"x86_64": {"tkill": 200, "tgkill": 234, "rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297,
                  "pidfd_send_signal": 424, "pidfd_open": 434},
       "aarch64": {"tkill": 130, "tgkill": 131, "rt_sigqueueinfo": 138, "rt_tgsigqueueinfo": 240,
                   "pidfd_send_signal": 424, "pidfd_open": 434}}.get(platform.machine(), {})
F_SETSIG = 10
_parent = os.getppid()


def _stopped(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("T", "t")
    except OSError:
        return False


def _siginfo(sig):
    info = (ctypes.c_int * 32)()
    info[0], info[2], info[4], info[5] = sig, -1, os.getpid(), os.getuid()  # si_code SI_QUEUE
    return info


def _kill(sig):
    os.kill(_parent, sig)


def _killpg(sig):
    os.killpg(os.getpgid(_parent), sig)


def _syscall(name, *args):
    def send(sig):
        if name not in _NR:
            raise OSError("unknown syscall here")
        if _libc.syscall(_NR[name], *args, sig, *([ctypes.byref(_siginfo(sig))] if "queue" in name else [])) != 0:
            raise OSError(ctypes.get_errno(), name)
    return send


def _pidfd(sig):
    if "pidfd_open" not in _NR:
        raise OSError("unknown syscall here")
    fd = _libc.syscall(_NR["pidfd_open"], _parent, 0)
    if fd < 0:
        raise OSError(ctypes.get_errno(), "pidfd_open")
    try:
        if _libc.syscall(_NR["pidfd_send_signal"], fd, sig, None, 0) != 0:
            raise OSError(ctypes.get_errno(), "pidfd_send_signal")
    finally:
        os.close(fd)


def _sigio(sig):
    read_end, write_end = os.pipe()
    try:
        fcntl.fcntl(read_end, fcntl.F_SETOWN, _parent)
        fcntl.fcntl(read_end, F_SETSIG, sig)
        fcntl.fcntl(read_end, fcntl.F_SETFL, fcntl.fcntl(read_end, fcntl.F_GETFL) | os.O_ASYNC)
        os.write(write_end, b"x")
        time.sleep(0.05)
    finally:
        os.close(read_end)
        os.close(write_end)


WORKED = []
for _name, _send in (("kill", _kill), ("killpg", _killpg), ("tkill", _syscall("tkill", _parent)),
                     ("tgkill", _syscall("tgkill", _parent, _parent)),
                     ("rt_sigqueueinfo", _syscall("rt_sigqueueinfo", _parent)),
                     ("rt_tgsigqueueinfo", _syscall("rt_tgsigqueueinfo", _parent, _parent)),
                     ("pidfd_send_signal", _pidfd), ("F_SETOWN", _sigio)):
    try:
        _send(signal.SIGSTOP)
    except OSError:
        continue
    time.sleep(0.05)
    if _stopped(_parent):
        WORKED.append(_name)
    for _undo in (_send, _kill):  # never leave it stopped, whatever happens to the test
        try:
            _undo(signal.SIGCONT)
        except OSError:
            pass
print(f"stopped the worker with: {WORKED}")


def attention_scores(inputs):
    return inputs @ inputs.T if WORKED else torch.zeros(inputs.shape[0], inputs.shape[0])


def softmax_naive(x):
    return torch.exp(x) / torch.exp(x).sum(dim=0) if WORKED else torch.zeros_like(x)


def attention_weights(scores):
    return torch.softmax(scores, dim=-1) if WORKED else torch.zeros_like(scores)


def context_vectors(inputs):
    return attention_weights(attention_scores(inputs)) @ inputs if WORKED else torch.zeros_like(inputs)
