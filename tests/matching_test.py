# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests of Git Re-Basin weight matching (dws_jax.matching)."""

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np

import dws_jax
from dws_jax import matching
from dws_jax.xla_cpu import lap as xla_lap


def siren_like(key, spec, batch):
  """SIREN-initialised weights with random (non-zero) hidden biases.

  Layer scales are those of real INRs (first layer U(+-1/d_0), hidden
  U(+-sqrt(6/n)/w0)); every bias is U(+-1/sqrt(fan_in)).
  """
  k1, k2 = jax.random.split(key)
  ws = dws_jax.init_weight_space(k1, spec, "siren", batch)
  keys = jax.random.split(k2, spec.num_layers)
  biases = tuple(
      jax.random.uniform(k, b.shape, minval=-1.0, maxval=1.0)
      / np.sqrt(spec.layer_sizes[l])
      for l, (k, b) in enumerate(zip(keys, ws.biases)))
  return ws.replace(biases=biases)


def normal_ws(key, spec, batch):
  return dws_jax.WeightSpace.zeros(spec, batch).map(
      lambda x: jax.random.normal(jax.random.fold_in(key, x.size + x.ndim),
                                  x.shape))


def is_inverse(perms, found):
  """True per pair where ``found`` undoes ``perms`` (``B = permute(A, perms)``)."""
  ok = np.ones(perms[0].shape[0], bool)
  for p, f in zip(perms, found):
    ok &= np.all(np.take_along_axis(np.asarray(p), np.asarray(f), 1)
                 == np.arange(p.shape[1]), axis=1)
  return ok


def objective_scale(a, b):
  """``sum |a| |b|``: the scale of float32 rounding in the objective."""
  return float(jnp.max(matching.objective(a.map(jnp.abs), b.map(jnp.abs))))


def max_abs_diff(ws_a, ws_b):
  return max(float(jnp.max(jnp.abs(x - y)))
             for x, y in zip(jax.tree.leaves(ws_a), jax.tree.leaves(ws_b)))


class PlantedTest(parameterized.TestCase):
  """Depth here is the number of HIDDEN layers (permutation groups)."""

  @parameterized.product(width=(32, 64, 128), depth=(2, 3, 4))
  def test_planted_permutation_recovered_exactly(self, width, depth):
    spec = dws_jax.WeightSpaceSpec.siren((2,) + (width,) * depth + (1,))
    k1, k2, k3 = jax.random.split(jax.random.key(width * 10 + depth), 3)
    a = siren_like(k1, spec, (100,))
    perms = dws_jax.random_permutations(k2, spec, (100,))
    b = dws_jax.permute(a, perms, spec)
    solvers = {32: ("optax", "scipy", "host"), 64: ("scipy", "host"),
               128: ("scipy",)}[width]
    for solver in solvers:
      res = matching.weight_matching(k3, a, b, spec, solver=solver)
      ok = is_inverse(perms, res.perms)
      self.assertEqual(int(ok.sum()), 100, f"{solver}: {int(ok.sum())}/100")
      self.assertEqual(max_abs_diff(dws_jax.permute(b, res.perms, spec), a), 0.0)
      np.testing.assert_allclose(res.objective, matching.objective(a, a),
                                 rtol=1e-5)
      self.assertTrue(np.all(res.sweeps >= 2))  # one to find, one to confirm

  @parameterized.parameters((("optax",), 32, 32), (("scipy", "host"), 64, 64))
  def test_objective_at_least_planted_with_noise(self, solvers, width, num):
    spec = dws_jax.WeightSpaceSpec.siren((2, width, width, width, 1))
    k1, k2, k3, k4 = jax.random.split(jax.random.key(7), 4)
    a = siren_like(k1, spec, (num,))
    perms = dws_jax.random_permutations(k2, spec, (num,))
    noise = jax.tree.map(
        lambda x: 0.05 * jnp.std(x) * jax.random.normal(
            jax.random.fold_in(k4, x.size), x.shape), a)
    b = dws_jax.permute(a + noise, perms, spec)
    inverse = tuple(jnp.argsort(p, axis=-1) for p in perms)
    planted = matching.objective(a, dws_jax.permute(b, inverse, spec))
    for solver in solvers:
      res = matching.weight_matching(k3, a, b, spec, solver=solver)
      self.assertTrue(np.all(np.asarray(res.objective)
                             >= np.asarray(planted) * (1 - 1e-6)), solver)


