# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Self-supervised contrastive learning in weight space (SimCLR on INRs).

``config.task = "contrastive"`` makes :func:`dws_jax.train.train_and_evaluate`
train an encoder without labels: every jitted step draws a batch of INRs,
makes two views of each with independent keys (any augmentation string of
:mod:`dws_jax.augment`, e.g. ``"translate|self_mixup_aligned"``), encodes both
with a registered model's embedding (``model.embed``) and a projector MLP
(:class:`ContrastiveModel`), and minimises NT-Xent (:func:`nt_xent`, SimCLR's
InfoNCE with ``2B - 2`` negatives per anchor, both views as anchors).

Labels are used only to evaluate: a linear probe and k-NN on the frozen
embeddings (:mod:`dws_jax.probe`) of view 0 of the train objects, scored on
val and test, at step 0 (the randomly initialised encoder, the reference row),
every ``probe.every_epochs`` epochs and at the end of training.

Config fields (``configs/ssl_fmnist.py``)::

  task = "contrastive"
  contrastive.temperature = 0.1        # > 0
  contrastive.projector = (128, 64)    # Dense widths, ReLU between
  probe.every_epochs = 5               # 0: only at step 0 and at the end
  probe.l2_grid = (1e-4, ..., 1.0)     # logistic regression L2, chosen on val
  probe.steps = 100                    # L-BFGS iterations per fit
  probe.knn_k = 10
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from dws_jax import parallel
from dws_jax import probe
from dws_jax import steps
from dws_jax import train_state as ts
from dws_jax import weight_space as wsp

Array = jax.Array
TASKS = ("classification", "contrastive")
# Summary keys of a contrastive run (the final probe, and the random encoder's).
SUMMARY_KEYS = ("probe_val_accuracy", "probe_test_accuracy", "probe_l2",
                "knn_val_accuracy", "knn_test_accuracy")


# -- loss ------------------------------------------------------------------------


def _logits_and_targets(z_a: Array, z_b: Array, temperature: float
                        ) -> tuple[Array, Array]:
  """Cosine-similarity logits ``(2B, 2B)`` (self-pairs masked) and targets."""
  if z_a.ndim != 2 or z_b.shape != z_a.shape:
    raise ValueError(f"nt_xent needs two (B, D) embeddings of the same shape, "
                     f"got {z_a.shape} and {z_b.shape}")
  z = jnp.concatenate([z_a, z_b]).astype(jnp.float32)
  z = z / jnp.maximum(jnp.linalg.norm(z, axis=-1, keepdims=True), 1e-12)
  logits = (z @ z.T) / temperature
  num = z_a.shape[0]
  logits = jnp.where(jnp.eye(2 * num, dtype=bool), -jnp.inf, logits)
  targets = jnp.concatenate([jnp.arange(num, 2 * num), jnp.arange(num)])
  return logits, targets


def nt_xent(z_a: Array, z_b: Array, temperature: float = 0.1) -> Array:
  """NT-Xent / InfoNCE loss of SimCLR (Chen et al. 2020), symmetric.

  Rows of ``z_a`` and ``z_b`` are the two views of the same ``B`` samples.
  With ``u_i`` the L2-normalised rows of ``[z_a; z_b]`` and ``p(i)`` the other
  view of sample ``i``, the loss is

      mean over the 2B anchors i of
        -log( exp(u_i . u_p(i) / t) / sum_{k != i} exp(u_i . u_k / t) ),

  so every anchor has one positive and ``2B - 2`` negatives, and both views
  serve as anchors.

  Args:
    z_a: ``(B, D)`` projections of the first views.
    z_b: ``(B, D)`` projections of the second views.
    temperature: ``t > 0``.

  Returns:
    Scalar loss.
  """
  logits, targets = _logits_and_targets(z_a, z_b, temperature)
  log_p = jax.nn.log_softmax(logits, axis=-1)
  return -jnp.mean(jnp.take_along_axis(log_p, targets[:, None], -1))


def contrastive_accuracy(z_a: Array, z_b: Array) -> Array:
  """Fraction of the ``2B`` anchors whose most similar other row is the
  positive (SimCLR's top-1 instance accuracy)."""
  logits, targets = _logits_and_targets(z_a, z_b, 1.0)
  return jnp.mean((jnp.argmax(logits, -1) == targets).astype(jnp.float32))


