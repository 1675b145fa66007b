# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Sine activations for SIRENs: exact ``jnp.sin`` and a fast polynomial sine.

XLA:CPU lowers ``jnp.sin`` to a scalar routine (about 0.2 G elements/s on the
reference machine), which makes it ~75% of a SIREN fitting step. :func:`fast_sin`
is a vectorisable polynomial with a custom JVP (``d/dx sin = cos``, itself the
polynomial at ``x + pi/2``), accurate to about 1e-6 for ``|x| <= 100``, and
several times faster on CPU. :func:`get_sin` picks it on CPU (``"auto"``) and
``jnp.sin`` elsewhere.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

_TWO_PI_HI = np.float32(2 * np.pi)
_TWO_PI_LO = np.float32(2 * np.pi - float(_TWO_PI_HI))
_INV_TWO_PI = np.float32(1 / (2 * np.pi))
_HALF_PI = np.float32(np.pi / 2)
_PI = np.float32(np.pi)
# Taylor coefficients of sin(r) = r + r^3 * p(r^2), good on [-pi/2, pi/2].
_C3, _C5, _C7, _C9, _C11 = (-1.6666666666666666667e-1, 8.3333333333333333333e-3,
                            -1.9841269841269841270e-4, 2.7557319223985890653e-6,
                            -2.5052108385441718775e-8)


def _sin_poly(x: jax.Array) -> jax.Array:
  """Polynomial sine: two-constant range reduction to [-pi/2, pi/2]."""
  k = jnp.round(x * _INV_TWO_PI)
  r = (x - k * _TWO_PI_HI) - k * _TWO_PI_LO  # in [-pi, pi]
  r = jnp.where(r > _HALF_PI, _PI - r, jnp.where(r < -_HALF_PI, -_PI - r, r))
  r2 = r * r
  p = (((_C11 * r2 + _C9) * r2 + _C7) * r2 + _C5) * r2 + _C3
  return r + r * r2 * p


@jax.custom_jvp
def fast_sin(x: jax.Array) -> jax.Array:
  """Elementwise sine by polynomial; any shape; max abs error ~1e-6 for |x|<=100."""
  return _sin_poly(x)


@fast_sin.defjvp
def _fast_sin_jvp(primals, tangents):
  (x,), (t,) = primals, tangents
  return _sin_poly(x), _sin_poly(x + _HALF_PI) * t


SIN_FUNCTIONS = ("auto", "fast", "exact")


def get_sin(name: str | Callable = "auto") -> Callable[[jax.Array], jax.Array]:
  """Returns the sine to use: ``"fast"``, ``"exact"`` or ``"auto"`` (fast on CPU).

  A callable is returned unchanged, so users can plug in their own.
  """
  if callable(name):
    return name
  if name == "auto":
    name = "fast" if jax.default_backend() == "cpu" else "exact"
  if name == "fast":
    return fast_sin
  if name == "exact":
    return jnp.sin
  raise ValueError(f"unknown sine {name!r}; expected one of {SIN_FUNCTIONS} or a "
                   "callable")
