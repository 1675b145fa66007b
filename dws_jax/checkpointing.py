# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Orbax checkpoints of the train state: ``latest`` and ``best``.

``workdir/checkpoints/<step>`` holds the latest states (the last two are kept),
``workdir/best/<step>`` the state with the best validation accuracy. Each
holds the :class:`~dws_jax.train_state.TrainState` and a JSON ``meta`` record
(best-val record, epoch accumulators). Orbax writes a step directory
atomically, so a run killed while saving resumes from the previous step.
The directory may be a URI (``gs://bucket/run/checkpoints``), which orbax
writes through etils.epath and TensorStore; a local one is made absolute.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp

from dws_jax import paths


class Checkpointer:
  """Saves and restores train states under ``directory``."""

  def __init__(self, directory: paths.PathLike, max_to_keep: int = 2):
    options = ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True)
    self._directory = paths.resolve(directory)
    self._manager = ocp.CheckpointManager(self._directory,
                                          options=options)

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def save(self, step: int, state: Any, meta: dict[str, Any]) -> None:
    self._manager.save(step, args=ocp.args.Composite(
        state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta)))
    self._manager.wait_until_finished()

  def restore(self, target: Any, step: int | None = None
              ) -> tuple[Any, dict[str, Any]]:
    """Restores ``(state, meta)`` shaped and sharded like ``target``."""
    step = self.latest_step() if step is None else step
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, target)
    restored = self._manager.restore(step, args=ocp.args.Composite(
        state=ocp.args.StandardRestore(abstract), meta=ocp.args.JsonRestore()))
    return restored.state, dict(restored.meta)

  def restore_raw(self, step: int | None = None) -> Any:
    """Restores a saved state as nested dicts of numpy arrays.

    Works whatever mesh or process count saved it (for inspection and tests).
    """
    step = self.latest_step() if step is None else step
    path = self._directory / str(step) / "state"
    checkpointer = ocp.PyTreeCheckpointer()
    tree = checkpointer.metadata(path).item_metadata.tree
    restore_args = jax.tree.map(
        lambda _: ocp.RestoreArgs(restore_type=np.ndarray), tree)
    return checkpointer.restore(
        path, args=ocp.args.PyTreeRestore(restore_args=restore_args))

  def close(self) -> None:
    self._manager.close()
