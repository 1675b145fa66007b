"""dws-train as 2 local processes (jax.distributed) equals one process."""

import json
import os
import subprocess
import sys
import tempfile

from absl.testing import absltest
import jax
import numpy as np
import pytest

from dws_jax import checkpointing
from dws_jax import metric_writers
from dws_jax.data import inr_dataset

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "configs"))
import inrs.fmnist as inr_config  # pylint: disable=g-import-not-at-top,wrong-import-position


def _env(devices):
  env = dict(os.environ, JAX_PLATFORMS="cpu", JAX_NUM_CPU_DEVICES=str(devices))
  env.pop("XLA_FLAGS", None)
  return env


@pytest.mark.multiprocess
class MultiProcessTest(absltest.TestCase):

  def test_two_processes_equal_one(self):
    data = os.path.join(tempfile.mkdtemp(), "inrs")
    config = inr_config.get_config(
        "objects=64,val_objects=32,test_objects=32,views=1,steps=100,devices=1")
    inr_dataset.generate(config, data, progress=False)
    train_config = (f"{ROOT}/configs/fmnist_dwsnet.py:runlocal,model=mlp,"
                    f"data={data},epochs=2")
    single = tempfile.mkdtemp()
    subprocess.run(
        [sys.executable, "-m", "dws_jax.main", f"--config={train_config}",
         f"--workdir={single}", "--config.progress=false"],
        env=_env(4), check=True, cwd=ROOT, capture_output=True)
    multi = tempfile.mkdtemp()
    result = subprocess.run(
        ["bash", os.path.join(ROOT, "launch", "local_multiprocess.sh"), multi,
         train_config, "2", "2"],
        env=dict(_env(2), PYTHON=sys.executable), cwd=ROOT, capture_output=True,
        text=True)
    self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
    with open(os.path.join(multi, "summary.json")) as f:
      summary = json.load(f)
    self.assertEqual(summary["num_processes"], 2)
    self.assertEqual(summary["num_devices"], 4)
    one = metric_writers.read_metrics(single)
    two = metric_writers.read_metrics(multi)
    self.assertEqual(len(one), len(two))
    for r1, r2 in zip(one, two):
      self.assertEqual(r1.keys(), r2.keys())
      for key in r1:
        np.testing.assert_allclose(r1[key], r2[key], rtol=1e-4, atol=1e-5,
                                   err_msg=key)
    a = checkpointing.Checkpointer(os.path.join(single, "checkpoints")).restore_raw()
    b = checkpointing.Checkpointer(os.path.join(multi, "checkpoints")).restore_raw()
    jax.tree.map(lambda x, y: np.testing.assert_allclose(x, y, atol=1e-5), a, b)


if __name__ == "__main__":
  absltest.main()
