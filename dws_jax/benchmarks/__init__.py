# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Benchmarks; each module runs with ``python -m dws_jax.benchmarks.<name>``."""
