# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Neural-graph relational transformer (Kofinas et al., ICLR 2024; "NG-T").

The INR is read as a dense graph: one node per neuron (``N = sum(d_l)``;
node features are the biases, zeros for the input neurons) and one edge per
ordered pair of neurons (edge features are the weights ``W_l[a, b]`` on the
edge from neuron ``a`` of layer ``l`` to neuron ``b`` of layer ``l + 1``, zero
elsewhere). Everything is dense and batched: edges are ``(B, N, N, d_edge)``
and nothing is built per sample.

Graph embedding (``GraphConstructor`` of the reference, ``sin_emb=True``):
Gaussian Fourier features of the scalar values (128 frequencies, scale 1,
``[sin 2 pi x B, cos 2 pi x B]``), a Dense to ``d_edge`` / ``d_node``, another
Dense, plus a learned positional embedding per input neuron, per hidden layer
(shared by its neurons, so hidden neurons stay exchangeable) and per output
neuron. The Fourier matrix is a fixed buffer in the reference; here it is
drawn from ``fourier_seed`` at trace time, so it is not a parameter either.
The embedding of the value 0 is computed once and broadcast, and the Fourier
features are only computed for real weights and biases.

Each layer: relational attention (queries and keys of node ``i`` and ``j`` plus
projections of edge ``ij``; values modulated by the edge when ``modulate_v``),
residual + LayerNorm, node MLP (GELU), residual + LayerNorm, then edge updates
from ``[e_ij, e_ji]`` and both endpoint nodes (off in the last layer). Readout
``cat_last_layer``: the output neurons' features, flattened, then
Dense-ReLU-Dense to the classes.

Defaults are the reference's (``RelationTransformer`` in the official code):
d_node 64, d_edge 32, attention hidden 128, node MLP 128, edge MLP 64, output
MLP 128, 4 layers, 8 heads, dropout 0.2, LayerNorm, GELU (exact), modulate_v.
On 2->32->32->1 INRs with 10 classes: 376,586 parameters, equal to the official
count. The reference computes a mask of non-zero edges but never uses it; so
attention runs over all ``N`` nodes here as well.

Speed: all heads are computed at once (:func:`relational_attention`, with a
hand-written backward pass); with ``kernels="xla_cpu"`` (the XLA:CPU plugin,
:mod:`dws_jax.xla_cpu`; see :mod:`dws_jax.models.kernels`) the attention is
one fused FFI kernel per layer that never stores the per-edge projections;
with plain XLA value projections are applied after pooling the edges per head
(never built per edge); every per-edge Dense uses :func:`edge_matmul`, whose
kernel gradient avoids transposing the large cotangent; the edge update is
one fused FFI kernel per layer with ``"xla_cpu"``, and its dropout masks are
``jax.random`` (:func:`layers.dropout_mask`; cheap with ``prng_impl="rbg"``);
the Fourier features' sine is ``fourier_sin``. ``remat=True`` rematerialises
each layer in the backward pass (less memory, about a third
more compute); without it a step at batch 256 on 2->32->32->1 INRs peaks at
about 6 GiB on the CPU (1.2 GiB 16 graphs at a time).
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from dws_jax import sine
from dws_jax import weight_space as wsp
from dws_jax.models import kernels as kernel_impls
from dws_jax.models import layers

Array = jax.Array

READOUTS = ("cat_last_layer", "mean", "max", "last_layer")

_xavier = nn.initializers.xavier_uniform()


def _rt_dense(features, use_bias=True, name=None):
  """The reference's ``Linear``: xavier-uniform kernel, zero bias."""
  return nn.Dense(features, use_bias=use_bias, kernel_init=_xavier, name=name)


def _gelu(x):
  return nn.gelu(x, approximate=False)


# ``x @ w`` with a kernel gradient that does not transpose the edge cotangent.
edge_matmul = layers.rows_matmul


