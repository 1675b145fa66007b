# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""``dws-demo``: the end-to-end default job on real Fashion-MNIST.

1. Makes a small INR dataset of real Fashion-MNIST images if absent
   (``configs/inrs/fmnist.py`` with class-balanced caps; resumable).
2. Trains DWSNet on it twice, without augmentation and with aligned
   weight-space MixUp (``configs/fmnist_dwsnet.py``), each in its own workdir
   (rerunning resumes).
3. Prints the two test accuracies side by side and writes
   ``results/demo.json`` and ``results/demo.md``.

  dws-demo                       # defaults: see --help
  dws-demo --objects 500 --epochs 5
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import time

from dws_jax import allocator

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _load_config(path: pathlib.Path, arg: str):
  import importlib.util  # pylint: disable=g-import-not-at-top
  spec = importlib.util.spec_from_file_location(path.stem, path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config(arg)


def main(argv=None) -> dict:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--objects", type=int, default=2000,
                      help="train objects (class-balanced), 1 view each")
  parser.add_argument("--eval-objects", type=int, default=500,
                      help="val and test objects each")
  parser.add_argument("--epochs", type=int, default=15)
  parser.add_argument("--batch", type=int, default=64,
                      help="batch size (the official 256 takes 4x fewer steps "
                      "per epoch, too few for a small run)")
  parser.add_argument("--lr", type=float, default=3e-3)
  parser.add_argument("--augs", default="none,mixup_aligned",
                      help="comma-separated augmentations to compare")
  parser.add_argument("--data", default="data/fmnist_demo_inrs")
  parser.add_argument("--workdir", default="runs/demo")
  parser.add_argument("--results", default="results")
  parser.add_argument("--devices", type=int, default=2,
                      help="host CPU devices to use (ignored on GPU/TPU)")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--warmup", type=int, default=50,
                      help="linear warmup steps (the official 1000 exceed a "
                      "small run)")
  args = parser.parse_args(argv)

  if os.environ.get("JAX_PLATFORMS", "") in ("", "cpu") and args.devices > 1:
    import jax  # pylint: disable=g-import-not-at-top
    jax.config.update("jax_num_cpu_devices", args.devices)
  from dws_jax import train  # pylint: disable=g-import-not-at-top
  from dws_jax.data import inr_dataset  # pylint: disable=g-import-not-at-top

  start = time.perf_counter()
  load = os.getloadavg()[0]
  inr_config = _load_config(
      ROOT / "configs" / "inrs" / "fmnist.py",
      f"objects={args.objects},val_objects={args.eval_objects},"
      f"test_objects={args.eval_objects},views=1,devices={args.devices}")
  print(f"== INR dataset in {args.data} ==", flush=True)
  made = inr_dataset.generate(inr_config, args.data)
  if not made["complete"]:
    raise RuntimeError(f"INR dataset in {args.data} is incomplete")

  rows = []
  for aug in [a for a in args.augs.split(",") if a]:
    config = _load_config(
        ROOT / "configs" / "fmnist_dwsnet.py",
        f"aug={aug},data={args.data},epochs={args.epochs},seed={args.seed},"
        f"batch={args.batch}")
    config.optim.warmup_steps = args.warmup
    # Training runs on one CPU device, as for the numbers in results/demo.md
    # (fitting uses --devices).
    config.num_devices = 1
    config.optim.lr = args.lr
    workdir = os.path.join(args.workdir, aug)
    print(f"== DWSNet, aug={aug}: {workdir} ==", flush=True)
    summary = train.train_and_evaluate(config, workdir)
    rows.append(summary)

  elapsed = time.perf_counter() - start
  header = ("| augmentation | best val acc | test acc (at best val) | best epoch "
            "| samples/s |\n|---|---|---|---|---|\n")
  table = header + "".join(
      f"| {r['aug']} | {r['best_val_accuracy']:.4f} | "
      f"{r['test_accuracy_at_best_val']:.4f} | {r['best_epoch']}/{r['epochs']} | "
      f"{r['samples_per_second']:.0f} |\n" for r in rows)
  note = (f"DWSNet on {rows[0]['num_train']} real Fashion-MNIST INRs (1 view), "
          f"{args.eval_objects} val / {args.eval_objects} test INRs, "
          f"{args.epochs} epochs, batch {args.batch}, Adam lr {args.lr} "
          f"(warmup {args.warmup}), seed {args.seed}; whole job {elapsed / 60:.1f} "
          f"min on {os.cpu_count()} CPU cores (load average {load:.1f} at start).")
  print("\n" + table + "\n" + note)
  results = pathlib.Path(args.results)
  results.mkdir(parents=True, exist_ok=True)
  (results / "demo.md").write_text(
      f"Command: `dws-demo {' '.join(argv if argv is not None else sys.argv[1:])}`"
      f"\n\n{table}\n{note}\n")
  (results / "demo.json").write_text(json.dumps(
      {"args": vars(args), "runs": rows, "minutes": elapsed / 60}, indent=2))
  return {"runs": rows, "minutes": elapsed / 60}


def run() -> None:
  allocator.reexec_with_tcmalloc()
  main()


if __name__ == "__main__":
  run()
