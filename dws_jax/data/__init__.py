# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Data sources: real images to fit INRs to, and INR datasets on disk."""
