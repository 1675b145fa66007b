# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Real CIFAR-10 from the official python batches (or a prepared tfds dataset).

Layouts read (``data_dir``, else ``$DWS_CIFAR10_DIR``, else
``~/data/cifar-10-batches-py``):

* the official python version, ``cifar-10-python.tar.gz`` from
  https://www.cs.toronto.edu/~kriz/cifar.html extracted: a directory
  ``cifar-10-batches-py/`` with ``data_batch_1`` ... ``data_batch_5`` and
  ``test_batch`` (pickled dicts: ``b"data"`` ``(10000, 3072)`` uint8, the 1024
  red, then green, then blue values of each 32x32 image in row-major order,
  and ``b"labels"``). ``data_dir`` may be that directory or its parent;
* a tfds ``cifar10`` dataset prepared in ArrayRecord format
  (``tfds.builder("cifar10", file_format="array_record").download_and_prepare()``),
  read without TensorFlow: ``data_dir`` is the version directory holding
  ``dataset_info.json`` (e.g. ``~/tensorflow_datasets/cifar10/3.0.2``).

Splits: train 45,000 / val 5,000 / test 10,000. Test is the official test set
(``test_batch``, or tfds ``test``). Val is taken from the 50,000 official
training images by the Fashion-MNIST rule: for each of the 10 classes, the
500 images of that class that come first in
``numpy.random.default_rng(0).permutation(50000)`` (training images in batch
order 1..5, or tfds ``train`` order); train is the other 45,000 in their
original order. Pixels are float32 in [0, 1] (uint8 / 255), ``(N, 32, 32, 3)``.

The pickles are read with :mod:`pickle`; only open files you trust.
"""

from __future__ import annotations

import os
import pathlib
import pickle

import numpy as np

from dws_jax.data import sources

CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
               "horse", "ship", "truck")
BATCH_DIR = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
VAL_PER_CLASS = 500
INSTALL_HINT = ("download https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz "
                "and extract it (tar xzf cifar-10-python.tar.gz makes "
                f"{BATCH_DIR}/), then pass that directory as data_dir or set "
                "DWS_CIFAR10_DIR")


def default_dir() -> str:
  return os.environ.get("DWS_CIFAR10_DIR",
                        os.path.expanduser(f"~/data/{BATCH_DIR}"))


def read_batch(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
  """Reads one official python batch file.

  Returns:
    ``images`` uint8 ``(N, 32, 32, 3)`` and ``labels`` int32 ``(N,)``.

  Raises:
    FileNotFoundError / ValueError naming the file and the download.
  """
  path = pathlib.Path(path)
  if not path.exists():
    raise FileNotFoundError(f"CIFAR-10 batch {path} not found; {INSTALL_HINT}")
  try:
    with open(path, "rb") as f:
      batch = pickle.load(f, encoding="bytes")
  except Exception as e:  # pylint: disable=broad-except
    raise ValueError(f"cannot read CIFAR-10 batch {path} (truncated or corrupt: "
                     f"{type(e).__name__}: {e}); {INSTALL_HINT}") from e
  if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
    raise ValueError(f"CIFAR-10 batch {path} is not a dict with b'data' and "
                     f"b'labels'; {INSTALL_HINT}")
  data = np.asarray(batch[b"data"])
  labels = np.asarray(batch[b"labels"])
  if (data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072
      or labels.shape != (len(data),) or (labels.size and (
          labels.min() < 0 or labels.max() > 9))):
    raise ValueError(f"CIFAR-10 batch {path}: expected uint8 data (N, 3072) and "
                     f"N labels in 0-9, got data {data.dtype} {data.shape} and "
                     f"labels {labels.shape}; {INSTALL_HINT}")
  images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
  return images, labels.astype(np.int32)


def _batch_dir(directory: pathlib.Path) -> pathlib.Path:
  if (directory / BATCH_DIR).is_dir():
    return directory / BATCH_DIR
  return directory


def _read_tfds(directory: pathlib.Path, part: str
               ) -> tuple[np.ndarray, np.ndarray]:
  """A prepared tfds ``cifar10`` (ArrayRecord) split, read without TensorFlow."""
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  try:
    builder = tfds.builder_from_directory(str(directory))
    source = builder.as_data_source(split=part)
    records = source.__getitems__(list(range(len(source))))
  except Exception as e:  # pylint: disable=broad-except
    raise ValueError(f"cannot read the tfds cifar10 dataset in {directory} "
                     f"(it must be prepared in array_record format): "
                     f"{type(e).__name__}: {e}") from e
  images = np.stack([np.asarray(r["image"], np.uint8) for r in records])
  labels = np.asarray([int(r["label"]) for r in records], np.int32)
  if images.shape[1:] != (32, 32, 3):
    raise ValueError(f"tfds cifar10 in {directory}: images {images.shape}, "
                     "expected (N, 32, 32, 3)")
  return images, labels


def load_official(part: str, data_dir: str | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
  """The official ``"train"`` (50k, batches 1..5) or ``"test"`` (10k) part.

  Returns:
    ``images`` float32 ``(N, 32, 32, 3)`` in [0, 1] and ``labels`` int32 ``(N,)``.
  """
  if part not in ("train", "test"):
    raise ValueError(f"unknown CIFAR-10 part {part!r}; expected train/test")
  directory = pathlib.Path(data_dir or default_dir())
  if not directory.is_dir():
    raise FileNotFoundError(f"CIFAR-10 directory {directory} does not exist; "
                            f"{INSTALL_HINT}")
  if (directory / "dataset_info.json").exists():
    images, labels = _read_tfds(directory, part)
  else:
    names = TRAIN_BATCHES if part == "train" else (TEST_BATCH,)
    parts = [read_batch(_batch_dir(directory) / n) for n in names]
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
  return images.astype(np.float32) / 255.0, labels


def load_split(split: str, data_dir: str | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
  """Loads ``"train"`` (45k), ``"val"`` (5k) or ``"test"`` (10k) (module doc).

  Returns:
    ``images`` float32 ``(N, 32, 32, 3)`` in [0, 1] and ``labels`` int32 ``(N,)``.
  """
  sources.check_split(split)
  if split == "test":
    return load_official("test", data_dir)
  images, labels = load_official("train", data_dir)
  train_idx, val_idx = sources.split_indices(labels, VAL_PER_CLASS, 0)
  idx = train_idx if split == "train" else val_idx
  return images[idx], labels[idx]


def _load_objects(split, data_dir, options):
  del options
  return sources.ImageObjects(*load_split(split, data_dir))


SOURCES = {"cifar10": sources.Source(
    name="cifar10", kind="image", input_dim=2, output_dim=3,
    class_names=CLASS_NAMES, load=_load_objects, default_dir=default_dir,
    split_rule=__doc__.strip(), resolution=(32, 32))}