# -- model -----------------------------------------------------------------------


class ContrastiveModel(nn.Module):
  """An encoder's embedding followed by a projector MLP.

  ``__call__`` gives the projection ``(B, projector[-1])`` that the loss sees;
  :meth:`embed` the encoder's embedding ``(B, D)`` that the probe sees. Only
  the encoder's embedding path has parameters here (no classifier head).

  Attributes:
    encoder: a registered weight-space model with an ``embed`` method.
    projector: widths of the projector's Dense layers (ReLU between).
  """

  encoder: nn.Module
  projector: Sequence[int] = (128, 64)

  def setup(self):
    self.projector_layers = [nn.Dense(int(f), name=f"projector_{i}")
                             for i, f in enumerate(self.projector)]

  def embed(self, ws: wsp.WeightSpace, train: bool = False) -> Array:
    """The encoder's embedding ``(B, D)``."""
    return self.encoder.embed(ws, train)

  def __call__(self, ws: wsp.WeightSpace, train: bool = False) -> Array:
    """Projection ``(B, projector[-1])`` of a batch of INRs."""
    x = self.embed(ws, train)
    for i, dense in enumerate(self.projector_layers):
      if i:
        x = nn.relu(x)
      x = dense(x)
    return x


# -- config ----------------------------------------------------------------------


def task_of(config: ml_collections.ConfigDict) -> str:
  """``config.task`` (default ``"classification"``), checked."""
  task = config.get("task", "classification")
  if task not in TASKS:
    raise ValueError(f"unknown task {task!r}; expected one of {TASKS}")
  return task


def check_augmentation(aug: Any) -> None:
  """Refuses augmentations that use labels, naming the label-free ones.

  Raises:
    ValueError: ``aug`` has label smoothing or a supervised MixUp variant.
  """
  from dws_jax import augment  # pylint: disable=g-import-not-at-top
  from dws_jax.augment import mixup  # pylint: disable=g-import-not-at-top
  if not aug or aug == "none":
    return
  labelled = augment.label_augmentations(aug)
  if not labelled:
    return
  hints = []
  for name in labelled:
    if name in mixup.SELF_ALTERNATIVES:
      hints.append(f"{name} -> {mixup.SELF_ALTERNATIVES[name]}")
    else:
      hints.append(f"{name} -> drop it")
  raise ValueError(
      f"aug={aug!r}: {', '.join(labelled)} "
      f"{'uses' if len(labelled) == 1 else 'use'} labels, which contrastive "
      "training does not have; use the label-free alternative ("
      f"{'; '.join(hints)}), e.g. aug='translate|self_mixup_aligned'")


def check_config(config: ml_collections.ConfigDict) -> None:
  """Checks the contrastive fields of ``config`` (module docstring).

  Raises:
    ValueError: naming the bad field.
  """
  c = config.get("contrastive", ml_collections.ConfigDict())
  t = c.get("temperature", 0.1)
  if (isinstance(t, bool) or not isinstance(t, (int, float))
      or not math.isfinite(t) or t <= 0):
    raise ValueError(f"contrastive.temperature must be a finite number > 0, "
                     f"got {t!r}")
  proj = tuple(c.get("projector", (128, 64)))
  if not proj or any(isinstance(f, bool) or not isinstance(f, int) or f < 1
                     for f in proj):
    raise ValueError(f"contrastive.projector must be a non-empty list of "
                     f"positive widths, got {proj!r}")
  p = config.get("probe", ml_collections.ConfigDict())
  every = p.get("every_epochs", 0)
  if isinstance(every, bool) or not isinstance(every, int) or every < 0:
    raise ValueError(f"probe.every_epochs must be an integer >= 0 (0: only at "
                     f"step 0 and at the end), got {every!r}")
  grid = tuple(p.get("l2_grid", probe.DEFAULT_L2_GRID))
  if not grid or any(isinstance(l, bool) or not isinstance(l, (int, float))
                     or not math.isfinite(l) or l < 0 for l in grid):
    raise ValueError(f"probe.l2_grid must be a non-empty list of numbers >= 0,"
                     f" got {grid!r}")
  for name, default in (("steps", 100), ("knn_k", 10)):
    v = p.get(name, default)
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
      raise ValueError(f"probe.{name} must be a positive integer, got {v!r}")
  check_augmentation(config.aug)


