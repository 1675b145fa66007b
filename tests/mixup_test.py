# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests of weight-space MixUp (dws_jax.augment.mixup) and its registry entries."""

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np

import dws_jax
from dws_jax import fitting
from dws_jax import matching
from dws_jax.augment import mixup
from dws_jax.augment import registry

SPEC = dws_jax.WeightSpaceSpec.dwsnets_inr((2, 32, 32, 1))
NUM_CLASSES = 10
GRID = dws_jax.make_grid(28)


def random_batch(key, num):
  k1, k2, k3 = jax.random.split(key, 3)
  ws = dws_jax.init_weight_space(k1, SPEC, "siren", (num,)).map(
      lambda x: x + 0.02 * jax.random.normal(jax.random.fold_in(k2, x.size),
                                             x.shape))
  classes = jax.random.randint(k3, (num,), 0, NUM_CLASSES)
  return ws, jax.nn.one_hot(classes, NUM_CLASSES), classes


def render(ws):
  return dws_jax.render(ws, GRID, SPEC, sin="exact")


def assert_trees_close(test, x, y, atol=1e-6):
  for p, q in zip(jax.tree.leaves(x), jax.tree.leaves(y)):
    np.testing.assert_allclose(p, q, atol=atol, rtol=1e-6)


PAIR_FNS = {
    "vanilla": lambda k, a, ya, b, yb: mixup.mixup(k, a, ya, b, yb),
    "perm": lambda k, a, ya, b, yb: mixup.mixup_perm(k, a, ya, b, yb, SPEC),
    "aligned": lambda k, a, ya, b, yb: mixup.mixup_aligned(k, a, ya, b, yb,
                                                           SPEC),
}


class PairTest(parameterized.TestCase):

  @parameterized.parameters("vanilla", "perm", "aligned")
  def test_mixed_weights_and_soft_labels(self, variant):
    ws, y, classes = random_batch(jax.random.key(0), 16)
    # Anchors 0..7 with partners 8..15, classes forced to differ.
    classes = np.asarray(classes)
    y_b = jax.nn.one_hot((classes[:8] + 1 + classes[8:] % 9) % NUM_CLASSES,
                         NUM_CLASSES)
    keys = jax.random.split(jax.random.key(1), 8)
    out_ws, out_y = jax.vmap(PAIR_FNS[variant])(keys, ws[:8], y[:8], ws[8:], y_b)
    np.testing.assert_allclose(out_y.sum(-1), 1.0, rtol=1e-6)
    alpha = out_y[jnp.arange(8), classes[:8]]
    np.testing.assert_allclose(
        out_y, alpha[:, None] * y[:8] + (1 - alpha[:, None]) * y_b, atol=1e-6)
    if variant == "vanilla":
      alpha_expected = jax.vmap(lambda k: mixup.sample_alpha(k))(keys)
    else:  # alpha is drawn from the first half of the key, as documented
      alpha_expected = jax.vmap(
          lambda k: mixup.sample_alpha(jax.random.split(k)[0]))(keys)
    np.testing.assert_allclose(alpha, alpha_expected, rtol=1e-6)
    # The partner part (ws - alpha a) / (1 - alpha) is the partner, permuted.
    part = jax.tree.map(
        lambda m, a: (m - alpha.reshape((-1,) + (1,) * (a.ndim - 1)) * a)
        / (1 - alpha.reshape((-1,) + (1,) * (a.ndim - 1))), out_ws, ws[:8])
    # Same multiset of entries in every leaf (a permutation of the partner).
    for p, q in zip(jax.tree.leaves(part), jax.tree.leaves(ws[8:])):
      np.testing.assert_allclose(np.sort(np.asarray(p).reshape(8, -1)),
                                 np.sort(np.asarray(q).reshape(8, -1)),
                                 atol=1e-4)
    if variant == "vanilla":
      assert_trees_close(self, part, ws[8:], atol=1e-4)
    else:
      self.assertGreater(max(float(jnp.max(jnp.abs(p - q))) for p, q in zip(
          jax.tree.leaves(part), jax.tree.leaves(ws[8:]))), 1e-2)
    if variant == "aligned":
      gain = (matching.objective(ws[:8], part)
              - matching.objective(ws[:8], ws[8:]))
      self.assertTrue(np.all(np.asarray(gain) > -1e-4))

  # The optax path under vmap is covered by matching_test.
  @parameterized.parameters("vanilla", "perm", "aligned")
  def test_vmap_equals_loop(self, variant):
    ws, y, _ = random_batch(jax.random.key(2), 8)
    keys = jax.random.split(jax.random.key(3), 4)
    fn = PAIR_FNS[variant]
    vm_ws, vm_y = jax.jit(jax.vmap(fn))(keys, ws[:4], y[:4], ws[4:], y[4:])
    for i in range(4):
      one_ws, one_y = fn(keys[i], ws[i], y[i], ws[4 + i], y[4 + i])
      assert_trees_close(self, vm_ws[i], one_ws)
      np.testing.assert_allclose(vm_y[i], one_y, rtol=1e-6)

  def test_beta_alpha(self):
    key = jax.random.key(4)
    uniform = mixup.sample_alpha(key, (4096,))
    beta = mixup.sample_alpha(key, (4096,), alpha_dist="beta", beta_alpha=0.2)
    for a in (uniform, beta):
      self.assertTrue(bool(jnp.all((a >= 0) & (a <= 1))))
    self.assertAlmostEqual(float(jnp.mean(jnp.abs(uniform - 0.5))), 0.25,
                           delta=0.02)
    self.assertGreater(float(jnp.mean(jnp.abs(beta - 0.5))), 0.35)


