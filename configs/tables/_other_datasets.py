# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The augmentations table on another INR dataset (imported by path).

Every augmentation family and MixUp variant of the Fashion-MNIST main table
(``fmnist_augmentations.AUGS``), DWSNet, 1 view, 3 seeds, on the INR dataset
a table config names. Not a table itself.
"""

import ml_collections

from dws_jax import config_utils

SEEDS = (0, 1, 2)


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
    raise ValueError(f"{name}: scale={scale!r}; expected one of "
                     f"{tuple(scales)} ({'; '.join(f'{k}: {v}' for k, v in scales.items())})")
  augs = config_utils.load_sibling(__file__, "fmnist_augmentations").AUGS
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
             "seed": list(SEEDS)}]
  c.aggregate = ml_collections.ConfigDict({
      "rows": ("aug",), "columns": ("metric",),
      "metrics": ("test_accuracy_at_best_val", "best_val_accuracy",
                  "final_train_accuracy")})
  c.figures = [{"kind": "bar", "metric": "test_accuracy_at_best_val"}]
  return c
