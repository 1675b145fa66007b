# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Meshes, shardings and multi-host initialisation.

Data parallelism: one mesh axis ``"data"`` over all (global) devices; the batch
is sharded along it and parameters are replicated. The same code runs on one
CPU, 8 fake CPU devices, a GPU host or a multi-host TPU slice.
"""

from __future__ import annotations

import os

import jax
from jax.sharding import Mesh
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P
import numpy as np


def maybe_initialize_distributed(coordinator_address: str | None = None,
                                 num_processes: int | None = None,
                                 process_id: int | None = None) -> None:
  """Starts ``jax.distributed`` when asked to.

  Explicit coordinator flags (local multi-process on CPU/GPU) take precedence;
  otherwise ``DWS_JAX_DISTRIBUTED=1`` (set by ``launch/tpu_run.sh`` on TPU VMs)
  initialises with everything auto-detected. Single-host runs do nothing.
  """
  if coordinator_address:
    if num_processes is None or process_id is None:
      raise ValueError("--coordinator_address needs --num_processes and "
                       "--process_id")
    jax.distributed.initialize(coordinator_address, num_processes, process_id)
  elif os.environ.get("DWS_JAX_DISTRIBUTED"):
    jax.distributed.initialize()


def make_mesh(num_devices: int = -1) -> Mesh:
  """1-D ``("data",)`` mesh over the first ``num_devices`` devices (-1: all)."""
  devices = jax.devices()
  if num_devices > 0:
    if num_devices > len(devices):
      raise ValueError(f"num_devices={num_devices} but only {len(devices)} "
                       "devices exist")
    devices = devices[:num_devices]
  return Mesh(np.asarray(devices), ("data",))


def replicated(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, P())


def data_sharded(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, P("data"))


def put_global(tree, sharding: jax.sharding.Sharding):
  """Places host arrays (identical on every process) with ``sharding``.

  Each process supplies the slices its devices hold, so this works on one
  host and on many.
  """

  def put(x):
    x = np.asarray(x)
    return jax.make_array_from_callback(x.shape, sharding, lambda idx: x[idx])

  return jax.tree.map(put, tree)


def put_replicated(tree, mesh: Mesh):
  """Places host arrays (identical on every process) replicated on the mesh."""
  return put_global(tree, replicated(mesh))