def _attention_fwd(q_n, k_n, v_n, edges, w_edge, w_v, scale):
  """Forward of :func:`xla_relational_attention`; output and residuals."""
  proj = edge_matmul(edges, w_edge.reshape(w_edge.shape[0], -1))
  proj = proj.reshape(edges.shape[:3] + w_edge.shape[1:])  # (B, N, N, P, H, dh)
  q = q_n[:, :, None] + proj[..., 0, :, :]  # (B, N, N, H, dh)
  k = k_n[:, None] + proj[..., 1, :, :]
  attn = jax.nn.softmax(scale * jnp.sum(q * k, axis=-1), axis=2)  # (B, N, N, H)
  pooled = jnp.einsum("bijh,bijc->bihc", attn, edges)  # (B, N, H, d_edge)
  out = jnp.einsum("bihc,chd->bihd", pooled, w_v)
  if w_edge.shape[1] == 3:
    out = out + jnp.sum(attn[..., None] * v_n[:, None] * proj[..., 2, :, :],
                        axis=2)
  else:
    out = out + jnp.einsum("bijh,bjhd->bihd", attn, v_n)
  return out, (q_n, k_n, v_n, edges, w_edge, w_v, proj, attn, pooled)


@functools.partial(jax.custom_vjp, nondiff_argnums=(6,))
def xla_relational_attention(q_n: Array, k_n: Array, v_n: Array, edges: Array,
                             w_edge: Array, w_v: Array, scale: float) -> Array:
  """Multi-head relational attention core in XLA; output ``(B, N, H, dh)``.

  Args:
    q_n, k_n, v_n: node queries, keys and values ``(B, N, H, dh)``.
    edges: ``(B, N, N, d_edge)``.
    w_edge: per-edge projections ``(d_edge, P, H, dh)``: query, key and (when
      ``P == 3``) value modulation.
    w_v: edge value projection ``(d_edge, H, dh)``.
    scale: logit scale.

  With ``E^p = edges @ w_edge[:, p]``::

    a_ij = softmax_j(scale * (q_i + E^0_ij) . (k_j + E^1_ij))
    out_i = (sum_j a_ij e_ij) w_v + sum_j a_ij v_j * E^2_ij   (P == 3)
    out_i = (sum_j a_ij e_ij) w_v + sum_j a_ij v_j            (P == 2)

  The backward pass is written by hand so that the cotangent of all ``P``
  edge projections is formed in one pass (autodiff pads and adds one slice at
  a time) and the per-edge query/key sums are recomputed, not stored.
  """
  return _attention_fwd(q_n, k_n, v_n, edges, w_edge, w_v, scale)[0]


def _attention_vjp_fwd(q_n, k_n, v_n, edges, w_edge, w_v, scale):
  return _attention_fwd(q_n, k_n, v_n, edges, w_edge, w_v, scale)


def _attention_vjp_bwd(scale, res, g):
  q_n, k_n, v_n, edges, w_edge, w_v, proj, attn, pooled = res
  modulate = w_edge.shape[1] == 3
  d_wv = jnp.einsum("bihc,bihd->chd", pooled, g)
  d_pooled = jnp.einsum("bihd,chd->bihc", g, w_v)
  d_attn = jnp.einsum("bihc,bijc->bijh", d_pooled, edges)
  g_j = g[:, :, None]  # (B, N, 1, H, dh)
  if modulate:
    m = proj[..., 2, :, :]
    d_attn = d_attn + jnp.sum(g_j * v_n[:, None] * m, axis=-1)
    d_m = attn[..., None] * v_n[:, None] * g_j
    d_vn = jnp.sum(attn[..., None] * m * g_j, axis=1)
  else:
    d_attn = d_attn + jnp.einsum("bihd,bjhd->bijh", g, v_n)
    d_vn = jnp.einsum("bijh,bihd->bjhd", attn, g)
  d_edges = jnp.einsum("bijh,bihc->bijc", attn, d_pooled)
  d_logits = attn * (d_attn - jnp.sum(attn * d_attn, axis=2, keepdims=True))
  d_logits = scale * d_logits[..., None]
  q = q_n[:, :, None] + proj[..., 0, :, :]
  k = k_n[:, None] + proj[..., 1, :, :]
  d_q = d_logits * k
  d_k = d_logits * q
  d_proj = jnp.stack([d_q, d_k, d_m] if modulate else [d_q, d_k], axis=3)
  d_proj = d_proj.reshape(edges.shape[:3] + (-1,))
  d_e, d_w = layers.rows_matmul_vjp(
      edges, w_edge.reshape(w_edge.shape[0], -1), d_proj)
  d_edges = d_edges + d_e
  d_w = d_w.reshape(w_edge.shape)
  return (jnp.sum(d_q, axis=2), jnp.sum(d_k, axis=1), d_vn, d_edges, d_w, d_wv)


