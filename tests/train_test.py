"""End-to-end tests of train_and_evaluate on real fitted Fashion-MNIST INRs."""

import json
import os
import signal
import subprocess
import sys
import tempfile

from absl.testing import absltest
import jax
import ml_collections
import numpy as np

import dws_jax
from dws_jax import checkpointing
from dws_jax import fitting
from dws_jax import metric_writers
from dws_jax import siren
from dws_jax import steps
from dws_jax import train
from dws_jax.data import fashion_mnist

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "configs"))
import fmnist_dwsnet  # pylint: disable=g-import-not-at-top,wrong-import-position

_DATA = None


def small_real_data() -> train.InrData:
  """96 train / 32 val / 32 test INRs fitted to real Fashion-MNIST images."""
  global _DATA
  if _DATA is None:
    spec = dws_jax.WeightSpaceSpec.dwsnets_inr()
    images, labels = fashion_mnist.load_split("test")
    result = fitting.fit_inrs(jax.random.key(0), images[:160].reshape(160, -1, 1),
                              siren.make_grid(28), spec, steps=150)
    ws = jax.device_get(result.ws)
    split = lambda a, b: steps.Split(ws[a:b], labels[a:b])
    _DATA = train.InrData({"train": split(0, 96), "val": split(96, 128),
                           "test": split(128, 160)}, spec, 10)
  return _DATA


WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      "train_worker.py")


def write_npz(data: train.InrData) -> str:
  path = os.path.join(tempfile.mkdtemp(), "inrs.npz")
  arrays = {}
  for name, split in data.splits.items():
    arrays[f"{name}_flat"] = np.asarray(dws_jax.to_flat(split.ws))
    arrays[f"{name}_labels"] = np.asarray(split.labels)
  np.savez(path, **arrays)
  return path


def run_worker(data_path, workdir, overrides):
  result = subprocess.run([sys.executable, WORKER, data_path, workdir, overrides],
                          capture_output=True, text=True)
  if result.returncode:
    raise AssertionError(result.stdout[-3000:] + result.stderr[-3000:])


def small_config(**overrides):
  config = fmnist_dwsnet.get_config("runlocal")
  config.model.name = "mlp"
  config.progress = False
  config.update(overrides)
  return config