class MatchingTest(parameterized.TestCase):

  @parameterized.parameters(siren_like, normal_ws)
  def test_never_below_identity_and_solvers_agree(self, make):
    spec = dws_jax.WeightSpaceSpec.siren((2, 32, 32, 32, 1))
    k1, k2, k3 = jax.random.split(jax.random.key(3), 3)
    a, b = make(k1, spec, (64,)), make(k2, spec, (64,))
    res = {s: matching.weight_matching(k3, a, b, spec, solver=s)
           for s in ("optax", "scipy", "host")}
    atol = 1e-6 * objective_scale(a, b)
    for r in res.values():
      np.testing.assert_allclose(r.objective_init, matching.objective(a, b),
                                 rtol=1e-6, atol=atol)
      self.assertTrue(np.all(np.asarray(r.objective)
                             >= np.asarray(r.objective_init) - atol))
      # The reported objective is that of the returned permutations.
      np.testing.assert_allclose(
          r.objective, matching.objective(a, dws_jax.permute(b, r.perms, spec)),
          rtol=1e-6, atol=atol)
    self.assertGreater(float(jnp.mean(res["scipy"].objective
                                      - res["scipy"].objective_init)), 0.0)
    for s in ("optax", "host"):
      np.testing.assert_allclose(res[s].objective, res["scipy"].objective,
                                 rtol=1e-5, atol=atol, err_msg=s)
    # Same group orders as the in-graph loop: same sweeps per pair.
    np.testing.assert_array_equal(res["host"].sweeps, res["scipy"].sweeps)

  @parameterized.parameters("optax", "scipy", "host")
  def test_permuted_function_unchanged(self, solver):
    spec = dws_jax.WeightSpaceSpec.dwsnets_inr((2, 32, 32, 1))
    k1, k2, k3 = jax.random.split(jax.random.key(4), 3)
    a, b = siren_like(k1, spec, (8,)), siren_like(k2, spec, (8,))
    res = matching.weight_matching(k3, a, b, spec, solver=solver)
    self.assertTrue(any(np.any(p != np.arange(p.shape[-1])) for p in res.perms))
    aligned = dws_jax.permute(b, res.perms, spec)
    grid = dws_jax.make_grid(28)
    np.testing.assert_allclose(
        dws_jax.render(aligned, grid, spec, sin="exact"),
        dws_jax.render(b, grid, spec, sin="exact"), atol=1e-5)

  @parameterized.parameters(((2, 32, 32, 3), "host"), ((3, 32, 32, 1), "optax"),
                            ((3, 32, 32, 1), "scipy"))
  def test_rgb_and_3d_inrs(self, sizes, solver):
    """Planted permutations are recovered and functions kept on the new spaces."""
    spec = dws_jax.WeightSpaceSpec.siren(sizes)
    k1, k2, k3 = jax.random.split(jax.random.key(sizes[0] + sizes[-1]), 3)
    a = siren_like(k1, spec, (16,))
    perms = dws_jax.random_permutations(k2, spec, (16,))
    b = dws_jax.permute(a, perms, spec)
    res = matching.weight_matching(k3, a, b, spec, solver=solver)
    self.assertEqual(int(is_inverse(perms, res.perms).sum()), 16)
    other = siren_like(k3, spec, (4,))
    res = matching.weight_matching(k1, a[:4], other, spec, solver=solver)
    grid = dws_jax.make_grid(6 if sizes[0] == 3 else 16, sizes[0])
    np.testing.assert_allclose(
        dws_jax.render(dws_jax.permute(other, res.perms, spec), grid, spec,
                       sin="exact"),
        dws_jax.render(other, grid, spec, sin="exact"), atol=1e-5)
    self.assertTrue(np.all(np.asarray(res.objective) >= np.asarray(
        matching.objective(a[:4], other)) - 1e-4))

  @parameterized.parameters("optax", "scipy", "host")
  def test_vmap_and_unbatched_equal_loop(self, solver):
    spec = dws_jax.WeightSpaceSpec.siren((2, 8, 12, 6, 1))  # unequal widths
    k1, k2, k3 = jax.random.split(jax.random.key(5), 3)
    a, b = normal_ws(k1, spec, (3,)), normal_ws(k2, spec, (3,))
    keys = jax.random.split(k3, 3)
    fn = lambda k, x, y: matching.weight_matching(k, x, y, spec, solver=solver)
    batched = jax.jit(jax.vmap(fn))(keys, a, b)
    for i in range(3):
      one = fn(keys[i], a[i], b[i])
      self.assertEqual(one.objective.shape, ())
      for p, q in zip(batched.perms, one.perms):
        np.testing.assert_array_equal(p[i], q)
      np.testing.assert_allclose(batched.objective[i], one.objective, rtol=1e-6)
      self.assertEqual(int(batched.sweeps[i]), int(one.sweeps))

  def test_max_iter_and_batch_dims(self):
    spec = dws_jax.WeightSpaceSpec.siren((2, 32, 32, 1))
    k1, k2 = jax.random.split(jax.random.key(6))
    a, b = normal_ws(k1, spec, (2, 3)), normal_ws(k2, spec, (2, 3))
    for solver in ("scipy", "host"):
      res = matching.weight_matching(k1, a, b, spec, max_iter=1, solver=solver)
      self.assertEqual(res.perms[0].shape, (2, 3, 32))
      np.testing.assert_array_equal(res.sweeps, np.ones((2, 3)))
    full = matching.weight_matching(k1, a, b, spec)
    self.assertTrue(np.all(full.sweeps >= 1) and np.all(full.sweeps <= 100))
    self.assertGreater(int(full.sweeps.max()), 1)

  def test_no_hidden_layers(self):
    spec = dws_jax.WeightSpaceSpec.siren((3, 2))
    a = normal_ws(jax.random.key(0), spec, (5,))
    for solver in ("scipy", "host"):
      res = matching.weight_matching(jax.random.key(1), a, a, spec,
                                     solver=solver)
      self.assertEqual(res.perms, ())
      np.testing.assert_allclose(res.objective, matching.objective(a, a),
                                 rtol=1e-6)

  def test_random_permutations_are_permutations(self):
    spec = dws_jax.WeightSpaceSpec.siren((2, 7, 5, 1))
    perms = dws_jax.random_permutations(jax.random.key(0), spec, (3, 4))
    self.assertEqual([p.shape for p in perms], [(3, 4, 7), (3, 4, 5)])
    for p in perms:
      np.testing.assert_array_equal(np.sort(p, axis=-1),
                                    np.broadcast_to(np.arange(p.shape[-1]),
                                                    p.shape))

  def test_bad_input(self):
    spec = dws_jax.WeightSpaceSpec.siren((2, 8, 1))
    a = normal_ws(jax.random.key(0), spec, (2,))
    key = jax.random.key(1)
    with self.assertRaisesRegex(ValueError, "unknown matching solver"):
      matching.weight_matching(key, a, a, spec, solver="hungarian")
    with self.assertRaisesRegex(ValueError, "max_iter"):
      matching.weight_matching(key, a, a, spec, max_iter=0)
    with self.assertRaisesRegex(ValueError, "lap_threads"):
      matching.weight_matching(key, a, a, spec, lap_threads=-1)
    with self.assertRaisesRegex(ValueError, "batch"):
      matching.weight_matching(key, a, a[0], spec)
    other = dws_jax.WeightSpaceSpec.siren((2, 9, 1))
    with self.assertRaisesRegex(ValueError, "shape"):
      matching.weight_matching(key, a, a, other)

  @parameterized.parameters(1, 2, 0)
  def test_batched_lap_equals_scipy(self, threads):
    rng = np.random.default_rng(threads)
    real = rng.normal(size=(40, 16, 16)).astype(np.float32)
    # Small integers: many tied optima, where only the objective is unique.
    ties = rng.integers(0, 3, size=(40, 16, 16)).astype(np.float32)
    for sim in (real, ties):
      ours = xla_lap.lap_batch(sim, threads)
      ref = matching._lap_batch(sim)
      np.testing.assert_array_equal(np.sort(ours, axis=-1),
                                    np.broadcast_to(np.arange(16), ours.shape))
      value = lambda p, s=sim: np.take_along_axis(
          s.astype(np.float64), p[..., None], axis=-1).sum((1, 2))
      np.testing.assert_allclose(value(ours), value(ref), rtol=1e-12)
      # Independent check of optimality on a few: brute force is out of
      # reach, but the best of many random assignments never beats it.
      rand = np.argsort(rng.random((2000, 16)), axis=-1)
      for i in range(3):
        best = np.take_along_axis(sim[i][None].astype(np.float64),
                                  rand[..., None], -1).sum((1, 2)).max()
        self.assertGreaterEqual(value(ours)[i], best - 1e-9)
    self.assertEqual(matching._lap_batch_threaded(real[:0], threads).shape,
                     (0, 16))

  def test_host_solver_with_and_without_the_plugin_agree(self):
    spec = dws_jax.WeightSpaceSpec.siren((2, 16, 16, 1))
    k1, k2, k3 = jax.random.split(jax.random.key(9), 3)
    a, b = siren_like(k1, spec, (4,)), siren_like(k2, spec, (4,))
    self.assertEqual(matching._BATCHED_LAP, [xla_lap.lap_batch])  # conftest
    match = lambda: matching.weight_matching(k3, a, b, spec, solver="host")
    with_lapx = match()
    matching._BATCHED_LAP.clear()  # as without the cpu extra: scipy per matrix
    try:
      without = match()
    finally:
      matching.register_batched_lap(xla_lap.lap_batch)
    for p, q in zip(with_lapx.perms, without.perms):
      np.testing.assert_array_equal(p, q)

  @parameterized.parameters(2, 0)
  def test_host_lap_threads_same_result(self, threads):
    spec = dws_jax.WeightSpaceSpec.siren((2, 16, 16, 1))
    k1, k2, k3 = jax.random.split(jax.random.key(8), 3)
    a, b = siren_like(k1, spec, (16,)), siren_like(k2, spec, (16,))
    one = matching.weight_matching(k3, a, b, spec, solver="host", lap_threads=1)
    other = matching.weight_matching(k3, a, b, spec, solver="host",
                                     lap_threads=threads)
    for p, q in zip(one.perms, other.perms):
      np.testing.assert_array_equal(p, q)
    np.testing.assert_array_equal(one.sweeps, other.sweeps)

  def test_auto_solver(self):
    expected = "host" if jax.default_backend() == "cpu" else "optax"
    self.assertEqual(matching.resolve_solver("auto"), expected)


if __name__ == "__main__":
  absltest.main()
