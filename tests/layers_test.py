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
# HNP layer: 3 layers (one internal layer next to both ends), 4 layers with
# unequal widths and d_0, d_L > 1 (two internal layers), 2 layers (first and
# last layer adjacent).
HNP_SIZES = [(2, 8, 8, 1), (3, 5, 6, 7, 2), (3, 6, 2), (2, 8, 1)]


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


def permute_io(fws, perm, side):
  """Permutes the fixed neurons: the inputs (``d_0`` of ``W_0``) or outputs."""
  weights, biases = list(fws.weights), list(fws.biases)
  if side == "input":
    weights[0] = weights[0][:, perm]
  else:
    weights[-1] = weights[-1][:, :, perm]
    biases[-1] = biases[-1][:, perm]
  return dws_jax.WeightSpace(tuple(weights), tuple(biases))


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

  @parameterized.parameters(((2, 16, 1), "sab", "max"),
                            ((3, 8, 8, 8, 2), "sab", "max"),
                            ((3, 8, 8, 8, 2), "ds", "mean"))
  def test_layer_is_the_mean_of_its_blocks(self, sizes, set_layer, reduction):
    # The layer stacks its SAB attentions and sums its blocks' terms in its
    # own order; it must equal each block run alone, summed, over 2L.
    spec = dws_jax.WeightSpaceSpec.siren(sizes)
    module = layers.DWSLayer(spec, features=4, num_heads=2,
                             set_layer=set_layer, reduction=reduction)
    fws = random_features(jax.random.key(2), spec, 3, 3)
    variables = random_params(
        jax.random.key(3), jax.eval_shape(module.init, jax.random.key(3), fws))
    got = layers.feature_leaves(jax.jit(module.apply)(variables, fws))
    infos = layers.tensor_infos(spec)
    leaves = layers.feature_leaves(fws)
    for t, tgt in enumerate(infos):
      want = 0.0
      for s, src in enumerate(infos):
        block = layers.DWSBlock(src, tgt, 4, set_layer, reduction,
                                num_heads=2)
        params = variables["params"][f"{src.name}_to_{tgt.name}"]
        want = want + block.apply({"params": params}, leaves[s])
      np.testing.assert_allclose(got[t], want / len(infos), rtol=1e-5,
                                 atol=1e-5)

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


class RowsMatmulTest(parameterized.TestCase):

  @parameterized.parameters(1, 4)
  def test_gradient_equals_autodiff_of_matmul(self, d_in):
    keys = jax.random.split(jax.random.key(0), 3)
    x = jax.random.normal(keys[0], (2, 5, 5, d_in))
    w = jax.random.normal(keys[1], (d_in, 6))
    ct = jax.random.normal(keys[2], (2, 5, 5, 6))
    got = jax.grad(lambda x, w: jnp.sum(layers.rows_matmul(x, w) * ct),
                   (0, 1))(x, w)
    want = jax.grad(lambda x, w: jnp.sum((x @ w) * ct), (0, 1))(x, w)
    for g, h in zip(got, want):
      self.assertEqual(g.shape, h.shape)
      np.testing.assert_allclose(g, h, rtol=1e-5, atol=1e-5)


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
        q, k, v, chunk_bytes=3 * heads * n * n * 4)
    expected = jax.grad(loss(reference), argnums=(0, 1, 2))(q, k, v)
    for fn in (layers.stacked_attention, chunked):
      np.testing.assert_allclose(fn(q, k, v), reference(q, k, v),
                                 atol=1e-5, rtol=1e-5)
      grads = jax.grad(loss(fn), argnums=(0, 1, 2))(q, k, v)
      for a, b in zip(grads, expected):
        np.testing.assert_allclose(a, b, atol=1e-4, rtol=1e-4)

  def test_attention_chunks_follow_the_byte_budget(self):
    q = jnp.ones((12, 4, 2, 8))  # 4 * 8 * 8 float32 weights = 1 KiB a sample

    def loop_lengths(**kwargs):
      jaxpr = jax.make_jaxpr(
          lambda x: layers.stacked_attention(x, x, x, **kwargs))(q)
      return [e.params["length"] for e in jaxpr.jaxpr.eqns
              if e.primitive.name == "scan"]

    self.assertEqual(loop_lengths(), [])  # unchunked by default
    self.assertEqual(loop_lengths(chunk_bytes=3 * 1024), [4])   # 4 x 3
    self.assertEqual(loop_lengths(chunk_bytes=5 * 1024), [3])   # 3 x 4 (divides 12)
    self.assertEqual(loop_lengths(chunk_bytes=100), [12])  # at least 1 sample
    self.assertEqual(loop_lengths(chunk_bytes=12 * 1024), [])
    with self.assertRaisesRegex(ValueError, "chunk_bytes must be positive"):
      layers.stacked_attention(q, q, q, chunk_bytes=0)


