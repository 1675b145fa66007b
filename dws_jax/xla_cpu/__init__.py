# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Opt-in speed-ups for XLA:CPU hosts, registered into the core's registries.

The core never imports this package; the commands load it through the
``dws_jax.plugins`` entry point (:func:`dws_jax.plugins.load`), and a library
user imports it. :func:`register` is idempotent.

* :mod:`dws_jax.xla_cpu.prng`: ``prng_impl="lowbias32"``, a counter-hash
  ``jax.random`` implementation that XLA:CPU runs in one vectorised pass
  (threefry's rounds cost several times more per bit there).
* :mod:`dws_jax.xla_cpu.allocator`: commands re-execute under tcmalloc on
  CPU hosts (never on accelerator hosts; ``DWS_JAX_ALLOCATOR=system`` off).
* :mod:`dws_jax.xla_cpu.lap`: lapx's batched, GIL-free Jonker-Volgenant
  solver for weight matching's ``"host"`` solver (the ``cpu`` extra installs
  lapx; without it the core's scipy loop solves the same problems).
* :mod:`dws_jax.xla_cpu.kernels`: ``kernels="xla_cpu"`` for the models
  (:mod:`dws_jax.models.kernels`), fused XLA FFI kernels
  (:mod:`dws_jax.xla_cpu.native`: DWSNet's set attention and output copy,
  the relational transformer's attention and edge update), compiled on first
  use. ``DWS_JAX_NATIVE=0`` leaves them unregistered (``kernels="auto"`` is
  then plain XLA); a model built with ``kernels="xla"`` never uses them.
"""

from __future__ import annotations


def register(command: bool = False) -> None:
  """Registers every implementation of this plugin with the core.

  Args:
    command: at the start of a command: first re-execute the process under
      tcmalloc where that helps (:func:`allocator.reexec_with_tcmalloc`).
  """
  # pylint: disable=g-import-not-at-top
  from dws_jax.xla_cpu import allocator
  from dws_jax.xla_cpu import kernels
  from dws_jax.xla_cpu import lap
  from dws_jax.xla_cpu import prng
  # pylint: enable=g-import-not-at-top
  if command:
    allocator.reexec_with_tcmalloc()
  prng.register()
  kernels.register()
  lap.register()
