# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests of self-supervised contrastive training (dws_jax.contrastive, probe)."""

import json
import os
import signal
import subprocess
import sys
import tempfile

from absl.testing import absltest
import jax
import jax.numpy as jnp
import numpy as np

from dws_jax import checkpointing
from dws_jax import contrastive
from dws_jax import metric_writers
from dws_jax import probe
from dws_jax import steps
from dws_jax import train

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "configs"))
import ssl_fmnist  # pylint: disable=g-import-not-at-top,wrong-import-position
import train_test  # pylint: disable=g-import-not-at-top,wrong-import-position


def numpy_nt_xent(z_a, z_b, t):
  """SimCLR's loss written out anchor by anchor."""
  z = np.concatenate([z_a, z_b]).astype(np.float64)
  z /= np.linalg.norm(z, axis=1, keepdims=True)
  n = len(z_a)
  losses = []
  for i in range(2 * n):
    pos = (i + n) % (2 * n)
    others = [k for k in range(2 * n) if k != i]
    denom = sum(np.exp(z[i] @ z[k] / t) for k in others)
    losses.append(-np.log(np.exp(z[i] @ z[pos] / t) / denom))
  return np.mean(losses)


def small_config(**overrides):
  config = ssl_fmnist.get_config("runlocal")
  config.model.name = "mlp"
  config.model.hidden_features = 64
  config.progress = False
  config.update(overrides)
  return config