xla_relational_attention.defvjp(_attention_vjp_fwd, _attention_vjp_bwd)


def relational_attention(q_n: Array, k_n: Array, v_n: Array, edges: Array,
                         w_edge: Array, w_v: Array, scale: float,
                         kernels: str = "auto") -> Array:
  """:func:`xla_relational_attention`, or the ``kernels`` implementation.

  Same arguments and result as :func:`xla_relational_attention`; ``kernels``
  names the implementation (:mod:`dws_jax.models.kernels`). With
  ``"xla_cpu"`` and shapes its kernel takes (head width 16, edge width 16 to
  64, float32) the projections of the edges are never stored; otherwise this
  is :func:`xla_relational_attention`.
  """
  out = kernel_impls.call(kernels, "relational_attention", q_n, k_n, v_n,
                          edges, w_edge, w_v, scale)
  if out is not None:
    return out
  return xla_relational_attention(q_n, k_n, v_n, edges, w_edge, w_v, scale)


def graph_layout(spec: wsp.WeightSpaceSpec) -> tuple[np.ndarray, np.ndarray]:
  """Node offsets per layer ``(L + 2,)`` and positional-embedding index ``(N,)``.

  Input and output neurons get one embedding each; all neurons of a hidden
  layer share one.
  """
  sizes = spec.layer_sizes
  offsets = np.concatenate([[0], np.cumsum(sizes)])
  index, nxt = [], 0
  for l, d in enumerate(sizes):
    if l in (0, len(sizes) - 1):
      index += list(range(nxt, nxt + d))
      nxt += d
    else:
      index += [nxt] * d
      nxt += 1
  return offsets, np.asarray(index, np.int32)


def num_pos_embeddings(spec: wsp.WeightSpaceSpec) -> int:
  sizes = spec.layer_sizes
  return sizes[0] + (len(sizes) - 2) + sizes[-1]


class FourierEmbed(nn.Module):
  """Gaussian Fourier features of scalars, then a torch-initialised Dense.

  ``sin`` picks the sine (:func:`dws_jax.sine.get_sin`): ``"exact"``
  (``jnp.sin``), ``"fast"`` (the polynomial sine, abs error ~1e-6 for
  arguments up to 100, growing with the argument like float32 range reduction
  itself; it vectorises on XLA:CPU) or ``"auto"`` (fast on CPU, exact
  elsewhere).

  Input ``(..., 1)``; output ``(..., features)``.
  """

  features: int
  num_frequencies: int = 128
  scale: float = 1.0
  seed: int = 0
  sin: str = "auto"

  @nn.compact
  def __call__(self, x: Array) -> Array:
    freqs = self.scale * jax.random.normal(
        jax.random.key(self.seed), (x.shape[-1], self.num_frequencies), x.dtype)
    proj = 2 * math.pi * (x @ freqs)
    # cos(x) = sin(x + pi/2): one sine over both halves.
    feats = sine.get_sin(self.sin)(
        jnp.concatenate([proj, proj + np.float32(math.pi / 2)], axis=-1))
    return layers.torch_dense(self.features, name="proj")(feats)


