# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""lapx's batched Jonker-Volgenant solver for weight matching on the host.

``lap.lapjvh_batch`` solves a whole stack of assignment problems in native
code without the GIL, on several threads; like scipy it returns an exact
optimum (ties may be broken differently, with the same objective). It is the
``"host"`` solver's batched LAP (:func:`dws_jax.matching.register_batched_lap`)
when lapx is installed (``pip install dws_jax[cpu]``).
"""

from __future__ import annotations

import numpy as np

from dws_jax import matching


def lap_batch(sim: np.ndarray, threads: int) -> np.ndarray:
  """Maximising assignments ``(m, n, n) -> (m, n)`` int32 on ``threads``.

  Args:
    sim: ``(m, n, n)`` similarity matrices, ``m >= 1``.
    threads: worker threads (``0``: one per CPU core; ``1``: serial).

  Returns:
    int32 ``(m, n)``: the column assigned to every row.
  """
  import lap  # pylint: disable=g-import-not-at-top
  cost = np.negative(sim, dtype=np.float64)
  _, cols = lap.lapjvh_batch(cost, return_cost=False, n_threads=threads)
  return np.stack(cols).astype(np.int32)


def available() -> bool:
  """Whether lapx is installed."""
  try:
    import lap  # pylint: disable=g-import-not-at-top,unused-import
  except ImportError:
    return False
  return True


def register() -> None:
  """Registers :func:`lap_batch` with the matching code, if lapx is there."""
  if available():
    matching.register_batched_lap(lap_batch)
