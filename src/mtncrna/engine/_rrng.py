"""R's default random number streams, for the one place DESeq2 draws random numbers.

DESeq2 estimates the dispersion prior variance by simulation when the residual degrees of
freedom are 1-3, after ``set.seed(2)``, with ``rchisq`` and ``rnorm``. To give the same answer
as R this module reproduces R's defaults (``RNGkind()``: "Mersenne-Twister", "Inversion"):
R's seeding (the seed scrambled by the linear congruential generator 69069 x + 1), the
Mersenne-Twister MT19937 with R's conversion to (0, 1); ``norm_rand`` by inversion with two
uniforms (2^27 resolution); ``exp_rand`` (Ahrens & Dieter 1972) and ``rgamma`` (Ahrens & Dieter
GD for shape >= 1, GS for shape < 1), so ``rchisq(n, df) = rgamma(df / 2, 2)``. Written from the
published algorithms as R documents them; checked draw for draw against R 4.2 (tests).
The normal quantile is scipy's ``ndtri`` (R uses Wichura's AS241; both are exact to about one
unit in the last place).
"""

from __future__ import annotations

import ctypes

import numba
import numpy as np
from numba.extending import get_cython_function_address

_ndtri = ctypes.CFUNCTYPE(ctypes.c_double, ctypes.c_double)(
    get_cython_function_address("scipy.special.cython_special", "ndtri")
)

_N = 624
_M = 397
_I2_32M1 = 2.328306437080797e-10  # 1 / (2^32 - 1)
_BIG = 134217728.0  # 2^27
_Q_EXP = np.array(
    [
        0.6931471805599453,
        0.9333736875190459,
        0.9888777961838675,
        0.9984959252914960040,
        0.9998292811061389,
        0.9999833164100727,
        0.9999985508193057,
        0.9999998906925558,
        0.9999999924734159,
        0.9999999995283275,
        0.9999999999728814,
        0.9999999999985598,
        0.9999999999999289,
        0.9999999999999968,
        0.9999999999999999,
        1.0000000000000000,
    ]
)


def r_seed_state(seed: int) -> np.ndarray:
    """The Mersenne-Twister state after R's ``set.seed(seed)``: [mti, mt[0..623]]."""
    s = seed & 0xFFFFFFFF
    for _ in range(50):
        s = (69069 * s + 1) & 0xFFFFFFFF
    state = np.empty(_N + 1, dtype=np.uint32)
    for j in range(_N + 1):
        s = (69069 * s + 1) & 0xFFFFFFFF
        state[j] = s
    state[0] = _N  # R's FixupSeeds: mti = N, so the first draw regenerates the block
    return state


@numba.njit(cache=True)
def _unif(state: np.ndarray) -> float:
    mti = state[0]
    mt = state[1:]
    if mti >= _N:
        for kk in range(_N - _M):
            y = (mt[kk] & np.uint32(0x80000000)) | (mt[kk + 1] & np.uint32(0x7FFFFFFF))
            mt[kk] = (
                mt[kk + _M] ^ (y >> np.uint32(1)) ^ (np.uint32(0x9908B0DF) * (y & np.uint32(1)))
            )
        for kk in range(_N - _M, _N - 1):
            y = (mt[kk] & np.uint32(0x80000000)) | (mt[kk + 1] & np.uint32(0x7FFFFFFF))
            mt[kk] = (
                mt[kk + (_M - _N)]
                ^ (y >> np.uint32(1))
                ^ (np.uint32(0x9908B0DF) * (y & np.uint32(1)))
            )
        y = (mt[_N - 1] & np.uint32(0x80000000)) | (mt[0] & np.uint32(0x7FFFFFFF))
        mt[_N - 1] = mt[_M - 1] ^ (y >> np.uint32(1)) ^ (np.uint32(0x9908B0DF) * (y & np.uint32(1)))
        mti = 0
    y = mt[mti]
    mti += 1
    y ^= y >> np.uint32(11)
    y ^= (y << np.uint32(7)) & np.uint32(0x9D2C5680)
    y ^= (y << np.uint32(15)) & np.uint32(0xEFC60000)
    y ^= y >> np.uint32(18)
    state[0] = mti
    value = float(y) * 2.3283064365386963e-10
    # R's fixup: keep the value inside (0, 1)
    if value <= 0.0:
        return 0.5 * _I2_32M1
    if 1.0 - value <= 0.0:
        return 1.0 - 0.5 * _I2_32M1
    return value


@numba.njit  # not cached: calls scipy's ndtri through a pointer
def _norm(state: np.ndarray) -> float:
    u = _unif(state)
    u = float(int(_BIG * u)) + _unif(state)
    return _ndtri(u / _BIG)


