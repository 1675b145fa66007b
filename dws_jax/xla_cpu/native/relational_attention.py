# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Fused relational attention on XLA:CPU (``relational_attention.cc``).

The attention of the neural-graph relational transformer: every edge ``ij``
adds per-head projections of its features to the query of node ``i`` and the
key of node ``j`` (and modulates the value of ``j``). Plain XLA builds these
``(B, N, N, heads, 16)`` tensors and makes a dozen memory-bound passes over
them per layer; the kernel computes one row of one head at a time in L1 and
never stores them. The backward pass recomputes them.

Supported: float32, head width 16, edge width 16, 32, 48 or 64
(:func:`supported`); otherwise use the XLA version,
:func:`dws_jax.models.relational_transformer.xla_relational_attention`.
Under a mesh context whose ``"data"`` axis divides the batch, each device
runs the kernel on its own shard.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from dws_jax.xla_cpu.native import build

Array = jax.Array

HEAD_WIDTH = 16
EDGE_WIDTHS = (16, 32, 48, 64)


def supported(q_n: Array, edges: Array, w_edge: Array) -> bool:
  """Whether the kernel takes these shapes and dtypes (see module doc)."""
  return (q_n.ndim == 4 and q_n.shape[-1] == HEAD_WIDTH
          and edges.ndim == 4 and edges.shape[-1] in EDGE_WIDTHS
          and w_edge.ndim == 4 and w_edge.shape[1] in (2, 3)
          and all(x.dtype == jnp.float32 for x in (q_n, edges, w_edge)))


def _check(q_n, k_n, v_n, edges, w_edge, w_v):
  batch, n, heads, dh = q_n.shape if q_n.ndim == 4 else (None,) * 4
  want = {
      "q_n": (q_n, (batch, n, heads, HEAD_WIDTH)),
      "k_n": (k_n, (batch, n, heads, dh)),
      "v_n": (v_n, (batch, n, heads, dh)),
      "edges": (edges, (batch, n, n, edges.shape[-1])),
      "w_edge": (w_edge, (edges.shape[-1], w_edge.shape[1], heads, dh)),
      "w_v": (w_v, (edges.shape[-1], heads, dh)),
  }
  for name, (x, shape) in want.items():
    if x.shape != shape:
      raise ValueError(f"relational_attention: {name} has shape {x.shape}, "
                       f"expected {shape} (q_n is (batch, n, heads, "
                       f"{HEAD_WIDTH}), edges (batch, n, n, c), w_edge "
                       "(c, p, heads, 16), w_v (c, heads, 16))")
    if x.dtype != jnp.float32:
      raise ValueError(f"relational_attention: {name} must be float32, got "
                       f"{x.dtype}")
  if edges.shape[-1] not in EDGE_WIDTHS or w_edge.shape[1] not in (2, 3):
    raise ValueError(f"relational_attention: edge width {edges.shape[-1]} "
                     f"must be one of {EDGE_WIDTHS} and w_edge.shape[1] "
                     f"({w_edge.shape[1]}) 2 or 3")


def _forward_shapes(q_n, k_n, v_n, edges, w_edge):
  del k_n, v_n, w_edge
  batch, n, heads, _ = q_n.shape
  return [jax.ShapeDtypeStruct(q_n.shape, q_n.dtype),
          jax.ShapeDtypeStruct((batch, n, heads, edges.shape[-1]), q_n.dtype),
          jax.ShapeDtypeStruct((batch, n, heads, n), q_n.dtype)]


def _backward_shapes(q_n, k_n, v_n, edges, w_edge, *grads):
  del k_n, v_n, grads
  return ([jax.ShapeDtypeStruct(q_n.shape, q_n.dtype)] * 3
          + [jax.ShapeDtypeStruct(edges.shape, edges.dtype),
             jax.ShapeDtypeStruct((q_n.shape[0],) + w_edge.shape,
                                  w_edge.dtype)])


def _forward(q_n, k_n, v_n, edges, w_edge, scale):
  return build.call("DwsRelationalAttentionFwd", _forward_shapes, q_n, k_n,
                    v_n, edges, w_edge, replicated=(4,),
                    scale=np.float32(scale))


def _attention_fwd(q_n, k_n, v_n, edges, w_edge, w_v, scale):
  out, pooled, attn = _forward(q_n, k_n, v_n, edges, w_edge, scale)
  out = out + jnp.einsum("bihc,chd->bihd", pooled, w_v)
  return out, (q_n, k_n, v_n, edges, w_edge, w_v, pooled, attn)


@functools.partial(jax.custom_vjp, nondiff_argnums=(6,))
def _attention(q_n, k_n, v_n, edges, w_edge, w_v, scale):
  return _attention_fwd(q_n, k_n, v_n, edges, w_edge, w_v, scale)[0]


def _attention_bwd(scale, res, g):
  q_n, k_n, v_n, edges, w_edge, w_v, pooled, attn = res
  d_wv = jnp.einsum("bihc,bihd->chd", pooled, g)
  d_pooled = jnp.einsum("bihd,chd->bihc", g, w_v)
  dq, dk, dv, de, dw = build.call(
      "DwsRelationalAttentionBwd", _backward_shapes, q_n, k_n, v_n, edges,
      w_edge, attn, g, d_pooled, replicated=(4,), scale=np.float32(scale))
  return dq, dk, dv, de, jnp.sum(dw, axis=0), d_wv


_attention.defvjp(_attention_fwd, _attention_bwd)


def relational_attention(q_n: Array, k_n: Array, v_n: Array, edges: Array,
                         w_edge: Array, w_v: Array, scale: float) -> Array:
  """Multi-head relational attention with the native kernel (XLA:CPU only).

  Same contract as
  :func:`dws_jax.models.relational_transformer.xla_relational_attention`:

  Args:
    q_n, k_n, v_n: node queries, keys and values ``(B, N, H, 16)``.
    edges: ``(B, N, N, c)``, ``c`` in :data:`EDGE_WIDTHS`.
    w_edge: per-edge projections ``(c, P, H, 16)``: query, key and (when
      ``P == 3``) value modulation.
    w_v: edge value projection ``(c, H, 16)``.
    scale: logit scale.

  Returns:
    ``(B, N, H, 16)``.

  Raises:
    ValueError: shapes or dtypes the kernel does not take, named.
    NativeBuildError: the kernels are switched off or did not build.
  """
  _check(q_n, k_n, v_n, edges, w_edge, w_v)
  build.require("relational_attention", "xla_relational_attention")
  return _attention(q_n, k_n, v_n, edges, w_edge, w_v, float(scale))
