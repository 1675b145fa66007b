# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Fused XLA:CPU edge update of the neural-graph transformer (``edge_mlp.cc``).

Per edge ``ij`` of the dense graph, with ``e`` the edge features::

  x0  = e_ij K0a + e_ji K0b + s_i + t_j
  e1  = LayerNorm0(e_ij + mask0 * (gelu(x0) K1 + b1))
  out = LayerNorm1(e1 + mask1 * (gelu(e1 K2) K3 + b3))

``gelu`` is exact; the LayerNorms are Flax's (``eps = 1e-5``). Plain XLA runs
about thirty memory-bound passes over ``(B, N, N, F)`` tensors for this; the
kernel keeps 16 edges at a time in L1 through the whole MLP, and its backward
pass recomputes the forward of those edges. The masks (dropout) are inputs,
so a model gets the same random numbers either way.

Supported: float32, edge width ``C`` in :data:`EDGE_WIDTHS`, hidden width
``F`` in :data:`HIDDEN_WIDTHS` (:func:`supported`); otherwise use the XLA
version, :func:`dws_jax.models.relational_transformer.xla_edge_mlp`. Under a
mesh context whose ``"data"`` axis divides the batch, each device runs the
kernel on its own shard.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from dws_jax.models import relational_transformer as rt
from dws_jax.xla_cpu.native import build

Array = jax.Array

EDGE_WIDTHS = (16, 32, 64)
HIDDEN_WIDTHS = (32, 64, 128)


# The parameter type of the XLA version, which this kernel takes as is.
EdgeMlpParams = rt.EdgeMlpParams
param_shapes = rt.edge_mlp_param_shapes


def supported(edges: Array, s: Array) -> bool:
  """Whether the kernel takes these shapes and dtypes (see module doc)."""
  return (edges.ndim == 4 and s.ndim == 3
          and edges.shape[-1] in EDGE_WIDTHS and s.shape[-1] in HIDDEN_WIDTHS
          and edges.dtype == s.dtype == jnp.float32)


def _check(edges, s, t, params, masks):
  if edges.ndim != 4 or edges.shape[1] != edges.shape[2]:
    raise ValueError(f"edge_mlp: edges must be (batch, n, n, c), got shape "
                     f"{edges.shape}")
  batch, n, _, c = edges.shape
  f = s.shape[-1] if s.ndim == 3 else None
  for name, x in (("s", s), ("t", t)):
    if x.shape != (batch, n, f):
      raise ValueError(f"edge_mlp: {name} has shape {x.shape}, expected "
                       f"{(batch, n, f)} (batch, n, hidden)")
  if c not in EDGE_WIDTHS or f not in HIDDEN_WIDTHS:
    raise ValueError(f"edge_mlp: edge width {c} must be one of {EDGE_WIDTHS} "
                     f"and hidden width {f} one of {HIDDEN_WIDTHS}")
  for name, x, shape in zip(EdgeMlpParams._fields, params,
                            param_shapes(c, f)):
    if x.shape != shape:
      raise ValueError(f"edge_mlp: parameter {name} has shape {x.shape}, "
                       f"expected {shape}")
  for i, m in enumerate(masks or ()):
    if m.shape != edges.shape:
      raise ValueError(f"edge_mlp: mask{i} has shape {m.shape}, expected the "
                       f"edges' {edges.shape}")
  for name, x in (("edges", edges), ("s", s), ("t", t),
                  *zip(EdgeMlpParams._fields, params),
                  *((f"mask{i}", m) for i, m in enumerate(masks or ()))):
    if x.dtype != jnp.float32:
      raise ValueError(f"edge_mlp: {name} must be float32, got {x.dtype}")


def _pack(params: EdgeMlpParams) -> Array:
  return jnp.concatenate([x.ravel() for x in params])


def _unpack(flat: Array, like: EdgeMlpParams) -> EdgeMlpParams:
  out, start = [], 0
  for x in like:
    out.append(flat[start:start + x.size].reshape(x.shape))
    start += x.size
  return EdgeMlpParams(*out)


def _forward_shapes(edges, *rest):
  del rest
  return jax.ShapeDtypeStruct(edges.shape, edges.dtype)


def _backward_shapes(edges, s, t, flat, *rest):
  del t, rest
  return [jax.ShapeDtypeStruct(edges.shape, edges.dtype),
          jax.ShapeDtypeStruct(s.shape, s.dtype),
          jax.ShapeDtypeStruct(s.shape, s.dtype),
          jax.ShapeDtypeStruct((edges.shape[0],) + flat.shape, flat.dtype)]


@jax.custom_vjp
def _edge_mlp(edges, s, t, params, mask0, mask1):
  return build.call("DwsEdgeMlpFwd", _forward_shapes, edges, s, t,
                    _pack(params), mask0, mask1, replicated=(3,))


def _edge_mlp_fwd(edges, s, t, params, mask0, mask1):
  return (_edge_mlp(edges, s, t, params, mask0, mask1),
          (edges, s, t, params, mask0, mask1))


def _edge_mlp_bwd(res, g):
  edges, s, t, params, mask0, mask1 = res
  de, ds, dt, dflat = build.call("DwsEdgeMlpBwd", _backward_shapes, edges, s,
                                 t, _pack(params), mask0, mask1, g,
                                 replicated=(3,))
  return (de, ds, dt, _unpack(jnp.sum(dflat, axis=0), params),
          jnp.zeros_like(mask0), jnp.zeros_like(mask1))


_edge_mlp.defvjp(_edge_mlp_fwd, _edge_mlp_bwd)


def edge_mlp(edges: Array, s: Array, t: Array, params: EdgeMlpParams,
             masks: tuple[Array, Array] | None = None) -> Array:
  """The edge update with the native kernel (XLA:CPU only).

  Args:
    edges: ``(B, N, N, C)``.
    s: per source node ``(B, N, F)``, added to ``x0`` of every edge ``i*``
      (include the first Dense's bias here).
    t: per target node ``(B, N, F)``, added to ``x0`` of every edge ``*j``.
    params: :class:`EdgeMlpParams`.
    masks: two dropout masks shaped like ``edges``, holding ``0`` or
      ``1 / keep_prob``, or ``None`` (no dropout).

  Returns:
    The updated edges ``(B, N, N, C)``.

  Raises:
    ValueError: shapes or dtypes the kernel does not take, named.
    NativeBuildError: the kernels are switched off or did not build.
  """
  params = EdgeMlpParams(*params)
  _check(edges, s, t, params, masks)
  build.require("edge_mlp", "xla_edge_mlp")
  if masks is None:  # Empty masks (one empty row per graph): no dropout.
    masks = (jnp.zeros((edges.shape[0], 0), edges.dtype),) * 2
  return _edge_mlp(edges, s, t, params, *masks)
