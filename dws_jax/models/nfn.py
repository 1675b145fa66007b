# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Neural functionals (Zhou et al., NeurIPS 2023, arXiv:2302.14040).

The paper defines two equivariant linear layers between feature weight spaces
(leaves ``W_i: (B, d_i, d_{i+1}, C)`` and ``b_i: (B, d_{i+1}, C)``):

* :class:`NPLinear`, for the "neuron permutation" (NP) group, which permutes
  the neurons of *every* layer, inputs and outputs included. The hidden-neuron
  group of :attr:`WeightSpaceSpec.permutations` is a subgroup, so the layer is
  equivariant to it too (the tests check this). The output for ``W_i`` is the
  sum of

  * a pointwise channel map of ``W_i``;
  * a map of all global means (every ``W_j`` over both axes, every ``b_j``),
    broadcast everywhere;
  * a map of the vectors indexed by ``W_i``'s input neurons (``W_i`` averaged
    over its outputs, ``W_{i-1}`` over its inputs, ``b_{i-1}``), broadcast
    over outputs;
  * a map of the vectors indexed by ``W_i``'s output neurons (``W_i``
    averaged over its inputs, ``b_i``, ``W_{i+1}`` averaged over its
    outputs), broadcast over inputs;

  and for ``b_i`` a map of the output-neuron vectors plus a map of the global
  means. This matches ``nfn.layers.NPLinear`` without IO embeddings.
* :class:`HNPLinear`, for the "hidden neuron permutation" (HNP) group, which
  permutes only the hidden neurons (exactly :attr:`WeightSpaceSpec.
  permutations`). The input neurons ``d_0`` and output neurons ``d_L`` are
  fixed, so the layer keeps them as separate features: it has parameters per
  input and per output neuron and is *not* equivariant to permuting them. See
  its docstring for the terms; it matches ``nfn.layers.HNPLinear`` (with an
  option for one term the reference leaves out).

:func:`np_pool` and :func:`hnp_pool` are the matching invariant poolings, and
:class:`NFNClassifier` (registered as ``"nfn_np"``) and
:class:`NFNHNPClassifier` (``"nfn_hnp"``) the invariant classifiers built from
them. Initialisation is Flax's default (LeCun normal kernels, zero biases) for
every map, not NFN's ``set_init_``.

The DWSNet layer (:mod:`dws_jax.models.layers`) is equivariant to the same
group as :class:`HNPLinear`.
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
        [w.mean(axis=(1, 2)) for w in weights] +
        [b.mean(axis=1) for b in biases],
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


def _check_features(fws: wsp.WeightSpace, spec: wsp.WeightSpaceSpec,
                    name: str) -> None:
  """Raises ``ValueError`` unless ``fws`` is a feature weight space of ``spec``.

  Args:
    fws: leaves ``(B, d_i, d_{i+1}, C)`` and ``(B, d_{i+1}, C)``, one ``B`` and
      one ``C`` throughout.
    spec: the spec the sizes must match.
    name: how to call the caller in messages.
  """
  if not isinstance(fws, wsp.WeightSpace):
    raise TypeError(f"{name}: input must be a WeightSpace, got "
                    f"{type(fws).__name__}")
  if len(fws.weights) != spec.num_layers or len(fws.biases) != spec.num_layers:
    raise ValueError(
        f"{name}: got {len(fws.weights)} weights and {len(fws.biases)} biases, "
        f"but the spec has {spec.num_layers} layers "
        f"(layer_sizes={spec.layer_sizes})")
  first = fws.weights[0].shape
  batch, feats = (first[0], first[-1]) if first else (None, None)
  for kind, leaves, shapes in (("weights", fws.weights, spec.weight_shapes),
                               ("biases", fws.biases, spec.bias_shapes)):
    for layer, (leaf, shape) in enumerate(zip(leaves, shapes)):
      expected = (batch, *shape, feats)
      if tuple(leaf.shape) != expected:
        raise ValueError(
            f"{name}: {kind}[{layer}] has shape {tuple(leaf.shape)}, expected "
            f"(B, *{shape}, C) = {expected} (one batch size B and one "
            f"feature size C; spec layer_sizes={spec.layer_sizes})")


