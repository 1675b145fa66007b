# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The training state pytree."""

from __future__ import annotations

from typing import Any

from flax import struct
import jax
import jax.numpy as jnp
import numpy as np
import optax

from dws_jax import parallel


class TrainState(struct.PyTreeNode):
  """Everything that changes during training, as one pytree.

  Attributes:
    step: int32 scalar, number of optimizer steps taken. The data order and
      every random draw of step ``t`` are pure functions of ``(seed, t)``, so
      the step is also the RNG position.
    params: model parameters.
    opt_state: optax state.
    model_state: non-parameter collections (e.g. ``batch_stats``); may be empty.
  """

  step: jax.Array
  params: Any
  opt_state: optax.OptState
  model_state: Any


INIT_MODES = ("auto", "jit", "eager")


def resolve_init_mode(mode: str = "auto") -> str:
  """``"jit"`` or ``"eager"``; ``"auto"`` is eager on CPU, jit elsewhere.

  XLA:CPU compiles every ``jax.random`` call of a jitted init separately
  inlined (about 0.2 s each): a DWSNet init (524 parameter tensors, 548
  threefry calls) compiles in minutes, while running it op by op (each op's
  executable cached and shared) takes seconds. Accelerators compile it fast.
  """
  if mode not in INIT_MODES:
    raise ValueError(f"init mode {mode!r}: expected one of {INIT_MODES}")
  if mode == "auto":
    return "eager" if jax.default_backend() == "cpu" else "jit"
  return mode


def create(model, tx: optax.GradientTransformation, rngs: dict, sample,
           sharding: jax.sharding.Sharding, mode: str = "auto") -> TrainState:
  """A fresh :class:`TrainState` at step 0, placed with ``sharding``.

  ``jit``: the abstract state (``jax.eval_shape``) gives the output
  shardings of one ``jax.jit(init, out_shardings=...)``, so every device gets
  its part directly (as big_vision does). ``eager``: the same init op by op,
  then placed (see :func:`resolve_init_mode`). Both draw the same values
  from the same keys (up to float rounding of fused ops); every process of a
  multi-host run draws the same.

  Args:
    model: Flax module taking ``(sample, train=False)``.
    tx: optax optimizer.
    rngs: init PRNG keys, e.g. ``{"params": k1, "dropout": k2}``.
    sample: a small batch of model inputs (its values are not used).
    sharding: sharding of every leaf of the state (e.g. replicated).
    mode: ``"auto"``, ``"jit"`` or ``"eager"``.

  Returns:
    The state, every leaf placed with ``sharding``.
  """

  def init(rngs):
    variables = dict(model.init(rngs, sample, train=False))
    params = variables.pop("params")
    return TrainState(step=jnp.zeros((), jnp.int32), params=params,
                      opt_state=tx.init(params), model_state=variables)

  if resolve_init_mode(mode) == "jit":
    shapes = jax.eval_shape(init, rngs)
    shardings = jax.tree.map(lambda _: sharding, shapes)
    return jax.jit(init, out_shardings=shardings)(rngs)
  return parallel.put_global(jax.tree.map(np.asarray, init(rngs)), sharding)
