# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The weight space of an MLP as a pytree, and the symmetry spec that acts on it.

A network ``f(x) = W_{L-1} s(... s(W_0 x + b_0) ...) + b_{L-1}`` is stored as a
:class:`WeightSpace`: a tuple of weights ``(..., d_in, d_out)`` (Flax's kernel
layout) and a tuple of biases ``(..., d_out)``, with any number of leading batch
dimensions shared by all leaves.

A :class:`WeightSpaceSpec` describes the architecture (layer sizes, activation,
SIREN frequencies, output offset) and derives from it every symmetry the library
uses: one permutation group per hidden layer (:attr:`WeightSpaceSpec.permutations`),
sign flips of odd activations and phase shifts of the sine by ``k*pi/w0``. Random
permutations, SIREN negation and bias shift, weight matching and the
equivariance tests of every model are written once against this spec, never per
layer.
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any, Callable, Iterable, Mapping, Sequence

from flax import struct
import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array

ACTIVATIONS = ("sine", "relu", "tanh", "gelu", "identity")
# Activations with s(-z) = -s(z): every hidden neuron can flip its sign.
ODD_ACTIVATIONS = ("sine", "tanh", "identity")


class WeightSpace(struct.PyTreeNode):
  """Weights and biases of an MLP, possibly batched.

  Attributes:
    weights: tuple of ``L`` arrays; ``weights[l]`` has shape
      ``(*batch, d_l, d_{l+1})`` (input dim first, Flax layout).
    biases: tuple of ``L`` arrays; ``biases[l]`` has shape ``(*batch, d_{l+1})``.

  Every leaf shares the same leading ``batch`` shape. The class is a pytree, so
  ``jax.vmap``, ``jax.jit`` and ``jax.tree.map`` apply directly.

  Example:
    >>> ws = WeightSpace.zeros(WeightSpaceSpec.siren((2, 32, 32, 1)), (8,))
    >>> ws.weights[1].shape, ws.batch_shape
    ((8, 32, 32), (8,))
  """

  weights: tuple[Array, ...]
  biases: tuple[Array, ...]

  @property
  def num_layers(self) -> int:
    return len(self.weights)

  @property
  def batch_shape(self) -> tuple[int, ...]:
    """Leading batch dims, read from the last bias, shape ``(*batch, d_L)``."""
    return tuple(self.biases[-1].shape[:-1])

  @property
  def layer_sizes(self) -> tuple[int, ...]:
    """``(d_0, d_1, ..., d_L)``, read from the weight shapes."""
    return (self.weights[0].shape[-2],) + tuple(w.shape[-1] for w in self.weights)

  @property
  def dtype(self):
    return self.weights[0].dtype

  def map(self, fn: Callable[[Array], Array]) -> "WeightSpace":
    """Applies ``fn`` to every weight and bias leaf."""
    return jax.tree.map(fn, self)

  def __getitem__(self, index) -> "WeightSpace":
    """Indexes the leading batch dims of every leaf: ``ws[3]``, ``ws[:16]``."""
    return jax.tree.map(lambda leaf: leaf[index], self)

  def __len__(self) -> int:
    if not self.batch_shape:
      raise TypeError("len() of an unbatched WeightSpace")
    return self.batch_shape[0]

  def __add__(self, other: "WeightSpace") -> "WeightSpace":
    return jax.tree.map(jnp.add, self, other)

  def __sub__(self, other: "WeightSpace") -> "WeightSpace":
    return jax.tree.map(jnp.subtract, self, other)

  def __mul__(self, scalar) -> "WeightSpace":
    return jax.tree.map(lambda leaf: leaf * scalar, self)

  __rmul__ = __mul__

  @classmethod
  def zeros(cls, spec: "WeightSpaceSpec", batch_shape: Sequence[int] = (),
            dtype=jnp.float32) -> "WeightSpace":
    """All-zero weight space of ``spec`` with leading ``batch_shape``."""
    batch_shape = tuple(batch_shape)
    return cls(
        weights=tuple(jnp.zeros(batch_shape + s, dtype) for s in spec.weight_shapes),
        biases=tuple(jnp.zeros(batch_shape + s, dtype) for s in spec.bias_shapes),
    )


