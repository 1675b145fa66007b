# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Benchmark: DWSNet training throughput with each augmentation family.

The jitted train step of :mod:`dws_jax.steps` (batch gather, augmentation,
forward, backward, Adam) on a 10k-INR train set at batch 256, for no
augmentation, one augmentation of each family and the MixUp variants. Reports
samples/s, epoch time and the cost relative to no augmentation, measured in
the same run (interleaved repeats, median).

  python -m dws_jax.benchmarks.train [--data DIR] [--num 10000]

Without ``--data`` the train set is random SIREN-initialised INRs of the
default architecture (speed does not depend on the values, except for the
number of alignment sweeps, which is reported).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import time

from dws_jax.xla_cpu import allocator

AUGS = (
    ("none", "none"),
    ("input-space", "translate"),
    ("data-agnostic", "gaussian_noise"),
    ("symmetry", "siren_negation|siren_bias|permutation"),
    ("MixUp", "mixup"),
    ("MixUp", "mixup_aligned"),
)


def main(argv=None) -> dict:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--data", default=None, help="INR dataset dir (optional)")
  parser.add_argument("--num", type=int, default=10_000)
  parser.add_argument("--batch", type=int, default=256)
  parser.add_argument("--steps", type=int, default=5, help="timed steps per repeat")
  parser.add_argument("--repeats", type=int, default=2)
  parser.add_argument("--model", default="dwsnet")
  parser.add_argument("--out", default="results/bench_train")
  args = parser.parse_args(argv)

  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  from dws_jax import augment  # pylint: disable=g-import-not-at-top
  from dws_jax import models  # pylint: disable=g-import-not-at-top
  from dws_jax import optim  # pylint: disable=g-import-not-at-top
  from dws_jax import plugins  # pylint: disable=g-import-not-at-top
  from dws_jax import siren  # pylint: disable=g-import-not-at-top
  from dws_jax import steps  # pylint: disable=g-import-not-at-top
  from dws_jax import train_state as ts  # pylint: disable=g-import-not-at-top
  from dws_jax import weight_space as wsp  # pylint: disable=g-import-not-at-top
  import ml_collections  # pylint: disable=g-import-not-at-top

  if args.data:
    from dws_jax.data import inr_dataset  # pylint: disable=g-import-not-at-top
    split = inr_dataset.load_inr_split(args.data, "train")
    spec = inr_dataset.spec_from_metadata(inr_dataset.read_metadata(args.data))
    ws, labels = split.ws[:args.num], split.labels[:args.num]
    source = f"real INRs from {args.data}"
  else:
    spec = wsp.WeightSpaceSpec.dwsnets_inr()
    ws = siren.init_weight_space(jax.random.key(0), spec, "siren", (args.num,))
    labels = jax.random.randint(jax.random.key(1), (args.num,), 0, 10)
    source = "random SIREN-init INRs"
  num = int(labels.shape[0])
  train = steps.Split(ws, labels)
  plugins.load()  # kernels="auto" -> "xla_cpu" on the CPU
  model = models.get(args.model, spec=spec, num_classes=10)
  tx = optim.make_optimizer(ml_collections.ConfigDict(
      {"name": "adam", "lr": 1e-3, "weight_decay": 5e-4, "warmup_steps": 1000,
       "grad_clip": 0.0}))
  variables = dict(model.init({"params": jax.random.key(2),
                               "dropout": jax.random.key(3)}, ws[:2], train=False))
  params = variables.pop("params")
  num_params = sum(int(np.prod(x.shape)) for x in jax.tree.leaves(params))

  step_fns, states = {}, {}
  for _, aug in AUGS:
    aug_fn = None if aug == "none" else augment.build(aug, spec, num_classes=10)
    step_fns[aug] = jax.jit(steps.make_train_step(
        apply_fn=model.apply, tx=tx, aug_fn=aug_fn, num_classes=10,
        batch_size=args.batch), donate_argnums=(0,))
    own = jax.tree.map(jnp.copy, params)  # each state is donated separately
    states[aug] = ts.TrainState(jnp.zeros((), jnp.int32), own, tx.init(own),
                                variables)
    states[aug], metrics = step_fns[aug](states[aug], train, jax.random.key(4))
    jax.block_until_ready(metrics)  # compile + warm up

  times = {aug: [] for _, aug in AUGS}
  for _ in range(args.repeats):
    for _, aug in AUGS:
      start = time.perf_counter()
      for _ in range(args.steps):
        states[aug], metrics = step_fns[aug](states[aug], train, jax.random.key(4))
      jax.block_until_ready(metrics)
      times[aug].append((time.perf_counter() - start) / args.steps)

  base = statistics.median(times["none"])
  rows = []
  for family, aug in AUGS:
    t = statistics.median(times[aug])
    rows.append({"family": family, "aug": aug, "ms_per_step": 1e3 * t,
                 "samples_per_s": args.batch / t,
                 "epoch_s": (num // args.batch) * t, "vs_none": t / base})
  table = ("| family | augmentation | ms/step | samples/s | epoch (s) | step time vs none |\n"
           "|---|---|---|---|---|---|\n" + "".join(
               f"| {r['family']} | `{r['aug'].replace('|', chr(92) + '|')}` | {r['ms_per_step']:.0f} | "
               f"{r['samples_per_s']:.0f} | {r['epoch_s']:.1f} | "
               f"{r['vs_none']:.2f}x |\n" for r in rows))
  note = (f"{args.model} ({num_params:,} params), batch {args.batch}, train set "
          f"{num:,} {source}, {jax.device_count()} {jax.default_backend()} "
          f"device(s), load average {os.getloadavg()[0]:.1f}; median of "
          f"{args.repeats} x {args.steps} steps.")
  print(table + "\n" + note)
  out = pathlib.Path(args.out)
  out.parent.mkdir(parents=True, exist_ok=True)
  out.with_suffix(".md").write_text(
      f"Command: `python -m dws_jax.benchmarks.train "
      f"{' '.join(argv) if argv else ''}`\n\n{table}\n{note}\n")
  out.with_suffix(".json").write_text(json.dumps(
      {"rows": rows, "num_params": num_params, "source": source,
       "batch": args.batch, "num": num}, indent=2))
  return {"rows": rows}


if __name__ == "__main__":
  allocator.reexec_with_tcmalloc()
  main()
