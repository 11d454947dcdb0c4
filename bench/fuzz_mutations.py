"""Seeded byte-level mutations of a media file: what a broken upload, a cut-off recording or a hostile
file does to the bytes a decoder reads.

Each operator takes the file's bytes and a `random.Random` and returns new bytes plus a short
description (enough to rebuild the mutant by hand). `mutate(data, rng, donors)` picks one to three
operators, so mutants range from one flipped bit to a thoroughly mangled file. The same seed always
gives the same mutant (nothing here reads a clock or the global random state).
"""

from __future__ import annotations

import random
import struct

HEADER = 4096  # container headers (ftyp/moov of a fast-start mp4, EBML/segment info, RIFF/fmt) live here
# values that break size and count fields: zero, one, sign bits, all ones
INTERESTING_32 = (0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF)


def truncate(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    at = rng.randrange(1, max(2, len(data)))
    return data[:at], f"truncate@{at}"


def flip_header(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    return _flip(data, rng, 0, min(HEADER, len(data)), "header")


def flip_body(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    return _flip(data, rng, min(HEADER, len(data) - 1), len(data), "body")


def zero_range(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    start = rng.randrange(len(data))
    length = min(len(data) - start, rng.choice((1, 16, 256, 4096, len(data) // 8 or 1)))
    return data[:start] + bytes(length) + data[start + length:], f"zero@{start}+{length}"


def duplicate_chunk(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    start = rng.randrange(len(data))
    length = min(len(data) - start, rng.choice((4, 64, 1024, 16384)))
    at = rng.randrange(len(data) + 1)
    return data[:at] + data[start:start + length] + data[at:], f"dup@{start}+{length}->{at}"


def interesting_int(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """A 32-bit field (big- or little-endian) in the header set to an extreme value."""
    if len(data) < 4:
        return flip_header(data, rng)
    at = rng.randrange(min(HEADER, len(data) - 3))
    value = rng.choice(INTERESTING_32)
    order = rng.choice("<>")
    packed = struct.pack(f"{order}I", value)
    return data[:at] + packed + data[at + 4:], f"int32{order}@{at}={value:#x}"


def splice(data: bytes, rng: random.Random, donor: bytes) -> tuple[bytes, str]:
    """The start of this file with the rest of another (two recordings glued together)."""
    cut, other = rng.randrange(len(data)), rng.randrange(len(donor))
    return data[:cut] + donor[other:], f"splice@{cut}<-{other}"


OPERATORS = (truncate, flip_header, flip_body, zero_range, duplicate_chunk, interesting_int)


def mutate(data: bytes, rng: random.Random, donors: list[bytes] = ()) -> tuple[bytes, str]:
    """One mutant: 1-3 operators (a splice with a donor file one time in eight)."""
    steps = []
    for _ in range(rng.choice((1, 1, 2, 3))):
        if not data:
            break
        if donors and rng.random() < 1 / 8:
            data, what = splice(data, rng, rng.choice(donors))
        else:
            data, what = rng.choice(OPERATORS)(data, rng)
        steps.append(what)
    return data, " ".join(steps) or "unchanged"


def _flip(data: bytes, rng: random.Random, lo: int, hi: int, where: str) -> tuple[bytes, str]:
    out = bytearray(data)
    if hi <= lo:
        return bytes(out), f"flip-{where}:none"
    count = rng.choice((1, 2, 4, 8, 32))
    for _ in range(count):
        out[rng.randrange(lo, hi)] ^= 1 << rng.randrange(8) if rng.random() < 0.5 else rng.randrange(1, 256)
    return bytes(out), f"flip-{where}x{count}"