def stack(spaces: Sequence[WeightSpace]) -> WeightSpace:
  """Stacks ``B`` weight spaces of equal shapes along a new leading axis."""
  if not spaces:
    raise ValueError("stack() needs at least one WeightSpace")
  first = spaces[0].layer_sizes
  for i, ws in enumerate(spaces):
    if ws.layer_sizes != first:
      raise ValueError(
          f"stack(): WeightSpace {i} has layer sizes {ws.layer_sizes}, "
          f"but WeightSpace 0 has {first}")
  return jax.tree.map(lambda *leaves: jnp.stack(leaves), *spaces)


def concatenate(spaces: Sequence[WeightSpace]) -> WeightSpace:
  """Concatenates batched weight spaces along their first batch axis."""
  if not spaces:
    raise ValueError("concatenate() needs at least one WeightSpace")
  return jax.tree.map(lambda *leaves: jnp.concatenate(leaves), *spaces)


def unstack(ws: WeightSpace) -> list[WeightSpace]:
  """Splits a batched weight space along its first axis into a list."""
  if not ws.batch_shape:
    raise ValueError("unstack() needs a batched WeightSpace (no batch dims here)")
  return [ws[i] for i in range(ws.batch_shape[0])]


@dataclasses.dataclass(frozen=True)
class PermutationSpec:
  """One hidden-neuron permutation group and the axes it acts on.

  Attributes:
    layer: index ``l`` of the hidden layer whose ``d_{l+1}`` neurons are permuted.
    size: number of neurons ``d_{l+1}``.
    axes: tuple of ``(kind, layer, axis)`` with ``kind`` in ``{"weights",
      "biases"}`` and ``axis`` counted from the end (so batch dims do not
      matter): ``("weights", l, -1)`` (outgoing side of ``W_l``),
      ``("biases", l, -1)`` and ``("weights", l + 1, -2)`` (incoming side of
      ``W_{l+1}``).
  """

  layer: int
  size: int
  axes: tuple[tuple[str, int, int], ...]


@dataclasses.dataclass(frozen=True)
class FlatEntry:
  """Where one leaf lives in a flat parameter vector."""

  kind: str  # "weights" or "biases"
  layer: int
  shape: tuple[int, ...]
  offset: int

  @property
  def size(self) -> int:
    return math.prod(self.shape)


