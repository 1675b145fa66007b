# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""``python -m dws_jax.tables`` is ``dws-tables``."""

from dws_jax.tables import main

if __name__ == "__main__":
  main.run()
