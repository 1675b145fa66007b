# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""INR fitting throughput: dws_jax's refill engine against batched PyTorch.

Both fit the default recipe (SIREN 2->32->32->1, w0=30, +0.5 offset, SIREN
init, Adam 5e-4, full-grid MSE, at most 1000 steps, early stop at 40 dB) to the
first ``--num`` real Fashion-MNIST test images, in the same run:

* ``dws_jax``: :class:`dws_jax.fitting.RefillFitter` (vmap over INR slots, scan
  over steps, slots refilled as INRs finish, slot axis sharded over
  ``--devices`` host devices).
* ``torch``: a straightforward batched PyTorch implementation (``torch.bmm``
  over stacked weights, a hand-written Adam with the same formula, finished INRs
  dropped from the batch), ``torch.set_num_threads(--torch-threads)``.

  python -m dws_jax.benchmarks.fit --num 256

Writes ``results/bench_fit.json`` and ``results/bench_fit.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import time

from dws_jax.xla_cpu import allocator


def _parse(argv):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--num", type=int, default=256, help="number of images")
  parser.add_argument("--devices", type=int, default=2,
                      help="host devices the INR axis is sharded over")
  parser.add_argument("--slots", type=int, default=32, help="INRs in flight")
  parser.add_argument("--chunk-steps", type=int, default=25)
  parser.add_argument("--torch-threads", type=int, default=2)
  parser.add_argument("--skip-torch", action="store_true")
  parser.add_argument("--data-dir", default=None)
  parser.add_argument("--out", default="results", help="output directory")
  return parser.parse_args(argv)


def torch_fit(images, *, steps=1000, lr=5e-4, target_psnr=40.0, seed=0,
              threads=2):
  """Batched PyTorch fit of the default recipe.

  Args:
    images: ``(B, 28, 28)`` float32 in [0, 1].

  Returns:
    ``(psnr (B,), steps (B,), seconds)`` as numpy arrays and a float.
  """
  import numpy as np  # pylint: disable=g-import-not-at-top
  import torch  # pylint: disable=g-import-not-at-top

  torch.set_num_threads(threads)
  gen = torch.Generator().manual_seed(seed)
  num = len(images)
  lin = torch.linspace(-1, 1, 28)
  gx, gy = torch.meshgrid(lin, lin, indexing="xy")
  coords = torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)  # (784, 2)
  targets = torch.as_tensor(np.asarray(images)).reshape(num, -1, 1)

  def uniform(shape, bound):
    return (torch.rand(shape, generator=gen) * 2 - 1) * bound

  # SIREN init: first layer U(+-1/fan_in), hidden U(+-sqrt(6/fan_in)/w0), zero
  # sine biases, PyTorch nn.Linear default for the last layer.
  params = [uniform((num, 2, 32), 1 / 2), torch.zeros(num, 1, 32),
            uniform((num, 32, 32), (6 / 32) ** 0.5 / 30), torch.zeros(num, 1, 32),
            uniform((num, 32, 1), 32 ** -0.5), uniform((num, 1, 1), 32 ** -0.5)]
  for p in params:
    p.requires_grad_(True)
  m = [torch.zeros_like(p) for p in params]
  v = [torch.zeros_like(p) for p in params]
  b1, b2, eps = 0.9, 0.999, 1e-8
  alive = torch.arange(num)
  final_psnr = np.zeros(num, np.float32)
  final_steps = np.zeros(num, np.int32)
  start = time.perf_counter()
  step = 0
  while True:
    w0_, c0, w1_, c1, w2_, c2 = params
    x = coords.expand(len(alive), -1, -1)
    h = torch.sin(30 * torch.baddbmm(c0, x, w0_))
    h = torch.sin(30 * torch.baddbmm(c1, h, w1_))
    out = torch.baddbmm(c2, h, w2_) + 0.5
    mse = ((out - targets[alive]) ** 2).mean(dim=(1, 2))
    psnr = -10 * torch.log10(mse.detach())
    finished = (psnr >= target_psnr) | (step >= steps)
    keep = ~finished
    if finished.any():
      idx = alive[finished].numpy()
      final_psnr[idx] = psnr[finished].numpy()
      final_steps[idx] = step
      if not keep.any():
        break
      alive = alive[keep]
    for p in params:
      p.grad = None
    mse[keep].sum().backward()  # finished INRs are dropped from the batch
    with torch.no_grad():
      step += 1
      new_params = []
      for i, p in enumerate(params):
        g, p = p.grad[keep], p.detach()[keep]
        m[i], v[i] = m[i][keep], v[i][keep]
        m[i].mul_(b1).add_(g, alpha=1 - b1)
        v[i].mul_(b2).addcmul_(g, g, value=1 - b2)
        denom = (v[i] / (1 - b2 ** step)).sqrt_().add_(eps)
        p.addcdiv_(m[i], denom, value=-lr / (1 - b1 ** step))
        new_params.append(p.requires_grad_(True))
      params = new_params
  return final_psnr, final_steps, time.perf_counter() - start