@dataclasses.dataclass(frozen=True)
class WeightSpaceSpec:
  """Architecture and symmetries of an MLP weight space.

  Attributes:
    layer_sizes: ``(d_0, ..., d_L)``; ``L`` linear layers.
    activation: hidden activation, one of :data:`ACTIVATIONS`.
    w0: SIREN frequency of every hidden sine layer after the first,
      ``s(z) = sin(w0 * z)``.
    w0_first: frequency of the first sine layer; ``None`` means ``w0`` (the
      DWSNets/official INR uses 30 everywhere).
    output_offset: constant added to the network output (``0.5`` in the
      DWSNets/official INR, ``0`` in standard SIREN).

  The flat layout (:attr:`flat_layout`) is ``W_0, b_0, W_1, b_1, ...`` with
  each weight flattened row-major in the ``(d_in, d_out)`` layout.
  """

  layer_sizes: tuple[int, ...]
  activation: str = "sine"
  w0: float = 30.0
  w0_first: float | None = None
  output_offset: float = 0.0

  def __post_init__(self):
    sizes = tuple(int(d) for d in self.layer_sizes)
    object.__setattr__(self, "layer_sizes", sizes)
    if len(sizes) < 2:
      raise ValueError(
          f"layer_sizes needs at least an input and an output size, got {sizes}")
    if any(d < 1 for d in sizes):
      raise ValueError(f"layer_sizes must be positive, got {sizes}")
    if self.activation not in ACTIVATIONS:
      raise ValueError(
          f"unknown activation {self.activation!r}; expected one of {ACTIVATIONS}")
    for name in ("w0", "w0_first"):
      value = getattr(self, name)
      if value is not None and not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value}")

  # -- constructors ----------------------------------------------------------

  @classmethod
  def siren(cls, layer_sizes: Sequence[int] = (2, 32, 32, 1), *, w0: float = 30.0,
            w0_first: float | None = None,
            output_offset: float = 0.0) -> "WeightSpaceSpec":
    """Spec of a SIREN with sine hidden activations."""
    return cls(tuple(layer_sizes), "sine", w0, w0_first, output_offset)

  @classmethod
  def dwsnets_inr(cls, layer_sizes: Sequence[int] = (2, 32, 32, 1)
                  ) -> "WeightSpaceSpec":
    """The INR of DWSNets and the official augmentation code: w0=30, +0.5."""
    return cls.siren(layer_sizes, w0=30.0, output_offset=0.5)

  @classmethod
  def from_weight_space(cls, ws: WeightSpace, **kwargs) -> "WeightSpaceSpec":
    """Derives the spec (layer sizes) from a weight space's shapes."""
    validate_structure(ws)
    return cls(ws.layer_sizes, **kwargs)

  # -- shapes -----------------------------------------------------------------

  @property
  def num_layers(self) -> int:
    return len(self.layer_sizes) - 1

  @property
  def weight_shapes(self) -> tuple[tuple[int, int], ...]:
    s = self.layer_sizes
    return tuple((s[l], s[l + 1]) for l in range(self.num_layers))

  @property
  def bias_shapes(self) -> tuple[tuple[int], ...]:
    return tuple((d,) for d in self.layer_sizes[1:])

  @property
  def num_params(self) -> int:
    return sum(math.prod(s) for s in self.weight_shapes + self.bias_shapes)

  @property
  def flat_layout(self) -> tuple[FlatEntry, ...]:
    entries, offset = [], 0
    for l in range(self.num_layers):
      for kind, shape in (("weights", self.weight_shapes[l]),
                          ("biases", self.bias_shapes[l])):
        entries.append(FlatEntry(kind, l, shape, offset))
        offset += math.prod(shape)
    return tuple(entries)

  # -- symmetries -------------------------------------------------------------

  @property
  def permutations(self) -> tuple[PermutationSpec, ...]:
    """One permutation group per hidden layer (input/output are fixed)."""
    return tuple(
        PermutationSpec(
            layer=l, size=self.layer_sizes[l + 1],
            axes=(("weights", l, -1), ("biases", l, -1), ("weights", l + 1, -2)))
        for l in range(self.num_layers - 1))

  @property
  def leaf_axes(self) -> dict[tuple[str, int], dict[int, int]]:
    """Which group permutes which axis of each tensor, read off :attr:`permutations`.

    ``{(kind, layer): {axis: g}}`` with ``axis`` counted from the end (``-1``
    output neurons, ``-2`` input neurons of a weight ``(d_l, d_{l+1})``) and
    ``g`` the index of the group in :attr:`permutations`; a tensor no group
    acts on is absent. Every consumer (permuting, weight matching, the DWS
    layers' axis map) derives its view from this one table.
    """
    table: dict[tuple[str, int], dict[int, int]] = {}
    for g, group in enumerate(self.permutations):
      for kind, layer, axis in group.axes:
        table.setdefault((kind, layer), {})[axis] = g
    return table

  @property
  def has_sign_symmetry(self) -> bool:
    """True when the activation is odd, so every hidden neuron can flip sign."""
    return self.activation in ODD_ACTIVATIONS

  @property
  def layer_w0(self) -> tuple[float, ...]:
    """Sine frequency of each hidden layer ``l = 0..L-2``."""
    first = self.w0 if self.w0_first is None else self.w0_first
    return tuple(first if l == 0 else self.w0 for l in range(self.num_layers - 1))

  @property
  def phase_periods(self) -> tuple[float, ...] | None:
    """Bias shift ``pi/w0_l`` per hidden layer that flips the neuron's sign.

    ``sin(w0 (z + k pi / w0)) = (-1)^k sin(w0 z)``, so adding ``k pi / w0`` to a
    sine neuron's bias and multiplying its outgoing weights by ``(-1)^k``
    preserves the function. ``None`` for non-sine activations.
    """
    if self.activation != "sine":
      return None
    return tuple(math.pi / w for w in self.layer_w0)

  # -- checks ---------------------------------------------------------------

  def validate(self, ws: WeightSpace, *, batch_ndim: int | None = None,
               allow_nonfinite: bool = True, name: str = "WeightSpace") -> None:
    """Raises ``ValueError`` naming the problem if ``ws`` does not fit this spec.

    Args:
      ws: the weight space to check.
      batch_ndim: if given, the exact number of leading batch dims required.
      allow_nonfinite: if False and the leaves are concrete, NaN/Inf raise.
      name: how to call ``ws`` in messages.
    """
    validate_structure(ws, name=name)
    if ws.num_layers != self.num_layers:
      raise ValueError(
          f"{name} has {ws.num_layers} layers but the spec has "
          f"{self.num_layers} (layer_sizes={self.layer_sizes})")
    batch = ws.batch_shape
    for l in range(self.num_layers):
      for kind, leaf, shape in (("weights", ws.weights[l], self.weight_shapes[l]),
                                ("biases", ws.biases[l], self.bias_shapes[l])):
        if tuple(leaf.shape) != batch + shape:
          raise ValueError(
              f"{name}.{kind}[{l}] has shape {tuple(leaf.shape)}, expected "
              f"batch {batch} + {shape} from spec layer_sizes={self.layer_sizes}")
    if batch_ndim is not None and len(batch) != batch_ndim:
      raise ValueError(
          f"{name} has {len(batch)} batch dims {batch}, expected {batch_ndim}")
    if not allow_nonfinite:
      check_finite(ws, name=name)


