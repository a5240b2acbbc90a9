"""Identifiers that look random but are unique without remembering them.

A source's record ids, the job centre's customer numbers and AZR numbers must be unique and
must not reveal generation order (which would group a household or a duplicate intake).
An affine map ``i -> (a*i + b) mod p`` over a prime p is a permutation of ``0..p-1``: unique by
construction, O(1) memory, and cheap enough for millions of ids.
"""

from __future__ import annotations

import random

_MR_BASES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)


def is_prime(n: int) -> bool:
    """Deterministic Miller-Rabin for n < 3.3e24 (far beyond the ranges used here)."""
    if n < 2:
        return False
    for p in _MR_BASES:
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for a in _MR_BASES:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def prime_below(n: int) -> int:
    """The largest prime < n."""
    k = n - 1
    while not is_prime(k):
        k -= 1
    return k


class Permutation:
    """A keyed permutation of 0..span-1 (roughly: of 0..p-1 for the largest prime p < span)."""

    def __init__(self, span: int, rng: random.Random) -> None:
        self.p = prime_below(span)
        self.a = 1 + rng.randrange(self.p - 1)
        self.b = rng.randrange(self.p)

    def __call__(self, i: int) -> int:
        """Image of i (i < p)."""
        return (self.a * i + self.b) % self.p


class IdSequence:
    """Unique ids in [low, low + span) for one chunk of the population.

    Every chunk of `stride` persons owns counter slots [chunk*stride, (chunk+1)*stride) for
    ordinary records (a person has at most one per source) and the mirror slots counted down
    from the top for duplicate intakes, so chunks generated in parallel never collide and a
    duplicate's id is no arithmetic neighbour of the original's."""

    def __init__(self, low: int, perm: Permutation, chunk: int, stride: int) -> None:
        if 2 * (chunk + 1) * stride > perm.p:
            raise OverflowError("id space too small for this many persons")
        self.low = low
        self.perm = perm
        self.up = chunk * stride
        self.down = perm.p - 1 - chunk * stride

    def next(self, duplicate: bool = False) -> int:
        """Next unused id."""
        if duplicate:
            i, self.down = self.down, self.down - 1
        else:
            i, self.up = self.up, self.up + 1
        return self.low + self.perm(i)


def record_id_digits(capacity: int) -> int:
    """Digits for provider ids: 7, more when the counter slots would not fit comfortably."""
    digits = 7
    while 9 * 10 ** (digits - 1) < capacity * 1.1:
        digits += 1
    return digits
