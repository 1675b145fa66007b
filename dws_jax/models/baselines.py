# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Baselines that ignore the weight-space symmetry.

* :class:`MLPClassifier`: an MLP on the flattened weights
  (:func:`dws_jax.to_flat`), the reference's ``FCBaselineForClassification``
  (hidden 256, ``n_hidden=2``, optional batch norm).
* :class:`Inr2VecTransformer`: the inr2vec-style transformer of the official
  trainer (``WSLForClassification``, ``--model wsl``). One token per neuron:
  every hidden or output neuron of layers ``2..L`` contributes its incoming
  weights, every input coordinate its outgoing weights in ``W_0``, every
  hidden bias vector is one token, and every output neuron's bias is repeated
  to the token width. For 2->32->32->1 that is ``32 + 1 + 2 + 1 + 2 = 38``
  tokens of width 32, then a Dense, a prepended CLS token, a post-norm
  transformer encoder (8 layers, 8 heads, feed-forward 1024, dropout 0.1,
  ReLU, final LayerNorm) and a Dense from the CLS output to the classes.
  All hidden widths must equal ``d_1`` (the token width).

Neither model is invariant to hidden-neuron permutations (the tests show it
for both).

Reference quirk: the official CLS token is registered as a *buffer*, so it is
never trained (and not counted: 569,002 parameters). Here it is a parameter
by default (569,034 parameters); ``train_cls_token=False`` reproduces the
reference by stopping its gradient.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from dws_jax import weight_space as wsp
from dws_jax.models import layers

Array = jax.Array


class MLPClassifier(nn.Module):
  """MLP on the flattened weight vector ``(B, P)``.

  Attributes:
    spec: spec of the input INRs.
    num_classes: output logits.
    hidden_features: width of the hidden layers.
    n_hidden: hidden Dense layers after the first.
    batch_norm: batch norm after each hidden Dense but the first
      (``"batch_stats"`` collection), as in the reference.
    dropout_rate: dropout after each hidden activation.
  """

  spec: wsp.WeightSpaceSpec
  num_classes: int = 10
  hidden_features: int = 256
  n_hidden: int = 2
  batch_norm: bool = False
  dropout_rate: float = 0.0

  def setup(self):
    if self.n_hidden < 0 or self.hidden_features < 1:
      raise ValueError(f"MLPClassifier: need n_hidden >= 0 and hidden_features "
                       f">= 1, got {self.n_hidden}, {self.hidden_features}")
    self.dense = [layers.torch_dense(self.hidden_features, name=f"dense_{i}")
                  for i in range(self.n_hidden + 1)]
    if self.batch_norm:
      self.norms = [nn.BatchNorm(momentum=0.9, epsilon=1e-5, name=f"bn_{i}")
                    for i in range(self.n_hidden)]
    self.dropout = nn.Dropout(self.dropout_rate)
    self.out = layers.torch_dense(self.num_classes, name="out")

  def embed(self, ws: wsp.WeightSpace, train: bool = False) -> Array:
    """Last hidden activations ``(B, hidden_features)``."""
    self.spec.validate(ws, batch_ndim=1, name="MLPClassifier input")
    x = wsp.to_flat(ws)
    for i, dense in enumerate(self.dense):
      x = dense(x)
      if i and self.batch_norm:
        x = self.norms[i - 1](x, use_running_average=not train)
      x = self.dropout(nn.relu(x), deterministic=not train)
    return x

  def __call__(self, ws: wsp.WeightSpace, train: bool = False) -> Array:
    return self.out(self.embed(ws, train))