class RTAttention(nn.Module):
  """Relational multi-head attention over a dense graph.

  Input nodes ``(B, N, d_node)`` and edges ``(B, N, N, d_edge)``; output
  ``(B, N, d_node)``. For head ``h``, with ``Q, K, V`` node projections and
  ``E^q, E^k, E^v, E^m`` edge projections::

    q_ij = Q_i + E^q_ij,  k_ij = K_j + E^k_ij,  v_ij = E^v_ij + V_j * E^m_ij
    a_ij = softmax_j(q_ij . k_ij / sqrt(d_hid)),  out_i = sum_j a_ij v_ij

  All heads are computed at once. The value projection is linear in the
  edge, so ``sum_j a_ij E^v_ij = (sum_j a_ij e_ij) W^v``: the edges are pooled
  per head first (``d_edge`` wide) and projected per node, and ``E^v`` is
  never built per edge. ``kernels``: see :func:`relational_attention`.
  """

  d_hid: int = 128
  n_heads: int = 8
  modulate_v: bool = True
  kernels: str = "auto"

  @nn.compact
  def __call__(self, nodes: Array, edges: Array) -> Array:
    if self.d_hid % self.n_heads:
      raise ValueError(f"attention hidden size {self.d_hid} is not divisible by "
                       f"n_heads={self.n_heads}")
    batch, n, _ = nodes.shape
    d_edge = edges.shape[-1]
    heads = self.n_heads
    dh = self.d_hid // heads
    factor = 4 if self.modulate_v else 3
    qkv = _rt_dense(3 * self.d_hid, use_bias=False, name="qkv_node")(nodes)
    qkv = qkv.reshape(batch, n, heads, 3, dh)
    q_n, k_n, v_n = qkv[:, :, :, 0], qkv[:, :, :, 1], qkv[:, :, :, 2]
    # The reference's layout: per head, [q, k, v, (m)] chunks of dh.
    kernel = self.param(
        "qkv_edge",
        lambda k, s: _xavier(k, (d_edge, factor * self.d_hid)).reshape(s),
        (d_edge, heads, factor * dh)).reshape(d_edge, heads, factor, dh)
    per_edge = (0, 1, 3) if self.modulate_v else (0, 1)
    w_edge = jnp.moveaxis(kernel[:, :, per_edge], 2, 1)  # (d_edge, P, H, dh)
    out = relational_attention(q_n, k_n, v_n, edges, w_edge, kernel[:, :, 2],
                               1.0 / math.sqrt(self.d_hid), self.kernels)
    out = out.reshape(batch, n, self.d_hid)
    return _rt_dense(nodes.shape[-1], name="proj_out")(out)


class RTLayer(nn.Module):
  """One relational-transformer layer: node updates, then edge updates.

  ``kernels``: implementation of the attention and the edge update (see
  :class:`RelationalTransformer`).
  """

  d_node: int = 64
  d_edge: int = 32
  d_attn_hid: int = 128
  d_node_hid: int = 128
  d_edge_hid: int = 64
  n_heads: int = 8
  dropout_node: float = 0.2
  dropout_edge: float = 0.2
  edge_updates: bool = True
  modulate_v: bool = True
  use_ln: bool = True
  kernels: str = "auto"

  @nn.compact
  def __call__(self, nodes: Array, edges: Array, train: bool = False
               ) -> tuple[Array, Array]:
    det = not train
    norm = (lambda name: nn.LayerNorm(epsilon=1e-5, name=name)) if self.use_ln \
        else (lambda name: (lambda x: x))
    attn = RTAttention(self.d_attn_hid, self.n_heads, self.modulate_v,
                       self.kernels, name="self_attn")(nodes, edges)
    attn = nn.Dropout(self.dropout_node)(_rt_dense(self.d_node, name="lin0")(attn),
                                         deterministic=det)
    nodes = norm("node_ln0")(nodes + attn)
    hid = _gelu(_rt_dense(self.d_node_hid, use_bias=False, name="node_mlp_0")(nodes))
    hid = _rt_dense(self.d_node, name="node_mlp_1")(hid)
    nodes = norm("node_ln1")(nodes + nn.Dropout(self.dropout_node)(
        hid, deterministic=det))
    if not self.edge_updates:
      return nodes, edges
    # Edge MLP 0: Linear([e_ij, e_ji]) + Linear(source i) + Linear(target j).
    c, f = self.d_edge, self.d_edge_hid
    k0 = self.param("lin0_e_kernel", _xavier, (2 * c, f))
    b0 = self.param("lin0_e_bias", nn.initializers.zeros, (f,))
    s = _rt_dense(f, name="lin0_s")(nodes) + b0
    t = _rt_dense(f, name="lin0_t")(nodes)
    k1, b1 = _DenseParams((f, c), name="lin1")()
    k2, _ = _DenseParams((c, f), use_bias=False, name="edge_mlp1_0")()
    k3, b3 = _DenseParams((f, c), name="edge_mlp1_1")()
    ln0 = _LayerNormParams(c, name="eln0")() if self.use_ln else (None, None)
    ln1 = _LayerNormParams(c, name="eln1")() if self.use_ln else (None, None)
    params = EdgeMlpParams(k0, k1, b1, *ln0, k2, k3, b3, *ln1)
    masks = None
    if train and self.dropout_edge > 0:  # counter-based: cheap on CPU
      masks = tuple(
          layers.dropout_mask(k, edges.shape, self.dropout_edge, edges.dtype)
          for k in jax.random.split(self.make_rng("dropout")))
    return nodes, edge_mlp(edges, s, t, params, masks, self.kernels)


