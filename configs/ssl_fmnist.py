# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Self-supervised contrastive learning (SimCLR) on Fashion-MNIST INRs.

A DWSNet encoder (its 112-d invariant embedding) and a 128-64 projector
trained with NT-Xent (temperature 0.1, 2B - 2 negatives per anchor) on two
augmented views of every INR; no labels. A linear probe (logistic regression
on standardised frozen embeddings of view 0 of the train objects, L2 chosen
on val) and k-NN (k = 10, cosine) report val and test accuracy at step 0 (the
random encoder), every ``probe_every`` epochs and at the end;
``summary.json`` has the final ``probe_val_accuracy``,
``probe_test_accuracy`` and ``knn_test_accuracy`` (``init_*``: the random
encoder). AdamW (AMSGrad) lr 5e-3, weight decay 5e-4, as the DWSNets SSL
experiment.

Command (after making an INR dataset with ``dws-fit-inrs``):

  dws-train --config 'configs/ssl_fmnist.py:aug=translate|self_mixup_aligned' \
      --workdir runs/ssl_fmnist_self_mixup_aligned

With ``views`` > 1 the self-MixUp partner is another fitted view of the same
object; with one view it is an augmented copy aligned back.

Named arguments: ``aug`` (a label-free augmentation string, see
``dws_jax.augment``), ``views``, ``objects`` (class-balanced cap on the train
objects, 0 = all), ``model``, ``data``, ``epochs``, ``seed``, ``batch``,
``temperature``, ``probe_every``, ``normalize``, ``runlocal`` (shrinks
everything so a run takes seconds). The defaults fit a 2-core CPU: 1000
train objects, 30 epochs.
"""

import ml_collections

from dws_jax import config_utils
from dws_jax import probe


def get_config(arg=None):
  arg = config_utils.parse_arg(
      arg, aug="translate|gaussian_noise|siren_negation", views=1,
      objects=1000, model="dwsnet", data="data/fmnist_inrs", epochs=30, seed=0,
      batch=128, temperature=0.1, probe_every=10, normalize=True,
      runlocal=False)
  config = ml_collections.ConfigDict()
  config.task = "contrastive"
  config.seed = arg.seed
  config.prng_impl = "auto"  # or threefry2x32 / rbg / lowbias32 (dws_jax.prng)
  config.init_mode = "auto"  # jit / eager (dws_jax.train_state.create)
  config.data = ml_collections.ConfigDict({
      "dir": arg.data, "views": arg.views, "objects": arg.objects,
      "normalize": arg.normalize})
  config.model = ml_collections.ConfigDict({"name": arg.model})
  config.aug = arg.aug
  config.contrastive = ml_collections.ConfigDict({
      "temperature": arg.temperature, "projector": (128, 64)})
  config.probe = ml_collections.ConfigDict({
      "every_epochs": arg.probe_every, "l2_grid": probe.DEFAULT_L2_GRID,
      "steps": 100, "knn_k": 10})
  config.optim = ml_collections.ConfigDict({
      "name": "adamw", "lr": 5e-3, "weight_decay": 5e-4, "warmup_steps": 100,
      "grad_clip": 0.0, "momentum": 0.9})
  config.batch_size = arg.batch
  config.eval_batch_size = 512
  config.num_epochs = arg.epochs
  config.num_devices = -1
  config.sync_every_steps = 10
  config.log_every_steps = 20
  config.checkpoint_every_steps = 0
  config.progress = True
  if arg.runlocal:
    config.batch_size = min(arg.batch, 32)
    config.eval_batch_size = 64
    config.num_epochs = min(arg.epochs, 2)
    config.probe.every_epochs = 1
    config.probe.steps = 30
    config.optim.warmup_steps = 5
    config.log_every_steps = 5
  return config
