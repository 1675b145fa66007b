# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The augmentations table on another INR dataset (imported by path).

Every augmentation family and MixUp variant of the Fashion-MNIST main table
(``fmnist_augmentations.AUGS``), DWSNet, 1 view, 3 seeds, on the INR dataset
a table config names. Not a table itself.
"""

import ml_collections

from dws_jax import config_utils

def augmentation_table(name: str, title: str, scale: str, scales: dict,
                       dataset: dict, train_overrides: dict
                       ) -> ml_collections.ConfigDict:
  """The augmentations table of one dataset at one scale.

  Args:
    name: table config stem (``configs/tables/<name>.py``).
    title: the table's title.
    scale: the scale asked for.
    scales: ``{scale: why it exists}``; any other scale is refused.
    dataset: the ``dataset`` entry (``config``, ``arg``, ``dir``,
      ``train_objects``).
    train_overrides: ``dws-train`` overrides of ``configs/fmnist_dwsnet.py``
      at this scale (every cell the same).
  """
  if scale not in scales:
    why = "; ".join(f"{k}: {v}" for k, v in scales.items())
    raise ValueError(f"{name}: scale={scale!r}; expected one of "
                     f"{tuple(scales)} ({why})")
  augs = config_utils.load_sibling(__file__, "fmnist_augmentations").AUGS
  seeds = config_utils.load_sibling(__file__, "_fmnist").SEEDS
  c = ml_collections.ConfigDict()
  c.name = f"{name}_{scale}"
  c.title = title
  c.scale = scale
  c.command = f"dws-tables --config configs/tables/{name}.py:scale={scale}"
  c.cells_dir = c.name
  c.dataset = ml_collections.ConfigDict(dataset)
  c.train = ml_collections.ConfigDict({
      "config": "configs/fmnist_dwsnet.py", "arg": "",
      "overrides": train_overrides})
  c.grid = [{"model": ["dwsnet"], "aug": list(augs), "views": [1],
             "seed": list(seeds)}]
  c.aggregate = ml_collections.ConfigDict({
      "rows": ("aug",), "columns": ("metric",),
      "metrics": ("test_accuracy_at_best_val", "best_val_accuracy",
                  "final_train_accuracy")})
  c.figures = [{"kind": "bar", "metric": "test_accuracy_at_best_val"}]
  return c


def paper_protocol_table(name: str, title: str, arg: str | None,
                         inr_config: str, inr_dir: str, train_objects: int
                         ) -> ml_collections.ConfigDict:
  """:func:`augmentation_table` at ``scale=full`` with the paper's protocol.

  ``arg`` takes ``scale`` (full only) and ``data_dir`` (the dataset's official
  files, passed to ``inr_config``; empty: its default).
  """
  arg = config_utils.parse_arg(arg, scale="full", data_dir="")
  return augmentation_table(
      name, title, arg.scale,
      {"full": "the paper's protocol, on an accelerator"},
      {"config": inr_config,
       "arg": f"data_dir={arg.data_dir}" if arg.data_dir else "",
       "dir": inr_dir, "train_objects": train_objects},
      {})
