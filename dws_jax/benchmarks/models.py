# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Training-step time of every weight-space model at batch 256 on this machine.

For each registered model with its default (official) configuration on
2->32->32->1 INRs and 10 classes: one jitted forward + backward + Adam step at
``--batch`` (default 256), timed after one warm-up step, median over
``--steps`` steps; samples/s; parameter count; the peak resident memory of
the process that ran it (each model runs in its own subprocess, peak RSS from
``os.wait4``).

Optionally (``--reference-code DIR``, a local checkout of the official
deep-weight-space-augmentations code, never part of this repository) the
official PyTorch DWSNet (``CannibalModelForClassification``) is timed in the
same run on random inputs of the same shapes; the same-run ratio is only
meaningful when the machine is otherwise idle.

  python -m dws_jax.benchmarks.models [--reference-code /path/to/official]

Writes ``results/bench_models.json`` and ``results/bench_models.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import subprocess
import sys
import tempfile
import time

from dws_jax.xla_cpu import allocator

# Reference numbers measured earlier with the official PyTorch code on this
# 2-core CPU (design.md): seconds per training step and batch size.
REFERENCE = {
    "dwsnet": (0.850, 256),
    "relational_transformer": (18.9, 64),
}
# Gradient accumulation: the relational transformer's batch of 256 is
# processed 16 samples at a time inside the jitted step (one Adam step on the
# mean gradient of all 256, identical to a full-batch step; no batch norm).
MICRO_BATCH = {"relational_transformer": 16}
ORDER = ("dwsnet", "relational_transformer", "nfn_np", "nfn_hnp", "mlp",
         "inr2vec_transformer")


def _parse(argv):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--batch", type=int, default=256)
  parser.add_argument("--steps", type=int, default=5, help="timed steps")
  parser.add_argument("--models", default=",".join(ORDER))
  parser.add_argument("--reference-code", default=None,
                      help="directory holding the official models/ package")
  parser.add_argument("--torch-threads", type=int, default=2)
  parser.add_argument("--out", default="results")
  parser.add_argument("--merge", action="store_true",
                      help="keep earlier results of models not run now")
  parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
  parser.add_argument("--result", default=None, help=argparse.SUPPRESS)
  return parser.parse_args(argv)


