"""Equivariance tests of the weight-space layers (DWSNets blocks, NFN layers)."""

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np

import dws_jax
from dws_jax.models import layers
from dws_jax.models import nfn

SIZES = [(2, 32, 32, 1), (2, 16, 1), (3, 8, 8, 8, 2)]
# Per-block tests: (3, 8, 8, 8, 2) has first, last, internal, adjacent and
# distant layers and d_0, d_L > 1; (2, 16, 1) has no internal layer.
BLOCK_SIZES = [(2, 16, 1), (3, 8, 8, 8, 2)]


def random_params(key, shapes, std=0.3):
  """Random values for a pytree of ShapeDtypeStructs (fast, no init compile)."""
  leaves, treedef = jax.tree.flatten(shapes)
  keys = jax.random.split(key, len(leaves))
  return jax.tree.unflatten(treedef, [
      std * jax.random.normal(k, s.shape, s.dtype) for k, s in zip(keys, leaves)])


def random_perms(key, spec):
  keys = jax.random.split(key, max(1, len(spec.permutations)))
  return [jax.random.permutation(k, p.size)
          for k, p in zip(keys, spec.permutations)]


def permute_features(fws, perms, spec):
  """Permutes a feature weight space (leaves (B, ..., F)) with dws_jax.permute."""
  front = jax.tree.map(lambda x: jnp.moveaxis(x, -1, 0), fws)
  out = dws_jax.permute(front, perms, spec)
  return jax.tree.map(lambda x: jnp.moveaxis(x, 0, -1), out)


def random_features(key, spec, batch, features):
  keys = iter(jax.random.split(key, 2 * spec.num_layers))
  return dws_jax.WeightSpace(
      tuple(jax.random.normal(next(keys), (batch, *s, features))
            for s in spec.weight_shapes),
      tuple(jax.random.normal(next(keys), (batch, *s, features))
            for s in spec.bias_shapes))


def assert_equivariant(test, module, spec, features_in, key):
  k1, k2, k3 = jax.random.split(key, 3)
  fws = random_features(k1, spec, 2, features_in)
  variables = random_params(k2, jax.eval_shape(module.init, k2, fws))
  apply = jax.jit(module.apply)
  out = apply(variables, fws)
  perms = random_perms(k3, spec)
  out_of_permuted = apply(variables, permute_features(fws, perms, spec))
  permuted_out = permute_features(out, perms, spec)
  scale = max(float(jnp.max(jnp.abs(x))) for x in jax.tree.leaves(out))
  test.assertGreater(scale, 1e-6)
  for a, b in zip(jax.tree.leaves(out_of_permuted), jax.tree.leaves(permuted_out)):
    np.testing.assert_allclose(a, b, atol=1e-5 * max(1.0, scale), rtol=0)
  # The output must actually depend on the neuron order somewhere (not all
  # constant along permuted axes), else the test would be vacuous.
  moved = max(float(jnp.max(jnp.abs(a - b))) for a, b in
              zip(jax.tree.leaves(out), jax.tree.leaves(permuted_out)))
  test.assertGreater(moved, 1e-4 * scale)
  return variables


