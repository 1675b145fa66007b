# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Fitting SIREN INRs to signals, many at once (vmap over INRs, scan over steps).

The recipe of DWSNets / the official code (paper.md §2.3): Adam lr 5e-4, MSE
over the full coordinate grid, at most 1000 steps, early stop per INR once
PSNR >= 40 dB (PSNR = -10 log10(MSE) for signals in [0, 1]).

Two engines:

* :func:`fit_inrs`: one jitted scan of ``steps`` steps over a fixed batch; an
  INR that reaches the target stops updating but still costs compute until the
  slowest one is done. Simple; used by the quick start.
* :class:`RefillFitter`: a fixed pool of slots sharded over the local devices;
  the host refills finished slots with new INRs between jitted chunks of
  ``chunk_steps`` steps, so throughput follows the mean number of steps to the
  target. Used to make INR datasets (:mod:`dws_jax.data.inr_dataset`). Both give
  the same steps and (to float rounding) the same weights for the same keys.
"""

from __future__ import annotations

import collections
import functools
from typing import Callable, Iterable, Iterator, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from dws_jax import siren
from dws_jax import weight_space as wsp


class FitResult(NamedTuple):
  """Result of fitting ``B`` INRs.

  Attributes:
    ws: fitted WeightSpace, leaves ``(B, ...)``. An INR that reached the target
      keeps the weights of the step at which it first did.
    psnr: ``(B,)`` final PSNR in dB.
    steps: ``(B,)`` int32 number of optimizer steps taken.
  """

  ws: wsp.WeightSpace
  psnr: jax.Array
  steps: jax.Array


def psnr_from_mse(mse: jax.Array) -> jax.Array:
  """PSNR in dB for signals with peak 1: ``-10 log10(mse)``."""
  return -10.0 * jnp.log10(jnp.maximum(mse, 1e-20))


def inr_mse(ws: wsp.WeightSpace, coords: jax.Array, targets: jax.Array,
            spec: wsp.WeightSpaceSpec, sin="auto") -> jax.Array:
  """Mean squared error of one INR: coords ``(N, d_0)``, targets ``(N, d_L)``."""
  return jnp.mean((siren.apply_inr(ws, coords, spec, sin) - targets) ** 2)


@functools.partial(jax.jit, static_argnames=("spec", "steps", "lr", "init",
                                             "target_psnr", "sin"))
def fit_inrs(key: jax.Array, targets: jax.Array, coords: jax.Array,
             spec: wsp.WeightSpaceSpec, *, steps: int = 1000, lr: float = 5e-4,
             init: str = "siren", target_psnr: float = 40.0,
             sin="auto") -> FitResult:
  """Fits ``B`` INRs, one per target signal, in one jitted program.

  Args:
    key: PRNG key; INR ``i`` is initialised from ``fold_in(key, i)``.
    targets: ``(B, N, d_L)`` signal values at ``coords``.
    coords: ``(N, d_0)`` coordinates (e.g. :func:`dws_jax.make_grid`).
    spec: INR architecture.
    steps: maximum Adam steps.
    lr: Adam learning rate.
    init: ``"siren"`` or ``"dwsnets_code"``.
    target_psnr: an INR stops updating once its PSNR reaches this.
    sin: sine implementation.

  Returns:
    :class:`FitResult` with leaves batched over ``B``.
  """
  num = targets.shape[0]
  keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(num))
  ws0 = jax.vmap(lambda k: siren.init_weight_space(k, spec, init))(keys)
  tx = optax.adam(lr)
  loss_and_grad = jax.vmap(jax.value_and_grad(
      lambda ws, t: inr_mse(ws, coords, t, spec, sin)))

  def step(carry, _):
    ws, opt_state, done, n_steps, last_psnr = carry
    mse, grads = loss_and_grad(ws, targets)
    psnr = psnr_from_mse(mse)
    done = done | (psnr >= target_psnr)
    updates, new_opt = jax.vmap(tx.update)(grads, opt_state, ws)
    new_ws = optax.apply_updates(ws, updates)
    keep = lambda old, new: jnp.where(
        done.reshape((-1,) + (1,) * (old.ndim - 1)), old, new)
    ws = jax.tree.map(keep, ws, new_ws)
    opt_state = jax.tree.map(keep, opt_state, new_opt)
    n_steps = n_steps + (~done).astype(jnp.int32)
    last_psnr = jnp.where(done & (last_psnr > -jnp.inf), last_psnr, psnr)
    return (ws, opt_state, done, n_steps, last_psnr), None

  init_carry = (ws0, jax.vmap(tx.init)(ws0), jnp.zeros(num, bool),
                jnp.zeros(num, jnp.int32), jnp.full(num, -jnp.inf))
  (ws, _, _, n_steps, _), _ = jax.lax.scan(step, init_carry, None, length=steps)
  final_psnr = psnr_from_mse(jax.vmap(
      lambda w, t: inr_mse(w, coords, t, spec, sin))(ws, targets))
  return FitResult(ws, final_psnr, n_steps)


# -----------------------------------------------------------------------------
# Slot-refill engine: a fixed pool of INR slots, refilled as INRs finish.
# -----------------------------------------------------------------------------

MESH_AXIS = "inr"


class BlockResult(NamedTuple):
  """Host-side results of one block of INRs, in the block's order.

  Attributes:
    params: ``(M, P)`` float32 flat parameters (``spec.flat_layout`` order).
    psnr: ``(M,)`` float32 final PSNR in dB (of the returned parameters).
    steps: ``(M,)`` int32 optimizer steps taken.
    iou: ``(M,)`` float32 final occupancy IoU (``metric="iou"`` only, else
      None).
  """

  params: np.ndarray
  psnr: np.ndarray
  steps: np.ndarray
  iou: np.ndarray | None = None


class _Slots(NamedTuple):
  """Device state of ``S`` slots (all leaves have leading dim ``S``)."""

  ws: wsp.WeightSpace
  opt_state: optax.OptState
  targets: jax.Array  # (S, N, d_L)
  done: jax.Array  # (S,) bool
  steps: jax.Array  # (S,) int32
  psnr: jax.Array  # (S,) float32
  coords: jax.Array | None = None  # (S, N, d_0), per-signal coordinates only
  iou: jax.Array | None = None  # (S,) float32, metric "iou" only


METRICS = ("psnr", "iou")


def occupancy_iou(pred: jax.Array, targets: jax.Array,
                  level: float = 0.5) -> jax.Array:
  """Intersection over union of the occupied sets ``pred > level``, ``targets > level``.

  Args:
    pred: ``(..., N, 1)`` INR outputs at ``N`` points.
    targets: ``(..., N, 1)`` occupancy labels in {0, 1}.
    level: occupancy threshold.

  Returns:
    ``(...)`` IoU in [0, 1]; 1 where both sets are empty.
  """
  a, b = pred > level, targets > level
  inter = jnp.sum(a & b, axis=(-2, -1)).astype(jnp.float32)
  union = jnp.sum(a | b, axis=(-2, -1)).astype(jnp.float32)
  return jnp.where(union > 0, inter / jnp.maximum(union, 1.0), 1.0)


def local_mesh(num_devices: int | None = None) -> jax.sharding.Mesh:
  """A 1-D mesh with axis ``"inr"`` over the first ``num_devices`` local devices."""
  devices = jax.local_devices()
  if num_devices is not None:
    if not 1 <= num_devices <= len(devices):
      raise ValueError(f"num_devices={num_devices}, but there are {len(devices)} "
                       "local devices")
    devices = devices[:num_devices]
  return jax.sharding.Mesh(np.array(devices), (MESH_AXIS,))


def inr_key_data(seed: int, split_id: int, object_ids, views) -> np.ndarray:
  """Raw key data of ``fold_in(fold_in(fold_in(key(seed), split_id), obj), view)``.

  Args:
    seed: dataset seed.
    split_id: integer id of the split (e.g. 0 train, 1 val, 2 test).
    object_ids: ``(M,)`` int object ids.
    views: ``(M,)`` int view indices.

  Returns:
    ``(M, 2)`` uint32 key data, usable as ``keys`` of :class:`RefillFitter`.
  """
  object_ids = np.asarray(object_ids, np.int64)
  views = np.asarray(views, np.int64)
  if object_ids.shape != views.shape or object_ids.ndim != 1:
    raise ValueError(f"object_ids {object_ids.shape} and views {views.shape} "
                     "must be equal 1-D shapes")
  if object_ids.size and (object_ids.min() < 0 or views.min() < 0
                          or max(object_ids.max(), views.max()) >= 2**31):
    raise ValueError("object ids and views must be in [0, 2**31)")
  return np.asarray(_inr_key_data(jax.random.key(seed), split_id,
                                  object_ids.astype(np.int32),
                                  views.astype(np.int32)))


@jax.jit
def _inr_key_data(key, split_id, object_ids, views):
  base = jax.random.fold_in(key, split_id)
  keys = jax.vmap(lambda o, v: jax.random.fold_in(jax.random.fold_in(base, o), v)
                  )(object_ids, views)
  return jax.random.key_data(keys)


class RefillFitter:
  """Fits a stream of INRs with a fixed pool of slots, refilled as INRs finish.

  One jitted program advances all ``slots`` INRs by ``chunk_steps`` Adam steps
  (``vmap`` over slots, ``lax.scan`` over steps, the slot axis sharded over a
  1-D device mesh with ``shard_map``, so no collectives). An INR stops updating
  at the first step where its PSNR reaches ``target_psnr`` (keeping those
  weights) or after ``max_steps`` steps. Between chunks the host hands the
  finished slots new INRs; inside the program those slots are re-initialised
  from their keys. Throughput therefore follows the mean number of steps to the
  target, not the slowest INR.

  The result of an INR depends only on its key and target (and the program's
  shapes): it is the same whatever slot it ran in and whenever it started, so
  any INR can be regenerated alone.

  Signals either share one coordinate grid (``coords`` ``(N, d_0)``, images)
  or bring their own points (``coords=None``, ``num_points=N``; each block is
  ``(keys, targets, coords)``, e.g. occupancy samples of 3-D shapes). With
  ``metric="iou"`` the early stop is on the occupancy IoU
  (:func:`occupancy_iou`) of the fitting points reaching ``target_iou``; the
  PSNR of the MSE is recorded too.

  Example:
    >>> fitter = RefillFitter(spec, make_grid(28))
    >>> res = fitter.fit(keys, images.reshape(-1, 784, 1))
    >>> res.params.shape, res.psnr.shape
  """

  def __init__(self, spec: wsp.WeightSpaceSpec, coords: jax.Array, *,
               lr: float = 5e-4, init: str = "siren", max_steps: int = 1000,
               target_psnr: float = 40.0, chunk_steps: int = 25,
               slots: int = 256, sin="auto",
               mesh: jax.sharding.Mesh | None = None, metric: str = "psnr",
               target_iou: float = 0.95, num_points: int | None = None):
    """Builds the fitter.

    Args:
      spec: INR architecture.
      coords: ``(N, d_0)`` coordinates shared by all signals, or None: every
        signal brings its own ``num_points`` coordinates.
      lr: Adam learning rate.
      init: ``"siren"`` or ``"dwsnets_code"`` (:func:`dws_jax.init_weight_space`).
      max_steps: maximum Adam steps per INR.
      target_psnr: early-stop PSNR in dB.
      chunk_steps: steps per jitted call; finished slots wait at most this long.
      slots: INRs in flight; a multiple of the mesh size.
      sin: sine implementation.
      mesh: 1-D mesh with axis ``"inr"``; default all local devices.
      metric: early-stop metric, ``"psnr"`` or ``"iou"``.
      target_iou: early-stop IoU in [0, 1] (``metric="iou"``).
      num_points: points per signal when ``coords`` is None.
    """
    if init not in siren.INITS:
      raise ValueError(f"unknown init {init!r}; expected one of {siren.INITS}")
    for name, value in (("max_steps", max_steps), ("chunk_steps", chunk_steps),
                        ("slots", slots)):
      if int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if not (np.isfinite(lr) and lr > 0):
      raise ValueError(f"lr must be positive, got {lr!r}")
    if metric not in METRICS:
      raise ValueError(f"unknown metric {metric!r}; expected one of {METRICS}")
    if metric == "iou" and not 0.0 <= target_iou <= 1.0:
      raise ValueError(f"target_iou must be in [0, 1], got {target_iou!r}")
    if metric == "iou" and spec.layer_sizes[-1] != 1:
      raise ValueError("metric 'iou' needs a scalar occupancy INR, got output "
                       f"dimension {spec.layer_sizes[-1]}")
    if coords is None:
      if num_points is None or int(num_points) != num_points or num_points < 1:
        raise ValueError("coords=None (per-signal coordinates) needs a positive "
                         f"integer num_points, got {num_points!r}")
      self.num_points = int(num_points)
    else:
      coords = jnp.asarray(coords, jnp.float32)
      if coords.ndim != 2 or coords.shape[1] != spec.layer_sizes[0]:
        raise ValueError(f"coords must be (N, {spec.layer_sizes[0]}), got "
                         f"{tuple(coords.shape)}")
      self.num_points = int(coords.shape[0])
    self.mesh = local_mesh() if mesh is None else mesh
    if tuple(self.mesh.axis_names) != (MESH_AXIS,):
      raise ValueError(f"mesh must be 1-D with axis {MESH_AXIS!r}, got "
                       f"{self.mesh.axis_names}")
    num_dev = self.mesh.devices.size
    if slots % num_dev:
      raise ValueError(f"slots={slots} is not a multiple of the {num_dev} mesh "
                       "devices")
    self.spec, self.coords = spec, coords
    self.lr, self.init, self.sin = float(lr), init, sin
    self.max_steps, self.target_psnr = int(max_steps), float(target_psnr)
    self.chunk_steps, self.slots = int(chunk_steps), int(slots)
    self.metric, self.target_iou = metric, float(target_iou)
    self._sharding = jax.sharding.NamedSharding(
        self.mesh, jax.sharding.PartitionSpec(MESH_AXIS))
    self._chunk = self._build_chunk()

  # -- device program ---------------------------------------------------------

  def _build_chunk(self):
    spec, coords, sin = self.spec, self.coords, self.sin
    tx = optax.adam(self.lr)
    init, max_steps, target = self.init, self.max_steps, self.target_psnr
    per_signal, use_iou, target_iou = coords is None, self.metric == "iou", self.target_iou
    if use_iou:
      def value(ws, c, t):
        pred = siren.apply_inr(ws, c, spec, sin)
        return jnp.mean((pred - t) ** 2), pred
      value_grad = jax.vmap(jax.value_and_grad(value, has_aux=True),
                            in_axes=(0, 0 if per_signal else None, 0))

      def evaluate(ws, c, t):
        (mse, pred), grads = value_grad(ws, c, t)
        return mse, occupancy_iou(pred, t), grads
    elif per_signal:
      value_grad = jax.vmap(jax.value_and_grad(
          lambda ws, c, t: inr_mse(ws, c, t, spec, sin)))

      def evaluate(ws, c, t):
        mse, grads = value_grad(ws, c, t)
        return mse, None, grads
    else:
      loss_and_grad = jax.vmap(jax.value_and_grad(
          lambda ws, t: inr_mse(ws, coords, t, spec, sin)))

      def evaluate(ws, c, t):
        del c
        mse, grads = loss_and_grad(ws, t)
        return mse, None, grads
    impl = jax.random.key_impl(jax.random.key(0))

    def keep(mask, old, new):
      return jax.tree.map(
          lambda o, n: jnp.where(mask.reshape((-1,) + (1,) * (o.ndim - 1)), o, n),
          old, new)

    def chunk(slots: _Slots, key_data, new_targets, replace, new_coords):
      keys = jax.random.wrap_key_data(key_data, impl=impl)
      fresh = jax.vmap(lambda k: siren.init_weight_space(k, spec, init))(keys)
      ws = keep(~replace, slots.ws, fresh)
      opt_state = keep(~replace, slots.opt_state, jax.vmap(tx.init)(fresh))
      targets = jnp.where(replace[:, None, None], new_targets, slots.targets)
      points = (jnp.where(replace[:, None, None], new_coords, slots.coords)
                if per_signal else None)
      done = slots.done & ~replace
      n_steps = jnp.where(replace, 0, slots.steps)
      psnr = jnp.where(replace, -jnp.inf, slots.psnr)
      iou = jnp.where(replace, 0.0, slots.iou) if use_iou else None

      def step(carry, _):
        ws, opt_state, done, n_steps, psnr, iou = carry
        mse, cur_iou, grads = evaluate(ws, points, targets)
        cur = psnr_from_mse(mse)
        reached = cur_iou >= target_iou if use_iou else cur >= target
        finish = ~done & (reached | (n_steps >= max_steps))
        psnr = jnp.where(finish, cur, psnr)
        if use_iou:
          iou = jnp.where(finish, cur_iou, iou)
        done = done | finish
        updates, new_opt = jax.vmap(tx.update)(grads, opt_state, ws)
        ws = keep(done, ws, optax.apply_updates(ws, updates))
        opt_state = keep(done, opt_state, new_opt)
        n_steps = n_steps + (~done).astype(jnp.int32)
        return (ws, opt_state, done, n_steps, psnr, iou), None

      carry = (ws, opt_state, done, n_steps, psnr, iou)
      carry, _ = jax.lax.scan(step, carry, None, length=self.chunk_steps)
      ws, opt_state, done, n_steps, psnr, iou = carry
      return _Slots(ws, opt_state, targets, done, n_steps, psnr, points, iou)

    p = jax.sharding.PartitionSpec(MESH_AXIS)
    sharded = jax.shard_map(chunk, mesh=self.mesh, in_specs=(p, p, p, p, p),
                            out_specs=p)
    return jax.jit(sharded, donate_argnums=(0,))

  def _empty_slots(self, signal_shape) -> _Slots:
    num = self.slots
    ws = wsp.WeightSpace.zeros(self.spec, (num,))
    opt_state = jax.vmap(optax.adam(self.lr).init)(ws)
    coords = (jnp.zeros((num, self.num_points, self.spec.layer_sizes[0]),
                        jnp.float32) if self.coords is None else None)
    iou = jnp.zeros(num, jnp.float32) if self.metric == "iou" else None
    slots = _Slots(ws, opt_state, jnp.zeros((num,) + signal_shape, jnp.float32),
                   jnp.ones(num, bool), jnp.zeros(num, jnp.int32),
                   jnp.full(num, -jnp.inf, jnp.float32), coords, iou)
    return jax.device_put(slots, self._sharding)

  def warmup(self) -> None:
    """Compiles the device program (one chunk on empty slots)."""
    signal_shape = (self.num_points, self.spec.layer_sizes[-1])
    put = lambda x: jax.device_put(x, self._sharding)
    num = self.slots
    state = self._chunk(self._empty_slots(signal_shape),
                        put(np.zeros((num, 2), np.uint32)),
                        put(np.zeros((num,) + signal_shape, np.float32)),
                        put(np.zeros(num, bool)), self._coords_arg(None))
    jax.block_until_ready(to_flat_batched(state.ws))

  # -- host driver ------------------------------------------------------------

  def fit_blocks(self, blocks: Iterable[tuple[np.ndarray, np.ndarray]],
                 progress: Callable[[int], None] | None = None
                 ) -> Iterator[tuple[int, BlockResult]]:
    """Fits blocks of INRs, yielding each block as soon as all of it is done.

    Blocks are read lazily, only when slots are free, and INRs of the next
    block start while the previous block's slowest INRs finish.

    Args:
      blocks: iterable of ``(keys, targets)`` (shared coordinates) or
        ``(keys, targets, coords)`` (``coords=None`` at construction):
        ``keys`` are ``(M,)`` typed PRNG keys or ``(M, 2)`` uint32 key data
        (e.g. :func:`inr_key_data`), ``targets`` ``(M, N, d_L)`` signal values
        at the coordinates, ``coords`` ``(M, N, d_0)``.
      progress: called with the number of INRs finished since the last call.

    Yields:
      ``(block_index, BlockResult)``, in order of completion.
    """
    blocks = iter(enumerate(blocks))
    num, d_out = self.slots, self.spec.layer_sizes[-1]
    signal_shape = (self.num_points, d_out)
    use_iou = self.metric == "iou"
    open_blocks: dict[int, dict] = {}
    queue: collections.deque = collections.deque()  # (block, item) pending
    owner = [None] * num  # (block, item) held by each slot
    exhausted = False
    state = None

    def pull() -> bool:
      nonlocal exhausted
      if exhausted:
        return False
      try:
        index, block = next(blocks)
      except StopIteration:
        exhausted = True
        return False
      keys, targets, coords = self._check_block(index, block, signal_shape)
      m = len(targets)
      open_blocks[index] = dict(
          keys=keys, targets=targets, coords=coords, left=m,
          result=BlockResult(np.zeros((m, self.spec.num_params), np.float32),
                             np.zeros(m, np.float32), np.zeros(m, np.int32),
                             np.zeros(m, np.float32) if use_iou else None))
      queue.extend((index, i) for i in range(m))
      return True

    while True:
      replace = np.zeros(num, bool)
      key_data = np.zeros((num, 2), np.uint32)
      new_targets = np.zeros((num,) + signal_shape, np.float32)
      new_coords = (np.zeros((num, self.num_points, self.spec.layer_sizes[0]),
                             np.float32) if self.coords is None else None)
      for s in range(num):
        if owner[s] is not None:
          continue
        while not queue and pull():
          pass
        if not queue:
          break
        b, i = owner[s] = queue.popleft()
        blk = open_blocks[b]
        replace[s], key_data[s], new_targets[s] = True, blk["keys"][i], blk["targets"][i]
        if new_coords is not None:
          new_coords[s] = blk["coords"][i]
      # Blocks with no INRs complete at once.
      for b in [b for b, blk in open_blocks.items() if blk["left"] == 0]:
        yield b, open_blocks.pop(b)["result"]
      if all(o is None for o in owner):
        if exhausted and not queue:
          return
        continue
      if state is None:
        state = self._empty_slots(signal_shape)
      put = lambda x: jax.device_put(x, self._sharding)
      state = self._chunk(state, put(key_data), put(new_targets), put(replace),
                          self._coords_arg(new_coords))
      done = np.asarray(state.done)
      finished = [s for s in range(num) if done[s] and owner[s] is not None]
      if not finished:
        continue
      params = np.asarray(to_flat_batched(state.ws))
      psnr, steps = np.asarray(state.psnr), np.asarray(state.steps)
      iou = np.asarray(state.iou) if use_iou else None
      for s in finished:
        b, i = owner[s]
        owner[s] = None
        blk = open_blocks[b]
        blk["result"].params[i] = params[s]
        blk["result"].psnr[i] = psnr[s]
        blk["result"].steps[i] = steps[s]
        if use_iou:
          blk["result"].iou[i] = iou[s]
        blk["left"] -= 1
      if progress is not None:
        progress(len(finished))
      for b in [b for b, blk in open_blocks.items() if blk["left"] == 0]:
        yield b, open_blocks.pop(b)["result"]

  def fit(self, keys, targets, progress=None, coords=None) -> BlockResult:
    """Fits ``M`` INRs: ``keys`` ``(M,)`` (or ``(M, 2)`` key data), ``targets``
    ``(M, N, d_L)`` (and ``coords`` ``(M, N, d_0)`` when the fitter has no
    shared grid). Returns a :class:`BlockResult` in input order."""
    block = (keys, targets) if coords is None else (keys, targets, coords)
    ((_, result),) = list(self.fit_blocks([block], progress))
    return result

  def _coords_arg(self, coords):
    if self.coords is not None:
      return None
    if coords is None:
      coords = np.zeros((self.slots, self.num_points, self.spec.layer_sizes[0]),
                        np.float32)
    return jax.device_put(coords, self._sharding)

  def _check_block(self, index, block, signal_shape):
    if len(block) == 2:
      (keys, targets), coords = block, None
    elif len(block) == 3:
      keys, targets, coords = block
    else:
      raise ValueError(f"block {index}: expected (keys, targets) or (keys, "
                       f"targets, coords), got {len(block)} items")
    if (coords is None) == (self.coords is None):
      raise ValueError(
          f"block {index}: " + ("this fitter has a shared coordinate grid; "
                                "blocks must not bring coords" if coords is not
                                None else "this fitter has no shared grid "
                                "(coords=None); blocks must be (keys, targets, "
                                "coords)"))
    keys, targets = self._check_keys_targets(index, keys, targets, signal_shape)
    if coords is not None:
      coords = np.asarray(coords, np.float32)
      want = (len(targets), self.num_points, self.spec.layer_sizes[0])
      if coords.shape != want:
        raise ValueError(f"block {index}: coords must be {want}, got "
                         f"{coords.shape}")
      if not np.all(np.isfinite(coords)):
        raise ValueError(f"block {index}: coords contain NaN or inf")
    return keys, targets, coords

  def _check_keys_targets(self, index, keys, targets, signal_shape):
    if isinstance(keys, jax.Array) and jnp.issubdtype(keys.dtype,
                                                      jax.dtypes.prng_key):
      keys = jax.random.key_data(keys)
    keys = np.asarray(keys)
    targets = np.asarray(targets, np.float32)
    if targets.ndim != 3 or targets.shape[1:] != signal_shape:
      raise ValueError(f"block {index}: targets must be (M, {signal_shape[0]}, "
                       f"{signal_shape[1]}), got {targets.shape}")
    if keys.shape != (len(targets), 2) or keys.dtype != np.uint32:
      raise ValueError(f"block {index}: keys must be {len(targets)} PRNG keys or "
                       f"({len(targets)}, 2) uint32 key data, got {keys.shape} "
                       f"{keys.dtype}")
    if not np.all(np.isfinite(targets)):
      raise ValueError(f"block {index}: targets contain NaN or inf")
    return keys, targets


@jax.jit
def to_flat_batched(ws: wsp.WeightSpace) -> jax.Array:
  """:func:`dws_jax.to_flat` for a batched WeightSpace, jitted."""
  return wsp.to_flat(ws)

