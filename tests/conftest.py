"""Test setup: 8 fake CPU devices before JAX starts, so sharding is tested everywhere."""

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # pylint: disable=g-import-not-at-top

jax.config.update("jax_num_cpu_devices", 8)

# The commands load plugins at start (dws_jax.plugins.load()); the tests do
# so once here, so kernels="auto" (the models' default) and prng_impl="auto"
# use the bundled XLA:CPU plugin (native kernels, lowbias32, lapx) as a run.
from dws_jax import plugins  # pylint: disable=g-import-not-at-top,wrong-import-position

plugins.load()
