# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""The paper's main table on ModelNet40 3-D shape INRs (an accelerator).

  dws-tables --config configs/tables/modelnet40_augmentations.py:scale=full,data_dir=/data/ModelNet40

The main table's augmentations (configs/tables/fmnist_augmentations.py),
DWSNet, 1 view, 3 seeds, on occupancy SIREN INRs (3 -> 32 -> 32 -> 32 -> 1)
of the official ModelNet40 ``.off`` meshes, the official test split and 10% of
each class's training shapes as val (configs/inrs/modelnet40.py); ``rotate``
rotates the 3-D inputs about a random axis. The paper's protocol
(configs/fmnist_dwsnet.py: batch 256, Adam 1e-3 with L2 5e-4, 1000 warmup
steps, 200 epochs). Writes results/tables/modelnet40_augmentations_full.*.

Named arguments: ``scale`` (full), ``data_dir`` (the ModelNet40 tree; default
``$DWS_MODELNET40_DIR``).
"""

from dws_jax import config_utils


def get_config(arg=None):
  tables = config_utils.load_sibling(__file__, "_other_datasets")
  return tables.paper_protocol_table(
      "modelnet40_augmentations",
      "Augmentations, DWSNet, ModelNet40 occupancy INRs, 1 view", arg,
      "configs/inrs/modelnet40.py", "data/modelnet40_inrs", 8858)
