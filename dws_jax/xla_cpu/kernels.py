# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The native XLA:CPU kernels as the models' ``kernels="xla_cpu"``.

:func:`register` adds one wrapper per op of :mod:`dws_jax.models.kernels`.
A wrapper returns ``None`` (the model then runs its XLA version) unless the
default backend is the CPU, the kernel takes the arguments' shapes and
dtypes (its ``supported`` check) and the kernels are built
(:func:`dws_jax.xla_cpu.native.build.available`: built on the first call,
with one warning if that fails; ``DWS_JAX_NATIVE=1`` makes a failed build
an error). With ``DWS_JAX_NATIVE=0`` nothing is registered.
"""

from __future__ import annotations

from typing import Sequence

import jax

from dws_jax.models import kernels as core_kernels
from dws_jax.models import relational_transformer as rt
from dws_jax.xla_cpu.native import build
from dws_jax.xla_cpu.native import edge_mlp as native_edge_mlp
from dws_jax.xla_cpu.native import materialize as native_materialize
from dws_jax.xla_cpu.native import relational_attention as native_attention
from dws_jax.xla_cpu.native import set_attention as native_set_attention

NAME = "xla_cpu"

Array = jax.Array


def _usable() -> bool:
  return jax.default_backend() == "cpu" and build.available()


def set_attention(qs: Sequence[Array], ks: Sequence[Array],
                  vs: Sequence[Array]) -> tuple[Array, ...] | None:
  """Members ``(B, n, heads_i, d)`` -> their attention, or None."""
  if not (native_set_attention.supported(qs, ks, vs) and _usable()):
    return None
  return native_set_attention.multi_set_attention(qs, ks, vs)


def relational_attention(q_n: Array, k_n: Array, v_n: Array, edges: Array,
                         w_edge: Array, w_v: Array, scale: float
                         ) -> Array | None:
  """``(B, N, H, 16)`` attention output, or None (see the XLA version)."""
  if not (native_attention.supported(q_n, edges, w_edge) and _usable()):
    return None
  return native_attention.relational_attention(q_n, k_n, v_n, edges, w_edge,
                                               w_v, scale)


def edge_mlp(edges: Array, s: Array, t: Array, params: rt.EdgeMlpParams,
             masks: tuple[Array, Array] | None = None) -> Array | None:
  """Updated edges ``(B, N, N, C)``, or None (no LayerNorm, other widths)."""
  if (params.ln0_scale is None or not native_edge_mlp.supported(edges, s)
      or not _usable()):
    return None
  return native_edge_mlp.edge_mlp(edges, s, t, params, masks)


def materialize(xs: Sequence[Array]) -> tuple[Array, ...] | None:
  """``xs`` behind one opaque copy, or None."""
  if not _usable():
    return None
  return native_materialize.materialize(xs)


def register() -> None:
  """Registers the four kernels as ``"xla_cpu"`` (none if switched off)."""
  if not build.enabled():
    return
  for op, fn in (("set_attention", set_attention),
                 ("relational_attention", relational_attention),
                 ("edge_mlp", edge_mlp), ("materialize", materialize)):
    core_kernels.register(NAME, op, fn, preferred_on=("cpu",))
