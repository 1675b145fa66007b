# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Permutation-equivariant layers between weight spaces (DWSNets).

A *feature weight space* is a :class:`~dws_jax.WeightSpace` whose leaves carry
a trailing feature axis: ``weights[l]`` has shape ``(B, d_l, d_{l+1}, F)`` and
``biases[l]`` has shape ``(B, d_{l+1}, F)``. A raw batch of INRs becomes one
with ``F = 1`` (:func:`to_features`).

The DWSNets layer (Navon et al., ICML 2023, arXiv:2301.12780) is a sum of
linear maps from every tensor (``W_0..W_{L-1}, b_0..b_{L-1}``) to every
tensor, grouped in four blocks: weight->weight, weight->bias, bias->weight and
bias->bias. Here every one of those maps is built by one generic rule derived
from the spec's permutation groups (:attr:`WeightSpaceSpec.permutations`),
instead of one hand-written case per layer position:

1. every axis of the source that is permuted by a group the target does *not*
   have is pooled (sum/mean/max);
2. every fixed axis (the input dim ``d_0``, the output dim ``d_L``) of the
   source is flattened into the features, and every fixed axis of the target
   is produced as features and unflattened;
3. the remaining axes (groups shared by source and target) get a map that is
   equivariant to them: an MLP (no shared group), a set layer (DeepSets or
   SAB; one shared group) or the 2-D Kronecker set layer (both axes of the
   same hidden weight matrix);
4. the result is broadcast along every group of the target that the source
   does not have.

For input networks with at least 3 layers and ``d_L = 1`` this reproduces the
DWSNets layer parameter for parameter (76,970 parameters for the official
classifier on 2->32->32->1 INRs). Two cases differ from the reference code on
purpose: for ``d_L > 1`` the map ``W_{L-2} -> W_{L-1}`` produces separate
features per output neuron (the reference broadcasts one feature over the
``d_L`` outputs), and networks with 1 or 2 layers are supported (the
reference asserts at least 3).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from dws_jax import weight_space as wsp
from dws_jax.models import kernels as kernel_impls

Array = jax.Array

REDUCTIONS = ("sum", "mean", "max")
SET_LAYERS = ("ds", "sab")
BLOCKS = ("ww", "wb", "bw", "bb")


def reduce(x: Array, axis, reduction: str, keepdims: bool = False) -> Array:
  """Pools ``x`` over ``axis`` with ``reduction`` in :data:`REDUCTIONS`."""
  if reduction == "sum":
    return jnp.sum(x, axis=axis, keepdims=keepdims)
  if reduction == "mean":
    return jnp.mean(x, axis=axis, keepdims=keepdims)
  if reduction == "max":
    return jnp.max(x, axis=axis, keepdims=keepdims)
  raise ValueError(f"unknown reduction {reduction!r}; expected one of {REDUCTIONS}")


def dws_kernel_init(scale: float = 1.0) -> Callable:
  """DWSNets init: xavier-normal times ``sqrt(2 fan_in / fan_out)`` times scale.

  Kernel shape ``(fan_in, fan_out)``; std ``= scale * sqrt(2 / (fan_in +
  fan_out)) * sqrt(2 fan_in / fan_out)``.
  """
  def init(key, shape, dtype=jnp.float32):
    fan_in, fan_out = shape[-2], shape[-1]
    std = scale * math.sqrt(2.0 / (fan_in + fan_out)) * math.sqrt(
        2.0 * fan_in / fan_out)
    return std * jax.random.normal(key, shape, dtype)
  return init


def dws_bias_init(key, shape, dtype=jnp.float32):
  """DWSNets bias init: ``U(-1e-4, 1e-4)``."""
  return jax.random.uniform(key, shape, dtype, -1e-4, 1e-4)


def torch_dense(features: int, use_bias: bool = True, name: str | None = None
                ) -> nn.Dense:
  """``nn.Dense`` with PyTorch's ``nn.Linear`` default init ``U(+-1/sqrt(fan_in))``."""
  def bias_init(key, shape, dtype=jnp.float32):
    del key
    return jnp.zeros(shape, dtype)
  return nn.Dense(
      features, use_bias=use_bias, name=name,
      kernel_init=nn.initializers.variance_scaling(1 / 3, "fan_in", "uniform"),
      bias_init=bias_init)


def _flat(x: Array) -> Array:
  return x.reshape(-1, x.shape[-1])


