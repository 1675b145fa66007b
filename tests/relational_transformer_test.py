"""Tests of the relational transformer: hand-written gradients and training."""

import importlib.util
import os
import sys

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np

import dws_jax
from dws_jax import models
from dws_jax.models import relational_transformer as rt


def _load_models_test():
  """The INR fixtures and small configs of ``models_test.py`` (same folder)."""
  name = "dws_jax_models_test_fixtures"
  if name not in sys.modules:
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(os.path.dirname(__file__), "models_test.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
  return sys.modules[name]


models_test = _load_models_test()


class GradientTest(parameterized.TestCase):

  @parameterized.parameters(2, 3)
  def test_attention_vjp_matches_autodiff(self, projections):
    """The hand-written backward pass equals autodiff of the forward pass."""
    b, n, h, d, c = 2, 5, 2, 3, 4
    keys = jax.random.split(jax.random.key(1), 7)
    args = (jax.random.normal(keys[0], (b, n, h, d)),
            jax.random.normal(keys[1], (b, n, h, d)),
            jax.random.normal(keys[2], (b, n, h, d)),
            jax.random.normal(keys[3], (b, n, n, c)),
            jax.random.normal(keys[4], (c, projections, h, d)),
            jax.random.normal(keys[5], (c, h, d)))
    ct = jax.random.normal(keys[6], (b, n, h, d))
    argnums = tuple(range(6))
    got = jax.grad(
        lambda *a: jnp.sum(rt.xla_relational_attention(*a, 0.3) * ct),
        argnums)(*args)
    want = jax.grad(lambda *a: jnp.sum(rt._attention_fwd(*a, 0.3)[0] * ct),
                    argnums)(*args)
    for g, w in zip(got, want):
      np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4)

  @parameterized.parameters((3, 4), (16, 32))  # the second: kernels='xla_cpu'
  def test_attention_matches_per_head_loop(self, d, c):
    """All heads at once equals the reference's per-head formula."""
    b, n, h = 2, 5, 2
    keys = jax.random.split(jax.random.key(2), 5)
    q_n, k_n, v_n = (jax.random.normal(k, (b, n, h, d)) for k in keys[:3])
    edges = jax.random.normal(keys[3], (b, n, n, c))
    kernel = jax.random.normal(keys[4], (c, h, 4, d))  # [q, k, v, m] per head
    scale = 0.3
    got = rt.relational_attention(q_n, k_n, v_n, edges,
                                  jnp.moveaxis(kernel[:, :, (0, 1, 3)], 2, 1),
                                  kernel[:, :, 2], scale)
    for head in range(h):
      e = edges @ kernel[:, head].reshape(c, 4 * d)
      q = q_n[:, :, None, head] + e[..., :d]
      k = k_n[:, None, :, head] + e[..., d:2 * d]
      v = e[..., 2 * d:3 * d] + v_n[:, None, :, head] * e[..., 3 * d:]
      attn = jax.nn.softmax(scale * jnp.sum(q * k, -1), axis=-1)
      np.testing.assert_allclose(got[:, :, head],
                                 jnp.einsum("bij,bijd->bid", attn, v),
                                 rtol=1e-4, atol=1e-4)


class RematTest(absltest.TestCase):

  def test_remat_gives_the_same_loss_and_gradients(self):
    spec = dws_jax.WeightSpaceSpec.siren((2, 8, 8, 1))
    ws = dws_jax.init_weight_space(jax.random.key(0), spec, "siren", (4,))
    labels = jnp.arange(4) % 3
    kw = dict(spec=spec, num_classes=3, d_node=32, d_edge=16, d_attn_hid=32,
              n_heads=2, d_node_hid=32, d_edge_hid=32, d_out_hid=32,
              n_layers=2)
    plain = models.get("relational_transformer", **kw)
    remat = models.get("relational_transformer", remat=True, **kw)
    params = plain.init(jax.random.key(1), ws)

    def value_and_grad(model):
      def loss(p):
        logits = model.apply(p, ws, train=True,
                             rngs={"dropout": jax.random.key(2)})
        return -jnp.mean(jax.nn.log_softmax(logits)[jnp.arange(4), labels])
      return jax.jit(jax.value_and_grad(loss))(params)

    for a, b in zip(jax.tree.leaves(value_and_grad(remat)),
                    jax.tree.leaves(value_and_grad(plain))):
      np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


class TrainingTest(absltest.TestCase):

  def test_overfits_real_inrs(self):
    """Training loss on 16 real Fashion-MNIST INRs falls well below chance.

    Overfitting a small set (full batch, Adam 5e-3, the default dropout 0.2)
    fails if the model cannot learn. Sampling 32 of 256 INRs at 1e-3 for about
    a hundred steps (the other models' test) barely moves this model's loss:
    at that rate it needs many passes over each INR, not a broken model.
    """
    spec, ws, labels = models_test.fitted_inrs()
    ws = jax.tree.map(lambda x: x / jnp.std(x), ws[:16])
    labels = labels[:16]
    model = models.get("relational_transformer", spec=spec, num_classes=10,
                       **models_test.SMALL["relational_transformer"])
    initial, final = models_test.train_losses(model, ws, labels, 5e-3, 60)
    self.assertGreater(initial, 2.0)  # about log(10) at init
    self.assertLess(final, 0.4 * initial, msg=f"{initial} -> {final}")


if __name__ == "__main__":
  absltest.main()
