# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Neural functionals (Zhou et al., NeurIPS 2023, arXiv:2302.14040): NP layers.

:class:`NPLinear` is the NFN layer for the "neuron permutation" (NP) group,
which permutes the neurons of *every* layer, inputs and outputs included.
The hidden-neuron group of :attr:`WeightSpaceSpec.permutations` is a subgroup,
so the layer is equivariant to it too (the tests check this). In the layout
of this library (``W_i`` is ``(B, d_i, d_{i+1}, C)``), the output for ``W_i``
is the sum of

* a pointwise channel map of ``W_i``;
* a map of all global means (every ``W_j`` over both axes, every ``b_j``),
  broadcast everywhere;
* a map of the vectors indexed by ``W_i``'s input neurons (``W_i`` averaged
  over its outputs, ``W_{i-1}`` over its inputs, ``b_{i-1}``), broadcast over
  outputs;
* a map of the vectors indexed by ``W_i``'s output neurons (``W_i`` averaged
  over its inputs, ``b_i``, ``W_{i+1}`` averaged over its outputs), broadcast
  over inputs;

and for ``b_i`` a map of the output-neuron vectors plus a map of the global
means. This matches ``nfn.layers.NPLinear`` without IO embeddings; the init is
Flax's default (LeCun normal, zero bias) rather than NFN's ``set_init_``.

The HNP layer of the same paper (which also uses that the input and output
neurons are *not* permuted) is not implemented; the DWSNet layer
(:mod:`dws_jax.models.layers`) covers that symmetry exactly.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from dws_jax import weight_space as wsp
from dws_jax.models import layers

Array = jax.Array


class NPLinear(nn.Module):
  """NFN NP-equivariant linear layer between feature weight spaces.

  Attributes:
    spec: the weight-space spec.
    features: output channels.

  Input: leaves ``(B, d_i, d_{i+1}, C_in)`` and ``(B, d_{i+1}, C_in)``.
  Output: the same shapes with ``features`` channels.
  """

  spec: wsp.WeightSpaceSpec
  features: int

  @nn.compact
  def __call__(self, fws: wsp.WeightSpace) -> wsp.WeightSpace:
    weights, biases = fws.weights, fws.biases
    num = len(weights)
    if num != self.spec.num_layers:
      raise ValueError(f"NPLinear: got {num} layers, spec has "
                       f"{self.spec.num_layers}")
    out_mean = [w.mean(axis=2) for w in weights]  # (B, d_i, C): over outputs
    in_mean = [w.mean(axis=1) for w in weights]  # (B, d_{i+1}, C): over inputs
    global_means = jnp.concatenate(
        [w.mean(axis=(1, 2)) for w in weights] + [b.mean(axis=1) for b in biases],
        axis=-1)  # (B, 2 L C)
    new_w, new_b = [], []
    for i in range(num):
      rows = [out_mean[i]]  # indexed by d_i
      cols = [in_mean[i], biases[i]]  # indexed by d_{i+1}
      if i > 0:
        rows += [in_mean[i - 1], biases[i - 1]]
      if i < num - 1:
        cols.append(out_mean[i + 1])
      rows = jnp.concatenate(rows, axis=-1)
      cols = jnp.concatenate(cols, axis=-1)
      z = nn.Dense(self.features, name=f"w{i}")(weights[i])
      z = z + nn.Dense(self.features, name=f"w{i}_global")(
          global_means)[:, None, None, :]
      z = z + nn.Dense(self.features, name=f"w{i}_rows")(rows)[:, :, None, :]
      z = z + nn.Dense(self.features, name=f"w{i}_cols")(cols)[:, None, :, :]
      u = nn.Dense(self.features, name=f"b{i}")(cols)
      u = u + nn.Dense(self.features, name=f"b{i}_global")(
          global_means)[:, None, :]
      new_w.append(z)
      new_b.append(u)
    return wsp.WeightSpace(tuple(new_w), tuple(new_b))


def np_pool(fws: wsp.WeightSpace, spec: wsp.WeightSpaceSpec,
            reduction: str = "mean") -> Array:
  """NFN ``NPPool``: every tensor pooled over all its neuron axes.

  Returns ``(B, 2 L C)``, invariant to every neuron permutation.
  """
  del spec
  parts = [layers.reduce(w, (1, 2), reduction) for w in fws.weights]
  parts += [layers.reduce(b, 1, reduction) for b in fws.biases]
  return jnp.concatenate(parts, axis=-1)


class NFNClassifier(nn.Module):
  """Invariant NFN: NP layers with ReLU, NP pooling, then an MLP head.

  Attributes:
    spec: spec of the input INRs.
    num_classes: output logits.
    hidden_features: channels of the NP layers.
    num_layers: number of NP layers.
    head_hidden: width of the head's hidden layer.
    reduction: pooling of :func:`np_pool`.
    dropout_rate: dropout before the head's layers.
  """

  spec: wsp.WeightSpaceSpec
  num_classes: int = 10
  hidden_features: int = 64
  num_layers: int = 3
  head_hidden: int = 256
  reduction: str = "mean"
  dropout_rate: float = 0.0

  def setup(self):
    layers.check_options(reduction=self.reduction)
    if self.num_layers < 1 or self.hidden_features < 1:
      raise ValueError(f"NFNClassifier: need num_layers >= 1 and "
                       f"hidden_features >= 1, got {self.num_layers}, "
                       f"{self.hidden_features}")
    self.np_layers = [NPLinear(self.spec, self.hidden_features, name=f"np_{i}")
                      for i in range(self.num_layers)]
    self.head_hidden_layer = nn.Dense(self.head_hidden)
    self.head_out = nn.Dense(self.num_classes)
    self.dropout = nn.Dropout(self.dropout_rate)

  def embed(self, ws: wsp.WeightSpace, train: bool = False) -> Array:
    """Invariant embedding ``(B, 2 L hidden_features)``."""
    self.spec.validate(ws, batch_ndim=1, name="NFNClassifier input")
    fws = layers.to_features(ws)
    for layer in self.np_layers:
      fws = layers.map_features(nn.relu, layer(fws))
    return np_pool(fws, self.spec, self.reduction)

  def __call__(self, ws: wsp.WeightSpace, train: bool = False) -> Array:
    x = self.embed(ws, train)
    x = self.dropout(x, deterministic=not train)
    x = nn.relu(self.head_hidden_layer(x))
    x = self.dropout(x, deterministic=not train)
    return self.head_out(x)
