# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""DWSNet on Fashion-MNIST INRs, the official trainer's defaults.

Adam lr 1e-3 with L2 weight decay 5e-4, batch 256, 200 epochs, 1000-step
linear warmup then constant, soft-target cross-entropy, eval every epoch on val
and test (view 0), model selection by best val accuracy (latest of ties).

Command (after making an INR dataset with ``dws-fit-inrs``):

  dws-train --config configs/fmnist_dwsnet.py:aug=mixup_aligned,views=1 \
      --workdir runs/fmnist_dwsnet_mixup_aligned

Named arguments: ``aug`` (an augmentation string, see ``dws_jax.augment``),
``views``, ``model``, ``data``, ``epochs``, ``seed``, ``batch``, ``normalize``,
``runlocal`` (shrinks
everything so a run takes seconds).
"""

import ml_collections

from dws_jax import config_utils


def get_config(arg=None):
  arg = config_utils.parse_arg(arg, aug="none", views=1, model="dwsnet",
                               data="data/fmnist_inrs", epochs=200, seed=0,
                               batch=256, normalize=True, runlocal=False)
  config = ml_collections.ConfigDict()
  config.seed = arg.seed
  config.prng_impl = "auto"  # or threefry2x32 / rbg / lowbias32 (dws_jax.prng)
  config.init_mode = "auto"  # jit / eager (dws_jax.train_state.create)
  # normalize: the model sees (w - mean) / std with one scalar per tensor from
  # the train split, after augmentation (the official --normalize uses
  # per-entry statistics and is off by default; DWSNet learns slowly without).
  # objects: a class-balanced cap on train objects (0 = all); heldout_view:
  # a fitted view never trained on, evaluated every epoch (-1 = none).
  config.data = ml_collections.ConfigDict({"dir": arg.data, "views": arg.views,
                                           "normalize": arg.normalize,
                                           "objects": 0, "heldout_view": -1})
  config.model = ml_collections.ConfigDict({"name": arg.model})
  config.aug = arg.aug
  config.optim = ml_collections.ConfigDict({
      "name": "adam", "lr": 1e-3, "weight_decay": 5e-4, "warmup_steps": 1000,
      "grad_clip": 0.0, "momentum": 0.9})
  config.batch_size = arg.batch
  config.eval_batch_size = 1024
  config.num_epochs = arg.epochs
  config.epoch_steps = 0  # > 0: fixed steps per epoch (else one pass)
  config.num_devices = -1
  config.sync_every_steps = 10
  config.log_every_steps = 50
  config.checkpoint_every_steps = 0
  config.progress = True
  if arg.runlocal:
    config.batch_size = min(arg.batch, 32)
    config.eval_batch_size = 64
    config.num_epochs = min(arg.epochs, 2)
    config.optim.warmup_steps = 10
    config.log_every_steps = 5
  return config
