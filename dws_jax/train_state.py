# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The training state pytree."""

from __future__ import annotations

from typing import Any

from flax import struct
import jax
import optax


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