class _DenseParams(nn.Module):
  """The kernel ``shape`` (and bias) of a Dense, named as ``nn.Dense`` names
  them, for a computation that does not apply the Dense itself."""

  shape: tuple[int, int]
  use_bias: bool = True

  @nn.compact
  def __call__(self) -> tuple[Array, Array | None]:
    kernel = self.param("kernel", _xavier, self.shape)
    if not self.use_bias:
      return kernel, None
    return kernel, self.param("bias", nn.initializers.zeros, self.shape[1:])


class _LayerNormParams(nn.Module):
  """The scale and bias ``(features,)`` of an ``nn.LayerNorm``."""

  features: int

  @nn.compact
  def __call__(self) -> tuple[Array, Array]:
    return (self.param("scale", nn.initializers.ones, (self.features,)),
            self.param("bias", nn.initializers.zeros, (self.features,)))


class EdgeMlpParams(NamedTuple):
  """Parameters of the edge update (``C`` edge width, ``F`` hidden width).

  The LayerNorm entries are None in a model without LayerNorm.
  """

  k0: Array  # (2C, F): rows for e_ij, then for e_ji
  k1: Array  # (F, C)
  b1: Array  # (C,)
  ln0_scale: Array | None  # (C,)
  ln0_bias: Array | None  # (C,)
  k2: Array  # (C, F)
  k3: Array  # (F, C)
  b3: Array  # (C,)
  ln1_scale: Array | None  # (C,)
  ln1_bias: Array | None  # (C,)


def edge_mlp_param_shapes(c: int, f: int) -> EdgeMlpParams:
  """The shapes of :class:`EdgeMlpParams` for edge width ``c``, hidden ``f``."""
  return EdgeMlpParams((2 * c, f), (f, c), (c,), (c,), (c,), (c, f), (f, c),
                       (c,), (c,), (c,))


def _layer_norm(x: Array, scale: Array | None, bias: Array | None) -> Array:
  """Flax's ``nn.LayerNorm(epsilon=1e-5)`` over the last axis; identity when
  ``scale`` is None (no LayerNorm)."""
  if scale is None:
    return x
  mean = jnp.mean(x, axis=-1, keepdims=True)
  var = jnp.maximum(jnp.mean(x * x, axis=-1, keepdims=True) - mean * mean, 0.0)
  return (x - mean) * (jax.lax.rsqrt(var + 1e-5) * scale) + bias


