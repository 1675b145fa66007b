# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""The paper's main table: every augmentation and MixUp variant, 1 view, DWSNet.

  dws-tables --config configs/tables/fmnist_augmentations.py:scale=small

Each augmentation family of the paper (input-space, data-agnostic, SIREN
symmetries, label smoothing, the three weight-space MixUps and the official
``combine``) with the official defaults (``dws_jax.augment``), DWSNet, one
view per train object, 3 seeds. Every cell gets the same training settings
(configs/tables/_fmnist.py). Columns: test accuracy at the best val epoch,
the held-out view of the train objects (internal generalisation), and the
final train accuracy (overfitting). The relational transformer ("GNN")
gets the rows ``GNN_AUGS`` (no augmentation, an input-space, a data-agnostic
augmentation and aligned MixUp): always at scale=full; at scale=small only
with ``gnn=True``, since on this 2-core CPU one of its cells takes about 80
minutes (42 samples/s, against DWSNet's ~500). Writes
results/tables/fmnist_augmentations_<scale>.{md,csv,json,-bar.png}.

Named arguments: ``scale`` (small | full), ``gnn`` (small scale: add the
relational transformer rows).
"""

import ml_collections

from dws_jax import config_utils

AUGS = ("none", "translate", "rotate", "scale", "gaussian_noise", "dropout",
        "quantile", "siren_negation", "siren_bias", "permutation",
        "label_smoothing", "mixup", "mixup_perm", "mixup_aligned", "combine")
GNN_AUGS = ("none", "translate", "dropout", "mixup_aligned")


def get_config(arg=None):
  arg = config_utils.parse_arg(arg, scale="small", gnn=False)
  shared = config_utils.load_sibling(__file__, "_fmnist")
  c = shared.base("fmnist_augmentations",
                  "Augmentations, DWSNet, Fashion-MNIST INRs, 1 view",
                  arg.scale, f"scale={arg.scale}" + (",gnn=True" if arg.gnn else ""))
  objects = [shared.train_objects(arg.scale)]
  c.grid = [{"model": ["dwsnet"], "aug": list(AUGS), "views": [1],
             "objects": objects, "seed": list(shared.SEEDS)}]
  if arg.gnn or arg.scale == "full":
    c.grid.append({"model": ["relational_transformer"], "aug": list(GNN_AUGS),
                   "views": [1], "objects": objects, "seed": list(shared.SEEDS)})
  c.aggregate = ml_collections.ConfigDict({
      "rows": ("model", "aug"), "columns": ("metric",),
      "metrics": ("test_accuracy_at_best_val",
                  "heldout_view_accuracy_at_best_val", "final_train_accuracy")})
  c.figures = [{"kind": "bar", "metric": "test_accuracy_at_best_val"}]
  return c
