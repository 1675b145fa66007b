# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Loads installed plugins: the ``dws_jax.plugins`` entry-point group.

A plugin is a callable ``register(command=False)`` that adds implementations
to the core's registries (e.g. :func:`dws_jax.prng.register_impl`). The
commands call ``load(command=True)`` first thing, so a plugin may also set up
the process (the XLA:CPU plugin re-executes a command under tcmalloc); the
core itself never imports a plugin. dws_jax
ships one, :mod:`dws_jax.xla_cpu` (``xla_cpu = dws_jax.xla_cpu:register`` in
``setup.cfg``). ``DWS_JAX_PLUGINS=none`` loads none; a comma-separated list
loads only those.
"""

from __future__ import annotations

from importlib import metadata
import os

GROUP = "dws_jax.plugins"
_LOADED: set[str] = set()


def load(command: bool = False) -> list[str]:
  """Registers every installed plugin (once each); returns the loaded names.

  Args:
    command: called at the start of a command (``dws-train`` etc.), before
      any JAX computation; plugins may then set up the process.
  """
  wanted = os.environ.get("DWS_JAX_PLUGINS", "")
  if wanted.strip().lower() == "none":
    return []
  only = {w.strip() for w in wanted.split(",") if w.strip()}
  for entry in metadata.entry_points(group=GROUP):
    if entry.name in _LOADED or (only and entry.name not in only):
      continue
    entry.load()(command=command)
    _LOADED.add(entry.name)
  return sorted(_LOADED)