class BatchTest(parameterized.TestCase):

  @parameterized.parameters("vanilla", "perm")
  def test_batch_equals_pair_function_on_partners(self, variant):
    ws, y, _ = random_batch(jax.random.key(5), 12)
    key = jax.random.key(6)
    out_ws, out_y = mixup.batch_mixup(key, ws, y, SPEC, variant=variant)
    k_partner, k_pairs, _, _ = jax.random.split(key, 4)
    idx = mixup.partner_indices(k_partner, 12)
    np.testing.assert_array_equal(np.sort(idx), np.arange(12))
    keys = jax.random.split(k_pairs, 12)
    ref_ws, ref_y = jax.vmap(PAIR_FNS[variant])(keys, ws, y, ws[idx], y[idx])
    assert_trees_close(self, out_ws, ref_ws)
    np.testing.assert_allclose(out_y, ref_y, rtol=1e-6)

  @parameterized.parameters("scipy", "optax", "host")
  def test_batch_aligned(self, solver):
    ws, y, _ = random_batch(jax.random.key(7), 12)
    key = jax.random.key(8)
    out_ws, out_y = jax.jit(lambda k, w, l: mixup.batch_mixup(
        k, w, l, SPEC, variant="aligned", solver=solver))(key, ws, y)
    k_partner, k_pairs, _, k_match = jax.random.split(key, 4)
    idx = mixup.partner_indices(k_partner, 12)
    alpha = jax.vmap(
        lambda k: mixup.sample_alpha(jax.random.split(k)[0]))(
            jax.random.split(k_pairs, 12))
    np.testing.assert_allclose(
        out_y, alpha[:, None] * y + (1 - alpha[:, None]) * y[idx], atol=1e-6)
    aligned, _ = matching.align(k_match, ws, ws[idx], SPEC, solver=solver)
    assert_trees_close(self, out_ws, mixup.interpolate(alpha, ws, aligned))
    np.testing.assert_allclose(render(aligned), render(ws[idx]), atol=1e-5)

  @parameterized.parameters("explicit", "auto")
  def test_batch_sharded_on_mesh(self, axis_type):
    # jax.make_mesh defaults to Explicit axes; dws_jax.parallel builds Auto.
    types = {"explicit": jax.sharding.AxisType.Explicit,
             "auto": jax.sharding.AxisType.Auto}
    mesh = jax.make_mesh((1,), ("data",), axis_types=(types[axis_type],))
    sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec(
        "data"))
    ws, y, _ = random_batch(jax.random.key(17), 8)
    key = jax.random.key(18)
    for variant in ("vanilla", "aligned"):
      fn = jax.jit(lambda k, w, l, v=variant: mixup.batch_mixup(
          k, w, l, SPEC, variant=v, solver="host"))
      with jax.set_mesh(mesh):
        out_ws, out_y = fn(key, jax.device_put(ws, sharding),
                           jax.device_put(y, sharding))
      ref_ws, ref_y = fn(key, ws, y)
      assert_trees_close(self, out_ws, ref_ws)
      np.testing.assert_allclose(out_y, ref_y, rtol=1e-6)

  def test_partner_pool_reference_compat(self):
    ws, y, _ = random_batch(jax.random.key(9), 8)
    y = jax.nn.one_hot(jnp.zeros(8, jnp.int32), NUM_CLASSES)
    pool_ws, _, _ = random_batch(jax.random.key(10), 40)
    pool_y = jax.nn.one_hot(jnp.full(40, 9), NUM_CLASSES)
    fn = registry.get_entry("mixup").factory(SPEC, reference_compat=True)
    out_ws, out_y = fn(jax.random.key(11), ws, y, partner_pool=(pool_ws,
                                                                pool_y))
    np.testing.assert_allclose(out_y[:, 0] + out_y[:, 9], 1.0, rtol=1e-6)
    self.assertEqual(out_ws.batch_shape, (8,))
    with self.assertRaisesRegex(ValueError, "partner_pool"):
      fn(jax.random.key(11), ws, y)
    default = registry.get_entry("mixup").factory(SPEC)
    with self.assertRaisesRegex(ValueError, "reference_compat=True"):
      default(jax.random.key(11), ws, y, partner_pool=(pool_ws, pool_y))
    with self.assertRaisesRegex(ValueError, "labels"):
      mixup.batch_mixup(jax.random.key(0), ws, y[:, :3][:4], SPEC)


