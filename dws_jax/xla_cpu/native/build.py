# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Builds and loads dws_jax's native XLA:CPU kernels (XLA FFI custom calls).

The C++ sources next to this file are compiled on first use with the system
C++ compiler against the XLA FFI headers that ship with jaxlib, for the CPU
they run on (``-march=native``), and cached under ``$DWS_JAX_CACHE`` (default
``~/.cache/dws_jax``) in a folder named by a hash of the sources, the flags,
the jaxlib version and the CPU, so a changed source, jaxlib or machine gets a
fresh build. Builds are written to a temporary file and renamed, so
concurrent processes never load a half-written library. :func:`call` runs a
registered kernel, per device on its shard of the batch under a mesh.

The XLA:CPU plugin (:mod:`dws_jax.xla_cpu`) registers them as the kernel
implementation ``"xla_cpu"`` of the models (:mod:`dws_jax.models.kernels`);
they are built the first time a model traces one.

Environment:
  DWS_JAX_NATIVE: ``auto`` (default: use the kernels when they build, else
    fall back to plain XLA with one warning), ``0`` (the plugin does not
    register them, so ``kernels="auto"`` means plain XLA) or ``1`` (require
    them: a failed build raises).
  DWS_JAX_CXX: the C++ compiler (default ``c++``).

``python -m dws_jax.xla_cpu.native.build`` builds the library and prints its
path.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import logging
import os
import pathlib
import platform
import shlex
import subprocess
import sys
import tempfile
from typing import Any, Callable, Sequence

import jax
import jaxlib

from dws_jax import parallel

SOURCES = ("set_attention.cc", "relational_attention.cc", "edge_mlp.cc",
           "materialize.cc")
HEADERS = ("simd.h", "products.h")
# Handler symbols of the sources and the FFI target names they register as.
TARGETS = {
    "DwsSetAttentionFwd": "dws_jax_set_attention_fwd",
    "DwsSetAttentionBwd": "dws_jax_set_attention_bwd",
    "DwsRelationalAttentionFwd": "dws_jax_relational_attention_fwd",
    "DwsRelationalAttentionBwd": "dws_jax_relational_attention_bwd",
    "DwsEdgeMlpFwd": "dws_jax_edge_mlp_fwd",
    "DwsEdgeMlpBwd": "dws_jax_edge_mlp_bwd",
    "DwsMaterialize": "dws_jax_materialize",
}
FLAGS = ("-O3", "-march=native", "-std=c++17", "-shared", "-fPIC", "-w")
MODES = ("auto", "0", "1")

_log = logging.getLogger(__name__)


class NativeBuildError(RuntimeError):
  """The native kernels could not be built or loaded."""


def mode() -> str:
  """``DWS_JAX_NATIVE``: ``auto``, ``0`` or ``1``."""
  value = os.environ.get("DWS_JAX_NATIVE", "auto")
  if value not in MODES:
    raise ValueError(f"DWS_JAX_NATIVE={value!r}; expected one of {MODES}")
  return value


def _cpu_signature() -> str:
  try:
    for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
      if line.startswith(("flags", "Features")):
        return line
  except OSError:
    pass
  return platform.processor()


def library_path() -> pathlib.Path:
  """Where the library for this source, jaxlib and CPU is cached."""
  here = pathlib.Path(__file__).parent
  digest = hashlib.sha256()
  for name in SOURCES + HEADERS:
    digest.update((here / name).read_bytes())
  for part in (" ".join(FLAGS), jaxlib.__version__, _cpu_signature(),
               os.environ.get("DWS_JAX_CXX", "c++"), platform.machine()):
    digest.update(part.encode())
  default = pathlib.Path.home() / ".cache" / "dws_jax"
  root = pathlib.Path(os.environ.get("DWS_JAX_CACHE", default))
  return root / "native" / digest.hexdigest()[:16] / "libdws_jax_native.so"


