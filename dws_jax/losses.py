# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Pure losses and metrics (keyword-only)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax


def softmax_xent(*, logits: jax.Array, labels: jax.Array,
                 mask: jax.Array | None = None) -> jax.Array:
  """Mean cross-entropy with soft targets.

  Args:
    logits: ``(B, C)``.
    labels: ``(B, C)`` soft targets (one-hot, mixed or smoothed).
    mask: optional ``(B,)`` weights (1 for real rows, 0 for padding).

  Returns:
    Scalar mean loss over (unmasked) rows.
  """
  losses = optax.softmax_cross_entropy(logits, labels)
  if mask is None:
    return losses.mean()
  return jnp.sum(losses * mask) / jnp.maximum(jnp.sum(mask), 1)


def correct(*, logits: jax.Array, labels: jax.Array) -> jax.Array:
  """``(B,)`` 1.0 where ``argmax(logits)`` equals the integer label ``(B,)``."""
  return (jnp.argmax(logits, -1) == labels).astype(jnp.float32)