class RegistryTest(parameterized.TestCase):

  @parameterized.parameters("mixup", "mixup_perm", "mixup_and_perm",
                            "mixup_aligned", "rebasin")
  def test_registered_and_builds(self, name):
    entry = registry.get_entry(name)
    self.assertEqual(entry.kind, "batch")
    ws, y, _ = random_batch(jax.random.key(12), 6)
    out_ws, out_y = jax.jit(entry.factory(SPEC))(jax.random.key(13), ws, y)
    SPEC.validate(out_ws, batch_ndim=1)
    np.testing.assert_allclose(out_y.sum(-1), 1.0, rtol=1e-6)
    self.assertIn(name, registry.names("batch"))

  def test_aliases(self):
    self.assertIs(registry.get_entry("mixup_and_perm").factory,
                  registry.get_entry("mixup_perm").factory)
    self.assertIs(registry.get_entry("rebasin").factory,
                  registry.get_entry("mixup_aligned").factory)

  def test_combine(self):
    missing = [n for n in mixup.COMBINE_ANCHOR_AUGS
               if n not in registry.names("sample")]
    if missing:
      self.skipTest(f"sample augmentations not registered yet: {missing}")
    ws, y, _ = random_batch(jax.random.key(14), 6)
    fn = registry.get_entry("combine").factory(SPEC)
    out_ws, out_y = jax.jit(fn)(jax.random.key(15), ws, y)
    SPEC.validate(out_ws, batch_ndim=1)
    np.testing.assert_allclose(out_y.sum(-1), 1.0, rtol=1e-6)
    # With no anchor augmentation, combine is aligned MixUp.
    bare = registry.get_entry("combine").factory(SPEC, anchor_augs=())
    aligned = registry.get_entry("mixup_aligned").factory(SPEC)
    key = jax.random.key(16)
    assert_trees_close(self, bare(key, ws, y)[0], aligned(key, ws, y)[0])
    with self.assertRaisesRegex(ValueError, "not registered"):
      registry.get_entry("combine").factory(SPEC, anchor_augs=("nope",))
    with self.assertRaisesRegex(ValueError, "kind"):
      registry.get_entry("combine").factory(SPEC, anchor_augs=("mixup",))

  @parameterized.parameters(
      ("mixup", dict(alpha_dist="gauss"), "alpha_dist"),
      ("mixup", dict(alpha_dist="beta", beta_alpha=-1.0), "beta_alpha"),
      ("mixup_perm", dict(beta_alpha=0.4), "only applies"),
      ("mixup_aligned", dict(solver="lapjv"), "solver"),
      ("mixup_aligned", dict(max_iter=0), "max_iter"),
      ("rebasin", dict(max_iter=2.5), "max_iter"),
      ("mixup", dict(reference_compat="yes"), "reference_compat"),
  )
  def test_bad_hparams_fail_at_build(self, name, hparams, message):
    with self.assertRaisesRegex(ValueError, message):
      registry.get_entry(name).factory(SPEC, **hparams)