def xla_edge_mlp(edges: Array, s: Array, t: Array,
                 params: EdgeMlpParams,
                 masks: tuple[Array, Array] | None = None) -> Array:
  """The edge update of one layer in XLA; see :func:`edge_mlp`."""
  p = params
  x0 = edge_matmul(jnp.concatenate([edges, jnp.swapaxes(edges, 1, 2)], axis=-1),
                   p.k0)
  x0 = x0 + s[:, :, None] + t[:, None, :]
  y = edge_matmul(_gelu(x0), p.k1) + p.b1
  if masks is not None:
    y = y * masks[0]
  e1 = _layer_norm(edges + y, p.ln0_scale, p.ln0_bias)
  y = edge_matmul(_gelu(edge_matmul(e1, p.k2)), p.k3) + p.b3
  if masks is not None:
    y = y * masks[1]
  return _layer_norm(e1 + y, p.ln1_scale, p.ln1_bias)


def edge_mlp(edges: Array, s: Array, t: Array, params: EdgeMlpParams,
             masks: tuple[Array, Array] | None = None,
             kernels: str = "auto") -> Array:
  """Edge update: ``[e_ij, e_ji]`` and both endpoints -> MLP -> LayerNorm.

  Args:
    edges: ``(B, N, N, C)``.
    s, t: source and target node terms ``(B, N, F)`` of the first Dense
      (``s`` includes its bias).
    params: :class:`EdgeMlpParams`; the LayerNorm entries are None without
      LayerNorm.
    masks: two dropout masks (``0`` or ``1 / keep_prob``) shaped like
      ``edges``, or None.
    kernels: the implementation (:mod:`dws_jax.models.kernels`); with
      ``"xla_cpu"``, LayerNorm and widths its kernel takes, one fused kernel,
      else :func:`xla_edge_mlp`.

  Returns:
    ``(B, N, N, C)``.
  """
  out = kernel_impls.call(kernels, "edge_mlp", edges, s, t, params, masks)
  if out is not None:
    return out
  return xla_edge_mlp(edges, s, t, params, masks)


