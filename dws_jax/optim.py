# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Config -> optax optimizer, matching the official trainer's options.

* ``adam``: Adam with L2 weight decay added to the gradient (PyTorch
  ``Adam(weight_decay=...)``, not decoupled). The official default.
* ``adamw``: decoupled weight decay with AMSGrad (the official ``adamw``).
* ``sgd``: momentum 0.9 with L2 weight decay.

Learning rate: ``lr * min(step + 1, warmup) / warmup`` then constant, as the
official ``WarmupLRScheduler`` stepped once per optimizer step
(``warmup_steps=0`` disables it).
"""

from __future__ import annotations

import jax.numpy as jnp
import ml_collections
import optax

OPTIMIZERS = ("adam", "adamw", "sgd")


def warmup_constant(lr: float, warmup_steps: int) -> optax.Schedule:
  """``lr * min(count + 1, warmup_steps) / warmup_steps``; constant after."""
  if warmup_steps <= 0:
    return optax.constant_schedule(lr)
  return lambda count: lr * jnp.minimum(count + 1, warmup_steps) / warmup_steps


def make_optimizer(config: ml_collections.ConfigDict
                   ) -> optax.GradientTransformation:
  """Builds the optimizer from ``config`` (fields: name, lr, weight_decay,
  warmup_steps, grad_clip, momentum)."""
  name = config.name
  if name not in OPTIMIZERS:
    raise ValueError(f"unknown optimizer {name!r}; expected one of {OPTIMIZERS}")
  if config.lr <= 0:
    raise ValueError(f"optim.lr must be positive, got {config.lr}")
  if config.weight_decay < 0:
    raise ValueError(f"optim.weight_decay must be >= 0, got {config.weight_decay}")
  schedule = warmup_constant(config.lr, config.warmup_steps)
  parts = []
  if config.get("grad_clip"):
    parts.append(optax.clip_by_global_norm(config.grad_clip))
  if name == "adam":
    parts += [optax.add_decayed_weights(config.weight_decay), optax.scale_by_adam()]
  elif name == "adamw":
    parts += [optax.scale_by_amsgrad(),
              optax.add_decayed_weights(config.weight_decay)]
  else:
    parts += [optax.add_decayed_weights(config.weight_decay),
              optax.trace(decay=config.get("momentum", 0.9))]
  parts.append(optax.scale_by_learning_rate(schedule))
  return optax.chain(*parts)