class TrainTest(absltest.TestCase):

  def test_end_to_end_runlocal_dwsnet(self):
    data = small_real_data()
    config = small_config()
    config.model.name = "dwsnet"
    config.num_epochs = 3
    workdir = tempfile.mkdtemp()
    summary = train.train_and_evaluate(config, workdir, data=data)
    records = metric_writers.read_metrics(workdir)
    epochs = [r for r in records if "val_accuracy" in r]
    self.assertEqual([r["epoch"] for r in epochs], [1, 2, 3])
    best_val = max(r["val_accuracy"] for r in epochs)
    latest_best = max(r["epoch"] for r in epochs if r["val_accuracy"] == best_val)
    self.assertEqual(summary["best_epoch"], latest_best)
    self.assertEqual(summary["best_val_accuracy"], best_val)
    self.assertEqual(summary["test_accuracy_at_best_val"],
                     epochs[latest_best - 1]["test_accuracy"])
    for name in ("summary.json", "curves.png", "config.json", "metrics.jsonl"):
      self.assertTrue(os.path.exists(os.path.join(workdir, name)), name)
    self.assertTrue(os.listdir(os.path.join(workdir, "tensorboard")))
    self.assertEqual(checkpointing.Checkpointer(
        os.path.join(workdir, "best")).latest_step(), summary["best_epoch"] * 3)
    # Rerunning the finished command resumes at the end and trains no more.
    again = train.train_and_evaluate(config, workdir, data=data)
    self.assertEqual(again["best_epoch"], summary["best_epoch"])
    self.assertEqual(len(metric_writers.read_metrics(workdir)), len(records))

  def test_epoch_steps_and_heldout_view_evaluation(self):
    data = small_real_data()
    held = steps.Split(data.splits["val"].ws, data.splits["val"].labels)
    data = data._replace(splits={**data.splits, "heldout_view": held})
    config = small_config(num_epochs=2, epoch_steps=2)
    workdir = tempfile.mkdtemp()
    summary = train.train_and_evaluate(config, workdir, data=data)
    epochs = [r for r in metric_writers.read_metrics(workdir) if "epoch" in r]
    # Two "epochs" of 2 steps each, whatever the train set size.
    self.assertEqual(summary["steps"], 4)
    self.assertEqual([r["epoch"] for r in epochs], [1, 2])
    # The held-out split here is the val split, so their metrics agree.
    for r in epochs:
      self.assertEqual(r["heldout_view_accuracy"], r["val_accuracy"])
    self.assertEqual(summary["heldout_view_accuracy_at_best_val"],
                     summary["best_val_accuracy"])
    self.assertEqual(summary["final_train_accuracy"], epochs[-1]["train_accuracy"])
    with self.assertRaisesRegex(ValueError, "epoch_steps must be"):
      train.train_and_evaluate(small_config(epoch_steps=-1), tempfile.mkdtemp(),
                               data=data)

  def test_training_lowers_loss(self):
    data = small_real_data()
    config = small_config(num_epochs=15)
    workdir = tempfile.mkdtemp()
    train.train_and_evaluate(config, workdir, data=data)
    epochs = [r for r in metric_writers.read_metrics(workdir) if "epoch" in r]
    self.assertLess(epochs[-1]["train_loss"], 0.8 * epochs[0]["train_loss"])

  def test_kill_and_resume_is_bitwise(self):
    data_path = write_npz(small_real_data())
    overrides = json.dumps({"num_epochs": 4, "checkpoint_every_steps": 1})
    full, part = tempfile.mkdtemp(), tempfile.mkdtemp()
    run_worker(data_path, full, overrides)
    env = dict(os.environ, DWS_TEST_SLOW_SAVE="0.4")
    proc = subprocess.Popen(
        [sys.executable, WORKER, data_path, part, overrides], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:  # kill -9 right after the 5th checkpoint
      if line.startswith("saved 5"):
        proc.send_signal(signal.SIGKILL)
        break
    proc.wait()
    self.assertEqual(proc.returncode, -signal.SIGKILL)
    killed_at = checkpointing.Checkpointer(
        os.path.join(part, "checkpoints")).latest_step()
    self.assertEqual(killed_at, 5)
    run_worker(data_path, part, overrides)  # the same command resumes
    self.assertEqual(metric_writers.read_metrics(full),
                     metric_writers.read_metrics(part))
    a = checkpointing.Checkpointer(os.path.join(full, "checkpoints")).restore_raw()
    b = checkpointing.Checkpointer(os.path.join(part, "checkpoints")).restore_raw()
    self.assertEqual(int(a["step"]), 12)
    jax.tree.map(np.testing.assert_array_equal, a, b)

  def test_eight_devices_equal_one(self):
    self._check_devices_equal(small_config(num_epochs=2))

  def test_eight_devices_equal_one_with_host_aligned_mixup(self):
    # The host matching callback runs per device on its shard of the batch;
    # one callback placed on one device stalled XLA:CPU's collectives.
    self._check_devices_equal(small_config(
        num_epochs=1, aug="mixup_aligned(solver='host')"))

  def test_eight_devices_equal_one_relational_transformer(self):
    # Its kernels="xla_cpu" attention and edge-update kernels (and their
    # dropout masks) run per device on its shard of the batch.
    config = small_config(num_epochs=1)
    config.model = ml_collections.ConfigDict(dict(
        name="relational_transformer", d_node=32, d_edge=16, d_attn_hid=32,
        n_heads=2, d_node_hid=32, d_edge_hid=32, d_out_hid=32, n_layers=2))
    self._check_devices_equal(config)

  def _check_devices_equal(self, base):
    data = small_real_data()
    results = {}
    for n in (1, 8):
      config = base.copy_and_resolve_references()
      config.num_devices = n
      workdir = tempfile.mkdtemp()
      train.train_and_evaluate(config, workdir, data=data)
      state = checkpointing.Checkpointer(
          os.path.join(workdir, "checkpoints")).restore_raw()
      results[n] = (state, metric_writers.read_metrics(workdir))
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, atol=2e-5),
                 results[1][0], results[8][0])
    for r1, r8 in zip(results[1][1], results[8][1]):
      for k in r1:
        np.testing.assert_allclose(r1[k], r8[k], atol=1e-4, err_msg=k)


