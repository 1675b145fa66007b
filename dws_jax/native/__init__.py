# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Native XLA:CPU kernels (XLA FFI custom calls), built on first use.

See :mod:`dws_jax.native.build` for how they are built and switched off, and
:mod:`dws_jax.native.set_attention` for the fused set attention of DWSNet
and :mod:`dws_jax.native.relational_attention` for the relational attention
of the neural-graph transformer.
"""
