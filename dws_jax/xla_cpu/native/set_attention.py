# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Fused multi-head set attention on XLA:CPU (``set_attention.cc``).

``set_attention(q, k, v)`` is ``softmax(q k^T) v`` per head, for heads of
width 1 to 8, 16 or 32 (:data:`HEAD_WIDTHS`) over sets of any size, with a
hand-written backward pass; :func:`multi_set_attention` runs the attention of
several set layers in one call. The ``(n, n)`` weights of a head never leave
the core's registers and L1: the forward stores the row maximum and the
inverse row sum per query, the backward recomputes the weights from them. It
is the attention of DWSNet's set attention blocks, whose heads are 2 to 32
wide; with plain XLA, XLA:CPU spends most of a training step on passes over
the materialised weights.

Under a mesh context (``jax.sharding.use_abstract_mesh``) whose ``"data"``
axis divides the batch, each device runs the kernel on its own shard
(``jax.shard_map``); without it XLA would gather the batch onto every device.
"""

from __future__ import annotations

from typing import Sequence

import jax
import jax.numpy as jnp

from dws_jax.xla_cpu.native import build

Array = jax.Array

HEAD_WIDTHS = (1, 2, 3, 4, 5, 6, 7, 8, 16, 32)


def _stats_shape(q: Array) -> tuple[int, ...]:
  *batch, n, heads, _ = q.shape
  return (*batch, heads, 2, n)


def _forward(qs, ks, vs):
  m = len(qs)

  def out_shapes(*arrays):
    qs = arrays[:m]
    return ([jax.ShapeDtypeStruct(q.shape, q.dtype) for q in qs]
            + [jax.ShapeDtypeStruct(_stats_shape(q), q.dtype) for q in qs])

  res = build.call("DwsSetAttentionFwd", out_shapes, *qs, *ks, *vs,
                   vmap_method="broadcast_all")
  return tuple(res[:m]), tuple(res[m:])


@jax.custom_vjp
def _attention(qs, ks, vs):
  return _forward(qs, ks, vs)[0]


def _attention_fwd(qs, ks, vs):
  os_, stats = _forward(qs, ks, vs)
  return os_, (qs, ks, vs, os_, stats)


def _attention_bwd(res, gs):
  m = len(res[0])
  out_shapes = lambda *arrays: [
      jax.ShapeDtypeStruct(q.shape, q.dtype) for q in arrays[:m]] * 3
  grads = build.call("DwsSetAttentionBwd", out_shapes,
                     *(x for role in res + (gs,) for x in role),
                     vmap_method="broadcast_all")
  return tuple(grads[:m]), tuple(grads[m:2 * m]), tuple(grads[2 * m:])


_attention.defvjp(_attention_fwd, _attention_bwd)


def supported(qs: Sequence[Array], ks: Sequence[Array],
              vs: Sequence[Array]) -> bool:
  """Whether the kernel takes these members (:func:`check_inputs` passes)."""
  try:
    check_inputs(tuple(qs), tuple(ks), tuple(vs))
  except ValueError:
    return False
  return True


def check_inputs(qs: Sequence[Array], ks: Sequence[Array],
                 vs: Sequence[Array]) -> None:
  """Raises ``ValueError`` naming the problem with the members' arrays."""
  if not qs or not len(qs) == len(ks) == len(vs):
    raise ValueError(f"set_attention: need the same number (>= 1) of q, k "
                     f"and v arrays, got {len(qs)}, {len(ks)}, {len(vs)}")
  first = qs[0]
  for i, (q, k, v) in enumerate(zip(qs, ks, vs)):
    if q.ndim < 3:
      raise ValueError(f"set_attention: q[{i}] must be (batch..., n, heads, "
                       f"d), got shape {q.shape}")
    for name, x in (("k", k), ("v", v)):
      if x.shape != q.shape:
        raise ValueError(f"set_attention: {name}[{i}] has shape {x.shape}, "
                         f"q[{i}] has {q.shape}; they must be equal")
    for name, x in (("q", q), ("k", k), ("v", v)):
      if x.dtype != jnp.float32:
        raise ValueError(f"set_attention: {name}[{i}] must be float32, got "
                         f"{x.dtype}")
    if q.shape[-1] not in HEAD_WIDTHS:
      raise ValueError(f"set_attention: head width {q.shape[-1]} of q[{i}] is "
                       f"not one of {HEAD_WIDTHS}")
    if (q.shape[:-2] != first.shape[:-2] or q.shape[-1] != first.shape[-1]):
      raise ValueError(f"set_attention: q[{i}] has shape {q.shape}, q[0] has "
                       f"{first.shape}; members may differ only in heads")


def multi_set_attention(qs: Sequence[Array], ks: Sequence[Array],
                        vs: Sequence[Array]) -> tuple[Array, ...]:
  """:func:`set_attention` of several members in one kernel call.

  Args:
    qs, ks, vs: per member ``(batch..., n, heads_i, d)``; all members share
      ``batch..., n, d``.

  Returns:
    Per member, its attention output ``(batch..., n, heads_i, d)``.
  """
  qs, ks, vs = tuple(qs), tuple(ks), tuple(vs)
  check_inputs(qs, ks, vs)
  build.require("set_attention", "reference_attention")
  return _attention(qs, ks, vs)


def set_attention(q: Array, k: Array, v: Array) -> Array:
  """Multi-head attention over sets with the native kernel (XLA:CPU only).

  Args:
    q: queries ``(batch..., n, heads, d)``, float32, already scaled,
      ``d`` in :data:`HEAD_WIDTHS`.
    k: keys, same shape.
    v: values, same shape.

  Returns:
    ``(batch..., n, heads, d)``: ``out[..., i, h] = sum_j softmax_j(q_i . k_j)
    v_j`` within head ``h``.

  Raises:
    ValueError: bad shapes or dtypes.
    NativeBuildError: the kernels are switched off or did not build.
  """
  return multi_set_attention((q,), (k,), (v,))[0]


def reference_attention(q: Array, k: Array, v: Array) -> Array:
  """:func:`set_attention` in plain XLA (any backend, any head width)."""
  logits = jnp.einsum("...nhd,...mhd->...hnm", q, k)
  return jnp.einsum("...hnm,...mhd->...nhd", jax.nn.softmax(logits, -1), v)
