# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Weight-space MixUp (Shamsian et al., ICML 2024, §4): vanilla, random
permutation and alignment-based, on pairs and on batches.

Every variant mixes an anchor ``(theta_a, y_a)`` with a partner
``(theta_b, y_b)``:

    theta = alpha * theta_a + (1 - alpha) * T(theta_b),
    y     = alpha * y_a     + (1 - alpha) * y_b,

where ``y`` are soft labels ``(C,)`` (one-hot for hard labels) and ``T`` is

* ``mixup`` (vanilla): the identity; ignores the permutation symmetry;
* ``mixup_perm`` (official key ``mixup_and_perm``): a uniformly random
  hidden-neuron permutation from the spec;
* ``mixup_aligned`` (official key ``rebasin``): the permutation that aligns
  ``theta_b`` to ``theta_a`` by Git Re-Basin weight matching
  (:mod:`dws_jax.matching`).

``alpha ~ U(0, 1)`` by default, as the official code (``torch.rand(1)``, one
scalar per sample); ``alpha_dist="beta"`` draws ``Beta(beta_alpha,
beta_alpha)`` instead.

Partners. The batched functions pick each anchor's partner inside the batch,
``partner = batch[pi]`` with ``pi`` a random permutation of the batch drawn on
device from the key, i.e. from the same training subset as the anchor (an
anchor may draw itself, with probability about ``1/B``, as in the official
code). The official data loader instead draws the partner uniformly from the
*whole* multi-view training set, even in a run that trains on one view
(paper.md §4), so extra views leak into the augmentation. ``reference_compat``
reproduces that: the built augmentation then takes a ``partner_pool=(ws_pool,
labels_pool)`` argument (e.g. every view of the training set) and draws
partners uniformly from it, with replacement.

``combine`` is the official composite: translate, Gaussian noise and SIREN
negation on the anchor (the registered sample augmentations, official
defaults 0.25, 0.32, 0.5), then alignment MixUp with a raw partner.

Self-MixUp (label-free; for self-supervised learning). ``self_mixup``,
``self_mixup_perm`` and ``self_mixup_aligned`` (alias ``self_rebasin``) mix
each INR with another *neural view of the same object*,

    theta = theta_a + (1 - alpha) * (T(theta_b) - theta_a)

(the MixUp formula, written so that ``theta_b == theta_a`` gives ``theta_a``
exactly), with ``T`` as above and labels left as they are (the object does
not change). The partner ``theta_b`` is

* another fitted view of the same object, when the caller passes
  ``view_partners`` (the trainer does when training on several views: row
  ``i`` is a view of the object of row ``i``, drawn from the *other* trained
  views);
* otherwise an augmented copy of the INR itself, ``copy_aug(theta_a)``: by
  default one augmentation drawn uniformly from the paper's list without
  label smoothing, as the official ``self_rebasin`` (which then aligns the
  copy back to ``theta_a``: ``self_mixup_aligned``).

``source="copy"`` always uses the copy. Unlike the official ``self_rebasin``,
labels are not mixed with an unrelated sample's (paper.md §4).

