# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests of dws_jax.augment: exactness, statistics, batching, registry, parser."""

import functools

from absl.testing import absltest
from absl.testing import parameterized
import chex
import jax
import jax.numpy as jnp
from jax.sharding import Mesh
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P
import ml_collections
import numpy as np

import dws_jax as dws
from dws_jax import augment
from dws_jax.augment import builder
from dws_jax.augment import library
from dws_jax.augment import registry

SAMPLE_AUGS = ("translate", "rotate", "scale", "gaussian_noise", "dropout",
               "quantile", "permutation", "siren_negation", "siren_bias")


# Deterministic test augmentations, to check composition order and choices.
@registry.register("test_add", "sample")
def _test_add(spec, value=1.0):
  del spec
  return lambda key, ws: ws.map(lambda leaf: leaf + value)


@registry.register("test_double", "sample")
def _test_double(spec):
  del spec
  return lambda key, ws: ws.map(lambda leaf: 2.0 * leaf)


@registry.register("test_reverse", "batch")
def _test_reverse(spec):
  """A batch augmentation: reverses the batch order of weights and labels."""
  del spec
  return lambda key, ws, labels: (ws[::-1], labels[::-1])


@functools.partial(jax.jit, static_argnums=(1, 2))
def _random_inrs(key, spec, batch):
  """SIREN-initialised INRs with non-zero biases, leaves (batch, ...)."""
  k_init, k_bias = jax.random.split(key)
  ws = dws.init_weight_space(k_init, spec, batch_shape=(batch,))
  keys = jax.random.split(k_bias, spec.num_layers)
  biases = tuple(b + 0.3 * jax.random.normal(k, b.shape)
                 for k, b in zip(keys, ws.biases))
  return ws.replace(biases=biases)


def _grid(spec):
  return dws.make_grid(16 if spec.layer_sizes[0] == 2 else 6,
                       spec.layer_sizes[0])


def _render(ws, spec, grid=None):
  grid = _grid(spec) if grid is None else grid
  return np.asarray(dws.render(ws, grid, spec, sin="exact"))


