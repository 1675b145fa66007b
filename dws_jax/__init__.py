# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""dws_jax: learning in deep weight spaces with JAX/Flax.

The core objects:

* :class:`WeightSpace`: weights ``(..., d_in, d_out)`` and biases
  ``(..., d_out)`` of an MLP as a pytree, any leading batch dims.
* :class:`WeightSpaceSpec`: architecture and symmetries (hidden-neuron
  permutations, SIREN sign flips and phase shifts) derived from layer sizes.
* :class:`Siren`: the SIREN INR module; :func:`render` evaluates a batch of
  INRs from their weight spaces on a coordinate grid (:func:`make_grid`).
"""

from dws_jax.sine import fast_sin
from dws_jax.sine import get_sin
from dws_jax.siren import apply_inr
from dws_jax.siren import init_weight_space
from dws_jax.siren import make_grid
from dws_jax.siren import render
from dws_jax.siren import render_images
from dws_jax.siren import Siren
from dws_jax.weight_space import check_finite
from dws_jax.weight_space import concatenate
from dws_jax.weight_space import from_flat
from dws_jax.weight_space import from_flax
from dws_jax.weight_space import from_state_dict
from dws_jax.weight_space import permute
from dws_jax.weight_space import PermutationSpec
from dws_jax.weight_space import random_permutations
from dws_jax.weight_space import random_ranks
from dws_jax.weight_space import stack
from dws_jax.weight_space import to_flat
from dws_jax.weight_space import to_flax
from dws_jax.weight_space import to_state_dict
from dws_jax.weight_space import unstack
from dws_jax.weight_space import WeightSpace
from dws_jax.weight_space import WeightSpaceSpec

__version__ = "0.1.0"