def wrap_model(config: ml_collections.ConfigDict, encoder: nn.Module
               ) -> ContrastiveModel:
  """The encoder with the configured projector."""
  c = config.get("contrastive", ml_collections.ConfigDict())
  return ContrastiveModel(encoder, tuple(c.get("projector", (128, 64))))


# -- steps -----------------------------------------------------------------------


def view_partner_indices(key: Array, idx: Array, num_objects: int,
                         num_views: int) -> Array:
  """Index of another view of the same object, for every record in ``idx``.

  Records are view-major (``index = view * num_objects + object``); the other
  view is drawn uniformly from the ``num_views - 1`` others.

  Args:
    key: PRNG key.
    idx: int ``(B,)`` record indices.
    num_objects: objects per view.
    num_views: views (> 1).

  Returns:
    int ``(B,)`` record indices.
  """
  view, obj = idx // num_objects, idx % num_objects
  shift = jax.random.randint(key, idx.shape, 1, num_views)
  return ((view + shift) % num_views) * num_objects + obj


def make_train_step(*, apply_fn: Callable, tx: optax.GradientTransformation,
                    aug_fn: Callable | None, batch_size: int,
                    temperature: float, num_views: int = 1,
                    mesh: jax.sharding.Mesh | None = None,
                    stats: steps.Normalizer | None = None) -> Callable:
  """Returns ``train_step(state, train, key, pool=None) -> (state, metrics)``.

  Not jitted; the contrastive counterpart of :func:`dws_jax.steps.
  make_train_step`, with the same data order, per-step keys and metrics keys
  (``accuracy`` is :func:`contrastive_accuracy`). The two views of the batch
  are augmented with independent keys and encoded in one ``(2B, ...)`` pass.

  Args:
    apply_fn: ``ContrastiveModel.apply``.
    tx: optax optimizer.
    aug_fn: a built :class:`~dws_jax.augment.Augmentation` (label-free), or
      None (then the two views coincide).
    batch_size: global batch size ``B``.
    temperature: NT-Xent temperature.
    num_views: views per object in ``train`` (view-major records); with more
      than one, self-MixUp mixes with another of them.
    mesh: when given, the batch is sharded along its ``"data"`` axis.
    stats: weight normalisation after augmentation, as supervised training.
  """

  def constrain(tree):
    if mesh is None:
      return tree
    return jax.lax.with_sharding_constraint(tree, parallel.data_sharded(mesh))

  def train_step(state: ts.TrainState, train: steps.Split, key: Array,
                 pool: Any = None):
    if pool is not None:
      raise ValueError("contrastive training draws no MixUp partner pool")
    num = train.labels.shape[0]
    idx = steps.batch_indices(jax.random.fold_in(key, steps.DATA_STREAM),
                              state.step, num, batch_size)
    ws = constrain(train.ws[idx])
    step_key = jax.random.fold_in(jax.random.fold_in(key, steps.STEP_STREAM),
                                  state.step)
    *view_keys, dropout_key = jax.random.split(step_key, 3)
    views = []
    for view_key in view_keys:
      view = ws
      if aug_fn is not None:
        aug_key, partner_key = jax.random.split(view_key)
        extra = {}
        if getattr(aug_fn, "uses_view_partners", False) and num_views > 1:
          other = view_partner_indices(partner_key, idx, num // num_views,
                                       num_views)
          extra["view_partners"] = constrain(train.ws[other])
        with steps.mesh_context(mesh):
          view, _ = aug_fn(aug_key, ws, None, **extra)
        view = constrain(view)
      views.append(steps.normalize(view, stats))
    both = constrain(jax.tree.map(lambda a, b: jnp.concatenate([a, b]), *views))
    mutable = list(state.model_state)

    def loss_fn(params):
      variables = {"params": params, **state.model_state}
      out = apply_fn(variables, both, train=True, rngs={"dropout": dropout_key},
                     mutable=mutable or False)
      z, new_model_state = out if mutable else (out, {})
      z_a, z_b = z[:batch_size], z[batch_size:]
      return nt_xent(z_a, z_b, temperature), (z_a, z_b, new_model_state)

    with steps.mesh_context(mesh):
      (loss, (z_a, z_b, new_model_state)), grads = jax.value_and_grad(
          loss_fn, has_aux=True)(state.params)
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    metrics = {
        "loss": loss,
        "accuracy": contrastive_accuracy(z_a, z_b),
        "grad_norm": optax.global_norm(grads),
        "params_finite": jnp.isfinite(optax.global_norm(params)),
    }
    new_state = state.replace(step=state.step + 1, params=params,
                              opt_state=opt_state,
                              model_state=dict(new_model_state))
    return new_state, metrics

  return train_step