def validate_structure(ws: Any, *, name: str = "WeightSpace") -> None:
  """Checks internal consistency of a WeightSpace (no spec needed)."""
  if not isinstance(ws, WeightSpace):
    raise TypeError(f"{name} must be a WeightSpace, got {type(ws).__name__}")
  if len(ws.weights) != len(ws.biases):
    raise ValueError(
        f"{name} has {len(ws.weights)} weights but {len(ws.biases)} biases")
  if not ws.weights:
    raise ValueError(f"{name} has no layers")
  batch = ws.batch_shape
  for l, (w, b) in enumerate(zip(ws.weights, ws.biases)):
    if w.ndim != len(batch) + 2:
      raise ValueError(
          f"{name}.weights[{l}] has shape {tuple(w.shape)}; expected batch {batch} "
          "+ (d_in, d_out)")
    if b.ndim != len(batch) + 1 or tuple(b.shape[:-1]) != batch:
      raise ValueError(
          f"{name}.biases[{l}] has shape {tuple(b.shape)}; expected batch {batch} "
          "+ (d_out,)")
    if tuple(w.shape[:-2]) != batch:
      raise ValueError(
          f"{name}.weights[{l}] has batch dims {tuple(w.shape[:-2])}, but the "
          f"biases have {batch}")
    if w.shape[-1] != b.shape[-1]:
      raise ValueError(
          f"{name}.weights[{l}] has d_out={w.shape[-1]} but biases[{l}] has "
          f"{b.shape[-1]}")
    if l > 0 and w.shape[-2] != ws.weights[l - 1].shape[-1]:
      raise ValueError(
          f"{name}.weights[{l}] has d_in={w.shape[-2]} but weights[{l - 1}] has "
          f"d_out={ws.weights[l - 1].shape[-1]}")


def check_finite(ws: WeightSpace, *, name: str = "WeightSpace") -> None:
  """Raises ``ValueError`` if any concrete leaf holds NaN or Inf (no-op if traced)."""
  for kind in ("weights", "biases"):
    for l, leaf in enumerate(getattr(ws, kind)):
      if isinstance(leaf, jax.core.Tracer):
        return
      arr = np.asarray(leaf)
      if not np.all(np.isfinite(arr)):
        n_bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name}.{kind}[{l}] has {n_bad} non-finite values (NaN/Inf)")


def _get_leaf(ws: WeightSpace, kind: str, layer: int) -> Array:
  return getattr(ws, kind)[layer]


