"""Tests of WeightSpace, its spec and conversions."""

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np

import dws_jax
from dws_jax import weight_space as wsp

SIZES = [(2, 32, 32, 1), (3, 8, 1), (2, 16, 8, 4, 3), (1, 5)]


def _random_ws(key, spec, batch=()):
  return dws_jax.init_weight_space(key, spec, "siren", batch).map(
      lambda x: x + 0.01 * jax.random.normal(key, x.shape))


class WeightSpaceTest(parameterized.TestCase):

  def test_devices(self):
    self.assertEqual(jax.device_count(), 8)

  @parameterized.parameters(*SIZES)
  def test_flat_round_trip_bitwise(self, *sizes):
    spec = dws_jax.WeightSpaceSpec.siren(sizes)
    ws = _random_ws(jax.random.key(0), spec, (3, 2))
    flat = dws_jax.to_flat(ws, spec)
    self.assertEqual(flat.shape, (3, 2, spec.num_params))
    back = dws_jax.from_flat(flat, spec)
    for a, b in zip(jax.tree.leaves(ws), jax.tree.leaves(back)):
      np.testing.assert_array_equal(a, b)
    # Layout recorded in the spec: entry offsets index the flat vector.
    for e in spec.flat_layout:
      leaf = getattr(ws, e.kind)[e.layer]
      np.testing.assert_array_equal(
          flat[..., e.offset:e.offset + e.size].reshape(leaf.shape), leaf)

  @parameterized.parameters(*SIZES)
  def test_flax_round_trip_bitwise(self, *sizes):
    spec = dws_jax.WeightSpaceSpec.siren(sizes, output_offset=0.5)
    model = dws_jax.Siren(layer_sizes=sizes)
    params = model.init(jax.random.key(1), jnp.zeros((4, sizes[0])))
    ws = dws_jax.from_flax(params, spec)
    back = dws_jax.to_flax(ws)
    jax.tree.map(np.testing.assert_array_equal, params, back)
    self.assertEqual(model.spec, spec)

  @parameterized.parameters(*SIZES)
  def test_state_dict_round_trip_bitwise(self, *sizes):
    spec = dws_jax.WeightSpaceSpec.siren(sizes)
    ws = _random_ws(jax.random.key(2), spec)
    sd = dws_jax.to_state_dict(ws)
    self.assertEqual(sd["seq.0.weight"].shape, (sizes[1], sizes[0]))
    sd["label"] = 3  # official INR files embed the label; it is ignored.
    back = dws_jax.from_state_dict(sd, spec)
    for a, b in zip(jax.tree.leaves(ws), jax.tree.leaves(back)):
      np.testing.assert_array_equal(a, b)
    last = f"seq.{len(sizes) - 2}.weight"
    np.testing.assert_array_equal(dws_jax.to_state_dict(back)[last], sd[last])

  def test_stack_unstack_index(self):
    spec = dws_jax.WeightSpaceSpec.siren((2, 8, 1))
    items = [_random_ws(jax.random.key(i), spec) for i in range(5)]
    batch = dws_jax.stack(items)
    self.assertEqual(batch.batch_shape, (5,))
    self.assertLen(batch, 5)
    for i, item in enumerate(dws_jax.unstack(batch)):
      jax.tree.map(np.testing.assert_array_equal, item, items[i])
    jax.tree.map(np.testing.assert_array_equal, batch[2], items[2])
    self.assertEqual(batch[1:3].batch_shape, (2,))
    both = dws_jax.concatenate([batch, batch[:2]])
    self.assertEqual(both.batch_shape, (7,))

  def test_spec_permutations_and_symmetries(self):
    spec = dws_jax.WeightSpaceSpec.siren((2, 32, 16, 1), w0=30.0, w0_first=20.0)
    self.assertEqual([p.size for p in spec.permutations], [32, 16])
    self.assertEqual(spec.permutations[1].axes,
                     (("weights", 1, -1), ("biases", 1, -1), ("weights", 2, -2)))
    self.assertTrue(spec.has_sign_symmetry)
    np.testing.assert_allclose(spec.phase_periods, (np.pi / 20, np.pi / 30))
    self.assertIsNone(dws_jax.WeightSpaceSpec((2, 4, 1), "relu").phase_periods)
    self.assertFalse(dws_jax.WeightSpaceSpec((2, 4, 1), "relu").has_sign_symmetry)
    self.assertEqual(dws_jax.WeightSpaceSpec.dwsnets_inr().num_params, 1185)
    # Which group permutes which axis of each tensor: input and output
    # neurons are fixed, so b_2 and the input axis of W_0 are untouched.
    self.assertEqual(spec.leaf_axes, {
        ("weights", 0): {-1: 0}, ("biases", 0): {-1: 0},
        ("weights", 1): {-2: 0, -1: 1}, ("biases", 1): {-1: 1},
        ("weights", 2): {-2: 1}})

  @parameterized.parameters((2, 32, 32, 1), (3, 16, 8, 8, 2))
  def test_permute_preserves_function(self, *sizes):
    spec = dws_jax.WeightSpaceSpec.siren(sizes)
    ws = _random_ws(jax.random.key(3), spec, (4,))
    keys = jax.random.split(jax.random.key(4), len(spec.permutations))
    perms = [jax.vmap(lambda k: jax.random.permutation(k, p.size))(
        jax.random.split(k, 4)) for k, p in zip(keys, spec.permutations)]
    out = dws_jax.permute(ws, perms, spec)
    grid = jax.random.uniform(jax.random.key(5), (64, sizes[0]), minval=-1)
    np.testing.assert_allclose(dws_jax.render(out, grid, spec, "exact"),
                               dws_jax.render(ws, grid, spec, "exact"), atol=1e-5)
    self.assertGreater(float(jnp.abs(out.weights[0] - ws.weights[0]).max()), 0)
    # Unbatched permutation applied to one network matches the batched one.
    one = dws_jax.permute(ws[1], [p[1] for p in perms], spec)
    jax.tree.map(np.testing.assert_array_equal, one, out[1])

  def test_errors_name_the_problem(self):
    spec = dws_jax.WeightSpaceSpec.siren((2, 32, 32, 1))
    ws = dws_jax.WeightSpace.zeros(spec)
    with self.assertRaisesRegex(ValueError, r"expected \(\.\.\., 1185\)"):
      dws_jax.from_flat(jnp.zeros(1184), spec)
    with self.assertRaisesRegex(ValueError, "has 2 layers but the spec has 3"):
      spec.validate(dws_jax.WeightSpace(ws.weights[:2], ws.biases[:2]))
    bad = ws.replace(weights=(ws.weights[0], jnp.zeros((32, 31)), ws.weights[2]))
    with self.assertRaisesRegex(ValueError, r"weights\[1\] has d_out=31"):
      spec.validate(bad)
    with self.assertRaisesRegex(ValueError, "shape"):
      dws_jax.WeightSpaceSpec.siren((2, 16, 32, 1)).validate(ws)
    nan = ws.replace(biases=(ws.biases[0].at[3].set(jnp.nan),) + ws.biases[1:])
    with self.assertRaisesRegex(ValueError, r"biases\[0\] has 1 non-finite"):
      spec.validate(nan, allow_nonfinite=False)
    sd = dws_jax.to_state_dict(nan)
    with self.assertRaisesRegex(ValueError, "non-finite"):
      dws_jax.from_state_dict(sd)
    with self.assertRaisesRegex(ValueError, "no keys like 'seq.0.weight'"):
      dws_jax.from_state_dict({"fc.weight": np.zeros((2, 2))})
    with self.assertRaisesRegex(ValueError, "only"):
      dws_jax.from_state_dict({"seq.0.weight": np.zeros((2, 2))})
    with self.assertRaisesRegex(ValueError, "unknown activation"):
      dws_jax.WeightSpaceSpec((2, 3), "swish")
    with self.assertRaisesRegex(ValueError, "layer sizes"):
      dws_jax.stack([ws, dws_jax.WeightSpace.zeros(
          dws_jax.WeightSpaceSpec.siren((2, 8, 1)))])
    with self.assertRaisesRegex(ValueError, "lacks"):
      dws_jax.from_flax({"params": {"Dense_0": {"kernel": jnp.zeros((2, 3))}}})
    with self.assertRaisesRegex(ValueError, "indices must be 0..L-1"):
      dws_jax.from_flax({"Dense_1": {"kernel": jnp.zeros((2, 3)),
                                     "bias": jnp.zeros(3)}})
    with self.assertRaisesRegex(ValueError, "3 permutations"):
      dws_jax.permute(ws, [jnp.arange(32)] * 3, spec)
    with self.assertRaisesRegex(TypeError, "must be a WeightSpace"):
      spec.validate({"weights": 1})

  def test_jit_vmap_pytree(self):
    spec = dws_jax.WeightSpaceSpec.siren((2, 8, 1))
    ws = _random_ws(jax.random.key(6), spec, (3,))
    doubled = jax.jit(jax.vmap(lambda w: w * 2.0))(ws)
    np.testing.assert_array_equal(doubled.weights[0], ws.weights[0] * 2)
    self.assertIsInstance(doubled, wsp.WeightSpace)


if __name__ == "__main__":
  absltest.main()
