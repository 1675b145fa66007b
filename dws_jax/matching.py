# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Git Re-Basin weight matching between MLP weight spaces, batched and jittable.

Given two networks ``a`` and ``b`` of the same architecture, weight matching
(Ainsworth et al., 2023, https://arxiv.org/abs/2209.04836, Algorithm 1) looks
for hidden-neuron permutations ``P`` of ``b`` that maximise

    sum over every weight AND bias leaf of <theta_a, P(theta_b)>,

so that ``permute(b, perms, spec)`` computes the same function as ``b`` but sits
next to ``a`` in weight space. It runs coordinate descent over the permutation
groups of ``spec.permutations`` (one per hidden layer, any depth and width):

* start from the identity;
* in every sweep, visit the groups in a random order drawn from the key; for
  group ``p`` of size ``n`` build the ``n x n`` similarity
  ``S[i, j] = sum over the axes of p of <a's slice i, b's slice j>``, where
  ``b`` has the current permutations of the *other* groups applied, and solve
  the maximising linear assignment problem (LAP) on ``S``;
* a group's permutation is replaced only when the LAP improves its part of the
  objective by more than ``max(atol, rtol * |current|)``, so the objective never
  decreases;
* stop after a sweep in which no group improved, or after ``max_iter`` sweeps.

This is the algorithm of the official augmentation code
(``experiments/utils/matching/git_rebasin.py``), which stops on an improvement
``<= 1e-12``. In float32 an absolute ``1e-12`` is below rounding, hence the
additional relative tolerance ``rtol`` (default ``1e-6``).

Batches: :func:`weight_matching` takes one pair or a batch of ``B`` pairs
(leaves ``(B, ...)``). Pairs converge independently (per-pair masks: a pair that
converged is frozen while the others continue); the group order of each sweep
is drawn once per sweep and shared by the pairs of the batch, so a sweep
costs one batched LAP solve per group.

Three solvers give the same objective (up to float rounding and ties):

* ``"optax"``: ``optax.assignment.hungarian_algorithm``, in the graph; a pure
  function under ``jit`` and ``vmap`` on any backend.
* ``"scipy"``: ``scipy.optimize.linear_sum_assignment`` on the host, called
  through ``jax.pure_callback`` (one callback per group per sweep for the whole
  batch, looping scipy over the pairs that are still active); the similarity
  matrices and the loop stay in the graph.
* ``"host"``: the whole coordinate descent of the batch in ONE
  ``jax.pure_callback``: numpy similarity matrices (one batched matmul per
  group visit for all the pairs that need it; the terms of leaves no other
  group permutes are computed once) and, per group visit, the LAPs of all the
  pairs that need one in a single call to the registered batched LAP solver
  (:func:`register_batched_lap`; the XLA:CPU plugin registers lapx's batched
  Jonker-Volgenant solver, native, without the GIL, on ``lap_threads``
  threads; exact, like scipy's; without a registered one, scipy per matrix).
  The group orders of all
  ``max_iter`` sweeps are drawn in the graph from the key, exactly as the
  in-graph loop draws them, and passed in as data, so ``"host"`` returns the
  same permutations as ``"scipy"`` (up to float rounding of ties). Fastest on
  CPU: no per-sweep round trips.
* ``"auto"`` (default): ``"host"`` when the default backend is CPU, ``"optax"``
  elsewhere (GPU/TPU, where the host round trip would dominate).

``"scipy"`` and ``"host"`` work inside a jitted training step (and under
``vmap``); both run on the host CPU. The ``"host"`` similarities are numpy
(OpenBLAS) matmuls: for wide layers (>= 128) on an oversubscribed CPU,
multi-threaded OpenBLAS can stall; ``OPENBLAS_NUM_THREADS=1`` or ``"scipy"``
avoid that.

Example:
  >>> spec = WeightSpaceSpec.siren((2, 32, 32, 1))
  >>> result = weight_matching(key, ws_a, ws_b, spec)   # leaves (B, ...)
  >>> ws_b_aligned = permute(ws_b, result.perms, spec)
"""

from __future__ import annotations

import functools
from typing import Callable, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax
import scipy.optimize

from dws_jax import parallel
from dws_jax import weight_space as wsp

Array = jax.Array

SOLVERS = ("auto", "optax", "scipy", "host")


class MatchResult(NamedTuple):
  """Result of :func:`weight_matching`.

  Attributes:
    perms: one int32 array per group of ``spec.permutations``, shape
      ``(*batch, n_g)``; pass to :func:`dws_jax.permute` to align ``b`` to ``a``.
    objective_init: ``(*batch,)`` objective ``<a, b>`` at the identity.
    objective: ``(*batch,)`` objective ``<a, P(b)>`` at the returned perms.
    sweeps: ``(*batch,)`` int32 number of sweeps run for each pair (the last
      one is the sweep that found no improvement, unless ``max_iter`` hit).
  """

  perms: tuple[Array, ...]
  objective_init: Array
  objective: Array
  sweeps: Array


def _is_int(x) -> bool:
  return not isinstance(x, bool) and isinstance(x, (int, np.integer))


def check_options(solver: str, max_iter: int, lap_threads: int,
                  name: str = "weight_matching") -> None:
  """Raises ``ValueError`` naming ``name`` for bad matching options."""
  if solver not in SOLVERS:
    raise ValueError(f"{name}: unknown matching solver {solver!r}; expected "
                     f"one of {SOLVERS}")
  if not _is_int(max_iter) or max_iter < 1:
    raise ValueError(f"{name}: max_iter must be an integer >= 1, got "
                     f"{max_iter!r}")
  if not _is_int(lap_threads) or lap_threads < 0:
    raise ValueError(f"{name}: lap_threads must be an integer >= 0 (0: one "
                     f"per CPU core), got {lap_threads!r}")


def resolve_solver(solver: str) -> str:
  """Maps ``"auto"`` to ``"host"`` on CPU and ``"optax"`` elsewhere."""
  if solver not in SOLVERS:
    raise ValueError(f"unknown matching solver {solver!r}; expected one of "
                     f"{SOLVERS}")
  if solver == "auto":
    return "host" if jax.default_backend() == "cpu" else "optax"
  return solver


def objective(ws_a: wsp.WeightSpace, ws_b: wsp.WeightSpace) -> Array:
  """Matching objective ``sum over leaves of <a, b>``, shape ``(*batch,)``."""
  batch_ndim = len(ws_a.batch_shape)
  total = 0.0
  for la, lb in zip(jax.tree.leaves(ws_a), jax.tree.leaves(ws_b)):
    axes = tuple(range(batch_ndim, la.ndim))
    total = total + jnp.sum(la * lb, axis=axes)
  return total


# -- similarity matrices ------------------------------------------------------


def _leaf_axes(spec: wsp.WeightSpaceSpec
               ) -> dict[tuple[str, int], list[tuple[int, int]]]:
  """``(kind, layer) -> [(group index, axis from end), ...]``: ``spec.leaf_axes``."""
  return {leaf: [(g, axis) for axis, g in by_axis.items()]
          for leaf, by_axis in spec.leaf_axes.items()}


def _take(leaf: Array, perm: Array, axis: int) -> Array:
  """``leaf[b, ..., perm[b], ...]`` along ``axis`` (from the end), batch ``b``."""
  return jax.vmap(lambda x, p: jnp.take(x, p, axis=axis))(leaf, perm)


def _similarity(g: int, ws_a: wsp.WeightSpace, ws_b: wsp.WeightSpace,
                perms: Sequence[Array], spec: wsp.WeightSpaceSpec,
                leaf_axes) -> Array:
  """Similarity ``(B, n, n)`` of group ``g``; leaves batched ``(B, ...)``."""
  group = spec.permutations[g]
  n = group.size
  batch = ws_a.batch_shape[0]
  sim = jnp.zeros((batch, n, n), jnp.float32)
  for kind, layer, axis in group.axes:
    a = getattr(ws_a, kind)[layer]
    b = getattr(ws_b, kind)[layer]
    for other, other_axis in leaf_axes[(kind, layer)]:
      if (other, other_axis) != (g, axis):
        b = _take(b, perms[other], other_axis)
    a = jnp.moveaxis(a, axis, 1).reshape(batch, n, -1)
    b = jnp.moveaxis(b, axis, 1).reshape(batch, n, -1)
    sim = sim + jnp.einsum("bik,bjk->bij", a, b,
                           precision=jax.lax.Precision.HIGHEST).astype(
                               jnp.float32)
  return sim


# -- LAP solvers ----------------------------------------------------------------


def _solve_optax(sim: Array, active: Array) -> Array:
  """Maximising assignment for every matrix: ``(B, n, n) -> (B, n)`` int32."""
  del active  # In the graph every pair is solved; inactive ones are masked.
  n = sim.shape[-1]

  def one(s):
    rows, cols = optax.assignment.hungarian_algorithm(-s)
    return jnp.zeros((n,), jnp.int32).at[rows].set(cols.astype(jnp.int32))

  return jax.vmap(one)(sim)


def _lap_batch(sim: np.ndarray) -> np.ndarray:
  """Maximising assignments of a stack of matrices: ``(m, n, n) -> (m, n)``.

  One ``scipy.optimize.linear_sum_assignment`` call per matrix (``"scipy"``).
  """
  # One float64 copy of the batch; scipy then neither casts nor negates.
  cost = np.negative(sim, dtype=np.float64)
  out = np.empty(sim.shape[:2], np.int32)
  for i in range(sim.shape[0]):
    out[i] = scipy.optimize.linear_sum_assignment(cost[i])[1]
  return out


# Batched host LAP solver: (sim (m, n, n) float, threads) -> (m, n) int32
# maximising assignments. Registered by a plugin (dws_jax.xla_cpu.lap).
_BATCHED_LAP: list[Callable[[np.ndarray, int], np.ndarray]] = []


def register_batched_lap(fn: Callable[[np.ndarray, int], np.ndarray]) -> None:
  """Makes ``fn`` the batched LAP solver of the ``"host"`` solver.

  Args:
    fn: ``fn(sim, threads)``: ``sim`` ``(m, n, n)`` similarities, ``threads``
      worker threads (``0``: one per core); returns the maximising column of
      every row, int32 ``(m, n)``, an exact optimum like scipy's.
  """
  _BATCHED_LAP[:] = [fn]


def _lap_batch_threaded(sim: np.ndarray, threads: int) -> np.ndarray:
  """As :func:`_lap_batch`, with the registered batched solver if any."""
  if not sim.shape[0]:
    return np.empty(sim.shape[:2], np.int32)
  if not _BATCHED_LAP:
    return _lap_batch(sim)
  return _BATCHED_LAP[0](sim, threads)


def _host_lap(sim: np.ndarray, active: np.ndarray) -> np.ndarray:
  """Host side of the scipy solver; any leading dims, inactive -> identity."""
  sim = np.asarray(sim)
  n = sim.shape[-1]
  flat = sim.reshape(-1, n, n)
  act = np.broadcast_to(np.asarray(active), sim.shape[:-2]).reshape(-1)
  out = np.broadcast_to(np.arange(n, dtype=np.int32), (flat.shape[0], n)).copy()
  idx = np.flatnonzero(act)
  out[idx] = _lap_batch(flat[idx])
  return out.reshape(sim.shape[:-1])


def _solve_scipy(sim: Array, active: Array) -> Array:
  shape = jax.ShapeDtypeStruct(sim.shape[:-1], jnp.int32)
  return jax.pure_callback(_host_lap, shape, sim, active,
                           vmap_method="broadcast_all")


# -- host coordinate descent ---------------------------------------------------


def _neighbours(spec: wsp.WeightSpaceSpec, leaf_axes) -> list[list[int]]:
  """Groups sharing a leaf with each group (their similarity depends on it)."""
  return [sorted({h for axes in leaf_axes.values()
                  if g in (x for x, _ in axes)
                  for h, _ in axes if h != g})
          for g in range(len(spec.permutations))]


def _host_descent(spec: wsp.WeightSpaceSpec, atol: float, rtol: float,
                  lap_threads: int, orders: np.ndarray, a_w, a_b, b_w, b_b
                  ) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
  """The whole coordinate descent of a batch on the host (``"host"`` solver).

  Same algorithm as the in-graph loop of :func:`weight_matching`, in numpy:
  per-pair convergence and skipping of groups whose neighbours did not change,
  the similarity matrices of all the pairs that visit a group in one batched
  matmul, and the LAPs of those pairs in one batched native call (see
  :func:`_lap_batch_threaded`).

  Args:
    spec: weight-space spec.
    atol, rtol: improvement tolerances of :func:`weight_matching`.
    lap_threads: LAP worker threads (``0``: one per CPU core).
    orders: ``(*lead, max_iter, G)`` group order of every sweep; ``lead`` are
      the dims added by ``vmap`` (each has its own orders).
    a_w, a_b, b_w, b_b: weights and biases of ``a`` and ``b``, leaves
      ``(*lead, B, ...)``.

  Returns:
    ``(perms, sweeps)``: int32 ``(*lead, B, n_g)`` per group and ``(*lead, B)``.
  """
  groups = spec.permutations
  orders = np.asarray(orders)
  lead = orders.shape[:-2]
  max_iter = orders.shape[-2]
  batch = np.asarray(a_b[0]).shape[len(lead)]
  nl = len(lead) + 1

  def flat(leaf):
    leaf = np.asarray(leaf, np.float32)
    return leaf.reshape((-1,) + leaf.shape[nl:])

  leaves_a = {("weights", l): flat(x) for l, x in enumerate(a_w)}
  leaves_a.update({("biases", l): flat(x) for l, x in enumerate(a_b)})
  leaves_b = {("weights", l): flat(x) for l, x in enumerate(b_w)}
  leaves_b.update({("biases", l): flat(x) for l, x in enumerate(b_b)})
  num = leaves_a[("biases", 0)].shape[0]
  # (N, max_iter, G): every pair follows the orders of its vmap slice.
  orders = np.repeat(orders.reshape((-1,) + orders.shape[-2:]), batch, axis=0)
  leaf_axes = _leaf_axes(spec)
  neighbours = _neighbours(spec, leaf_axes)

  # Per group: the similarity of the leaves that no other group permutes
  # (constant, ``(N, n, n)``), and for every leaf that another group permutes,
  # a with the group's axis moved next to the batch, ``(N, n, k)``, b as
  # ``(N, k, n)`` (permuting the other axis of a weight matrix, which is ``k``,
  # is then a row gather) and that other group.
  static, dynamic = [], []
  for g, group in enumerate(groups):
    fixed_a, fixed_b, terms = [], [], []
    for kind, layer, axis in group.axes:
      others = [o for o, o_axis in leaf_axes[(kind, layer)]
                if (o, o_axis) != (g, axis)]
      leaf_a, leaf_b = leaves_a[(kind, layer)], leaves_b[(kind, layer)]
      if others and leaf_a.ndim != 3:
        raise ValueError(f"host matching: leaf {kind}[{layer}] has rank "
                         f"{leaf_a.ndim - 1}; only weight matrices can carry "
                         "two permutation groups")
      moved_a = np.moveaxis(leaf_a, axis, 1).reshape(num, group.size, -1)
      moved_b = np.moveaxis(leaf_b, axis, 1).reshape(num, group.size, -1)
      if others:
        terms.append((np.ascontiguousarray(moved_a),
                      np.ascontiguousarray(moved_b.transpose(0, 2, 1)),
                      others[0]))
      else:
        fixed_a.append(moved_a)
        fixed_b.append(moved_b)
    static.append(np.matmul(np.concatenate(fixed_a, axis=2),
                            np.concatenate(fixed_b, axis=2).transpose(0, 2, 1))
                  if fixed_a else None)
    dynamic.append(terms)

  perms = [np.broadcast_to(np.arange(g.size, dtype=np.int32),
                           (num, g.size)).copy() for g in groups]
  dirty = np.ones((len(groups), num), bool)
  active = np.ones((num,), bool)
  sweeps = np.zeros((num,), np.int32)

  def similarity(g, idx):
    """``(m, n, n)`` similarity of group ``g`` for the pairs ``idx``."""
    whole = idx.size == num
    sim = None
    if static[g] is not None:
      sim = static[g].copy() if whole else static[g][idx]
    for a, b_t, other in dynamic[g]:
      b_t = b_t[idx[:, None], perms[other][idx]]
      term = np.matmul(a if whole else a[idx], b_t)
      sim = term if sim is None else sim + term
    return sim

  for it in range(max_iter):
    if not active.any():
      break
    progress = np.zeros((num,), bool)
    for k in range(len(groups)):
      step = orders[:, it, k]
      for g in np.unique(step[active]):
        todo = active & dirty[g] & (step == g)
        idx = np.flatnonzero(todo)
        dirty[g] &= ~todo
        if not idx.size:
          continue
        sim = similarity(g, idx)
        old = perms[g][idx]
        new = _lap_batch_threaded(sim, lap_threads)
        rows = (np.arange(idx.size)[:, None], np.arange(old.shape[1]))
        old_vals = sim[rows + (old,)].astype(np.float64)
        new_vals = sim[rows + (new,)].astype(np.float64)
        gain = np.sum(new_vals - old_vals, axis=-1)
        tol = np.maximum(atol, rtol * np.sum(np.abs(old_vals), axis=-1))
        better = idx[gain > tol]
        perms[g][better] = new[gain > tol]
        for h in neighbours[g]:
          dirty[h][better] = True
        progress[better] = True
    sweeps += active
    active &= progress
  out_perms = tuple(p.reshape(lead + (batch, p.shape[-1])) for p in perms)
  return out_perms, sweeps.reshape(lead + (batch,))


def _sweep_orders(key: Array, num_groups: int, max_iter: int) -> Array:
  """``(max_iter, G)`` group order of every sweep, drawn as the loop does."""

  def draw(key, _):
    key, sub = jax.random.split(key)
    return key, jax.random.permutation(sub, num_groups).astype(jnp.int32)

  return jax.lax.scan(draw, key, None, length=max_iter)[1]


def _solve_host(key: Array, a: wsp.WeightSpace, b: wsp.WeightSpace,
                spec: wsp.WeightSpaceSpec, max_iter: int, atol: float,
                rtol: float, lap_threads: int
                ) -> tuple[tuple[Array, ...], Array]:
  """Perms ``(B, n_g)`` and sweeps ``(B,)`` from host callbacks.

  Under a mesh context (``jax.set_mesh``) whose ``"data"`` axis divides the
  batch, every device runs the callback on its own shard of pairs (through
  ``jax.shard_map``): the pairs are independent and share the group orders,
  so the result is that of one callback on the whole batch. Without it, XLA
  places the callback on one device, and on a CPU split into several devices
  the others then wait for it in their next collective, which can stall.
  """
  orders = _sweep_orders(key, len(spec.permutations), max_iter)
  fn = functools.partial(_host_descent, spec, float(atol), float(rtol),
                         int(lap_threads))

  def solve(orders, a_w, a_b, b_w, b_b):
    n = a_b[0].shape[0]
    shapes = (tuple(jax.ShapeDtypeStruct((n, g.size), jnp.int32)
                    for g in spec.permutations),
              jax.ShapeDtypeStruct((n,), jnp.int32))
    return jax.pure_callback(fn, shapes, orders, a_w, a_b, b_w, b_b,
                             vmap_method="broadcast_all")

  return parallel.per_data_shard(solve, orders, a.weights, a.biases,
                                 b.weights, b.biases, num_replicated=1)


# -- coordinate descent ---------------------------------------------------------


def _flatten_batch(ws: wsp.WeightSpace, batch_shape) -> wsp.WeightSpace:
  nb = len(batch_shape)
  return jax.tree.map(lambda x: x.reshape((-1,) + x.shape[nb:]), ws)


@functools.partial(jax.jit,
                   static_argnames=("spec", "solver", "max_iter", "atol",
                                    "rtol", "lap_threads"))
def weight_matching(key: Array, ws_a: wsp.WeightSpace, ws_b: wsp.WeightSpace,
                    spec: wsp.WeightSpaceSpec, *, solver: str = "auto",
                    max_iter: int = 100, atol: float = 1e-12,
                    rtol: float = 1e-6, lap_threads: int = 0) -> MatchResult:
  """Finds hidden-neuron permutations of ``b`` that best match ``a``.

  Args:
    key: PRNG key for the random group order of every sweep.
    ws_a: anchor weight space of ``spec``, leaves ``(*batch, ...)`` (``batch``
      may be empty).
    ws_b: weight space to align, same shapes as ``ws_a``.
    spec: weight-space spec; the groups are ``spec.permutations``.
    solver: ``"auto"``, ``"optax"``, ``"scipy"`` or ``"host"`` (see module
      docstring).
    max_iter: maximum number of sweeps (>= 1).
    atol: absolute improvement below which a group counts as converged.
    rtol: relative improvement (of the group's current objective) below which
      a group counts as converged.
    lap_threads: worker threads of the ``"host"`` solver's batched LAPs
      (``0``, default: one per CPU core; ``1``: serial). The threads run while
      the jitted computation waits for the callback.

  Returns:
    :class:`MatchResult`; ``permute(ws_b, result.perms, spec)`` is ``b``
    aligned to ``a``.
  """
  check_options(solver, max_iter, lap_threads)
  solver = resolve_solver(solver)
  spec.validate(ws_a, name="weight_matching(ws_a)")
  spec.validate(ws_b, name="weight_matching(ws_b)")
  if ws_a.batch_shape != ws_b.batch_shape:
    raise ValueError(f"weight_matching(): ws_a has batch {ws_a.batch_shape} but "
                     f"ws_b has {ws_b.batch_shape}")
  batch_shape = ws_a.batch_shape
  a = _flatten_batch(ws_a, batch_shape).map(lambda x: x.astype(jnp.float32))
  b = _flatten_batch(ws_b, batch_shape).map(lambda x: x.astype(jnp.float32))
  num = a.batch_shape[0]
  groups = spec.permutations
  solve = _solve_optax if solver == "optax" else _solve_scipy
  leaf_axes = _leaf_axes(spec)

  def unflatten(x):
    return x.reshape(batch_shape + x.shape[1:])

  perms0 = tuple(jnp.broadcast_to(jnp.arange(g.size, dtype=jnp.int32),
                                  (num, g.size)) for g in groups)
  obj0 = objective(a, b)
  if not groups:
    return MatchResult((), unflatten(obj0), unflatten(obj0),
                       jnp.zeros(batch_shape, jnp.int32))

  # Group h's similarity depends on group g's permutation iff they share a
  # leaf. A group whose neighbours did not change since its last solve has the
  # same similarity matrix, for which its permutation is already the LAP
  # optimum: it is skipped (same result, fewer LAP solves).
  neighbours = _neighbours(spec, leaf_axes)
  if solver == "host":
    perms, sweeps = _solve_host(key, a, b, spec, max_iter, atol, rtol,
                                lap_threads)
    obj = objective(a, wsp.permute(b, perms, spec))
    return MatchResult(tuple(unflatten(p) for p in perms), unflatten(obj0),
                       unflatten(obj), unflatten(sweeps))

  def make_branch(g):
    def branch(perms, dirty, active):
      todo = active & dirty[g]
      sim = _similarity(g, a, b, perms, spec, leaf_axes)
      old = perms[g]
      # No LAP (nor host round trip) when no pair of the batch needs one.
      new = jax.lax.cond(jnp.any(todo), lambda: solve(sim, todo), lambda: old)
      take = lambda p: jnp.take_along_axis(sim, p[:, :, None], axis=2)[..., 0]
      old_vals, new_vals = take(old), take(new)
      # Elementwise difference: rows whose assignment is unchanged add 0.
      gain = jnp.sum(new_vals - old_vals, axis=-1)
      tol = jnp.maximum(atol, rtol * jnp.sum(jnp.abs(old_vals), axis=-1))
      improved = todo & (gain > tol)
      perms, dirty = list(perms), list(dirty)
      perms[g] = jnp.where(improved[:, None], new, old)
      dirty[g] = dirty[g] & ~todo
      for h in neighbours[g]:
        dirty[h] = dirty[h] | improved
      return tuple(perms), tuple(dirty), improved
    return branch

  branches = [make_branch(g) for g in range(len(groups))]

  def cond(carry):
    active, it = carry[3], carry[5]
    return (it < max_iter) & jnp.any(active)

  def body(carry):
    key, perms, dirty, active, sweeps, it = carry
    key, sub = jax.random.split(key)
    order = jax.random.permutation(sub, len(groups))
    progress = jnp.zeros((num,), bool)
    for k in range(len(groups)):
      if len(groups) == 1:
        perms, dirty, improved = branches[0](perms, dirty, active)
      else:
        perms, dirty, improved = jax.lax.switch(order[k], branches, perms,
                                                dirty, active)
      progress = progress | improved
    sweeps = sweeps + active.astype(jnp.int32)
    return key, perms, dirty, active & progress, sweeps, it + 1

  dirty0 = tuple(jnp.ones((num,), bool) for _ in groups)
  init = (key, perms0, dirty0, jnp.ones((num,), bool),
          jnp.zeros((num,), jnp.int32), jnp.asarray(0, jnp.int32))
  _, perms, _, _, sweeps, _ = jax.lax.while_loop(cond, body, init)
  obj = objective(a, wsp.permute(b, perms, spec))
  return MatchResult(tuple(unflatten(p) for p in perms), unflatten(obj0),
                     unflatten(obj), unflatten(sweeps))


def align(key: Array, ws_a: wsp.WeightSpace, ws_b: wsp.WeightSpace,
          spec: wsp.WeightSpaceSpec, **kwargs
          ) -> tuple[wsp.WeightSpace, MatchResult]:
  """Returns ``b`` permuted to match ``a`` and the :class:`MatchResult`.

  Args:
    key: PRNG key.
    ws_a: anchor, leaves ``(*batch, ...)``.
    ws_b: to be aligned, same shapes.
    spec: weight-space spec.
    **kwargs: ``solver``, ``max_iter``, ``atol``, ``rtol`` of
      :func:`weight_matching`.
  """
  result = weight_matching(key, ws_a, ws_b, spec, **kwargs)
  return wsp.permute(ws_b, result.perms, spec), result