def run_jax_model(name: str, batch: int, steps: int) -> dict:
  """Times one model's jitted train step; returns a result dict."""
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  import optax  # pylint: disable=g-import-not-at-top

  import dws_jax  # pylint: disable=g-import-not-at-top
  from dws_jax import models  # pylint: disable=g-import-not-at-top
  from dws_jax import plugins  # pylint: disable=g-import-not-at-top
  # pylint: disable-next=g-import-not-at-top
  from dws_jax.xla_cpu.native import build as native_build

  plugins.load()  # kernels="auto" -> "xla_cpu" on the CPU

  spec = dws_jax.WeightSpaceSpec.siren((2, 32, 32, 1))
  key = jax.random.key(0)
  ws = dws_jax.init_weight_space(key, spec, "siren", (batch,))
  labels = jax.random.randint(key, (batch,), 0, 10)
  model = models.get(name, spec=spec, num_classes=10)
  t0 = time.perf_counter()
  variables = model.init({"params": key, "dropout": key}, ws[:2])
  init_s = time.perf_counter() - t0
  params = variables["params"]
  tx = optax.adam(1e-3)
  opt_state = tx.init(params)

  def loss_fn(params, ws, labels, key):
    logits = model.apply({"params": params}, ws, train=True,
                         rngs={"dropout": key})
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()

  micro = MICRO_BATCH.get(name, batch)
  if batch % micro:
    raise ValueError(f"batch {batch} is not a multiple of micro-batch {micro}")

  def grads_fn(params, ws, labels, key):
    """Mean loss and gradient over the batch, ``micro`` samples at a time."""
    if micro == batch:
      return jax.value_and_grad(loss_fn)(params, ws, labels, key)
    chunks = jax.tree.map(
        lambda x: x.reshape((batch // micro, micro) + x.shape[1:]),
        (ws, labels))

    def body(acc, inputs):
      (ws_c, labels_c), i = inputs
      loss, grads = jax.value_and_grad(loss_fn)(
          params, ws_c, labels_c, jax.random.fold_in(key, i))
      return jax.tree.map(jnp.add, acc, (loss, grads)), None

    zero = (jnp.zeros(()), jax.tree.map(jnp.zeros_like, params))
    total, _ = jax.lax.scan(body, zero, (chunks, jnp.arange(batch // micro)))
    return jax.tree.map(lambda x: x / (batch // micro), total)

  # The batch is an argument (not a closed-over constant, which XLA would
  # try to constant-fold at compile time).
  @jax.jit
  def step(params, opt_state, ws, labels, key):
    loss, grads = grads_fn(params, ws, labels, key)
    updates, opt_state = tx.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss

  t0 = time.perf_counter()
  lowered = step.lower(params, opt_state, ws, labels, key)
  step = lowered.compile()
  params, opt_state, loss = step(params, opt_state, ws, labels, key)
  loss.block_until_ready()
  compile_s = time.perf_counter() - t0
  native = any(target in lowered.as_text()
               for target in native_build.TARGETS.values())
  times = []
  for i in range(steps):
    t0 = time.perf_counter()
    params, opt_state, loss = step(params, opt_state, ws, labels,
                                   jax.random.fold_in(key, i))
    loss.block_until_ready()
    times.append(time.perf_counter() - t0)
  median = float(np.median(times))
  return dict(model=name, impl="dws_jax", batch=batch, micro_batch=micro,
              params=models.param_count(variables),
              official_params=models.OFFICIAL_PARAM_COUNTS.get(name),
              step_s=median, samples_per_s=batch / median,
              step_times_s=times, first_step_s=compile_s, init_s=init_s,
              loss=float(loss), native_kernels=native)


# Official models timed with --reference-code: worker name -> (builder name,
# batch or None for --batch, most timed steps). The relational transformer
# runs at batch 64: at 256 it needs more memory than this machine has.
TORCH_WORKERS = {
    "torch_dwsnet": ("dwsnet", None, None),
    "torch_rtransformer": ("relational_transformer", 64, 3),
}


def _official_model(name: str, code_dir: str, weight_shapes, bias_shapes):
  """The official PyTorch model ``name`` with the official trainer's defaults."""
  sys.path.insert(0, code_dir)
  # pylint: disable=g-import-not-at-top,import-outside-toplevel
  if name == "dwsnet":
    from models.models import CannibalModelForClassification
    return CannibalModelForClassification(
        weight_shapes=weight_shapes, bias_shapes=bias_shapes,
        input_features=1, hidden_dim=16, n_hidden=2, n_classes=10)
  from models.relation_transformer.models import RelationTransformer
  from models.relation_transformer.probe_features import INRPerLayer
  # pylint: enable=g-import-not-at-top,import-outside-toplevel
  return RelationTransformer(
      d_in=1, layer_layout=[weight_shapes[0][0]] + [b[0] for b in bias_shapes],
      inr_model=INRPerLayer(in_dim=weight_shapes[0][0],
                            n_layers=len(weight_shapes),
                            out_channels=weight_shapes[-1][-1],
                            up_scale=weight_shapes[0][1] // weight_shapes[0][0]),
      d_out=10)


def run_torch_model(worker: str, code_dir: str, batch: int, steps: int,
                    threads: int) -> dict:
  """Times an official PyTorch model's train step (Adam) on random inputs."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  import torch  # pylint: disable=g-import-not-at-top

  name, fixed_batch, max_steps = TORCH_WORKERS[worker]
  batch = fixed_batch or batch
  steps = min(steps, max_steps or steps)
  torch.set_num_threads(threads)
  torch.manual_seed(0)
  sizes = (2, 32, 32, 1)
  weight_shapes = tuple((sizes[i], sizes[i + 1]) for i in range(3))
  bias_shapes = tuple((d,) for d in sizes[1:])
  model = _official_model(name, code_dir, weight_shapes, bias_shapes)
  model.train()
  opt = torch.optim.Adam(model.parameters(), lr=1e-3)
  inputs = (tuple(torch.randn(batch, *s, 1) for s in weight_shapes),
            tuple(torch.randn(batch, *s, 1) for s in bias_shapes))
  labels = torch.randint(0, 10, (batch,))
  times = []
  for i in range(steps + 1):
    t0 = time.perf_counter()
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(inputs), labels)
    loss.backward()
    opt.step()
    if i:
      times.append(time.perf_counter() - t0)
  median = float(np.median(times))
  return dict(model=name, impl=f"official PyTorch {torch.__version__}",
              batch=batch, params=sum(p.numel() for p in model.parameters()),
              step_s=median, samples_per_s=batch / median, step_times_s=times)


def _spawn(args, worker: str) -> dict:
  """Runs one worker in a subprocess; adds its peak RSS."""
  with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
    result_path = f.name
  cmd = [sys.executable, "-m", "dws_jax.benchmarks.models", "--worker", worker,
         "--result", result_path, "--batch", str(args.batch), "--steps",
         str(args.steps), "--torch-threads", str(args.torch_threads)]
  if args.reference_code:
    cmd += ["--reference-code", args.reference_code]
  env = dict(os.environ)
  if worker in TORCH_WORKERS:  # The official code as it is usually run.
    env = allocator.system_env(env)
  proc = subprocess.Popen(cmd, env=env)
  _, status, usage = os.wait4(proc.pid, 0)
  if status != 0:
    return dict(model=worker, error=f"worker exited with status {status}",
                peak_rss_gib=usage.ru_maxrss / 2**20)
  with open(result_path) as f:
    result = json.load(f)
  os.unlink(result_path)
  result["peak_rss_gib"] = usage.ru_maxrss / 2**20  # ru_maxrss is in KiB.
  return result


def _table(results, batch) -> str:
  lines = [
      "| model | implementation | params (official) | batch | ms/step | "
      "samples/s | first step (compile) s | peak RSS (GiB) | vs official |",
      "|---|---|---|---|---|---|---|---|---|"]
  same_runs = {r["model"]: r for r in results
               if r.get("impl", "").startswith("official") and "error" not in r}
  for r in results:
    if "error" in r:
      lines.append(f"| {r['model']} | failed: {r['error']} | | | | | | | |")
      continue
    official = r.get("official_params")
    params = f"{r['params']:,}" + (f" ({official:,})" if official else "")
    ratio = ""
    if r["impl"] == "dws_jax" and r["model"] in REFERENCE:
      ref_s, ref_b = REFERENCE[r["model"]]
      ratio = (f"{r['samples_per_s'] / (ref_b / ref_s):.2f}x samples/s "
               f"(reference {ref_b / ref_s:.1f}/s at batch {ref_b}, measured "
               "alone)")
      same_run = same_runs.get(r["model"])
      if same_run:
        # Both timed in this run, one after the other: the ratio is only as
        # reliable as the machine load was steady.
        speedup = r["samples_per_s"] / same_run["samples_per_s"]
        ratio += f"; same run: {speedup:.2f}x samples/s"
    first = (f"{r['first_step_s']:.1f}" if "first_step_s" in r else "")
    alloc = {"tcmalloc": ", tcmalloc", "system": ", glibc malloc"}.get(
        r.get("allocator"), "")
    if r.get("native_kernels"):
      alloc += ", native kernels"
    batch_col = str(r["batch"])
    if r.get("micro_batch", r["batch"]) != r["batch"]:
      batch_col += f" ({r['micro_batch']} at a time)"
    lines.append(
        f"| {r['model']}{'*' if r.get('merged_from_earlier_run') else ''} | "
        f"{r['impl']}{alloc} | {params} | {batch_col} | "
        f"{1000 * r['step_s']:.0f} | {r['samples_per_s']:.1f} | "
        f"{first} | {r['peak_rss_gib']:.2f} | {ratio} |")
  del batch
  return "\n".join(lines)


def main(argv=None):
  args = _parse(sys.argv[1:] if argv is None else argv)
  if args.worker:
    if args.worker in TORCH_WORKERS:
      result = run_torch_model(args.worker, args.reference_code, args.batch,
                               args.steps, args.torch_threads)
    else:
      result = run_jax_model(args.worker, args.batch, args.steps)
    result["allocator"] = "tcmalloc" if allocator.loaded_tcmalloc() else "system"
    with open(args.result, "w") as f:
      json.dump(result, f)
    return
  load = os.getloadavg()[0]
  results = []
  for name in args.models.split(","):
    print(f"[bench_models] {name} ...", flush=True)
    results.append(_spawn(args, name))
    print(f"[bench_models] {results[-1]}", flush=True)
  if args.reference_code:
    official_worker = {model: w for w, (model, _, _) in TORCH_WORKERS.items()}
    for name in args.models.split(","):
      if name in official_worker:
        print(f"[bench_models] official PyTorch {name} ...", flush=True)
        results.append(_spawn(args, official_worker[name]))
        print(f"[bench_models] {results[-1]}", flush=True)
  out = pathlib.Path(args.out)
  out.mkdir(parents=True, exist_ok=True)
  if args.merge and (out / "bench_models.json").exists():
    previous = json.loads((out / "bench_models.json").read_text())["results"]
    rerun = {(r["model"], r.get("impl", "dws_jax")[:5]) for r in results}
    # An earlier official-model row is no same-run comparison for a re-run
    # dws_jax model: drop it.
    for name, _ in list(rerun):
      rerun.add((name, "offic"))
    kept = [r for r in previous
            if (r["model"], r.get("impl", "dws_jax")[:5]) not in rerun]
    for r in kept:
      r["merged_from_earlier_run"] = True
    results = kept + results
    results.sort(key=lambda r: (ORDER.index(r["model"]),
                                r.get("impl", "") != "dws_jax"))
  meta = dict(machine=platform.processor() or platform.machine(),
              cpus=os.cpu_count(), load_average_at_start=load,
              batch=args.batch, timed_steps=args.steps,
              reference_s_per_step=REFERENCE)
  (out / "bench_models.json").write_text(
      json.dumps(dict(meta=meta, results=results), indent=2))
  header = (
      f"Training step (forward + backward + Adam, jitted, median of "
      f"{args.steps} after warm-up) on 2->32->32->1 INRs, 10 classes, default "
      f"configs; {os.cpu_count()} CPU cores, load average {load:.1f} at start "
      f"and {os.getloadavg()[0]:.1f} at the end (other processes share the "
      "machine; at a load above the core count every time here is inflated). "
      "First step = trace + compile + one step. Rows marked * are kept from "
      "an earlier run (--merge), measured under that run's load. "
      "Peak RSS is that of the whole process running the model. Reference "
      "(official PyTorch, measured earlier on this machine): DWSNet 850 ms per "
      "step at batch 256; relational transformer 18.9 s per step at batch 64 "
      "(3.4 samples/s), killed for memory at batch 256.\n\n")
  (out / "bench_models.md").write_text(header + _table(results, args.batch)
                                       + "\n")
  print(header + _table(results, args.batch))


if __name__ == "__main__":
  allocator.reexec_with_tcmalloc()
  main()
