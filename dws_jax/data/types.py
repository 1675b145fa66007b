# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The data layer's shared types: a labelled split and an INR dataset."""

from __future__ import annotations

from typing import Any, NamedTuple

from dws_jax import weight_space as wsp


class Split(NamedTuple):
  """One split: ``ws`` leaves ``(N, ...)``, ``labels`` int ``(N,)`` (host or device)."""

  ws: wsp.WeightSpace
  labels: Any


class InrData(NamedTuple):
  """Host-side INR dataset: ``splits[name] = Split(ws (N, ...), labels (N,))``."""

  splits: dict[str, Split]
  spec: wsp.WeightSpaceSpec
  num_classes: int
