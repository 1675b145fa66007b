# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""``dws-tables``: make (or resume) a table of the paper from its config file.

  dws-tables --config configs/tables/fmnist_augmentations.py:scale=small
  dws-tables --config ... --list          # every cell, its state, time left
  dws-tables --config ... --only mixup    # a subset (substring or glob)
  dws-tables --config ... --aggregate     # only rebuild results/tables/*

Each cell is an ordinary ``dws-train`` run in ``ROOT/<table>/<cell>``; a
finished cell is skipped and a killed sweep resumes by rerunning the same
command. The INR dataset is fitted first when missing (resumable, shared by
the tables that name it). Outputs go to ``results/tables/<table>.{md,csv,json}``
and PNG figures, made from the cells' summaries. ``--root``, ``--results`` and
the table's dataset directory may be URIs (``gs://bucket/tables``).
"""

from __future__ import annotations

import argparse
import os
import sys

from dws_jax import plugins


def _parser() -> argparse.ArgumentParser:
  parser = argparse.ArgumentParser(
      prog="dws-tables", description=__doc__.splitlines()[0],
      formatter_class=argparse.RawDescriptionHelpFormatter,
      epilog="\n".join(__doc__.splitlines()[2:]))
  parser.add_argument("--config", required=True,
                      help="table config file[:arg], e.g. "
                      "configs/tables/fmnist_augmentations.py:scale=small")
  parser.add_argument("--root", default="runs/tables",
                      help="where the cells' workdirs go (ROOT/<table>/<cell>); "
                      "a local path or a URI such as gs://bucket/tables")
  parser.add_argument("--results", default="results/tables",
                      help="where the tables and figures are written (a "
                      "local path or a URI)")
  parser.add_argument("--list", action="store_true",
                      help="print every cell with its state and estimated time")
  parser.add_argument("--only", default=None,
                      help="run only cells whose name contains one of these "
                      "comma-separated substrings (or matches a glob)")
  parser.add_argument("--aggregate", action="store_true",
                      help="only rebuild the outputs from finished cells")
  parser.add_argument("--rerun-stale", action="store_true",
                      help="delete and rerun cells whose workdir holds a run "
                      "of another config")
  parser.add_argument("--devices", type=int, default=1,
                      help="host CPU devices per cell (ignored on GPU/TPU)")
  return parser


def make_dataset(table, host_devices: int | None = None) -> None:
  """Makes (or resumes, or finds complete) the INR dataset a table names.

  Raises:
    ValueError: the dataset cannot be made (missing source files, bad config).
    RuntimeError: it is still incomplete afterwards.
  """
  from dws_jax.data import inr_dataset  # pylint: disable=g-import-not-at-top
  from dws_jax.tables import grid  # pylint: disable=g-import-not-at-top
  dataset = grid.dataset_config(table)
  if host_devices is not None:
    dataset.host_devices = host_devices
  try:
    made = inr_dataset.generate(dataset, table.dataset.dir)
  except (FileNotFoundError, ValueError) as e:
    raise ValueError(f"table {table.name}: its INR dataset ({table.dataset.config}"
                     f":{table.dataset.get('arg', '')} into {table.dataset.dir}) "
                     f"cannot be made: {e}") from e
  if not made["complete"]:
    raise RuntimeError(f"INR dataset {table.dataset.dir} is incomplete; rerun "
                       "to resume it")


def main(argv=None) -> int:
  args = _parser().parse_args(argv)
  if os.environ.get("JAX_PLATFORMS", "") in ("", "cpu") and args.devices > 1:
    import jax  # pylint: disable=g-import-not-at-top
    jax.config.update("jax_num_cpu_devices", args.devices)
  from dws_jax import parallel  # pylint: disable=g-import-not-at-top
  from dws_jax.data import inr_dataset  # pylint: disable=g-import-not-at-top
  from dws_jax.tables import aggregate  # pylint: disable=g-import-not-at-top
  from dws_jax.tables import grid  # pylint: disable=g-import-not-at-top
  from dws_jax.tables import sweep  # pylint: disable=g-import-not-at-top

  table = grid.load_table(args.config)
  cells = grid.cells(table)
  grid.validate(table, cells)
  chosen = sweep.select(cells, args.only)
  if not chosen:
    raise ValueError(f"--only {args.only!r} matches none of the {len(cells)} "
                     f"cells of {table.name} (see --list)")

  if args.list:
    sweep.check_root(args.root, table, write=False)
    try:
      meta = inr_dataset.read_metadata(table.dataset.dir)
      train_objects = meta["splits"]["train"]["num_objects"]
    except FileNotFoundError:
      train_objects = table.dataset.get("train_objects", None)
    print(f"{table.name}: {len(cells)} cells in "
          f"{grid.cells_dir(args.root, table)}, "
          f"dataset {table.dataset.dir}")
    print(sweep.listing(args.root, table, chosen, train_objects))
    return 0

  if args.aggregate:
    sweep.check_root(args.root, table, write=False)
    paths = aggregate.write(table, args.root, cells, args.results)
    print(paths["md"].read_text())
    return 0

  parallel.maybe_initialize_distributed()
  sweep.check_root(args.root, table, write=True)
  print(f"== {table.name}: INR dataset {table.dataset.dir} ==", flush=True)
  make_dataset(table)
  result = sweep.run(args.root, table, chosen, rerun_stale=args.rerun_stale,
                     log=lambda m: print(m, flush=True))
  import jax  # pylint: disable=g-import-not-at-top
  if jax.process_index() == 0:
    paths = aggregate.write(table, args.root, cells, args.results)
    print(paths["md"].read_text())
  if result["elsewhere"]:
    print(f"{len(result['elsewhere'])} cell(s) were being trained by another "
          "sweep; rerun (or --aggregate) once it finishes to include them",
          flush=True)
  if result["stale"]:
    print(f"{len(result['stale'])} stale cell(s) not run: "
          f"{', '.join(result['stale'])} (--rerun-stale reruns them)",
          file=sys.stderr)
    return 1
  return 0


def run() -> None:
  plugins.load(command=True)
  try:
    sys.exit(main())
  except (ValueError, FileNotFoundError, RuntimeError) as e:
    print(f"dws-tables: error: {e}", file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
  run()
