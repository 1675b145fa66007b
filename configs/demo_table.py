# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""The table ``dws-demo`` runs: 1 view vs several views vs 1 view + MixUp.

  dws-demo                                  # the defaults below
  dws-tables --config configs/demo_table.py:objects=500,views=5

DWSNet on real Fashion-MNIST INRs: without augmentation on 1 and ``views``
views per train object, and on 1 view with aligned weight-space MixUp, one
seed, the training settings of the small-scale tables
(configs/tables/_fmnist.py) with ``epochs`` epochs of ``objects * views /
batch`` steps each (every cell the same number of steps).

Named arguments: ``objects`` (train objects), ``views``, ``eval_objects``
(val and test objects each), ``epochs``, ``seed``, ``data`` (dataset
directory), ``augs`` (``+``-separated augmentations run on 1 view).
"""

import pathlib

import ml_collections

from dws_jax import config_utils


def get_config(arg=None):
  arg = config_utils.parse_arg(
      arg, objects=500, views=5, eval_objects=500, epochs=40, seed=0,
      data="data/fmnist_demo_inrs", augs="mixup_aligned")
  shared = config_utils.load_module(
      pathlib.Path(__file__).parent / "tables" / "_fmnist.py")
  small = shared.SMALL
  batch = min(small["batch"], arg.objects)
  c = ml_collections.ConfigDict()
  c.name = "demo"
  c.title = (f"dws-demo: DWSNet on {arg.objects} real Fashion-MNIST objects, "
             f"{arg.eval_objects} val / {arg.eval_objects} test")
  c.scale = (f"objects={arg.objects}, views={arg.views}, epochs={arg.epochs}, "
             f"seed={arg.seed}")
  c.command = "dws-demo"
  c.dataset = ml_collections.ConfigDict({
      "config": "configs/inrs/fmnist.py",
      "arg": (f"objects={arg.objects},views={max(arg.views, 1)},"
              f"val_objects={arg.eval_objects},test_objects={arg.eval_objects},"
              "shard=1000"),
      "dir": arg.data, "train_objects": arg.objects})
  c.train = ml_collections.ConfigDict({
      "config": "configs/fmnist_dwsnet.py", "arg": "",
      "overrides": {"batch_size": batch, "num_epochs": arg.epochs,
                    "epoch_steps": max(1, arg.objects * arg.views // batch),
                    "num_devices": 1,
                    "optim": {"lr": small["lr"],
                              "weight_decay": small["weight_decay"],
                              "warmup_steps": small["warmup"]}}})
  views = sorted({1, arg.views})
  c.grid = [{"aug": ["none"], "views": views, "seed": [arg.seed]},
            {"aug": [a for a in arg.augs.split("+") if a], "views": [1],
             "seed": [arg.seed]}]
  c.aggregate = ml_collections.ConfigDict({
      "rows": ("aug", "views"), "columns": ("metric",),
      "metrics": ("test_accuracy_at_best_val", "final_train_accuracy")})
  c.figures = []
  return c
