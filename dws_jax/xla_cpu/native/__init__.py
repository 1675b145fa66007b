# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Native XLA:CPU kernels (XLA FFI custom calls), built on first use.

See :mod:`dws_jax.xla_cpu.native.build` for how they are built and switched
off; :mod:`dws_jax.xla_cpu.native.set_attention` is the fused set attention of
DWSNet, :mod:`dws_jax.xla_cpu.native.relational_attention` and
:mod:`dws_jax.xla_cpu.native.edge_mlp` the relational attention and the edge
update of the neural-graph transformer. :mod:`dws_jax.xla_cpu.kernels`
registers them as the models' ``kernels="xla_cpu"``.
"""
