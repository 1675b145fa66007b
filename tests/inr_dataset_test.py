# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests of INR dataset generation, storage, resumption and loading."""

import gzip
import importlib.util
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from absl.testing import absltest
import jax
import numpy as np
import tensorflow_datasets as tfds

from dws_jax import siren
from dws_jax.data import fashion_mnist
from dws_jax.data import inr_dataset

REPO = pathlib.Path(__file__).resolve().parents[1]
CONFIG_FILE = REPO / "configs" / "inrs" / "fmnist.py"
# 10 train objects x 2 views, 4 val, 4 test; 30 dB keeps the test quick.
ARG = "objects=10,val_objects=4,test_objects=4,views=2,shard=8,target=30,slots=2,devices=8"


def _config(arg=ARG):
  spec = importlib.util.spec_from_file_location("fmnist_inrs_config", CONFIG_FILE)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config(arg)


def _snapshot(directory):
  """Bytes and mtimes of every file under ``directory``."""
  out = {}
  for path in sorted(pathlib.Path(directory).rglob("*")):
    if path.is_file():
      out[str(path)] = (path.read_bytes(), path.stat().st_mtime_ns)
  return out


def _all_shards(directory):
  meta = inr_dataset.read_metadata(directory)
  return {name: inr_dataset.read_shard(directory, name)
          for split in meta["splits"] for name in meta["splits"][split]["shards"]}