@jax.custom_vjp
def rows_matmul(x: Array, w: Array) -> Array:
  """``x @ w`` for ``x`` of shape ``(..., d_in)``; output ``(..., d_out)``.

  The same product as ``x @ w``, with a backward pass written for XLA:CPU:
  autodiff of ``x @ w`` contracts the ``(M, d_out)`` cotangent over its long
  axis (``M``: all leading axes, e.g. ``B d_l d_{l+1}`` entries of a weight
  matrix or ``B N^2`` edges of a graph) after physically transposing it,
  which costs more than both backward products together. Here the kernel
  gradient is ``(g^T x)^T`` on the untransposed cotangent (for ``d_in = 1``
  a sum of products over the rows).
  """
  return x @ w


def _rows_matmul_fwd(x, w):
  return x @ w, (x, w)


def rows_matmul_vjp(x: Array, w: Array, g: Array) -> tuple[Array, Array]:
  """``(dx, dw)`` of :func:`rows_matmul` for the output cotangent ``g``."""
  if x.shape[-1] == 1:  # An outer product: XLA would transpose g for a dot.
    dw = jnp.sum(_flat(g) * _flat(x), axis=0, keepdims=True)
  else:
    dw = (_flat(g).T @ _flat(x)).T
  return g @ w.T, dw


def _rows_matmul_bwd(res, g):
  return rows_matmul_vjp(*res, g)


rows_matmul.defvjp(_rows_matmul_fwd, _rows_matmul_bwd)


def dropout_mask(key: Array, shape: Sequence[int], rate: float,
                 dtype=jnp.float32) -> Array:
  """Inverted-dropout mask ``shape``: ``0`` with probability ``rate``, else
  ``1 / (1 - rate)``.

  ``jax.random.bernoulli`` on ``key``, so its cost is that of the key's PRNG
  implementation (``prng_impl`` in the config; see :mod:`dws_jax.prng`).
  Different keys give independent masks; the same key the same mask.
  """
  if not 0.0 <= rate < 1.0:
    raise ValueError(f"dropout rate must be in [0, 1), got {rate}")
  keep = jax.random.bernoulli(key, 1.0 - rate, tuple(shape))
  return jnp.where(keep, 1.0 / (1.0 - rate), 0.0).astype(dtype)


class RowsDense(nn.Module):
  """``nn.Dense`` (same parameters and init) computed with :func:`rows_matmul`.

  Input ``(..., d_in)``, output ``(..., features)``.
  """

  features: int
  use_bias: bool = True
  kernel_init: Callable = nn.initializers.lecun_normal()
  bias_init: Callable = nn.initializers.zeros

  @nn.compact
  def __call__(self, x: Array) -> Array:
    kernel = self.param("kernel", self.kernel_init,
                        (x.shape[-1], self.features))
    y = rows_matmul(x, kernel)
    if self.use_bias:
      y = y + self.param("bias", self.bias_init, (self.features,))
    return y


# -- axis bookkeeping derived from the spec ------------------------------------


@dataclasses.dataclass(frozen=True)
class Axis:
  """One axis of a weight or bias tensor.

  Attributes:
    size: length of the axis.
    group: index into ``spec.permutations`` of the hidden-neuron group that
      permutes this axis, or ``None`` for a fixed axis (input or output dim).
  """

  size: int
  group: int | None


@dataclasses.dataclass(frozen=True)
class TensorInfo:
  """A tensor of the weight space and its axes (batch and features excluded)."""

  kind: str  # "weights" or "biases"
  layer: int
  axes: tuple[Axis, ...]

  @property
  def name(self) -> str:
    return f"{'W' if self.kind == 'weights' else 'b'}{self.layer}"

  @property
  def groups(self) -> tuple[int, ...]:
    return tuple(a.group for a in self.axes if a.group is not None)

  @property
  def fixed_size(self) -> int:
    return math.prod(a.size for a in self.axes if a.group is None)


def tensor_infos(spec: wsp.WeightSpaceSpec) -> tuple[TensorInfo, ...]:
  """Axes of ``W_0..W_{L-1}, b_0..b_{L-1}``, read from ``spec.leaf_axes``."""
  leaf_axes = spec.leaf_axes
  infos = []
  for kind, shapes in (("weights", spec.weight_shapes),
                       ("biases", spec.bias_shapes)):
    for layer, shape in enumerate(shapes):
      axes = tuple(
          Axis(size, leaf_axes.get((kind, layer), {}).get(i - len(shape)))
          for i, size in enumerate(shape))
      infos.append(TensorInfo(kind, layer, axes))
  return tuple(infos)


def block_kind(src: TensorInfo, tgt: TensorInfo) -> str:
  """``"ww"``, ``"wb"``, ``"bw"`` or ``"bb"`` for a source -> target map."""
  return src.kind[0] + tgt.kind[0]


def to_features(ws: wsp.WeightSpace) -> wsp.WeightSpace:
  """Raw weight space (leaves ``(B, ...)``) -> feature weight space, ``F = 1``."""
  return ws.map(lambda x: x[..., None])


