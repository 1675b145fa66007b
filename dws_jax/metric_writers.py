# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Metrics as JSON lines and TensorBoard event files (no TensorFlow), and plots.

The workdir may be a URI (``gs://bucket/run``). Object stores cannot append,
so there ``metrics.jsonl`` is rewritten whole: by :meth:`MetricWriter.flush`
(called before every checkpoint, so a resumed run finds every record up to its
checkpoint), at most every :data:`FLUSH_SECONDS` and on close; TensorBoard
event files are uploaded whole the same way (by tensorboardX's periodic flush
and on close).
"""

from __future__ import annotations

import io
import json
import os
import time
from typing import Any, Iterable

from dws_jax import paths

METRICS_FILE = "metrics.jsonl"
# At a URI, the longest time a record waits before metrics.jsonl is rewritten.
FLUSH_SECONDS = 60.0


def read_metrics(workdir: paths.PathLike) -> list[dict[str, Any]]:
  """All records of ``workdir/metrics.jsonl`` (empty list if absent)."""
  path = paths.as_path(workdir) / METRICS_FILE
  if not path.exists():
    return []
  with path.open() as f:
    return [json.loads(line) for line in f if line.strip()]


class _EventFile:
  """A TensorBoard event file at a URI, uploaded whole on every flush."""

  def __init__(self, path: str):
    self._path = paths.as_path(path)
    self._buffer = io.BytesIO()

  def write(self, data: bytes) -> None:
    self._buffer.write(data)

  def flush(self) -> None:
    self._path.write_bytes(self._buffer.getvalue())

  def close(self) -> None:
    self.flush()


class _EventFiles:
  """tensorboardX writer factory that writes event files through epath."""

  def open(self, path: str) -> _EventFile:
    return _EventFile(path)

  def directory_check(self, path: str) -> None:
    paths.as_path(path).mkdir(parents=True, exist_ok=True)


def _use_epath_for_events(logdir: str) -> None:
  """Makes tensorboardX write event files under ``logdir``'s scheme via epath.

  tensorboardX's own ``gs://`` writer needs ``google-cloud-storage`` and knows
  no other scheme; epath handles every scheme a workdir may have.
  """
  from tensorboardX import record_writer  # pylint: disable=g-import-not-at-top
  record_writer.register_writer_factory(paths.scheme(logdir), _EventFiles())


class MetricWriter:
  """Appends records to ``metrics.jsonl`` and TensorBoard scalars.

  On resume from ``step``, records written after ``step`` (by the run that was
  interrupted) are dropped from the JSON lines, and TensorBoard is told to
  purge them, so the log equals that of an uninterrupted run. A run resumed
  at step 0 starts over, so it drops every record (including those logged at
  step 0, before the first step).
  """

  def __init__(self, workdir: paths.PathLike, resume_step: int = 0,
               enabled: bool = True):
    self._enabled = enabled
    self._path = paths.as_path(workdir) / METRICS_FILE
    self._remote = paths.is_uri(workdir)
    self._lines: list[str] = []  # at a URI: every line of metrics.jsonl
    self._flushed = time.monotonic()
    self._tb = None
    if not enabled:
      return
    kept = ([r for r in read_metrics(workdir) if r["step"] <= resume_step]
            if resume_step else [])
    self._lines = [json.dumps(r) + "\n" for r in kept]
    paths.write_atomic(self._path, "".join(self._lines))
    if not self._remote:
      self._lines = []
    logdir = os.fspath(paths.as_path(workdir) / "tensorboard")
    try:
      from tensorboardX import SummaryWriter  # pylint: disable=g-import-not-at-top
      if self._remote:
        _use_epath_for_events(logdir)
      self._tb = SummaryWriter(logdir, purge_step=resume_step or None)
    except ImportError:
      self._tb = None

  def write(self, step: int, record: dict[str, Any]) -> None:
    if not self._enabled:
      return
    record = {"step": int(step), **record}
    line = json.dumps(record) + "\n"
    if self._remote:
      self._lines.append(line)
      if time.monotonic() - self._flushed >= FLUSH_SECONDS:
        self.flush()
    else:
      with open(self._path, "a") as f:
        f.write(line)
    if self._tb is not None:
      for key, value in record.items():
        if key != "step" and isinstance(value, (int, float)):
          self._tb.add_scalar(key, value, step)

  def flush(self) -> None:
    """Makes every record written so far durable (a no-op on a local disk)."""
    if self._enabled and self._remote:
      paths.write_atomic(self._path, "".join(self._lines))
      self._flushed = time.monotonic()

  def close(self) -> None:
    self.flush()
    if self._tb is not None:
      self._tb.close()


def plot_curves(records: Iterable[dict[str, Any]], path: paths.PathLike,
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
  paths.save_figure(fig, path, dpi=100)
  plt.close(fig)
