# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Jittable train and eval steps; no I/O.

The train step gathers its batch from the device-resident training set, draws
its randomness from ``fold_in(key, step)``, augments the batch (any registered
augmentation or MixUp, alignment included) and applies one optax update, all
inside one jitted function.
"""

from __future__ import annotations

import contextlib

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax

from dws_jax import losses
from dws_jax import parallel
from dws_jax import train_state as ts
from dws_jax import weight_space as wsp
from dws_jax.data.types import Split

# fold_in tags separating the independent random streams of a run.
DATA_STREAM, STEP_STREAM, INIT_STREAM = 1, 2, 3


class Normalizer(NamedTuple):
  """Per-tensor scalars: ``mean.weights[l]`` and ``std.weights[l]`` are ``()``."""

  mean: wsp.WeightSpace
  std: wsp.WeightSpace


def weight_statistics(ws: wsp.WeightSpace) -> Normalizer:
  """Mean and std of every weight and bias tensor over a batch ``(N, ...)``.

  One scalar per tensor (not per entry), so normalising keeps every
  permutation symmetry of the weight space exact.
  """
  mean = ws.map(lambda x: jnp.mean(x))
  std = ws.map(lambda x: jnp.maximum(jnp.std(x), 1e-8))
  return Normalizer(mean, std)


def normalize(ws: wsp.WeightSpace, stats: Normalizer | None) -> wsp.WeightSpace:
  """``(ws - mean) / std`` per tensor; identity when ``stats`` is None."""
  if stats is None:
    return ws
  return jax.tree.map(lambda x, m, s: (x - m) / s, ws, stats.mean, stats.std)


def batch_indices(key: jax.Array, step: jax.Array, num_examples: int,
                  batch_size: int) -> jax.Array:
  """Indices ``(batch_size,)`` of step ``step``: epoch-wise shuffling.

  Epoch ``e = step // steps_per_epoch`` visits a permutation drawn from
  ``fold_in(key, e)``; the remainder of each epoch is dropped.
  """
  steps_per_epoch = num_examples // batch_size
  epoch, pos = step // steps_per_epoch, step % steps_per_epoch
  perm = jax.random.permutation(jax.random.fold_in(key, epoch), num_examples)
  return jax.lax.dynamic_slice_in_dim(perm, pos * batch_size, batch_size)


def _mesh_context(mesh: jax.sharding.Mesh | None):
  """The mesh as abstract-mesh context while tracing, or nothing.

  Host callbacks (aligned MixUp's host matching) and native CPU kernels see
  it and run per device on its shard of the batch
  (:func:`dws_jax.parallel.per_data_shard`).
  """
  if mesh is None:
    return contextlib.nullcontext()
  return jax.sharding.use_abstract_mesh(mesh.abstract_mesh)


mesh_context = _mesh_context  # for the steps of other tasks (contrastive.py)


def make_train_step(*, apply_fn: Callable, tx: optax.GradientTransformation,
                    aug_fn: Callable | None, num_classes: int, batch_size: int,
                    mesh: jax.sharding.Mesh | None = None,
                    stats: Normalizer | None = None) -> Callable:
  """Returns ``train_step(state, train, key[, pool]) -> (state, metrics)``.

  Not jitted. ``pool`` ``(ws (P, ...), soft labels (P, C))``, e.g. every view
  of the training set, is where MixUp with ``reference_compat=True`` draws its
  partners; pass it exactly when ``aug_fn.needs_partner_pool``.

  Args:
    apply_fn: ``model.apply``; called as ``apply_fn(variables, ws, train=True,
      rngs={"dropout": k}, mutable=[...])``.
    tx: optax optimizer.
    aug_fn: ``aug_fn(key, ws_batch, soft_labels) -> (ws_batch, soft_labels)``
      or None.
    num_classes: ``C``.
    batch_size: global batch size ``B``.
    mesh: when given, the batch is sharded along its ``"data"`` axis.
    stats: when given, the model sees ``normalize(aug(ws), stats)``:
      augmentations act on raw weights, as in the official pipeline.
  """

  def constrain(tree):
    if mesh is None:
      return tree
    return jax.lax.with_sharding_constraint(tree, parallel.data_sharded(mesh))

  def train_step(state: ts.TrainState, train: Split, key: jax.Array,
                 pool: tuple[wsp.WeightSpace, jax.Array] | None = None):
    num = train.labels.shape[0]
    idx = batch_indices(jax.random.fold_in(key, DATA_STREAM), state.step, num,
                        batch_size)
    ws = constrain(train.ws[idx])
    labels = constrain(jax.nn.one_hot(train.labels[idx], num_classes))
    step_key = jax.random.fold_in(jax.random.fold_in(key, STEP_STREAM),
                                  state.step)
    aug_key, dropout_key = jax.random.split(step_key)
    if aug_fn is not None:
      extra = {} if pool is None else {"partner_pool": pool}
      with _mesh_context(mesh):
        ws, labels = aug_fn(aug_key, ws, labels, **extra)
      ws, labels = constrain(ws), constrain(labels)
    ws = normalize(ws, stats)
    mutable = list(state.model_state)

    def loss_fn(params):
      variables = {"params": params, **state.model_state}
      out = apply_fn(variables, ws, train=True, rngs={"dropout": dropout_key},
                     mutable=mutable or False)
      logits, new_model_state = out if mutable else (out, {})
      loss = losses.softmax_xent(logits=logits, labels=labels)
      return loss, (logits, new_model_state)

    with _mesh_context(mesh):
      (loss, (logits, new_model_state)), grads = jax.value_and_grad(
          loss_fn, has_aux=True)(state.params)
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    metrics = {
        "loss": loss,
        "accuracy": jnp.mean(losses.correct(
            logits=logits, labels=jnp.argmax(labels, -1))),
        "grad_norm": optax.global_norm(grads),
        "params_finite": jnp.isfinite(optax.global_norm(params)),
    }
    new_state = state.replace(step=state.step + 1, params=params,
                              opt_state=opt_state,
                              model_state=dict(new_model_state))
    return new_state, metrics

  return train_step


def make_eval_step(*, apply_fn: Callable, num_classes: int,
                   stats: Normalizer | None = None,
                   mesh: jax.sharding.Mesh | None = None) -> Callable:
  """Returns ``eval_step(state, ws, labels, mask) -> sums`` (not jitted).

  Inputs are a padded chunk: ``ws`` leaves ``(E, ...)``, ``labels`` ``(E,)``,
  ``mask`` ``(E,)`` with 0 on padding. Returns summed loss, correct count and
  count, so chunks add up exactly. ``mesh``: the mesh whose ``"data"`` axis
  the chunk is sharded along, if any.
  """

  def eval_step(state: ts.TrainState, ws: wsp.WeightSpace, labels: jax.Array,
                mask: jax.Array) -> dict[str, Any]:
    with _mesh_context(mesh):
      logits = apply_fn({"params": state.params, **state.model_state},
                        normalize(ws, stats), train=False)
    onehot = jax.nn.one_hot(labels, num_classes)
    loss = optax.softmax_cross_entropy(logits, onehot)
    return {"loss_sum": jnp.sum(loss * mask),
            "correct": jnp.sum(losses.correct(logits=logits, labels=labels) * mask),
            "count": jnp.sum(mask)}

  return eval_step
