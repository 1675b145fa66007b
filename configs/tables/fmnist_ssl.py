# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Self-supervised contrastive learning: do weight-space MixUp positives help?

  dws-tables --config configs/tables/fmnist_ssl.py:scale=small

A DWSNet encoder trained with SimCLR's NT-Xent (configs/ssl_fmnist.py) on
Fashion-MNIST INRs, no labels, positives from (a) input-space + data-agnostic
+ symmetry augmentations (``BASE``: translate, Gaussian weight noise, SIREN
sign flips) and (b) the same followed by each label-free weight-space MixUp
(``self_mixup``, ``self_mixup_perm``, ``self_mixup_aligned``: mixed with an
augmented copy of itself, raw / randomly permuted / aligned back by weight
matching), 3 seeds. Columns: a linear probe (logistic regression on frozen,
standardised embeddings, L2 chosen on val) and cosine k-NN, on the trained
encoder and on the same encoder at initialisation (random-encoder
reference). The last row is the supervised reference: the same DWSNet
trained with labels on the same train objects (configs/fmnist_dwsnet.py, the
small-scale settings of the other Fashion-MNIST tables). The paper's claim:
(b) beats (a) by 5-10 points of downstream accuracy. Writes
results/tables/fmnist_ssl_<scale>.{md,csv,json,-bar.png}.

scale=small: the shared multi-view dataset data/fmnist_mv, 1,000 train
objects (100 per class), 1 view, 1,000 val and 3,000 test objects; 100
epochs. scale=full: all 55k train objects, 1 view, 500 epochs at batch
512 (the DWSNets SSL protocol), on an accelerator.

Named arguments: ``scale`` (small | full).
"""

import ml_collections

from dws_jax import config_utils

BASE = "translate|gaussian_noise|siren_negation"
MIXUPS = ("self_mixup", "self_mixup_perm", "self_mixup_aligned")
SMALL_OBJECTS = 1000


def get_config(arg=None):
  arg = config_utils.parse_arg(arg, scale="small")
  shared = config_utils.load_sibling(__file__, "_fmnist")
  c = shared.base("fmnist_ssl",
                  "Contrastive (SimCLR) DWSNet encoder, Fashion-MNIST INRs, "
                  "downstream accuracy", arg.scale, f"scale={arg.scale}")
  c.cells_dir = f"fmnist_ssl_{arg.scale}"
  supervised = {"config": c.train.config, "arg": c.train.arg,
                "overrides": c.train.overrides.to_dict()}
  if arg.scale == "small":
    objects = SMALL_OBJECTS
    ssl_overrides = {"num_epochs": 100, "num_devices": 1,
                     "probe": {"every_epochs": 25}}
  else:
    objects = 0
    ssl_overrides = {"num_epochs": 500, "batch_size": 512}
  c.train = ml_collections.ConfigDict({
      "config": "configs/ssl_fmnist.py", "arg": "",
      "overrides": ssl_overrides})
  seeds = list(shared.SEEDS)
  c.grid = [{"model": ["dwsnet"], "aug": [BASE] + [f"{BASE}|{m}" for m in MIXUPS],
             "views": [1], "objects": [objects], "seed": seeds},
            {"model": ["dwsnet"], "aug": ["none"], "views": [1],
             "objects": [objects], "seed": seeds, "train": supervised}]
  c.aggregate = ml_collections.ConfigDict({
      "rows": ("train", "aug"), "columns": ("metric",),
      "metrics": ("probe_test_accuracy", "knn_test_accuracy",
                  "init_probe_test_accuracy", "init_knn_test_accuracy",
                  "test_accuracy_at_best_val")})
  c.notes = ("`n/a`: a metric the row's runs do not report (the probe columns "
             "for the supervised row, its test accuracy for the contrastive "
             "ones). init: the same encoder before training.")
  c.figures = [{"kind": "bar", "metric": "probe_test_accuracy"}]
  return c
