# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Augmentation throughput: batched, jitted dws_jax against per-sample PyTorch.

For every augmentation, in the same run:

* ``dws_jax``: ``jax.jit`` of :func:`dws_jax.augment.apply_batch` on a batch
  of ``--batch`` INRs (2->32->32->1, 1185 parameters each), one key per
  sample; median of ``--runs`` calls after warm-up, ``block_until_ready``.
  Two numbers: *per call* (one jitted call per batch, so it includes the
  dispatch of a jitted call, tens of microseconds on a busy CPU) and
  *in-step* (``--inner`` augmentations chained in one jitted ``lax.scan``,
  time divided by ``--inner``: the cost inside a jitted train step).
* ``torch``: a small PyTorch version of the same operation, with the official
  code's tensor layout and ops (``augmentations/augmentations.py``: weights
  ``(1, d_in, d_out, 1)``, ``einsum`` for translate and rotate), applied per
  sample in a Python loop over the batch, as the official data loader does;
  ``torch.set_num_threads(--torch-threads)``; median of ``--torch-runs`` loops.

The ratio is per-sample throughput of dws_jax over torch (times measured in
this run, so machine load affects both).

  python -m dws_jax.benchmarks.augment

Writes ``results/bench_augment.json`` and ``results/bench_augment.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pathlib
import platform
import random
import statistics
import time

from dws_jax.xla_cpu import allocator

NAMES = ("translate", "rotate", "scale", "gaussian_noise", "dropout", "quantile",
         "permutation", "siren_negation", "siren_bias", "label_smoothing")
NUM_CLASSES = 10


def _parse(argv):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--batch", type=int, default=256)
  parser.add_argument("--runs", type=int, default=50, help="timed jax calls")
  parser.add_argument("--inner", type=int, default=20,
                      help="augmentations chained in one jitted call (in-step)")
  parser.add_argument("--torch-runs", type=int, default=7,
                      help="timed torch loops over the batch")
  parser.add_argument("--torch-threads", type=int, default=1)
  parser.add_argument("--only", default=None,
                      help="comma-separated subset of augmentations")
  parser.add_argument("--out", default="results", help="output directory")
  return parser.parse_args(argv)


# -- per-sample PyTorch versions (official-code layout and ops) -----------------
# A sample is (weights, biases) in the official data loader's layout:
# weights (1, d_in, d_out, 1), biases (1, d_out, 1).


def torch_augmentations(torch):
  """Returns ``{name: fn(weights, biases, label) -> (weights, biases, label)}``."""
  functional = torch.nn.functional

  def translate(w, b, y, s=0.25):
    t = torch.empty(w[0].shape[:2] + w[0].shape[3:]).uniform_(-s, s)
    order = random.randint(1, len(w) - 1)
    shift = t
    for i in range(order):
      shift = torch.einsum("bic,bijc->bjc", shift, w[i])
    b = list(b)
    b[order - 1] = b[order - 1] + shift
    return w, b, y

  def rotate(w, b, y, degrees=30.0):
    theta = torch.empty(1).uniform_(-degrees, degrees) * (torch.pi / 180)
    rot = torch.tensor([[torch.cos(theta), -torch.sin(theta)],
                        [torch.sin(theta), torch.cos(theta)]])
    return [torch.einsum("ij,bjkc->bikc", rot, w[0])] + list(w[1:]), b, y

  def scale(w, b, y, amount=0.2):
    s = 1 + (torch.rand(1).item() - 0.5) * 2 * amount
    return [w[0] * s] + list(w[1:]), b, y

  def gaussian_noise(w, b, y, s=0.32):
    def noisy(t):
      std = torch.nan_to_num(t.std(), nan=0.0) if t.numel() > 1 else 0.0
      return t + torch.empty(t.shape).normal_(0, s * (float(std) + 1e-8))
    return [noisy(t) for t in w], [noisy(t) for t in b], y

  def dropout(w, b, y, p=0.1):
    return ([functional.dropout(t, p=p) for t in w],
            [functional.dropout(t, p=p) for t in b], y)

  def quantile(w, b, y, q_max=0.1):
    q = torch.empty(1).uniform_(0, q_max)
    tau = torch.quantile(torch.cat([t.flatten().abs() for t in w + b]), q=q)
    cut = lambda t: torch.where(t.abs() < tau, 0, t)
    return [cut(t) for t in w], [cut(t) for t in b], y

  def permutation(w, b, y):
    w, b = list(w), list(b)
    for l in range(len(w) - 1):
      perm = torch.randperm(b[l].shape[1])
      w[l], b[l] = w[l][:, :, perm], b[l][:, perm]
      w[l + 1] = w[l + 1][:, perm]
    return w, b, y

  def siren_negation(w, b, y, p=0.5):
    w, b = list(w), list(b)
    for l in range(len(w) - 1):
      sign = (torch.rand_like(b[l]) < p).float() * -2 + 1
      w[l], b[l] = sign.unsqueeze(1) * w[l], sign * b[l]
      w[l + 1] = sign.unsqueeze(2) * w[l + 1]
    return w, b, y

  def siren_bias(w, b, y, k_max=4, w0=30.0):
    w, b = list(w), list(b)
    for l in range(len(w) - 1):
      k = torch.randint_like(b[l], -k_max, k_max + 1)
      b[l] = b[l] + k * torch.pi / w0
      sign = (k % 2 == 1).float() * -2 + 1
      w[l + 1] = sign.unsqueeze(2) * w[l + 1]
    return w, b, y

  def label_smoothing(w, b, y, eps=0.1):
    y = (1 - eps) * functional.one_hot(torch.tensor(y), NUM_CLASSES) + (
        eps / NUM_CLASSES)
    return w, b, y

  return dict(translate=translate, rotate=rotate, scale=scale,
              gaussian_noise=gaussian_noise, dropout=dropout, quantile=quantile,
              permutation=permutation, siren_negation=siren_negation,
              siren_bias=siren_bias, label_smoothing=label_smoothing)


