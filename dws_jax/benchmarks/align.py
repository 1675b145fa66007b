# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Benchmark of alignment MixUp: batched JAX paths vs a per-pair reference loop.

    python -m dws_jax.benchmarks.align [--num=256] [--inrs=fitted] [--reps=5]

Aligned MixUp (``mixup_aligned``: partner = random permutation of the batch,
weight matching, interpolation) of a batch of ``--num`` 2->32->32->1 SIREN
INRs, timed for

* ``optax``: the whole step jitted, LAPs by ``optax.assignment.hungarian_algorithm``;
* ``scipy``: the whole step jitted, LAPs by scipy through ``jax.pure_callback``
  (one callback per group per sweep for the whole batch);
* ``host``: the whole step jitted, the whole coordinate descent of the batch
  in one ``jax.pure_callback`` (numpy similarities, the LAPs of a group visit
  in one batched native call); the CPU default, with its LAPs on one worker
  thread per core (``host``) and on a single thread (``host_1thread``);
* ``reference loop``: one pair at a time as in the official data loader
  (torch tensors in the state-dict layout, coordinate descent with
  ``scipy.optimize.linear_sum_assignment`` per group, then permute and mix),
  written here in that style and measured in the same run.

The INRs are real Fashion-MNIST test images fitted with :func:`dws_jax.
fitting.fit_inrs` (``--inrs=fitted``, default) or SIREN-initialised random
INRs (``--inrs=random``). Times are the best of ``--reps`` runs after a warm-up
(the compile is excluded; medians are in the JSON): on a shared machine the
best run is the least disturbed one, for every path alike. All paths run the
same algorithm and reach the same mean objective gain (last column). Results go to ``results/bench_align.json`` and
``results/bench_align.md``.
"""

from __future__ import annotations

import json
import os
import platform
import time

from absl import app
from absl import flags
import jax
import jax.numpy as jnp
import numpy as np
import scipy.optimize

from dws_jax.xla_cpu import allocator
from dws_jax.benchmarks import timing
from dws_jax import fitting
from dws_jax import matching
from dws_jax.augment import mixup
from dws_jax import siren
from dws_jax import weight_space as wsp

_NUM = flags.DEFINE_integer("num", 256, "Batch size (number of pairs).")
_INRS = flags.DEFINE_enum("inrs", "fitted", ["fitted", "random"],
                          "Fitted Fashion-MNIST INRs or random SIREN inits.")
_FIT_STEPS = flags.DEFINE_integer("fit_steps", 500, "Adam steps when fitting.")
_REPS = flags.DEFINE_integer("reps", 10, "Timed repetitions per JAX path.")
_REF_REPS = flags.DEFINE_integer("ref_reps", 3,
                                 "Timed repetitions of the reference loop.")
_OUT = flags.DEFINE_string("out", "results", "Output directory.")

SIZES = (2, 32, 32, 1)


# -- reference-style per-pair loop (torch, state-dict layout) --------------------
#
# Mirrors the per-sample work of the official ``rebasin`` MixUp in the data
# loader: dataset layout ``(1, d_in, d_out, 1)`` -> state dict ``(out, in)``,
# coordinate descent with one scipy LAP per group (permutations kept as float
# tensors and cast at every use, an identity-matrix gather to score the old and
# new assignment, the row-order assert), the permutation applied layer by layer
# with clones, back to the dataset layout, then the interpolation.


def _reference_match(params_a, params_b, num_hidden, rng, max_iter=100,
                     error=1e-12):
  """Per-pair coordinate descent; returns ``({group: perm}, sweeps)``.

  ``params_*`` map ``seq.{i}.weight`` ``(out, in)`` / ``seq.{i}.bias`` to torch
  tensors. Group ``P_i`` acts on axis 0 of ``seq.{i}.weight`` and
  ``seq.{i}.bias`` and on axis 1 of ``seq.{i+1}.weight``.
  """
  import torch  # pylint: disable=g-import-not-at-top
  axes = {f"P_{i}": [(f"seq.{i}.weight", 0), (f"seq.{i}.bias", 0),
                     (f"seq.{i + 1}.weight", 1)] for i in range(num_hidden)}
  perm_of = {}  # (key, axis) -> group
  for p, entries in axes.items():
    for entry in entries:
      perm_of[entry] = p
  sizes = {p: params_a[entries[0][0]].shape[0] for p, entries in axes.items()}
  perm = {p: torch.arange(n) for p, n in sizes.items()}
  names = list(perm)

  def permuted(key, skip_axis):
    w = params_b[key]
    for axis in range(w.ndim):
      p = perm_of.get((key, axis))
      if p is not None and axis != skip_axis:
        w = torch.index_select(w, axis, perm[p].int())
    return w

  sweeps = 0
  for _ in range(max_iter):
    sweeps += 1
    progress = False
    for idx in torch.from_numpy(rng.permutation(len(names))):
      p = names[int(idx)]
      n = sizes[p]
      sim = torch.zeros((n, n))
      for key, axis in axes[p]:
        w_a = torch.moveaxis(params_a[key], axis, 0).reshape((n, -1))
        w_b = torch.moveaxis(permuted(key, axis), axis, 0).reshape((n, -1))
        sim += w_a @ w_b.T
      rows, cols = scipy.optimize.linear_sum_assignment(
          sim.detach().cpu().numpy(), maximize=True)
      assert (torch.tensor(rows) == torch.arange(len(rows))).all()
      eye = torch.eye(n)
      old = torch.einsum("ij,ij->i", sim, eye[perm[p].long()]).sum()
      new = torch.einsum("ij,ij->i", sim, eye[cols, :]).sum()
      progress = progress or new > old + error
      perm[p] = torch.Tensor(cols)
    if not progress:
      break
  return perm, sweeps


def _reference_apply(params, perm):
  """Applies ``{P_i: perm}`` to a state dict in place, layer by layer."""
  import torch  # pylint: disable=g-import-not-at-top
  per_leaf = []
  for p in perm.values():
    per_leaf += [p.long(), p.long()]  # weight rows and bias of layer i
  prev = None
  keys = list(params)
  for index, (key, layer_perm) in enumerate(zip(keys, per_leaf + [None])):
    value = params[key]
    if prev is not None and "weight" in key:
      value.data.copy_(torch.clone(value)[:, prev, ...].data)
    if index + 1 > len(keys) - 2:
      break
    value.data.copy_(torch.clone(value)[layer_perm, ...].data)
    if "weight" in key:
      prev = torch.clone(layer_perm)
  return params


def to_dataset_layout(ws):
  """Per INR: weights ``(1, d_in, d_out, 1)`` and biases ``(1, d_out, 1)``."""
  import torch  # pylint: disable=g-import-not-at-top
  host = jax.tree.map(np.asarray, ws)
  out = []
  for i in range(len(host)):
    weights = tuple(torch.from_numpy(np.array(w[i])[None, :, :, None])
                    for w in host.weights)
    biases = tuple(torch.from_numpy(np.array(b[i])[None, :, None])
                   for b in host.biases)
    out.append((weights, biases))
  return out


def reference_loop(samples, labels, partner_idx, seed=0):
  """Aligned MixUp of every anchor with its partner, one pair at a time.

  Args:
    samples: ``[(weights, biases)]`` from :func:`to_dataset_layout`.
    labels: ``(B, C)`` soft labels.
    partner_idx: ``(B,)`` partner of every anchor.
    seed: seed of the group orders.

  Returns:
    ``([(weights, biases, label)], sweeps (B,))``.
  """
  import torch  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(seed)
  labels = torch.from_numpy(np.array(labels))
  out, sweeps = [], []
  for i, j in enumerate(partner_idx):
    weights, biases = samples[i]
    weights_b, biases_b = samples[int(j)]
    alpha = torch.rand(1).item()
    params_a, params_b = {}, {}
    for l in range(len(weights)):
      params_a[f"seq.{l}.weight"] = weights[l].squeeze(0).squeeze(-1).permute(1, 0)
      params_a[f"seq.{l}.bias"] = biases[l].squeeze(0).squeeze(-1)
      params_b[f"seq.{l}.weight"] = (
          weights_b[l].squeeze(0).squeeze(-1).permute(1, 0).clone())
      params_b[f"seq.{l}.bias"] = biases_b[l].squeeze(0).squeeze(-1).clone()
    perm, n = _reference_match(params_a, params_b, len(weights) - 1, rng)
    params_b = _reference_apply(params_b, perm)
    weights_b = tuple(v.permute(1, 0).unsqueeze(-1)
                      for k, v in params_b.items() if "weight" in k)
    biases_b = tuple(v.unsqueeze(-1) for k, v in params_b.items() if "bias" in k)
    mixed_w = tuple((1 - alpha) * weights_b[l] + alpha * weights[l]
                    for l in range(len(weights)))
    mixed_b = tuple((1 - alpha) * biases_b[l] + alpha * biases[l]
                    for l in range(len(biases)))
    label = alpha * labels[i] + (1 - alpha) * labels[int(j)]
    out.append((mixed_w, mixed_b, label))
    sweeps.append(n)
  return out, np.asarray(sweeps)


def reference_objective_gain(samples, partner_idx, num, seed=0):
  """Mean objective gain ``<a, P(b)> - <a, b>`` of the reference matching."""
  import torch  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(seed)
  gains = []
  for i in range(num):
    def to_sd(sample):
      weights, biases = sample
      out = {}  # W0, b0, W1, b1, ...: the order the layer-wise apply expects
      for l, (w, b) in enumerate(zip(weights, biases)):
        out[f"seq.{l}.weight"] = w.squeeze(0).squeeze(-1).permute(1, 0).clone()
        out[f"seq.{l}.bias"] = b.squeeze(0).squeeze(-1).clone()
      return out

    params_a, params_b = to_sd(samples[i]), to_sd(samples[int(partner_idx[i])])
    before = sum(float(torch.sum(params_a[k] * params_b[k])) for k in params_a)
    perm, _ = _reference_match(params_a, params_b, len(samples[i][0]) - 1, rng)
    params_b = _reference_apply(params_b, perm)
    after = sum(float(torch.sum(params_a[k] * params_b[k])) for k in params_a)
    gains.append(after - before)
  return float(np.mean(gains))


# -- benchmark ----------------------------------------------------------------------


def make_inrs(key, spec, num, kind, fit_steps):
  """``num`` INRs of ``spec``: fitted to Fashion-MNIST test images or random."""
  if kind == "random":
    return siren.init_weight_space(key, spec, "siren", (num,)), None
  from dws_jax.data import fashion_mnist  # pylint: disable=g-import-not-at-top
  images, labels = fashion_mnist.load_split("test")
  targets = jnp.asarray(np.asarray(images[:num], np.float32).reshape(num, -1, 1))
  result = fitting.fit_inrs(key, targets, siren.make_grid(28), spec,
                            steps=fit_steps)
  return result.ws, result.psnr


def main(argv):
  del argv
  num = _NUM.value
  spec = wsp.WeightSpaceSpec.dwsnets_inr(SIZES)
  load_start = os.getloadavg()[0]
  start = time.perf_counter()
  ws, psnr = make_inrs(jax.random.key(0), spec, num, _INRS.value,
                       _FIT_STEPS.value)
  ws = jax.block_until_ready(ws)
  fit_s = time.perf_counter() - start
  labels = jax.nn.one_hot(jnp.arange(num) % 10, 10)
  key = jax.random.key(1)
  k_partner = jax.random.split(key, 4)[0]
  partner_idx = np.asarray(mixup.partner_indices(k_partner, num))

  rows = {}
  paths = {"optax": ("optax", 0), "scipy": ("scipy", 0),
           "host_1thread": ("host", 1), "host": ("host", 0)}
  for path, (solver, threads) in paths.items():
    step = jax.jit(lambda k, w, y, s=solver, t=threads: mixup.batch_mixup(
        k, w, y, spec, variant="aligned", solver=s, lap_threads=t))
    start = time.perf_counter()
    jax.block_until_ready(step(key, ws, labels))
    compile_s = time.perf_counter() - start
    ms, median_ms = timing.time_ms(
        lambda r, f=step: f(jax.random.fold_in(key, r), ws, labels), _REPS.value)
    res = matching.weight_matching(jax.random.key(2), ws, ws[partner_idx], spec,
                                   solver=solver)
    rows[path] = dict(
        ms_per_batch=ms, median_ms_per_batch=median_ms, compile_s=compile_s,
        mean_sweeps=float(jnp.mean(res.sweeps)),
        mean_objective_gain=float(jnp.mean(res.objective - res.objective_init)))

  # One thread, as in the official DataLoader workers (torch's default there).
  import torch  # pylint: disable=g-import-not-at-top
  torch.set_num_threads(1)
  samples = to_dataset_layout(ws)
  ref_times, ref_sweeps = [], None
  for r in range(_REF_REPS.value):
    start = time.perf_counter()
    _, ref_sweeps = reference_loop(samples, labels, partner_idx, seed=r)
    ref_times.append(time.perf_counter() - start)
  ref_ms = 1e3 * float(np.min(ref_times))
  rows["reference_loop"] = dict(
      ms_per_batch=ref_ms, median_ms_per_batch=1e3 * float(np.median(ref_times)),
      mean_sweeps=float(np.mean(ref_sweeps)),
      mean_objective_gain=reference_objective_gain(samples, partner_idx, num))
  for row in rows.values():
    row["ms_per_pair"] = row["ms_per_batch"] / num
    row["speedup_vs_reference"] = ref_ms / row["ms_per_batch"]

  result = dict(
      benchmark="aligned MixUp (weight matching + interpolation)",
      architecture="-".join(map(str, SIZES)), batch=num, inrs=_INRS.value,
      fit_steps=_FIT_STEPS.value if _INRS.value == "fitted" else None,
      fit_median_psnr=None if psnr is None else float(np.median(psnr)),
      fit_seconds=fit_s, backend=jax.default_backend(),
      auto_solver=matching.resolve_solver("auto"), cpu_count=os.cpu_count(),
      machine=platform.machine(), jax=jax.__version__,
      load_avg_1min=dict(start=load_start, end=os.getloadavg()[0]),
      reps=_REPS.value, ref_reps=_REF_REPS.value, rows=rows)
  os.makedirs(_OUT.value, exist_ok=True)
  with open(os.path.join(_OUT.value, "bench_align.json"), "w") as f:
    json.dump(result, f, indent=2)
  lines = [
      f"Aligned MixUp of {num} pairs of {result['architecture']} INRs "
      f"({_INRS.value}"
      + (f", {_FIT_STEPS.value} fit steps, median {result['fit_median_psnr']:.1f}"
         " dB" if psnr is not None else "")
      + f"), backend {result['backend']}, {result['cpu_count']} CPU cores.",
      f"Machine load (1-min load average) {load_start:.1f} at the start, "
      f"{result['load_avg_1min']['end']:.1f} at the end: times are the best of "
      f"{_REPS.value} runs (reference loop: {_REF_REPS.value}), all paths "
      "measured in this run.",
      "",
      "| path | ms / batch | ms / pair | speedup vs reference loop | mean sweeps "
      "| mean objective gain |",
      "|---|---|---|---|---|---|",
  ]
  names = {"optax": "JAX, optax Hungarian (jit)",
           "scipy": "JAX, scipy LAPs, one pure_callback per group visit (jit)",
           "host_1thread": "JAX, whole descent in one pure_callback (jit), "
                           "LAPs on 1 thread",
           "host": "JAX, whole descent in one pure_callback (jit), LAPs on "
                   f"{os.cpu_count()} threads (default)",
           "reference_loop": "reference-style per-pair loop (torch + scipy)"}
  for k, row in rows.items():
    lines.append(f"| {names[k]} | {row['ms_per_batch']:.1f} | "
                 f"{row['ms_per_pair']:.3f} | {row['speedup_vs_reference']:.1f}x"
                 f" | {row['mean_sweeps']:.2f} | {row['mean_objective_gain']:.4f} |")
  text = "\n".join(lines) + "\n"
  with open(os.path.join(_OUT.value, "bench_align.md"), "w") as f:
    f.write(text)
  print(text)


if __name__ == "__main__":
  allocator.reexec_with_tcmalloc()
  app.run(main)
