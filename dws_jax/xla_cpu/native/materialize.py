# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""An identity that XLA:CPU computes once (``materialize.cc``)."""

from __future__ import annotations

from typing import Sequence

import jax

from dws_jax.xla_cpu.native import build

Array = jax.Array


@jax.custom_vjp
def _materialize(xs):
  return tuple(build.call(
      "DwsMaterialize",
      lambda *arrays: [jax.ShapeDtypeStruct(x.shape, x.dtype) for x in arrays],
      *xs, vmap_method="broadcast_all"))


def _fwd(xs):
  return _materialize(xs), None


def _bwd(_, gs):
  return (gs,)


_materialize.defvjp(_fwd, _bwd)


def materialize(xs: Sequence[Array]) -> tuple[Array, ...]:
  """``xs`` unchanged, as results of one opaque copy.

  XLA:CPU fuses a cheap elementwise producer into every consumer and
  recomputes it there (the backward pass of a DWS layer recomputed each
  output tensor's sum of block terms in up to six fusions); behind this
  copy each array is computed once. Gradients pass through unchanged.
  Under a mesh, axis 0 of every array is the batch (each device copies its
  shard). The XLA version is the identity.

  Raises:
    NativeBuildError: the kernels are switched off or did not build.
  """
  xs = tuple(xs)
  if not xs:
    return xs
  build.require("materialize", "the identity")
  return _materialize(xs)