def replace_leaves(ws: WeightSpace, updates: Mapping[tuple[str, int], Array]
                   ) -> WeightSpace:
  """Returns ``ws`` with ``(kind, layer) -> array`` leaves replaced."""
  weights, biases = list(ws.weights), list(ws.biases)
  for (kind, layer), value in updates.items():
    (weights if kind == "weights" else biases)[layer] = value
  return ws.replace(weights=tuple(weights), biases=tuple(biases))


def permute(ws: WeightSpace, perms: Sequence[Array], spec: WeightSpaceSpec
            ) -> WeightSpace:
  """Applies hidden-neuron permutations to a weight space.

  Neuron ``j`` of the permuted network is neuron ``perms[l][j]`` of ``ws``
  (``new = old[..., perm]`` along every axis the group acts on), so the network
  computes the same function.

  Args:
    ws: unbatched weight space, or batched with ``perms`` batched alike.
    perms: one int array per entry of ``spec.permutations``, shape
      ``(*batch, d_{l+1})``.
    spec: the weight-space spec.

  Returns:
    The permuted weight space, same shapes as ``ws``.
  """
  groups = spec.permutations
  if len(perms) != len(groups):
    raise ValueError(
        f"permute() got {len(perms)} permutations, the spec has {len(groups)} "
        "hidden layers")
  batch_ndim = len(ws.batch_shape)
  updates: dict[tuple[str, int], Array] = {}
  for group, perm in zip(groups, perms):
    if perm.shape[-1] != group.size:
      raise ValueError(
          f"permutation for hidden layer {group.layer} has size {perm.shape[-1]}, "
          f"expected {group.size}")
    for kind, layer, axis in group.axes:
      leaf = updates.get((kind, layer), _get_leaf(ws, kind, layer))
      updates[(kind, layer)] = _take_along(leaf, perm, axis, batch_ndim)
  return replace_leaves(ws, updates)


def _ranks(bits: Array) -> Array:
  """Ranks of ``n`` random uint32 words: a uniform permutation of ``range(n)``.

  The low ``ceil(log2 n)`` bits of word ``i`` are replaced by ``i``, so the
  words are distinct and one compare per pair suffices (ties of the remaining
  high bits, probability ``~n^2 2^-33``, are broken by position).
  ``rank_i = #{j : w_j < w_i}``: ``O(n^2)`` compares and no sort, which is
  cheap on every backend for the widths of INRs (up to a few hundred).
  """
  n = bits.shape[-1]
  low = max(1, (n - 1).bit_length())
  words = (bits & ~np.uint32((1 << low) - 1)) | jnp.arange(n, dtype=jnp.uint32)
  return jnp.sum(words[None, :] < words[:, None], axis=1, dtype=jnp.int32)


def random_ranks(key: Array, n: int) -> Array:
  """A uniformly random permutation of ``range(n)``.

  Ranks (:func:`_ranks`) of ``n`` words of ``jax.random.bits`` for
  ``n <= 1024``; ``jax.random.permutation`` beyond. The one sampler of
  neuron permutations (:func:`random_permutations`).

  Args:
    key: PRNG key (any ``jax.random`` implementation).
    n: permutation size.

  Returns:
    int32 ``(n,)`` permutation.
  """
  if n > 1024:
    return jax.random.permutation(key, n).astype(jnp.int32)
  return _ranks(jax.random.bits(key, (n,), jnp.uint32))


def random_permutations(key: Array, spec: WeightSpaceSpec,
                        batch_shape: Sequence[int] = ()) -> tuple[Array, ...]:
  """Uniformly random hidden-neuron permutations, one per group of ``spec``.

  Each group draws from its own split of ``key`` (:func:`random_ranks`, one
  key per batch entry), so the result feeds :func:`permute` directly.

  Args:
    key: PRNG key.
    spec: weight-space spec.
    batch_shape: leading batch dims; every entry gets independent draws.

  Returns:
    Tuple of int32 arrays ``(*batch_shape, n_g)``, one per group.
  """
  batch_shape = tuple(batch_shape)
  groups = spec.permutations
  if not groups:
    return ()
  count = math.prod(batch_shape)
  perms = []
  for k, group in zip(jax.random.split(key, len(groups)), groups):
    if batch_shape:
      draw = jax.vmap(lambda kk, n=group.size: random_ranks(kk, n))(
          jax.random.split(k, count))
    else:
      draw = random_ranks(k, group.size)
    perms.append(draw.reshape(batch_shape + (group.size,)))
  return tuple(perms)


