# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""SIREN INRs of real Fashion-MNIST (the dataset of the paper, paper.md §2).

One INR (2 -> 32 -> 32 -> 1, w0=30, +0.5 offset, SIREN init) per image, Adam
lr 5e-4, full-grid MSE, at most 1000 steps, early stop at 40 dB PSNR. Splits
55k/5k/10k (dws_jax/data/fashion_mnist.py); train objects get ``views`` views
(different init keys), val/test view 0 only.

Command (2,000 train objects x 10 views, all of val and test):

  dws-fit-inrs --config configs/inrs/fmnist.py:objects=2000,views=10 \
      --out data/fmnist_inrs

Named arguments: ``objects``, ``val_objects``, ``test_objects`` (class-balanced
caps, 0 = all), ``views``, ``seed``, ``steps`` (max steps), ``target`` (PSNR),
``lr``, ``init``, ``shard`` (INRs per shard), ``devices`` (host devices),
``runlocal`` (a tiny dataset in about a minute).
"""

import ml_collections

from dws_jax import config_utils


def get_config(arg=None):
  arg = config_utils.parse_arg(
      arg, objects=0, val_objects=0, test_objects=0, views=1, seed=0,
      steps=1000, target=40.0, lr=5e-4, init="siren", shard=2000, devices=2,
      slots=16, runlocal=False)
  config = ml_collections.ConfigDict()
  config.source = "fashion_mnist"
  config.data_dir = None  # None: $DWS_FASHION_MNIST_DIR or the Debian path.
  config.splits = ("train", "val", "test")
  config.objects = arg.objects  # Train objects (class-balanced cap; 0 = all).
  config.val_objects = arg.val_objects
  config.test_objects = arg.test_objects
  config.views = arg.views  # Train views per object; val/test get view 0.
  config.seed = arg.seed
  config.shard_size = arg.shard  # INRs per shard file (the resume unit).

  config.inr = ml_collections.ConfigDict()
  config.inr.layer_sizes = (2, 32, 32, 1)
  config.inr.w0 = 30.0
  config.inr.w0_first = None
  config.inr.output_offset = 0.5
  config.inr.init = arg.init  # "siren" or "dwsnets_code".

  config.fit = ml_collections.ConfigDict()
  config.fit.lr = arg.lr
  config.fit.max_steps = arg.steps
  config.fit.target_psnr = arg.target
  config.fit.sin = "auto"  # Fast polynomial sine on CPU.
  config.fit.chunk_steps = 25  # Steps per jitted call between slot refills.
  config.fit.slots_per_device = arg.slots  # INRs in flight per device.

  config.host_devices = arg.devices  # CPU: host devices the INR axis spans.
  config.picture = ml_collections.ConfigDict({"objects": 8, "views": 4})

  if arg.runlocal:
    config.objects = arg.objects or 20
    config.val_objects = arg.val_objects or 10
    config.test_objects = arg.test_objects or 10
    config.views = min(arg.views, 2) if arg.views > 1 else 2
    config.shard_size = 16
  return config