def _by_hidden_neuron(w: Array) -> Array:
  """``(B, d_i, d_{i+1}, C)`` -> ``(B, d_{i+1}, d_i C)``: rows per output."""
  return jnp.swapaxes(w, 1, 2).reshape(w.shape[0], w.shape[2], -1)


def _flat_rows(w: Array) -> Array:
  """``(B, d_i, d_{i+1}, C)`` -> ``(B, d_i, d_{i+1} C)``: rows per input."""
  return w.reshape(w.shape[0], w.shape[1], -1)


class HNPLinear(nn.Module):
  """NFN HNP-equivariant linear layer between feature weight spaces.

  Equivariant to the hidden-neuron permutations of ``spec.permutations``; the
  input neurons (``d_0``) and output neurons (``d_L``) are fixed, so every
  axis of size ``d_0`` or ``d_L`` is carried as features with its own
  parameters (the layer is *not* equivariant to permuting those neurons).

  Terms, for ``L >= 2`` layers. ``g`` is the vector of invariants of size
  ``C (2L + d_0 + 2 d_L)``: every ``W_j`` averaged over both axes, every
  ``b_j`` averaged, ``W_0`` averaged over its outputs (``d_0 C``),
  ``W_{L-1}`` averaged over its inputs (``d_L C``) and ``b_{L-1}`` itself
  (``d_L C``). Every term is a dense map of the listed inputs (concatenated
  along features), broadcast along the axes it does not have.

  * ``W_0`` (hidden axis ``d_1``, fixed input axis ``d_0``): per hidden neuron
    ``j``, a map to ``d_0 C_out`` of ``W_0[:, j]`` (all inputs), ``W_1[j]``
    averaged over its outputs, ``b_0[j]`` and, when ``L = 2``, ``W_1[j]``
    (all ``d_2`` outputs); plus a map of ``g`` to ``d_0 C_out``.
  * ``b_0``: a map of the same per-neuron vector to ``C_out``, plus a map of
    ``g``.
  * ``W_i``, ``0 < i < L - 1`` (both axes hidden): as :class:`NPLinear`
    (pointwise, ``g`` instead of the global means, the input-neuron vector
    and the output-neuron vector), where the input-neuron vector of ``W_1``
    also holds ``W_0`` with its ``d_0`` inputs as features and the
    output-neuron vector of ``W_{L-2}`` also holds ``W_{L-1}`` with its
    ``d_L`` outputs as features.
  * ``b_i``, ``0 < i < L - 1``: a map of ``W_i``'s output-neuron vector plus
    a map of ``g``.
  * ``W_{L-1}`` (hidden axis ``d_{L-1}``, fixed output axis ``d_L``): per
    hidden neuron ``j``, a map to ``d_L C_out`` of ``W_{L-1}[j]`` (all
    outputs), ``W_{L-2}[:, j]`` averaged over its inputs, (with
    ``last_hidden_bias``) ``b_{L-2}[j]`` and, when ``L = 2``, ``W_0[:, j]``
    (all ``d_0`` inputs); plus a map of ``g`` to ``d_L C_out``.
  * ``b_{L-1}`` (fixed axis ``d_L``): a map of ``g`` to ``d_L C_out``.

  This is ``nfn.layers.HNPLinear``. The reference's ``W_{L-1}`` term leaves
  out ``b_{L-2}``, although ``b_{L-2}[j]`` is indexed by the same hidden
  neuron as ``W_{L-1}[j]`` (its other layers use the matching bias);
  ``last_hidden_bias=True`` adds it (``C_in d_L C_out`` more parameters).
  Every map is a Flax ``Dense`` with Flax's default init, not NFN's
  ``set_init_``. For
  ``L = 1`` (no hidden neurons, so no symmetry) the layer is one dense map of
  the whole flattened weight space to each of ``W_0`` and ``b_0``; the
  reference needs ``L >= 2``.

  Attributes:
    spec: the weight-space spec.
    features: output channels ``C_out``.
    last_hidden_bias: also map ``b_{L-2}`` into ``W_{L-1}`` (not in the
      reference).

  Input: leaves ``(B, d_i, d_{i+1}, C_in)`` and ``(B, d_{i+1}, C_in)``.
  Output: the same shapes with ``features`` channels.

  Raises:
    ValueError: the input does not have the spec's layers and sizes.
  """

  spec: wsp.WeightSpaceSpec
  features: int
  last_hidden_bias: bool = False

  @nn.compact
  def __call__(self, fws: wsp.WeightSpace) -> wsp.WeightSpace:
    _check_features(fws, self.spec, "HNPLinear")
    weights, biases = fws.weights, fws.biases
    num = len(weights)
    sizes = self.spec.layer_sizes
    batch, feats = weights[0].shape[0], self.features
    dense = lambda n, name: nn.Dense(n, name=name)
    if num == 1:
      x = jnp.concatenate([weights[0].reshape(batch, -1),
                           biases[0].reshape(batch, -1)], axis=-1)
      z = dense(sizes[0] * sizes[1] * feats, "w0")(x)
      u = dense(sizes[1] * feats, "b0")(x)
      return wsp.WeightSpace(
          (z.reshape(batch, sizes[0], sizes[1], feats),),
          (u.reshape(batch, sizes[1], feats),))
    out_mean = [w.mean(axis=2) for w in weights]  # (B, d_i, C): over outputs
    in_mean = [w.mean(axis=1) for w in weights]  # (B, d_{i+1}, C): over inputs
    g = jnp.concatenate(
        [w.mean(axis=(1, 2)) for w in weights] +
        [b.mean(axis=1) for b in biases] +
        [out_mean[0].reshape(batch, -1), in_mean[-1].reshape(batch, -1),
         biases[-1].reshape(batch, -1)],
        axis=-1)  # (B, C (2 L + d_0 + 2 d_L))
    first = _by_hidden_neuron(weights[0])  # (B, d_1, d_0 C)
    last = _flat_rows(weights[-1])  # (B, d_{L-1}, d_L C)
    new_w, new_b = [], []
    for i in range(num):
      if i == 0:
        rows = [first, out_mean[1], biases[0]] + ([last] if num == 2 else [])
        rows = jnp.concatenate(rows, axis=-1)  # (B, d_1, .)
        z = dense(sizes[0] * feats, "w0")(rows)
        z = z + dense(sizes[0] * feats, "w0_global")(g)[:, None, :]
        z = jnp.swapaxes(z.reshape(batch, sizes[1], sizes[0], feats), 1, 2)
        u = dense(feats, "b0")(rows)
        u = u + dense(feats, "b0_global")(g)[:, None, :]
      elif i == num - 1:
        rows = [last, in_mean[i - 1]] + (
            [biases[i - 1]] if self.last_hidden_bias else []) + (
                [first] if num == 2 else [])
        rows = jnp.concatenate(rows, axis=-1)  # (B, d_{L-1}, .)
        z = dense(sizes[-1] * feats, f"w{i}")(rows)
        z = z + dense(sizes[-1] * feats, f"w{i}_global")(g)[:, None, :]
        z = z.reshape(batch, sizes[i], sizes[-1], feats)
        u = dense(sizes[-1] * feats, f"b{i}_global")(g)
        u = u.reshape(batch, sizes[-1], feats)
      else:
        rows = [out_mean[i], in_mean[i - 1], biases[i - 1]] + (
            [first] if i == 1 else [])  # indexed by d_i
        cols = [in_mean[i], biases[i], out_mean[i + 1]] + (
            [last] if i == num - 2 else [])  # indexed by d_{i+1}
        rows = jnp.concatenate(rows, axis=-1)
        cols = jnp.concatenate(cols, axis=-1)
        z = dense(feats, f"w{i}")(weights[i])
        z = z + dense(feats, f"w{i}_global")(g)[:, None, None, :]
        z = z + dense(feats, f"w{i}_rows")(rows)[:, :, None, :]
        z = z + dense(feats, f"w{i}_cols")(cols)[:, None, :, :]
        u = dense(feats, f"b{i}")(cols)
        u = u + dense(feats, f"b{i}_global")(g)[:, None, :]
      new_w.append(z)
      new_b.append(u)
    return wsp.WeightSpace(tuple(new_w), tuple(new_b))


