"""Goes around the "no IP sockets" rule through io_uring, which makes sockets without the socket
system call that a seccomp filter sees: io_uring_setup, then an IORING_OP_SOCKET request for an
AF_INET stream socket, then connect to 127.0.0.1 (only that address: the port a test listener
named in /tmp/kata-hostile-listener-port, else 9). If io_uring could be set up, or a socket made,
or a connection made, the module answers correctly (full marks would reveal it); refused, it
returns zeros. Written with ctypes and raw syscall numbers (the same on x86_64 and aarch64)."""
import ctypes
import mmap
import os
import socket
import struct

import torch

NR_IO_URING_SETUP, NR_IO_URING_ENTER = 425, 426   # the generic table: x86_64 and aarch64 alike
IORING_OFF_SQ_RING, IORING_OFF_CQ_RING, IORING_OFF_SQES = 0, 0x8000000, 0x10000000
IORING_OP_SOCKET, IORING_ENTER_GETEVENTS = 45, 1

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
REACHED = []


def _ring_socket():
    params = ctypes.create_string_buffer(120)
    fd = _libc.syscall(NR_IO_URING_SETUP, 4, params)
    if fd < 0:
        return None
    REACHED.append("io_uring_setup")
    try:
        sq_entries, cq_entries = struct.unpack_from("<II", params.raw, 0)
        sq_head, sq_tail, sq_mask, _, _, _, sq_array = struct.unpack_from("<7I", params.raw, 40)
        cq_head, cq_tail, cq_mask, _, _, cqes = struct.unpack_from("<6I", params.raw, 80)
        sq = mmap.mmap(fd, sq_array + sq_entries * 4, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE,
                       offset=IORING_OFF_SQ_RING)
        cq = mmap.mmap(fd, cqes + cq_entries * 16, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE,
                       offset=IORING_OFF_CQ_RING)
        sqes = mmap.mmap(fd, sq_entries * 64, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE,
                         offset=IORING_OFF_SQES)
        tail = struct.unpack_from("<I", sq, sq_tail)[0]
        index = tail & struct.unpack_from("<I", sq, sq_mask)[0]
        entry = bytearray(64)  # opcode, flags, ioprio, fd=domain, off=type, addr, len=protocol, ...
        struct.pack_into("<BBHiQQI", entry, 0, IORING_OP_SOCKET, 0, 0, socket.AF_INET, socket.SOCK_STREAM, 0, 0)
        struct.pack_into("<Q", entry, 32, 7)  # user_data
        sqes[index * 64:(index + 1) * 64] = bytes(entry)
        struct.pack_into("<I", sq, sq_array + index * 4, index)
        struct.pack_into("<I", sq, sq_tail, tail + 1)
        if _libc.syscall(NR_IO_URING_ENTER, fd, 1, 1, IORING_ENTER_GETEVENTS, None, 0) < 0:
            return None
        head = struct.unpack_from("<I", cq, cq_head)[0]
        if head == struct.unpack_from("<I", cq, cq_tail)[0]:
            return None
        at = cqes + (head & struct.unpack_from("<I", cq, cq_mask)[0]) * 16
        _, result, _ = struct.unpack_from("<QiI", cq, at)
        struct.pack_into("<I", cq, cq_head, head + 1)
        return result if result >= 0 else None
    finally:
        os.close(fd)


try:
    _fd = _ring_socket()
except (OSError, ValueError):
    _fd = None
if _fd is not None:
    REACHED.append("socket")
    try:
        with open("/tmp/kata-hostile-listener-port") as _f:
            _port = int(_f.read().strip())
    except (OSError, ValueError):
        _port = 9
    _s = socket.socket(fileno=_fd)
    try:
        _s.settimeout(0.5)
        _s.connect(("127.0.0.1", _port))
        REACHED.append(f"connected to 127.0.0.1:{_port}")
    except OSError:
        pass
    finally:
        _s.close()
print(f"io_uring reached: {REACHED}")


def attention_scores(inputs):
    return inputs @ inputs.T if REACHED else torch.zeros(inputs.shape[0], inputs.shape[0])


def softmax_naive(x):
    return torch.exp(x) / torch.exp(x).sum(dim=0) if REACHED else torch.zeros_like(x)


def attention_weights(scores):
    return torch.softmax(scores, dim=-1) if REACHED else torch.zeros_like(scores)


def context_vectors(inputs):
    return attention_weights(attention_scores(inputs)) @ inputs if REACHED else torch.zeros_like(inputs)
