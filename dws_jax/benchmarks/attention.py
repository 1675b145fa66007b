# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Native set attention vs plain XLA on the shapes of DWSNet's SABs.

For every stacked attention of the default DWSNet at batch 256 on
2->32->32->1 INRs (per layer: the SABs sharing a set size and head width),
times forward + backward (a VJP with a fixed cotangent), jitted, median over
``--steps`` calls after one warm-up, of

* the native kernel
  (:func:`dws_jax.xla_cpu.native.set_attention.multi_set_attention`,
  one call for all members);
* plain XLA as DWSNet runs it without the kernel
  (:func:`dws_jax.models.layers.stacked_attention` on the concatenated heads,
  with the transposes to and from its layout);

in the same process, so the ratio holds under the same load. Also checks
that both give the same values and gradients.

  python -m dws_jax.benchmarks.attention

Writes ``results/bench_attention.json`` and ``results/bench_attention.md``.
"""

from __future__ import annotations

import argparse
import sys

from dws_jax.xla_cpu import allocator
from dws_jax.benchmarks import timing

# DWSNet defaults (hidden 16, 8 heads, 1 head in the last layer) on
# 2->32->32->1 INRs: (layer, members, set size n, heads per member, width d).
SHAPES = (
    ("dws_0, dws_1", 3, 32, 8, 4),
    ("dws_0, dws_1", 13, 32, 8, 2),
    ("dws_2", 13, 32, 1, 16),
    ("dws_2", 3, 32, 1, 32),
)


def _parse(argv):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--batch", type=int, default=256)
  parser.add_argument("--steps", type=int, default=20)
  parser.add_argument("--out", default="results")
  return parser.parse_args(argv)


def run(batch: int, steps: int) -> list[dict]:
  """Times both implementations for every entry of :data:`SHAPES`."""
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top

  from dws_jax.models import layers  # pylint: disable=g-import-not-at-top
  # pylint: disable-next=g-import-not-at-top
  from dws_jax.xla_cpu.native import build
  # pylint: disable-next=g-import-not-at-top
  from dws_jax.xla_cpu.native import set_attention as sa

  build.require("bench_attention")
  results = []
  for layer, members, n, heads, d in SHAPES:
    keys = jax.random.split(jax.random.key(0), 4 * members)
    shape = (batch, n, heads, d)
    qs, ks, vs, gs = ([jax.random.normal(keys[4 * i + r], shape)
                       for i in range(members)] for r in range(4))

    def native(qs, ks, vs):
      return list(sa.multi_set_attention(qs, ks, vs))

    def plain(qs, ks, vs):
      to = lambda xs: jnp.concatenate(
          [jnp.transpose(x, (0, 2, 3, 1)) for x in xs], axis=1)
      o = layers.stacked_attention(to(qs), to(ks), to(vs))
      o = jnp.transpose(o, (0, 3, 1, 2))
      return [o[:, :, i * heads:(i + 1) * heads] for i in range(members)]

    row = timing.compare_kernels(native, plain, (qs, ks, vs), gs, steps)
    results.append(dict(layer=layer, members=members, n=n, heads=heads, d=d,
                        logits=batch * members * heads * n * n, **row))
    print(f"[bench_attention] {results[-1]}", flush=True)
  return results


def main(argv=None):
  args = _parse(sys.argv[1:] if argv is None else argv)
  results, meta = timing.run_kernel_benchmark(args, run)
  lines = [
      "Command: `python -m dws_jax.benchmarks.attention`\n",
      "| DWSNet layer | SABs x heads | n | head width | logits | native ms | "
      "plain XLA ms | speedup | max rel. difference |",
      "|---|---|---|---|---|---|---|---|---|"]
  for r in results:
    lines.append(
        f"| {r['layer']} | {r['members']} x {r['heads']} | {r['n']} | "
        f"{r['d']} | {r['logits'] / 1e6:.1f}M | {r['native_ms']:.1f} | "
        f"{r['xla_ms']:.1f} | {r['speedup']:.2f}x | {r['max_rel_err']:.0e} |")
  lines.append(
      f"\nForward + backward at batch {args.batch}, jitted, median of "
      f"{args.steps} after warm-up, both in one process ({meta['allocator']}); "
      f"{meta['cpus']} CPU cores, load average "
      f"{meta['load_average_at_start']:.1f} at start.")
  print(timing.write_report(args.out, "bench_attention", meta, results,
                            lines))


if __name__ == "__main__":
  allocator.reexec_with_tcmalloc()
  main()
