"""Test setup: 8 fake CPU devices before JAX starts, so sharding is tested everywhere."""

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # pylint: disable=g-import-not-at-top

jax.config.update("jax_num_cpu_devices", 8)

# The commands load plugins at start (dws_jax.plugins.load()); the tests do
# so once here, so models built with kernels="auto" (the default) use the
# XLA:CPU plugin's kernels ("xla_cpu") as in a run.
import dws_jax.xla_cpu  # pylint: disable=g-import-not-at-top

dws_jax.xla_cpu.register()
