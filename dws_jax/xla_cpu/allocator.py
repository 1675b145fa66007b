# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Runs the process on tcmalloc, which keeps XLA:CPU's step buffers mapped.

XLA:CPU allocates the temporary buffer of an executable (hundreds of MB for a
training step at batch 256) on every call and frees it at the end. glibc
malloc serves blocks this large from fresh ``mmap`` pages and unmaps them on
free, so every step page-faults its whole working set in again: a DWSNet
training step at batch 256 takes about 96,000 page faults and 180 ms of kernel
time per step, the relational transformer about 470,000 faults per 16-sample
micro-batch. tcmalloc keeps freed pages and hands them out again (about 100
faults per step; ``python -m dws_jax.benchmarks.models`` runs every model this
way).

The library's commands (``dws-train``, ``dws-fit-inrs``, ``dws-demo``,
``dws-tables``, through this plugin's ``register(command=True)``) and the
benchmarks call :func:`reexec_with_tcmalloc` first: when tcmalloc is
installed (Debian ``libtcmalloc-minimal4``, installed by ``launch/setup.sh``
as root) and not loaded yet, the process re-executes itself, same
interpreter, same arguments, same pid, with tcmalloc in ``LD_PRELOAD``.
``DWS_JAX_ALLOCATOR=system`` turns this off, and it never happens on an
accelerator host (``JAX_PLATFORMS`` without ``cpu``, or a TPU or NVIDIA device
in ``/dev``), where XLA:CPU's buffers are not the cost. Scripts of your own
can call it as their first line, or be started as
``LD_PRELOAD=$(python -m dws_jax.xla_cpu.allocator --path) python my_script.py``.

tcmalloc's page heap is told never to return memory to the OS
(``TCMALLOC_RELEASE_RATE=0``, unless set), so the resident size stays at its
peak, and not to log large allocations.
"""

from __future__ import annotations

import os
import pathlib
import sys
from typing import Mapping, Sequence

ENV_CHOICE = "DWS_JAX_ALLOCATOR"  # "tcmalloc" (default) or "system".
CHOICES = ("tcmalloc", "system")
LIBRARY_NAMES = ("libtcmalloc_minimal.so.4", "libtcmalloc.so.4")
SEARCH_DIRS = ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
               "/usr/lib64", "/usr/lib", "/usr/local/lib")
# Settings given to tcmalloc unless the environment already has them.
TCMALLOC_DEFAULTS = {
    "TCMALLOC_RELEASE_RATE": "0",
    "TCMALLOC_LARGE_ALLOC_REPORT_THRESHOLD": str(1 << 40),
}
# Set in the re-executed process so that it never re-executes again.
_REEXEC_MARK = "DWS_JAX_ALLOCATOR_REEXEC"


def choice(env: Mapping[str, str] | None = None) -> str:
  """The allocator asked for by ``DWS_JAX_ALLOCATOR`` (default tcmalloc)."""
  env = os.environ if env is None else env
  value = env.get(ENV_CHOICE, "tcmalloc").strip().lower() or "tcmalloc"
  if value not in CHOICES:
    raise ValueError(f"{ENV_CHOICE}={env[ENV_CHOICE]!r}: expected one of "
                     f"{CHOICES}")
  return value


def find_tcmalloc(dirs: Sequence[str] = SEARCH_DIRS) -> str | None:
  """Path of an installed tcmalloc shared library, or ``None``."""
  for directory in dirs:
    for name in LIBRARY_NAMES:
      path = pathlib.Path(directory) / name
      if path.is_file():
        return str(path)
  return None


def loaded_tcmalloc() -> str | None:
  """Path of the tcmalloc mapped into this process, or ``None`` (Linux)."""
  try:
    maps = pathlib.Path("/proc/self/maps").read_text()
  except OSError:
    return None
  for line in maps.splitlines():
    fields = line.split()
    if len(fields) >= 6 and "libtcmalloc" in pathlib.Path(fields[-1]).name:
      return fields[-1]
  return None


ACCELERATOR_DEVICES = ("accel0", "nvidia0")


def accelerator_host(env: Mapping[str, str] | None = None,
                     dev: str = "/dev") -> bool:
  """Whether JAX will run on an accelerator here (no XLA:CPU allocator cost).

  True when ``JAX_PLATFORMS`` names platforms and ``cpu`` is not the first,
  or when ``dev`` holds a TPU (``accel0``) or an NVIDIA GPU (``nvidia0``).
  """
  env = os.environ if env is None else env
  platforms = [p.strip() for p in env.get("JAX_PLATFORMS", "").split(",")
               if p.strip()]
  if platforms:
    return platforms[0] != "cpu"
  return any((pathlib.Path(dev) / name).exists() for name in ACCELERATOR_DEVICES)


def _preloads(env: Mapping[str, str]) -> list[str]:
  """The libraries of ``LD_PRELOAD`` (separated by spaces or colons)."""
  return env.get("LD_PRELOAD", "").replace(":", " ").split()


def tcmalloc_env(env: Mapping[str, str], library: str) -> dict[str, str]:
  """``env`` with ``library`` first in ``LD_PRELOAD`` and tcmalloc settings."""
  out = dict(env)
  preload = [p for p in _preloads(env) if p != library]
  out["LD_PRELOAD"] = " ".join([library] + preload)
  for name, value in TCMALLOC_DEFAULTS.items():
    out.setdefault(name, value)
  return out


def system_env(env: Mapping[str, str]) -> dict[str, str]:
  """``env`` for a child process on glibc malloc: tcmalloc out of ``LD_PRELOAD``."""
  out = dict(env)
  preload = [p for p in _preloads(env)
             if "libtcmalloc" not in pathlib.Path(p).name]
  if preload:
    out["LD_PRELOAD"] = " ".join(preload)
  else:
    out.pop("LD_PRELOAD", None)
  out[ENV_CHOICE] = "system"
  return out


def reexec_with_tcmalloc(env: Mapping[str, str] | None = None) -> None:
  """Re-executes this process on tcmalloc when it is installed and not loaded.

  Returns normally (doing nothing) when ``DWS_JAX_ALLOCATOR=system``, on an
  accelerator host (:func:`accelerator_host`), when tcmalloc is already
  loaded or not installed, or when this process is
  already the re-executed one. Otherwise it does not return: the same
  interpreter restarts with the original command line (``sys.orig_argv``, so
  ``python -m module`` keeps working) and the pid is kept.
  """
  env = os.environ if env is None else env
  if (choice(env) == "system" or env.get(_REEXEC_MARK) or loaded_tcmalloc()
      or accelerator_host(env)):
    return
  library = find_tcmalloc()
  if library is None or not sys.platform.startswith("linux"):
    return
  new_env = tcmalloc_env(env, library)
  new_env[_REEXEC_MARK] = "1"
  sys.stdout.flush()
  sys.stderr.flush()
  os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], new_env)


def main(argv: Sequence[str] | None = None) -> None:
  """``python -m dws_jax.xla_cpu.allocator [--path]``: report or locate tcmalloc."""
  argv = sys.argv[1:] if argv is None else list(argv)
  if argv == ["--path"]:
    print(find_tcmalloc() or "")
    return
  reexec_with_tcmalloc()
  print(f"allocator: {loaded_tcmalloc() or 'system malloc'}")
  print(f"argv: {' '.join(argv)}")


if __name__ == "__main__":
  main()
