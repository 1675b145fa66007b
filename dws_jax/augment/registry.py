# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Registry of augmentations, by name.

Three kinds of entries, each registered as a *factory* that binds
hyperparameters at build time (optax style) and returns a pure function:

* ``"sample"``: ``factory(spec, **hparams) -> aug`` with
  ``aug(key, ws) -> ws`` on ONE unbatched :class:`~dws_jax.WeightSpace`.
  Batched by ``jax.vmap`` with per-sample keys.
* ``"label"``: ``factory(spec, num_classes=..., **hparams) -> fn`` with
  ``fn(key, labels) -> labels`` on ONE soft label ``(C,)``.
* ``"batch"``: ``factory(spec, **hparams) -> fn`` with
  ``fn(key, ws_batch, labels) -> (ws_batch, labels)`` on a whole batch:
  ``ws_batch`` has leaves ``(B, ...)`` and ``labels`` are soft labels
  ``(B, C)``. MixUp variants are batch augmentations (they pick partners inside
  the batch).

Batch entries read and mix labels unless registered with
``uses_labels=False`` (the label-free self-MixUp variants, which keep each
INR's object and so its label); :attr:`Entry.uses_labels` says which entries a
self-supervised run must refuse.

Every built augmentation, whatever its kind, is turned into a :data:`BatchAug`
by the builder (:func:`dws_jax.augment.build`), which is what the training
step calls.

A leaf: it imports no augmentation. The modules that register entries,
:mod:`dws_jax.augment.library` (every augmentation of the paper) and
:mod:`dws_jax.augment.mixup` (MixUp variants), import it, and the package
``dws_jax.augment`` imports both, so every entry is registered before any
module of the package is used.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import jax

from dws_jax import weight_space as wsp

SampleAug = Callable[[jax.Array, wsp.WeightSpace], wsp.WeightSpace]
BatchAug = Callable[[jax.Array, wsp.WeightSpace, jax.Array],
                    tuple[wsp.WeightSpace, jax.Array]]
KINDS = ("sample", "label", "batch")


@dataclasses.dataclass(frozen=True)
class Entry:
  """A registered augmentation factory."""

  name: str
  kind: str
  factory: Callable[..., Callable]
  uses_labels: bool = False


_REGISTRY: dict[str, Entry] = {}


def register(name: str, kind: str = "sample", *,
             uses_labels: bool | None = None):
  """Decorator registering ``factory`` under ``name`` (see module docstring).

  Args:
    name: the name in augmentation strings.
    kind: ``"sample"``, ``"label"`` or ``"batch"``.
    uses_labels: whether the augmentation reads or changes labels; defaults to
      True for label and batch entries, False for sample entries (which never
      see labels).
  """
  if kind not in KINDS:
    raise ValueError(f"unknown augmentation kind {kind!r}; expected one of {KINDS}")
  if uses_labels is None:
    uses_labels = kind != "sample"
  elif kind != "batch" and uses_labels != (kind == "label"):
    raise ValueError(f"a {kind!r} augmentation cannot set uses_labels="
                     f"{uses_labels}")

  def decorator(factory):
    if name in _REGISTRY and _REGISTRY[name].factory is not factory:
      raise ValueError(f"augmentation {name!r} is already registered")
    _REGISTRY[name] = Entry(name, kind, factory, bool(uses_labels))
    return factory

  return decorator


def names(kind: str | None = None) -> tuple[str, ...]:
  """Names of all registered augmentations (of one ``kind`` if given), sorted."""
  return tuple(sorted(n for n, e in _REGISTRY.items()
                      if kind is None or e.kind == kind))


def get_entry(name: str) -> Entry:
  """Looks up a registered augmentation; unknown names list the known ones."""
  if name not in _REGISTRY:
    raise ValueError(f"unknown augmentation {name!r}; known: {', '.join(names())}")
  return _REGISTRY[name]