@numba.njit(cache=True)
def _exp(state: np.ndarray, q: np.ndarray) -> float:
    a = 0.0
    u = _unif(state)
    while u <= 0.0 or u >= 1.0:
        u = _unif(state)
    while True:
        u += u
        if u > 1.0:
            break
        a += q[0]
    u -= 1.0
    if u <= q[0]:
        return a + u
    i = 0
    ustar = _unif(state)
    umin = ustar
    while True:
        ustar = _unif(state)
        if umin > ustar:
            umin = ustar
        i += 1
        if u <= q[i]:
            break
    return a + umin * q[0]


@numba.njit  # not cached: calls scipy's ndtri through a pointer
def _gamma(state: np.ndarray, q: np.ndarray, a: float, scale: float) -> float:
    if a < 1.0:  # GS algorithm
        e = 1.0 + 0.36787944117144233 * a
        while True:
            p = e * _unif(state)
            if p >= 1.0:
                x = -np.log((e - p) / a)
                if _exp(state, q) >= (1.0 - a) * np.log(x):
                    break
            else:
                x = np.exp(np.log(p) / a)
                if _exp(state, q) >= x:
                    break
        return scale * x
    # GD algorithm
    s2 = a - 0.5
    s = np.sqrt(s2)
    d = 5.656854 - s * 12.0
    t = _norm(state)
    x = s + 0.5 * t
    ret = x * x
    if t >= 0.0:
        return scale * ret
    u = _unif(state)
    if d * u <= t * t * t:
        return scale * ret
    r = 1.0 / a
    q0 = (
        (
            ((((2.424e-4 * r + 2.4511e-4) * r - 7.388e-5) * r + 0.00144121) * r + 0.00801191) * r
            + 0.02083148
        )
        * r
        + 0.04166669
    ) * r
    if a <= 3.686:
        b = 0.463 + s + 0.178 * s2
        si = 1.235
        c = 0.195 / s - 0.079 + 0.16 * s
    elif a <= 13.022:
        b = 1.654 + 0.0076 * s2
        si = 1.68 / s + 0.275
        c = 0.062 / s + 0.024
    else:
        b = 1.77
        si = 0.75
        c = 0.1515 / s
    if x > 0.0:
        v = t / (s + s)
        if abs(v) <= 0.25:
            qq = q0 + 0.5 * t * t * _poly(v)
        else:
            qq = q0 - s * t + 0.25 * t * t + (s2 + s2) * np.log(1.0 + v)
        if np.log(1.0 - u) <= qq:
            return scale * ret
    while True:
        e = _exp(state, q)
        u = _unif(state)
        u = u + u - 1.0
        t = b - si * e if u < 0.0 else b + si * e
        if t >= -0.71874483771719:
            v = t / (s + s)
            if abs(v) <= 0.25:
                qq = q0 + 0.5 * t * t * _poly(v)
            else:
                qq = q0 - s * t + 0.25 * t * t + (s2 + s2) * np.log(1.0 + v)
            if qq > 0.0:
                w = np.expm1(qq)
                if c * abs(u) <= w * np.exp(e - 0.5 * t * t):
                    break
    x = s + 0.5 * t
    return scale * x * x


@numba.njit(cache=True)
def _poly(v: float) -> float:
    return (
        (
            ((((0.1233795 * v - 0.1367177) * v + 0.1423657) * v - 0.1662921) * v + 0.2000062) * v
            - 0.250003
        )
        * v
        + 0.3333333
    ) * v


@numba.njit  # not cached: calls scipy's ndtri through a pointer
def _rchisq(state: np.ndarray, q: np.ndarray, n: int, df: float) -> np.ndarray:
    out = np.empty(n)
    for i in range(n):
        out[i] = _gamma(state, q, df / 2.0, 2.0)
    return out


@numba.njit  # not cached: calls scipy's ndtri through a pointer
def _rnorm(state: np.ndarray, n: int, mean: float, sd: float) -> np.ndarray:
    out = np.empty(n)
    for i in range(n):
        if sd == 0.0:  # R returns the mean without drawing
            out[i] = mean
        else:
            out[i] = mean + sd * _norm(state)
    return out


class RStream:
    """R's random number stream after ``set.seed(seed)`` (R's default generators)."""

    def __init__(self, seed: int) -> None:
        self.state = r_seed_state(seed)

    def runif(self, n: int) -> np.ndarray:
        return np.array([_unif(self.state) for _ in range(n)])

    def rnorm(self, n: int, mean: float = 0.0, sd: float = 1.0) -> np.ndarray:
        return _rnorm(self.state, n, float(mean), float(sd))

    def rchisq(self, n: int, df: float) -> np.ndarray:
        return _rchisq(self.state, _Q_EXP, n, float(df))

    def rexp(self, n: int) -> np.ndarray:
        return np.array([_exp(self.state, _Q_EXP) for _ in range(n)])