def feature_leaves(fws: wsp.WeightSpace) -> tuple[Array, ...]:
  """Leaves in :func:`tensor_infos` order: weights, then biases."""
  return tuple(fws.weights) + tuple(fws.biases)


def from_leaves(leaves: Sequence[Array], num_layers: int) -> wsp.WeightSpace:
  return wsp.WeightSpace(tuple(leaves[:num_layers]), tuple(leaves[num_layers:]))


def map_features(fn: Callable[[Array], Array], fws: wsp.WeightSpace
                 ) -> wsp.WeightSpace:
  return jax.tree.map(fn, fws)


# -- set layers ------------------------------------------------------------------


class MLP(nn.Module):
  """DWSNets ``_get_mlp``: Dense, then ``n_fc_layers - 1`` times ReLU + Dense.

  Attributes:
    features: output width of every Dense.
    n_fc_layers: number of Dense layers.
    use_bias: whether the Dense layers have biases.
  """

  features: int
  n_fc_layers: int = 1
  use_bias: bool = True
  init_scale: float = 1.0

  @nn.compact
  def __call__(self, x: Array) -> Array:
    for i in range(self.n_fc_layers):
      if i:
        x = nn.relu(x)
      x = RowsDense(self.features, use_bias=self.use_bias,
                    kernel_init=dws_kernel_init(self.init_scale),
                    bias_init=dws_bias_init, name=f"Dense_{i}")(x)
    return x


class DeepSetLayer(nn.Module):
  """DeepSets layer ``Gamma(x) - Lambda(pool(x))`` over the set axis 1.

  Input ``(B, n, F_in)``, output ``(B, n, features)``.
  """

  features: int
  reduction: str = "max"
  n_fc_layers: int = 1
  use_bias: bool = True
  init_scale: float = 1.0

  @nn.compact
  def __call__(self, x: Array) -> Array:
    pooled = reduce(x, 1, self.reduction, keepdims=True)
    gamma = MLP(self.features, self.n_fc_layers, self.use_bias, self.init_scale,
                name="Gamma")(x)
    lam = MLP(self.features, self.n_fc_layers, False, self.init_scale,
              name="Lambda")(pooled)
    return gamma - lam


def _attend(q: Array, k: Array, v: Array) -> Array:
  """``softmax(q^T k) v^T`` per head: ``(B, G, d, n)`` each -> ``(B, G, d, n)``.

  The softmax is normalised after the value product (``(e v^T) / sum e``
  with ``e = exp(logits - max)``), which divides a ``(d, n)`` tensor instead
  of the ``(n, n)`` weights; the max is a constant shift (no gradient).
  """
  logits = jnp.einsum("bgdn,bgdm->bgnm", q, k)
  shift = jax.lax.stop_gradient(jnp.max(logits, axis=-1, keepdims=True))
  e = jnp.exp(logits - shift)
  total = jnp.sum(e, axis=-1)
  return jnp.einsum("bgnm,bgdm->bgdn", e, v) / total[:, :, None, :]