class DWSLayerTest(parameterized.TestCase):

  @parameterized.product(sizes=BLOCK_SIZES, block=layers.BLOCKS)
  def test_each_block_equivariant(self, sizes, block):
    spec = dws_jax.WeightSpaceSpec.siren(sizes)
    module = layers.DWSLayer(spec, features=4, num_heads=2, blocks=(block,))
    assert_equivariant(self, module, spec, 3, jax.random.key(0))

  @parameterized.parameters(((2, 16, 1), "sab", "max"),
                            ((3, 8, 8, 8, 2), "ds", "sum"),
                            ((3, 8, 8, 8, 2), "ds", "mean"))
  def test_full_layer_equivariant(self, sizes, set_layer, reduction):
    spec = dws_jax.WeightSpaceSpec.siren(sizes)
    module = layers.DWSLayer(spec, features=4, num_heads=2, set_layer=set_layer,
                             reduction=reduction, n_fc_layers=2)
    assert_equivariant(self, module, spec, 3, jax.random.key(1))

  def test_block_structure_and_official_shapes(self):
    # 2->32->32->1, 1 -> 16 features, SAB with 8 heads: the reference layer.
    spec = dws_jax.WeightSpaceSpec.siren((2, 32, 32, 1))
    module = layers.DWSLayer(spec, features=16)
    fws = random_features(jax.random.key(0), spec, 1, 1)
    shapes = jax.eval_shape(module.init, jax.random.key(0), fws)
    params = shapes["params"]
    self.assertLen(params, 36)  # every tensor to every tensor
    # W1 -> W1 is the 2-D Kronecker layer; W0 -> W0 a set layer on d0 * F.
    self.assertIn("kron", params["W1_to_W1"])
    self.assertEqual(
        params["W0_to_W0"]["set"]["sab"]["fc_q"]["kernel"].shape, (2, 32))
    # b2 -> b2 (output bias) is a plain MLP on d_L * F.
    self.assertIn("mlp", params["b2_to_b2"])
    # W0 -> b2: pool d1, flatten d0 -> d_L * F.
    self.assertEqual(params["W0_to_b2"]["mlp"]["Dense_0"]["kernel"].shape,
                     (2, 16))

  def test_invariant_pool(self):
    spec = dws_jax.WeightSpaceSpec.siren((3, 8, 8, 8, 2))
    fws = random_features(jax.random.key(0), spec, 2, 5)
    pooled = layers.invariant_pool(fws, spec, "max")
    self.assertEqual(pooled.shape,
                     (2, layers.invariant_pool_size(spec, 5)))
    self.assertEqual(pooled.shape[1], 5 * (2 * 4 - 3 + 3 + 2 + 2))
    perms = random_perms(jax.random.key(1), spec)
    np.testing.assert_allclose(
        layers.invariant_pool(permute_features(fws, perms, spec), spec, "max"),
        pooled, atol=1e-6)

  def test_bad_options(self):
    spec = dws_jax.WeightSpaceSpec.siren((2, 8, 1))
    fws = random_features(jax.random.key(0), spec, 1, 1)
    with self.assertRaisesRegex(ValueError, "reduction"):
      layers.DWSLayer(spec, 4, reduction="median").init(jax.random.key(0), fws)
    with self.assertRaisesRegex(ValueError, "blocks"):
      layers.DWSLayer(spec, 4, blocks=("wx",)).init(jax.random.key(0), fws)
    with self.assertRaisesRegex(ValueError, "divisible"):
      layers.DWSLayer(spec, 4, num_heads=3).init(jax.random.key(0), fws)


class AttentionTest(parameterized.TestCase):

  @parameterized.parameters((8, 2, 16), (5, 4, 7), (3, 16, 32))
  def test_stacked_attention_matches_softmax(self, heads, d, n):
    # Chunked over the batch, normalised after the value product: the same
    # values and gradients as a plain softmax attention.
    keys = jax.random.split(jax.random.key(0), 4)
    q, k, v, w = (3.0 * jax.random.normal(key, (12, heads, d, n))
                  for key in keys)

    def reference(q, k, v):
      attn = jax.nn.softmax(jnp.einsum("bgdn,bgdm->bgnm", q, k), axis=-1)
      return jnp.einsum("bgnm,bgdm->bgdn", attn, v)

    def loss(fn):
      return lambda *args: jnp.sum(jnp.sin(fn(*args)) * w)

    chunked = lambda q, k, v: layers.stacked_attention(
        q, k, v, chunk_elements=3 * heads * n * n)
    np.testing.assert_allclose(chunked(q, k, v), reference(q, k, v),
                               atol=1e-5, rtol=1e-5)
    grads = jax.grad(loss(chunked), argnums=(0, 1, 2))(q, k, v)
    expected = jax.grad(loss(reference), argnums=(0, 1, 2))(q, k, v)
    for a, b in zip(grads, expected):
      np.testing.assert_allclose(a, b, atol=1e-4, rtol=1e-4)


class NFNLayerTest(parameterized.TestCase):

  @parameterized.parameters(*SIZES)
  def test_np_linear_equivariant(self, *sizes):
    spec = dws_jax.WeightSpaceSpec.siren(sizes)
    assert_equivariant(self, nfn.NPLinear(spec, 4), spec, 3, jax.random.key(2))

  @parameterized.parameters(*SIZES)
  def test_np_pool_invariant(self, *sizes):
    spec = dws_jax.WeightSpaceSpec.siren(sizes)
    fws = random_features(jax.random.key(0), spec, 2, 3)
    perms = random_perms(jax.random.key(1), spec)
    np.testing.assert_allclose(
        nfn.np_pool(permute_features(fws, perms, spec), spec),
        nfn.np_pool(fws, spec), atol=1e-5)


if __name__ == "__main__":
  absltest.main()
