# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Real 3-D furniture models of the Debian package ``sweethome3d-furniture``.

The package installs five Sweet Home 3D furniture catalogues
(``/usr/share/sweethome3d/furniture/*.sh3f``, or ``data_dir``, or
``$DWS_FURNITURE_DIR``): zip files holding 820 real, hand-made ``.obj``
models, each listed in ``PluginFurnitureCatalog.properties`` with a name and
a catalogue category (CC-0 / CC-BY, see the package's copyright file).

Labels are the catalogue categories with at least 30 models, less
``Miscellaneous`` (a mix of everything) and the 2 staircases: 9 classes, 644
models: Bathroom 50, Bedroom 72, Characters 37, Doors and windows 35,
Exterior 100, Kitchen 127, Lights 34, Living room 147, Office 42.

Fixed split: the models of each class, ordered by
``numpy.random.default_rng(0).permutation`` of all kept models sorted by
``<catalogue>:<model path>``: the first 15% (rounded) val, the next 20% test,
the rest train: 420 train / 97 val / 127 test. Shapes become occupancy
signals as described in :mod:`dws_jax.data.shapes`.
"""

from __future__ import annotations

import functools
import os
import pathlib
import zipfile

import numpy as np

from dws_jax.data import shapes
from dws_jax.data import sources

DEFAULT_DIR = "/usr/share/sweethome3d/furniture"
INSTALL_HINT = ("install it with: sudo apt-get update && sudo apt-get install -y "
                "sweethome3d-furniture (or pass the directory holding the .sh3f "
                "catalogues as data_dir, or set DWS_FURNITURE_DIR)")
CLASS_NAMES = ("Bathroom", "Bedroom", "Characters", "Doors and windows",
               "Exterior", "Kitchen", "Lights", "Living room", "Office")
FRACTIONS = (0.15, 0.2, 0.65)  # val, test, train per class
CATALOG_FILE = "PluginFurnitureCatalog.properties"


def default_dir() -> str:
  return os.environ.get("DWS_FURNITURE_DIR", DEFAULT_DIR)


def parse_properties(text: str) -> dict[str, str]:
  """Parses a Java ``.properties`` text (``key=value``, ``\\uXXXX`` escapes)."""
  out, pending = {}, ""
  for line in text.splitlines():
    line = pending + line.lstrip()
    pending = ""
    if line.endswith("\\") and not line.endswith("\\\\"):
      pending = line[:-1]
      continue
    if not line or line[0] in "#!":
      continue
    cut = min([i for i in (line.find("="), line.find(":")) if i >= 0],
              default=-1)
    if cut < 0:
      continue
    key, value = line[:cut].strip(), line[cut + 1:].strip()
    try:
      value = value.encode("latin-1", "backslashreplace").decode("unicode_escape")
    except UnicodeDecodeError:
      pass
    out[key] = value
  return out


def catalog_entries(directory: str | os.PathLike
                    ) -> list[tuple[str, str, str, str]]:
  """Every model of the catalogues in ``directory``, sorted.

  Returns:
    ``[(catalogue_path, model_path_in_zip, category, name)]`` sorted by
    catalogue file name then model path.

  Raises:
    FileNotFoundError / ValueError naming the file and the package.
  """
  directory = pathlib.Path(directory)
  if not directory.is_dir():
    raise FileNotFoundError(f"furniture directory {directory} does not exist; "
                            f"{INSTALL_HINT}")
  catalogs = sorted(directory.glob("*.sh3f"))
  if not catalogs:
    raise FileNotFoundError(f"no .sh3f furniture catalogues in {directory}; "
                            f"{INSTALL_HINT}")
  entries = []
  for path in catalogs:
    try:
      with zipfile.ZipFile(path) as z:
        props = parse_properties(z.read(CATALOG_FILE).decode("latin-1"))
    except (zipfile.BadZipFile, KeyError, OSError) as e:
      raise ValueError(f"cannot read furniture catalogue {path} ({e}); "
                       f"{INSTALL_HINT}") from e
    for key, model in props.items():
      if not key.startswith("model#"):
        continue
      n = key.split("#", 1)[1]
      entries.append((str(path), model.lstrip("/"),
                      props.get(f"category#{n}", ""), props.get(f"name#{n}", "")))
  return sorted(entries, key=lambda e: (pathlib.Path(e[0]).name, e[1]))


@functools.lru_cache(maxsize=8)
def _open_zip(path: str) -> zipfile.ZipFile:
  return zipfile.ZipFile(path)


def load_split(split: str, data_dir: str | None, options) -> shapes.ShapeObjects:
  """The models of ``"train"``, ``"val"`` or ``"test"`` (module doc)."""
  sources.check_split(split)
  entries = [e for e in catalog_entries(data_dir or default_dir())
             if e[2] in CLASS_NAMES]
  labels = np.asarray([CLASS_NAMES.index(e[2]) for e in entries], np.int32)
  val, test, train = sources.fraction_split(labels, FRACTIONS, 0)
  idx = {"train": train, "val": val, "test": test}[split]
  chosen = [entries[i] for i in idx]

  def read(i: int) -> bytes:
    path, model = chosen[i][:2]
    try:
      return _open_zip(path).read(model)
    except (KeyError, zipfile.BadZipFile) as e:
      raise OSError(f"{path}: {e}") from e

  keys = [f"{pathlib.Path(e[0]).name}:{e[1]}" for e in chosen]
  types = [e[1].rsplit(".", 1)[-1].lower() for e in chosen]
  return shapes.ShapeObjects(keys, read, types, labels[idx],
                             shapes.ShapeOptions.from_config(options), INSTALL_HINT)


SOURCES = {"furniture": sources.Source(
    name="furniture", kind="shape", input_dim=3, output_dim=1,
    class_names=CLASS_NAMES, load=load_split, default_dir=default_dir,
    split_rule=__doc__.strip() + "\n\n" + shapes.__doc__.strip(),
    value_range="occupancy in {0, 1} at sampled points (dws_jax.data.shapes)")}
