# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Metrics as JSON lines and TensorBoard event files (no TensorFlow), and plots."""

from __future__ import annotations

import json
import os
from typing import Any, Iterable

METRICS_FILE = "metrics.jsonl"


def read_metrics(workdir: str) -> list[dict[str, Any]]:
  """All records of ``workdir/metrics.jsonl`` (empty list if absent)."""
  path = os.path.join(workdir, METRICS_FILE)
  if not os.path.exists(path):
    return []
  with open(path) as f:
    return [json.loads(line) for line in f if line.strip()]


class MetricWriter:
  """Appends records to ``metrics.jsonl`` and TensorBoard scalars.

  On resume from ``step``, records written after ``step`` (by the run that was
  interrupted) are dropped from the JSON lines, and TensorBoard is told to
  purge them, so the log equals that of an uninterrupted run. A run resumed
  at step 0 starts over, so it drops every record (including those logged at
  step 0, before the first step).
  """

  def __init__(self, workdir: str, resume_step: int = 0, enabled: bool = True):
    self._enabled = enabled
    self._path = os.path.join(workdir, METRICS_FILE)
    self._tb = None
    if not enabled:
      return
    kept = ([r for r in read_metrics(workdir) if r["step"] <= resume_step]
            if resume_step else [])
    tmp = self._path + ".tmp"
    with open(tmp, "w") as f:
      f.writelines(json.dumps(r) + "\n" for r in kept)
    os.replace(tmp, self._path)
    try:
      from tensorboardX import SummaryWriter  # pylint: disable=g-import-not-at-top
      self._tb = SummaryWriter(os.path.join(workdir, "tensorboard"),
                               purge_step=resume_step or None)
    except ImportError:
      self._tb = None

  def write(self, step: int, record: dict[str, Any]) -> None:
    if not self._enabled:
      return
    record = {"step": int(step), **record}
    with open(self._path, "a") as f:
      f.write(json.dumps(record) + "\n")
    if self._tb is not None:
      for key, value in record.items():
        if key != "step" and isinstance(value, (int, float)):
          self._tb.add_scalar(key, value, step)

  def close(self) -> None:
    if self._tb is not None:
      self._tb.close()


def plot_curves(records: Iterable[dict[str, Any]], path: str,
                title: str = "") -> None:
  """Writes a PNG of train/val/test loss and accuracy against epoch."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top

  # Epoch records; some may lack val/test (contrastive runs probe every few).
  epochs = [r for r in records if r.get("epoch") and (
      "val_accuracy" in r or "train_loss" in r)]
  if not any("val_accuracy" in r for r in epochs):
    return
  fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
  for split in ("train", "val", "test"):
    for ax, metric in zip(axes, ("loss", "accuracy")):
      key = f"{split}_{metric}"
      points = [(r["epoch"], r[key]) for r in epochs if key in r]
      if points:
        ax.plot(*zip(*points), label=split)
  for ax, metric in zip(axes, ("loss", "accuracy")):
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.grid(alpha=0.3)
    ax.legend()
  if title:
    fig.suptitle(title)
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)
