# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Views vs augmentation: is 1 view + augmentation worth k views?

  dws-tables --config configs/tables/fmnist_views.py:scale=small

DWSNet without augmentation on 1, 2, 5 and 10 views per train object, against
1 view + each weight-space MixUp and + the input-space and symmetry
augmentations, 3 seeds; every cell trains for the same number of steps. The
figure draws test accuracy against views (log x) with the augmented 1-view
runs as horizontal lines, and the table below it reads off each
augmentation's "equivalent number of views". Cells are shared with the other
Fashion-MNIST tables of the same scale. Writes
results/tables/fmnist_views_<scale>.{md,csv,json,-views.png}.

Named arguments: ``scale`` (small | full).
"""

import ml_collections

from dws_jax import config_utils

AUGMENTED = ("mixup", "mixup_perm", "mixup_aligned", "translate", "rotate",
             "siren_negation", "dropout")


def get_config(arg=None):
  arg = config_utils.parse_arg(arg, scale="small")
  shared = config_utils.load_sibling(__file__, "_fmnist")
  c = shared.base("fmnist_views",
                  "Views vs augmentation, DWSNet, Fashion-MNIST INRs",
                  arg.scale, f"scale={arg.scale}")
  seeds = list(shared.SEEDS)
  c.grid = [{"model": ["dwsnet"], "aug": ["none"], "views": [1, 2, 5, 10],
             "objects": [shared.train_objects(arg.scale)],
             "seed": seeds},
            {"model": ["dwsnet"], "aug": list(AUGMENTED), "views": [1],
             "objects": [shared.train_objects(arg.scale)],
             "seed": seeds}]
  c.aggregate = ml_collections.ConfigDict({
      "rows": ("aug", "views"), "columns": ("metric",),
      "metrics": ("test_accuracy_at_best_val",
                  "heldout_view_accuracy_at_best_val", "final_train_accuracy")})
  c.figures = [{"kind": "views", "metric": "test_accuracy_at_best_val",
                "baseline": "none"}]
  return c
