# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Overfitting analysis: 1 vs 10 views, internal vs external generalisation.

  dws-tables --config configs/tables/fmnist_overfitting.py:scale=small

DWSNet without augmentation on 1, 2, 5 and 10 views per train object, 3
seeds. Per epoch it logs train loss/accuracy, the loss/accuracy on a view of
the train objects that is never trained on (view 10: *internal*
generalisation, new views of seen objects) and on the test objects
(*external* generalisation, new objects). The figure shows the curves of 1
vs 10 views; the table gives the final train accuracy, the internal and the
external accuracy (at the best val epoch) and the final losses. Cells are
shared with the other Fashion-MNIST tables of the same scale. Writes
results/tables/fmnist_overfitting_<scale>.{md,csv,json,-curves.png}.

Named arguments: ``scale`` (small | full).
"""

import ml_collections

from dws_jax import config_utils


def get_config(arg=None):
  arg = config_utils.parse_arg(arg, scale="small")
  shared = config_utils.load_sibling(__file__, "_fmnist")
  c = shared.base("fmnist_overfitting",
                  "Overfitting: internal vs external generalisation, DWSNet, "
                  "Fashion-MNIST INRs", arg.scale, f"scale={arg.scale}")
  c.grid = [{"model": ["dwsnet"], "aug": ["none"], "views": [1, 2, 5, 10],
             "objects": [shared.train_objects(arg.scale)],
             "seed": list(shared.SEEDS)}]
  c.aggregate = ml_collections.ConfigDict({
      "rows": ("views",), "columns": ("metric",),
      "metrics": ("final_train_accuracy", "heldout_view_accuracy_at_best_val",
                  "test_accuracy_at_best_val", "final_train_loss",
                  "final_test_loss")})
  c.figures = [{"kind": "curves",
                "select": [["1 view", {"views": 1}],
                           ["10 views", {"views": 10}]]}]
  return c
