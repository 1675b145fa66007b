"""Runs train_and_evaluate in a subprocess on an .npz INR dataset (for tests).

  python tests/train_worker.py DATA.npz WORKDIR '{"num_epochs": 4}'

Overrides: top-level config fields, dicts for nested ones
(``{"optim": {"lr": 0.1}}``), and ``"config"``: the config module of
``configs/`` to start from (default ``fmnist_dwsnet``, with its ``runlocal``).

Environment: DWS_TEST_DEVICES (CPU devices, default 1), DWS_TEST_SLOW_SAVE
(seconds to sleep after each checkpoint, so a test can kill the run mid-way).
"""

import importlib
import json
import os
import sys
import time

import jax

jax.config.update("jax_platforms", "cpu")
jax.config.update("jax_num_cpu_devices", int(os.environ.get("DWS_TEST_DEVICES", "1")))

import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position

import dws_jax  # pylint: disable=g-import-not-at-top,wrong-import-position
from dws_jax import checkpointing  # pylint: disable=g-import-not-at-top,wrong-import-position
from dws_jax import plugins  # pylint: disable=g-import-not-at-top,wrong-import-position
from dws_jax import steps  # pylint: disable=g-import-not-at-top,wrong-import-position
from dws_jax import train  # pylint: disable=g-import-not-at-top,wrong-import-position

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "configs"))


def load_npz(path: str) -> train.InrData:
  arrays = np.load(path)
  spec = dws_jax.WeightSpaceSpec.dwsnets_inr()
  splits = {name: steps.Split(dws_jax.from_flat(arrays[f"{name}_flat"], spec),
                              arrays[f"{name}_labels"])
            for name in ("train", "val", "test")}
  return train.InrData(splits, spec, 10)


def main():
  plugins.load()  # as the commands do: kernels="auto" -> "xla_cpu"
  data_path, workdir, overrides = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
  # "config": another config module of configs/ (e.g. "ssl_fmnist").
  module = importlib.import_module(overrides.pop("config", "fmnist_dwsnet"))
  config = module.get_config("runlocal")
  config.model.name = "mlp"
  config.progress = False
  nested = {k: overrides.pop(k) for k in list(overrides)
            if isinstance(overrides[k], dict)}
  config.update(overrides)
  for name, values in nested.items():
    config[name].update(values)
  delay = float(os.environ.get("DWS_TEST_SLOW_SAVE", "0"))
  if delay:
    save = checkpointing.Checkpointer.save

    def slow_save(self, *args, **kwargs):
      save(self, *args, **kwargs)
      print("saved", args[0], flush=True)
      time.sleep(delay)

    checkpointing.Checkpointer.save = slow_save
  train.train_and_evaluate(config, workdir, data=load_npz(data_path))


if __name__ == "__main__":
  main()