def stacked_attention(q: Array, k: Array, v: Array,
                      chunk_bytes: int | None = None) -> Array:
  """Dot-product attention over many independent heads at once.

  Args:
    q: queries ``(B, G, d, n)``, already scaled; ``G`` stacks every head of
      every set layer that shares the set size ``n`` and head width ``d``.
    k: keys ``(B, G, d, n)``.
    v: values ``(B, G, d, n)``.
    chunk_bytes: ``None`` (default): the whole batch at once. Otherwise a
      memory budget for the ``(c, G, n, n)`` attention weights: the batch is
      processed in chunks of ``c`` samples (``lax.map``, recomputed in the
      backward pass) whose weights take at most this many bytes (at least one
      sample per chunk). The budget means the same on every backend.

  Returns:
    ``(B, G, d, n)``: ``out[b, g, :, i] = sum_j softmax_j(q_i . k_j) v_j``.
  """
  batch, groups, _, n = q.shape
  if chunk_bytes is None:
    return _attend(q, k, v)
  if chunk_bytes <= 0:
    raise ValueError(f"attention chunk_bytes must be positive, got {chunk_bytes}")
  per_sample = groups * n * n * q.dtype.itemsize
  target = max(1, chunk_bytes // per_sample)
  chunk = max(c for c in range(1, min(batch, target) + 1) if batch % c == 0)
  if chunk == batch:
    return _attend(q, k, v)
  split = lambda x: x.reshape((batch // chunk, chunk) + x.shape[1:])
  body = jax.checkpoint(lambda args: _attend(*args))
  out = jax.lax.map(body, (split(q), split(k), split(v)))
  return out.reshape(q.shape)


def _to_heads(x: Array, num_heads: int) -> Array:
  """``(B, n, H * d)`` -> ``(B, H, d, n)``."""
  batch, n, features = x.shape
  x = x.reshape(batch, n, num_heads, features // num_heads)
  return jnp.transpose(x, (0, 2, 3, 1))


def _from_heads(x: Array) -> Array:
  """``(B, H, d, n)`` -> ``(B, n, H * d)``."""
  batch, heads, d, n = x.shape
  return jnp.transpose(x, (0, 3, 1, 2)).reshape(batch, n, heads * d)


def multi_sab_attention(jobs: Sequence[tuple[Array, Array, Array, int]],
                        chunk_bytes: int | None = None,
                        kernels: str = "auto") -> list[Array]:
  """The attention part of several SABs, as one stacked attention per shape.

  Args:
    jobs: ``(q, k, v, num_heads)`` per SAB, ``q, k, v`` of shape
      ``(B, n, F)`` (projections, unscaled); heads of all SABs with equal
      ``n`` and head width ``F / num_heads`` are stacked into one attention:
      the ``"set_attention"`` kernel of ``kernels``
      (:mod:`dws_jax.models.kernels`) where it takes the shapes,
      :func:`stacked_attention` otherwise.
    chunk_bytes: memory budget of :func:`stacked_attention` (``None``: the
      whole batch at once).
    kernels: kernel implementation (``"xla"``, ``"auto"`` or a registered
      one, e.g. ``"xla_cpu"``).

  Returns:
    Per SAB ``(B, n, F)``: ``Q + softmax(Q K^T / sqrt(F)) V`` per head.
  """
  shapes: dict[tuple[int, int], list[int]] = {}
  for j, (q, _, _, heads) in enumerate(jobs):
    shapes.setdefault((q.shape[1], q.shape[2] // heads), []).append(j)
  outs: list[Array | None] = [None] * len(jobs)
  cat = lambda xs, axis: xs[0] if len(xs) == 1 else jnp.concatenate(xs, axis)
  use_kernel = kernel_impls.resolve(kernels) != kernel_impls.XLA
  for (_, width), members in shapes.items():
    sizes = [jobs[j][3] for j in members]
    scaled = [jobs[j][0] * (1.0 / math.sqrt(jobs[j][0].shape[-1]))
              for j in members]
    o = None
    if use_kernel:  # Layout (B, n, heads, d): no transposes, no concatenation.
      heads = lambda x, h: x.reshape(x.shape[:2] + (h, width))
      q = [heads(x, h) for x, h in zip(scaled, sizes)]
      k, v = ([heads(jobs[j][i], h) for j, h in zip(members, sizes)]
              for i in (1, 2))
      o = kernel_impls.call(kernels, "set_attention", q, k, v)
      if o is not None:
        o = [x.reshape(x.shape[:2] + (-1,)) for x in o]
    if o is None:
      qs = [_to_heads(x, h) for x, h in zip(scaled, sizes)]
      ks, vs = ([_to_heads(jobs[j][i], h) for j, h in zip(members, sizes)]
                for i in (1, 2))
      o = stacked_attention(cat(qs, 1), cat(ks, 1), cat(vs, 1), chunk_bytes)
      o = [_from_heads(o[:, lo:hi]) for lo, hi in _ranges(sizes)]
    for j, oj in zip(members, o):
      outs[j] = jobs[j][0] + oj
  return outs


def materialize(xs: Sequence[Array], kernels: str = "auto"
                ) -> tuple[Array, ...]:
  """``xs`` unchanged, each computed once (``kernels``' ``"materialize"``).

  XLA:CPU fuses a cheap elementwise producer into every consumer and
  recomputes it there; a kernel implementation may put the arrays behind an
  opaque copy. The XLA version is the identity.

  Args:
    xs: arrays of any shapes (axis 0 the batch).
    kernels: kernel implementation (see :func:`multi_sab_attention`).

  Returns:
    The arrays of ``xs``, same shapes and values.
  """
  xs = tuple(xs)
  if not xs:
    return xs
  out = kernel_impls.call(kernels, "materialize", xs)
  return xs if out is None else tuple(out)


def _ranges(sizes: Sequence[int]) -> list[tuple[int, int]]:
  """Consecutive ``[lo, hi)`` ranges of the given sizes."""
  bounds = [0]
  for size in sizes:
    bounds.append(bounds[-1] + size)
  return list(zip(bounds[:-1], bounds[1:]))


class SAB(nn.Module):
  """Set attention block (Lee et al. 2019) as in DWSNets, without LayerNorm.

  ``O = Q + softmax(Q K^T / sqrt(features)) V`` per head, then
  ``O + relu(Dense(O))``. Input ``(B, n, F_in)``, output ``(B, n, features)``.
  :meth:`project` and :meth:`output` split the block around its attention so
  that a layer can run the attention of many SABs at once
  (:func:`multi_sab_attention`). ``kernels``: the attention's kernel
  implementation (:mod:`dws_jax.models.kernels`).
  """

  features: int
  num_heads: int = 8
  init_scale: float = 1.0
  kernels: str = "auto"

  def setup(self):
    if self.features % self.num_heads:
      raise ValueError(
          f"SAB: output features {self.features} are not divisible by "
          f"num_heads={self.num_heads}")
    dense = lambda: RowsDense(self.features,
                              kernel_init=dws_kernel_init(self.init_scale),
                              bias_init=dws_bias_init)
    self.fc_q, self.fc_k, self.fc_v, self.fc_o = (dense() for _ in range(4))

  def project(self, x: Array) -> tuple[Array, Array, Array, int]:
    """``(B, n, F_in)`` -> ``(Q, K, V, num_heads)``, each ``(B, n, features)``."""
    return self.fc_q(x), self.fc_k(x), self.fc_v(x), self.num_heads

  def output(self, o: Array) -> Array:
    """``O + relu(Dense(O))`` for the attention output ``O`` ``(B, n, F)``."""
    return o + nn.relu(self.fc_o(o))

  def __call__(self, x: Array) -> Array:
    return self.output(multi_sab_attention([self.project(x)],
                                           kernels=self.kernels)[0])


class SetLayer(nn.Module):
  """``"ds"`` (DeepSets) or ``"sab"`` set layer over axis 1 of ``(B, n, F)``."""

  features: int
  set_layer: str = "sab"
  reduction: str = "max"
  n_fc_layers: int = 1
  num_heads: int = 8
  use_bias: bool = True
  init_scale: float = 1.0
  kernels: str = "auto"

  def setup(self):
    if self.set_layer == "ds":
      self.ds = DeepSetLayer(self.features, self.reduction, self.n_fc_layers,
                             self.use_bias, self.init_scale)
    elif self.set_layer == "sab":
      self.sab = SAB(self.features, self.num_heads, self.init_scale,
                     self.kernels)
    else:
      raise ValueError(
          f"unknown set_layer {self.set_layer!r}; expected one of {SET_LAYERS}")

  def project(self, x: Array) -> tuple[Array, Array, Array, int]:
    """SAB only: see :meth:`SAB.project`."""
    return self.sab.project(x)

  def output(self, o: Array) -> Array:
    """SAB only: see :meth:`SAB.output`."""
    return self.sab.output(o)

  def __call__(self, x: Array) -> Array:
    if self.set_layer == "ds":
      return self.ds(x)
    return self.sab(x)


class KroneckerSetLayer(nn.Module):
  """Equivariant map for a matrix permuted on both axes (``W_l -> W_l``).

  ``(lin_all(x) + lin_n(pool_rows x) + lin_m(pool_cols x) + lin_both(pool x))
  / 4``. Input ``(B, n, m, F_in)``, output ``(B, n, m, features)``.
  """

  features: int
  reduction: str = "max"
  n_fc_layers: int = 1
  use_bias: bool = True
  init_scale: float = 1.0

  def __call__(self, x: Array, pool: Callable | None = None) -> Array:
    """``pool``: :func:`pooling_cache` of ``x`` shared with other blocks."""
    every, rows, cols, both = self.parts(x, pool)
    return every + rows + cols + both

  @nn.compact
  def parts(self, x: Array, pool: Callable | None = None) -> list[Array]:
    """The four terms of the output, each divided by 4, before their sum.

    Returns:
      ``lin_all(x)`` ``(B, n, m, F)``, ``lin_n(pool_rows x)`` ``(B, 1, m,
      F)``, ``lin_m(pool_cols x)`` ``(B, n, 1, F)`` and ``lin_both(pool x)``
      ``(B, 1, 1, F)``: a layer adds the small ones to its other
      broadcast terms before any full-size sum
      (:func:`sum_broadcast_terms`).
    """
    pool = pool or pooling_cache(x, self.reduction)
    mlp = lambda name: MLP(self.features, self.n_fc_layers, self.use_bias,
                           self.init_scale, name=name)
    inputs = (("lin_all", x), ("lin_n", pool((1,))), ("lin_m", pool((2,))),
              ("lin_both", pool((1, 2))))
    return [mlp(name)(y) * 0.25 for name, y in inputs]


# -- the generic block and the DWS layer ---------------------------------------


def pooling_cache(x: Array, reduction: str
                  ) -> Callable[[tuple[int, ...]], Array]:
  """``pool(axes)``: ``x`` reduced over ``axes`` with ``keepdims``, memoised.

  Every pooling of one tensor in a layer goes through one cache, so each
  (tensor, axes) pooling is one op with one backward pass however many
  blocks read it, and a pooling over several axes reduces the pooling over
  all but the first of them (a smaller tensor) instead of ``x``.
  """
  cache: dict[tuple[int, ...], Array] = {}

  def pool(axes: tuple[int, ...]) -> Array:
    axes = tuple(sorted(axes))
    if axes not in cache:
      base = x if len(axes) == 1 else pool(axes[1:])
      cache[axes] = reduce(base, axes[0], reduction, keepdims=True)
    return cache[axes]

  return pool


class DWSBlock(nn.Module):
  """Equivariant linear-ish map from one weight-space tensor to another.

  Attributes:
    src: the source tensor's axes.
    tgt: the target tensor's axes.
    features: output features per entry of the target.
    set_layer, reduction, n_fc_layers, num_heads, use_bias, init_scale,
      kernels: see :class:`DWSLayer`.

  Input ``(B, *src_axes, F_in)``; output ``(B, *tgt_axes, features)``. The map
  is :meth:`prepare` (steps 1-2 of the module docstring), the equivariant map
  on the shared axes (step 3) and :meth:`finish` (step 4); for SAB blocks a
  layer runs step 3 as :meth:`project`, a stacked attention and
  :meth:`output`.
  """

  src: TensorInfo
  tgt: TensorInfo
  features: int
  set_layer: str = "sab"
  reduction: str = "max"
  n_fc_layers: int = 1
  num_heads: int = 8
  use_bias: bool = True
  init_scale: float = 1.0
  kernels: str = "auto"

  @property
  def shared_groups(self) -> list[int]:
    """Groups of both source and target, in target order."""
    src_groups = set(self.src.groups)
    return [g for g in self.tgt.groups if g in src_groups]

  @property
  def uses_sab(self) -> bool:
    return self.set_layer == "sab" and len(self.shared_groups) == 1

  def setup(self):
    fixed_out = [a.size for a in self.tgt.axes if a.group is None]
    out_features = self.features * math.prod(fixed_out)
    shared = self.shared_groups
    if not shared:
      self.mlp = MLP(out_features, self.n_fc_layers, self.use_bias,
                     self.init_scale)
    elif len(shared) == 1:
      self.set = SetLayer(out_features, self.set_layer, self.reduction,
                          self.n_fc_layers, self.num_heads, self.use_bias,
                          self.init_scale, self.kernels)
    else:
      self.kron = KroneckerSetLayer(out_features, self.reduction,
                                    self.n_fc_layers, self.use_bias,
                                    self.init_scale)

  def prepare(self, x: Array, pool: Callable | None = None) -> Array:
    """Pools and flattens: ``(B, *src_axes, F_in)`` -> ``(B, *shared, F')``.

    ``pool``: :func:`pooling_cache` of ``x`` shared by the blocks of a
    layer (by default one of its own).
    """
    src, tgt = self.src, self.tgt
    batch = x.shape[0]
    if x.shape[1:-1] != tuple(a.size for a in src.axes):
      raise ValueError(
          f"DWSBlock {src.name}->{tgt.name}: input shape {x.shape} does not "
          f"match axes {[a.size for a in src.axes]}")
    tgt_groups = set(tgt.groups)
    # 1. Pool source axes permuted by groups the target lacks.
    pool_axes = tuple(1 + i for i, a in enumerate(src.axes)
                      if a.group is not None and a.group not in tgt_groups)
    kept = [a for a in src.axes
            if a.group is None or a.group in tgt_groups]
    if pool_axes:
      pool = pool or pooling_cache(x, self.reduction)
      x = jnp.squeeze(pool(pool_axes), pool_axes)
    # 2. Shared axes first (in target order), fixed axes into the features.
    shared = self.shared_groups
    order = [1 + [a.group for a in kept].index(g) for g in shared]
    order += [1 + i for i, a in enumerate(kept) if a.group is None]
    x = jnp.transpose(x, (0, *order, x.ndim - 1))
    return x.reshape((batch, *x.shape[1:1 + len(shared)], -1))

  def project(self, x: Array) -> tuple[Array, Array, Array, int]:
    """SAB blocks: ``(Q, K, V, heads)`` of the prepared input ``(B, n, F')``."""
    return self.set.project(x)

  def output(self, o: Array) -> Array:
    """SAB blocks: the SAB's output from its attention output ``(B, n, F)``."""
    return self.set.output(o)

  def finish(self, y: Array) -> Array:
    """``(B, *shared, F_out)`` -> ``(B, *tgt_axes, features)`` (broadcast)."""
    tgt = self.tgt
    batch = y.shape[0]
    shared = self.shared_groups
    shared_sizes = y.shape[1:1 + len(shared)]
    fixed_out = [a.size for a in tgt.axes if a.group is None]
    # 4. Unflatten fixed target axes, insert and broadcast missing groups.
    y = y.reshape((batch, *shared_sizes, *fixed_out, self.features))
    labels = [("g", g) for g in shared]
    labels += [("f", i) for i, a in enumerate(tgt.axes) if a.group is None]
    target_labels = [("f", i) if a.group is None else ("g", a.group)
                     for i, a in enumerate(tgt.axes)]
    for label in target_labels:
      if label not in labels:
        y = y[..., None, :]
        labels.append(label)
    perm = [1 + labels.index(label) for label in target_labels]
    return jnp.transpose(y, (0, *perm, y.ndim - 1))

  def equivariant_map(self, x: Array, pool: Callable | None = None) -> Array:
    """Step 3 on the prepared input: ``(B, *shared, F')`` -> ``(B, *shared, F_out)``.

    ``pool``: the pooling cache of the source, passed on to the Kronecker
    set layer (whose prepared input is the source itself).
    """
    shared = self.shared_groups
    if not shared:
      return self.mlp(x)
    if len(shared) == 1:
      return self.set(x)
    return self.kron(x, pool)

  def map_terms(self, x: Array, pool: Callable | None = None) -> list[Array]:
    """:meth:`equivariant_map` as terms that broadcast to its output.

    The Kronecker set layer's four terms (:meth:`KroneckerSetLayer.parts`),
    otherwise the one output: their sum is :meth:`equivariant_map`.
    """
    if len(self.shared_groups) == 2:
      return self.kron.parts(x, pool)
    return [self.equivariant_map(x, pool)]

  def __call__(self, x: Array) -> Array:
    y = self.finish(self.equivariant_map(self.prepare(x)))
    return jnp.broadcast_to(
        y, (y.shape[0], *(a.size for a in self.tgt.axes), self.features))


class DWSLayer(nn.Module):
  """The DWSNets equivariant layer between feature weight spaces.

  ``out[t] = sum_s block_{s->t}(in[s]) / (2L)`` over all tensors ``s, t`` of
  the selected blocks (the ``1/(2L)`` normalisation of the reference). The
  attention of all SAB blocks runs as one stacked attention per set size
  and head width (:func:`multi_sab_attention`); block outputs are summed
  with broadcasting, without materialising each block's full-size output.

  Attributes:
    spec: the weight-space spec (layer sizes and permutation groups).
    features: output features per entry.
    set_layer: ``"sab"`` or ``"ds"`` for maps with one shared group.
    reduction: pooling in :data:`REDUCTIONS`.
    n_fc_layers: Dense layers per MLP.
    num_heads: SAB heads.
    use_bias: biases in the MLPs and DeepSets layers.
    init_scale: multiplies the DWSNets init std.
    blocks: subset of :data:`BLOCKS` to include (all four by default).
    attention_chunk_bytes: memory budget of the stacked SAB attention
      (:func:`stacked_attention`; ``None``: unchunked).
    kernels: kernel implementation of the SAB attention and of the output's
      :func:`materialize` (:mod:`dws_jax.models.kernels`): ``"xla"``,
      ``"auto"`` or a registered one (``"xla_cpu"``: fused XLA:CPU kernels,
      from the plugin :mod:`dws_jax.xla_cpu`).

  Input: feature weight space with leaves ``(B, d_l, d_{l+1}, F_in)`` and
  ``(B, d_{l+1}, F_in)``. Output: the same with ``features`` channels.
  """

  spec: wsp.WeightSpaceSpec
  features: int
  set_layer: str = "sab"
  reduction: str = "max"
  n_fc_layers: int = 1
  num_heads: int = 8
  use_bias: bool = True
  init_scale: float = 1.0
  blocks: tuple[str, ...] = BLOCKS
  attention_chunk_bytes: int | None = None
  kernels: str = "auto"

  @nn.compact
  def __call__(self, fws: wsp.WeightSpace) -> wsp.WeightSpace:
    check_options(set_layer=self.set_layer, reduction=self.reduction,
                  blocks=self.blocks)
    infos = tensor_infos(self.spec)
    leaves = feature_leaves(fws)
    if len(leaves) != len(infos):
      raise ValueError(
          f"DWSLayer: got {len(leaves) // 2} layers, the spec has "
          f"{self.spec.num_layers} (layer_sizes={self.spec.layer_sizes})")
    terms = [[] for _ in infos]

    def add(t, y):
      terms[t].append(y)

    sab_blocks, jobs = [], []
    for s, src in enumerate(infos):
      pool = pooling_cache(leaves[s], self.reduction)
      for t, tgt in enumerate(infos):
        if block_kind(src, tgt) not in self.blocks:
          continue
        block = DWSBlock(src, tgt, self.features, self.set_layer,
                         self.reduction, self.n_fc_layers, self.num_heads,
                         self.use_bias, self.init_scale, self.kernels,
                         name=f"{src.name}_to_{tgt.name}")
        x = block.prepare(leaves[s], pool)
        if block.uses_sab:
          sab_blocks.append((t, block))
          jobs.append(block.project(x))
        else:
          for y in block.map_terms(x, pool):
            add(t, block.finish(y))
    for (t, block), o in zip(sab_blocks, multi_sab_attention(
        jobs, self.attention_chunk_bytes, self.kernels)):
      add(t, block.finish(block.output(o)))
    batch = leaves[0].shape[0]
    norm = 1.0 / len(infos)
    result = []
    outs = [sum_broadcast_terms(ts) for ts in terms]
    for t, tgt in enumerate(infos):
      shape = (batch, *(a.size for a in tgt.axes), self.features)
      if outs[t] is None:  # Target not reached by the selected blocks.
        outs[t] = jnp.zeros(shape, leaves[0].dtype)
      result.append(jnp.broadcast_to(outs[t] * norm, shape))
    result = materialize(result, self.kernels)
    return from_leaves(result, self.spec.num_layers)


def sum_broadcast_terms(terms: Sequence[Array]) -> Array | None:
  """Sum of arrays that broadcast against each other (``None`` if empty).

  Terms of equal shape are summed first, then the partial sums from the
  smallest: the terms a layer broadcasts along the same axes (e.g. every
  ``(B, n, 1, F)`` contribution to a hidden weight matrix) are combined at
  their own size, and the full-size sum has a few operands. XLA:CPU
  recomputes a fused full-size sum in several backward fusions, so its
  operand count matters.
  """
  if not terms:
    return None
  groups: dict[tuple[int, ...], Array] = {}
  for y in terms:
    groups[y.shape] = y if y.shape not in groups else groups[y.shape] + y
  parts = sorted(groups.values(), key=lambda y: y.size)
  total = parts[0]
  for y in parts[1:]:
    total = total + y
  return total


def check_options(*, set_layer: str | None = None, reduction: str | None = None,
                  blocks: Sequence[str] | None = None) -> None:
  """Raises ``ValueError`` naming an unknown option value."""
  if set_layer is not None and set_layer not in SET_LAYERS:
    raise ValueError(
        f"unknown set_layer {set_layer!r}; expected one of {SET_LAYERS}")
  if reduction is not None and reduction not in REDUCTIONS:
    raise ValueError(
        f"unknown reduction {reduction!r}; expected one of {REDUCTIONS}")
  if blocks is not None:
    bad = [b for b in blocks if b not in BLOCKS]
    if bad or not blocks:
      raise ValueError(f"blocks must be a non-empty subset of {BLOCKS}, got "
                       f"{tuple(blocks)}")


def invariant_pool(fws: wsp.WeightSpace, spec: wsp.WeightSpaceSpec,
                   reduction: str = "max") -> Array:
  """Permutation-invariant features of a feature weight space (DWSNets head).

  Every tensor is pooled over its permuted axes and its fixed axes are kept
  and flattened: ``W_0 -> d_0 F``, ``W_{L-1} -> d_L F``, ``b_{L-1} -> d_L F``,
  every other tensor ``-> F``. This is DWSNets' ``InvariantLayer`` pooling.

  Args:
    fws: feature weight space, leaves ``(B, ..., F)``.
    spec: the spec.
    reduction: pooling in :data:`REDUCTIONS`.

  Returns:
    ``(B, F * (2L - 3 + d_0 + 2 d_L))`` for ``L >= 2``.
  """
  return jnp.concatenate(pooled_tensors(fws, spec, reduction), axis=-1)


def pooled_tensors(fws: wsp.WeightSpace, spec: wsp.WeightSpaceSpec,
                   reduction: str = "max") -> list[Array]:
  """The parts of :func:`invariant_pool`, one per tensor.

  Returns:
    ``(B, F * fixed size)`` per tensor, in :func:`tensor_infos` order
    (weights, then biases): every permuted axis pooled, the fixed axes
    flattened into the features.
  """
  parts = []
  for info, x in zip(tensor_infos(spec), feature_leaves(fws)):
    pool = tuple(1 + i for i, a in enumerate(info.axes) if a.group is not None)
    if pool:
      x = reduce(x, pool, reduction)
    parts.append(x.reshape(x.shape[0], -1))
  return parts


def invariant_pool_size(spec: wsp.WeightSpaceSpec, features: int) -> int:
  """Width of :func:`invariant_pool`'s output."""
  return features * sum(info.fixed_size for info in tensor_infos(spec))
