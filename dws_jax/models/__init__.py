# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Weight-space models and their registry.

Every model maps a batch of INR weight spaces (leaves ``(B, ...)``) to logits
``(B, num_classes)``; ``method=model.embed`` gives a ``(B, D)`` embedding::

  model = models.get("dwsnet", spec=spec, num_classes=10)
  variables = model.init({"params": k1, "dropout": k2}, ws_batch, train=False)
  logits = model.apply(variables, ws_batch, train=True, rngs={"dropout": k3})
  emb = model.apply(variables, ws_batch, method=model.embed)

Models that use batch norm keep its statistics in the ``"batch_stats"``
collection (pass ``mutable=["batch_stats"]`` when training); it is off by
default everywhere.

Names (:func:`names`): ``"dwsnet"`` (alias ``"cannibal"``),
``"relational_transformer"`` (alias ``"rtransformer"``), ``"nfn_np"``,
``"nfn_hnp"``, ``"mlp"``, ``"inr2vec_transformer"`` (alias ``"wsl"``). The
models in :data:`INVARIANT` are invariant to hidden-neuron permutations; the
MLP and the inr2vec transformer are not.

Kernels: the models with a ``kernels`` attribute (DWSNet, the relational
transformer) run their hot spots by a named implementation
(:mod:`dws_jax.models.kernels`): ``"xla"`` (plain XLA, every backend),
``"xla_cpu"`` (fused XLA:CPU FFI kernels, registered by the opt-in plugin
:mod:`dws_jax.xla_cpu`) or ``"auto"`` (default), which :func:`get` resolves
when it builds the model: ``"xla_cpu"`` on the CPU backend when the plugin is
registered, else ``"xla"``. The model then holds the concrete name (its repr
shows it, ``jax.jit`` sees it).
"""

from __future__ import annotations

import math
from typing import Any, Callable

import flax.linen as nn
import jax

from dws_jax import weight_space as wsp
from dws_jax.models import kernels
from dws_jax.models.baselines import Inr2VecTransformer
from dws_jax.models.baselines import MLPClassifier
from dws_jax.models.dwsnet import DWSNet
from dws_jax.models.nfn import NFNClassifier
from dws_jax.models.nfn import NFNHNPClassifier
from dws_jax.models.relational_transformer import RelationalTransformer

# Parameter counts of the official PyTorch models (deep-weight-space-
# augmentations, trainer defaults) on 2->32->32->1 INRs with 10 classes,
# counted by instantiating them. The inr2vec transformer's official CLS token
# is a buffer (not trained); ours is a parameter, so ours has 32 more.
OFFICIAL_PARAM_COUNTS = {
    "dwsnet": 76_970,
    "relational_transformer": 376_586,
    "inr2vec_transformer": 569_002,
}

_REGISTRY: dict[str, Callable[..., nn.Module]] = {}
_ALIASES = {"rtransformer": "relational_transformer",
            "wsl": "inr2vec_transformer", "cannibal": "dwsnet"}


def register(name: str, cls: Callable[..., nn.Module]) -> None:
  """Adds a model class (a Linen module with ``spec`` and ``num_classes``)."""
  _REGISTRY[name] = cls


def names() -> tuple[str, ...]:
  """Registered model names (aliases excluded)."""
  return tuple(sorted(_REGISTRY))


def aliases() -> dict[str, str]:
  return dict(_ALIASES)


def get(name: str, *, spec: wsp.WeightSpaceSpec, num_classes: int = 10,
        **config: Any) -> nn.Module:
  """Builds model ``name`` for INRs of ``spec``.

  Args:
    name: a name in :func:`names` or an alias (``"rtransformer"``, ``"wsl"``,
      ``"cannibal"``).
    spec: spec of the input weight spaces.
    num_classes: number of logits.
    **config: model attributes overriding the defaults; ``kernels``
      (models that have it) is resolved (``"auto"`` -> ``"xla_cpu"`` or
      ``"xla"``, :func:`dws_jax.models.kernels.resolve`).

  Returns:
    The (unbound) Flax module.

  Raises:
    ValueError: unknown name, unknown option, or a config that does not fit.
  """
  key = _ALIASES.get(name, name)
  if key not in _REGISTRY:
    raise ValueError(f"unknown model {name!r}; expected one of {names()} or an "
                     f"alias in {sorted(_ALIASES)}")
  if not isinstance(spec, wsp.WeightSpaceSpec):
    raise TypeError(f"spec must be a WeightSpaceSpec, got {type(spec).__name__}")
  if int(num_classes) < 1:
    raise ValueError(f"num_classes must be >= 1, got {num_classes}")
  cls = _REGISTRY[key]
  fields = {f for f in getattr(cls, "__dataclass_fields__", {})
            if f not in ("parent", "name", "spec", "num_classes")}
  unknown = sorted(set(config) - fields)
  if unknown:
    raise ValueError(f"model {key!r} has no option(s) {unknown}; its options are "
                     f"{sorted(fields)}")
  if "kernels" in fields:
    config["kernels"] = kernels.resolve(config.get("kernels", kernels.AUTO))
  return cls(spec=spec, num_classes=int(num_classes), **config)


def param_count(variables: Any) -> int:
  """Number of trainable parameters (the ``"params"`` collection)."""
  params = variables.get("params", variables) if hasattr(variables, "get") else (
      variables)
  return sum(math.prod(x.shape) for x in jax.tree.leaves(params))


register("dwsnet", DWSNet)
register("relational_transformer", RelationalTransformer)
register("nfn_np", NFNClassifier)
register("nfn_hnp", NFNHNPClassifier)
register("mlp", MLPClassifier)
register("inr2vec_transformer", Inr2VecTransformer)

# Models whose logits are invariant to hidden-neuron permutations.
INVARIANT = ("dwsnet", "relational_transformer", "nfn_np", "nfn_hnp")

__all__ = ["DWSNet", "INVARIANT", "Inr2VecTransformer", "MLPClassifier",
           "NFNClassifier", "NFNHNPClassifier", "OFFICIAL_PARAM_COUNTS",
           "RelationalTransformer", "aliases", "get", "kernels", "names",
           "param_count", "register"]