def _take_along(leaf: Array, perm: Array, axis: int, batch_ndim: int) -> Array:
  """``leaf[..., perm, ...]`` along ``axis`` (from the end), perm maybe batched."""
  axis = leaf.ndim + axis
  if perm.ndim == 1:
    return jnp.take(leaf, perm, axis=axis)
  # Batched permutation (*batch, n): broadcast it to the leaf's rank.
  shape = list(perm.shape[:batch_ndim]) + [1] * (leaf.ndim - batch_ndim)
  shape[axis] = perm.shape[-1]
  return jnp.take_along_axis(leaf, perm.reshape(shape), axis=axis)


# -- conversions --------------------------------------------------------------


def to_flat(ws: WeightSpace, spec: WeightSpaceSpec | None = None) -> Array:
  """Flattens to a vector in ``spec.flat_layout`` order.

  Args:
    ws: weight space with batch dims ``batch``.
    spec: checked against ``ws`` when given.

  Returns:
    Array of shape ``(*batch, P)`` with ``P = spec.num_params``.
  """
  if spec is not None:
    spec.validate(ws)
  else:
    validate_structure(ws)
  batch = ws.batch_shape
  parts = []
  for w, b in zip(ws.weights, ws.biases):
    parts += [w.reshape(batch + (-1,)), b]
  return jnp.concatenate(parts, axis=-1)


def from_flat(flat: Array, spec: WeightSpaceSpec) -> WeightSpace:
  """Inverse of :func:`to_flat`: ``(*batch, P)`` -> WeightSpace of ``spec``."""
  flat = jnp.asarray(flat)
  if flat.ndim < 1 or flat.shape[-1] != spec.num_params:
    raise ValueError(
        f"flat parameter vector has shape {tuple(flat.shape)}, expected "
        f"(..., {spec.num_params}) for layer_sizes={spec.layer_sizes}")
  batch = tuple(flat.shape[:-1])
  weights, biases = [], []
  for entry in spec.flat_layout:
    leaf = flat[..., entry.offset:entry.offset + entry.size].reshape(
        batch + entry.shape)
    (weights if entry.kind == "weights" else biases).append(leaf)
  return WeightSpace(tuple(weights), tuple(biases))


_FLAX_INDEX = re.compile(r"^(.*?)_?(\d+)$")


def from_flax(params: Mapping[str, Any], spec: WeightSpaceSpec | None = None
              ) -> WeightSpace:
  """Reads Flax MLP params (``{"Dense_0": {"kernel", "bias"}, ...}``).

  Accepts the variables dict itself (``{"params": {...}}``) or the inner
  params. Layers are ordered by the trailing integer of their names.

  Args:
    params: Flax params with kernels ``(*batch, d_in, d_out)``, biases
      ``(*batch, d_out)``.
    spec: checked against the result when given.

  Returns:
    WeightSpace with the same (possibly batched) arrays.
  """
  if "params" in params and len(params) == 1:
    params = params["params"]
  layers = []
  for name, layer in params.items():
    match = _FLAX_INDEX.match(name)
    if match is None or not isinstance(layer, Mapping):
      raise ValueError(f"from_flax(): cannot read layer {name!r}; expected names "
                       "ending in an index, like 'Dense_0'")
    missing = {"kernel", "bias"} - set(layer)
    if missing:
      raise ValueError(f"from_flax(): layer {name!r} lacks {sorted(missing)}")
    layers.append((int(match.group(2)), layer))
  layers.sort(key=lambda item: item[0])
  indices = [i for i, _ in layers]
  if indices != list(range(len(layers))):
    raise ValueError(f"from_flax(): layer indices must be 0..L-1, got {indices}")
  ws = WeightSpace(tuple(jnp.asarray(l["kernel"]) for _, l in layers),
                   tuple(jnp.asarray(l["bias"]) for _, l in layers))
  if spec is not None:
    spec.validate(ws, name="from_flax(params)")
  else:
    validate_structure(ws, name="from_flax(params)")
  return ws


