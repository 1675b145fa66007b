"""The run's root key and the initial train state, by every init mode."""

from absl.testing import absltest
import chex
import jax
import numpy as np
import optax

import dws_jax as dws
from dws_jax import models
from dws_jax import parallel
from dws_jax import prng
from dws_jax import train_state as ts


class RootKeyTest(absltest.TestCase):

  def test_impls(self):
    for impl in prng.IMPLS:
      key = prng.root_key(3, impl)
      self.assertEqual(str(jax.random.key_impl(key)), impl)
    np.testing.assert_array_equal(
        jax.random.key_data(prng.root_key(3)),
        jax.random.key_data(jax.random.key(3)))
    with self.assertRaisesRegex(ValueError, "'philox'.*threefry2x32, rbg"):
      prng.root_key(0, "philox")
    with self.assertRaisesRegex(ValueError, "built-in name"):
      prng.register_impl("auto", "x")


class CreateTest(absltest.TestCase):

  def test_jit_and_eager_make_the_same_replicated_state(self):
    spec = dws.WeightSpaceSpec.siren((2, 8, 8, 1))
    model = models.get("mlp", spec=spec, num_classes=10)
    tx = optax.adam(1e-3)
    rngs = {"params": jax.random.key(0), "dropout": jax.random.key(1)}
    sample = dws.WeightSpace.zeros(spec, (2,))
    mesh = parallel.make_mesh(-1)
    sharding = parallel.replicated(mesh)
    states = {mode: ts.create(model, tx, rngs, sample, sharding, mode)
              for mode in ("jit", "eager")}
    chex.assert_trees_all_close(states["jit"], states["eager"], atol=1e-7)
    for leaf in jax.tree.leaves(states["jit"]) + jax.tree.leaves(
        states["eager"]):
      self.assertEqual(leaf.sharding, sharding)
    self.assertEqual(int(states["jit"].step), 0)
    other = ts.create(model, tx, {"params": jax.random.key(5),
                                  "dropout": jax.random.key(1)},
                      sample, sharding, "jit")
    self.assertFalse(all(np.allclose(a, b) for a, b in zip(
        jax.tree.leaves(other.params), jax.tree.leaves(states["jit"].params))))

  def test_modes(self):
    self.assertEqual(ts.resolve_init_mode("auto"),
                     "eager" if jax.default_backend() == "cpu" else "jit")
    self.assertEqual(ts.resolve_init_mode("jit"), "jit")
    with self.assertRaisesRegex(ValueError, "init mode 'lazy'"):
      ts.resolve_init_mode("lazy")


if __name__ == "__main__":
  absltest.main()
