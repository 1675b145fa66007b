# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Weight-space augmentations (Shamsian et al., ICML 2024), pure and jittable.

Per-sample factories (``factory(spec, **hparams) -> aug(key, ws) -> ws``):
:func:`translate`, :func:`rotate`, :func:`scale`, :func:`gaussian_noise`,
:func:`dropout`, :func:`quantile`, :func:`permutation`,
:func:`siren_negation`, :func:`siren_bias`; label factory
:func:`label_smoothing`. :func:`apply_batch` runs one on a batch with a key
per sample. :func:`build` makes a whole pipeline from a string or config,
e.g. ``build("translate(0.25)|siren_negation(0.5)", spec)``, including the
MixUp variants registered by :mod:`dws_jax.augment.mixup`; :func:`names` lists every
registered name; :func:`label_augmentations` names the stages of a pipeline
that use labels (refused by self-supervised training, which offers the
label-free self-MixUp variants instead).
"""

from dws_jax.augment.builder import apply_batch
from dws_jax.augment.builder import Augmentation
from dws_jax.augment.builder import build
from dws_jax.augment.builder import label_augmentations
from dws_jax.augment.builder import parse
from dws_jax.augment.library import dropout
from dws_jax.augment.library import gaussian_noise
from dws_jax.augment.library import label_smoothing
from dws_jax.augment.library import permutation
from dws_jax.augment.library import quantile
from dws_jax.augment.library import rotate
from dws_jax.augment.library import scale
from dws_jax.augment.library import siren_bias
from dws_jax.augment.library import siren_negation
from dws_jax.augment.library import translate
from dws_jax.augment import mixup  # registers the MixUp variants
from dws_jax.augment.registry import BatchAug
from dws_jax.augment.registry import get_entry
from dws_jax.augment.registry import names
from dws_jax.augment.registry import register
from dws_jax.augment.registry import SampleAug