def _start(cmd: list[str]) -> subprocess.Popen:
  try:
    return subprocess.Popen(cmd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
  except OSError as e:
    raise NativeBuildError(
        f"cannot run the C++ compiler {cmd[0]!r} ({e}); install one (e.g. "
        "`apt-get install g++`) or set DWS_JAX_CXX") from e


def _wait(cmd: list[str], proc: subprocess.Popen) -> None:
  _, stderr = proc.communicate()
  if proc.returncode:
    raise NativeBuildError(
        f"building the native kernels failed: {shlex.join(cmd)}\n"
        f"{stderr[-4000:]}")


def build() -> pathlib.Path:
  """Compiles the sources (unless cached); returns the library's path.

  The sources are compiled in parallel, one compiler process each, then
  linked.

  Raises:
    NativeBuildError: no compiler, or the compiler failed (its output is in
      the message).
  """
  out = library_path()
  if out.exists():
    return out
  out.parent.mkdir(parents=True, exist_ok=True)
  here = pathlib.Path(__file__).parent
  cxx = shlex.split(os.environ.get("DWS_JAX_CXX", "c++"))
  compile_flags = [f for f in FLAGS if f != "-shared"]
  with tempfile.TemporaryDirectory(dir=out.parent) as work:
    jobs = []
    for source in SOURCES:
      obj = os.path.join(work, source + ".o")
      cmd = [*cxx, *compile_flags, f"-I{jax.ffi.include_dir()}", "-c",
             str(here / source), "-o", obj]
      jobs.append((cmd, obj, _start(cmd)))
    for cmd, _, proc in jobs:
      _wait(cmd, proc)
    tmp = os.path.join(work, "lib.so")
    link = [*cxx, *FLAGS, *(obj for _, obj, _ in jobs), "-o", tmp]
    _wait(link, _start(link))
    os.replace(tmp, out)
  return out


@functools.cache
def _load() -> bool:
  """Builds, loads and registers the kernels once; False if unavailable."""
  if mode() == "0":
    return False
  try:
    lib = ctypes.cdll.LoadLibrary(str(build()))
    for symbol, target in TARGETS.items():
      jax.ffi.register_ffi_target(
          target, jax.ffi.pycapsule(getattr(lib, symbol)), platform="cpu")
  except (NativeBuildError, OSError, AttributeError) as e:
    if mode() == "1":
      raise NativeBuildError(f"DWS_JAX_NATIVE=1 but {e}") from e
    _log.warning("dws_jax native CPU kernels unavailable, using plain XLA: %s",
                 e)
    return False
  return True


def available() -> bool:
  """Whether the native kernels are built and registered (builds them once)."""
  return _load()


def require(user: str, fallback: str | None = None) -> None:
  """Raises ``NativeBuildError`` naming ``user`` (and the plain XLA
  ``fallback`` to use instead) unless the kernels are available."""
  if available():
    return
  hint = f"; use {fallback}" if fallback else ""
  raise NativeBuildError(
      f"{user}: the native kernels are not available (see the warning above, "
      f"or DWS_JAX_NATIVE=0){hint}")


def call(target: str, out_shapes: Callable[..., Any], *args,
         replicated: Sequence[int] = (), vmap_method: str = "sequential",
         **attrs):
  """The kernel registered for handler ``target`` on ``args``.

  Args:
    target: a handler symbol of :data:`TARGETS`.
    out_shapes: ``out_shapes(*args)`` -> the kernel's result shapes
      (``jax.ShapeDtypeStruct``), called with the arrays the kernel sees.
    *args: the kernel's arguments, in its order.
    replicated: positions of arguments that are not split along the batch
      (weights); under a mesh every device gets them whole and its own shard
      of the others (:func:`dws_jax.parallel.per_data_shard`).
    vmap_method: how ``jax.vmap`` maps the call (see ``jax.ffi.ffi_call``).
    **attrs: the kernel's attributes.
  """
  order = list(replicated) + [i for i in range(len(args))
                              if i not in replicated]

  def run(*moved):
    local = [None] * len(args)
    for i, x in zip(order, moved):
      local[i] = x
    return jax.ffi.ffi_call(TARGETS[target], out_shapes(*local),
                            vmap_method=vmap_method)(*local, **attrs)

  return parallel.per_data_shard(run, *(args[i] for i in order),
                                 num_replicated=len(replicated))


def enabled() -> bool:
  """Whether the plugin registers the kernels: ``DWS_JAX_NATIVE`` is not 0."""
  return mode() != "0"


def main(argv: list[str] | None = None) -> int:
  del argv
  try:
    path = build()
  except NativeBuildError as e:
    print(e, file=sys.stderr)
    return 1
  print(path)
  return 0


if __name__ == "__main__":
  sys.exit(main())
