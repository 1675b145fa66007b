"""The XLA:CPU plugin's lowbias32 jax.random implementation."""

from absl.testing import absltest
import chex
import jax
import jax.numpy as jnp
import numpy as np

import dws_jax as dws
from dws_jax import augment
from dws_jax import plugins
from dws_jax import prng
from dws_jax.xla_cpu import prng as lowbias


class LowBiasTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.assertIn("xla_cpu", plugins.load())
    self.key = prng.root_key(7, "lowbias32")

  def test_registered_through_the_plugin_entry_point(self):
    self.assertIn("lowbias32", prng.known_impls())
    self.assertEqual(jax.random.key_impl(self.key), lowbias.IMPL)
    with self.assertRaisesRegex(ValueError, "built-in"):
      prng.register_impl("rbg", lowbias.IMPL)
    self.assertEqual(prng.resolve("auto"), "lowbias32")  # tests run on CPU
    self.assertEqual(prng.resolve("rbg"), "rbg")

  def test_bits_are_uniform_and_streams_distinct(self):
    bits = np.asarray(jax.random.bits(self.key, (200_000,), jnp.uint32))
    for bit in (0, 7, 16, 31):  # every bit is a fair coin
      self.assertAlmostEqual(((bits >> bit) & 1).mean(), 0.5, delta=0.005)
    counts = np.bincount(bits >> 28, minlength=16)  # top nibble uniform
    chi2 = ((counts - bits.size / 16) ** 2 / (bits.size / 16)).sum()
    self.assertLess(chi2, 45.0)  # 15 dof, p ~ 1e-4
    # Children, folds and seeds are distinct keys; same inputs, same keys.
    data = lambda k: tuple(np.asarray(jax.random.key_data(k)).ravel())
    keys = ([data(k) for k in jax.random.split(self.key, 64)]
            + [data(jax.random.fold_in(self.key, i)) for i in range(64)]
            + [data(prng.root_key(s, "lowbias32")) for s in range(100, 164)]
            + [data(self.key)])
    self.assertLen(set(keys), len(keys))
    self.assertEqual(data(jax.random.fold_in(self.key, 3)),
                     data(jax.random.fold_in(prng.root_key(7, "lowbias32"), 3)))
    # Neighbouring counters and keys are uncorrelated.
    a = np.asarray(jax.random.uniform(self.key, (50_000,)))
    b = np.asarray(jax.random.uniform(jax.random.fold_in(self.key, 1),
                                      (50_000,)))
    self.assertLess(abs(np.corrcoef(a[:-1], a[1:])[0, 1]), 0.02)
    self.assertLess(abs(np.corrcoef(a, b)[0, 1]), 0.02)

  def test_distributions_and_vmap(self):
    z = np.asarray(jax.random.normal(self.key, (200_000,)))
    self.assertAlmostEqual(z.mean(), 0.0, delta=0.01)
    self.assertAlmostEqual(z.std(), 1.0, delta=0.01)
    self.assertAlmostEqual(np.mean(np.abs(z) > 2.0), 0.0455, delta=0.002)
    np.testing.assert_array_equal(np.sort(jax.random.permutation(self.key, 50)),
                                  np.arange(50))
    keys = jax.random.split(self.key, 5)
    batched = jax.jit(jax.vmap(lambda k: jax.random.normal(k, (9,))))(keys)
    one_by_one = jnp.stack([jax.random.normal(k, (9,)) for k in keys])
    np.testing.assert_array_equal(batched, one_by_one)
    for width, dtype in ((8, jnp.uint8), (16, jnp.uint16)):
      small = jax.random.bits(self.key, (1000,), dtype)
      self.assertEqual(small.dtype, dtype)
      self.assertGreater(int(small.max()), 2 ** (width - 1))

  def test_augmentations_run_on_its_keys(self):
    spec = dws.WeightSpaceSpec.siren((2, 8, 8, 1))
    ws = dws.WeightSpace.zeros(spec, (4,)).map(lambda x: x + 1.0)
    aug = augment.siren_negation(spec)
    out = jax.jit(lambda k, w: augment.apply_batch(aug, k, w))(self.key, ws)
    flipped = np.asarray(out.biases[0]) < 0
    self.assertTrue(0 < flipped.mean() < 1)
    chex.assert_trees_all_equal(out, augment.apply_batch(aug, self.key, ws))


if __name__ == "__main__":
  absltest.main()
