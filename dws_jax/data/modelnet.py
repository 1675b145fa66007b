# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""ModelNet40 / ModelNet10 meshes from the official ``.off`` tree.

Layout (``data_dir``, else ``$DWS_MODELNET40_DIR`` / ``$DWS_MODELNET10_DIR``,
else ``~/data/ModelNet40`` / ``~/data/ModelNet10``), as in
``ModelNet40.zip`` / ``ModelNet10.zip`` from https://modelnet.cs.princeton.edu/::

  ModelNet40/<class>/train/<class>_0001.off
  ModelNet40/<class>/test/<class>_0627.off

Labels are the index of ``<class>`` in the official class list
(:data:`MODELNET40_CLASSES`, alphabetical). Splits: test is the official test
set (2,468 shapes for ModelNet40); val is 10% of each class's official
training shapes (rounded), the first in the order of
``numpy.random.default_rng(0).permutation`` of the training shapes sorted by
path; train is the rest. Shapes become occupancy signals as described in
:mod:`dws_jax.data.shapes`.
"""

from __future__ import annotations

import os
import pathlib

import numpy as np

from dws_jax.data import shapes
from dws_jax.data import sources

MODELNET40_CLASSES = (
    "airplane", "bathtub", "bed", "bench", "bookshelf", "bottle", "bowl", "car",
    "chair", "cone", "cup", "curtain", "desk", "door", "dresser", "flower_pot",
    "glass_box", "guitar", "keyboard", "lamp", "laptop", "mantel", "monitor",
    "night_stand", "person", "piano", "plant", "radio", "range_hood", "sink",
    "sofa", "stairs", "stool", "table", "tent", "toilet", "tv_stand", "vase",
    "wardrobe", "xbox")
MODELNET10_CLASSES = ("bathtub", "bed", "chair", "desk", "dresser", "monitor",
                      "night_stand", "sofa", "table", "toilet")
VAL_FRACTION = 0.1


def _hint(name: str) -> str:
  zip_name = "ModelNet40.zip" if name == "modelnet40" else "ModelNet10.zip"
  return (f"download {zip_name} from https://modelnet.cs.princeton.edu/ and "
          f"unzip it, then pass the directory holding the class folders as "
          f"data_dir or set DWS_{name.upper()}_DIR")


def _default_dir(name: str) -> str:
  folder = "ModelNet40" if name == "modelnet40" else "ModelNet10"
  return os.environ.get(f"DWS_{name.upper()}_DIR",
                        os.path.expanduser(f"~/data/{folder}"))


def list_files(root: str | os.PathLike, part: str, classes: tuple[str, ...],
               name: str = "modelnet40") -> tuple[list[pathlib.Path], np.ndarray]:
  """The ``.off`` files of ``part`` (``"train"``/``"test"``), sorted, with labels.

  Raises:
    FileNotFoundError: no such directory or no shapes, naming the download.
    ValueError: a class folder that is not an official class.
  """
  root = pathlib.Path(root)
  if (root / "ModelNet40").is_dir() and not (root / classes[0]).is_dir():
    root = root / ("ModelNet40" if name == "modelnet40" else "ModelNet10")
  if not root.is_dir():
    raise FileNotFoundError(f"{name} directory {root} does not exist; "
                            f"{_hint(name)}")
  found = sorted(p.name for p in root.iterdir() if p.is_dir()
                 and not p.name.startswith(("_", ".")))
  unknown = [c for c in found if c not in classes]
  if unknown:
    raise ValueError(f"{root} has class folders {unknown} that are not "
                     f"{name} classes; expected some of {classes}")
  files, labels = [], []
  for c in found:
    paths = sorted((root / c / part).glob("*.off"))
    files += paths
    labels += [classes.index(c)] * len(paths)
  if not files:
    raise FileNotFoundError(f"no {name} shapes <class>/{part}/*.off under {root}; "
                            f"{_hint(name)}")
  return files, np.asarray(labels, np.int32)


def load_split(split: str, data_dir: str | None, options, name: str = "modelnet40"
               ) -> shapes.ShapeObjects:
  """The shapes of ``"train"``, ``"val"`` or ``"test"`` (module doc)."""
  sources.check_split(split)
  classes = MODELNET40_CLASSES if name == "modelnet40" else MODELNET10_CLASSES
  root = data_dir or _default_dir(name)
  files, labels = list_files(root, "test" if split == "test" else "train",
                             classes, name)
  if split != "test":
    val, train = sources.fraction_split(labels, (VAL_FRACTION, 1 - VAL_FRACTION), 0)
    idx = val if split == "val" else train
    files, labels = [files[i] for i in idx], labels[idx]
  base = files[0].parents[2] if files else pathlib.Path(root)

  def read(i: int) -> bytes:
    return files[i].read_bytes()

  keys = [str(f.relative_to(base)) if f.is_relative_to(base) else str(f)
          for f in files]
  return shapes.ShapeObjects(keys, read, ["off"] * len(files), labels,
                             shapes.ShapeOptions.from_config(options), _hint(name))


def _source(name, classes):
  return sources.Source(
      name=name, kind="shape", input_dim=3, output_dim=1, class_names=classes,
      load=lambda split, data_dir, options: load_split(split, data_dir, options,
                                                       name),
      default_dir=lambda: _default_dir(name),
      split_rule=__doc__.strip() + "\n\n" + shapes.__doc__.strip(),
      value_range="occupancy in {0, 1} at sampled points (dws_jax.data.shapes)")


SOURCES = {"modelnet40": _source("modelnet40", MODELNET40_CLASSES),
           "modelnet10": _source("modelnet10", MODELNET10_CLASSES)}
