# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""``dws-tables``: the paper's experiments as config files.

A table config (``configs/tables/*.py``) names an INR dataset, a grid of
training cells (model x augmentation x views x train objects x seed) and how
to aggregate them. :mod:`~dws_jax.tables.grid` expands it,
:mod:`~dws_jax.tables.sweep` runs the cells (each an ordinary ``dws-train``
run, resumable), :mod:`~dws_jax.tables.aggregate` and
:mod:`~dws_jax.tables.figures` make the tables and figures from the finished
cells, and :mod:`~dws_jax.tables.main` is the command line.
"""
