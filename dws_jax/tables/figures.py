# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Figures of a table, made from its finished cells.

A table config's ``figures`` is a list of specs, each with a ``kind``:

* ``"bar"``: ``metric`` per row, one bar per column, std as error bars.
* ``"views"``: ``metric`` against the number of training views (log x) for
  the cells with ``aug == baseline``, and every other augmentation's 1-view
  result as a horizontal line; the "equivalent number of views" of each
  augmentation (where the baseline curve, linear in log views, reaches it) is
  added to the Markdown output.
* ``"curves"``: per-epoch ``train_*`` / ``test_*`` (and ``heldout_view_*``)
  loss and accuracy of the cells matching each entry of ``select`` (a list of
  ``[label, {axis: value}]``), averaged over seeds.

Images go to ``results_dir/<table>-<kind>.png``; the Markdown links them by
their repository-relative path, so the README block shows them (by their
name, relative to the Markdown file, when ``results_dir`` is elsewhere or a
URI).
"""

from __future__ import annotations

import math
import os
import pathlib
from typing import Any

import numpy as np

from dws_jax import metric_writers
from dws_jax import paths
from dws_jax.tables import grid as grid_lib


def _plt():
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  return plt


def _values(records, metric, **axes) -> list[float]:
  return [r["summary"][metric] for r in records if r["summary"] is not None
          and r["summary"].get(metric) is not None
          and all(r["cell"].axis(a) == v for a, v in axes.items())]


def equivalent_views(views: np.ndarray, accuracy: np.ndarray, target: float
                     ) -> float | None:
  """Views at which the piecewise-linear (in log views) curve reaches ``target``.

  Returns None when ``target`` lies outside the curve's range (the caller
  reports it as below the first or above the last point). With a curve that
  is not monotone, the first crossing counts.
  """
  order = np.argsort(views)
  x, y = np.log(np.asarray(views, np.float64)[order]), np.asarray(
      accuracy, np.float64)[order]
  for i in range(len(x) - 1):
    lo, hi = y[i], y[i + 1]
    if min(lo, hi) <= target <= max(lo, hi) and hi != lo:
      return float(np.exp(x[i] + (target - lo) / (hi - lo) * (x[i + 1] - x[i])))
    if lo == hi == target:
      return float(np.exp(x[i]))
  return None


def _views_figure(table, records, spec, path):
  metric, baseline = spec.get("metric", "test_accuracy_at_best_val"), spec.get(
      "baseline", "none")
  model = spec.get("model", "dwsnet")
  points = sorted({r["cell"].views for r in records
                   if r["cell"].aug == baseline and r["cell"].model == model})
  curve = [(v, _values(records, metric, aug=baseline, views=v, model=model))
           for v in points]
  curve = [(v, vals) for v, vals in curve if vals]
  others = sorted({r["cell"].aug for r in records if r["cell"].aug != baseline
                   and r["cell"].views == 1 and r["cell"].model == model})
  plt = _plt()
  fig, ax = plt.subplots(figsize=(6.4, 4.2))
  lines = []
  if curve:
    xs = np.array([v for v, _ in curve], np.float64)
    ys = np.array([np.mean(vals) for _, vals in curve])
    es = np.array([np.std(vals, ddof=1) if len(vals) > 1 else 0 for _, vals in
                   curve])
    ax.errorbar(xs, 100 * ys, yerr=100 * es, marker="o", color="k", capsize=3,
                label=f"{baseline}, k views")
  cmap = plt.get_cmap("tab10")
  for i, aug in enumerate(others):
    vals = _values(records, metric, aug=aug, views=1, model=model)
    if not vals:
      continue
    mean = float(np.mean(vals))
    ax.axhline(100 * mean, ls="--", color=cmap(i % 10), lw=1.2,
               label=f"{aug}, 1 view")
    eq = equivalent_views(xs, ys, mean) if len(curve) >= 2 else None
    if eq is not None:
      text = f"{eq:.1f}"
    elif curve and mean < ys.min():
      text = f"< {int(xs[np.argmin(ys)])} (below every point of the curve)"
    elif curve and mean > ys.max():
      text = f"> {int(xs[np.argmax(ys)])} (above every point of the curve)"
    else:
      text = "?"
    lines.append(f"| {aug} | {100 * mean:.1f} | {text} |")
  ax.set_xscale("log")
  if curve:
    ax.set_xticks(xs, [str(int(v)) for v in xs])
  ax.set_xlabel("training views per object (no augmentation)")
  ax.set_ylabel("test accuracy (%)")
  ax.grid(alpha=0.3)
  if ax.get_legend_handles_labels()[0]:
    ax.legend(fontsize=7, loc="lower right")
  ax.set_title(table.get("title", table.name), fontsize=9)
  fig.tight_layout()
  paths.save_figure(fig, path, dpi=110)
  plt.close(fig)
  md = ""
  if lines:
    md = ("Equivalent number of views (where the no-augmentation curve, linear "
          "in log views, reaches each 1-view augmented accuracy):\n\n"
          "| augmentation (1 view) | test acc | equivalent views |\n|---|---|---|\n"
          + "\n".join(lines) + "\n")
  return md


def _bar_figure(table, records, result, spec, path):
  metric = spec.get("metric", result["metrics"][0])
  rows, cols = result["rows"], result["columns"]
  plt = _plt()
  fig, ax = plt.subplots(figsize=(max(6.0, 0.5 * len(rows) * max(1, len(cols))),
                                  4.0))
  width = 0.8 / max(1, len(cols))
  for j, col in enumerate(cols):
    means, errs = [], []
    for row in rows:
      g = result["groups"].get((row, col))
      st = g["metrics"][metric] if g else {"n": 0}
      means.append(100 * st["mean"] if st["n"] else math.nan)
      errs.append(100 * st["std"] if st["n"] else 0)
    ax.bar(np.arange(len(rows)) + j * width, means, width, yerr=errs, capsize=2,
           label=", ".join(map(str, col)) or None)
  ax.set_xticks(np.arange(len(rows)) + width * (len(cols) - 1) / 2,
                [", ".join(map(str, r)) for r in rows], rotation=45, ha="right",
                fontsize=8)
  ax.set_ylabel("test accuracy (%)")
  ax.grid(axis="y", alpha=0.3)
  if any(cols):
    ax.legend(fontsize=8)
  ax.set_title(table.get("title", table.name), fontsize=9)
  fig.tight_layout()
  paths.save_figure(fig, path, dpi=110)
  plt.close(fig)
  return ""


def _curves_figure(table, root, records, spec, path):
  plt = _plt()
  fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
  cmap = plt.get_cmap("tab10")
  for i, (label, where) in enumerate(spec["select"]):
    runs = [metric_writers.read_metrics(str(grid_lib.cell_dir(root, table,
                                                              r["cell"])))
            for r in records if r["summary"] is not None
            and all(r["cell"].axis(a) == v for a, v in dict(where).items())]
    runs = [[e for e in run if "val_accuracy" in e] for run in runs]
    runs = [run for run in runs if run]
    if not runs:
      continue
    length = min(len(run) for run in runs)
    epochs = np.array([e["epoch"] for e in runs[0][:length]])
    for ax, metric in zip(axes, ("loss", "accuracy")):
      for split, style in (("train", "-"), ("test", "--"),
                           ("heldout_view", ":")):
        key = f"{split}_{metric}"
        if key not in runs[0][0]:
          continue
        y = np.mean([[e[key] for e in run[:length]] for run in runs], axis=0)
        ax.plot(epochs, y, style, color=cmap(i % 10),
                label=f"{label}: {split.replace('_', ' ')}")
  for ax, metric in zip(axes, ("loss", "accuracy")):
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
      ax.legend(fontsize=7)
  fig.suptitle(table.get("title", table.name), fontsize=9)
  fig.tight_layout()
  paths.save_figure(fig, path, dpi=110)
  plt.close(fig)
  return ""


def make_all(table, root, records, result, results_dir) -> dict[str, Any]:
  """Draws every figure of ``table.figures``; returns Markdown and paths."""
  md, figure_paths = [], []
  for spec in table.get("figures", None) or []:
    spec = dict(spec.to_dict() if hasattr(spec, "to_dict") else spec)
    kind = spec.get("kind")
    path = paths.as_path(results_dir) / f"{table.name}-{kind}.png"
    if kind == "views":
      text = _views_figure(table, records, spec, path)
    elif kind == "bar":
      text = _bar_figure(table, records, result, spec, path)
    elif kind == "curves":
      text = _curves_figure(table, root, records, spec, path)
    else:
      raise ValueError(f"table {table.name}: unknown figure kind {kind!r}; "
                       "expected bar, views or curves")
    figure_paths.append(path)
    shown = _shown_path(path, results_dir)
    md.append(f"![{table.name} {kind}]({shown.as_posix()})\n")
    if text:
      md.append(text)
  return {"markdown": "\n".join(md), "paths": figure_paths}


def _shown_path(path, results_dir) -> pathlib.PurePath:
  """A figure's link: repository-relative, else relative to ``results_dir``."""
  if paths.is_uri(path):
    return pathlib.PurePosixPath(path.name)
  try:
    return pathlib.Path(path).resolve().relative_to(grid_lib.REPO)
  except ValueError:
    return pathlib.Path(os.path.relpath(path, pathlib.Path(results_dir)))
