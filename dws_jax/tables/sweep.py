# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Runs the cells of a table, each an ordinary ``dws-train`` run.

Cell ``c`` of table ``t`` trains in ``ROOT/<cells_dir of t>/c`` with
:func:`dws_jax.train.train_and_evaluate`, so a cell is resumable and
inspectable on its own. Its state is read from disk:

* ``done``: ``summary.json`` present and ``config.json`` equal to the cell's
  config; skipped.
* ``partial``: same config, checkpoints up to some step, no summary; resumed.
* ``stale``: ``config.json`` differs from the cell's config (the table config
  changed); reported and never reused. ``rerun_stale=True`` deletes and
  reruns it.
* ``todo``: nothing there yet.

``ROOT/<cells_dir>/table.json`` records which cells and dataset the
directory holds; a root whose directory holds another table's cells is
refused before anything is written. Every process of a multi-host run takes process 0's decisions.

Several single-process sweeps may share one directory (e.g. two on a
2-core machine, or two tables sharing cells): a sweep claims a cell before
training it (``<cell>.claim``, created exclusively, holding its pid and
host) and skips cells another live sweep holds; a claim left by a dead
process on this host is taken over.

``ROOT`` may be a URI (``gs://bucket/tables``). Object stores have no
exclusive create, so there a claim is best effort: a sweep writes its claim
when none is there, reads it back and trains only if it reads its own. This
keeps sweeps started at different times apart, but two that claim the same
cell within the same moment may both train it in one workdir, which can fail
or mix their checkpoints: at a URI, run one sweep per table (or give
concurrent sweeps disjoint ``--only`` sets). As on a local disk, a claim held
by another host is never taken over; delete its ``.claim`` file by hand if
that host is gone.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import os
import pathlib
import socket
import time
from typing import Iterable

from etils import epath
import ml_collections

from dws_jax import checkpointing
from dws_jax import config_utils
from dws_jax import paths
from dws_jax import train
from dws_jax.tables import grid as grid_lib

TABLE_FILE = "table.json"
CLAIM_SUFFIX = ".claim"
WALL_FILE = "wall.json"
STATES = ("done", "partial", "stale", "todo")


@dataclasses.dataclass
class CellState:
  """What is on disk for one cell."""

  cell: grid_lib.Cell
  state: str
  step: int = 0
  total_steps: int = 0
  wall_seconds: float = 0.0
  diff: str = ""
  batch: int = 0


def _read_json(path: paths.PathLike):
  try:
    return json.loads(paths.as_path(path).read_text())
  except (OSError, ValueError):
    return None


def check_root(root: paths.PathLike, table: ml_collections.ConfigDict,
               write: bool) -> epath.Path:
  """``ROOT/<cells_dir>``; refuses one that holds another table's cells.

  Raises:
    ValueError: ``ROOT/<cells_dir>/table.json`` names other cells or another
      dataset, or the directory has files but no ``table.json``.
  """
  base = grid_lib.cells_dir(root, table)
  marker = base / TABLE_FILE
  want = {"cells": base.name, "dataset": str(table.dataset.dir)}
  if marker.exists():
    have = _read_json(marker)
    if have != want:
      raise ValueError(
          f"{base} holds the cells of another table ({have}), not of "
          f"{want}; use another --root. Nothing was changed.")
  elif base.exists() and any(base.iterdir()):
    raise ValueError(f"{base} exists, is not empty and has no {TABLE_FILE}: it "
                     "is not a dws-tables directory; use another --root. "
                     "Nothing was changed.")
  if write:
    base.mkdir(parents=True, exist_ok=True)
    paths.write_atomic(marker, json.dumps(want, indent=1) + "\n")
  return base


def num_train(cell: grid_lib.Cell, train_objects: int | None) -> int | None:
  """Train INRs of a cell, given the dataset's number of train objects."""
  if train_objects is None:
    return None
  objects = min(cell.objects, train_objects) if cell.objects else train_objects
  return objects * cell.views


def total_steps(config, num: int | None) -> int:
  """Training steps of a run of ``config`` on ``num`` train INRs (0 if unknown)."""
  if num is None:
    return 0
  per_epoch = config.get("epoch_steps", 0) or num // config.batch_size
  return per_epoch * config.num_epochs


def state_of(root, table, cell: grid_lib.Cell, config=None,
             train_objects: int | None = None) -> CellState:
  """Reads the state of one cell from ``ROOT/<table>/<cell>``."""
  config = config or grid_lib.cell_config(table, cell)
  workdir = grid_lib.cell_dir(root, table, cell)
  wall = (_read_json(workdir / WALL_FILE) or {}).get("seconds", 0.0)
  total = total_steps(config, num_train(cell, train_objects))
  saved = _read_json(workdir / train.CONFIG_FILE)
  if saved is None:
    return CellState(cell, "todo", total_steps=total, batch=config.batch_size)
  current = grid_lib.config_json(config)
  keys = config_utils.config_diff(saved, current)
  if keys:
    old, new = config_utils.flatten(saved), config_utils.flatten(current)
    diff = ", ".join(f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in keys[:4])
    return CellState(cell, "stale", wall_seconds=wall, total_steps=total,
                     diff=diff, batch=config.batch_size)
  summary = _read_json(workdir / train.SUMMARY_FILE)
  if summary is not None:
    # A sweep killed mid-cell never adds its part to wall.json; the run's own
    # train time (kept in its checkpoints) bounds the wall time from below.
    wall = max(wall, summary.get("train_seconds") or 0.0)
    return CellState(cell, "done", step=summary["steps"],
                     total_steps=summary["steps"], wall_seconds=wall,
                     batch=config.batch_size)
  step = checkpointing.Checkpointer(
      str(workdir / "checkpoints")).latest_step() or 0
  return CellState(cell, "partial" if step else "todo", step=step,
                   total_steps=total, wall_seconds=wall,
                   batch=config.batch_size)


def select(cells: Iterable[grid_lib.Cell], only: str | None
           ) -> list[grid_lib.Cell]:
  """Cells whose name matches the glob ``only`` (all when None)."""
  cells = list(cells)
  if not only:
    return cells
  patterns = [p for p in only.split(",") if p]
  return [c for c in cells
          if any(fnmatch.fnmatchcase(c.name, p if any(ch in p for ch in "*?[")
                                     else f"*{p}*") for p in patterns)]


def throughput(states: Iterable[CellState]) -> dict[tuple[str, str], float]:
  """Measured train samples per wall second of finished cells.

  Keyed by ``(model, aug)`` and ``(model, "*")``; the wall time includes
  evaluation and compilation, so estimates from it are on the safe side.
  """
  rates: dict[tuple[str, str], list[float]] = {}
  for s in states:
    if s.state == "done" and s.wall_seconds > 0:
      rate = s.total_steps * s.batch / s.wall_seconds
      rates.setdefault((s.cell.model, s.cell.aug), []).append(rate)
      rates.setdefault((s.cell.model, "*"), []).append(rate)
  return {k: sum(v) / len(v) for k, v in rates.items()}


def measured_elsewhere(root) -> list[CellState]:
  """Finished cells of every table under ``root`` (for speed estimates)."""
  out = []
  for summary_path in paths.as_path(root).glob(f"*/*/{train.SUMMARY_FILE}"):
    summary, config = (_read_json(summary_path),
                       _read_json(summary_path.parent / train.CONFIG_FILE))
    wall = (_read_json(summary_path.parent / WALL_FILE) or {}).get("seconds")
    if not (summary and config and wall):
      continue
    cell = grid_lib.Cell(summary["model"], summary["aug"], summary["views"],
                         0, 0)
    out.append(CellState(cell, "done", total_steps=summary["steps"],
                         wall_seconds=wall, batch=config["batch_size"]))
  return out


BENCHMARK_FILE = grid_lib.REPO / "results" / "bench_models.json"


def benchmark_rates(path=BENCHMARK_FILE) -> dict[tuple[str, str], float]:
  """Train samples/s per model from the models benchmark (this repository's).

  The fallback for estimates when no cell of a model has finished yet; it
  times the train step alone, so it underestimates a cell's wall time.
  """
  data = _read_json(pathlib.Path(path)) or {}
  return {(r["model"], "*"): r["samples_per_s"] for r in data.get("results", [])
          if r.get("impl") == "dws_jax" and r.get("samples_per_s")}


def estimate_seconds(state: CellState, rates) -> float | None:
  """Remaining wall seconds from measured rates (None if nothing measured)."""
  if state.state == "done":
    return 0.0
  rate = rates.get((state.cell.model, state.cell.aug)) or rates.get(
      (state.cell.model, "*"))
  if not rate or not state.total_steps:
    return None
  return (state.total_steps - state.step) * state.batch / rate


def _fmt_time(seconds: float | None) -> str:
  if seconds is None:
    return "?"
  if seconds >= 3600:
    return f"{seconds / 3600:.1f} h"
  return f"{seconds / 60:.1f} min"


def listing(root, table, grid: list[grid_lib.Cell],
            train_objects: int | None = None) -> str:
  """A line per cell with its state and estimated remaining time.

  Speeds come from this table's finished cells, else from finished cells of
  the other tables under ``root``, else from the models benchmark.
  """
  states = [state_of(root, table, c, train_objects=train_objects) for c in grid]
  measured = {**throughput(measured_elsewhere(root)), **throughput(states)}
  rates = {**benchmark_rates(), **measured}
  lines, remaining, unknown, from_benchmark = [], 0.0, 0, 0
  for s in states:
    eta = estimate_seconds(s, rates)
    if eta and estimate_seconds(s, measured) is None:
      from_benchmark += 1
    if eta is None:
      unknown += 1
    else:
      remaining += eta
    held = holder(root, table, s.cell) if s.state != "done" else None
    what = {"done": f"done ({_fmt_time(s.wall_seconds)})",
            "partial": f"partial at step {s.step}/{s.total_steps or '?'}",
            "stale": f"stale (config changed: {s.diff})",
            "todo": "todo"}[s.state]
    if held:
      what += f", running (pid {held['pid']} on {held['host']})"
    extra = "" if s.state == "done" else f"  ~{_fmt_time(eta)}"
    lines.append(f"{s.cell.name:<56} {what}{extra}")
  counts = {k: sum(s.state == k for s in states) for k in STATES}
  lines.append(
      f"{len(states)} cells: " + ", ".join(f"{v} {k}" for k, v in counts.items())
      + f"; about {_fmt_time(remaining)} of compute left"
      + (f", plus {unknown} cells with no measured speed yet" if unknown else "")
      + (f" ({from_benchmark} estimates from the models benchmark's train-step "
         "speed on this machine, without evaluation)" if from_benchmark else ""))
  return "\n".join(lines)


def claim_path(root, table, cell: grid_lib.Cell) -> epath.Path:
  return grid_lib.cells_dir(root, table) / (cell.name + CLAIM_SUFFIX)


def _alive(pid: int) -> bool:
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except PermissionError:
    return True
  return True


def holder(root, table, cell: grid_lib.Cell) -> dict | None:
  """The live sweep holding ``cell`` (``{"pid", "host"}``), else None."""
  held = _read_json(claim_path(root, table, cell))
  if not held:
    return None
  if held.get("host") == socket.gethostname() and not _alive(held["pid"]):
    return None
  return held


def claim(root, table, cell: grid_lib.Cell) -> dict | None:
  """Claims ``cell`` for this process; returns the other holder if it fails.

  Exclusive on a local disk (``O_EXCL``); best effort at a URI (see the
  module docstring).
  """
  path = claim_path(root, table, cell)
  me = {"pid": os.getpid(), "host": socket.gethostname()}
  if paths.is_uri(path):
    return _claim_at_uri(root, table, cell, me)
  for _ in range(2):
    try:
      fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
      other = holder(root, table, cell)
      if other is not None and other != me:
        return other
      path.unlink(missing_ok=True)  # left by a dead process: take it over
      continue
    with os.fdopen(fd, "w") as f:
      f.write(json.dumps(me) + "\n")
    return None
  return _read_json(path) or {"pid": -1, "host": "?"}


def _claim_at_uri(root, table, cell: grid_lib.Cell, me: dict) -> dict | None:
  """Best-effort claim in an object store: write if free, then read back."""
  path = claim_path(root, table, cell)
  if path.exists():
    other = holder(root, table, cell)
    if other is not None and other != me:
      return other
  path.write_text(json.dumps(me) + "\n")
  held = _read_json(path)
  return None if held == me else (held or {"pid": -1, "host": "?"})


def release(root, table, cell: grid_lib.Cell) -> None:
  path = claim_path(root, table, cell)
  if (_read_json(path) or {}).get("pid") == os.getpid():
    path.unlink(missing_ok=True)


def run_cell(root, table, cell: grid_lib.Cell, config=None) -> dict:
  """Trains (or resumes) one cell; adds the wall time to its ``wall.json``."""
  config = config or grid_lib.cell_config(table, cell)
  workdir = grid_lib.cell_dir(root, table, cell)
  start = time.perf_counter()
  summary = train.train_and_evaluate(config, str(workdir))
  import jax  # pylint: disable=g-import-not-at-top
  if jax.process_index() == 0:
    wall_path = workdir / WALL_FILE
    wall = (_read_json(wall_path) or {}).get("seconds", 0.0)
    paths.write_atomic(wall_path, json.dumps(
        {"seconds": wall + time.perf_counter() - start}) + "\n")
  return summary


def _broadcast(indices: list[int]) -> list[int]:
  """Process 0's list on every process (no-op with one process)."""
  import jax  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  if jax.process_count() == 1:
    return indices
  from jax.experimental import multihost_utils  # pylint: disable=g-import-not-at-top
  n = int(multihost_utils.broadcast_one_to_all(np.int32(len(indices))))
  padded = np.full((max(n, 1),), -1, np.int32)
  padded[:len(indices[:n])] = indices[:n]
  return [int(i) for i in multihost_utils.broadcast_one_to_all(padded)[:n]]


def run(root, table, grid: list[grid_lib.Cell], *, rerun_stale: bool = False,
        log=print) -> dict[str, list[str]]:
  """Runs every cell of ``grid`` that is not done (in grid order).

  Returns:
    ``{"ran": [...], "skipped": [...], "stale": [...]}`` cell names.
  """
  import jax  # pylint: disable=g-import-not-at-top
  states = [state_of(root, table, c) for c in grid]
  stale = [s for s in states if s.state == "stale"]
  for s in stale:
    if rerun_stale:
      log(f"stale cell {s.cell.name} ({s.diff}): deleted, rerunning")
      if jax.process_index() == 0:
        grid_lib.cell_dir(root, table, s.cell).rmtree()
    else:
      log(f"stale cell {s.cell.name}: its workdir holds a run of another "
          f"config ({s.diff}); not reused, skipped (--rerun-stale deletes and "
          "reruns it)")
  todo = [i for i, s in enumerate(states)
          if s.state in ("todo", "partial") or (s.state == "stale" and rerun_stale)]
  todo = _broadcast(todo)
  ran, elsewhere, done = [], [], [s.cell.name for s in states if s.state == "done"]
  claims = jax.process_count() == 1
  for n, i in enumerate(todo, 1):
    cell = grid[i]
    if claims:
      other = claim(root, table, cell)
      if other is not None:
        log(f"[{n}/{len(todo)}] {table.name}/{cell.name}: being trained by "
            f"another sweep (pid {other['pid']} on {other['host']}); skipped")
        elsewhere.append(cell.name)
        continue
      state = state_of(root, table, cell)  # another sweep may have finished it
      if state.state == "done":
        release(root, table, cell)
        done.append(cell.name)
        continue
    else:
      state = states[i]
    log(f"[{n}/{len(todo)}] {table.name}/{cell.name} "
        f"({state.state}{' at step ' + str(state.step) if state.step else ''})")
    try:
      run_cell(root, table, cell)
    finally:
      if claims:
        release(root, table, cell)
    ran.append(cell.name)
  return {"ran": ran, "skipped": done, "elsewhere": elsewhere,
          "stale": [] if rerun_stale else [s.cell.name for s in stale]}
