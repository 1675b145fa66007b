# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""The paper's main table on CIFAR-10 image INRs (an accelerator).

  dws-tables --config configs/tables/cifar10_augmentations.py:scale=full,data_dir=/data/cifar-10-batches-py

The main table's augmentations (configs/tables/fmnist_augmentations.py),
DWSNet, 1 view, 3 seeds, on RGB SIREN INRs (2 -> 64 -> 64 -> 64 -> 3) of the
official CIFAR-10 python pickles (or tfds ``cifar10``), 45k / 5k / 10k
(configs/inrs/cifar10.py), with the paper's protocol (configs/fmnist_dwsnet.py:
batch 256, Adam 1e-3 with L2 5e-4, 1000 warmup steps, 200 epochs). Writes
results/tables/cifar10_augmentations_full.*.

Named arguments: ``scale`` (full), ``data_dir`` (the CIFAR-10 files; default
``$DWS_CIFAR10_DIR``).
"""

from dws_jax import config_utils


def get_config(arg=None):
  tables = config_utils.load_sibling(__file__, "_other_datasets")
  return tables.paper_protocol_table(
      "cifar10_augmentations", "Augmentations, DWSNet, CIFAR-10 INRs, 1 view", arg,
      "configs/inrs/cifar10.py", "data/cifar10_inrs", 45000)