def jax_fit(images, *, devices, slots, chunk_steps, steps=1000, lr=5e-4,
            target_psnr=40.0, seed=0):
  """dws_jax refill fit of the default recipe (compile excluded from the time).

  Returns:
    ``(psnr (B,), steps (B,), seconds, compile_seconds)``.
  """
  import numpy as np  # pylint: disable=g-import-not-at-top
  from dws_jax import fitting  # pylint: disable=g-import-not-at-top
  from dws_jax import siren  # pylint: disable=g-import-not-at-top
  from dws_jax import weight_space as wsp  # pylint: disable=g-import-not-at-top

  num = len(images)
  fitter = fitting.RefillFitter(
      wsp.WeightSpaceSpec.dwsnets_inr(), siren.make_grid(28), lr=lr,
      init="siren", max_steps=steps, target_psnr=target_psnr,
      chunk_steps=chunk_steps, slots=slots, mesh=fitting.local_mesh(devices))
  targets = np.asarray(images, np.float32).reshape(num, -1, 1)
  keys = fitting.inr_key_data(seed, 2, np.arange(num), np.zeros(num, np.int64))
  start = time.perf_counter()
  fitter.warmup()
  compile_s = time.perf_counter() - start
  start = time.perf_counter()
  result = fitter.fit(keys, targets)
  return result.psnr, result.steps, time.perf_counter() - start, compile_s


def _summary(psnr, steps, seconds, target):
  import numpy as np  # pylint: disable=g-import-not-at-top
  reached = psnr >= target
  return {
      "num": int(len(psnr)),
      "seconds": round(float(seconds), 2),
      "inrs_per_s": round(len(psnr) / seconds, 3),
      "inrs_per_s_to_target": round(int(reached.sum()) / seconds, 3),
      "median_steps_to_target": (float(np.median(steps[reached]))
                                 if reached.any() else None),
      "mean_steps": round(float(np.mean(steps)), 1),
      "max_steps": int(np.max(steps)),
      "fraction_reached": round(float(reached.mean()), 4),
      "median_final_psnr": round(float(np.median(psnr)), 3),
  }


def main(argv=None) -> None:
  args = _parse(argv)
  import jax  # pylint: disable=g-import-not-at-top
  jax.config.update("jax_num_cpu_devices", args.devices)
  import numpy as np  # pylint: disable=g-import-not-at-top
  from dws_jax.data import fashion_mnist  # pylint: disable=g-import-not-at-top

  images, _ = fashion_mnist.load_split("test", args.data_dir)
  images = images[:args.num]
  target = 40.0
  results = {"config": {
      "num_images": len(images), "source": "Fashion-MNIST test[:num]",
      "recipe": "SIREN 2-32-32-1 w0=30 +0.5, siren init, Adam 5e-4, MSE, "
                "<=1000 steps, stop at 40 dB",
      "devices": args.devices, "slots": args.slots,
      "chunk_steps": args.chunk_steps, "torch_threads": args.torch_threads,
      "cpu_count": os.cpu_count(), "load_avg_start": os.getloadavg(),
      "platform": platform.platform(), "jax": jax.__version__}}

  psnr, steps, seconds, compile_s = jax_fit(
      images, devices=args.devices, slots=args.slots,
      chunk_steps=args.chunk_steps)
  results["dws_jax"] = _summary(np.asarray(psnr), np.asarray(steps), seconds,
                                target)
  results["dws_jax"]["compile_seconds"] = round(compile_s, 2)
  print("dws_jax:", results["dws_jax"], flush=True)
  if not args.skip_torch:
    import torch  # pylint: disable=g-import-not-at-top
    results["config"]["torch"] = torch.__version__
    psnr, steps, seconds = torch_fit(images, threads=args.torch_threads)
    results["torch"] = _summary(psnr, steps, seconds, target)
    print("torch:  ", results["torch"], flush=True)
    results["speedup_inrs_per_s_to_target"] = round(
        results["dws_jax"]["inrs_per_s_to_target"]
        / max(results["torch"]["inrs_per_s_to_target"], 1e-9), 2)
    results["median_psnr_diff_db"] = round(
        results["dws_jax"]["median_final_psnr"]
        - results["torch"]["median_final_psnr"], 3)
    print(f"speedup (INRs/s to 40 dB): {results['speedup_inrs_per_s_to_target']}x;"
          f" median PSNR difference {results['median_psnr_diff_db']:+.3f} dB")
  results["config"]["load_avg_end"] = os.getloadavg()

  out = pathlib.Path(args.out)
  out.mkdir(parents=True, exist_ok=True)
  (out / "bench_fit.json").write_text(json.dumps(results, indent=2) + "\n")
  (out / "bench_fit.md").write_text(_markdown(results))
  print(f"wrote {out / 'bench_fit.json'} and {out / 'bench_fit.md'}")


def _markdown(results) -> str:
  cfg = results["config"]
  rows = [("dws_jax (refill, %d host devices)" % cfg["devices"], results["dws_jax"])]
  if "torch" in results:
    rows.append(("PyTorch %s batched (bmm, %d threads)" % (
        cfg.get("torch", ""), cfg["torch_threads"]), results["torch"]))
  lines = [
      f"INR fitting, {cfg['num_images']} real Fashion-MNIST images, "
      f"{cfg['recipe']}; {cfg['cpu_count']} CPU cores, load average "
      f"{cfg['load_avg_start'][0]:.1f} at start.",
      "",
      "| implementation | INRs/s to 40 dB | median steps to 40 dB | reached 40 dB "
      "| median final PSNR (dB) | wall (s) |",
      "|---|---|---|---|---|---|",
  ]
  for name, r in rows:
    lines.append(f"| {name} | {r['inrs_per_s_to_target']:.2f} | "
                 f"{r['median_steps_to_target']} | {r['fraction_reached']:.3f} | "
                 f"{r['median_final_psnr']:.2f} | {r['seconds']:.1f} |")
  if "speedup_inrs_per_s_to_target" in results:
    lines += ["", f"Speedup: **{results['speedup_inrs_per_s_to_target']}x** "
              f"INRs/s to 40 dB; median PSNR difference "
              f"{results['median_psnr_diff_db']:+.3f} dB."]
  return "\n".join(lines) + "\n"


if __name__ == "__main__":
  allocator.reexec_with_tcmalloc()
  main()
