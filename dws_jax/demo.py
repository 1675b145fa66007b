# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""``dws-demo``: the paper's effect, small, on real Fashion-MNIST.

1. Makes a small multi-view INR dataset of real Fashion-MNIST images if absent
   (``configs/inrs/fmnist.py`` with class-balanced caps; resumable).
2. Runs the table ``configs/demo_table.py`` with ``dws-tables``' own code:
   DWSNet without augmentation on 1 view and on several views per object,
   and on 1 view with aligned weight-space MixUp, the same number of steps
   each (rerunning resumes; finished cells are kept).
3. Prints that table next to the committed small-scale table of the
   repository (``results/tables/fmnist_views_small.md``, 3 seeds).

Results go to ``runs/demo/results`` unless ``--results`` says otherwise, so the
repository's committed ``results/`` is never overwritten by accident.

  dws-demo                       # defaults: see --help
  dws-demo --objects 500 --epochs 10
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import time

from dws_jax import plugins

ROOT = pathlib.Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "results" / "tables" / "fmnist_views_small.md"


def main(argv=None) -> dict:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--objects", type=int, default=500,
                      help="train objects (class-balanced)")
  parser.add_argument("--views", type=int, default=5,
                      help="views per train object of the multi-view run")
  parser.add_argument("--eval-objects", type=int, default=500,
                      help="val and test objects each")
  parser.add_argument("--epochs", type=int, default=40,
                      help="epochs of objects*views/batch steps (every run the same)")
  parser.add_argument("--augs", default="mixup_aligned",
                      help="'+'-separated augmentations run on 1 view")
  parser.add_argument("--data", default="data/fmnist_demo_inrs")
  parser.add_argument("--workdir", default="runs/demo")
  parser.add_argument("--results", default=None,
                      help="where the demo table goes (default: "
                      "WORKDIR/results; pass results/ to update the README's)")
  parser.add_argument("--devices", type=int, default=2,
                      help="host CPU devices for fitting (ignored on GPU/TPU)")
  parser.add_argument("--seed", type=int, default=0)
  args = parser.parse_args(argv)
  if min(args.objects, args.views, args.eval_objects, args.epochs) < 1:
    parser.error("--objects, --views, --eval-objects and --epochs must be >= 1")

  if os.environ.get("JAX_PLATFORMS", "") in ("", "cpu") and args.devices > 1:
    import jax  # pylint: disable=g-import-not-at-top
    jax.config.update("jax_num_cpu_devices", args.devices)
  from dws_jax.tables import aggregate  # pylint: disable=g-import-not-at-top
  from dws_jax.tables import grid  # pylint: disable=g-import-not-at-top
  from dws_jax.tables import main as tables_main  # pylint: disable=g-import-not-at-top
  from dws_jax.tables import sweep  # pylint: disable=g-import-not-at-top

  start = time.perf_counter()
  load = os.getloadavg()[0]
  table = grid.load_table(
      f"{ROOT / 'configs' / 'demo_table.py'}:objects={args.objects},"
      f"views={args.views},eval_objects={args.eval_objects},"
      f"epochs={args.epochs},seed={args.seed},data={args.data},augs={args.augs}")
  cells = grid.cells(table)
  grid.validate(table, cells)
  sweep.check_root(args.workdir, table, write=True)
  print(f"== INR dataset in {args.data} ==", flush=True)
  tables_main.make_dataset(table, host_devices=args.devices)
  sweep.run(args.workdir, table, cells, log=lambda m: print(m, flush=True))
  minutes = (time.perf_counter() - start) / 60
  table.notes = (f"Whole job {minutes:.1f} min on {os.cpu_count()} CPU cores "
                 f"(load average {load:.1f} at start).")
  results = pathlib.Path(args.results or os.path.join(args.workdir, "results"))
  paths = aggregate.write(table, args.workdir, cells, results)
  print("\n" + paths["md"].read_text())
  if COMMITTED.exists():
    print("The repository's small-scale table (3 seeds, "
          f"{COMMITTED.relative_to(ROOT)}):\n\n" + COMMITTED.read_text())
  return {"paths": paths, "minutes": minutes}


def run() -> None:
  plugins.load(command=True)
  try:
    main()
  except (ValueError, FileNotFoundError, RuntimeError) as e:
    print(f"dws-demo: error: {e}", file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
  run()