class RelationalTransformer(nn.Module):
  """Relational transformer classifier on the dense neural graph of an MLP.

  Attributes:
    spec: spec of the input INRs.
    num_classes: output logits.
    d_node, d_edge: node and edge widths.
    d_attn_hid: attention width (all heads).
    d_node_hid, d_edge_hid: hidden widths of the node and edge MLPs.
    d_out_hid: hidden width of the output MLP.
    n_layers, n_heads: depth and heads.
    dropout_node, dropout_edge: dropout rates.
    modulate_v: multiply values by an edge projection.
    use_ln: LayerNorm after each residual.
    fourier_features, fourier_scale, fourier_seed: Gaussian Fourier features.
    fourier_sin: their sine, ``"exact"``, ``"fast"`` or ``"auto"``
      (:func:`dws_jax.sine.get_sin`).
    readout: ``"cat_last_layer"`` (reference), ``"mean"``, ``"max"`` or
      ``"last_layer"`` (mean over output nodes).
    remat: rematerialise each layer in the backward pass (saves memory).
    kernels: implementation of the relational attention and the edge update
      (:mod:`dws_jax.models.kernels`): ``"xla"`` (plain XLA), ``"xla_cpu"``
      (the XLA:CPU plugin's fused kernels, where they take the widths) or
      ``"auto"`` (resolved by :func:`dws_jax.models.get`: ``"xla_cpu"`` on
      the CPU when the plugin is loaded).
  """

  spec: wsp.WeightSpaceSpec
  num_classes: int = 10
  d_node: int = 64
  d_edge: int = 32
  d_attn_hid: int = 128
  d_node_hid: int = 128
  d_edge_hid: int = 64
  d_out_hid: int = 128
  n_layers: int = 4
  n_heads: int = 8
  dropout_node: float = 0.2
  dropout_edge: float = 0.2
  modulate_v: bool = True
  use_ln: bool = True
  fourier_features: int = 128
  fourier_scale: float = 1.0
  fourier_seed: int = 0
  fourier_sin: str = "auto"
  readout: str = "cat_last_layer"
  remat: bool = False
  kernels: str = "auto"

  def setup(self):
    if self.readout not in READOUTS:
      raise ValueError(f"unknown readout {self.readout!r}; expected one of "
                       f"{READOUTS}")
    if self.n_layers < 1:
      raise ValueError(f"n_layers must be >= 1, got {self.n_layers}")
    if self.d_attn_hid % self.n_heads:
      raise ValueError(f"d_attn_hid={self.d_attn_hid} is not divisible by "
                       f"n_heads={self.n_heads}")
    self.edge_embed = FourierEmbed(self.d_edge, self.fourier_features,
                                   self.fourier_scale, self.fourier_seed,
                                   self.fourier_sin)
    self.node_embed = FourierEmbed(self.d_node, self.fourier_features,
                                   self.fourier_scale, self.fourier_seed + 1,
                                   self.fourier_sin)
    self.proj_node_in = layers.torch_dense(self.d_node)
    self.proj_edge_in = layers.torch_dense(self.d_edge)
    self.pos_embed = self.param(
        "pos_embed", nn.initializers.normal(1.0),
        (num_pos_embeddings(self.spec), self.d_node))
    layer_cls = nn.remat(RTLayer, static_argnums=(3,)) if self.remat else RTLayer
    self.rt_layers = [
        layer_cls(self.d_node, self.d_edge, self.d_attn_hid, self.d_node_hid,
                  self.d_edge_hid, self.n_heads, self.dropout_node,
                  self.dropout_edge, edge_updates=(i < self.n_layers - 1),
                  modulate_v=self.modulate_v, use_ln=self.use_ln,
                  kernels=self.kernels, name=f"layer_{i}")
        for i in range(self.n_layers)]
    self.out_hidden = layers.torch_dense(self.d_out_hid)
    self.out = layers.torch_dense(self.num_classes)

  def graph(self, ws: wsp.WeightSpace) -> tuple[Array, Array]:
    """Embedded graph: nodes ``(B, N, d_node)``, edges ``(B, N, N, d_edge)``."""
    self.spec.validate(ws, batch_ndim=1, name="RelationalTransformer input")
    batch = ws.batch_shape[0]
    offsets, pos_index = graph_layout(self.spec)
    n = int(offsets[-1])
    dtype = ws.dtype
    embed_e = lambda x: self.proj_edge_in(self.edge_embed(x[..., None]))
    embed_n = lambda x: self.proj_node_in(self.node_embed(x[..., None]))
    zero = jnp.zeros((1,), dtype)
    edges = jnp.broadcast_to(embed_e(zero), (batch, n, n, self.d_edge))
    for l, w in enumerate(ws.weights):
      edges = jax.lax.dynamic_update_slice(
          edges, embed_e(w), (0, int(offsets[l]), int(offsets[l + 1]), 0))
    d0 = self.spec.layer_sizes[0]
    nodes = jnp.concatenate(
        [jnp.broadcast_to(embed_n(zero), (batch, d0, self.d_node))]
        + [embed_n(b) for b in ws.biases], axis=1)
    nodes = nodes + self.pos_embed[pos_index][None]
    return nodes, edges

  def embed(self, ws: wsp.WeightSpace, train: bool = False) -> Array:
    """Graph features ``(B, d_L * d_node)`` (``cat_last_layer``) or ``(B, d_node)``."""
    nodes, edges = self.graph(ws)
    for layer in self.rt_layers:
      nodes, edges = layer(nodes, edges, train)
    d_last = self.spec.layer_sizes[-1]
    if self.readout == "cat_last_layer":
      return nodes[:, -d_last:].reshape(nodes.shape[0], -1)
    if self.readout == "last_layer":
      return nodes[:, -d_last:].mean(axis=1)
    if self.readout == "mean":
      return nodes.mean(axis=1)
    return nodes.max(axis=1)

  def __call__(self, ws: wsp.WeightSpace, train: bool = False) -> Array:
    """Logits ``(B, num_classes)``."""
    x = self.embed(ws, train)
    return self.out(nn.relu(self.out_hidden(x)))