class NtXentTest(absltest.TestCase):

  def test_equals_numpy_both_directions_and_temperatures(self):
    rng = np.random.default_rng(0)
    z_a, z_b = rng.normal(size=(2, 6, 5)).astype(np.float32)
    for t in (0.1, 0.5, 2.0):
      got = float(contrastive.nt_xent(z_a, z_b, t))
      np.testing.assert_allclose(got, numpy_nt_xent(z_a, z_b, t), rtol=1e-5)
      # Symmetric: both views are anchors.
      np.testing.assert_allclose(float(contrastive.nt_xent(z_b, z_a, t)), got,
                                 rtol=1e-6)
    # Scale-free (cosine similarity), and the temperature matters.
    np.testing.assert_allclose(float(contrastive.nt_xent(3 * z_a, z_b, 0.1)),
                               float(contrastive.nt_xent(z_a, z_b, 0.1)),
                               rtol=1e-5)
    self.assertNotAlmostEqual(float(contrastive.nt_xent(z_a, z_b, 0.1)),
                              float(contrastive.nt_xent(z_a, z_b, 1.0)), 3)

  def test_minimal_when_views_coincide_and_negatives_are_orthogonal(self):
    n, t = 4, 0.1
    z = np.eye(8, dtype=np.float32)[:n]
    best = float(contrastive.nt_xent(z, z, t))
    # One positive at similarity 1, 2n - 2 negatives at 0.
    np.testing.assert_allclose(
        best, np.log(np.exp(1 / t) + (2 * n - 2)) - 1 / t, atol=1e-6)
    rng = np.random.default_rng(1)
    for _ in range(20):
      other = z + 0.3 * rng.normal(size=z.shape).astype(np.float32)
      self.assertGreater(float(contrastive.nt_xent(z, other, t)), best)
      self.assertGreater(float(contrastive.nt_xent(
          *rng.normal(size=(2, n, 8)).astype(np.float32), t)), best)
    self.assertEqual(float(contrastive.contrastive_accuracy(z, z)), 1.0)

  def test_view_partners_are_other_views_of_the_same_object(self):
    idx = jnp.arange(30)  # 10 objects x 3 views, view-major
    other = np.asarray(contrastive.view_partner_indices(
        jax.random.key(0), jnp.tile(idx, 100), 10, 3))
    idx = np.tile(np.arange(30), 100)
    np.testing.assert_array_equal(other % 10, idx % 10)
    self.assertFalse(np.any(other // 10 == idx // 10))
    self.assertEqual(set(other // 10), {0, 1, 2})


class ProbeTest(absltest.TestCase):

  def test_logistic_regression_reaches_the_optimum(self):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 200)
    x = rng.normal(size=(200, 5)) + np.eye(3, 5)[y]
    x, = probe.standardize(x)
    l2 = 0.01

    def objective(w, b):
      logits = x @ w + b
      logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
      return -logp[np.arange(200), y].mean() + 0.5 * l2 * np.sum(w * w)

    w, b = map(np.asarray, probe.fit_logistic_regression(
        x, y, jnp.float32(l2), num_classes=3, steps=100))
    grad_w = x.T @ (jax.nn.softmax(x @ w + b) - np.eye(3)[y]) / 200 + l2 * w
    self.assertLess(np.abs(grad_w).max(), 1e-4)
    for _ in range(5):  # no nearby point is better
      self.assertLess(objective(w, b), objective(
          w + 0.01 * rng.normal(size=w.shape), b))

  def test_probe_and_knn_on_separable_and_random_features(self):
    rng = np.random.default_rng(0)
    make = lambda n: (lambda y: (np.eye(4, 6)[y] * 3 + rng.normal(
        size=(n, 6)), y))(rng.integers(0, 4, n))
    train_split, val, test = make(200), make(100), make(100)
    result = probe.linear_probe(train_split, val, test, num_classes=4,
                                l2_grid=(1e-3, 1e-1))
    self.assertGreater(result.test_accuracy, 0.9)
    self.assertIn(result.l2, (1e-3, 1e-1))
    self.assertGreater(probe.knn_accuracy(train_split, test, num_classes=4,
                                          k=5), 0.9)
    noise = lambda split: (rng.normal(size=split[0].shape), split[1])
    result = probe.linear_probe(noise(train_split), noise(val), noise(test),
                                num_classes=4)
    self.assertLess(result.test_accuracy, 0.45)
    with self.assertRaisesRegex(ValueError, "k must be an integer"):
      probe.knn_accuracy(train_split, test, num_classes=4, k=0)
    with self.assertRaisesRegex(ValueError, "val features have 3 dims"):
      probe.linear_probe(train_split, (val[0][:, :3], val[1]), test,
                         num_classes=4)


class ContrastiveTrainingTest(absltest.TestCase):

  def test_runlocal_run_writes_probe_metrics_and_summary(self):
    data = train_test.small_real_data()
    config = small_config(aug="translate|self_mixup_aligned")
    workdir = tempfile.mkdtemp()
    summary = train.train_and_evaluate(config, workdir, data=data)
    records = metric_writers.read_metrics(workdir)
    probes = [r for r in records if "probe_val_accuracy" in r]
    self.assertEqual([r["epoch"] for r in probes], [0, 1, 2])
    self.assertNotIn("val_accuracy", probes[0])  # step 0: reference only
    for key in ("probe_val_accuracy", "probe_test_accuracy",
                "knn_test_accuracy"):
      self.assertEqual(summary[key], probes[-1][key])
      self.assertEqual(summary[f"init_{key}"], probes[0][key])
    best = max(probes[1:], key=lambda r: (r["probe_val_accuracy"], r["epoch"]))
    self.assertEqual(summary["best_val_accuracy"], best["probe_val_accuracy"])
    self.assertEqual(summary["test_accuracy_at_best_val"],
                     best["probe_test_accuracy"])
    self.assertEqual(summary["task"], "contrastive")
    for name in ("summary.json", "curves.png", "metrics.jsonl"):
      self.assertTrue(os.path.exists(os.path.join(workdir, name)), name)
    # Encoder and projector only: no classifier head.
    params = checkpointing.Checkpointer(
        os.path.join(workdir, "checkpoints")).restore_raw()["params"]
    self.assertEqual(sorted(params), ["encoder", "projector_0", "projector_1"])
    self.assertNotIn("out", params["encoder"])

  def test_two_devices_equal_one_with_view_partners(self):
    data = train_test.small_real_data()  # 96 records: 48 objects x 2 views
    results = {}
    for n in (1, 2):
      config = small_config(aug="translate|self_mixup_aligned(solver='host')",
                            num_devices=n, num_epochs=1)
      config.data.views = 2
      workdir = tempfile.mkdtemp()
      train.train_and_evaluate(config, workdir, data=data)
      results[n] = (checkpointing.Checkpointer(
          os.path.join(workdir, "checkpoints")).restore_raw(),
                    metric_writers.read_metrics(workdir))
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, atol=2e-5),
                 results[1][0], results[2][0])
    for r1, r2 in zip(results[1][1], results[2][1]):
      for k in r1:
        np.testing.assert_allclose(r1[k], r2[k], atol=1e-4, err_msg=k)

  def test_kill_and_resume_is_bitwise(self):
    data_path = train_test.write_npz(train_test.small_real_data())
    overrides = json.dumps({"config": "ssl_fmnist", "num_epochs": 2,
                            "checkpoint_every_steps": 1,
                            "aug": "translate|self_mixup_perm",
                            "model": {"hidden_features": 64}})
    full, part = tempfile.mkdtemp(), tempfile.mkdtemp()
    train_test.run_worker(data_path, full, overrides)
    env = dict(os.environ, DWS_TEST_SLOW_SAVE="0.4")
    proc = subprocess.Popen(
        [sys.executable, train_test.WORKER, data_path, part, overrides],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:  # kill -9 right after the 2nd checkpoint
      if line.startswith("saved 2"):
        proc.send_signal(signal.SIGKILL)
        break
    proc.wait()
    self.assertEqual(proc.returncode, -signal.SIGKILL)
    self.assertEqual(checkpointing.Checkpointer(
        os.path.join(part, "checkpoints")).latest_step(), 2)
    train_test.run_worker(data_path, part, overrides)
    self.assertEqual(metric_writers.read_metrics(full),
                     metric_writers.read_metrics(part))
    a = checkpointing.Checkpointer(os.path.join(full, "checkpoints")).restore_raw()
    b = checkpointing.Checkpointer(os.path.join(part, "checkpoints")).restore_raw()
    self.assertEqual(int(a["step"]), 6)
    jax.tree.map(np.testing.assert_array_equal, a, b)

  def test_bad_inputs(self):
    data = train_test.small_real_data()
    for aug, hint in (("translate|mixup_aligned", "mixup_aligned -> "
                       "self_mixup_aligned"),
                      ("mixup", "mixup -> self_mixup"),
                      ("random_choice(mixup_perm, none)", "self_mixup_perm"),
                      ("label_smoothing", "label_smoothing -> drop it")):
      with self.assertRaisesRegex(ValueError, f"uses labels.*{hint}"):
        train.train_and_evaluate(small_config(aug=aug), tempfile.mkdtemp(),
                                 data=data)
    for t in (0.0, -0.1, float("nan")):
      config = small_config()
      config.contrastive.temperature = t
      with self.assertRaisesRegex(ValueError, "temperature must be a finite "
                                  "number > 0"):
        train.train_and_evaluate(config, tempfile.mkdtemp(), data=data)
    with self.assertRaisesRegex(ValueError, "unknown task 'regression'"):
      train.train_and_evaluate(small_config(task="regression"),
                               tempfile.mkdtemp(), data=data)
    config = small_config()
    config.probe.every_epochs = -1
    with self.assertRaisesRegex(ValueError, "probe.every_epochs"):
      train.train_and_evaluate(config, tempfile.mkdtemp(), data=data)


if __name__ == "__main__":
  absltest.main()