class FittedInrTest(absltest.TestCase):
  """Real Fashion-MNIST INRs: the first 64 test images, pairs (i, i + 32)."""

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    from dws_jax.data import fashion_mnist  # pylint: disable=g-import-not-at-top
    try:
      images, _ = fashion_mnist.load_split("test")
    except (FileNotFoundError, OSError) as e:
      raise absltest.SkipTest(f"Fashion-MNIST not available: {e}")
    cls.images = np.asarray(images[:64], np.float32)
    result = fitting.fit_inrs(jax.random.key(0),
                              jnp.asarray(cls.images.reshape(64, -1, 1)), GRID,
                              SPEC, steps=500)
    cls.ws = result.ws
    cls.psnr = np.asarray(result.psnr)

  def interpolation_psnr(self, alpha):
    """Mean PSNR of vanilla and aligned interpolants vs the mixed images."""
    ws_a, ws_b = self.ws[:32], self.ws[32:]
    target = alpha * self.images[:32] + (1 - alpha) * self.images[32:]
    aligned, _ = matching.align(jax.random.key(1), ws_a, ws_b, SPEC)
    out = {}
    for name, partner in (("vanilla", ws_b), ("aligned", aligned)):
      mix = dws_jax.render_images(mixup.interpolate(alpha, ws_a, partner), SPEC)
      mse = jnp.mean((mix[..., 0] - target) ** 2, axis=(1, 2))
      out[name] = float(jnp.mean(fitting.psnr_from_mse(mse)))
    print(f"\nalpha={alpha}: mean PSNR over 32 pairs of different images: "
          f"vanilla {out['vanilla']:.2f} dB, aligned {out['aligned']:.2f} dB")
    return out

  def test_fitted(self):
    self.assertGreater(float(np.median(self.psnr)), 35.0)

  def test_aligned_midpoint_beats_vanilla(self):
    psnr = self.interpolation_psnr(0.5)
    self.assertGreater(psnr["aligned"], psnr["vanilla"] + 0.3)

  def test_aligned_interpolation_beats_vanilla_off_midpoint(self):
    psnr = self.interpolation_psnr(0.75)
    self.assertGreater(psnr["aligned"], psnr["vanilla"] + 1.0)

  def test_solvers_agree_on_fitted_pairs(self):
    key = jax.random.key(2)
    a, b = self.ws[:32], self.ws[32:]
    res = {s: matching.weight_matching(key, a, b, SPEC, solver=s)
           for s in ("optax", "scipy", "host")}
    scale = float(jnp.max(matching.objective(a.map(jnp.abs), b.map(jnp.abs))))
    for s in ("optax", "host"):
      np.testing.assert_allclose(res[s].objective, res["scipy"].objective,
                                 rtol=1e-5, atol=1e-6 * scale, err_msg=s)
    self.assertTrue(np.all(np.asarray(res["scipy"].objective)
                           >= np.asarray(res["scipy"].objective_init)))


if __name__ == "__main__":
  absltest.main()
