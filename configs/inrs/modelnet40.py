# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Occupancy INRs of ModelNet40 (or ModelNet10), the paper's 3-D dataset.

The data: the official ``ModelNet40/<class>/{train,test}/*.off`` tree from
https://modelnet.cs.princeton.edu/ (``data_dir=`` or ``$DWS_MODELNET40_DIR``);
``source=modelnet10`` reads ModelNet10. Splits (``dws_jax/data/modelnet.py``):
the official test set, and 10% of each class's training shapes as val.

Shapes become occupancy signals and INRs exactly as in
``configs/inrs/furniture.py`` (3 -> 32 -> 32 -> 32 -> 1 SIREN with w0=10,
16,384 near-surface + uniform points, IoU early stop at 0.9). The paper does not
state its ModelNet40 INR (paper.md §2.2 marks it unknown); occupancy is
the usual INR target for ModelNet (Occupancy Networks; functa's shapes) and
this SIREN keeps the weight space as small as the Fashion-MNIST one
(2,273 parameters) so that the same weight-space models apply.

Command (all of ModelNet40, 1 view; for an accelerator):

  dws-fit-inrs --config configs/inrs/modelnet40.py:data_dir=/data/ModelNet40 \
      --out data/modelnet40_inrs

Named arguments: those of ``configs/inrs/furniture.py`` plus ``source``.
"""

import importlib.util
import pathlib

from dws_jax import config_utils


def _furniture():
  path = pathlib.Path(__file__).with_name("furniture.py")
  spec = importlib.util.spec_from_file_location("furniture_inrs_config", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def get_config(arg=None):
  arg = config_utils.parse_arg(
      arg, objects=0, val_objects=0, test_objects=0, views=1, seed=0,
      steps=2000, target=0.9, lr=5e-4, width=32, depth=3, points=16384,
      resolution=128, init="siren", shard=1000, devices=2, slots=16,
      data_dir="", source="modelnet40", runlocal=False)
  if arg.source not in ("modelnet40", "modelnet10"):
    raise ValueError(f"source={arg.source!r}; expected modelnet40 or modelnet10")
  return _furniture().shape_config(arg, arg.source)
