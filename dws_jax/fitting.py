# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Fitting SIREN INRs to signals, many at once (vmap over INRs, scan over steps).

The recipe of DWSNets / the official code (paper.md §2.3): Adam lr 5e-4, MSE
over the full coordinate grid, at most 1000 steps, early stop per INR once
PSNR >= 40 dB (PSNR = -10 log10(MSE) for signals in [0, 1]).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from dws_jax import siren
from dws_jax import weight_space as wsp


class FitResult(NamedTuple):
  """Result of fitting ``B`` INRs.

  Attributes:
    ws: fitted WeightSpace, leaves ``(B, ...)``. An INR that reached the target
      keeps the weights of the step at which it first did.
    psnr: ``(B,)`` final PSNR in dB.
    steps: ``(B,)`` int32 number of optimizer steps taken.
  """

  ws: wsp.WeightSpace
  psnr: jax.Array
  steps: jax.Array


def psnr_from_mse(mse: jax.Array) -> jax.Array:
  """PSNR in dB for signals with peak 1: ``-10 log10(mse)``."""
  return -10.0 * jnp.log10(jnp.maximum(mse, 1e-20))


def inr_mse(ws: wsp.WeightSpace, coords: jax.Array, targets: jax.Array,
            spec: wsp.WeightSpaceSpec, sin="auto") -> jax.Array:
  """Mean squared error of one INR: coords ``(N, d_0)``, targets ``(N, d_L)``."""
  return jnp.mean((siren.apply_inr(ws, coords, spec, sin) - targets) ** 2)


@functools.partial(jax.jit, static_argnames=("spec", "steps", "lr", "init",
                                             "target_psnr", "sin"))
def fit_inrs(key: jax.Array, targets: jax.Array, coords: jax.Array,
             spec: wsp.WeightSpaceSpec, *, steps: int = 1000, lr: float = 5e-4,
             init: str = "siren", target_psnr: float = 40.0,
             sin="auto") -> FitResult:
  """Fits ``B`` INRs, one per target signal, in one jitted program.

  Args:
    key: PRNG key; INR ``i`` is initialised from ``fold_in(key, i)``.
    targets: ``(B, N, d_L)`` signal values at ``coords``.
    coords: ``(N, d_0)`` coordinates (e.g. :func:`dws_jax.make_grid`).
    spec: INR architecture.
    steps: maximum Adam steps.
    lr: Adam learning rate.
    init: ``"siren"`` or ``"dwsnets_code"``.
    target_psnr: an INR stops updating once its PSNR reaches this.
    sin: sine implementation.

  Returns:
    :class:`FitResult` with leaves batched over ``B``.
  """
  num = targets.shape[0]
  keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(num))
  ws0 = jax.vmap(lambda k: siren.init_weight_space(k, spec, init))(keys)
  tx = optax.adam(lr)
  loss_and_grad = jax.vmap(jax.value_and_grad(
      lambda ws, t: inr_mse(ws, coords, t, spec, sin)))

  def step(carry, _):
    ws, opt_state, done, n_steps, last_psnr = carry
    mse, grads = loss_and_grad(ws, targets)
    psnr = psnr_from_mse(mse)
    done = done | (psnr >= target_psnr)
    updates, new_opt = jax.vmap(tx.update)(grads, opt_state, ws)
    new_ws = optax.apply_updates(ws, updates)
    keep = lambda old, new: jnp.where(
        done.reshape((-1,) + (1,) * (old.ndim - 1)), old, new)
    ws = jax.tree.map(keep, ws, new_ws)
    opt_state = jax.tree.map(keep, opt_state, new_opt)
    n_steps = n_steps + (~done).astype(jnp.int32)
    last_psnr = jnp.where(done & (last_psnr > -jnp.inf), last_psnr, psnr)
    return (ws, opt_state, done, n_steps, last_psnr), None

  init_carry = (ws0, jax.vmap(tx.init)(ws0), jnp.zeros(num, bool),
                jnp.zeros(num, jnp.int32), jnp.full(num, -jnp.inf))
  (ws, _, _, n_steps, _), _ = jax.lax.scan(step, init_carry, None, length=steps)
  final_psnr = psnr_from_mse(jax.vmap(
      lambda w, t: inr_mse(w, coords, t, spec, sin))(ws, targets))
  return FitResult(ws, final_psnr, n_steps)