def _max_change(a, b):
  return max(float(jnp.max(jnp.abs(x - y)))
             for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


SPECS = {
    "dwsnets": dws.WeightSpaceSpec.dwsnets_inr(),
    "shallow": dws.WeightSpaceSpec.siren((2, 8, 1), w0=30.0),
    "deep3d": dws.WeightSpaceSpec.siren((3, 16, 12, 8, 2), w0=20.0,
                                        w0_first=7.0),
    "rgb": dws.WeightSpaceSpec.siren((2, 16, 16, 3)),  # CIFAR-10-like
    "occupancy": dws.WeightSpaceSpec.siren((3, 16, 16, 1)),  # 3-D shapes
}


class ExactSymmetryTest(parameterized.TestCase):

  @parameterized.product(spec_name=tuple(SPECS),
                         desc=("permutation", "siren_negation",
                               "siren_bias(k_max=16)"))
  def test_preserves_function_and_changes_weights(self, spec_name, desc):
    self._check_exact(SPECS[spec_name], desc)

  @parameterized.parameters("siren_bias(4, reference_compat=True)",
                            "permutation|siren_negation|siren_bias")
  def test_more_exact_symmetries(self, desc):
    self._check_exact(SPECS["deep3d"], desc)

  def _check_exact(self, spec, desc):
    ws = _random_inrs(jax.random.key(0), spec, 4)
    aug = augment.build(desc, spec)
    out, _ = jax.jit(aug)(jax.random.key(1), ws)
    np.testing.assert_allclose(_render(out, spec), _render(ws, spec), atol=1e-5)
    self.assertGreater(_max_change(out, ws), 1e-2)

  def test_bias_shift_large_k_is_exact_in_float64(self):
    with jax.enable_x64(True):
      spec = SPECS["dwsnets"]
      ws = _random_inrs(jax.random.key(0), spec, 2).map(
          lambda x: x.astype(jnp.float64))
      aug = augment.siren_bias(spec, k_max=100_000)
      out = augment.apply_batch(aug, jax.random.key(3), ws)
      self.assertEqual(out.dtype, jnp.float64)
      shift = np.asarray(out.biases[0] - ws.biases[0]) / (np.pi / 30)
      self.assertGreater(np.abs(shift).max(), 1000)  # |k| is large
      np.testing.assert_allclose(shift, np.round(shift), atol=1e-6)
      grid = dws.make_grid(8).astype(jnp.float64)
      np.testing.assert_allclose(_render(out, spec, grid), _render(ws, spec, grid),
                                 atol=1e-8)

  def test_bias_shift_k_range(self):
    spec = dws.WeightSpaceSpec.siren((2, 512, 1))
    ws = dws.WeightSpace.zeros(spec, (64,)).map(lambda x: x + 1.0)
    for compat, expected in ((False, set(range(-3, 4))),
                             (True, set(range(-3, 3)))):
      out = augment.apply_batch(
          augment.siren_bias(spec, 3, reference_compat=compat),
          jax.random.key(0), ws)
      k = np.round((np.asarray(out.biases[0]) - 1) / (np.pi / 30)).astype(int)
      self.assertEqual(set(k.ravel().tolist()), expected)
      np.testing.assert_array_equal(np.asarray(out.weights[1][:, :, 0]),
                                    (-1.0) ** k)

  def test_negation_generic_odd_activation(self):
    spec = dws.WeightSpaceSpec((2, 16, 16, 3), activation="tanh")
    ws = _random_inrs(jax.random.key(0), spec, 3)
    out = augment.apply_batch(augment.siren_negation(spec, 0.5),
                              jax.random.key(1), ws)
    np.testing.assert_allclose(_render(out, spec), _render(ws, spec), atol=1e-5)
    self.assertGreater(_max_change(out, ws), 1e-2)

  def test_negation_flip_fraction(self):
    spec = dws.WeightSpaceSpec.siren((2, 256, 1))
    ws = dws.WeightSpace.zeros(spec, (32,)).map(lambda x: x + 1.0)
    out = augment.apply_batch(augment.siren_negation(spec, 0.3),
                              jax.random.key(0), ws)
    flipped = np.asarray(out.biases[0]) < 0
    self.assertAlmostEqual(flipped.mean(), 0.3, delta=0.02)
    # Incoming column, bias and outgoing row flip together.
    np.testing.assert_array_equal(np.asarray(out.weights[0][:, 0]) < 0, flipped)
    np.testing.assert_array_equal(np.asarray(out.weights[1][:, :, 0]) < 0, flipped)

  def test_ranks_are_uniform_permutations(self):
    keys = jax.random.split(jax.random.key(0), 4000)
    ranks = np.asarray(jax.vmap(lambda k: dws.random_ranks(k, 6))(keys))
    np.testing.assert_array_equal(np.sort(ranks, axis=1),
                                  np.broadcast_to(np.arange(6), ranks.shape))
    # Every value equally likely at every position.
    freq = np.stack([(ranks == v).mean(axis=0) for v in range(6)])
    np.testing.assert_allclose(freq, 1 / 6, atol=0.03)
    # Equal words: ties broken by position (identity).
    np.testing.assert_array_equal(
        dws.weight_space._ranks(jnp.full((5,), 7, jnp.uint32)), np.arange(5))
    np.testing.assert_array_equal(np.sort(dws.random_ranks(
        jax.random.key(1), 1500)), np.arange(1500))  # sort-based beyond 1024

  @parameterized.parameters("dwsnets", "shallow", "deep3d")
  def test_permutation_equals_permute(self, spec_name):
    spec = SPECS[spec_name]
    ws = _random_inrs(jax.random.key(0), spec, 3)
    keys = jax.random.split(jax.random.key(2), 3)
    got = jax.jit(jax.vmap(augment.permutation(spec)))(keys, ws)
    perms = [jnp.stack(p) for p in zip(*[dws.random_permutations(k, spec)
                                         for k in keys])]
    chex.assert_trees_all_equal(got, dws.permute(ws, perms, spec))

  def test_symmetries_reject_wrong_activation(self):
    relu = dws.WeightSpaceSpec((2, 8, 1), activation="relu")
    tanh = dws.WeightSpaceSpec((2, 8, 1), activation="tanh")
    with self.assertRaisesRegex(ValueError, "not odd"):
      augment.siren_negation(relu)
    with self.assertRaisesRegex(ValueError, "needs sine"):
      augment.siren_bias(tanh)
    augment.permutation(relu)  # permutations hold for every activation


class InputSpaceTest(parameterized.TestCase):

  def setUp(self):
    super().setUp()
    self.spec = SPECS["dwsnets"]
    self.ws = _random_inrs(jax.random.key(0), self.spec, 4)
    self.grid = _grid(self.spec)

  def _render_at(self, ws_batch, coords_per_sample):
    return np.stack([
        np.asarray(dws.apply_inr(ws_batch[i], c, self.spec, sin="exact"))
        for i, c in enumerate(coords_per_sample)])

  def test_translate_equals_shifted_coordinates(self):
    out = augment.apply_batch(augment.translate(self.spec, 0.25),
                              jax.random.key(1), self.ws)
    # Recover t from b0' - b0 = t @ W0 (W0 has full row rank).
    db0 = np.asarray(out.biases[0] - self.ws.biases[0])
    ts = [np.linalg.lstsq(np.asarray(self.ws.weights[0][i]).T, db0[i],
                          rcond=None)[0] for i in range(4)]
    ts = np.stack(ts)
    self.assertTrue(np.all(np.abs(ts) <= 0.25) and np.abs(ts).max() > 0.02)
    np.testing.assert_array_equal(np.asarray(out.weights[0]),
                                  np.asarray(self.ws.weights[0]))
    expected = self._render_at(self.ws, [self.grid + t for t in ts])
    np.testing.assert_allclose(_render(out, self.spec), expected, atol=1e-4)

  def test_translate_order_two_is_not_a_translation(self):
    key = jax.random.key(1)
    exact = augment.apply_batch(augment.translate(self.spec, order=1), key,
                                self.ws)
    deep = augment.apply_batch(augment.translate(self.spec, order=2), key,
                               self.ws)
    db0 = np.asarray(exact.biases[0] - self.ws.biases[0])
    ts = np.stack([np.linalg.lstsq(np.asarray(self.ws.weights[0][i]).T, db0[i],
                                   rcond=None)[0] for i in range(4)])
    # Same t, pushed through W0 W1 into b1: b0 untouched, function not f(x+t).
    np.testing.assert_array_equal(np.asarray(deep.biases[0]),
                                  np.asarray(self.ws.biases[0]))
    np.testing.assert_allclose(
        np.asarray(deep.biases[1] - self.ws.biases[1]),
        np.einsum("bi,bij,bjk->bk", ts, np.asarray(self.ws.weights[0]),
                  np.asarray(self.ws.weights[1])), rtol=1e-4, atol=1e-5)
    translated = self._render_at(self.ws, [self.grid + t for t in ts])
    error = np.abs(_render(deep, self.spec) - translated).max(axis=(1, 2))
    self.assertTrue(np.all(error > 1e-2), error)

  def test_translate_reference_compat_draws_both_orders(self):
    out = augment.apply_batch(
        augment.translate(self.spec, reference_compat=True), jax.random.key(2),
        _random_inrs(jax.random.key(0), self.spec, 32))
    ref = _random_inrs(jax.random.key(0), self.spec, 32)
    b0_changed = np.any(np.asarray(out.biases[0] != ref.biases[0]), axis=1)
    b1_changed = np.any(np.asarray(out.biases[1] != ref.biases[1]), axis=1)
    np.testing.assert_array_equal(b0_changed, ~b1_changed)
    self.assertTrue(0 < b0_changed.sum() < 32)

  def test_rotate_equals_rotated_coordinates(self):
    out = augment.apply_batch(augment.rotate(self.spec, 30.0),
                              jax.random.key(1), self.ws)
    rots = [np.asarray(out.weights[0][i]) @ np.linalg.pinv(
        np.asarray(self.ws.weights[0][i])) for i in range(4)]
    d = self.spec.layer_sizes[0]
    angles = []
    for r in rots:  # a proper rotation by at most 30 degrees
      np.testing.assert_allclose(r @ r.T, np.eye(d), atol=1e-5)
      self.assertAlmostEqual(float(np.linalg.det(r)), 1.0, places=4)
      if d == 2:  # counter-clockwise [[c, -s], [s, c]]
        np.testing.assert_allclose(r[0, 0], r[1, 1], atol=1e-5)
        np.testing.assert_allclose(r[0, 1], -r[1, 0], atol=1e-5)
        angles.append(abs(np.degrees(np.arctan2(r[1, 0], r[0, 0]))))
      else:
        angles.append(np.degrees(np.arccos(np.clip((np.trace(r) - 1) / 2, -1, 1))))
    self.assertLessEqual(max(angles), 30.0 + 1e-3)
    self.assertGreater(max(angles), 1.0)
    # g(x) = f(R^T x): rows x -> x @ R.
    expected = self._render_at(self.ws, [self.grid @ r for r in rots])
    np.testing.assert_allclose(_render(out, self.spec), expected, atol=1e-4)
    self.assertGreater(_max_change(out, self.ws), 1e-3)

  def test_scale_equals_scaled_coordinates(self):
    out = augment.apply_batch(augment.scale(self.spec, 0.2), jax.random.key(1),
                              self.ws)
    ratio = np.asarray(out.weights[0] / self.ws.weights[0])
    s = ratio[:, 0, 0]
    np.testing.assert_allclose(ratio, s[:, None, None] * np.ones_like(ratio),
                               rtol=1e-5)
    self.assertTrue(np.all((s >= 0.8) & (s <= 1.2)) and np.any(s != 1.0))
    expected = self._render_at(self.ws, [self.grid * si for si in s])
    np.testing.assert_allclose(_render(out, self.spec), expected, atol=1e-4)

  def test_rotate_needs_2d_or_3d(self):
    with self.assertRaisesRegex(ValueError, "only 2-D and 3-D"):
      augment.rotate(dws.WeightSpaceSpec.siren((4, 8, 1)))


class InputSpace3DTest(InputSpaceTest):
  """The input-space tests on 3-D occupancy INRs (rotation about any axis)."""

  def setUp(self):
    super().setUp()
    self.spec = SPECS["occupancy"]
    self.ws = _random_inrs(jax.random.key(0), self.spec, 4)
    self.grid = _grid(self.spec)

  def test_rotation_axes_are_spread(self):
    keys = jax.random.split(jax.random.key(3), 200)
    rots = np.asarray(jax.vmap(lambda k: library.random_rotation_3d(k, 180.0))(keys))
    # Rotation axis = the eigenvector of eigenvalue 1 (skew part of R).
    axes = np.stack([r[2, 1] - r[1, 2] for r in rots]), np.stack(
        [r[0, 2] - r[2, 0] for r in rots]), np.stack([r[1, 0] - r[0, 1] for r in rots])
    axes = np.stack(axes, 1)
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    # Uniform axes (up to sign): |mean| of each |component| near 1/2.
    np.testing.assert_allclose(np.abs(axes).mean(0), 0.5, atol=0.08)


class InputSpaceRGBTest(InputSpaceTest):
  """The input-space tests on 3-channel image INRs (all channels alike)."""

  def setUp(self):
    super().setUp()
    self.spec = SPECS["rgb"]
    self.ws = _random_inrs(jax.random.key(0), self.spec, 4)
    self.grid = _grid(self.spec)


class DataAgnosticTest(parameterized.TestCase):

  def setUp(self):
    super().setUp()
    # Small tensors make the ddof difference visible: b0 has 3 entries.
    self.spec = dws.WeightSpaceSpec.siren((2, 3, 4, 1))
    ws = _random_inrs(jax.random.key(0), self.spec, 1)[0]
    self.one = ws
    self.batch = jax.tree.map(lambda x: jnp.broadcast_to(x, (4000,) + x.shape), ws)

  @parameterized.parameters(False, True)
  def test_gaussian_noise_statistics(self, compat):
    scale = 0.32
    aug = augment.gaussian_noise(self.spec, scale, reference_compat=compat)
    out = jax.jit(lambda k, w: augment.apply_batch(aug, k, w))(
        jax.random.key(1), self.batch)
    for leaf, new in zip(jax.tree.leaves(self.one), jax.tree.leaves(out)):
      delta = np.asarray(new - leaf)
      leaf = np.asarray(leaf)
      if leaf.size == 1:  # no spread: (almost) no noise, as the reference
        self.assertLess(np.abs(delta).max(), 1e-6)
        continue
      ddof = 1 if compat else 0
      expected_std = scale * (leaf.std(ddof=ddof) + 1e-8)
      # Zero mean per entry (a constant shift w + std * scale fails here).
      np.testing.assert_allclose(delta.mean(axis=0), 0.0,
                                 atol=5 * expected_std / np.sqrt(4000))
      np.testing.assert_allclose(delta.std(axis=0), expected_std, rtol=0.05)
      np.testing.assert_allclose(delta.std(), expected_std, rtol=0.02)
    # Entries and samples are uncorrelated.
    flat = np.asarray(out.weights[1] - self.one.weights[1]).reshape(4000, -1)
    corr = np.corrcoef(flat.T)
    self.assertLess(np.abs(corr - np.eye(len(corr))).max(), 0.08)

  def test_gaussian_noise_is_deterministic_per_key(self):
    aug = augment.gaussian_noise(self.spec)
    a = aug(jax.random.key(5), self.one)
    b = aug(jax.random.key(5), self.one)
    c = aug(jax.random.key(6), self.one)
    chex.assert_trees_all_equal(a, b)
    self.assertGreater(_max_change(a, c), 1e-4)

  @parameterized.parameters((0.1, True), (0.1, False), (0.5, True))
  def test_dropout_fraction_and_rescale(self, p, rescale):
    spec = SPECS["dwsnets"]
    ws = _random_inrs(jax.random.key(0), spec, 64)
    out = augment.apply_batch(augment.dropout(spec, p, rescale=rescale),
                              jax.random.key(1), ws)
    old, new = dws.to_flat(ws), dws.to_flat(out)
    dropped = np.asarray(new == 0) & np.asarray(old != 0)
    self.assertAlmostEqual(dropped.mean(), p, delta=0.01)
    kept = ~dropped
    factor = 1 / (1 - p) if rescale else 1.0
    np.testing.assert_allclose(np.asarray(new)[kept], np.asarray(old)[kept] * factor,
                               rtol=1e-6)

  def test_noise_is_gaussian(self):
    # Standardised noise of a flat weight space (one std for every entry).
    spec = SPECS["dwsnets"]
    ws = dws.WeightSpace.zeros(spec, (64,))  # std 0: noise std 1e-8
    out = augment.apply_batch(augment.gaussian_noise(spec, 1.0),
                              jax.random.key(0), ws)
    z = np.asarray(dws.to_flat(out), np.float64).ravel() / 1e-8
    self.assertAlmostEqual(z.mean(), 0.0, delta=0.01)
    self.assertAlmostEqual(z.std(), 1.0, delta=0.01)
    for k in (1.0, 2.0, 3.0):  # two-sided tail masses of N(0, 1)
      expected = {1.0: 0.31731, 2.0: 0.04550, 3.0: 0.00270}[k]
      self.assertAlmostEqual(np.mean(np.abs(z) > k), expected,
                             delta=4 * np.sqrt(expected / z.size) + 1e-4)

  @parameterized.parameters("gaussian_noise", "dropout", "siren_negation",
                            "siren_bias", "permutation")
  def test_other_key_types(self, name):
    # Draws follow the key's jax.random implementation: rbg keys give other
    # (deterministic) results than threefry keys of the same seed.
    aug = getattr(augment, name)(self.spec)
    ws = _random_inrs(jax.random.key(0), self.spec, 4)
    batch = jax.jit(lambda key, ws: augment.apply_batch(aug, key, ws))
    out = {impl: batch(jax.random.key(5, impl=impl), ws)
           for impl in ("threefry2x32", "rbg")}
    self.assertGreater(_max_change(out["rbg"], ws), 1e-4)
    self.assertGreater(_max_change(out["rbg"], out["threefry2x32"]), 1e-4)
    chex.assert_trees_all_equal(
        out["rbg"], batch(jax.random.key(5, impl="rbg"), ws))

  def test_dropout_edge_cases(self):
    spec = SPECS["dwsnets"]
    ws = _random_inrs(jax.random.key(0), spec, 2)
    same = augment.apply_batch(augment.dropout(spec, 0.0), jax.random.key(1), ws)
    chex.assert_trees_all_equal(same, ws)
    zero = augment.apply_batch(augment.dropout(spec, 1.0, rescale=False),
                               jax.random.key(1), ws)
    self.assertEqual(_max_change(zero, jax.tree.map(jnp.zeros_like, ws)), 0.0)
    with self.assertRaisesRegex(ValueError, "divides by zero"):
      augment.dropout(spec, 1.0)

  def test_abs_quantile_matches_numpy(self):
    rng = np.random.default_rng(0)
    for trial in range(20):
      x = rng.normal(size=1185).astype(np.float32)
      if trial % 2:
        x[rng.integers(0, 1185, 200)] = 0.0  # ties at zero
        x[:50] = x[50]  # ties elsewhere
      q = rng.uniform(0, 1)
      got = float(library.abs_quantile(jnp.asarray(x), jnp.float32(q)))
      np.testing.assert_allclose(got, np.quantile(np.abs(x), q), rtol=1e-5,
                                 atol=1e-7)

  def test_quantile_zeroes_smallest_fraction(self):
    spec = SPECS["dwsnets"]
    ws = _random_inrs(jax.random.key(0), spec, 256)
    out = augment.apply_batch(augment.quantile(spec, 0.1), jax.random.key(1), ws)
    old, new = np.asarray(dws.to_flat(ws)), np.asarray(dws.to_flat(out))
    zeroed = (new == 0) & (old != 0)
    np.testing.assert_array_equal(new[~zeroed], old[~zeroed])
    frac = zeroed.mean(axis=1)
    self.assertLessEqual(frac.max(), 0.1 + 2 / old.shape[1])
    self.assertAlmostEqual(frac.mean(), 0.05, delta=0.01)  # q ~ U(0, 0.1)
    for i in range(256):  # zeroed entries are the smallest in magnitude
      if zeroed[i].any():
        self.assertLess(np.abs(old[i][zeroed[i]]).max(),
                        np.abs(old[i][~zeroed[i]]).min())


class BatchingTest(parameterized.TestCase):

  @parameterized.parameters(*SAMPLE_AUGS)
  def test_vmap_equals_loop(self, name):
    spec = SPECS["dwsnets"]
    ws = _random_inrs(jax.random.key(0), spec, 5)
    aug = getattr(augment, name)(spec)
    key = jax.random.key(7)
    batched = jax.jit(lambda k, w: augment.apply_batch(aug, k, w))(key, ws)
    one = jax.jit(aug)
    loop = dws.stack([one(k, ws[i])
                      for i, k in enumerate(jax.random.split(key, 5))])
    chex.assert_trees_all_close(batched, loop, atol=1e-6)
    self.assertGreater(_max_change(batched, ws), 1e-4)

  def test_built_pipeline_traces_once(self):
    spec = SPECS["dwsnets"]
    aug = augment.build(
        "random_choice(translate, rotate)|gaussian_noise|label_smoothing@0.5",
        spec, num_classes=10)
    traces = []

    def step(key, ws, labels):
      traces.append(1)
      return aug(key, ws, labels)

    jitted = jax.jit(chex.assert_max_traces(step, n=1))
    ws = _random_inrs(jax.random.key(0), spec, 8)
    labels = jax.nn.one_hot(jnp.arange(8), 10)
    outs = [jitted(jax.random.fold_in(jax.random.key(1), i), ws, labels)
            for i in range(4)]
    jax.block_until_ready(outs)
    self.assertLen(traces, 1)
    self.assertGreater(_max_change(outs[0][0], outs[1][0]), 1e-4)

  def test_sharded_batch_equals_unsharded(self):
    devices = np.array(jax.devices())
    self.assertLen(devices, 8)
    mesh = Mesh(devices, ("batch",))
    spec = SPECS["dwsnets"]
    aug = augment.build(
        "rotate|gaussian_noise|dropout|permutation|siren_bias|label_smoothing",
        spec, num_classes=10)
    ws = _random_inrs(jax.random.key(0), spec, 16)
    labels = jax.nn.one_hot(jnp.arange(16) % 10, 10)
    sharding = NamedSharding(mesh, P("batch"))
    ws_sharded = jax.device_put(ws, sharding)
    labels_sharded = jax.device_put(labels, sharding)
    key = jax.random.key(3)
    expected = jax.jit(aug)(key, ws, labels)
    got = jax.jit(aug)(key, ws_sharded, labels_sharded)
    self.assertEqual(len(ws_sharded.weights[1].sharding.device_set), 8)
    chex.assert_trees_all_close(got, expected, atol=1e-6)
    single = jax.jit(lambda k, w: augment.apply_batch(
        augment.gaussian_noise(spec), k, w))
    chex.assert_trees_all_close(single(key, ws_sharded), single(key, ws),
                                atol=1e-6)


class BuildTest(parameterized.TestCase):

  def setUp(self):
    super().setUp()
    self.spec = SPECS["dwsnets"]
    self.ws = dws.WeightSpace.zeros(self.spec, (1000,))

  def _value(self, ws):
    return np.asarray(ws.biases[-1][:, 0])

  def test_names(self):
    self.assertContainsSubset(set(SAMPLE_AUGS) | {"label_smoothing"},
                              set(augment.names()))
    self.assertIn("label_smoothing", augment.names("label"))

  @parameterized.parameters(
      ("translate(0.25)|siren_negation(0.5)",
       builder.Seq((builder.Aug("translate", (0.25,)),
                    builder.Aug("siren_negation", (0.5,))))),
      ("dropout(p=0.1, rescale=False)",
       builder.Aug("dropout", (), (("p", 0.1), ("rescale", False)))),
      ("translate|dropout@0.5",
       builder.Seq((builder.Aug("translate"),
                    builder.Prob(0.5, builder.Aug("dropout"))))),
      ("prob(0.3, random_choice(scale, none))",
       builder.Prob(0.3, builder.Choice((builder.Aug("scale"),
                                         builder.Identity())))),
      ("none", builder.Identity()),
      ("", builder.Identity()),
      ("none|rotate(-0.0)", builder.Aug("rotate", (-0.0,))),
  )
  def test_parse(self, text, expected):
    self.assertEqual(builder.parse(text), expected)

  def test_config_forms_match_string(self):
    key = jax.random.key(0)
    ws = _random_inrs(jax.random.key(1), self.spec, 4)
    cfg = ml_collections.ConfigDict({"name": "dropout", "p": 0.2,
                                     "rescale": False})
    forms = [
        "translate(0.1)|dropout(0.2, rescale=False)",
        ["translate(0.1)", {"name": "dropout", "p": 0.2, "rescale": False}],
        ({"name": "translate", "scale": 0.1}, cfg),
    ]
    outs = [jax.jit(augment.build(f, self.spec))(key, ws)[0] for f in forms]
    for out in outs[1:]:
      chex.assert_trees_all_equal(out, outs[0])
    self.assertEqual(str(augment.build(forms[1], self.spec)),
                     "translate(0.1)|dropout(p=0.2, rescale=False)")
    choice = augment.build({"name": "prob", "p": 0.5, "aug": {
        "name": "random_choice", "options": ["test_add(1)", "test_add(10)"]}},
                           self.spec)
    values = self._value(choice(key, self.ws)[0])
    self.assertEqual(set(np.unique(values).tolist()), {0.0, 1.0, 10.0})

  def test_composition_order(self):
    key = jax.random.key(0)
    a = augment.build("test_add(1)|test_double", self.spec)(key, self.ws)[0]
    b = augment.build("test_double|test_add(1)", self.spec)(key, self.ws)[0]
    np.testing.assert_array_equal(self._value(a), 2.0)
    np.testing.assert_array_equal(self._value(b), 1.0)

  def test_random_choice_picks_each_option(self):
    aug = augment.build("random_choice(test_add(1), test_add(10), none)",
                        self.spec)
    values = self._value(aug(jax.random.key(0), self.ws)[0])
    for v in (0.0, 1.0, 10.0):
      self.assertAlmostEqual(np.mean(values == v), 1 / 3, delta=0.05)
    chex.assert_trees_all_equal(  # same key, same choice for every leaf
        np.asarray(aug(jax.random.key(0), self.ws)[0].weights[0][:, 0, 0]), values)

  @parameterized.parameters("test_add(1)@0.3", "prob(0.3, test_add(1))",
                            "prob(aug=test_add(1), p=0.3)")
  def test_prob_frequency(self, text):
    values = self._value(augment.build(text, self.spec)(jax.random.key(0),
                                                         self.ws)[0])
    self.assertAlmostEqual(np.mean(values == 1.0), 0.3, delta=0.04)
    self.assertEqual(set(np.unique(values).tolist()), {0.0, 1.0})

  def test_batch_kind_in_pipeline(self):
    spec = self.spec
    ws = dws.WeightSpace.zeros(spec, (6,)).map(
        lambda x: x + jnp.arange(6.0).reshape((6,) + (1,) * (x.ndim - 1)))
    labels = jax.nn.one_hot(jnp.arange(6), 6)
    out, out_labels = augment.build("test_add(1)|test_reverse", spec)(
        jax.random.key(0), ws, labels)
    np.testing.assert_array_equal(self._value(out), np.arange(6.0)[::-1] + 1)
    np.testing.assert_array_equal(out_labels, labels[::-1])
    out, out_labels = augment.build("test_reverse@0.5", spec)(
        jax.random.key(0), ws, labels)
    reversed_ = self._value(out) != np.arange(6.0)
    np.testing.assert_array_equal(out_labels.argmax(1),
                                  np.where(reversed_, 5 - np.arange(6),
                                           np.arange(6)))
    with self.assertRaisesRegex(ValueError, "pass soft labels"):
      augment.build("test_reverse", spec)(jax.random.key(0), ws)

  @parameterized.parameters("mixup(reference_compat=True)",
                            "translate|mixup(reference_compat=True)@0.999",
                            "random_choice(mixup_aligned(reference_compat=True),"
                            " mixup_perm(reference_compat=True))")
  def test_partner_pool_reaches_reference_compat_mixup(self, desc):
    spec = self.spec
    ws = dws.siren.init_weight_space(jax.random.key(0), spec, "siren", (8,))
    labels = jax.nn.one_hot(jnp.arange(8) % 3, 10)
    pool_ws = dws.siren.init_weight_space(jax.random.key(1), spec, "siren",
                                          (5,))
    pool_labels = jax.nn.one_hot(jnp.full((5,), 7), 10)
    aug = augment.build(desc, spec, num_classes=10)
    self.assertTrue(aug.needs_partner_pool)
    with self.assertRaisesRegex(ValueError, "partner_pool"):
      aug(jax.random.key(2), ws, labels)
    _, out = jax.jit(aug)(jax.random.key(2), ws, labels,
                          partner_pool=(pool_ws, pool_labels))
    # Every partner has class 7: the anchor's class and 7 hold all the mass.
    anchor = np.asarray(jnp.arange(8) % 3)
    mass = np.asarray(out)[np.arange(8), anchor] + np.asarray(out)[:, 7]
    np.testing.assert_allclose(mass, 1.0, atol=1e-6)
    self.assertTrue(np.all(np.asarray(out)[:, 7] > 0))
    plain = augment.build("mixup", spec, num_classes=10)
    self.assertFalse(plain.needs_partner_pool)
    with self.assertRaisesRegex(ValueError, "takes no partner_pool"):
      plain(jax.random.key(2), ws, labels, partner_pool=(pool_ws, pool_labels))

  def test_label_smoothing(self):
    labels = jnp.asarray([[0, 0, 1, 0], [0.5, 0.5, 0, 0]], jnp.float32)
    ws = dws.WeightSpace.zeros(self.spec, (2,))
    aug = augment.build("label_smoothing(0.2)", self.spec, num_classes=4)
    out_ws, out = aug(jax.random.key(0), ws, labels)
    np.testing.assert_allclose(out, 0.8 * labels + 0.05, rtol=1e-6)
    np.testing.assert_allclose(out.sum(1), 1.0, rtol=1e-6)
    chex.assert_trees_all_equal(out_ws, ws)
    default = augment.build("label_smoothing", self.spec, num_classes=4)
    np.testing.assert_allclose(default(jax.random.key(0), ws, labels)[1][0],
                               [0.025, 0.025, 0.925, 0.025], rtol=1e-6)
    ints = default(jax.random.key(0), ws, jnp.asarray([[0, 1, 0, 0]] * 2))[1]
    np.testing.assert_allclose(ints[0], [0.025, 0.925, 0.025, 0.025], rtol=1e-6)

  def test_identity(self):
    ws = _random_inrs(jax.random.key(0), self.spec, 3)
    for desc in ("none", "", None, []):
      aug = augment.build(desc, self.spec)
      self.assertTrue(aug.is_identity)
      out, labels = aug(jax.random.key(0), ws)
      chex.assert_trees_all_equal(out, ws)
      self.assertIsNone(labels)

  @parameterized.parameters(
      ("tranlsate", "unknown augmentation 'tranlsate'; known: .*translate"),
      ("dropout(1.5)", r"dropout: p must be in \[0, 1\], got 1.5"),
      ("siren_negation(-0.1)", r"p must be in \[0, 1\]"),
      ("translate(-0.25)", r"translate: scale must be in \[0, inf\]"),
      ("scale(1.5)", r"scale: scale must be in \[0, 1\)"),
      ("gaussian_noise(-1)", "scale must be in"),
      ("siren_bias(0)", "k_max must be an integer >= 1"),
      ("siren_bias(2.5)", "k_max must be an integer >= 1"),
      ("quantile(2)", r"q_max must be in \[0, 1\]"),
      ("dropout(q=0.1)", "unknown hyperparameter 'q'; accepted: p, rescale"),
      ("dropout(0.1, True)", r"at most 1 positional hyperparameters \(p\)"),
      ("dropout(0.1, p=0.2)", "given twice"),
      ("translate(order=3)", r"order must be an integer in \[1, 2\]"),
      ("dropout@1.5", r"probability must be a number in \[0, 1\]"),
      ("prob(0.5)", r"use prob\(p, aug\)"),
      ("random_choice()", "at least one option"),
      ("translate(0.1", "cannot parse"),
      ("translate + rotate", "unexpected"),
      ("dropout(p=x)", "not a literal"),
      ("label_smoothing", "pass num_classes"),
      ("dropout(rescale=1)", "rescale must be True or False"),
  )
  def test_build_errors(self, desc, message):
    with self.assertRaisesRegex(ValueError, message):
      augment.build(desc, self.spec)

  def test_config_errors(self):
    with self.assertRaisesRegex(ValueError, "no 'name' key"):
      augment.build({"p": 0.1}, self.spec)
    with self.assertRaisesRegex(TypeError, "cannot build an augmentation"):
      augment.build(3.0, self.spec)

  def test_spec_mismatch_fails_at_call(self):
    aug = augment.build("translate|dropout", self.spec)
    other = dws.WeightSpace.zeros(dws.WeightSpaceSpec.siren((2, 16, 1)), (4,))
    with self.assertRaisesRegex(ValueError, "layers but the spec has 3"):
      aug(jax.random.key(0), other)
    wide = dws.WeightSpace.zeros(dws.WeightSpaceSpec.siren((2, 16, 32, 1)), (4,))
    with self.assertRaisesRegex(ValueError, r"weights\[0\] has shape"):
      jax.jit(aug)(jax.random.key(0), wide)
    with self.assertRaisesRegex(ValueError, r"weights\[0\] has shape"):
      augment.translate(self.spec)(jax.random.key(0), wide[0])
    with self.assertRaisesRegex(ValueError, "num_classes=10"):
      augment.build("label_smoothing", self.spec, num_classes=10)(
          jax.random.key(0), dws.WeightSpace.zeros(self.spec, (2,)),
          jnp.zeros((2, 5)))


if __name__ == "__main__":
  absltest.main()
