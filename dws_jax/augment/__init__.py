# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Weight-space augmentations (Shamsian et al., ICML 2024), pure and jittable."""

from dws_jax.augment.registry import BatchAug
from dws_jax.augment.registry import get_entry
from dws_jax.augment.registry import names
from dws_jax.augment.registry import register
from dws_jax.augment.registry import SampleAug