def to_flax(ws: WeightSpace, prefix: str = "Dense") -> dict[str, Any]:
  """Writes ``{"params": {f"{prefix}_{l}": {"kernel", "bias"}}}`` for Flax."""
  validate_structure(ws)
  return {"params": {f"{prefix}_{l}": {"kernel": w, "bias": b}
                     for l, (w, b) in enumerate(zip(ws.weights, ws.biases))}}


def from_state_dict(state_dict: Mapping[str, Any], spec: WeightSpaceSpec | None = None,
                    *, prefix: str = "seq.", check_finite_values: bool = True
                    ) -> WeightSpace:
  """Reads a PyTorch-style state dict (``seq.{i}.weight`` of shape ``(out, in)``).

  This is the format of the DWSNets and official augmentation INR files. Keys
  not starting with ``prefix`` (such as the official files' ``label``) are
  ignored. Values may be torch tensors or numpy arrays.

  Args:
    state_dict: mapping ``f"{prefix}{i}.weight" -> (d_out, d_in)`` and
      ``f"{prefix}{i}.bias" -> (d_out,)``.
    spec: checked against the result when given.
    prefix: key prefix of the linear layers.
    check_finite_values: raise on NaN/Inf.

  Returns:
    Unbatched WeightSpace, weights transposed to ``(d_in, d_out)``.
  """
  pattern = re.compile(rf"^{re.escape(prefix)}(\d+)\.(weight|bias)$")
  found: dict[int, dict[str, np.ndarray]] = {}
  for key, value in state_dict.items():
    match = pattern.match(key)
    if match:
      if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
      found.setdefault(int(match.group(1)), {})[match.group(2)] = np.asarray(
          value, dtype=np.float32)
  if not found:
    raise ValueError(f"from_state_dict(): no keys like '{prefix}0.weight' in "
                     f"{sorted(state_dict)[:8]}")
  weights, biases = [], []
  for index in sorted(found):
    layer = found[index]
    if set(layer) != {"weight", "bias"}:
      raise ValueError(f"from_state_dict(): layer {prefix}{index} has only "
                       f"{sorted(layer)}; need weight and bias")
    if layer["weight"].ndim != 2:
      raise ValueError(f"from_state_dict(): {prefix}{index}.weight has shape "
                       f"{layer['weight'].shape}; expected (out, in)")
    weights.append(jnp.asarray(layer["weight"].T))
    biases.append(jnp.asarray(layer["bias"]))
  ws = WeightSpace(tuple(weights), tuple(biases))
  if spec is not None:
    spec.validate(ws, batch_ndim=0, name="from_state_dict(state_dict)")
  else:
    validate_structure(ws, name="from_state_dict(state_dict)")
  if check_finite_values:
    check_finite(ws, name="from_state_dict(state_dict)")
  return ws


def to_state_dict(ws: WeightSpace, *, prefix: str = "seq.",
                  layer_indices: Iterable[int] | None = None
                  ) -> dict[str, np.ndarray]:
  """Writes an unbatched WeightSpace as ``{f"{prefix}{i}.weight": (out, in)}``."""
  validate_structure(ws)
  if ws.batch_shape:
    raise ValueError(f"to_state_dict() needs an unbatched WeightSpace, got batch "
                     f"{ws.batch_shape}")
  indices = list(range(ws.num_layers) if layer_indices is None else layer_indices)
  if len(indices) != ws.num_layers:
    raise ValueError(f"layer_indices has {len(indices)} entries for "
                     f"{ws.num_layers} layers")
  out = {}
  for i, w, b in zip(indices, ws.weights, ws.biases):
    out[f"{prefix}{i}.weight"] = np.asarray(w).T.copy()
    out[f"{prefix}{i}.bias"] = np.asarray(b).copy()
  return out
