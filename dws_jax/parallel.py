# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Meshes, shardings and multi-host initialisation.

Data parallelism: one mesh axis ``"data"`` over all (global) devices; the batch
is sharded along it and parameters are replicated. The same code runs on one
CPU, 8 fake CPU devices, a GPU host or a multi-host TPU slice.
"""

from __future__ import annotations

import os
from typing import Any, Callable

import jax
from jax.sharding import Mesh
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P
import numpy as np

DATA_AXIS = "data"  # The mesh axis of the batch.


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
  return Mesh(np.asarray(devices), (DATA_AXIS,))


def per_data_shard(fn: Callable[..., Any], *args, num_replicated: int = 0):
  """``fn(*args)``, run by each device on its shard of the batch when possible.

  Under a mesh context (``jax.sharding.use_abstract_mesh`` or
  ``jax.set_mesh``) whose ``"data"`` axis has more than one device and
  divides the leading (batch) axis of the arguments, ``fn`` runs through
  ``jax.shard_map``: every argument after the first ``num_replicated`` (which
  are replicated) and every output is split along its leading axis. Use it
  for host callbacks and custom calls that XLA cannot partition (it would run
  them on one device, or gather the batch onto every device); ``fn`` must
  treat the rows of the batch independently. Otherwise it is ``fn(*args)``.
  """
  mesh = jax.sharding.get_abstract_mesh()
  size = dict(zip(mesh.axis_names, mesh.axis_sizes)).get(DATA_AXIS, 1)
  batched = jax.tree.leaves(args[num_replicated:])
  if size == 1 or not batched or batched[0].shape[0] % size:
    return fn(*args)
  in_specs = (P(),) * num_replicated + (P(DATA_AXIS),) * (
      len(args) - num_replicated)
  return jax.shard_map(fn, mesh=mesh, in_specs=in_specs,
                       out_specs=P(DATA_AXIS), check_vma=False)(*args)


def replicated(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, P())


def data_sharded(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, P(DATA_AXIS))


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