class InrDatasetTest(absltest.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.root = pathlib.Path(tempfile.mkdtemp())
    cls.config = _config()
    cls.full = cls.root / "full"
    cls.result = inr_dataset.generate(cls.config, cls.full, progress=False)

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls.root, ignore_errors=True)
    super().tearDownClass()

  def test_complete_and_reaches_target(self):
    self.assertTrue(self.result["complete"])
    summary = self.result["summary"]
    self.assertEqual({k: v["num_inrs"] for k, v in summary.items()},
                     {"train": 20, "val": 4, "test": 4})
    for split in summary.values():
      self.assertEqual(split["fraction_reached_target"], 1.0)

  def test_load_first_k_views_and_labels(self):
    _, train_labels = fashion_mnist.load_split("train")
    one = inr_dataset.load_inr_split(self.full, "train", views=1)
    two = inr_dataset.load_inr_split(self.full, "train", views=2)
    self.assertEqual(one.ws.weights[0].shape, (10, 2, 32))
    self.assertEqual(two.ws.weights[1].shape, (20, 32, 32))
    np.testing.assert_array_equal(np.asarray(two.views), np.repeat([0, 1], 10))
    ids = np.asarray(two.object_ids)
    np.testing.assert_array_equal(ids[:10], ids[10:])
    np.testing.assert_array_equal(np.asarray(two.labels), train_labels[ids])
    # Class-balanced cap: 10 objects, one per class.
    self.assertEqual(sorted(train_labels[ids[:10]]), list(range(10)))
    np.testing.assert_array_equal(np.asarray(one.ws.weights[2]),
                                  np.asarray(two.ws.weights[2][:10]))
    self.assertIsInstance(two.ws.weights[0], jax.Array)
    # Views of one object are different weights for the same image.
    self.assertGreater(float(np.abs(two.ws.weights[1][:10] - two.ws.weights[1][10:])
                             .max()), 1e-2)
    images, _ = fashion_mnist.load_split("train")
    renders = np.asarray(siren.render_images(two.ws, inr_dataset.spec_from_metadata(
        inr_dataset.read_metadata(self.full))))[..., 0]
    mse = np.mean((renders - images[np.concatenate([ids])]) ** 2, axis=(1, 2))
    self.assertTrue(np.all(-10 * np.log10(mse) >= 29.9), mse)
    val = inr_dataset.load_inr_split(self.full, "val", views=2)
    np.testing.assert_array_equal(np.asarray(val.views), np.zeros(4))
    with self.assertRaisesRegex(ValueError, "only 2 view"):
      inr_dataset.load_inr_split(self.full, "train", views=3)

  def test_load_for_training_object_cap_and_heldout_view(self):
    two = inr_dataset.load_inr_split(self.full, "train", views=2)
    labels = np.asarray(two.labels[:10])
    data = inr_dataset.load_for_training(self.full, views=1, objects=5,
                                         heldout_view=1)
    train, held = data.splits["train"], data.splits["heldout_view"]
    # The cap keeps 5 objects of 5 different classes, the dataset's own rule.
    kept = inr_dataset.select_objects(labels, 5)
    self.assertLen(set(labels[kept]), 5)
    np.testing.assert_array_equal(np.asarray(train.labels), labels[kept])
    np.testing.assert_array_equal(np.asarray(train.ws.weights[1]),
                                  np.asarray(two.ws.weights[1])[kept])
    # The held-out split is view 1 of the same objects, never trained on.
    np.testing.assert_array_equal(np.asarray(held.labels), labels[kept])
    np.testing.assert_array_equal(np.asarray(held.ws.biases[0]),
                                  np.asarray(two.ws.biases[0])[10 + kept])
    both = inr_dataset.load_for_training(self.full, views=2, objects=5)
    self.assertEqual(both.splits["train"].ws.weights[0].shape[0], 10)
    self.assertNotIn("heldout_view", both.splits)
    self.assertEqual(both.splits["test"].ws.weights[0].shape[0], 4)
    with self.assertRaisesRegex(ValueError, "not trained on"):
      inr_dataset.load_for_training(self.full, views=2, heldout_view=1)
    with self.assertRaisesRegex(ValueError, "has .< 2"):
      inr_dataset.load_for_training(self.full, views=1, heldout_view=2)
    with self.assertRaisesRegex(ValueError, "objects must be >= 0"):
      inr_dataset.load_for_training(self.full, objects=-1)

  def test_tfds_data_source_reads_written_data(self):
    shards = _all_shards(self.full)
    val = shards["val-00000-of-00001"]
    source = tfds.data_source("inr_dataset", split="val",
                              data_dir=str(self.full / inr_dataset.TFDS_DIR))
    self.assertLen(source, 4)
    for i in range(4):
      np.testing.assert_array_equal(source[i]["params"], val["params"][i])
      self.assertEqual(source[i]["label"], val["label"][i])
      self.assertEqual(source[i]["object_id"], val["object_id"][i])
    builder = tfds.builder_from_directory(str(inr_dataset.tfds_dir(self.full)))
    self.assertEqual(builder.info.splits["train"].num_examples, 20)

  def test_resume_equals_uninterrupted_and_same_seed_bit_identical(self):
    out = self.root / "resumed"
    first = inr_dataset.generate(self.config, out, max_shards=2, progress=False)
    self.assertFalse(first["complete"])
    self.assertEqual(first["new_shards"], 2)
    with self.assertRaisesRegex(FileNotFoundError, "incomplete"):
      inr_dataset.load_inr_split(out, "train")
    # A shard file without its marker is refitted, never read.
    name = "train-00002-of-00003"
    (out / "shards" / f"{name}.npz").write_bytes(b"garbage")
    before = _snapshot(out / "shards")
    second = inr_dataset.generate(self.config, out, progress=False)
    self.assertTrue(second["complete"])
    self.assertEqual(second["new_shards"], 3)
    for path, (data, mtime) in before.items():  # finished shards kept as they were
      if name not in path:
        self.assertEqual(_snapshot(out / "shards")[path], (data, mtime))
    a, b = _all_shards(self.full), _all_shards(out)
    self.assertEqual(sorted(a), sorted(b))
    for key in a:
      for field in a[key]:
        np.testing.assert_array_equal(a[key][field], b[key][field],
                                      err_msg=f"{key}/{field}")

  def test_config_clash_refused_and_files_untouched(self):
    before = _snapshot(self.full)
    other = _config(ARG.replace("views=2", "views=3"))
    with self.assertRaisesRegex(ValueError, r"differing keys: views: 2 \(on disk\) "
                                r"vs 3"):
      inr_dataset.generate(other, self.full, progress=False)
    other = _config(ARG + ",lr=0.001")
    with self.assertRaisesRegex(ValueError, "fit.lr"):
      inr_dataset.generate(other, self.full, progress=False)
    self.assertEqual(_snapshot(self.full), before)

  def test_corrupt_source_file_gives_clear_error(self):
    source = self.root / "fmnist_corrupt"
    shutil.copytree(fashion_mnist.default_dir(), source)
    path = source / "train-images-idx3-ubyte.gz"
    with gzip.open(path, "rb") as f:
      data = f.read()
    with gzip.open(path, "wb") as f:
      f.write(data[: len(data) // 2])  # truncated
    before = _snapshot(self.full)
    config = _config()
    config.data_dir = str(source)
    with self.assertRaisesRegex(ValueError, "train-images-idx3-ubyte.gz.*truncated"):
      inr_dataset.generate(config, self.full, progress=False)
    with self.assertRaisesRegex(ValueError, "train-images-idx3-ubyte.gz.*truncated"):
      inr_dataset.generate(config, self.root / "never", progress=False)
    self.assertFalse((self.root / "never").exists())
    config.data_dir = str(self.root / "missing")
    with self.assertRaisesRegex(FileNotFoundError, "apt-get install"):
      inr_dataset.generate(config, self.full, progress=False)
    self.assertEqual(_snapshot(self.full), before)

  def test_refit_regenerates_one_view(self):
    two = inr_dataset.load_inr_split(self.full, "train", views=2)
    obj = int(two.object_ids[13])
    res = inr_dataset.refit(self.config, "train", obj, view=1)
    np.testing.assert_array_equal(res.params[0], np.asarray(
        inr_dataset.wsp.to_flat(two.ws[13])))

  def test_kill_9_then_resume(self):
    out = self.root / "killed"
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    arg = ARG.replace("shard=8", "shard=4")  # 7 shards, finishing one by one
    proc = subprocess.Popen(
        [sys.executable, "-m", "dws_jax.fit_inrs_main",
         f"--config={CONFIG_FILE}:{arg}", f"--out={out}", "--noprogress"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
      deadline = time.time() + 120
      while time.time() < deadline and proc.poll() is None:
        if list((out / "shards").glob("*.done.json")):
          break
        time.sleep(0.05)
      os.kill(proc.pid, signal.SIGKILL)
    finally:
      proc.wait()
    self.assertEqual(proc.returncode, -signal.SIGKILL,
                     proc.stderr.read().decode()[-2000:])
    done = list((out / "shards").glob("*.done.json"))
    self.assertNotEmpty(done)
    self.assertLess(len(done), 7)
    self.assertFalse((out / "tfds").exists())
    kept = _snapshot(out / "shards")
    config = _config(arg)
    result = inr_dataset.generate(config, out, progress=False)
    self.assertTrue(result["complete"])
    self.assertEqual(result["new_shards"], 7 - len(done))
    after = _snapshot(out / "shards")
    for marker in done:
      shard = str(marker).replace(".done.json", ".npz")
      self.assertEqual(after[shard], kept[shard])
    # Same INRs as the uninterrupted run (which used 8-INR shards).
    for split in ("train", "val", "test"):
      a = inr_dataset.load_inr_split(self.full, split, views=2)
      b = inr_dataset.load_inr_split(out, split, views=2)
      np.testing.assert_array_equal(np.asarray(a.ws.weights[1]),
                                    np.asarray(b.ws.weights[1]))
      np.testing.assert_array_equal(np.asarray(a.steps), np.asarray(b.steps))


class SelectObjectsTest(absltest.TestCase):

  def test_class_balanced(self):
    labels = np.array([0, 0, 0, 1, 2, 2, 1, 0, 2])
    np.testing.assert_array_equal(inr_dataset.select_objects(labels, 4), [0, 1, 3, 4])
    np.testing.assert_array_equal(inr_dataset.select_objects(labels, 0),
                                  np.arange(9))
    counts = np.bincount(labels[inr_dataset.select_objects(labels, 7)])
    self.assertLessEqual(counts.max() - counts.min(), 1)


if __name__ == "__main__":
  absltest.main()
