# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""``lowbias32``: a counter-hash ``jax.random`` implementation for XLA:CPU.

A key is two uint32 words ``(k0, k1)``. Word ``i`` of a draw (row-major
counter) is ``h(h(i * phi ^ k0) + k1)`` with ``h`` the ``lowbias32`` integer
mixer (Wellons' hash-prospector) and ``phi = 0x9E3779B9``: a few integer
multiply/xor/shift ops per word, which XLA:CPU fuses into one vectorised pass
(threefry2x32's twenty rounds cost several times more). ``split`` and
``fold_in`` are draws of the same hash under fixed tweaks of ``k0``, so a
key's bits, its children and its folds are distinct streams.

It is a full ``jax.random`` implementation (``jax.extend.random``): every
``jax.random`` function (normal, bernoulli, permutation, ...) accepts its
keys, under ``jit``, ``vmap`` and sharding. The streams are not threefry's:
a run with ``prng_impl="lowbias32"`` draws other (equally distributed)
numbers than one with ``threefry2x32``. The 64-bit state is ample for
augmentation noise and masks; use threefry where cryptographic-strength
independence matters.
"""

from __future__ import annotations

import math

import jax
from jax import lax
import jax.extend.random as jex_random
import jax.numpy as jnp
import numpy as np

from dws_jax import prng as core_prng

NAME = "lowbias32"
_PHI = np.uint32(0x9E3779B9)
_SPLIT_TWEAK = np.uint32(0x5851F42D)
_FOLD_TWEAK = np.uint32(0x2545F491)
_SEED_TWEAK = np.uint32(0x632BE59B)


def _mix(x: jax.Array) -> jax.Array:
  """``lowbias32``: a bijective avalanche mix of uint32 words."""
  x = x ^ (x >> 16)
  x = x * np.uint32(0x21F0AAAD)
  x = x ^ (x >> 15)
  x = x * np.uint32(0x735A2D97)
  return x ^ (x >> 15)


def _words(k0: jax.Array, k1: jax.Array, counter: jax.Array) -> jax.Array:
  return _mix(_mix((counter * _PHI) ^ k0) + k1)


def _bits32(key: jax.Array, shape: tuple[int, ...], tweak=np.uint32(0)
            ) -> jax.Array:
  """uint32 words ``shape`` of key data ``(2,)``."""
  size = math.prod(shape)
  if size >= 2**32:
    raise ValueError(f"{NAME}: a draw of {size} words does not fit the "
                     "uint32 counter")
  counter = lax.iota(jnp.uint32, size).reshape(shape)
  return _words(key[0] ^ tweak, key[1], counter)


def _seed(seed: jax.Array) -> jax.Array:
  """Key data ``(2,)`` uint32 from an integer seed (any width, any sign)."""
  seed = jnp.asarray(seed)
  if seed.dtype.itemsize == 8:
    lo = lax.convert_element_type(seed & 0xFFFFFFFF, jnp.uint32)
    hi = lax.convert_element_type(seed >> 32, jnp.uint32)
  else:
    lo = lax.convert_element_type(seed, jnp.uint32)
    hi = jnp.zeros((), jnp.uint32)
  return jnp.stack([_mix(lo ^ _SEED_TWEAK), _mix(hi ^ _mix(lo + _PHI))])


def _split(key: jax.Array, shape: tuple[int, ...]) -> jax.Array:
  return _bits32(key, tuple(shape) + (2,), _SPLIT_TWEAK)


def _fold_in(key: jax.Array, data: jax.Array) -> jax.Array:
  counter = 2 * lax.convert_element_type(data, jnp.uint32) + jnp.arange(
      2, dtype=jnp.uint32)
  return _words(key[0] ^ _FOLD_TWEAK, key[1], counter)


def _random_bits(key: jax.Array, bit_width: int, shape: tuple[int, ...]
                 ) -> jax.Array:
  shape = tuple(shape)
  if bit_width == 64:
    words = _bits32(key, shape + (2,)).astype(jnp.uint64)
    return (words[..., 0] << np.uint64(32)) | words[..., 1]
  words = _bits32(key, shape)
  if bit_width == 32:
    return words
  dtype = {8: jnp.uint8, 16: jnp.uint16}[bit_width]
  return (words >> np.uint32(32 - bit_width)).astype(dtype)


IMPL = jex_random.define_prng_impl(
    key_shape=(2,), seed=_seed, split=_split, random_bits=_random_bits,
    fold_in=_fold_in, name=NAME, tag="lb32")


def register() -> None:
  """Makes ``prng_impl="lowbias32"`` known, and ``"auto"``'s pick on CPU."""
  core_prng.register_impl(NAME, IMPL, preferred_on=("cpu",))
