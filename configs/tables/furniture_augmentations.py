# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Augmentations on real 3-D shapes: occupancy INRs of furniture models.

  dws-tables --config configs/tables/furniture_augmentations.py

The main table's augmentations (configs/tables/fmnist_augmentations.py), the
same DWSNet, 1 view, 3 seeds, on the occupancy INRs of the 644 real furniture
models of Debian ``sweethome3d-furniture`` (9 categories, 420 / 97 / 127;
configs/inrs/furniture.py): the 3-D path end to end on real shapes, on this
CPU (fitting the INRs is about 3.5 hours of a 2-core machine, once, resumable;
then about 2 minutes a cell). ``rotate`` rotates the 3-D inputs about a random
axis. Training: the small-scale Fashion-MNIST recipe (Adam 5e-3 after 200
warmup steps, no weight decay) at batch 64, 100 epochs of one pass over the
420 train INRs. Writes results/tables/furniture_augmentations_small.*.

Named arguments: ``scale`` (small only: the dataset is small).
"""

from dws_jax import config_utils


def get_config(arg=None):
  arg = config_utils.parse_arg(arg, scale="small")
  tables = config_utils.load_sibling(__file__, "_other_datasets")
  return tables.augmentation_table(
      "furniture_augmentations",
      "Augmentations, DWSNet, occupancy INRs of real furniture models, 1 view",
      arg.scale,
      {"small": "the whole dataset, on a CPU"},
      {"config": "configs/inrs/furniture.py", "arg": "",
       "dir": "data/furniture_inrs", "train_objects": 420},
      {"batch_size": 64, "num_epochs": 100, "num_devices": 1,
       "optim": {"lr": 5e-3, "weight_decay": 0.0, "warmup_steps": 200}})