def time_torch(names, ws_np, labels_np, runs, threads):
  """Median seconds of one per-sample loop over the batch, per augmentation."""
  import torch  # pylint: disable=g-import-not-at-top

  torch.set_num_threads(threads)
  torch.manual_seed(0)
  random.seed(0)
  augs = torch_augmentations(torch)
  batch = len(labels_np)
  samples = [([torch.from_numpy(w[i][None, :, :, None].copy()) for w in ws_np[0]],
              [torch.from_numpy(b[i][None, :, None].copy()) for b in ws_np[1]],
              int(labels_np[i])) for i in range(batch)]
  out = {}
  for name in names:
    fn = augs[name]
    for w, b, y in samples[:8]:  # warm-up
      fn(w, b, y)
    times = []
    for _ in range(runs):
      start = time.perf_counter()
      for w, b, y in samples:
        fn(w, b, y)
      times.append(time.perf_counter() - start)
    out[name] = statistics.median(times)
  return out, torch.__version__


def time_jax(names, spec, ws, labels, runs, inner):
  """Median seconds per batch, per augmentation: ``(per_call, in_step)``.

  ``per_call``: one jitted call on the batch (includes dispatch, ~50 us here).
  ``in_step``: ``inner`` applications chained in one jitted ``lax.scan`` (keys
  ``fold_in(key, i)``), divided by ``inner``; this is the cost inside a jitted
  train step, where the augmentation is fused with the rest.
  """
  import jax  # pylint: disable=g-import-not-at-top
  from dws_jax import augment  # pylint: disable=g-import-not-at-top

  keys = [jax.random.fold_in(jax.random.key(0), i) for i in range(runs + 3)]

  def median_time(fn):
    for k in keys[:3]:  # compile and warm up
      jax.block_until_ready(fn(k, ws, labels))
    times = []
    for k in keys[3:]:
      start = time.perf_counter()
      jax.block_until_ready(fn(k, ws, labels))
      times.append(time.perf_counter() - start)
    return statistics.median(times)

  out = {}
  for name in names:
    factory = getattr(augment, name)
    if name == "label_smoothing":
      fn = factory(spec, num_classes=NUM_CLASSES)
      step = lambda k, w, y, fn=fn: (
          w, jax.vmap(fn)(jax.random.split(k, y.shape[0]), y))
    else:
      aug = factory(spec)
      step = lambda k, w, y, aug=aug: (augment.apply_batch(aug, k, w), y)

    def chained(k, w, y, step=step):
      def body(carry, i):
        return step(jax.random.fold_in(k, i), *carry), None
      return jax.lax.scan(body, (w, y), jax.numpy.arange(inner))[0]

    out[name] = (median_time(jax.jit(step)),
                 median_time(jax.jit(chained)) / inner)
  return out