def make_embed_step(*, apply_fn: Callable, stats: steps.Normalizer | None = None,
                    mesh: jax.sharding.Mesh | None = None) -> Callable:
  """Returns ``embed_step(state, ws, labels, mask) -> embeddings (E, D)``.

  Not jitted; takes the padded chunks of :func:`dws_jax.steps.make_eval_step`.
  """

  def embed_step(state: ts.TrainState, ws: wsp.WeightSpace, labels: Array,
                 mask: Array) -> Array:
    del labels, mask
    with steps.mesh_context(mesh):
      return apply_fn({"params": state.params, **state.model_state},
                      steps.normalize(ws, stats), train=False,
                      method=ContrastiveModel.embed)

  return embed_step


# -- evaluation ------------------------------------------------------------------


def embeddings(embed_step: Callable, state: ts.TrainState, chunks
               ) -> tuple[np.ndarray, np.ndarray]:
  """Embeddings ``(N, D)`` and labels ``(N,)`` of a split's padded chunks."""
  feats, labels = [], []
  for chunk in chunks:
    out = jax.device_get(embed_step(state, *chunk))
    _, y, mask = jax.device_get(chunk)
    keep = np.asarray(mask) > 0
    feats.append(np.asarray(out)[keep])
    labels.append(np.asarray(y)[keep])
  return np.concatenate(feats), np.concatenate(labels)


def evaluate(config: ml_collections.ConfigDict, embed_step: Callable,
             state: ts.TrainState, chunks: dict[str, list], num_classes: int
             ) -> dict[str, float]:
  """Linear probe and k-NN of the current encoder.

  Args:
    config: run config (``probe`` fields).
    embed_step: from :func:`make_embed_step`, jitted.
    state: train state.
    chunks: padded device chunks of ``"probe_train"`` (view 0 of the train
      objects), ``"val"`` and ``"test"``.
    num_classes: ``C``.

  Returns:
    ``probe_{train,val,test}_accuracy``, ``probe_l2``,
    ``knn_{val,test}_accuracy``.
  """
  p = config.get("probe", ml_collections.ConfigDict())
  train = embeddings(embed_step, state, chunks["probe_train"])
  val = embeddings(embed_step, state, chunks["val"])
  test = embeddings(embed_step, state, chunks["test"])
  result = probe.linear_probe(
      train, val, test, num_classes=num_classes,
      l2_grid=tuple(p.get("l2_grid", probe.DEFAULT_L2_GRID)),
      steps=p.get("steps", 100))
  k = min(p.get("knn_k", 10), len(train[0]))
  return {
      "probe_train_accuracy": result.train_accuracy,
      "probe_val_accuracy": result.val_accuracy,
      "probe_test_accuracy": result.test_accuracy,
      "probe_l2": result.l2,
      "knn_val_accuracy": probe.knn_accuracy(train, val,
                                             num_classes=num_classes, k=k),
      "knn_test_accuracy": probe.knn_accuracy(train, test,
                                              num_classes=num_classes, k=k),
  }


def probe_due(config: ml_collections.ConfigDict, epoch: int) -> bool:
  """Whether epoch ``epoch`` (1-based) ends with a probe."""
  every = config.get("probe", ml_collections.ConfigDict()).get("every_epochs", 0)
  return epoch == config.num_epochs or bool(every and epoch % every == 0)


def summary(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
  """Final and step-0 (random encoder) probe numbers from the metrics."""
  final = next((r for r in reversed(records)
                if "probe_val_accuracy" in r and r["step"] > 0), {})
  init = next((r for r in records
               if "probe_val_accuracy" in r and r["step"] == 0), {})
  out = {"task": "contrastive"}
  out.update({k: final.get(k) for k in SUMMARY_KEYS})
  out.update({f"init_{k}": init.get(k) for k in SUMMARY_KEYS})
  return out
