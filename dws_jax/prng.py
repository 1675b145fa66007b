# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The run's root PRNG key, of a ``jax.random`` implementation named by config.

Every random draw of a run (data order, augmentations, dropout, MixUp
partners, model init) is ``jax.random`` on keys folded from one root key, so
they all follow the root key's implementation:

* ``"threefry2x32"`` (default): JAX's counter-based generator; the same bits on
  every backend and under any sharding.
* ``"rbg"`` / ``"unsafe_rbg"``: XLA's ``RngBitGenerator``, much cheaper per
  bit on TPU and GPU (and for large unbatched draws on CPU, e.g. the
  relational transformer's edge-dropout masks). Under ``vmap`` XLA:CPU runs it
  one key at a time, so per-sample augmentations on CPU are slower with it.

Plugins add implementations with :func:`register_impl` (the XLA:CPU plugin
adds ``"lowbias32"``, :mod:`dws_jax.xla_cpu.prng`, a counter hash that
XLA:CPU runs several times faster than threefry).

Set it with ``config.prng_impl`` (``--config.prng_impl=rbg``). A config
written before the option existed means ``"threefry2x32"``.
"""

from __future__ import annotations

from collections.abc import Hashable

import jax

DEFAULT_IMPL = "threefry2x32"
IMPLS = ("threefry2x32", "rbg", "unsafe_rbg")
# Implementations added by plugins: name -> jax.extend.random PRNG spec.
_REGISTERED: dict[str, Hashable] = {}


def register_impl(name: str, impl: Hashable) -> None:
  """Makes ``prng_impl=name`` select ``impl`` (a ``jax.extend.random`` spec)."""
  if name in IMPLS:
    raise ValueError(f"prng_impl {name!r} is a built-in jax.random "
                     "implementation and cannot be replaced")
  _REGISTERED[name] = impl


def known_impls() -> tuple[str, ...]:
  """Built-in names, then registered ones."""
  return IMPLS + tuple(sorted(_REGISTERED))


def root_key(seed: int, impl: str = DEFAULT_IMPL) -> jax.Array:
  """The root key of a run.

  Args:
    seed: integer seed.
    impl: a name of :func:`known_impls`.

  Returns:
    A new-style typed key (``jax.random.key``) of implementation ``impl``.

  Raises:
    ValueError: unknown ``impl`` (the message lists the known ones).
  """
  if impl in _REGISTERED:
    return jax.random.key(seed, impl=_REGISTERED[impl])
  if impl not in IMPLS:
    raise ValueError(
        f"prng_impl {impl!r} is not a jax.random implementation known here; "
        f"choose one of {', '.join(known_impls())} (plugins add more: "
        "lowbias32 comes with dws_jax.xla_cpu)")
  return jax.random.key(seed, impl=impl)
