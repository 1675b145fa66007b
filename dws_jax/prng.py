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

Set it with ``config.prng_impl`` (``--config.prng_impl=rbg``). ``"auto"``
(the configs' default) is the implementation a plugin registered as preferred
for the default backend (``lowbias32`` on CPU with the XLA:CPU plugin), else
``"threefry2x32"``; it is resolved on the host that runs, and the resolved
name is in the run's ``summary.json``. A config written before the option
existed means ``"auto"``.
"""

from __future__ import annotations

from collections.abc import Hashable

import jax

DEFAULT_IMPL = "threefry2x32"
AUTO = "auto"
IMPLS = ("threefry2x32", "rbg", "unsafe_rbg")
# Implementations added by plugins: name -> jax.extend.random PRNG spec, and
# backend -> the name "auto" picks there.
_REGISTERED: dict[str, Hashable] = {}
_PREFERRED: dict[str, str] = {}


def register_impl(name: str, impl: Hashable,
                  preferred_on: tuple[str, ...] = ()) -> None:
  """Makes ``prng_impl=name`` select ``impl`` (a ``jax.extend.random`` spec).

  Args:
    name: the config value.
    impl: the PRNG spec (``jax.extend.random.define_prng_impl``).
    preferred_on: backends (``jax.default_backend()`` names) where ``"auto"``
      picks it.
  """
  if name in IMPLS or name == AUTO:
    raise ValueError(f"prng_impl {name!r} is a built-in name and cannot be "
                     "replaced")
  _REGISTERED[name] = impl
  for backend in preferred_on:
    _PREFERRED[backend] = name


def resolve(impl: str = AUTO) -> str:
  """The implementation name ``impl`` stands for on this host."""
  if impl == AUTO:
    return _PREFERRED.get(jax.default_backend(), DEFAULT_IMPL)
  if impl not in IMPLS and impl not in _REGISTERED:
    raise ValueError(
        f"prng_impl {impl!r} is not a jax.random implementation known here; "
        f"choose auto or one of {', '.join(known_impls())} (plugins add more: "
        "lowbias32 comes with dws_jax.xla_cpu)")
  return impl


def known_impls() -> tuple[str, ...]:
  """Built-in names, then registered ones."""
  return IMPLS + tuple(sorted(_REGISTERED))


def root_key(seed: int, impl: str = DEFAULT_IMPL) -> jax.Array:
  """The root key of a run.

  Args:
    seed: integer seed.
    impl: ``"auto"`` or a name of :func:`known_impls`.

  Returns:
    A new-style typed key (``jax.random.key``) of implementation ``impl``.

  Raises:
    ValueError: unknown ``impl`` (the message lists the known ones).
  """
  impl = resolve(impl)
  return jax.random.key(seed, impl=_REGISTERED.get(impl, impl))
