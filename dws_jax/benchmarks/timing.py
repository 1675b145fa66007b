# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Wall-clock timing shared by the benchmarks."""

from __future__ import annotations

import time
from typing import Any, Callable


def time_ms(fn: Callable[[int], Any], reps: int) -> tuple[float, float]:
  """``(best, median)`` wall time in ms of ``fn(r)`` for ``r < reps``.

  Each call is waited for with ``jax.block_until_ready``; warm up (compile)
  before calling this.
  """
  import jax  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  times = []
  for r in range(reps):
    start = time.perf_counter()
    jax.block_until_ready(fn(r))
    times.append(time.perf_counter() - start)
  return 1e3 * float(np.min(times)), 1e3 * float(np.median(times))


def compare_kernels(native: Callable[..., Any], plain: Callable[..., Any],
                    args: tuple, cotangent: Any, steps: int) -> dict:
  """A native kernel against its plain XLA version on the same inputs.

  Both ``native(*args)`` and ``plain(*args)`` are jitted with their VJP for
  ``cotangent`` (forward + backward); the first calls compile and their
  outputs and gradients are compared.

  Returns:
    ``native_ms`` and ``xla_ms`` (median of ``steps`` forward + backward
    calls), ``speedup`` and ``max_rel_err`` (the largest difference of any
    output or gradient relative to the largest entry of the XLA one).
  """
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top

  def fwd_bwd(fn):
    return jax.jit(lambda *a: jax.vjp(fn, *a)[1](cotangent))

  step_native, step_plain = fwd_bwd(native), fwd_bwd(plain)
  got = (jax.jit(native)(*args), step_native(*args))
  want = (jax.jit(plain)(*args), step_plain(*args))
  err = max(float(jnp.max(jnp.abs(a - b)) / jnp.max(jnp.abs(b)))
            for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want)))
  ms_native = time_ms(lambda _: step_native(*args), steps)[1]
  ms_plain = time_ms(lambda _: step_plain(*args), steps)[1]
  return dict(native_ms=ms_native, xla_ms=ms_plain,
              speedup=ms_plain / ms_native, max_rel_err=err)


def write_report(out: str, name: str, meta: dict, results: list,
                 lines: list[str]) -> str:
  """Writes ``out/name.json`` (meta and results) and ``out/name.md``.

  Returns:
    The markdown: ``lines`` joined, one per line.
  """
  import json  # pylint: disable=g-import-not-at-top
  import pathlib  # pylint: disable=g-import-not-at-top
  path = pathlib.Path(out)
  path.mkdir(parents=True, exist_ok=True)
  (path / f"{name}.json").write_text(
      json.dumps(dict(meta=meta, results=results), indent=2))
  text = "\n".join(lines) + "\n"
  (path / f"{name}.md").write_text(text)
  return text


def run_kernel_benchmark(args, run: Callable[[int, int], list[dict]]
                         ) -> tuple[list[dict], dict]:
  """``run(args.batch, args.steps)`` and the run's metadata (load average
  at the start, cores, allocator)."""
  import os  # pylint: disable=g-import-not-at-top

  from dws_jax.xla_cpu import allocator  # pylint: disable=g-import-not-at-top
  load = os.getloadavg()[0]
  results = run(args.batch, args.steps)
  meta = dict(batch=args.batch, steps=args.steps, cpus=os.cpu_count(),
              load_average_at_start=load,
              allocator="tcmalloc" if allocator.loaded_tcmalloc() else "system")
  return results, meta
