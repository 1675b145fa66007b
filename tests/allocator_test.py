# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests of dws_jax.xla_cpu.allocator: the re-executed process runs on tcmalloc."""

import os
import pathlib
import subprocess
import sys
import tempfile
import unittest

from dws_jax.xla_cpu import allocator

TCMALLOC = allocator.find_tcmalloc()
needs_tcmalloc = unittest.skipIf(
    TCMALLOC is None or not sys.platform.startswith("linux"),
    "tcmalloc not installed (bash launch/setup.sh as root installs it)")

# Calls a jitted function whose temporary buffers are about 64 MB five times
# and prints the page faults of the last four calls.
FAULTS_SCRIPT = """
import resource
from dws_jax.xla_cpu import allocator
allocator.reexec_with_tcmalloc()
import jax, jax.numpy as jnp
f = jax.jit(lambda x: jnp.sum(jnp.sort(x * 2.0) * jnp.flip(jnp.sort(-x))))
x = jnp.arange(1 << 23, dtype=jnp.float32)
f(x).block_until_ready()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(4):
  f(x).block_until_ready()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _run(args, **env):
  full_env = {k: v for k, v in os.environ.items()
              if k not in ("LD_PRELOAD", allocator.ENV_CHOICE)}
  full_env.update(env)
  out = subprocess.run([sys.executable, *args], env=full_env, check=True,
                       capture_output=True, text=True, timeout=300)
  return out.stdout.strip().splitlines()


class EnvTest(unittest.TestCase):

  def test_library_goes_first_once_and_settings_are_defaults(self):
    env = allocator.tcmalloc_env(
        {"LD_PRELOAD": "/x/libfoo.so /lib/tc.so", "TCMALLOC_RELEASE_RATE": "5"},
        "/lib/tc.so")
    self.assertEqual(env["LD_PRELOAD"], "/lib/tc.so /x/libfoo.so")
    self.assertEqual(env["TCMALLOC_RELEASE_RATE"], "5")
    self.assertEqual(env["TCMALLOC_LARGE_ALLOC_REPORT_THRESHOLD"],
                     allocator.TCMALLOC_DEFAULTS[
                         "TCMALLOC_LARGE_ALLOC_REPORT_THRESHOLD"])

  def test_system_env_drops_only_tcmalloc(self):
    env = allocator.system_env(
        {"LD_PRELOAD": "/lib/libtcmalloc_minimal.so.4 /x/libfoo.so"})
    self.assertEqual(env["LD_PRELOAD"], "/x/libfoo.so")
    self.assertEqual(env["DWS_JAX_ALLOCATOR"], "system")
    self.assertNotIn("LD_PRELOAD", allocator.system_env(
        {"LD_PRELOAD": "/lib/libtcmalloc_minimal.so.4"}))

  def test_unknown_choice_names_the_variable(self):
    with self.assertRaisesRegex(ValueError, "DWS_JAX_ALLOCATOR='jemalloc'"):
      allocator.choice({"DWS_JAX_ALLOCATOR": "jemalloc"})
    self.assertEqual(allocator.choice({}), "tcmalloc")
    self.assertEqual(allocator.choice({"DWS_JAX_ALLOCATOR": "System"}),
                     "system")

  def test_accelerator_hosts_are_recognised(self):
    with tempfile.TemporaryDirectory() as dev:
      self.assertFalse(allocator.accelerator_host({}, dev))
      self.assertTrue(allocator.accelerator_host({"JAX_PLATFORMS": "tpu"}, dev))
      self.assertTrue(allocator.accelerator_host({"JAX_PLATFORMS": "cuda,cpu"}, dev))
      self.assertFalse(allocator.accelerator_host({"JAX_PLATFORMS": "cpu"}, dev))
      for name in ("accel0", "nvidia0"):
        path = pathlib.Path(dev) / name
        path.touch()
        self.assertTrue(allocator.accelerator_host({}, dev), name)
        # JAX_PLATFORMS=cpu on an accelerator host still runs XLA:CPU.
        self.assertFalse(allocator.accelerator_host({"JAX_PLATFORMS": "cpu"}, dev))
        path.unlink()

  def test_search_finds_only_existing_files(self):
    self.assertIsNone(allocator.find_tcmalloc(("/nonexistent",)))
    if TCMALLOC is not None:
      self.assertTrue(os.path.isfile(TCMALLOC))


@needs_tcmalloc
class ReexecTest(unittest.TestCase):

  def test_module_command_reexecutes_with_its_arguments(self):
    lines = _run(["-m", "dws_jax.xla_cpu.allocator", "a", "b c"])
    self.assertIn("libtcmalloc", lines[0])
    self.assertEqual(lines[1], "argv: a b c")

  def test_system_choice_keeps_glibc(self):
    lines = _run(["-m", "dws_jax.xla_cpu.allocator", "x"], DWS_JAX_ALLOCATOR="system")
    self.assertEqual(lines, ["allocator: system malloc", "argv: x"])

  def test_accelerator_host_is_not_reexecuted(self):
    lines = _run(["-m", "dws_jax.xla_cpu.allocator", "x"], JAX_PLATFORMS="tpu")
    self.assertEqual(lines, ["allocator: system malloc", "argv: x"])

  def test_child_on_system_env_runs_on_glibc(self):
    env = allocator.tcmalloc_env(os.environ, TCMALLOC)
    self.assertIn("libtcmalloc", _run(["-m", "dws_jax.xla_cpu.allocator"], **env)[0])
    env = allocator.system_env(env)
    self.assertEqual(_run(["-m", "dws_jax.xla_cpu.allocator"], **env)[0],
                     "allocator: system malloc")

  def test_step_buffers_are_reused_instead_of_faulted_in(self):
    system = int(_run(["-c", FAULTS_SCRIPT], DWS_JAX_ALLOCATOR="system")[-1])
    tcmalloc = int(_run(["-c", FAULTS_SCRIPT])[-1])
    # 64 MB of fresh pages per call is about 16k faults per call.
    self.assertGreater(system, 4 * 8_000, "glibc no longer maps fresh pages")
    self.assertLess(tcmalloc, system / 10)


if __name__ == "__main__":
  unittest.main()
