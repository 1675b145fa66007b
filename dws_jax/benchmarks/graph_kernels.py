# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Native kernels of the relational transformer vs plain XLA, per layer.

On the shapes of one layer of the default relational transformer on
2->32->32->1 INRs (67 nodes, edge width 32, 8 heads of 16, edge MLP hidden
64) for a micro-batch of ``--batch`` graphs, times forward + backward (a VJP
with a fixed cotangent), jitted, median over ``--steps`` calls after one
warm-up, of

* relational attention: the native kernel
  (:func:`dws_jax.xla_cpu.native.relational_attention.relational_attention`)
  and the XLA version the model runs without it
  (:func:`dws_jax.models.relational_transformer.xla_relational_attention`);
* the edge update with dropout masks: the native kernel
  (:func:`dws_jax.xla_cpu.native.edge_mlp.edge_mlp`) and
  :func:`dws_jax.models.relational_transformer.xla_edge_mlp`;

in the same process, so the ratio holds under the same load, and checks
that both give the same values and gradients.

  python -m dws_jax.benchmarks.graph_kernels

Writes ``results/bench_graph_kernels.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import sys

from dws_jax.xla_cpu import allocator
from dws_jax.benchmarks import timing

NODES, D_EDGE, HEADS, HEAD_WIDTH, D_EDGE_HID = 67, 32, 8, 16, 64


def _parse(argv):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--batch", type=int, default=16)
  parser.add_argument("--steps", type=int, default=10)
  parser.add_argument("--out", default="results")
  return parser.parse_args(argv)


def _problems(batch: int):
  """(name, native fn, XLA fn, args) of each kernel on random inputs."""
  import jax  # pylint: disable=g-import-not-at-top

  from dws_jax.models import layers  # pylint: disable=g-import-not-at-top
  # pylint: disable-next=g-import-not-at-top
  from dws_jax.models import relational_transformer as rt
  # pylint: disable-next=g-import-not-at-top
  from dws_jax.xla_cpu.native import edge_mlp as em
  # pylint: disable-next=g-import-not-at-top
  from dws_jax.xla_cpu.native import relational_attention as ra

  keys = iter(jax.random.split(jax.random.key(0), 32))
  normal = lambda shape, scale=1.0: scale * jax.random.normal(next(keys), shape)
  nodes = (batch, NODES, HEADS, HEAD_WIDTH)
  edges = normal((batch, NODES, NODES, D_EDGE))
  attn_args = (normal(nodes), normal(nodes), normal(nodes), edges,
               normal((D_EDGE, 3, HEADS, HEAD_WIDTH), 0.2),
               normal((D_EDGE, HEADS, HEAD_WIDTH), 0.2))
  scale = 1.0 / (HEADS * HEAD_WIDTH) ** 0.5
  s, t = (normal((batch, NODES, D_EDGE_HID)) for _ in range(2))
  params = em.EdgeMlpParams(*(
      normal(shape, 1.0 if len(shape) == 1 else shape[0] ** -0.5)
      for shape in em.param_shapes(D_EDGE, D_EDGE_HID)))
  masks = tuple(layers.dropout_mask(next(keys), edges.shape, 0.2)
                for _ in range(2))
  return [
      ("relational attention", lambda *a: ra.relational_attention(*a, scale),
       lambda *a: rt.xla_relational_attention(*a, scale), attn_args),
      ("edge update", lambda e, s, t, p: em.edge_mlp(e, s, t, p, masks),
       lambda e, s, t, p: rt.xla_edge_mlp(e, s, t, p, masks),
       (edges, s, t, params)),
  ]


def run(batch: int, steps: int) -> list[dict]:
  """Times both implementations of every kernel."""
  import jax  # pylint: disable=g-import-not-at-top

  # pylint: disable-next=g-import-not-at-top
  from dws_jax.xla_cpu.native import build

  build.require("bench_graph_kernels")
  results = []
  for name, native, plain, args in _problems(batch):
    out = jax.eval_shape(native, *args)
    ct = jax.random.normal(jax.random.key(1), out.shape, out.dtype)
    row = timing.compare_kernels(native, plain, args, ct, steps)
    results.append(dict(kernel=name, batch=batch, nodes=NODES, **row))
    print(f"[bench_graph_kernels] {results[-1]}", flush=True)
  return results


def main(argv=None):
  args = _parse(sys.argv[1:] if argv is None else argv)
  results, meta = timing.run_kernel_benchmark(args, run)
  lines = [
      "Command: `python -m dws_jax.benchmarks.graph_kernels`\n",
      "| one layer of the relational transformer | native ms | plain XLA ms | "
      "speedup | max rel. difference |",
      "|---|---|---|---|---|"]
  for r in results:
    lines.append(
        f"| {r['kernel']} | {r['native_ms']:.1f} | {r['xla_ms']:.1f} | "
        f"{r['speedup']:.2f}x | {r['max_rel_err']:.0e} |")
  lines.append(
      f"\nForward + backward for {args.batch} graphs of {NODES} nodes (edge "
      f"width {D_EDGE}, {HEADS} heads of {HEAD_WIDTH}, edge MLP hidden "
      f"{D_EDGE_HID}, dropout masks), jitted, median of {args.steps} after "
      f"warm-up, both in one process ({meta['allocator']}); {meta['cpus']} "
      f"CPU cores, load average {meta['load_average_at_start']:.1f} at start.")
  print(timing.write_report(args.out, "bench_graph_kernels", meta, results,
                            lines))


if __name__ == "__main__":
  allocator.reexec_with_tcmalloc()
  main()
