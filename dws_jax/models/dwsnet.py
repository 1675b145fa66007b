# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""DWSNet classifier (Navon et al. 2023), as in the official augmentation code.

Defaults are those of the official trainer's ``CannibalModelForClassification``
(reference/paper.md §5): hidden width 16, ``n_hidden=2`` (three equivariant
layers: 1->16, 16->16, 16->16), max reduction, SAB set layers with 8 heads (1
head in the last equivariant layer), one Dense per MLP, no dropout, no batch
norm, ReLU between layers, then ReLU, dropout and the invariant head (per-tensor
pooling, :func:`~dws_jax.models.layers.invariant_pool`) with one Dense to the
classes. On 2->32->32->1 INRs with 10 classes it has 76,970 parameters, equal
to the official count.

Differences from the reference code:

* The reference ``Dropout`` calls ``F.dropout`` with its default
  ``training=True``, so it is active in ``eval()`` too; here dropout is active
  only with ``train=True``. Irrelevant at the default rate 0.
* The head's Dense uses PyTorch's default ``nn.Linear`` init for the kernel
  and a zero bias (PyTorch draws the bias uniformly).
"""

from __future__ import annotations

import flax.linen as nn
import jax

from dws_jax import weight_space as wsp
from dws_jax.models import layers

Array = jax.Array


class DWSNet(nn.Module):
  """DWSNet: equivariant DWS layers, then an invariant pooling head.

  Attributes:
    spec: spec of the input INRs.
    num_classes: output logits.
    hidden_features: channels of the equivariant layers (``dim_hidden``).
    n_hidden: equivariant layers after the first one.
    reduction: ``"max"``, ``"mean"`` or ``"sum"``.
    set_layer: ``"sab"`` or ``"ds"``.
    num_heads: SAB heads of all equivariant layers but the last.
    last_layer_heads: SAB heads of the last equivariant layer (1 in the
      reference).
    n_fc_layers: Dense layers per MLP inside the equivariant layers.
    n_out_fc: Dense layers of the head (the reference's ``n_out_fc``).
    dropout_rate: dropout between layers.
    batch_norm: batch norm per tensor before each ReLU between equivariant
      layers (statistics in the ``"batch_stats"`` collection).
    equiv_out_features: channels of the last equivariant layer; ``None``
      means ``hidden_features``.
    init_scale: scales the DWSNets init.
    use_bias: biases inside the equivariant layers.
    attention_chunk_bytes: memory budget of the SAB attention weights, which
      are then computed a few samples at a time
      (:func:`layers.stacked_attention`); ``None`` (default): the whole batch
      at once. Set by config, e.g. ``--config.model.attention_chunk_bytes``.
    kernels: kernel implementation of the equivariant layers' SAB attention
      and output copies (:mod:`dws_jax.models.kernels`): ``"xla"`` (plain
      XLA), ``"xla_cpu"`` (the XLA:CPU plugin's fused kernels) or ``"auto"``
      (resolved by :func:`dws_jax.models.get`: ``"xla_cpu"`` on the CPU when
      the plugin is loaded). ``--config.model.kernels=xla`` switches the
      kernels off.
  """

  spec: wsp.WeightSpaceSpec
  num_classes: int = 10
  hidden_features: int = 16
  n_hidden: int = 2
  reduction: str = "max"
  set_layer: str = "sab"
  num_heads: int = 8
  last_layer_heads: int = 1
  n_fc_layers: int = 1
  n_out_fc: int = 1
  dropout_rate: float = 0.0
  batch_norm: bool = False
  equiv_out_features: int | None = None
  init_scale: float = 1.0
  use_bias: bool = True
  attention_chunk_bytes: int | None = None
  kernels: str = "auto"

  def setup(self):
    layers.check_options(set_layer=self.set_layer, reduction=self.reduction)
    if self.n_hidden < 0 or self.hidden_features < 1 or self.n_fc_layers < 1:
      raise ValueError(
          f"DWSNet: need n_hidden >= 0, hidden_features >= 1, n_fc_layers >= 1; "
          f"got {self.n_hidden}, {self.hidden_features}, {self.n_fc_layers}")
    if not 0.0 <= self.dropout_rate < 1.0:
      raise ValueError(f"DWSNet: dropout_rate must be in [0, 1), got "
                       f"{self.dropout_rate}")
    out_features = self.equiv_out_features or self.hidden_features
    eq = []
    for i in range(self.n_hidden + 1):
      last = i == self.n_hidden
      eq.append(layers.DWSLayer(
          self.spec, out_features if last else self.hidden_features,
          set_layer=self.set_layer, reduction=self.reduction,
          n_fc_layers=self.n_fc_layers,
          num_heads=self.last_layer_heads if (last and i > 0) else self.num_heads,
          use_bias=self.use_bias, init_scale=self.init_scale,
          attention_chunk_bytes=self.attention_chunk_bytes,
          kernels=self.kernels, name=f"dws_{i}"))
    self.equivariant_layers = eq
    if self.batch_norm:
      n = 2 * self.spec.num_layers
      self.norms = [[nn.BatchNorm(momentum=0.9, epsilon=1e-5,
                                  name=f"bn_{i}_{t}") for t in range(n)]
                    for i in range(self.n_hidden)]
    self.dropout = nn.Dropout(self.dropout_rate)
    self.head = [layers.torch_dense(self.num_classes, name=f"head_{i}")
                 for i in range(self.n_out_fc)]

  def _drop(self, fws, train):
    if not train or self.dropout_rate == 0.0:
      return fws
    return layers.map_features(
        lambda x: self.dropout(x, deterministic=False), fws)

  def equivariant_features(self, ws: wsp.WeightSpace, train: bool = False
                           ) -> wsp.WeightSpace:
    """Output of the last equivariant layer: leaves ``(B, ..., F)``."""
    self.spec.validate(ws, batch_ndim=1, name="DWSNet input")
    fws = layers.to_features(ws)
    for i, layer in enumerate(self.equivariant_layers):
      if i:
        if self.batch_norm:
          leaves = layers.feature_leaves(fws)
          leaves = [bn(x, use_running_average=not train)
                    for bn, x in zip(self.norms[i - 1], leaves)]
          fws = layers.from_leaves(leaves, self.spec.num_layers)
        fws = self._drop(layers.map_features(nn.relu, fws), train)
      fws = layer(fws)
    return fws

  def embed(self, ws: wsp.WeightSpace, train: bool = False) -> Array:
    """Invariant embedding ``(B, F * (2L - 3 + d_0 + 2 d_L))`` (112 by default)."""
    fws = self.equivariant_features(ws, train)
    fws = self._drop(layers.map_features(nn.relu, fws), train)
    return layers.invariant_pool(fws, self.spec, self.reduction)

  def __call__(self, ws: wsp.WeightSpace, train: bool = False) -> Array:
    """Logits ``(B, num_classes)`` for a batch of INRs (leaves ``(B, ...)``)."""
    x = self.embed(ws, train)
    for i, dense in enumerate(self.head):
      if i:
        x = nn.relu(x)
      x = dense(x)
    return x
