"""Tests of the SIREN module, inits, sine, grid and render."""

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np

import dws_jax
from dws_jax import siren


class SineTest(absltest.TestCase):

  def test_fast_sin_matches_sin(self):
    x = jnp.linspace(-100.0, 100.0, 2_000_001, dtype=jnp.float32)
    err = jnp.abs(dws_jax.fast_sin(x) - jnp.sin(x))
    self.assertLessEqual(float(err.max()), 1e-5)

  def test_fast_sin_gradient_is_cos(self):
    x = jnp.linspace(-100.0, 100.0, 100_001, dtype=jnp.float32)
    grad = jax.vmap(jax.grad(dws_jax.fast_sin))(x)
    self.assertLessEqual(float(jnp.abs(grad - jnp.cos(x)).max()), 1e-5)
    # Second derivative through the custom JVP.
    g2 = jax.vmap(jax.grad(jax.grad(dws_jax.fast_sin)))(x[:1000])
    np.testing.assert_allclose(g2, -jnp.sin(x[:1000]), atol=1e-5)

  def test_get_sin(self):
    self.assertIs(dws_jax.get_sin("exact"), jnp.sin)
    self.assertIs(dws_jax.get_sin("auto"), dws_jax.fast_sin)  # CPU
    with self.assertRaisesRegex(ValueError, "unknown sine 'cos'"):
      dws_jax.get_sin("cos")


class GridTest(absltest.TestCase):

  def test_matches_reference_make_coordinates(self):
    grid = np.asarray(dws_jax.make_grid(28))
    x, y = np.meshgrid(np.linspace(-1, 1, 28), np.linspace(-1, 1, 28))
    ref = np.stack([x.flatten(), y.flatten()]).T
    np.testing.assert_allclose(grid, ref, atol=1e-7)
    self.assertEqual(grid.shape, (784, 2))
    # x runs along columns: pixel (row=0, col=1) is coordinate 1.
    self.assertGreater(grid[1, 0], grid[0, 0])
    self.assertEqual(grid[1, 1], grid[0, 1])

  def test_3d_and_errors(self):
    self.assertEqual(dws_jax.make_grid(5, 3).shape, (125, 3))
    self.assertEqual(dws_jax.make_grid((4, 3)).shape, (12, 2))
    with self.assertRaisesRegex(ValueError, "2-D and 3-D"):
      dws_jax.make_grid(4, 4)
    with self.assertRaisesRegex(ValueError, "positive"):
      dws_jax.make_grid((0, 3))


class SirenTest(parameterized.TestCase):

  @parameterized.parameters(((2, 32, 32, 1), 0.5, 30.0, None),
                            ((3, 16, 16, 16, 4), 0.0, 30.0, 60.0),
                            ((2, 8, 3), 0.0, 10.0, None))
  def test_render_equals_module(self, sizes, offset, w0, w0_first):
    model = dws_jax.Siren(layer_sizes=sizes, output_offset=offset, w0=w0,
                          w0_first=w0_first, sin="exact")
    keys = jax.random.split(jax.random.key(0), 5)
    coords = jax.random.uniform(jax.random.key(1), (50, sizes[0]), minval=-1)
    params = jax.vmap(lambda k: model.init(k, coords))(keys)
    expected = jax.vmap(lambda p: model.apply(p, coords))(params)
    ws = dws_jax.from_flax(params)
    self.assertEqual(ws.batch_shape, (5,))
    got = dws_jax.render(ws, coords, model.spec, sin="exact")
    np.testing.assert_allclose(got, expected, atol=1e-5)
    fast = dws_jax.render(ws, coords, model.spec, sin="fast")
    np.testing.assert_allclose(fast, expected, atol=1e-4)

  @parameterized.parameters("siren", "dwsnets_code")
  def test_init_statistics(self, init):
    spec = dws_jax.WeightSpaceSpec.siren((2, 256, 256, 256, 1))
    ws = dws_jax.init_weight_space(jax.random.key(0), spec, init, (64,))
    model = dws_jax.Siren(layer_sizes=spec.layer_sizes, initialization=init)
    flax_ws = dws_jax.from_flax(model.init(jax.random.key(1), jnp.zeros((1, 2))))
    for l, (wb, bb) in enumerate(siren.layer_init_bounds(spec, init)):
      fan_in = spec.layer_sizes[l]
      if l == spec.num_layers - 1:
        expected_w = 1 / np.sqrt(fan_in)
      elif l == 0 and init == "siren":
        expected_w = 1 / fan_in
      else:
        expected_w = np.sqrt(6 / fan_in) / 30.0
      self.assertAlmostEqual(wb, expected_w, places=7)
      for source in (ws, flax_ws):
        w, b = np.asarray(source.weights[l]), np.asarray(source.biases[l])
        self.assertLessEqual(np.abs(w).max(), np.float32(wb))
        self.assertLessEqual(np.abs(b).max(), np.float32(bb))
      w = np.asarray(ws.weights[l])
      std_uniform = wb / np.sqrt(3)
      self.assertLess(abs(w.std() / std_uniform - 1), 0.05)
      if bb == 0:
        self.assertEqual(np.abs(np.asarray(ws.biases[l])).max(), 0)
      else:
        b = np.asarray(ws.biases[l])
        self.assertLess(abs(b.std() / (bb / np.sqrt(3)) - 1), 0.05)

  def test_errors(self):
    with self.assertRaisesRegex(ValueError, "unknown init 'xavier'"):
      dws_jax.Siren(initialization="xavier").init(jax.random.key(0), jnp.zeros((1, 2)))
    with self.assertRaisesRegex(ValueError, r"coordinates \(\.\.\., 2\)"):
      dws_jax.Siren().init(jax.random.key(0), jnp.zeros((1, 3)))
    spec = dws_jax.WeightSpaceSpec.dwsnets_inr()
    ws = dws_jax.WeightSpace.zeros(spec, (2,))
    with self.assertRaisesRegex(ValueError, r"grid must be \(N, 2\)"):
      dws_jax.render(ws, jnp.zeros((10, 3)), spec)
    with self.assertRaisesRegex(ValueError, "render"):
      dws_jax.render(ws, jnp.zeros((10, 2)), dws_jax.WeightSpaceSpec.siren((2, 8, 1)))

  def test_render_images_shape(self):
    spec = dws_jax.WeightSpaceSpec.dwsnets_inr()
    ws = dws_jax.init_weight_space(jax.random.key(0), spec, batch_shape=(3, 2))
    self.assertEqual(dws_jax.render_images(ws, spec).shape, (3, 2, 28, 28, 1))


if __name__ == "__main__":
  absltest.main()
