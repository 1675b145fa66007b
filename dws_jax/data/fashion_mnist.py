# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Real Fashion-MNIST from idx files (Debian package ``dataset-fashion-mnist``).

Splits follow the paper: train 55,000 / val 5,000 / test 10,000. Test is the
official test set. Val is taken from the official 60,000 training images by a
fixed rule (:func:`split_indices`): for each of the 10 classes, the 500 images
of that class that come first in ``numpy.random.default_rng(0).permutation(60000)``;
train is the remaining 55,000 in their original order. The split is stratified
(5,500 train and 500 val images per class).
"""

from __future__ import annotations

import gzip
import os
import pathlib

import numpy as np

from dws_jax.data import sources

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"
INSTALL_HINT = ("install it with: sudo apt-get update && sudo apt-get install -y "
                "dataset-fashion-mnist (or pass the directory holding the idx "
                "files, or set DWS_FASHION_MNIST_DIR)")
CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
               "Shirt", "Sneaker", "Bag", "Ankle boot")
SPLITS = ("train", "val", "test")
VAL_PER_CLASS = 500
SPLIT_SEED = 0
_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def default_dir() -> str:
  return os.environ.get("DWS_FASHION_MNIST_DIR", DEFAULT_DIR)


def _find(directory: pathlib.Path, stem: str, dataset: str = "Fashion-MNIST",
          hint: str = INSTALL_HINT) -> pathlib.Path:
  for name in (stem + ".gz", stem):
    if (directory / name).exists():
      return directory / name
  raise FileNotFoundError(
      f"{dataset} file {stem}[.gz] not found in {directory}; {hint}")


def read_idx(path: str | os.PathLike) -> np.ndarray:
  """Reads an idx file (optionally gzipped) into a numpy array.

  Raises:
    ValueError: on a truncated or malformed file, naming the file.
  """
  path = pathlib.Path(path)
  opener = gzip.open if path.suffix == ".gz" else open
  try:
    with opener(path, "rb") as f:
      data = f.read()
  except (OSError, EOFError) as e:
    raise ValueError(f"cannot read idx file {path}: {e}") from e
  if len(data) < 4 or data[0] != 0 or data[1] != 0:
    raise ValueError(f"{path} is not an idx file (bad magic number)")
  dtype_code, ndim = data[2], data[3]
  dtypes = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4",
            0x0D: ">f4", 0x0E: ">f8"}
  if dtype_code not in dtypes:
    raise ValueError(f"{path}: unknown idx dtype code {dtype_code:#x}")
  header = 4 + 4 * ndim
  if len(data) < header:
    raise ValueError(f"{path}: truncated idx header")
  shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big")
                for i in range(ndim))
  dtype = np.dtype(dtypes[dtype_code])
  expected = header + int(np.prod(shape)) * dtype.itemsize
  if len(data) != expected:
    raise ValueError(f"{path}: idx file has {len(data)} bytes, expected "
                     f"{expected} for shape {shape} (truncated or corrupt)")
  return np.frombuffer(data, dtype, offset=header).reshape(shape)


def load_official(part: str, data_dir: str | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
  """Loads the official ``"train"`` (60k) or ``"test"`` (10k) part.

  Returns:
    ``images`` float32 ``(N, 28, 28)`` in [0, 1] and ``labels`` int32 ``(N,)``.
  """
  return load_idx_part(part, data_dir or default_dir(), "Fashion-MNIST",
                       INSTALL_HINT)


def load_idx_part(part: str, data_dir: str | os.PathLike, dataset: str,
                  hint: str) -> tuple[np.ndarray, np.ndarray]:
  """Loads ``"train"`` or ``"test"`` from MNIST-style idx files in ``data_dir``.

  Args:
    part: ``"train"`` (``train-*``) or ``"test"`` (``t10k-*``).
    data_dir: directory holding the (optionally gzipped) idx files.
    dataset: name used in error messages.
    hint: where the data comes from (appended to error messages).

  Returns:
    ``images`` float32 ``(N, H, W)`` in [0, 1] and ``labels`` int32 ``(N,)``.
  """
  if part not in _FILES:
    raise ValueError(f"unknown {dataset} part {part!r}; expected train/test")
  directory = pathlib.Path(data_dir)
  if not directory.is_dir():
    raise FileNotFoundError(
        f"{dataset} directory {directory} does not exist; {hint}")
  images = read_idx(_find(directory, _FILES[part][0], dataset, hint))
  labels = read_idx(_find(directory, _FILES[part][1], dataset, hint))
  if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
    raise ValueError(f"{dataset} {part}: images {images.shape} and labels "
                     f"{labels.shape} do not match")
  return images.astype(np.float32) / 255.0, labels.astype(np.int32)


def split_indices(labels: np.ndarray, val_per_class: int = VAL_PER_CLASS,
                  seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
  """The fixed train/val rule on the official training labels (module doc).

  Returns:
    ``(train_idx, val_idx)``, sorted int arrays into the official train set.
  """
  return sources.split_indices(labels, val_per_class, seed)


def load_split(split: str, data_dir: str | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
  """Loads ``"train"`` (55k), ``"val"`` (5k) or ``"test"`` (10k).

  Returns:
    ``images`` float32 ``(N, 28, 28)`` in [0, 1] and ``labels`` int32 ``(N,)``.
  """
  if split not in SPLITS:
    raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
  if split == "test":
    return load_official("test", data_dir)
  images, labels = load_official("train", data_dir)
  train_idx, val_idx = split_indices(labels)
  idx = train_idx if split == "train" else val_idx
  return images[idx], labels[idx]


def _load_objects(split: str, data_dir: str | None, options) -> sources.Objects:
  del options
  return sources.ImageObjects(*load_split(split, data_dir))


SOURCES = {"fashion_mnist": sources.Source(
    name="fashion_mnist", kind="image", input_dim=2, output_dim=1,
    class_names=CLASS_NAMES, load=_load_objects, default_dir=default_dir,
    split_rule=__doc__.strip(), resolution=(28, 28))}
