# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tables from finished cells: mean +- std over seeds, never typed in.

Cells that differ only in their seed form one *group*; a group's statistics
are over its finished cells (sample std, ``ddof=1``). Unfinished cells are
counted as missing and shown so, never as zeros. Outputs:
``results/tables/<name>.md`` (the table, the scale, seeds, wall time and the
command), ``.csv`` (one line per group and metric; no timings, so a resumed sweep
writes the same bytes as an uninterrupted one) and ``.json`` (every cell).
"""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any, Sequence

from etils import epath
import ml_collections
import numpy as np

from dws_jax import paths
from dws_jax import train
from dws_jax.tables import grid as grid_lib
from dws_jax.tables import sweep

METRIC_NAMES = {
    "test_accuracy_at_best_val": "test acc",
    "best_val_accuracy": "val acc",
    "final_train_accuracy": "final train acc",
    "final_test_accuracy": "final test acc",
    "final_train_loss": "final train loss",
    "final_test_loss": "final test loss",
    "heldout_view_accuracy_at_best_val": "held-out view acc (internal)",
    "final_heldout_view_accuracy": "final held-out view acc",
    "probe_test_accuracy": "probe test acc",
    "probe_val_accuracy": "probe val acc",
    "knn_test_accuracy": "k-NN test acc",
    "knn_val_accuracy": "k-NN val acc",
    "init_probe_test_accuracy": "random-encoder probe test acc",
    "init_knn_test_accuracy": "random-encoder k-NN test acc",
}


def _md(text: str) -> str:
  """``text`` safe inside a Markdown table cell (augmentations use ``|``)."""
  return text.replace("|", "\\|")


def group_key(cell: grid_lib.Cell, axes: Sequence[str]) -> tuple:
  return tuple(cell.axis(a) for a in axes)


def _label(values: tuple, axes: Sequence[str]) -> str:
  parts = []
  for axis, value in zip(axes, values):
    if axis == "views":
      parts.append(f"{value} view{'s' if value != 1 else ''}")
    elif axis == "train":
      parts.append(f"trained by {value}" if value else "")
    elif axis == "objects":
      parts.append("all objects" if value == 0 else f"{value} objects")
    else:
      parts.append(str(value))
  return ", ".join(p for p in parts if p)


def stats(values: Sequence[float]) -> dict[str, Any]:
  """Mean, sample std (ddof=1; 0 for one value) and count; NaN mean if empty."""
  arr = np.asarray([v for v in values if v is not None], np.float64)
  if arr.size == 0:
    return {"mean": math.nan, "std": math.nan, "n": 0}
  return {"mean": float(arr.mean()),
          "std": float(arr.std(ddof=1)) if arr.size > 1 else 0.0,
          "n": int(arr.size)}


def collect(root, table, cells: list[grid_lib.Cell]) -> list[dict[str, Any]]:
  """One record per cell: axes, state, summary (None unless done), wall time."""
  out = []
  for cell in cells:
    st = sweep.state_of(root, table, cell)
    summary = None
    if st.state == "done":
      summary = json.loads((grid_lib.cell_dir(root, table, cell) /
                            train.SUMMARY_FILE).read_text())
    out.append({"cell": cell, "state": st.state, "summary": summary,
                "wall_seconds": st.wall_seconds})
  return out


def _check_axes(table, cells, rows, columns) -> None:
  varying = [a for a in grid_lib.AXES if a != "seed"
             and len({c.axis(a) for c in cells}) > 1]
  if len({c.overrides for c in cells}) > 1:
    varying.append("overrides")
  if len({c.train for c in cells}) > 1:
    varying.append("train")
  missing = [a for a in varying if a not in rows and a not in columns]
  if missing:
    raise ValueError(f"table {table.name}: axis {', '.join(missing)} varies "
                     "across cells but is neither in aggregate.rows nor in "
                     "aggregate.columns")


def summarize(table, records: list[dict[str, Any]]) -> dict[str, Any]:
  """Groups records by row and column and computes each metric's statistics.

  Returns:
    ``{"rows": [labels], "columns": [labels], "cells": {(row, col):
    {"metrics": {metric: stats}, "expected": seeds, "wall_mean": s}}}``.
  """
  agg = table.aggregate
  rows = tuple(agg.rows)
  metrics = tuple(agg.metrics)
  by_metric = tuple(agg.columns) == ("metric",)
  columns = () if by_metric else tuple(agg.columns)
  known = [a for a in grid_lib.AXES if a != "seed"] + ["train"]
  bad = [a for a in rows + columns if a not in known]
  if bad:
    raise ValueError(f"table {table.name}: aggregate axes {bad} unknown; use "
                     f"{known} or columns=('metric',)")
  cells = [r["cell"] for r in records]
  _check_axes(table, cells, rows, columns)
  row_keys = list(dict.fromkeys(group_key(c, rows) for c in cells))
  col_keys = list(dict.fromkeys(group_key(c, columns) for c in cells))
  groups: dict[tuple, list[dict]] = {}
  for r in records:
    key = (group_key(r["cell"], rows), group_key(r["cell"], columns))
    groups.setdefault(key, []).append(r)
  out = {}
  for key, members in groups.items():
    done = [m for m in members if m["summary"] is not None]
    out[key] = {
        "metrics": {m: stats([d["summary"].get(m) for d in done]) | {
            "values": [d["summary"].get(m) for d in done],
            "seeds": [d["cell"].seed for d in done], "done": len(done)}
                    for m in metrics},
        "expected": len(members),
        "wall_mean": float(np.mean([d["wall_seconds"] for d in done]))
                     if done else math.nan,
    }
  return {"rows": row_keys, "columns": col_keys, "row_axes": rows,
          "column_axes": columns, "by_metric": by_metric, "metrics": metrics,
          "groups": out}


def _fmt(st: dict[str, Any], expected: int, percent: bool) -> str:
  if st["n"] == 0 and st.get("done", 0) > 0:
    return "n/a"  # Finished cells that do not report this metric.
  if st["n"] == 0:
    return f"missing (0/{expected})"
  scale = 100.0 if percent else 1.0
  digits = 1 if percent else 3
  text = f"{st['mean'] * scale:.{digits}f} ± {st['std'] * scale:.{digits}f}"
  return text + (f" ({st['n']}/{expected})" if st["n"] != expected else "")


def _is_accuracy(metric: str) -> bool:
  return "accuracy" in metric


def markdown(table, result: dict[str, Any], records) -> str:
  """The table as Markdown with its scale, seeds, wall time and command."""
  groups, metrics = result["groups"], result["metrics"]
  row_head = ", ".join(result["row_axes"]) or "cell"
  if result["by_metric"]:
    heads = [_md(METRIC_NAMES.get(m, m)) for m in metrics]
    cols = [((), m) for m in metrics]
  else:
    heads = [_md(_label(c, result["column_axes"]) or METRIC_NAMES.get(
        metrics[0], metrics[0])) for c in result["columns"]]
    cols = [(c, metrics[0]) for c in result["columns"]]
  lines = [f"| {row_head} | " + " | ".join(heads) + " | wall per cell |",
           "|---" * (len(heads) + 2) + "|"]
  for row in result["rows"]:
    cells, walls = [], []
    for col, metric in cols:
      g = groups.get((row, col))
      if g is None:
        cells.append("")
        continue
      cells.append(_fmt(g["metrics"][metric], g["expected"], _is_accuracy(metric)))
      walls.append(g["wall_mean"])
    walls = [w for w in walls if not math.isnan(w)]
    wall = f"{np.mean(walls) / 60:.1f} min" if walls else "-"
    lines.append(f"| {_md(_label(row, result['row_axes']))} | " + " | ".join(cells)
                 + f" | {wall} |")
  done = [r for r in records if r["summary"] is not None]
  seeds = sorted({r["cell"].seed for r in records})
  total_wall = sum(r["wall_seconds"] for r in records)
  metric_text = ("" if result["by_metric"] else
                 f"{METRIC_NAMES.get(metrics[0], metrics[0])}, ")
  accuracy_text = ("in %, " if any(_is_accuracy(m) for m in metrics) else "")
  parts = [
      f"**{table.get('title', table.name)}** (scale `{table.get('scale', '?')}`)",
      "",
      *lines,
      "",
      f"{metric_text}{accuracy_text}mean ± std over seeds {seeds} "
      "(sample std; `(k/n)`: only k of n seeds finished). "
      f"{len(done)}/{len(records)} cells finished, "
      f"{total_wall / 3600:.2f} CPU-wall hours in all.",
  ]
  if table.get("notes"):
    parts += ["", table.notes.strip()]
  if table.get("command"):
    parts += ["", f"Command: `{table.command}`"]
  return "\n".join(parts) + "\n"


def csv_text(table, result) -> str:
  buf = io.StringIO()
  writer = csv.writer(buf, lineterminator="\n")
  writer.writerow(["table", "row", "column", "metric", "mean", "std", "n",
                   "expected", "seeds", "values"])
  for (row, col), g in result["groups"].items():
    for metric, st in g["metrics"].items():
      writer.writerow([
          table.name, _label(row, result["row_axes"]),
          _label(col, result["column_axes"]), metric,
          f"{st['mean']:.6f}", f"{st['std']:.6f}", st["n"], g["expected"],
          ";".join(map(str, st["seeds"])),
          ";".join(f"{v:.6f}" for v in st["values"] if v is not None)])
  return buf.getvalue()


def json_record(table, result, records) -> dict[str, Any]:
  return {
      "table": table.name, "title": table.get("title", ""),
      "scale": table.get("scale", ""), "command": table.get("command", ""),
      "groups": [{"row": _label(r, result["row_axes"]),
                  "column": _label(c, result["column_axes"]),
                  "expected": g["expected"], "wall_mean_s": g["wall_mean"],
                  "metrics": g["metrics"]}
                 for (r, c), g in result["groups"].items()],
      "cells": [{"name": r["cell"].name, "model": r["cell"].model,
                 "aug": r["cell"].aug, "views": r["cell"].views,
                 "objects": r["cell"].objects, "seed": r["cell"].seed,
                 "state": r["state"], "wall_seconds": r["wall_seconds"],
                 "summary": r["summary"]} for r in records],
  }


def write(table: ml_collections.ConfigDict, root, cells, results_dir
          ) -> dict[str, epath.Path]:
  """Writes ``<results_dir>/<name>.{md,csv,json}`` and the table's figures.

  ``root`` and ``results_dir`` are local paths or URIs (``gs://...``).
  """
  from dws_jax.tables import figures  # pylint: disable=g-import-not-at-top
  records = collect(root, table, cells)
  result = summarize(table, records)
  results_dir = paths.as_path(results_dir)
  results_dir.mkdir(parents=True, exist_ok=True)
  md = markdown(table, result, records)
  extra = figures.make_all(table, root, records, result, results_dir)
  if extra["markdown"]:
    md += "\n" + extra["markdown"]
  outputs = {ext: results_dir / f"{table.name}.{ext}"
             for ext in ("md", "csv", "json")}
  paths.write_atomic(outputs["md"], md)
  paths.write_atomic(outputs["csv"], csv_text(table, result))
  paths.write_atomic(outputs["json"], json.dumps(
      json_record(table, result, records), indent=1, default=float) + "\n")
  return {**outputs,
          **{f"figure:{i}": p for i, p in enumerate(extra["paths"])}}
