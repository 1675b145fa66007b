# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Every weight-space augmentation of Shamsian et al. (ICML 2024), one INR at a time.

Each public function here is a *factory* registered in
:mod:`dws_jax.augment.registry`: ``factory(spec, **hparams)`` checks the
hyperparameters against the spec once and returns a pure function
``aug(key, ws) -> ws`` on ONE unbatched :class:`~dws_jax.WeightSpace` (leaves
``W_l: (d_l, d_{l+1})``, ``b_l: (d_{l+1},)``). The returned function is
jittable and vmappable; batch it with :func:`dws_jax.augment.apply_batch` or
compose several with :func:`dws_jax.augment.build`.

Defaults are those of the official code
(``AvivSham/deep-weight-space-augmentations``, ``augmentations/augmentations.py``,
registry ``name2aug``). Where the official code does something unintended, the
default here is the intended behaviour and ``reference_compat=True`` reproduces
the official one (see each docstring).

Conventions for the input-space augmentations: the augmented INR ``g`` equals
the original INR ``f`` evaluated at transformed coordinates, ``g(x) = f(T x)``
for every coordinate ``x`` (a row of :func:`dws_jax.make_grid`):

* ``translate``: ``T x = x + t`` (``t`` has ``d_0`` entries, 2-D or 3-D);
* ``rotate``: ``T x = R^T x`` with ``R`` the counter-clockwise rotation by
  ``theta`` (2-D) or a rotation by ``theta`` about a random axis (3-D);
* ``scale``: ``T x = s x`` (isotropic, any ``d_0``).

Outputs: every augmentation acts on the weights only, so INRs with several
outputs (RGB, ``d_L = 3``) are transformed as a whole, all channels alike.

