"""Native XLA:CPU kernels of the relational transformer equal plain XLA.

The kernels are the XLA:CPU plugin's; conftest.py registers it
(``dws_jax.xla_cpu.register()``), so ``kernels="xla_cpu"`` models exist here.
"""

import re

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np
import optax

import dws_jax
from dws_jax import models
from dws_jax import parallel
from dws_jax.models import relational_transformer as rt
from dws_jax.xla_cpu.native import build
from dws_jax.xla_cpu.native import edge_mlp as em
from dws_jax.xla_cpu.native import relational_attention as ra

skip_without_native = absltest.skipUnless(
    build.available(), "native kernels not built (no C++ compiler?)")


def random_args(key, b, n, h, c, p, scale=1.0):
  """q_n, k_n, v_n, edges, w_edge, w_v and an output cotangent."""
  keys = jax.random.split(key, 7)
  shapes = [(b, n, h, 16)] * 3 + [(b, n, n, c), (c, p, h, 16), (c, h, 16),
                                   (b, n, h, 16)]
  scales = [scale] * 4 + [0.2, 0.2, 1.0]
  return [s * jax.random.normal(k, shape)
          for k, shape, s in zip(keys, shapes, scales)]


@skip_without_native
class RelationalAttentionTest(parameterized.TestCase):

  @parameterized.parameters(
      (2, 67, 8, 32, 3),  # the transformer's defaults on 2->32->32->1 INRs
      (3, 5, 2, 32, 2),  # no value modulation
      (2, 1, 1, 16, 3),  # a graph of one node
      (1, 9, 3, 64, 3),  # n not a multiple of four rows
      (2, 6, 2, 48, 2),
      (1, 18, 1, 16, 3),  # n past one vector of logits
  )
  def test_values_and_gradients_match_xla(self, b, n, h, c, p):
    *args, ct = random_args(jax.random.key(n), b, n, h, c, p)
    loss = lambda fn: lambda *a: jnp.sum(fn(*a, 0.3) * ct)
    got = jax.jit(jax.value_and_grad(loss(ra.relational_attention),
                                     argnums=range(6)))(*args)
    want = jax.value_and_grad(loss(rt.xla_relational_attention),
                              argnums=range(6))(*args)
    np.testing.assert_allclose(
        jax.jit(lambda *a: ra.relational_attention(*a, 0.3))(*args),
        rt.xla_relational_attention(*args, 0.3), rtol=1e-5, atol=1e-5)
    for a, w in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
      scale = float(jnp.max(jnp.abs(w)))
      np.testing.assert_allclose(a, w, rtol=1e-4, atol=2e-5 * scale)

  def test_peaked_softmax_stays_finite_and_exact(self):
    *args, ct = random_args(jax.random.key(1), 2, 12, 2, 32, 3, scale=8.0)
    got = ra.relational_attention(*args, 1.0)
    self.assertTrue(bool(jnp.all(jnp.isfinite(got))))
    np.testing.assert_allclose(got, rt.xla_relational_attention(*args, 1.0),
                               rtol=1e-4, atol=1e-4)
    grads = jax.grad(lambda q: jnp.sum(
        ra.relational_attention(q, *args[1:], 1.0) * ct))(args[0])
    self.assertTrue(bool(jnp.all(jnp.isfinite(grads))))

  def test_vmap_equals_per_slice(self):
    keys = jax.random.split(jax.random.key(2), 3)
    stacked = [random_args(k, 2, 5, 2, 16, 3)[:6] for k in keys]
    batched = [jnp.stack(xs) for xs in zip(*stacked)]
    got = jax.vmap(lambda *a: ra.relational_attention(*a, 0.5))(*batched)
    for i, args in enumerate(stacked):
      np.testing.assert_allclose(got[i], ra.relational_attention(*args, 0.5),
                                 rtol=1e-6, atol=1e-6)

  def test_sharded_over_the_data_axis_equals_one_device(self):
    mesh = parallel.make_mesh()
    self.assertGreater(mesh.devices.size, 1)
    *args, ct = random_args(jax.random.key(3), 16, 6, 2, 16, 3)
    loss = lambda *a: jnp.sum(ra.relational_attention(*a, 0.5) * ct)
    want = jax.grad(loss, argnums=range(6))(*args)
    sharded = [parallel.put_global(x, parallel.data_sharded(mesh))
               if x.shape[0] == 16 else x for x in args]

    def step(*a):
      with jax.sharding.use_abstract_mesh(mesh.abstract_mesh):
        return jax.grad(loss, argnums=range(6))(*a)

    text = jax.jit(step).lower(*sharded).as_text()
    # Each device runs the kernel on its 2 rows; no gather of the batch.
    self.assertTrue(bool(re.search(
        r"custom_call @dws_jax_relational_attention_bwd\(.*"
        r"tensor<2x6x6x16xf32>", text)))
    self.assertNotIn("all-gather", text)
    got = jax.jit(step)(*sharded)
    for a, b in zip(got, want):
      np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)

  @parameterized.parameters(
      (dict(q_n=(2, 4, 2, 8)), r"q_n has shape \(2, 4, 2, 8\)"),
      (dict(edges=(2, 4, 5, 32)), r"edges has shape \(2, 4, 5, 32\)"),
      (dict(w_edge=(32, 3, 1, 16)), r"w_edge has shape"),
      (dict(edges=(2, 4, 4, 8), w_edge=(8, 3, 2, 16), w_v=(8, 2, 16)),
       "edge width 8"),
      (dict(w_edge=(32, 4, 2, 16)), "2 or 3"),
  )
  def test_bad_shapes_are_named(self, shapes, message):
    want = dict(q_n=(2, 4, 2, 16), k_n=(2, 4, 2, 16), v_n=(2, 4, 2, 16),
                edges=(2, 4, 4, 32), w_edge=(32, 3, 2, 16), w_v=(32, 2, 16))
    want.update(shapes)
    args = [jnp.zeros(s) for s in want.values()]
    with self.assertRaisesRegex(ValueError, message):
      ra.relational_attention(*args, 1.0)

  def test_bad_dtype_is_named(self):
    args = [jnp.zeros(s) for s in ((2, 4, 2, 16),) * 3 + (
        (2, 4, 4, 16), (16, 3, 2, 16), (16, 2, 16))]
    args[3] = args[3].astype(jnp.bfloat16)
    with self.assertRaisesRegex(ValueError, "edges must be float32"):
      ra.relational_attention(*args, 1.0)

  def test_supported_shapes(self):
    q, e, w = jnp.zeros((2, 4, 8, 16)), jnp.zeros((2, 4, 4, 32)), jnp.zeros(
        (32, 3, 8, 16))
    self.assertTrue(ra.supported(q, e, w))
    self.assertFalse(ra.supported(jnp.zeros((2, 4, 8, 8)), e, w))
    self.assertFalse(ra.supported(q, jnp.zeros((2, 4, 4, 24)), w))
    self.assertFalse(ra.supported(q, e, w.astype(jnp.bfloat16)))

  @parameterized.parameters(False, True)  # eval; training with dropout
  def test_transformer_with_xla_cpu_kernels_equals_plain_xla(self, train):
    spec = dws_jax.WeightSpaceSpec.siren((2, 8, 8, 1))
    ws = dws_jax.init_weight_space(jax.random.key(0), spec, "siren", (6,))
    labels = jnp.arange(6) % 10

    def value_and_grad(kernels):
      model = models.get("relational_transformer", spec=spec, num_classes=10,
                         d_node=32, d_edge=16, d_attn_hid=32, n_heads=2,
                         d_node_hid=32, d_edge_hid=32, d_out_hid=32,
                         n_layers=2, kernels=kernels)
      self.assertIn(f"kernels = '{kernels}'", repr(model))
      params = model.init(jax.random.key(1), ws)
      loss = lambda p: optax.softmax_cross_entropy_with_integer_labels(
          model.apply(p, ws, train=train,
                      rngs={"dropout": jax.random.key(2)}), labels).mean()
      text = jax.jit(loss).lower(params).as_text()
      native = kernels == "xla_cpu"
      self.assertEqual("dws_jax_relational_attention" in text, native)
      self.assertEqual("dws_jax_edge_mlp" in text, native)
      return jax.value_and_grad(loss)(params)

    got, want = value_and_grad("xla_cpu"), value_and_grad("xla")
    for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
      np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)

  def test_unsupported_widths_use_plain_xla(self):
    spec = dws_jax.WeightSpaceSpec.siren((2, 8, 1))
    model = models.get("relational_transformer", spec=spec, num_classes=3,
                       d_node=16, d_edge=16, d_attn_hid=16, n_heads=2,
                       d_node_hid=16, d_edge_hid=16, d_out_hid=16, n_layers=2)
    ws = dws_jax.init_weight_space(jax.random.key(0), spec, "siren", (2,))
    self.assertEqual(model.kernels, "xla_cpu")
    params = model.init(jax.random.key(1), ws)
    text = jax.jit(model.apply).lower(params, ws).as_text()
    self.assertNotIn("dws_jax_relational_attention", text)  # heads 8 wide
    self.assertNotIn("dws_jax_edge_mlp", text)  # edge MLP hidden width 16
    self.assertTrue(bool(jnp.all(jnp.isfinite(model.apply(params, ws)))))