All are registered in :mod:`dws_jax.augment.registry` as kind ``"batch"``
(with the aliases ``mixup_and_perm``, ``rebasin`` and ``self_rebasin``) when
this module is imported; the self-MixUp variants with ``uses_labels=False``.
"""

from __future__ import annotations

import inspect
import math
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from dws_jax import matching
from dws_jax import weight_space as wsp
from dws_jax.augment import builder
from dws_jax.augment import registry

Array = jax.Array
Pool = tuple[wsp.WeightSpace, Array]

ALPHA_DISTS = ("uniform", "beta")
VARIANTS = ("vanilla", "perm", "aligned")
COMBINE_ANCHOR_AUGS = ("translate", "gaussian_noise", "siren_negation")
# The official self_rebasin's copy: one of name2aug without label smoothing.
SELF_COPY_AUG = ("random_choice(translate, rotate, scale, gaussian_noise, "
                 "dropout, quantile, siren_negation, siren_bias)")
SELF_SOURCES = ("auto", "copy")


# -- building blocks -------------------------------------------------------------


def sample_alpha(key: Array, shape: Sequence[int] = (), *,
                 alpha_dist: str = "uniform", beta_alpha: float = 1.0) -> Array:
  """Draws mixing coefficients: ``U(0, 1)`` or ``Beta(beta_alpha, beta_alpha)``.

  Args:
    key: PRNG key.
    shape: output shape.
    alpha_dist: ``"uniform"`` or ``"beta"``.
    beta_alpha: concentration of the symmetric Beta.

  Returns:
    float32 array of ``shape`` in ``[0, 1]``.
  """
  _check_alpha(alpha_dist, beta_alpha, "sample_alpha")
  shape = tuple(shape)
  if alpha_dist == "uniform":
    return jax.random.uniform(key, shape, jnp.float32)
  return jax.random.beta(key, beta_alpha, beta_alpha, shape, jnp.float32)


def interpolate(alpha: Array, ws_a: wsp.WeightSpace, ws_b: wsp.WeightSpace
                ) -> wsp.WeightSpace:
  """``alpha * a + (1 - alpha) * b`` on every leaf.

  Args:
    alpha: scalar, or ``(*batch,)`` matching the leaves' batch dims.
    ws_a: weight space, leaves ``(*batch, ...)``.
    ws_b: same shapes as ``ws_a``.
  """
  alpha = jnp.asarray(alpha)

  def mix(a, b):
    w = alpha.reshape(alpha.shape + (1,) * (a.ndim - alpha.ndim)).astype(a.dtype)
    return w * a + (1 - w) * b

  return jax.tree.map(mix, ws_a, ws_b)


def mix_labels(alpha: Array, y_a: Array, y_b: Array) -> Array:
  """``alpha * y_a + (1 - alpha) * y_b`` for soft labels ``(*batch, C)``."""
  alpha = jnp.asarray(alpha)[..., None]
  return alpha * y_a + (1 - alpha) * y_b


def partner_indices(key: Array, batch_size: int) -> Array:
  """Partner of every anchor: a random permutation of ``range(batch_size)``."""
  return jax.random.permutation(key, batch_size).astype(jnp.int32)


# -- one pair --------------------------------------------------------------------


def mixup(key: Array, ws_a: wsp.WeightSpace, y_a: Array,
          ws_b: wsp.WeightSpace, y_b: Array, *, alpha_dist: str = "uniform",
          beta_alpha: float = 1.0) -> tuple[wsp.WeightSpace, Array]:
  """Vanilla weight-space MixUp of one pair.

  Args:
    key: PRNG key (draws ``alpha``).
    ws_a: anchor, unbatched weight space.
    y_a: anchor soft label ``(C,)``.
    ws_b: partner, same shapes as ``ws_a``.
    y_b: partner soft label ``(C,)``.
    alpha_dist: ``"uniform"`` (default, as the official code) or ``"beta"``.
    beta_alpha: Beta concentration for ``alpha_dist="beta"``.

  Returns:
    ``(ws, y)``: the mixed weight space and soft label ``(C,)``.
  """
  alpha = sample_alpha(key, alpha_dist=alpha_dist, beta_alpha=beta_alpha)
  return interpolate(alpha, ws_a, ws_b), mix_labels(alpha, y_a, y_b)


def mixup_perm(key: Array, ws_a: wsp.WeightSpace, y_a: Array,
               ws_b: wsp.WeightSpace, y_b: Array, spec: wsp.WeightSpaceSpec,
               *, alpha_dist: str = "uniform", beta_alpha: float = 1.0
               ) -> tuple[wsp.WeightSpace, Array]:
  """MixUp with a randomly permuted partner (official ``mixup_and_perm``).

  The partner's hidden neurons are permuted uniformly at random (one
  permutation per group of ``spec.permutations``) before mixing. The official
  code permutes the anchor instead, which is the same in distribution.

  Args:
    key: PRNG key.
    ws_a, y_a, ws_b, y_b: as in :func:`mixup`.
    spec: weight-space spec.
    alpha_dist, beta_alpha: as in :func:`mixup`.

  Returns:
    ``(ws, y)`` as in :func:`mixup`.
  """
  k_alpha, k_perm = jax.random.split(key)
  perms = wsp.random_permutations(k_perm, spec)
  ws_b = wsp.permute(ws_b, perms, spec)
  return mixup(k_alpha, ws_a, y_a, ws_b, y_b, alpha_dist=alpha_dist,
               beta_alpha=beta_alpha)


def mixup_aligned(key: Array, ws_a: wsp.WeightSpace, y_a: Array,
                  ws_b: wsp.WeightSpace, y_b: Array, spec: wsp.WeightSpaceSpec,
                  *, alpha_dist: str = "uniform", beta_alpha: float = 1.0,
                  solver: str = "auto", max_iter: int = 100
                  ) -> tuple[wsp.WeightSpace, Array]:
  """Alignment-based MixUp (official ``rebasin``).

  The partner is aligned to the anchor by :func:`dws_jax.matching.
  weight_matching` before mixing.

  Args:
    key: PRNG key.
    ws_a, y_a, ws_b, y_b: as in :func:`mixup`.
    spec: weight-space spec.
    alpha_dist, beta_alpha: as in :func:`mixup`.
    solver: solver of the matching (``"auto"``, ``"optax"``, ``"scipy"``,
      ``"host"``).
    max_iter: maximum matching sweeps.

  Returns:
    ``(ws, y)`` as in :func:`mixup`.
  """
  k_alpha, k_match = jax.random.split(key)
  ws_b, _ = matching.align(k_match, ws_a, ws_b, spec, solver=solver,
                           max_iter=max_iter)
  return mixup(k_alpha, ws_a, y_a, ws_b, y_b, alpha_dist=alpha_dist,
               beta_alpha=beta_alpha)


# -- batches ---------------------------------------------------------------------


def gather_batch(x: Array, idx: Array) -> Array:
  """``x[idx]`` along the leading (batch) dim, for any mesh axis type.

  On a mesh with ``Explicit`` axes (e.g. ``jax.make_mesh``'s default) a gather
  needs its output sharding spelled out: the result keeps the sharding of
  ``x`` (batch-sharded in, batch-sharded out). Elsewhere (no mesh, or ``Auto``
  axes as :func:`dws_jax.parallel.make_mesh` builds) it is plain ``x[idx]``.

  Args:
    x: array ``(P, ...)``.
    idx: int array ``(B,)`` of indices into ``range(P)``.

  Returns:
    ``(B, ...)`` array.
  """
  sharding = _explicit_sharding(x)
  if sharding is not None:
    return x.at[idx].get(out_sharding=sharding)
  return x[idx]


def _explicit_sharding(x: Array):
  """``x``'s sharding if it lives on a mesh with ``Explicit`` axes, else None."""
  sharding = getattr(jax.typeof(x), "sharding", None)
  mesh = getattr(sharding, "mesh", None)
  if mesh is not None and jax.sharding.AxisType.Explicit in getattr(
      mesh, "axis_types", ()):
    return sharding
  return None


def _like_batch(tree, ref: Array):
  """Shards the leading dim of every leaf of ``tree`` as that of ``ref``.

  Only on ``Explicit`` meshes, where ``vmap`` needs every mapped input sharded
  alike along the batch (e.g. replicated per-pair keys next to a
  batch-sharded weight space); elsewhere ``tree`` is returned unchanged.
  """
  sharding = _explicit_sharding(ref)
  if sharding is None:
    return tree
  batch_axis = sharding.spec[0] if len(sharding.spec) else None

  def put(x):
    spec = jax.sharding.PartitionSpec(batch_axis, *([None] * (x.ndim - 1)))
    return jax.sharding.reshard(x, spec)

  return jax.tree.map(put, tree)


def _pick_partners(key: Array, ws: wsp.WeightSpace, labels: Array,
                   partner_pool: Pool | None
                   ) -> tuple[wsp.WeightSpace, Array]:
  num = ws.batch_shape[0]
  if partner_pool is None:
    idx = partner_indices(key, num)
  else:
    ws, labels = partner_pool
    idx = jax.random.randint(key, (num,), 0, ws.batch_shape[0])
  take = lambda x: gather_batch(x, idx)
  return jax.tree.map(take, ws), take(labels)


def _check_batch(spec, ws, labels, partner_pool, name):
  if spec is not None:
    spec.validate(ws, batch_ndim=1, name=f"{name}(ws)")
  else:
    wsp.validate_structure(ws, name=f"{name}(ws)")
    if len(ws.batch_shape) != 1:
      raise ValueError(f"{name}(ws) must have one batch dim, got "
                       f"{ws.batch_shape}")
  labels = jnp.asarray(labels)
  if labels.ndim != 2 or labels.shape[0] != ws.batch_shape[0]:
    raise ValueError(f"{name}: labels must be soft labels (B, C) with "
                     f"B={ws.batch_shape[0]}, got shape {tuple(labels.shape)}")
  if partner_pool is not None:
    if not (isinstance(partner_pool, (tuple, list)) and len(partner_pool) == 2):
      raise ValueError(f"{name}: partner_pool must be (ws_pool, labels_pool)")
    pool_ws, pool_labels = partner_pool
    if spec is not None:
      spec.validate(pool_ws, batch_ndim=1, name=f"{name}(partner_pool ws)")
    pool_labels = jnp.asarray(pool_labels)
    if (pool_labels.ndim != 2 or pool_labels.shape[0] != pool_ws.batch_shape[0]
        or pool_labels.shape[1] != labels.shape[1]):
      raise ValueError(
          f"{name}: partner_pool labels must be (P, {labels.shape[1]}) with "
          f"P={pool_ws.batch_shape[0]}, got {tuple(pool_labels.shape)}")
  return labels


def batch_mixup(key: Array, ws: wsp.WeightSpace, labels: Array,
                spec: wsp.WeightSpaceSpec | None = None, *,
                variant: str = "vanilla", alpha_dist: str = "uniform",
                beta_alpha: float = 1.0, solver: str = "auto",
                max_iter: int = 100, lap_threads: int = 0,
                partner_pool: Pool | None = None,
                anchor_aug: Callable[[Array, wsp.WeightSpace],
                                     wsp.WeightSpace] | None = None
                ) -> tuple[wsp.WeightSpace, Array]:
  """MixUp of a whole batch, partners drawn inside the batch.

  Randomness: ``key`` splits into partner, per-pair, anchor and matching
  keys; the per-pair keys ``jax.random.split(k_pairs, B)`` are what the pair
  functions (:func:`mixup`, :func:`mixup_perm`) receive, so for ``"vanilla"`` and
  ``"perm"`` the result equals mapping the pair function over the anchors and
  their partners. ``"aligned"`` matches all ``B`` pairs in one batched call
  (one LAP solve per group per sweep for the whole batch; the group order of
  a sweep is shared by the batch), with ``alpha`` drawn as in
  :func:`mixup_aligned`.

  Args:
    key: PRNG key.
    ws: batch of weight spaces, leaves ``(B, ...)``.
    labels: soft labels ``(B, C)``.
    spec: weight-space spec (needed for ``"perm"`` and ``"aligned"``).
    variant: ``"vanilla"``, ``"perm"`` or ``"aligned"``.
    alpha_dist, beta_alpha: distribution of ``alpha`` (see :func:`mixup`).
    solver, max_iter, lap_threads: weight matching options for ``"aligned"``
      (see :func:`dws_jax.matching.weight_matching`).
    partner_pool: ``(ws_pool (P, ...), labels_pool (P, C))``: draw partners
      uniformly from this pool instead of the batch (reference behaviour, see
      module docstring).
    anchor_aug: optional per-sample augmentation ``aug(key, ws) -> ws``
      applied to every anchor (vmapped) before mixing; partners stay raw.

  Returns:
    ``(ws, labels)``: mixed batch ``(B, ...)`` and soft labels ``(B, C)``.
  """
  if variant not in VARIANTS:
    raise ValueError(f"unknown MixUp variant {variant!r}; expected one of "
                     f"{VARIANTS}")
  _check_alpha(alpha_dist, beta_alpha, "batch_mixup")
  if variant != "vanilla" and spec is None:
    raise ValueError(f"batch_mixup(variant={variant!r}) needs the spec")
  labels = _check_batch(spec, ws, labels, partner_pool, "batch_mixup")
  num = ws.batch_shape[0]
  k_partner, k_pairs, k_anchor, k_match = jax.random.split(key, 4)
  ws_b, y_b = _pick_partners(k_partner, ws, labels, partner_pool)
  ref = jax.tree.leaves(ws)[0]
  labels, ws_b, y_b = _like_batch((labels, ws_b, y_b), ref)
  if anchor_aug is not None:
    ws = jax.vmap(anchor_aug)(
        _like_batch(jax.random.split(k_anchor, num), ref), ws)
  pair_keys = _like_batch(jax.random.split(k_pairs, num), ref)
  opts = dict(alpha_dist=alpha_dist, beta_alpha=beta_alpha)
  if variant == "vanilla":
    return jax.vmap(lambda k, a, ya, b, yb: mixup(k, a, ya, b, yb, **opts))(
        pair_keys, ws, labels, ws_b, y_b)
  if variant == "perm":
    return jax.vmap(
        lambda k, a, ya, b, yb: mixup_perm(k, a, ya, b, yb, spec, **opts))(
            pair_keys, ws, labels, ws_b, y_b)
  # Aligned: per-pair alpha keys as in mixup_aligned, one batched matching.
  k_alpha, _ = jax.vmap(jax.random.split, out_axes=1)(pair_keys)
  alpha = jax.vmap(lambda k: sample_alpha(k, **opts))(k_alpha)
  ws_b, _ = matching.align(k_match, ws, ws_b, spec, solver=solver,
                           max_iter=max_iter, lap_threads=lap_threads)
  return interpolate(alpha, ws, ws_b), mix_labels(alpha, labels, y_b)


def batch_self_mixup(key: Array, ws: wsp.WeightSpace, labels: Array | None,
                     spec: wsp.WeightSpaceSpec, *, variant: str = "aligned",
                     copy_aug: Callable | None = None,
                     view_partners: wsp.WeightSpace | None = None,
                     alpha_dist: str = "uniform", beta_alpha: float = 1.0,
                     solver: str = "auto", max_iter: int = 100,
                     lap_threads: int = 0
                     ) -> tuple[wsp.WeightSpace, Array | None]:
  """Label-free MixUp of every INR with a view of the same object.

  ``theta = theta_a + (1 - alpha) * (T(theta_b) - theta_a)`` per sample (see
  the module docstring), with one ``alpha`` per sample.

  Args:
    key: PRNG key.
    ws: batch of weight spaces, leaves ``(B, ...)``.
    labels: soft labels ``(B, C)`` or None; returned unchanged.
    spec: weight-space spec.
    variant: ``"vanilla"`` (``T`` = identity), ``"perm"`` (a random
      hidden-neuron permutation) or ``"aligned"`` (weight matching to
      ``theta_a``).
    copy_aug: ``copy_aug(key, ws (B, ...)) -> ws``, e.g. a built
      :class:`~dws_jax.augment.Augmentation`: makes the partners when
      ``view_partners`` is None.
    view_partners: partners ``(B, ...)``: row ``i`` another fitted view of the
      object of row ``i``.
    alpha_dist, beta_alpha: distribution of ``alpha`` (see :func:`mixup`).
    solver, max_iter, lap_threads: weight matching options for ``"aligned"``.

  Returns:
    ``(ws, labels)``: the mixed batch ``(B, ...)`` and ``labels`` as given.
  """
  if variant not in VARIANTS:
    raise ValueError(f"unknown self-MixUp variant {variant!r}; expected one of "
                     f"{VARIANTS}")
  _check_alpha(alpha_dist, beta_alpha, "batch_self_mixup")
  spec.validate(ws, batch_ndim=1, name="batch_self_mixup(ws)")
  num = ws.batch_shape[0]
  k_copy, k_pairs, k_match = jax.random.split(key, 3)
  ref = jax.tree.leaves(ws)[0]
  if view_partners is None:
    if copy_aug is None:
      raise ValueError("batch_self_mixup needs view_partners or copy_aug")
    partners = copy_aug(k_copy, ws)
    partners = partners[0] if isinstance(partners, tuple) else partners
  else:
    spec.validate(view_partners, batch_ndim=1,
                  name="batch_self_mixup(view_partners)")
    if view_partners.batch_shape != ws.batch_shape:
      raise ValueError(f"batch_self_mixup: view_partners have batch "
                       f"{view_partners.batch_shape}, ws has {ws.batch_shape}")
    partners = view_partners
  partners = _like_batch(partners, ref)
  pair_keys = _like_batch(jax.random.split(k_pairs, num), ref)
  k_alpha, k_perm = jax.vmap(jax.random.split, out_axes=1)(pair_keys)
  alpha = jax.vmap(lambda k: sample_alpha(
      k, alpha_dist=alpha_dist, beta_alpha=beta_alpha))(k_alpha)
  if variant == "perm":
    partners = jax.vmap(lambda k, b: wsp.permute(
        b, wsp.random_permutations(k, spec), spec))(k_perm, partners)
  elif variant == "aligned":
    partners, _ = matching.align(k_match, ws, partners, spec, solver=solver,
                                 max_iter=max_iter, lap_threads=lap_threads)

  def mix(a, b):
    w = (1 - alpha).reshape((-1,) + (1,) * (a.ndim - 1)).astype(a.dtype)
    return a + w * (b - a)

  return jax.tree.map(mix, ws, partners), labels


# -- registry --------------------------------------------------------------------


def _check_alpha(alpha_dist, beta_alpha, name):
  if alpha_dist not in ALPHA_DISTS:
    raise ValueError(f"{name}: unknown alpha_dist {alpha_dist!r}; expected one "
                     f"of {ALPHA_DISTS}")
  if (isinstance(beta_alpha, bool)
      or not isinstance(beta_alpha, (int, float, np.number))
      or not math.isfinite(beta_alpha) or beta_alpha <= 0):
    raise ValueError(f"{name}: beta_alpha must be a positive finite number, "
                     f"got {beta_alpha!r}")
  if alpha_dist == "uniform" and beta_alpha != 1.0:
    raise ValueError(f"{name}: beta_alpha={beta_alpha!r} only applies to "
                     "alpha_dist='beta' (alpha ~ U(0, 1) otherwise)")


def _check_bool(value, what, name):
  if not isinstance(value, (bool, np.bool_)):
    raise ValueError(f"{name}: {what} must be True or False, got {value!r}")
  return bool(value)


def _make_batch_fn(name: str, reference_compat: bool, **kwargs
                   ) -> registry.BatchAug:
  """Wraps :func:`batch_mixup` into the registry's batch signature."""

  def fn(key: Array, ws: wsp.WeightSpace, labels: Array,
         partner_pool: Pool | None = None) -> tuple[wsp.WeightSpace, Array]:
    if reference_compat and partner_pool is None:
      raise ValueError(
          f"{name}(reference_compat=True) draws partners from a pool: call it "
          "with partner_pool=(ws_pool, labels_pool), e.g. every view of the "
          "training set")
    if not reference_compat and partner_pool is not None:
      raise ValueError(f"{name}: partner_pool is only used with "
                       "reference_compat=True; partners come from the batch")
    return batch_mixup(key, ws, labels, partner_pool=partner_pool, **kwargs)

  fn.__name__ = name
  fn.needs_partner_pool = reference_compat  # read by augment.build
  return fn


def mixup_factory(spec: wsp.WeightSpaceSpec, *, alpha_dist: str = "uniform",
                  beta_alpha: float = 1.0, reference_compat: bool = False
                  ) -> registry.BatchAug:
  """Registry factory of vanilla MixUp (``"mixup"``).

  Args:
    spec: weight-space spec.
    alpha_dist: ``"uniform"`` (default) or ``"beta"``.
    beta_alpha: Beta concentration, only with ``alpha_dist="beta"``.
    reference_compat: draw partners from a ``partner_pool`` passed at call
      time, as the official loader does (see module docstring).

  Returns:
    ``fn(key, ws (B, ...), labels (B, C)[, partner_pool]) -> (ws, labels)``.
  """
  _check_alpha(alpha_dist, beta_alpha, "mixup")
  compat = _check_bool(reference_compat, "reference_compat", "mixup")
  return _make_batch_fn("mixup", compat, spec=spec, variant="vanilla",
                        alpha_dist=alpha_dist, beta_alpha=beta_alpha)


def mixup_perm_factory(spec: wsp.WeightSpaceSpec, *,
                       alpha_dist: str = "uniform", beta_alpha: float = 1.0,
                       reference_compat: bool = False) -> registry.BatchAug:
  """Registry factory of random-permutation MixUp (``"mixup_perm"``).

  Hyperparameters as :func:`mixup_factory`.
  """
  _check_alpha(alpha_dist, beta_alpha, "mixup_perm")
  compat = _check_bool(reference_compat, "reference_compat", "mixup_perm")
  return _make_batch_fn("mixup_perm", compat, spec=spec, variant="perm",
                        alpha_dist=alpha_dist, beta_alpha=beta_alpha)


def mixup_aligned_factory(spec: wsp.WeightSpaceSpec, *,
                          alpha_dist: str = "uniform", beta_alpha: float = 1.0,
                          solver: str = "auto", max_iter: int = 100,
                          lap_threads: int = 0,
                          reference_compat: bool = False) -> registry.BatchAug:
  """Registry factory of alignment-based MixUp (``"mixup_aligned"``).

  Args:
    spec: weight-space spec.
    alpha_dist, beta_alpha, reference_compat: as :func:`mixup_factory`.
    solver: ``"auto"`` (host on CPU, optax elsewhere), ``"optax"``,
      ``"scipy"``, ``"host"`` (see :mod:`dws_jax.matching`).
    max_iter: maximum weight matching sweeps (official: 100).
    lap_threads: LAP threads of the ``"host"`` solver (0: one per CPU core).

  Returns:
    ``fn(key, ws (B, ...), labels (B, C)[, partner_pool]) -> (ws, labels)``.
  """
  _check_alpha(alpha_dist, beta_alpha, "mixup_aligned")
  matching.check_options(solver, max_iter, lap_threads, "mixup_aligned")
  compat = _check_bool(reference_compat, "reference_compat", "mixup_aligned")
  return _make_batch_fn("mixup_aligned", compat, spec=spec, variant="aligned",
                        alpha_dist=alpha_dist, beta_alpha=beta_alpha,
                        solver=solver, max_iter=int(max_iter),
                        lap_threads=int(lap_threads))


def _build_anchor_aug(spec, anchor_augs, reference_compat):
  """Composes registered sample augmentations, in order, into one function."""
  fns = []
  for item in anchor_augs:
    if isinstance(item, str):
      aug_name, hparams = item, {}
    elif (isinstance(item, (tuple, list)) and len(item) == 2
          and isinstance(item[0], str) and isinstance(item[1], dict)):
      aug_name, hparams = item[0], dict(item[1])
    else:
      raise ValueError("combine: anchor_augs entries must be a name or a "
                       f"(name, hparams dict) pair, got {item!r}")
    try:
      entry = registry.get_entry(aug_name)
    except ValueError as e:
      raise ValueError(f"combine: anchor augmentation {aug_name!r} is not "
                       f"registered ({e})") from e
    if entry.kind != "sample":
      raise ValueError(f"combine: anchor augmentation {aug_name!r} has kind "
                       f"{entry.kind!r}; only 'sample' augmentations apply to "
                       "the anchor")
    if (reference_compat and "reference_compat" not in hparams
        and "reference_compat" in inspect.signature(entry.factory).parameters):
      hparams["reference_compat"] = True
    fns.append(entry.factory(spec, **hparams))

  def anchor_aug(key, ws):
    for k, f in zip(jax.random.split(key, len(fns)), fns):
      ws = f(k, ws)
    return ws

  return anchor_aug


def combine_factory(spec: wsp.WeightSpaceSpec, *,
                    anchor_augs: Sequence[Any] = COMBINE_ANCHOR_AUGS,
                    alpha_dist: str = "uniform", beta_alpha: float = 1.0,
                    solver: str = "auto", max_iter: int = 100,
                    lap_threads: int = 0,
                    reference_compat: bool = False) -> registry.BatchAug:
  """Registry factory of the official ``combine`` composite.

  Every anchor goes through the registered sample augmentations
  ``anchor_augs`` in order (default: ``translate``, ``gaussian_noise``,
  ``siren_negation`` with their defaults 0.25, 0.32, 0.5, as the official
  ``CombinationAugmentation``), then alignment MixUp with a raw partner.

  Args:
    spec: weight-space spec.
    anchor_augs: names, or ``(name, hparams)`` pairs, of registered ``"sample"``
      augmentations.
    alpha_dist, beta_alpha, solver, max_iter, lap_threads: as
      :func:`mixup_aligned_factory`.
    reference_compat: partner pool as :func:`mixup_factory`, and
      ``reference_compat=True`` passed to every anchor augmentation that
      accepts it (e.g. the official random-depth translate).

  Returns:
    ``fn(key, ws (B, ...), labels (B, C)[, partner_pool]) -> (ws, labels)``.
  """
  _check_alpha(alpha_dist, beta_alpha, "combine")
  matching.check_options(solver, max_iter, lap_threads, "combine")
  compat = _check_bool(reference_compat, "reference_compat", "combine")
  if isinstance(anchor_augs, str):
    anchor_augs = (anchor_augs,)
  anchor_aug = _build_anchor_aug(spec, tuple(anchor_augs), compat)
  return _make_batch_fn("combine", compat, spec=spec, variant="aligned",
                        alpha_dist=alpha_dist, beta_alpha=beta_alpha,
                        solver=solver, max_iter=int(max_iter),
                        lap_threads=int(lap_threads), anchor_aug=anchor_aug)


def _self_factory(variant: str, name: str):
  """Registry factory of one self-MixUp variant."""

  def factory(spec: wsp.WeightSpaceSpec, copy_aug: Any = SELF_COPY_AUG, *,
              source: str = "auto", alpha_dist: str = "uniform",
              beta_alpha: float = 1.0, solver: str = "auto",
              max_iter: int = 100, lap_threads: int = 0) -> registry.BatchAug:
    _check_alpha(alpha_dist, beta_alpha, name)
    if source not in SELF_SOURCES:
      raise ValueError(f"{name}: unknown source {source!r}; expected one of "
                       f"{SELF_SOURCES} (auto: other fitted views when given, "
                       "else an augmented copy)")
    if variant == "aligned":
      matching.check_options(solver, max_iter, lap_threads, name)
    copy = builder.build(copy_aug, spec)
    if copy.kinds - {"sample"}:
      raise ValueError(f"{name}: copy_aug={copy_aug!r} must be made of sample "
                       f"augmentations (it has {sorted(copy.kinds)} stages)")

    def fn(key: Array, ws: wsp.WeightSpace, labels: Array | None,
           view_partners: wsp.WeightSpace | None = None):
      return batch_self_mixup(
          key, ws, labels, spec, variant=variant, copy_aug=copy,
          view_partners=view_partners if source == "auto" else None,
          alpha_dist=alpha_dist, beta_alpha=beta_alpha, solver=solver,
          max_iter=int(max_iter), lap_threads=int(lap_threads))

    fn.__name__ = name
    fn.takes_view_partners = source == "auto"  # read by augment.build
    return fn

  factory.__name__ = f"{name}_factory"
  factory.__doc__ = f"""Registry factory of label-free {variant} self-MixUp (``"{name}"``).

  Args:
    spec: weight-space spec.
    copy_aug: augmentation (string or config of sample augmentations) making
      the partner from the INR itself when no other view is given; default
      :data:`SELF_COPY_AUG`, the official ``self_rebasin``'s.
    source: ``"auto"`` (other fitted views when the caller passes them, else
      the copy) or ``"copy"`` (always the copy).
    alpha_dist, beta_alpha: as :func:`mixup_factory`.
    solver, max_iter, lap_threads: weight matching options (``aligned`` only).

  Returns:
    ``fn(key, ws (B, ...), labels (B, C) or None[, view_partners]) ->
    (ws, labels)``.
  """
  return factory


self_mixup_factory = _self_factory("vanilla", "self_mixup")
self_mixup_perm_factory = _self_factory("perm", "self_mixup_perm")
self_mixup_aligned_factory = _self_factory("aligned", "self_mixup_aligned")

# Label-free alternative of every label-using MixUp variant.
SELF_ALTERNATIVES = {
    "mixup": "self_mixup", "mixup_perm": "self_mixup_perm",
    "mixup_and_perm": "self_mixup_perm", "mixup_aligned": "self_mixup_aligned",
    "rebasin": "self_mixup_aligned",
    "combine": "translate|gaussian_noise|siren_negation|self_mixup_aligned",
}

SELF_REGISTERED = {
    "self_mixup": self_mixup_factory,
    "self_mixup_perm": self_mixup_perm_factory,
    "self_mixup_aligned": self_mixup_aligned_factory,
    "self_rebasin": self_mixup_aligned_factory,
}

REGISTERED = {
    "mixup": mixup_factory,
    "mixup_perm": mixup_perm_factory,
    "mixup_and_perm": mixup_perm_factory,
    "mixup_aligned": mixup_aligned_factory,
    "rebasin": mixup_aligned_factory,
    "combine": combine_factory,
}

for _name, _factory in REGISTERED.items():
  registry.register(_name, "batch")(_factory)
for _name, _factory in SELF_REGISTERED.items():
  registry.register(_name, "batch", uses_labels=False)(_factory)
