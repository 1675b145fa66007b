# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Shared settings of the Fashion-MNIST tables (imported by path, not a table).

scale=small (this 2-core CPU): one multi-view INR dataset shared by every
small table, ``data/fmnist_mv``: 5,000 train objects (500 per class) x 11
views, 1,000 val and 3,000 test objects (class-balanced, view 0). The small
tables train on the first ``SMALL["train_objects"]`` = 500 train objects (50
per class): at that size one view overfits (train accuracy 100%, test ~19%)
and ten views clearly help (test ~31%), so the claims can be tested. Views
0-9 are trained on; view 10 is never trained on and is evaluated every epoch
as the internal-generalisation split (new views of train objects). Every cell
trains for the same number of steps whatever its number of views
(``EPOCH_STEPS`` = 39 steps of 128 per "epoch" = one pass over the 5,000 INRs
of 500 objects x 10 views), so more views means more distinct INRs for the
same compute, as an augmentation gives. Adam 5e-3 (200 warmup steps, then
constant), no weight decay: with the paper's L2 5e-4 DWSNet underfits at this
size (train accuracy ~30% after 40 epochs) and nothing can be learned about
overfitting.

scale=full (an accelerator): the paper's protocol, 55k/5k/10k objects, 10
views (+1 held out), batch 256, Adam 1e-3 with L2 5e-4, 1000 warmup steps,
200 epochs over the trained views, 3 seeds.
"""

import ml_collections

SCALES = ("small", "full")
SEEDS = (0, 1, 2)
# Small scale: batch 128 (39 steps per pass over 5,000 INRs).
SMALL = {"objects": 5000, "views": 11, "val_objects": 1000,
         "test_objects": 3000, "train_objects": 500, "batch": 128,
         "epochs": 40, "lr": 5e-3, "weight_decay": 0.0, "warmup": 200}
EPOCH_STEPS = SMALL["train_objects"] * 10 // SMALL["batch"]
HELDOUT_VIEW = 10


def check_scale(scale: str) -> str:
  if scale not in SCALES:
    raise ValueError(f"scale={scale!r}; expected one of {SCALES}")
  return scale


def train_objects(scale: str) -> int:
  """The ``objects`` cell axis of a scale (0 = every train object)."""
  return SMALL["train_objects"] if check_scale(scale) == "small" else 0


def base(name: str, title: str, scale: str, arg: str) -> ml_collections.ConfigDict:
  """Dataset, training defaults and cell directory of a Fashion-MNIST table."""
  check_scale(scale)
  c = ml_collections.ConfigDict()
  c.name = f"{name}_{scale}"
  c.title = title
  c.scale = scale
  c.command = f"dws-tables --config configs/tables/{name}.py:{arg}"
  # Every Fashion-MNIST table of one scale shares one cell directory: a cell
  # (same name, same config) that two tables list is trained once.
  c.cells_dir = f"fmnist_{scale}"
  if scale == "small":
    c.dataset = ml_collections.ConfigDict({
        "config": "configs/inrs/fmnist.py",
        "arg": (f"objects={SMALL['objects']},views={SMALL['views']},"
                f"val_objects={SMALL['val_objects']},"
                f"test_objects={SMALL['test_objects']},shard=1000"),
        "dir": "data/fmnist_mv", "train_objects": SMALL["objects"]})
    overrides = {"batch_size": SMALL["batch"], "num_epochs": SMALL["epochs"],
                 "epoch_steps": EPOCH_STEPS, "num_devices": 1,
                 "optim": {"lr": SMALL["lr"],
                           "weight_decay": SMALL["weight_decay"],
                           "warmup_steps": SMALL["warmup"]},
                 "data": {"heldout_view": HELDOUT_VIEW}}
  else:
    c.dataset = ml_collections.ConfigDict({
        "config": "configs/inrs/fmnist.py", "arg": "views=11",
        "dir": "data/fmnist_mv_full", "train_objects": 55000})
    overrides = {"data": {"heldout_view": HELDOUT_VIEW}}
  c.train = ml_collections.ConfigDict({
      "config": "configs/fmnist_dwsnet.py", "arg": "", "overrides": overrides})
  return c
