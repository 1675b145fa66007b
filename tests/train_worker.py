"""Runs train_and_evaluate in a subprocess on an .npz INR dataset (for tests).

  python tests/train_worker.py DATA.npz WORKDIR '{"num_epochs": 4}'

Environment: DWS_TEST_DEVICES (CPU devices, default 1), DWS_TEST_SLOW_SAVE
(seconds to sleep after each checkpoint, so a test can kill the run mid-way).
"""

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
from dws_jax import steps  # pylint: disable=g-import-not-at-top,wrong-import-position
from dws_jax import train  # pylint: disable=g-import-not-at-top,wrong-import-position

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "configs"))
import fmnist_dwsnet  # pylint: disable=g-import-not-at-top,wrong-import-position


def load_npz(path: str) -> train.InrData:
  arrays = np.load(path)
  spec = dws_jax.WeightSpaceSpec.dwsnets_inr()
  splits = {name: steps.Split(dws_jax.from_flat(arrays[f"{name}_flat"], spec),
                              arrays[f"{name}_labels"])
            for name in ("train", "val", "test")}
  return train.InrData(splits, spec, 10)


def main():
  data_path, workdir, overrides = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
  config = fmnist_dwsnet.get_config("runlocal")
  config.model.name = "mlp"
  config.progress = False
  model_overrides = overrides.pop("model", {})
  optim_overrides = overrides.pop("optim", {})
  config.update(overrides)
  config.model.update(model_overrides)
  config.optim.update(optim_overrides)
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