def inr2vec_tokens(ws: wsp.WeightSpace, spec: wsp.WeightSpaceSpec) -> Array:
  """Token matrix ``(B, T, d_1)`` of the inr2vec-style transformer.

  Order (as the reference): incoming weights of the neurons of layers
  ``2..L`` (one token per neuron), outgoing weights of each input coordinate,
  the output bias repeated to width ``d_1`` (one token per output neuron),
  then one token per hidden bias vector.
  """
  width = spec.layer_sizes[1]
  hidden = spec.layer_sizes[1:-1]
  if any(h != width for h in hidden) or (spec.num_layers > 1 and
                                         spec.layer_sizes[-2] != width):
    raise ValueError(
        f"inr2vec tokens need all hidden widths equal, got layer_sizes="
        f"{spec.layer_sizes}")
  batch = ws.batch_shape[0]
  tokens = [jnp.swapaxes(w, 1, 2) for w in ws.weights[1:]]  # (B, d_out, width)
  tokens.append(ws.weights[0])  # (B, d_0, width)
  tokens.append(jnp.broadcast_to(ws.biases[-1][..., None],
                                 (batch, spec.layer_sizes[-1], width)))
  tokens += [b[:, None, :] for b in ws.biases[:-1]]
  return jnp.concatenate(tokens, axis=1)


class EncoderLayer(nn.Module):
  """PyTorch ``nn.TransformerEncoderLayer`` (post-norm, ReLU)."""

  num_heads: int
  ff_features: int
  dropout_rate: float

  @nn.compact
  def __call__(self, x: Array, train: bool) -> Array:
    det = not train
    d = x.shape[-1]
    y = nn.MultiHeadDotProductAttention(
        num_heads=self.num_heads, qkv_features=d, out_features=d,
        dropout_rate=self.dropout_rate, deterministic=det, name="attn")(x, x)
    x = nn.LayerNorm(epsilon=1e-5, name="norm1")(
        x + nn.Dropout(self.dropout_rate)(y, deterministic=det))
    y = nn.relu(nn.Dense(self.ff_features, name="linear1")(x))
    y = nn.Dropout(self.dropout_rate)(y, deterministic=det)
    y = nn.Dense(d, name="linear2")(y)
    return nn.LayerNorm(epsilon=1e-5, name="norm2")(
        x + nn.Dropout(self.dropout_rate)(y, deterministic=det))


class Inr2VecTransformer(nn.Module):
  """inr2vec-style transformer over neuron tokens (official ``wsl`` model).

  Attributes:
    spec: spec of the input INRs (equal hidden widths).
    num_classes: output logits.
    num_layers: encoder layers.
    num_heads: attention heads (must divide ``d_1``).
    ff_features: feed-forward width.
    dropout_rate: dropout in the encoder.
    train_cls_token: train the CLS token (the reference never does).
  """

  spec: wsp.WeightSpaceSpec
  num_classes: int = 10
  num_layers: int = 8
  num_heads: int = 8
  ff_features: int = 1024
  dropout_rate: float = 0.1
  train_cls_token: bool = True

  def setup(self):
    width = self.spec.layer_sizes[1]
    if width % self.num_heads:
      raise ValueError(f"Inr2VecTransformer: token width d_1={width} is not "
                       f"divisible by num_heads={self.num_heads}")
    self.lin = nn.Dense(width)
    self.cls_token = self.param("cls_token", nn.initializers.normal(1.0),
                                (1, 1, width))
    self.encoder = [EncoderLayer(self.num_heads, self.ff_features,
                                 self.dropout_rate, name=f"layer_{i}")
                    for i in range(self.num_layers)]
    self.norm = nn.LayerNorm(epsilon=1e-5)
    self.out = nn.Dense(self.num_classes)

  def embed(self, ws: wsp.WeightSpace, train: bool = False) -> Array:
    """CLS output ``(B, d_1)``."""
    self.spec.validate(ws, batch_ndim=1, name="Inr2VecTransformer input")
    x = self.lin(inr2vec_tokens(ws, self.spec))
    cls = self.cls_token
    if not self.train_cls_token:
      cls = jax.lax.stop_gradient(cls)
    x = jnp.concatenate(
        [jnp.broadcast_to(cls, (x.shape[0], 1, x.shape[-1])), x], axis=1)
    for layer in self.encoder:
      x = layer(x, train)
    return self.norm(x)[:, 0]

  def __call__(self, ws: wsp.WeightSpace, train: bool = False) -> Array:
    return self.out(self.embed(ws, train))