Randomness: every draw is ``jax.random`` on the sample key, so it follows the
key's PRNG implementation (threefry by default; ``rbg`` or another
implementation by the config's ``prng_impl``, see :mod:`dws_jax.prng`).
Draws with one value per parameter or per neuron take one call for the whole
weight space, sliced per tensor.
Results are a deterministic function of the key, as with ``jax.random``.
"""

from __future__ import annotations

import math
from typing import Callable

import jax
from jax import lax
import jax.numpy as jnp
import numpy as np

from dws_jax import weight_space as wsp
from dws_jax.augment.registry import register

Array = jax.Array
SampleAug = Callable[[Array, wsp.WeightSpace], wsp.WeightSpace]

# -- checks -------------------------------------------------------------------


def _check_number(aug: str, name: str, value, lo=None, hi=None, *,
                  lo_open: bool = False, hi_open: bool = False) -> float:
  """Checks a scalar hyperparameter is a real number in a range."""
  if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
    raise ValueError(f"{aug}: {name} must be a number, got {value!r}")
  value = float(value)
  if not math.isfinite(value):
    raise ValueError(f"{aug}: {name} must be finite, got {value}")
  low_bad = lo is not None and (value <= lo if lo_open else value < lo)
  high_bad = hi is not None and (value >= hi if hi_open else value > hi)
  if low_bad or high_bad:
    left = "(" if lo_open else "["
    right = ")" if hi_open else "]"
    lo_s = "-inf" if lo is None else f"{lo:g}"
    hi_s = "inf" if hi is None else f"{hi:g}"
    raise ValueError(f"{aug}: {name} must be in {left}{lo_s}, {hi_s}{right}, "
                     f"got {value:g}")
  return value


def _check_bool(aug: str, name: str, value) -> bool:
  if not isinstance(value, (bool, np.bool_)):
    raise ValueError(f"{aug}: {name} must be True or False, got {value!r}")
  return bool(value)


def _check_sample(spec: wsp.WeightSpaceSpec, ws: wsp.WeightSpace, aug: str):
  """Shape check of one unbatched sample (runs at trace time only)."""
  spec.validate(ws, batch_ndim=0, name=f"{aug}(ws)")


# -- randomness ---------------------------------------------------------------


def _hidden_split(x: Array, spec: wsp.WeightSpaceSpec) -> list[Array]:
  """Splits ``(sum of hidden widths,)`` into one ``(d_{l+1},)`` per hidden layer."""
  sizes = spec.layer_sizes[1:-1]
  return list(jnp.split(x, np.cumsum(sizes)[:-1])) if sizes else []


def _hidden_neurons(spec: wsp.WeightSpaceSpec) -> int:
  """Number of hidden neurons, all layers together."""
  return sum(spec.layer_sizes[1:-1])


def _leaves(ws: wsp.WeightSpace):
  """``[(kind, layer, leaf)]`` in flat-layout order W0, b0, W1, b1, ..."""
  out = []
  for l, (w, b) in enumerate(zip(ws.weights, ws.biases)):
    out += [("weights", l, w), ("biases", l, b)]
  return out


# -- input-space ----------------------------------------------------------------


@register("translate", "sample")
def translate(spec: wsp.WeightSpaceSpec, scale: float = 0.25, *,
              order: int | None = None,
              reference_compat: bool = False) -> SampleAug:
  """Random translation of the INR's input: ``g(x) = f(x + t)``.

  ``t ~ U(-scale, scale)^{d_0}`` and ``b_0 <- b_0 + t @ W_0`` (``W_0`` is
  ``(d_0, d_1)``), so ``x @ W_0 + b_0`` becomes ``(x + t) @ W_0 + b_0``: an
  exact translation for any activation.

  The official ``TranslateAugmentation`` instead draws ``order`` uniformly in
  ``{1, ..., L-1}`` and adds ``t @ W_0 @ ... @ W_{order-1}`` to
  ``b_{order-1}``, ignoring the activations in between; for ``order > 1``
  this is *not* a translation (its own comment says so). Pass
  ``reference_compat=True`` for that random order, or a fixed ``order``.

  Args:
    spec: weight-space spec.
    scale: half-width ``s >= 0`` of the translation range (official: 0.25).
    order: fixed layer depth ``1 <= order <= L-1`` (``1`` = exact); ``None``
      means 1, or random when ``reference_compat``.
    reference_compat: draw ``order`` uniformly as the official code does.

  Returns:
    ``aug(key, ws) -> ws`` on one unbatched weight space.
  """
  scale = _check_number("translate", "scale", scale, 0.0)
  reference_compat = _check_bool("translate", "reference_compat",
                                 reference_compat)
  max_order = max(1, spec.num_layers - 1)
  if order is not None:
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or not (
        1 <= order <= max_order):
      raise ValueError(f"translate: order must be an integer in [1, {max_order}] "
                       f"for {spec.num_layers} layers, got {order!r}")
    orders = (int(order),)
  elif reference_compat:
    orders = tuple(range(1, max_order + 1))
  else:
    orders = (1,)

  def aug(key: Array, ws: wsp.WeightSpace) -> wsp.WeightSpace:
    _check_sample(spec, ws, "translate")
    key_t, key_order = jax.random.split(key)
    d_in = spec.layer_sizes[0]
    t = jax.random.uniform(key_t, (d_in,), ws.dtype, -scale, scale)
    biases = list(ws.biases)
    if len(orders) == 1:
      chosen = None
    else:
      chosen = jax.random.randint(key_order, (), orders[0], orders[-1] + 1)
    shift = t
    for k in range(1, orders[-1] + 1):
      shift = shift @ ws.weights[k - 1]  # t @ W_0 @ ... @ W_{k-1}: (d_k,)
      if k in orders:
        mask = 1.0 if chosen is None else (chosen == k).astype(ws.dtype)
        biases[k - 1] = biases[k - 1] + mask * shift
    return ws.replace(biases=tuple(biases))

  return aug


@register("rotate", "sample")
def rotate(spec: wsp.WeightSpaceSpec, degrees: float = 30.0) -> SampleAug:
  """Random rotation of a 2-D or 3-D INR's input: ``g(x) = f(R^T x)``.

  ``theta ~ U(-degrees, degrees)`` (in degrees) and ``W_0 <- R @ W_0``
  (``W_0`` is ``(d_0, d_1)``), so for a row coordinate ``x``,
  ``x @ R @ W_0 = (R^T x)^T W_0``.

  * 2-D: ``R = [[cos, -sin], [sin, cos]]`` (counter-clockwise by ``theta``):
    the image is rotated by ``-theta`` in the ``(x, y)`` plane of
    :func:`dws_jax.make_grid`. Same as the official ``RotateAugmentation``
    (``einsum("ij,bjkc->bikc", R, W_0)``).
  * 3-D: ``R`` rotates by ``theta`` about an axis ``u`` uniform on the unit
    sphere (Rodrigues: ``R = I + sin(theta) K + (1 - cos(theta)) K^2`` with
    ``K`` the cross-product matrix of ``u``), so the rotation angle is at most
    ``degrees`` and every axis is equally likely.

  Args:
    spec: weight-space spec with ``d_0`` 2 or 3.
    degrees: maximum angle in degrees, ``>= 0`` (official: 30; DWSNets: 45).

  Returns:
    ``aug(key, ws) -> ws`` on one unbatched weight space.
  """
  degrees = _check_number("rotate", "degrees", degrees, 0.0)
  d_in = spec.layer_sizes[0]
  if d_in not in (2, 3):
    raise ValueError(f"rotate: only 2-D and 3-D INRs can be rotated; the spec "
                     f"has input dimension {d_in}")

  def aug(key: Array, ws: wsp.WeightSpace) -> wsp.WeightSpace:
    _check_sample(spec, ws, "rotate")
    if d_in == 3:
      return wsp.replace_leaves(
          ws, {("weights", 0): random_rotation_3d(key, degrees, ws.dtype)
               @ ws.weights[0]})
    theta = jax.random.uniform(key, (), ws.dtype, -degrees, degrees) * (np.pi / 180)
    c, s = jnp.cos(theta), jnp.sin(theta)
    rot = jnp.stack([jnp.stack([c, -s]), jnp.stack([s, c])])
    return wsp.replace_leaves(ws, {("weights", 0): rot @ ws.weights[0]})

  return aug


def random_rotation_3d(key: Array, degrees: float, dtype=jnp.float32) -> Array:
  """A 3x3 rotation by ``U(-degrees, degrees)`` about a uniform random axis."""
  key_axis, key_angle = jax.random.split(key)
  axis = jax.random.normal(key_axis, (3,), dtype)
  axis = axis / jnp.maximum(jnp.linalg.norm(axis), 1e-12)
  theta = jax.random.uniform(key_angle, (), dtype, -degrees, degrees) * (np.pi / 180)
  x, y, z = axis[0], axis[1], axis[2]
  zero = jnp.zeros((), dtype)
  k = jnp.stack([jnp.stack([zero, -z, y]), jnp.stack([z, zero, -x]),
                 jnp.stack([-y, x, zero])])
  return jnp.eye(3, dtype=dtype) + jnp.sin(theta) * k + (1 - jnp.cos(theta)) * (k @ k)


@register("scale", "sample")
def scale(spec: wsp.WeightSpaceSpec,
          scale: float = 0.2) -> SampleAug:  # pylint: disable=redefined-outer-name
  """Random isotropic scaling of the INR's input: ``g(x) = f(s x)``.

  ``s = 1 + U(-scale, scale)`` and ``W_0 <- s W_0`` (biases untouched), as in
  the official ``ScaleAugmentation`` (``1 + (u - 0.5) * 2 * 0.2``). ``s > 1``
  zooms out (the image shrinks).

  Args:
    spec: weight-space spec.
    scale: half-width of the range of ``s - 1``, in ``[0, 1)`` so that
      ``s > 0`` (official: 0.2).

  Returns:
    ``aug(key, ws) -> ws`` on one unbatched weight space.
  """
  amount = _check_number("scale", "scale", scale, 0.0, 1.0, hi_open=True)

  def aug(key: Array, ws: wsp.WeightSpace) -> wsp.WeightSpace:
    _check_sample(spec, ws, "scale")
    s = 1.0 + jax.random.uniform(key, (), ws.dtype, -amount, amount)
    return wsp.replace_leaves(ws, {("weights", 0): s * ws.weights[0]})

  return aug


# -- data-agnostic ----------------------------------------------------------------


@register("gaussian_noise", "sample")
def gaussian_noise(spec: wsp.WeightSpaceSpec, scale: float = 0.32, *,
                   reference_compat: bool = False) -> SampleAug:
  """Per-tensor relative Gaussian noise.

  Every weight and bias tensor ``T`` gets
  ``T <- T + scale * (std(T) + 1e-8) * N(0, I)``, with ``std`` over all
  entries of ``T`` (official ``GaussianNoiseAugmentation``, scale 0.32). Note
  this is real noise; DWSNets' ``w + w.std() * scale`` is a deterministic
  shift.

  ``std`` is the population std (``ddof=0``), defined for every tensor. The
  official code uses torch's unbiased std (``ddof=1``) and ``nan_to_num`` on
  it; with ``reference_compat=True`` we do the same. Either way a 1-element
  tensor (the output bias of a scalar INR) has no spread and gets noise of
  std ``scale * 1e-8`` only; the two modes differ by the factor
  ``sqrt(n / (n - 1))`` on the others.

  Args:
    spec: weight-space spec.
    scale: noise std relative to each tensor's std, ``>= 0``.
    reference_compat: unbiased std with NaN -> 0, as the official code.

  Returns:
    ``aug(key, ws) -> ws`` on one unbatched weight space.
  """
  scale = _check_number("gaussian_noise", "scale", scale, 0.0)
  reference_compat = _check_bool("gaussian_noise", "reference_compat",
                                 reference_compat)
  offsets = [e.offset for e in spec.flat_layout]

  def aug(key: Array, ws: wsp.WeightSpace) -> wsp.WeightSpace:
    _check_sample(spec, ws, "gaussian_noise")
    noise = jax.random.normal(key, (spec.num_params,), ws.dtype)
    updates = {}
    for (kind, layer, leaf), offset in zip(_leaves(ws), offsets):
      if reference_compat:
        std = jnp.nan_to_num(jnp.std(leaf, ddof=1)) if leaf.size > 1 else 0.0
      else:
        std = jnp.std(leaf)
      leaf_noise = noise[offset:offset + leaf.size].reshape(leaf.shape)
      updates[(kind, layer)] = leaf + (scale * (std + 1e-8)) * leaf_noise
    return wsp.replace_leaves(ws, updates)

  return aug


@register("dropout", "sample")
def dropout(spec: wsp.WeightSpaceSpec, p: float = 0.1, *,
            rescale: bool = True) -> SampleAug:
  """Zeroes every weight and bias independently with probability ``p``.

  With ``rescale=True`` (default, as the official code's ``F.dropout`` in
  training mode) the surviving entries are multiplied by ``1 / (1 - p)``;
  ``rescale=False`` keeps them as they are, which leaves the INR closer to
  the original.

  Args:
    spec: weight-space spec.
    p: drop probability in ``[0, 1]`` (``< 1`` with ``rescale``); official 0.1.
    rescale: multiply survivors by ``1 / (1 - p)``.

  Returns:
    ``aug(key, ws) -> ws`` on one unbatched weight space.
  """
  p = _check_number("dropout", "p", p, 0.0, 1.0)
  rescale = _check_bool("dropout", "rescale", rescale)
  if rescale and p >= 1.0:
    raise ValueError("dropout: p=1 with rescale=True divides by zero; use "
                     "rescale=False or p < 1")
  offsets = [e.offset for e in spec.flat_layout]
  factor = 1.0 / (1.0 - p) if rescale else 1.0

  def aug(key: Array, ws: wsp.WeightSpace) -> wsp.WeightSpace:
    _check_sample(spec, ws, "dropout")
    if p >= 1.0:
      return ws.map(jnp.zeros_like)
    if p <= 0.0:
      return ws
    keep_all = jax.random.bernoulli(key, 1.0 - p, (spec.num_params,))
    updates = {}
    for (kind, layer, leaf), offset in zip(_leaves(ws), offsets):
      keep = keep_all[offset:offset + leaf.size].reshape(leaf.shape)
      updates[(kind, layer)] = jnp.where(keep, leaf * factor, 0).astype(leaf.dtype)
    return wsp.replace_leaves(ws, updates)

  return aug


def _kth_smallest(a: Array, k: Array) -> Array:
  """Exact ``sort(a)[k]`` of a non-negative float32 vector, without a sort.

  Bisection on the IEEE bit pattern (monotone for non-negative floats): 31
  counting passes over ``a``.
  """
  target = (k + 1).astype(jnp.float32)

  def step(_, bounds):
    lo, hi = bounds
    mid = lo + (hi - lo) // 2
    count = jnp.sum(jnp.where(a <= lax.bitcast_convert_type(mid, jnp.float32),
                              1.0, 0.0))
    ok = count >= target
    return jnp.where(ok, lo, mid + 1), jnp.where(ok, mid, hi)

  init = (jnp.zeros((), jnp.int32), jnp.full((), 0x7F800000, jnp.int32))  # +inf
  _, hi = lax.fori_loop(0, 31, step, init)
  return lax.bitcast_convert_type(hi, jnp.float32)


def abs_quantile(flat: Array, q: Array) -> Array:
  """``torch.quantile(abs(flat), q)`` (linear interpolation), jittable.

  Args:
    flat: ``(P,)`` parameters.
    q: scalar in ``[0, 1]``.

  Returns:
    Scalar float32 threshold.
  """
  a = jnp.abs(flat).astype(jnp.float32)
  n = a.shape[0]
  h = q * (n - 1)
  lo = jnp.clip(jnp.floor(h).astype(jnp.int32), 0, n - 1)
  frac = h - lo.astype(h.dtype)
  v_lo = _kth_smallest(a, lo)
  # Next order statistic: equal to v_lo if v_lo repeats, else the next value.
  repeats = jnp.sum(jnp.where(a <= v_lo, 1.0, 0.0)) >= (lo + 2).astype(jnp.float32)
  above = jnp.min(jnp.where(a > v_lo, a, jnp.inf))
  v_hi = jnp.where(repeats | (lo >= n - 1), v_lo, above)
  return v_lo + frac * (v_hi - v_lo)


@register("quantile", "sample")
def quantile(spec: wsp.WeightSpaceSpec, q_max: float = 0.1) -> SampleAug:
  """Quantile dropout: zeroes the smallest-magnitude parameters.

  ``q ~ U(0, q_max)``; ``tau`` = the ``q``-quantile (linear interpolation, as
  ``torch.quantile``) of ``|theta|`` over ALL weights and biases concatenated;
  every entry with ``|theta| < tau`` becomes 0. Official
  ``QuantileAugmentation`` (default 0.1).

  Args:
    spec: weight-space spec.
    q_max: upper end of the quantile range, in ``[0, 1]``.

  Returns:
    ``aug(key, ws) -> ws`` on one unbatched weight space.
  """
  q_max = _check_number("quantile", "q_max", q_max, 0.0, 1.0)

  def aug(key: Array, ws: wsp.WeightSpace) -> wsp.WeightSpace:
    _check_sample(spec, ws, "quantile")
    if q_max == 0.0:
      return ws
    q = jax.random.uniform(key, (), jnp.float32, 0.0, q_max)
    tau = abs_quantile(wsp.to_flat(ws), q)
    return ws.map(lambda leaf: jnp.where(jnp.abs(leaf) < tau, 0, leaf).astype(
        leaf.dtype))

  return aug


# -- architecture symmetries -----------------------------------------------------


def _leaf_permuter(spec: wsp.WeightSpaceSpec):
  """``fn(perms, ws) -> ws``: :func:`dws_jax.permute` with one gather per leaf.

  For every leaf the groups acting on its row and column axes are combined
  into one flat source index, ``W'[i, j] = W.ravel()[r[i] d_out + c[j]]`` with
  ``r``/``c`` the row/column permutation (identity where no group acts), so a
  hidden weight matrix permuted on both axes takes one gather instead of two.
  Equal to ``wsp.permute(ws, perms, spec)`` bitwise.
  """
  axes = spec.leaf_axes

  def apply(perms, ws):
    updates = {}
    for (kind, layer), by_axis in axes.items():
      leaf = ws.weights[layer] if kind == "weights" else ws.biases[layer]
      if leaf.ndim == 1:
        updates[(kind, layer)] = jnp.take(leaf, perms[by_axis[-1]])
        continue
      d_in, d_out = leaf.shape
      rows = perms[by_axis[-2]] if -2 in by_axis else jnp.arange(d_in)
      cols = perms[by_axis[-1]] if -1 in by_axis else jnp.arange(d_out)
      index = rows[:, None] * d_out + cols[None, :]
      updates[(kind, layer)] = jnp.take(leaf.reshape(-1), index)
    return wsp.replace_leaves(ws, updates)

  return apply


@register("permutation", "sample")
def permutation(spec: wsp.WeightSpaceSpec) -> SampleAug:
  """Independent uniform permutation of the neurons of every hidden layer.

  Groups and the axes they act on come from ``spec.permutations``; the result
  equals :func:`dws_jax.permute` with these permutations (applied with one
  gather per leaf, :func:`_leaf_permuter`), drawn by
  :func:`dws_jax.random_permutations`. Function-preserving for any
  activation (the official ``--permutation`` flag).

  Returns:
    ``aug(key, ws) -> ws`` on one unbatched weight space.
  """
  groups = spec.permutations
  apply = _leaf_permuter(spec)

  def aug(key: Array, ws: wsp.WeightSpace) -> wsp.WeightSpace:
    _check_sample(spec, ws, "permutation")
    if not groups:
      return ws
    return apply(wsp.random_permutations(key, spec), ws)

  return aug


@register("siren_negation", "sample")
def siren_negation(spec: wsp.WeightSpaceSpec, p: float = 0.5) -> SampleAug:
  """Flips the sign of random hidden neurons of an odd-activation MLP.

  For every hidden layer ``l`` and neuron ``j``, independently with
  probability ``p``: ``W_l[:, j]``, ``b_l[j]`` and ``W_{l+1}[j, :]`` change
  sign (``W_l`` is ``(d_l, d_{l+1})``). Since ``s(-z) = -s(z)`` the function is
  unchanged. Official ``SirenNegationAugmentation`` (p = 0.5); works for any
  odd activation (``spec.has_sign_symmetry``).

  Args:
    spec: weight-space spec with an odd activation.
    p: flip probability in ``[0, 1]``.

  Returns:
    ``aug(key, ws) -> ws`` on one unbatched weight space.
  """
  p = _check_number("siren_negation", "p", p, 0.0, 1.0)
  if not spec.has_sign_symmetry:
    raise ValueError(f"siren_negation: activation {spec.activation!r} is not "
                     "odd, so flipping neuron signs changes the function; "
                     f"odd activations: {wsp.ODD_ACTIVATIONS}")
  hidden = _hidden_neurons(spec)

  def aug(key: Array, ws: wsp.WeightSpace) -> wsp.WeightSpace:
    _check_sample(spec, ws, "siren_negation")
    weights, biases = list(ws.weights), list(ws.biases)
    flips = jax.random.bernoulli(key, p, (hidden,))
    for l, flip in enumerate(_hidden_split(flips, spec)):
      sign = jnp.where(flip, -1.0, 1.0).astype(ws.dtype)
      weights[l] = weights[l] * sign[None, :]
      biases[l] = biases[l] * sign
      weights[l + 1] = weights[l + 1] * sign[:, None]
    return ws.replace(weights=tuple(weights), biases=tuple(biases))

  return aug


@register("siren_bias", "sample")
def siren_bias(spec: wsp.WeightSpaceSpec, k_max: int = 4, *,
               reference_compat: bool = False) -> SampleAug:
  """Shifts hidden sine biases by whole half-periods.

  For every hidden layer ``l`` and neuron ``j``: ``k ~ U{-k_max, ..., k_max}``,
  ``b_l[j] += k * pi / w0_l`` and ``W_{l+1}[j, :] *= (-1)^k``. Exact because
  ``sin(w0 (z + k pi / w0)) = (-1)^k sin(w0 z)``; ``pi / w0_l`` comes from
  ``spec.phase_periods``, so a different first-layer frequency is handled.

  The official ``SirenBiasAugmentation`` draws ``k`` with
  ``torch.randint_like(b, -k_max, k_max)``, whose upper end is exclusive:
  ``k`` in ``{-4, ..., 3}``. ``reference_compat=True`` reproduces that range.

  Args:
    spec: weight-space spec with sine activations.
    k_max: integer ``>= 1`` (official: 4).
    reference_compat: draw from ``[-k_max, k_max - 1]``.

  Returns:
    ``aug(key, ws) -> ws`` on one unbatched weight space.
  """
  if (isinstance(k_max, bool) or not isinstance(k_max, (int, np.integer))
      or k_max < 1):
    raise ValueError(f"siren_bias: k_max must be an integer >= 1, got {k_max!r}")
  k_max = int(k_max)
  reference_compat = _check_bool("siren_bias", "reference_compat",
                                 reference_compat)
  periods = spec.phase_periods
  if periods is None:
    raise ValueError(f"siren_bias: needs sine activations (phase shifts by "
                     f"k*pi/w0); the spec has activation {spec.activation!r}")
  high = k_max if reference_compat else k_max + 1  # exclusive
  hidden = _hidden_neurons(spec)

  def aug(key: Array, ws: wsp.WeightSpace) -> wsp.WeightSpace:
    _check_sample(spec, ws, "siren_bias")
    weights, biases = list(ws.weights), list(ws.biases)
    ks = jax.random.randint(key, (hidden,), -k_max, high)
    for l, k in enumerate(_hidden_split(ks, spec)):
      biases[l] = biases[l] + k.astype(ws.dtype) * periods[l]
      sign = (1 - 2 * jnp.mod(k, 2)).astype(ws.dtype)
      weights[l + 1] = weights[l + 1] * sign[:, None]
    return ws.replace(weights=tuple(weights), biases=tuple(biases))

  return aug


# -- labels -----------------------------------------------------------------------


@register("label_smoothing", "label")
def label_smoothing(spec: wsp.WeightSpaceSpec, num_classes: int,
                    eps: float = 0.1) -> Callable[[Array, Array], Array]:
  """Label smoothing: ``y <- (1 - eps) y + eps / C`` on a soft label ``(C,)``.

  Official ``LabelSmoothingAugmentation`` (smoothing rate 0.1). ``spec`` is
  unused (labels only).

  Args:
    spec: weight-space spec (unused).
    num_classes: ``C``.
    eps: smoothing in ``[0, 1]``.

  Returns:
    ``fn(key, y) -> y`` on one soft label ``(C,)``.
  """
  del spec
  eps = _check_number("label_smoothing", "eps", eps, 0.0, 1.0)
  if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) \
      or num_classes < 1:
    raise ValueError(f"label_smoothing: num_classes must be a positive integer, "
                     f"got {num_classes!r}")

  def fn(key: Array, y: Array) -> Array:
    del key
    if y.shape != (num_classes,):
      raise ValueError(f"label_smoothing: expected one soft label of shape "
                       f"({num_classes},), got {y.shape}")
    return (1.0 - eps) * y + eps / num_classes

  return fn
