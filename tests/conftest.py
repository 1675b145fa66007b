"""Test setup: 8 fake CPU devices before JAX starts, so sharding is tested everywhere."""

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # pylint: disable=g-import-not-at-top

jax.config.update("jax_num_cpu_devices", 8)

# The bundled XLA:CPU plugin, as the commands load it (lowbias32, lapx).
from dws_jax import plugins  # pylint: disable=g-import-not-at-top,wrong-import-position

plugins.load()