class DropoutMaskTest(parameterized.TestCase):

  @parameterized.parameters(0.2, 0.5, 0.9)
  def test_keep_rate_values_and_independence(self, rate):
    shape = (8, 67, 67, 4)
    m = np.asarray(layers.dropout_mask(jax.random.key(0), shape, rate))
    self.assertEqual(m.shape, shape)
    np.testing.assert_allclose(np.unique(m), [0.0, 1.0 / (1.0 - rate)],
                               rtol=1e-6)
    keep = (m > 0).ravel().astype(np.float64)
    n = keep.size
    sigma = np.sqrt(rate * (1 - rate) / n)
    self.assertLess(abs(keep.mean() - (1 - rate)), 5 * sigma)
    # Neighbours (along every axis) and another key are uncorrelated.
    other = (np.asarray(layers.dropout_mask(jax.random.key(1), shape, rate))
             > 0).ravel()
    for lag in (1, 4, 67 * 4, 67 * 67 * 4):
      self.assertLess(abs(np.corrcoef(keep[:-lag], keep[lag:])[0, 1]),
                      5 / np.sqrt(n))
    self.assertLess(abs(np.corrcoef(keep, other)[0, 1]), 5 / np.sqrt(n))
    # Inverted dropout keeps the mean.
    self.assertLess(abs(m.mean() - 1.0), 5 * sigma / (1 - rate))

  def test_same_key_same_mask_and_bad_rate(self):
    a = layers.dropout_mask(jax.random.key(3), (5, 7), 0.3)
    np.testing.assert_array_equal(a, layers.dropout_mask(jax.random.key(3),
                                                         (5, 7), 0.3))
    self.assertTrue(bool(jnp.all(layers.dropout_mask(jax.random.key(3),
                                                     (5, 7), 0.0) == 1.0)))
    with self.assertRaisesRegex(ValueError, r"rate must be in \[0, 1\)"):
      layers.dropout_mask(jax.random.key(3), (5, 7), 1.0)


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

  @parameterized.parameters(*HNP_SIZES)
  def test_hnp_linear_equivariant(self, *sizes):
    spec = dws_jax.WeightSpaceSpec.siren(sizes)
    for last_hidden_bias in (False, True):
      assert_equivariant(self, nfn.HNPLinear(spec, 4, last_hidden_bias), spec,
                         3, jax.random.key(3))

  @parameterized.parameters("input", "output")
  def test_hnp_linear_not_equivariant_to_io_permutations(self, side):
    # The input and output neurons are fixed for HNP: a cyclic shift of them
    # commutes with the NP layer but not with the HNP layer.
    spec = dws_jax.WeightSpaceSpec.siren((3, 5, 6, 4))
    size = spec.layer_sizes[0 if side == "input" else -1]
    perm = jnp.roll(jnp.arange(size), 1)
    fws = random_features(jax.random.key(0), spec, 2, 3)
    for cls, equivariant in ((nfn.NPLinear, True), (nfn.HNPLinear, False)):
      module = cls(spec, 4)
      key = jax.random.key(1)
      variables = random_params(key, jax.eval_shape(module.init, key, fws))
      out = module.apply(variables, fws)
      of_permuted = module.apply(variables, permute_io(fws, perm, side))
      permuted = permute_io(out, perm, side)
      diff = max(float(jnp.max(jnp.abs(a - b))) for a, b in
                 zip(jax.tree.leaves(of_permuted), jax.tree.leaves(permuted)))
      scale = max(float(jnp.max(jnp.abs(x))) for x in jax.tree.leaves(out))
      if equivariant:
        self.assertLess(diff, 1e-5 * scale, msg=cls.__name__)
      else:
        self.assertGreater(diff, 0.05 * scale, msg=cls.__name__)

  def test_hnp_linear_one_layer(self):
    # No hidden neurons: one dense map of the whole weight space per tensor.
    spec = dws_jax.WeightSpaceSpec.siren((3, 2))
    fws = random_features(jax.random.key(0), spec, 2, 3)
    module = nfn.HNPLinear(spec, 4)
    variables = module.init(jax.random.key(1), fws)
    out = module.apply(variables, fws)
    self.assertEqual(out.weights[0].shape, (2, 3, 2, 4))
    self.assertEqual(out.biases[0].shape, (2, 2, 4))
    kernel = variables["params"]["w0"]["kernel"]
    self.assertEqual(kernel.shape, (3 * (3 * 2 + 2), 3 * 2 * 4))

  def test_hnp_linear_bad_input(self):
    spec = dws_jax.WeightSpaceSpec.siren((2, 8, 8, 1))
    module = nfn.HNPLinear(spec, 4)
    shallow = random_features(jax.random.key(0),
                              dws_jax.WeightSpaceSpec.siren((2, 8, 1)), 1, 3)
    with self.assertRaisesRegex(ValueError, "2 weights.*spec has 3 layers"):
      module.init(jax.random.key(0), shallow)
    wide = random_features(jax.random.key(0),
                           dws_jax.WeightSpaceSpec.siren((2, 8, 9, 1)), 1, 3)
    with self.assertRaisesRegex(ValueError, r"weights\[1\] has shape"):
      module.init(jax.random.key(0), wide)

  @parameterized.product(sizes=HNP_SIZES + [(3, 2)],
                         reduction=("mean", "max"))
  def test_hnp_pool_invariant(self, sizes, reduction):
    spec = dws_jax.WeightSpaceSpec.siren(sizes)
    fws = random_features(jax.random.key(0), spec, 2, 3)
    pooled = nfn.hnp_pool(fws, spec, reduction)
    num, d_in, d_out = spec.num_layers, sizes[0], sizes[-1]
    width = (2 * num - 3 + d_in + 2 * d_out if num > 1
             else (d_in + 1) * d_out)
    self.assertEqual(pooled.shape, (2, 3 * width))
    # Same as the DWSNets pooling, up to the order of the features.
    np.testing.assert_allclose(
        np.sort(pooled, axis=-1),
        np.sort(layers.invariant_pool(fws, spec, reduction), axis=-1))
    perms = random_perms(jax.random.key(1), spec)
    np.testing.assert_allclose(
        nfn.hnp_pool(permute_features(fws, perms, spec), spec, reduction),
        pooled, atol=1e-5)


if __name__ == "__main__":
  absltest.main()
