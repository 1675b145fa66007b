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
