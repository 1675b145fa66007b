# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Downstream evaluation of frozen embeddings: linear probe and k-NN.

The linear probe is multinomial logistic regression on standardised features
(mean and std of the train features), fitted by full-batch L-BFGS
(``optax.lbfgs``) for every L2 strength of a small grid; the strength with the
best val accuracy (the strongest of ties) is kept and its test accuracy
reported. The k-NN classifier votes among the ``k`` train features of highest
cosine similarity (standardised features; ties go to the class of the nearest
neighbour). Both are deterministic functions of the features.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

Array = jax.Array
DEFAULT_L2_GRID = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)


class ProbeResult(NamedTuple):
  """Linear probe accuracies at the L2 strength chosen on val."""

  train_accuracy: float
  val_accuracy: float
  test_accuracy: float
  l2: float


def standardize(train: np.ndarray, *others: np.ndarray
                ) -> tuple[np.ndarray, ...]:
  """``(x - mean) / std`` with the train split's per-feature statistics.

  Args:
    train: ``(N, D)`` features the statistics come from.
    *others: more ``(M, D)`` feature arrays.

  Returns:
    The standardised ``train`` and ``others``, float32. Features constant on
    the train split (e.g. dead ReLUs) keep std 1.
  """
  train = np.asarray(train, np.float64)
  mean = train.mean(0)
  std = train.std(0)
  std = np.where(std > 1e-6 * (1.0 + np.abs(mean)), std, 1.0)
  return tuple(((np.asarray(x, np.float64) - mean) / std).astype(np.float32)
               for x in (train,) + others)


@functools.partial(jax.jit, static_argnames=("num_classes", "steps"))
def fit_logistic_regression(features: Array, labels: Array, l2: Array, *,
                            num_classes: int, steps: int = 100
                            ) -> tuple[Array, Array]:
  """Multinomial logistic regression by full-batch L-BFGS.

  Minimises ``mean_i CE(x_i W + b, y_i) + l2 / 2 * ||W||^2`` (bias not
  regularised) from zeros.

  Args:
    features: ``(N, D)`` float32.
    labels: ``(N,)`` int class indices in ``[0, num_classes)``.
    l2: scalar L2 strength.
    num_classes: ``C``.
    steps: L-BFGS iterations.

  Returns:
    ``(W (D, C), b (C,))``.
  """
  onehot = jax.nn.one_hot(labels, num_classes)

  def objective(params):
    w, b = params
    logits = features @ w + b
    return (jnp.mean(optax.softmax_cross_entropy(logits, onehot))
            + 0.5 * l2 * jnp.sum(w * w))

  params = (jnp.zeros((features.shape[1], num_classes), jnp.float32),
            jnp.zeros((num_classes,), jnp.float32))
  opt = optax.lbfgs()
  value_and_grad = optax.value_and_grad_from_state(objective)

  def body(carry, _):
    params, state = carry
    value, grad = value_and_grad(params, state=state)
    updates, state = opt.update(grad, state, params, value=value, grad=grad,
                                value_fn=objective)
    return (optax.apply_updates(params, updates), state), None

  (params, _), _ = jax.lax.scan(body, (params, opt.init(params)), None,
                                length=steps)
  return params


def _accuracy(params, features, labels) -> float:
  w, b = params
  predictions = np.argmax(np.asarray(features @ w + b), -1)
  return float(np.mean(predictions == np.asarray(labels)))


def _check(name, features, labels, dim=None):
  features, labels = np.asarray(features), np.asarray(labels)
  if features.ndim != 2 or labels.shape != features.shape[:1]:
    raise ValueError(f"{name}: need features (N, D) and labels (N,), got "
                     f"{features.shape} and {labels.shape}")
  if dim is not None and features.shape[1] != dim:
    raise ValueError(f"{name} features have {features.shape[1]} dims, train "
                     f"features {dim}")
  if not np.all(np.isfinite(features)):
    raise ValueError(f"{name} features are not all finite")
  return features, labels


def linear_probe(train: tuple[np.ndarray, np.ndarray],
                 val: tuple[np.ndarray, np.ndarray],
                 test: tuple[np.ndarray, np.ndarray], *, num_classes: int,
                 l2_grid: Sequence[float] = DEFAULT_L2_GRID,
                 steps: int = 100) -> ProbeResult:
  """Logistic regression on frozen features; L2 strength chosen on val.

  Args:
    train, val, test: ``(features (N, D), labels (N,))`` of each split.
    num_classes: ``C``.
    l2_grid: L2 strengths tried (each >= 0).
    steps: L-BFGS iterations per fit.

  Returns:
    The :class:`ProbeResult` of the strength with the best val accuracy (the
    strongest of ties).
  """
  x_tr, y_tr = _check("train", *train)
  x_va, y_va = _check("val", *val, dim=x_tr.shape[1])
  x_te, y_te = _check("test", *test, dim=x_tr.shape[1])
  if not l2_grid or any(not math.isfinite(l) or l < 0 for l in l2_grid):
    raise ValueError(f"l2_grid must be a non-empty list of finite strengths "
                     f">= 0, got {l2_grid!r}")
  x_tr, x_va, x_te = standardize(x_tr, x_va, x_te)
  best = None
  for l2 in sorted(float(l) for l in l2_grid):
    params = jax.device_get(fit_logistic_regression(
        x_tr, y_tr, jnp.float32(l2), num_classes=num_classes, steps=steps))
    result = ProbeResult(_accuracy(params, x_tr, y_tr),
                         _accuracy(params, x_va, y_va),
                         _accuracy(params, x_te, y_te), l2)
    if best is None or result.val_accuracy >= best.val_accuracy:
      best = result
  return best


@functools.partial(jax.jit, static_argnames=("k", "num_classes"))
def _knn_predict(train_x, train_y, query_x, *, k: int, num_classes: int):
  normed = lambda x: x / jnp.maximum(
      jnp.linalg.norm(x, axis=-1, keepdims=True), 1e-12)
  sim = normed(query_x) @ normed(train_x).T
  _, nearest = jax.lax.top_k(sim, k)
  votes = jax.nn.one_hot(train_y[nearest], num_classes).sum(1)
  votes = votes + 0.5 * jax.nn.one_hot(train_y[nearest[:, 0]], num_classes)
  return jnp.argmax(votes, -1)


def knn_accuracy(train: tuple[np.ndarray, np.ndarray],
                 query: tuple[np.ndarray, np.ndarray], *, num_classes: int,
                 k: int = 10) -> float:
  """Accuracy of k-nearest-neighbour voting (cosine similarity).

  Args:
    train: ``(features (N, D), labels (N,))`` the neighbours come from.
    query: ``(features (M, D), labels (M,))`` to classify.
    num_classes: ``C``.
    k: neighbours per query (at most ``N``).

  Returns:
    The fraction of queries whose vote is their label.
  """
  x_tr, y_tr = _check("train", *train)
  x_q, y_q = _check("query", *query, dim=x_tr.shape[1])
  if not isinstance(k, int) or not 1 <= k <= len(x_tr):
    raise ValueError(f"k must be an integer in [1, {len(x_tr)}] (the train "
                     f"size), got {k!r}")
  x_tr, x_q = standardize(x_tr, x_q)
  predictions = _knn_predict(x_tr, jnp.asarray(y_tr), x_q, k=k,
                             num_classes=num_classes)
  return float(np.mean(np.asarray(predictions) == y_q))
