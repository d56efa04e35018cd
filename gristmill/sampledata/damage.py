"""Damaged copies of WARC files, made on purpose (seeded) to test recovery.

`damaged_copy(data, kind, rng)` returns the damaged bytes and which gzip members of the
original are still byte-intact in them; `gzip_members(data)` lists a `.warc.gz` file's
members. Kinds:

  flip    flip one random bit in each of 1-3 random places (a member with a flipped bit
          is damaged; zlib's CRC check catches it at the member's end)
  splice  insert 16-4096 bytes of random garbage at 1-3 random places (inside a member:
          that member is damaged; between two members: none is)
  cut     end the file at a random place (the member cut and all after it are lost)
"""
from __future__ import annotations

import random
import zlib

KINDS = ("flip", "splice", "cut")


def gzip_members(data: bytes) -> list[tuple[int, int]]:
    """[(offset, length)] of the gzip members that make up `data` (a per-record .warc.gz)."""
    members, pos = [], 0
    while pos < len(data):
        z = zlib.decompressobj(31)
        z.decompress(data[pos:])
        if not z.eof:
            raise ValueError(f"not a complete gzip member at byte {pos}")
        length = len(data) - pos - len(z.unused_data)
        members.append((pos, length))
        pos += length
    return members


def _hit(members: list[tuple[int, int]], pos: int, inside_only: bool) -> set[int]:
    """Indices of the members byte `pos` falls in (inside_only: not at a member's start)."""
    for i, (off, n) in enumerate(members):
        if off <= pos < off + n and not (inside_only and pos == off):
            return {i}
    return set()


def damaged_copy(data: bytes, kind: str, rng: random.Random) -> tuple[bytes, list[int]]:
    """(damaged bytes, indices of the original's members that are still intact)."""
    members = gzip_members(data)
    out = bytearray(data)
    damaged: set[int] = set()
    if kind == "flip":
        for pos in rng.sample(range(len(data)), rng.randint(1, 3)):
            out[pos] ^= 1 << rng.randrange(8)
            damaged |= _hit(members, pos, inside_only=False)
    elif kind == "splice":
        for pos in sorted(rng.sample(range(1, len(data)), rng.randint(1, 3)), reverse=True):
            out[pos:pos] = rng.randbytes(rng.randint(16, 4096))
            damaged |= _hit(members, pos, inside_only=True)
    elif kind == "cut":
        pos = rng.randrange(1, len(data))
        del out[pos:]
        damaged |= {i for i, (off, n) in enumerate(members) if off + n > pos}
    else:
        raise ValueError(f"unknown damage {kind!r}; one of {', '.join(KINDS)}")
    return bytes(out), [i for i in range(len(members)) if i not in damaged]