def main(argv=None) -> None:
  args = _parse(argv)
  names = NAMES if args.only is None else tuple(args.only.split(","))
  unknown = set(names) - set(NAMES)
  if unknown:
    raise SystemExit(f"unknown augmentations {sorted(unknown)}; known: {NAMES}")

  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top

  import dws_jax as dws  # pylint: disable=g-import-not-at-top

  spec = dws.WeightSpaceSpec.dwsnets_inr()
  ws = dws.init_weight_space(jax.random.key(0), spec, batch_shape=(args.batch,))
  ws = ws.replace(biases=tuple(
      b + 0.1 * jax.random.normal(jax.random.key(l + 1), b.shape)
      for l, b in enumerate(ws.biases)))
  labels_int = np.arange(args.batch) % NUM_CLASSES
  labels = jax.nn.one_hot(jnp.asarray(labels_int), NUM_CLASSES)
  ws_np = ([np.asarray(w) for w in ws.weights], [np.asarray(b) for b in ws.biases])

  jax_times = time_jax(names, spec, ws, labels, args.runs, args.inner)
  torch_times, torch_version = time_torch(names, ws_np, labels_int,
                                          args.torch_runs, args.torch_threads)

  rows = []
  for name in names:
    (call, step), t = jax_times[name], torch_times[name]
    rows.append(dict(
        augmentation=name,
        jax_us_per_batch_in_step=round(step * 1e6, 1),
        jax_us_per_batch_per_call=round(call * 1e6, 1),
        torch_us_per_sample=round(t * 1e6 / args.batch, 2),
        speedup_in_step=round(t / step, 1),
        speedup_per_call=round(t / call, 1)))
  result = dict(
      command="python -m dws_jax.benchmarks.augment",
      batch=args.batch, inr="2->32->32->1 SIREN (1185 parameters)",
      jax_runs=args.runs, jax_inner=args.inner, torch_runs=args.torch_runs,
      torch_threads=args.torch_threads, jax_version=jax.__version__,
      torch_version=torch_version, backend=jax.default_backend(),
      cpu_count=os.cpu_count(), machine=platform.machine(),
      load_average=os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
      date=time.strftime("%Y-%m-%d"), rows=rows,
      min_speedup_in_step=min(r["speedup_in_step"] for r in rows),
      min_speedup_per_call=min(r["speedup_per_call"] for r in rows))

  out_dir = pathlib.Path(args.out)
  out_dir.mkdir(parents=True, exist_ok=True)
  (out_dir / "bench_augment.json").write_text(json.dumps(result, indent=2) + "\n")
  lines = [
      f"Batch of {args.batch} INRs (2->32->32->1), {jax.default_backend()} "
      f"({os.cpu_count()} cores, load average {result['load_average']:.1f}), "
      f"jax {jax.__version__} vs torch {torch_version} "
      f"({args.torch_threads} thread, per-sample loop), {result['date']}. "
      f"Speedup = per-sample throughput of dws_jax / torch; in-step = "
      f"{args.inner} augmentations chained in one jitted call, per call = one "
      "jitted call per batch (includes dispatch).",
      "",
      "| augmentation | torch us / sample | dws_jax us / batch (in-step) | "
      "speedup (in-step) | dws_jax us / batch (per call) | speedup (per call) |",
      "|---|---:|---:|---:|---:|---:|",
  ]
  for r in rows:
    lines.append(
        f"| {r['augmentation']} | {r['torch_us_per_sample']:.1f} | "
        f"{r['jax_us_per_batch_in_step']:.0f} | {r['speedup_in_step']:.0f}x | "
        f"{r['jax_us_per_batch_per_call']:.0f} | {r['speedup_per_call']:.0f}x |")
  (out_dir / "bench_augment.md").write_text("\n".join(lines) + "\n")
  print("\n".join(lines))
  if not math.isfinite(result["min_speedup_in_step"]):
    raise SystemExit("non-finite timing")


if __name__ == "__main__":
  allocator.reexec_with_tcmalloc()
  main()