def hnp_pool(fws: wsp.WeightSpace, spec: wsp.WeightSpaceSpec,
             reduction: str = "mean") -> Array:
  """NFN ``HNPPool``: every tensor pooled over its hidden-neuron axes.

  The fixed input and output neuron axes are kept and flattened into the
  features: ``W_0 -> d_0 C``, ``W_{L-1} -> d_L C``, ``b_{L-1} -> d_L C``, every
  other tensor ``-> C`` (for ``L = 1`` nothing is pooled). Invariant to the
  hidden-neuron permutations of ``spec.permutations``.

  Args:
    fws: feature weight space, leaves ``(B, d_i, d_{i+1}, C)`` and
      ``(B, d_{i+1}, C)``.
    spec: the spec.
    reduction: pooling in :data:`layers.REDUCTIONS` (NFN uses the mean).

  Returns:
    ``(B, C (2L - 3 + d_0 + 2 d_L))`` for ``L >= 2``, ``(B, C (d_0 + 1) d_1)``
    for ``L = 1``; ordered ``W_0, b_0, W_1, b_1, ...``.
  """
  # The DWSNets pooling's parts, in NFN's order.
  parts = layers.pooled_tensors(fws, spec, reduction)
  num = spec.num_layers
  return jnp.concatenate(
      [p for pair in zip(parts[:num], parts[num:]) for p in pair], axis=-1)


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

  Input: a raw weight space, leaves ``(B, d_i, d_{i+1})`` and ``(B, d_{i+1})``.
  Output: logits ``(B, num_classes)``.
  """

  spec: wsp.WeightSpaceSpec
  num_classes: int = 10
  hidden_features: int = 64
  num_layers: int = 3
  head_hidden: int = 256
  reduction: str = "mean"
  dropout_rate: float = 0.0

  def _equivariant_layer(self, index: int) -> nn.Module:
    return NPLinear(self.spec, self.hidden_features, name=f"np_{index}")

  def _pool(self, fws: wsp.WeightSpace) -> Array:
    return np_pool(fws, self.spec, self.reduction)

  def setup(self):
    layers.check_options(reduction=self.reduction)
    if self.num_layers < 1 or self.hidden_features < 1:
      raise ValueError(f"{type(self).__name__}: need num_layers >= 1 and "
                       f"hidden_features >= 1, got {self.num_layers}, "
                       f"{self.hidden_features}")
    self.equivariant_layers = [self._equivariant_layer(i)
                               for i in range(self.num_layers)]
    self.head_hidden_layer = nn.Dense(self.head_hidden)
    self.head_out = nn.Dense(self.num_classes)
    self.dropout = nn.Dropout(self.dropout_rate)

  def embed(self, ws: wsp.WeightSpace, train: bool = False) -> Array:
    """Invariant embedding: ``(B, 2 L hidden_features)`` for NP pooling."""
    self.spec.validate(ws, batch_ndim=1,
                       name=f"{type(self).__name__} input")
    fws = layers.to_features(ws)
    for layer in self.equivariant_layers:
      fws = layers.map_features(nn.relu, layer(fws))
    return self._pool(fws)

  def __call__(self, ws: wsp.WeightSpace, train: bool = False) -> Array:
    x = self.embed(ws, train)
    x = self.dropout(x, deterministic=not train)
    x = nn.relu(self.head_hidden_layer(x))
    x = self.dropout(x, deterministic=not train)
    return self.head_out(x)


class NFNHNPClassifier(NFNClassifier):
  """Invariant NFN: HNP layers with ReLU, HNP pooling, then an MLP head.

  The attributes, input and output are those of :class:`NFNClassifier`, with
  :class:`HNPLinear` layers and :func:`hnp_pool`; the embedding
  (:meth:`embed`) is ``(B, hidden_features (2L - 3 + d_0 + 2 d_L))`` for
  ``L >= 2``. ``last_hidden_bias``: see :class:`HNPLinear`.
  """

  last_hidden_bias: bool = False

  def _equivariant_layer(self, index: int) -> nn.Module:
    return HNPLinear(self.spec, self.hidden_features, self.last_hidden_bias,
                     name=f"hnp_{index}")

  def _pool(self, fws: wsp.WeightSpace) -> Array:
    return hnp_pool(fws, self.spec, self.reduction)