def random_edge_mlp(key, b, n, c, f, dropout):
  """edges, s, t, params, masks and an output cotangent of the edge update."""
  keys = iter(jax.random.split(key, 20))
  edges = jax.random.normal(next(keys), (b, n, n, c))
  s, t = (jax.random.normal(next(keys), (b, n, f)) for _ in range(2))
  params = em.EdgeMlpParams(*(
      (1.0 if len(shape) == 1 else 1.0 / np.sqrt(shape[0]))
      * jax.random.normal(next(keys), shape)
      for shape in em.param_shapes(c, f)))
  masks = None
  if dropout:
    masks = tuple(1.25 * jax.random.bernoulli(next(keys), 0.8, edges.shape)
                  for _ in range(2))
  return edges, s, t, params, masks, jax.random.normal(next(keys), edges.shape)


@skip_without_native
class EdgeMlpTest(parameterized.TestCase):

  @parameterized.parameters(
      (2, 67, 32, 64, True),  # the transformer's defaults, training
      (2, 67, 32, 64, False),
      (3, 5, 16, 32, True),
      (1, 1, 64, 128, False),  # a graph of one node
      (2, 17, 32, 128, True),  # n past one tile of 16 edges
      (1, 6, 64, 32, False),
  )
  def test_values_and_gradients_match_xla(self, b, n, c, f, dropout):
    edges, s, t, params, masks, ct = random_edge_mlp(
        jax.random.key(n + c), b, n, c, f, dropout)
    loss = lambda fn: lambda e, s, t, p: jnp.sum(fn(e, s, t, p, masks) * ct)
    got = jax.jit(jax.value_and_grad(loss(em.edge_mlp), argnums=range(4)))(
        edges, s, t, params)
    want = jax.value_and_grad(loss(rt.xla_edge_mlp), argnums=range(4))(
        edges, s, t, params)
    np.testing.assert_allclose(
        jax.jit(em.edge_mlp)(edges, s, t, params, masks),
        rt.xla_edge_mlp(edges, s, t, params, masks), rtol=1e-5, atol=1e-5)
    for a, w in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
      scale = float(jnp.max(jnp.abs(w)))
      np.testing.assert_allclose(a, w, rtol=1e-4, atol=2e-5 * scale)

  @parameterized.parameters(True, False)
  def test_sharded_over_the_data_axis_equals_one_device(self, dropout):
    mesh = parallel.make_mesh()
    edges, s, t, params, masks, ct = random_edge_mlp(
        jax.random.key(3), 16, 5, 16, 32, dropout)
    loss = lambda e, s, t, p, m: jnp.sum(em.edge_mlp(e, s, t, p, m) * ct)
    want = jax.grad(loss, argnums=range(4))(edges, s, t, params, masks)
    put = lambda x: parallel.put_global(x, parallel.data_sharded(mesh))
    args = (put(edges), put(s), put(t), params,
            None if masks is None else tuple(map(put, masks)))

    def step(*a):
      with jax.sharding.use_abstract_mesh(mesh.abstract_mesh):
        return jax.grad(loss, argnums=range(4))(*a)

    text = jax.jit(step).lower(*args).as_text()
    # Each device runs the kernel on its 2 rows; no gather of the batch.
    self.assertTrue(bool(re.search(
        r"custom_call @dws_jax_edge_mlp_bwd\(.*tensor<2x5x5x16xf32>", text)))
    self.assertNotIn("all-gather", text)
    got = jax.jit(step)(*args)
    for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
      np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)

  def test_bad_input_is_named(self):
    edges, s, t, params, masks, _ = random_edge_mlp(
        jax.random.key(0), 2, 4, 16, 32, True)
    with self.assertRaisesRegex(ValueError, r"edges must be \(batch, n, n, c"):
      em.edge_mlp(edges[:, :3], s, t, params)
    with self.assertRaisesRegex(ValueError, r"t has shape \(2, 3, 32\)"):
      em.edge_mlp(edges, s, t[:, :3], params)
    with self.assertRaisesRegex(ValueError, "hidden width 48"):
      em.edge_mlp(edges, jnp.zeros((2, 4, 48)), jnp.zeros((2, 4, 48)), params)
    with self.assertRaisesRegex(ValueError, r"parameter k1 has shape"):
      em.edge_mlp(edges, s, t, params._replace(k1=params.k1[:, :8]))
    with self.assertRaisesRegex(ValueError, r"mask1 has shape"):
      em.edge_mlp(edges, s, t, params, (masks[0], masks[1][:1]))
    with self.assertRaisesRegex(ValueError, "s must be float32"):
      em.edge_mlp(edges, s.astype(jnp.bfloat16), t, params)

  def test_benchmark_kernels_agree_with_the_plain_xla_path(self):
    # pylint: disable-next=g-import-not-at-top
    from dws_jax.benchmarks import graph_kernels
    rows = graph_kernels.run(batch=2, steps=1)
    self.assertEqual([r["kernel"] for r in rows],
                     ["relational attention", "edge update"])
    for row in rows:
      self.assertLess(row["max_rel_err"], 1e-4, row)

  def test_supported_shapes(self):
    e, s = jnp.zeros((2, 4, 4, 32)), jnp.zeros((2, 4, 64))
    self.assertTrue(em.supported(e, s))
    self.assertFalse(em.supported(jnp.zeros((2, 4, 4, 24)), s))
    self.assertFalse(em.supported(e, jnp.zeros((2, 4, 48))))
    self.assertFalse(em.supported(e.astype(jnp.bfloat16), s))


if __name__ == "__main__":
  absltest.main()
