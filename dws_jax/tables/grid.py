# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Table configs: the grid of cells, and each cell's ``dws-train`` config.

A table config (``configs/tables/*.py``, ``get_config(arg)``) is a ConfigDict:

* ``name``: the table's id; its outputs go to
  ``results/tables/<name>.{md,csv,json}``.
* ``cells_dir`` (optional, default ``name``): its cells live in
  ``ROOT/<cells_dir>/<cell>``. Tables that share a ``cells_dir`` (and a
  dataset) share cells: a cell listed by two tables is trained once.
* ``title``, ``scale`` (e.g. ``"small"``), ``command`` (the command that
  makes the table, printed under it), ``notes`` (a paragraph for the output).
* ``dataset``: ``config`` (an INR dataset config file, repository-relative),
  ``arg`` (its argument string) and ``dir`` (where the dataset lives; made by
  ``dws-fit-inrs``' own code when missing).
* ``train``: ``config`` (a training config file), ``arg`` and ``overrides``
  (config keys set on every cell, nested like the config, e.g.
  ``{"optim": {"lr": 3e-3}}``).
* ``grid``: a list of groups. Each group maps cell axes (:data:`AXES`) to
  lists of values; its cells are their product. An optional ``overrides``
  entry of a group sets config keys (nested, or dotted like ``"optim.lr"``)
  on that group's cells only; an optional ``train`` entry (``config``,
  ``arg``, ``overrides``, as the table's) trains that group's cells from
  another config file (e.g. a supervised reference row in a self-supervised
  table; the cell's name ends with that file's stem). The table's
  cells are the union of the groups (a cell named twice is one cell).
* ``aggregate``: ``rows`` and ``columns`` (axes, or ``("metric",)`` for one
  column per metric), ``metrics`` (summary keys; the first is the headline).
* ``figures``: a list of figure specs (:mod:`dws_jax.tables.figures`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import itertools
import json
import pathlib
import re
from typing import Any

from etils import epath
import ml_collections

from dws_jax import config_utils
from dws_jax import paths

# Cell axes and their values when a group does not name them.
AXES = {"model": "dwsnet", "aug": "none", "views": 1, "objects": 0, "seed": 0}
REPO = pathlib.Path(__file__).resolve().parents[2]


@dataclasses.dataclass(frozen=True)
class Cell:
  """One run of a table: axis values plus the overrides of its group."""

  model: str
  aug: str
  views: int
  objects: int
  seed: int
  overrides: tuple[tuple[str, Any], ...] = ()
  # The group's own training config, (("arg", a), ("config", path),
  # ("overrides", json)); empty: the table's.
  train: tuple[tuple[str, Any], ...] = ()

  @property
  def name(self) -> str:
    """Directory name, e.g. ``dwsnet-mixup_aligned-v1-all-s0``."""
    aug = re.sub(r"[^A-Za-z0-9_.=+-]+", "_", self.aug).strip("_") or "none"
    if aug != self.aug:  # Different strings may sanitize alike.
      aug += "-" + hashlib.sha1(self.aug.encode()).hexdigest()[:6]
    objects = "all" if self.objects == 0 else str(self.objects)
    name = f"{self.model}-{aug}-v{self.views}-n{objects}-s{self.seed}"
    if self.overrides:
      name += "-o" + hashlib.sha1(json.dumps(
          self.overrides, sort_keys=True).encode()).hexdigest()[:6]
    if self.train:
      stem = re.sub(r"[^A-Za-z0-9_]+", "_", self.train_config)
      name += f"-{stem}-" + hashlib.sha1(json.dumps(
          self.train, sort_keys=True).encode()).hexdigest()[:6]
    return name

  @property
  def train_config(self) -> str:
    """The group's training config file stem ("" = the table's)."""
    return pathlib.Path(dict(self.train)["config"]).stem if self.train else ""

  def axis(self, name: str):
    """An axis value; ``"train"`` is the group's training config stem."""
    if name == "train":
      return self.train_config
    return getattr(self, name)


def resolve(path: str) -> pathlib.Path:
  """A config path as given, else relative to the repository root."""
  p = pathlib.Path(path)
  if p.exists() or p.is_absolute():
    return p
  return REPO / p


def load_config_file(path: str, arg: str | None = None):
  """``get_config(arg)`` of a config file (raises naming a missing file)."""
  file = resolve(path)
  if not file.is_file():
    raise FileNotFoundError(f"config file {path} not found (looked in "
                            f"{file})")
  spec = importlib.util.spec_from_file_location(
      "dws_config_" + re.sub(r"\W", "_", file.stem), file)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config(arg or None)


def load_table(spec: str) -> ml_collections.ConfigDict:
  """Loads ``"configs/tables/x.py[:arg]"`` and checks its top-level fields."""
  path, _, arg = spec.partition(":")
  table = load_config_file(path, arg)
  for key in ("name", "dataset", "train", "grid", "aggregate"):
    if key not in table:
      raise ValueError(f"table config {path} has no {key!r} field")
  if not re.fullmatch(r"[A-Za-z0-9_.-]+", table.name):
    raise ValueError(f"table name {table.name!r} must be a plain file name")
  return table


def _as_plain(value):
  if isinstance(value, ml_collections.ConfigDict):
    return value.to_dict()
  return value


def cells(table: ml_collections.ConfigDict) -> list[Cell]:
  """The table's cells in grid order (duplicates removed).

  Raises:
    ValueError: a group names an unknown axis, or a value has the wrong type.
  """
  out: dict[str, Cell] = {}
  for index, group in enumerate(table.grid):
    group = dict(_as_plain(group))
    overrides = group.pop("overrides", {}) or {}
    train = _group_train(table, index, group.pop("train", None))
    unknown = sorted(set(group) - set(AXES))
    if unknown:
      raise ValueError(f"table {table.name}: grid group {index} has unknown axis "
                       f"{', '.join(map(repr, unknown))}; known axes: "
                       f"{', '.join(AXES)} (and 'overrides')")
    values = []
    for axis, default in AXES.items():
      given = group.get(axis, [default])
      if isinstance(given, (str, int)):
        given = [given]
      for v in given:
        if not isinstance(v, type(default)) or isinstance(v, bool):
          raise ValueError(f"table {table.name}: grid group {index} axis {axis} "
                           f"value {v!r} is not a {type(default).__name__}")
      values.append(list(given))
    frozen = tuple(sorted(flat_overrides(overrides).items()))
    for combo in itertools.product(*values):
      cell = Cell(*combo, overrides=frozen, train=train)
      out.setdefault(cell.name, cell)
  if not out:
    raise ValueError(f"table {table.name} has no cells")
  return list(out.values())


def _group_train(table, index: int, train) -> tuple[tuple[str, Any], ...]:
  """A group's ``train`` entry as a hashable tuple (empty when absent)."""
  if not train:
    return ()
  train = dict(train)
  unknown = sorted(set(train) - {"config", "arg", "overrides"})
  if "config" not in train or unknown:
    raise ValueError(f"table {table.name}: grid group {index} 'train' needs "
                     "'config' (and optionally 'arg', 'overrides'); got keys "
                     f"{sorted(train)}")
  return (("arg", str(train.get("arg", "") or "")),
          ("config", str(train["config"])),
          ("overrides", json.dumps(flat_overrides(train.get("overrides", {})),
                                   sort_keys=True)))


def flat_overrides(overrides) -> dict[str, Any]:
  """``{"optim": {"lr": 1}, "seed": 2}`` (or dotted keys) as dotted keys."""
  return config_utils.flatten(dict(_as_plain(overrides) or {}))


def set_dotted(config: ml_collections.ConfigDict, key: str, value) -> None:
  """Sets ``config["a"]["b"] = value`` for ``key="a.b"`` (must exist but the last)."""
  *parents, last = key.split(".")
  node = config
  for part in parents:
    if part not in node:
      raise ValueError(f"override {key!r}: config has no field {part!r}")
    node = node[part]
  node[last] = value


def cell_config(table: ml_collections.ConfigDict, cell: Cell
                ) -> ml_collections.ConfigDict:
  """The ``dws-train`` config of one cell."""
  if cell.train:
    train = dict(cell.train)
    base_overrides = json.loads(train["overrides"])
  else:
    train = {"config": table.train.config, "arg": table.train.get("arg", "")}
    base_overrides = flat_overrides(table.train.get("overrides", {}))
  config = load_config_file(train["config"], train["arg"])
  config.unlock()
  config.model = ml_collections.ConfigDict({"name": cell.model})
  config.aug = cell.aug
  config.seed = cell.seed
  config.data.dir = str(table.dataset.dir)
  config.data.views = cell.views
  config.data.objects = cell.objects
  overrides = dict(base_overrides)
  overrides.update(dict(cell.overrides))
  for key, value in sorted(overrides.items()):
    set_dotted(config, key, value)
  return config


def dataset_config(table: ml_collections.ConfigDict):
  return load_config_file(table.dataset.config, table.dataset.get("arg", ""))


def validate(table: ml_collections.ConfigDict, grid: list[Cell]) -> None:
  """Checks every cell's model and augmentation name before anything runs.

  Raises:
    ValueError: naming the cell and the unknown model or augmentation.
  """
  from dws_jax import augment  # pylint: disable=g-import-not-at-top
  from dws_jax import models  # pylint: disable=g-import-not-at-top
  from dws_jax.data import inr_dataset  # pylint: disable=g-import-not-at-top
  spec = inr_dataset.spec_from_config(dataset_config(table))
  known = set(models.names()) | set(models.aliases())
  for cell in grid:
    if cell.model not in known:
      raise ValueError(f"table {table.name}, cell {cell.name}: unknown model "
                       f"{cell.model!r}; known: {', '.join(sorted(known))}")
    if cell.aug != "none":
      try:
        augment.build(cell.aug, spec, num_classes=10)
      except ValueError as e:
        raise ValueError(f"table {table.name}, cell {cell.name}: bad "
                         f"augmentation {cell.aug!r}: {e}") from e
    if cell.views < 1 or cell.objects < 0 or cell.seed < 0:
      raise ValueError(f"table {table.name}, cell {cell.name}: views must be "
                       ">= 1, objects and seed >= 0")


def config_json(config: ml_collections.ConfigDict) -> dict:
  return config_utils.to_dict(config)


def cells_dir(root: paths.PathLike, table: ml_collections.ConfigDict
              ) -> epath.Path:
  """``ROOT/<cells_dir>``: where the table's cells live (default: its name).

  ``root`` is a local path or a URI (``gs://bucket/tables``).
  """
  return paths.as_path(root) / table.get("cells_dir", table.name)


def cell_dir(root: paths.PathLike, table: ml_collections.ConfigDict,
             cell: Cell) -> epath.Path:
  return cells_dir(root, table) / cell.name