class TrainErrorsTest(absltest.TestCase):

  def test_workdir_of_other_config_is_refused_and_untouched(self):
    data = small_real_data()
    workdir = tempfile.mkdtemp()
    train.train_and_evaluate(small_config(num_epochs=1), workdir, data=data)
    before = {n: os.path.getmtime(os.path.join(workdir, n))
              for n in ("config.json", "metrics.jsonl")}
    with self.assertRaisesRegex(ValueError, r"optim.lr: 0.001 -> 0.5.*--overwrite"):
      config = small_config(num_epochs=1)
      config.optim.lr = 0.5
      train.train_and_evaluate(config, workdir, data=data)
    after = {n: os.path.getmtime(os.path.join(workdir, n)) for n in before}
    self.assertEqual(before, after)
    config = small_config(num_epochs=1)
    config.optim.lr = 0.5
    train.train_and_evaluate(config, workdir, data=data, overwrite=True)
    with open(os.path.join(workdir, "config.json")) as f:
      self.assertEqual(json.load(f)["optim"]["lr"], 0.5)

  def test_config_written_before_added_options_still_resumes(self):
    data = small_real_data()
    workdir = tempfile.mkdtemp()
    config = small_config(num_epochs=1)
    train.train_and_evaluate(config, workdir, data=data)
    path = os.path.join(workdir, "config.json")
    with open(path) as f:
      saved = json.load(f)
    for key in ("prng_impl", "init_mode"):  # as a run of an older version
      del saved[key]
    with open(path, "w") as f:
      json.dump(saved, f)
    summary = train.train_and_evaluate(config, workdir, data=data)
    self.assertEqual(summary["steps"], 3)  # finished run found, not refused
    with self.assertRaisesRegex(ValueError, r"prng_impl: .* -> 'rbg'"):
      train.train_and_evaluate(small_config(num_epochs=1, prng_impl="rbg"),
                               workdir, data=data)

  def test_rbg_keys_train(self):
    data = small_real_data()
    runs = {impl: train.train_and_evaluate(
        small_config(num_epochs=1, prng_impl=impl, aug="gaussian_noise"),
        tempfile.mkdtemp(), data=data) for impl in ("threefry2x32", "rbg")}
    for summary in runs.values():
      self.assertTrue(np.isfinite(summary["final_train_loss"]))
    self.assertNotEqual(runs["rbg"]["final_train_loss"],
                        runs["threefry2x32"]["final_train_loss"])

  def test_bad_inputs(self):
    data = small_real_data()
    with self.assertRaisesRegex(ValueError, "unknown model 'nope'"):
      config = small_config()
      config.model.name = "nope"
      train.train_and_evaluate(config, tempfile.mkdtemp(), data=data)
    with self.assertRaisesRegex(ValueError, "unknown augmentation 'wobble'"):
      train.train_and_evaluate(small_config(aug="wobble"), tempfile.mkdtemp(),
                               data=data)
    with self.assertRaisesRegex(ValueError, "not divisible by the 8 devices"):
      train.train_and_evaluate(small_config(batch_size=12), tempfile.mkdtemp(),
                               data=data)
    with self.assertRaisesRegex(ValueError, "unknown optimizer 'lion'"):
      config = small_config()
      config.optim.name = "lion"
      train.train_and_evaluate(config, tempfile.mkdtemp(), data=data)
    bad_ws = data.splits["val"].ws.map(np.array)
    bad_ws.weights[0][3, 0, 0] = np.nan
    bad = data._replace(splits={**data.splits, "val": steps.Split(
        bad_ws, data.splits["val"].labels)})
    with self.assertRaisesRegex(ValueError, r"val weights.weights\[0\] has 1 non-finite"):
      train.train_and_evaluate(small_config(), tempfile.mkdtemp(), data=bad)
    bad_labels = np.array(data.splits["test"].labels)
    bad_labels[0] = 12
    bad = data._replace(splits={**data.splits, "test": steps.Split(
        data.splits["test"].ws, bad_labels)})
    with self.assertRaisesRegex(ValueError, r"test labels must be in \[0, 10\)"):
      train.train_and_evaluate(small_config(), tempfile.mkdtemp(), data=bad)

  def test_reference_compat_mixup_draws_partners_from_the_pool(self):
    data = small_real_data()
    config = small_config(num_epochs=1, aug="mixup(reference_compat=True)")
    with self.assertRaisesRegex(FileNotFoundError, "not an INR dataset"):
      # Without a pool in `data`, every view is read from config.data.dir.
      config.data.dir = tempfile.mkdtemp()
      train.train_and_evaluate(config, tempfile.mkdtemp(), data=data)
    config.data.dir = ""
    with self.assertRaisesRegex(ValueError, "partner_pool.*data.dir"):
      train.train_and_evaluate(config, tempfile.mkdtemp(), data=data)
    # The pool reaches the augmentation (what it does with it is tested in
    # augment_test); labels outside the classes are refused.
    pool_ws = data.splits["val"].ws
    pool = steps.Split(pool_ws, np.full(pool_ws.batch_shape, 7))
    with_pool = data._replace(splits={**data.splits, "partner_pool": pool})
    summary = train.train_and_evaluate(config, tempfile.mkdtemp(),
                                       data=with_pool)
    self.assertTrue(np.isfinite(summary["final_test_accuracy"]))
    bad = data._replace(splits={**data.splits, "partner_pool": steps.Split(
        pool_ws, np.full(pool_ws.batch_shape, 12))})
    with self.assertRaisesRegex(ValueError, r"partner pool labels must be in"):
      train.train_and_evaluate(config, tempfile.mkdtemp(), data=bad)

  def test_non_finite_loss_stops_and_keeps_last_good_checkpoint(self):
    data = small_real_data()
    config = small_config(num_epochs=3, checkpoint_every_steps=1)
    config.optim.lr = 1e30
    config.optim.warmup_steps = 0
    workdir = tempfile.mkdtemp()
    with self.assertRaisesRegex(RuntimeError, "non-finite training loss"):
      train.train_and_evaluate(config, workdir, data=data)
    ckpt = checkpointing.Checkpointer(os.path.join(workdir, "checkpoints"))
    if ckpt.latest_step() is not None:
      state = ckpt.restore_raw()
      for leaf in jax.tree.leaves(state):
        self.assertTrue(np.all(np.isfinite(leaf)))


if __name__ == "__main__":
  absltest.main()
