"""The kernel registry (dws_jax.models.kernels) and the models' attribute."""

from absl.testing import absltest
import jax
import jax.numpy as jnp
import numpy as np

import dws_jax
from dws_jax import models
from dws_jax.models import kernels
from dws_jax.models import layers
from dws_jax.models import relational_transformer as rt

FAKE = "fake_impl"
# conftest.py registers the XLA:CPU plugin (unless DWS_JAX_NATIVE=0).
needs_plugin = absltest.skipUnless(
    "xla_cpu" in kernels.known(), "kernels='xla_cpu' not registered")


class RegistryTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.addCleanup(kernels.unregister, FAKE)

  @needs_plugin
  def test_resolve_auto_known_and_unknown(self):
    # The tests run on the CPU backend.
    self.assertEqual(kernels.resolve("auto"), "xla_cpu")
    self.assertEqual(kernels.resolve("xla"), "xla")
    self.assertEqual(kernels.resolve("xla_cpu"), "xla_cpu")
    with self.assertRaisesRegex(ValueError, r"'nope'.*\('xla', 'xla_cpu'\)"):
      kernels.resolve("nope")
    kernels.register(FAKE, "materialize", lambda xs: None)
    self.assertEqual(kernels.resolve(FAKE), FAKE)
    self.assertIn(FAKE, kernels.known())

  def test_auto_is_xla_without_the_plugin(self):
    # pylint: disable-next=protected-access
    ops = kernels._REGISTRY.pop("xla_cpu", None)
    if ops is not None:
      # pylint: disable-next=protected-access
      self.addCleanup(kernels._REGISTRY.__setitem__, "xla_cpu", ops)
    self.assertEqual(kernels.resolve("auto"), "xla")
    with self.assertRaisesRegex(ValueError, "needs the XLA:CPU plugin"):
      kernels.resolve("xla_cpu")
    spec = dws_jax.WeightSpaceSpec.siren((2, 4, 1))
    self.assertEqual(models.get("dwsnet", spec=spec).kernels, "xla")

  def test_bad_registrations_are_refused(self):
    with self.assertRaisesRegex(ValueError, "unknown kernel op"):
      kernels.register(FAKE, "softmax", lambda: None)
    for name in ("xla", "auto"):
      with self.assertRaisesRegex(ValueError, "built in"):
        kernels.register(name, "materialize", lambda xs: None)
    with self.assertRaisesRegex(ValueError, "unknown kernel op"):
      kernels.call("xla", "softmax")

  def test_declining_fn_falls_back_to_xla(self):
    seen = []

    def decline(*args):
      seen.append(len(args))
      return None

    for op in kernels.OPS:
      kernels.register(FAKE, op, decline)
    b, n, h, c = 2, 5, 2, 4
    key = iter(jax.random.split(jax.random.key(0), 8))
    q_n, k_n, v_n = (jax.random.normal(next(key), (b, n, h, 3))
                     for _ in range(3))
    edges = jax.random.normal(next(key), (b, n, n, c))
    w_edge = jax.random.normal(next(key), (c, 3, h, 3))
    w_v = jax.random.normal(next(key), (c, h, 3))
    np.testing.assert_array_equal(
        rt.relational_attention(q_n, k_n, v_n, edges, w_edge, w_v, 0.5, FAKE),
        rt.relational_attention(q_n, k_n, v_n, edges, w_edge, w_v, 0.5, "xla"))
    x = jnp.arange(6.0).reshape(2, 3)
    self.assertIs(layers.materialize((x,), FAKE)[0], x)
    jobs = [(jax.random.normal(next(key), (b, n, 4)),) * 3 + (2,)]
    np.testing.assert_array_equal(
        layers.multi_sab_attention(jobs, kernels=FAKE)[0],
        layers.multi_sab_attention(jobs, kernels="xla")[0])
    self.assertEqual(seen, [7, 1, 3])  # attention, materialize, SAB

  def test_registered_fn_is_used(self):
    kernels.register(FAKE, "materialize", lambda xs: tuple(2 * x for x in xs))
    x = jnp.ones((2, 3))
    np.testing.assert_array_equal(layers.materialize((x,), FAKE)[0], 2 * x)
    np.testing.assert_array_equal(layers.materialize((x,), "xla")[0], x)


@needs_plugin
class ModelAttributeTest(absltest.TestCase):

  def test_get_resolves_auto_and_repr_shows_it(self):
    spec = dws_jax.WeightSpaceSpec.siren((2, 4, 1))
    for name in ("dwsnet", "relational_transformer"):
      model = models.get(name, spec=spec)
      self.assertEqual(model.kernels, "xla_cpu")
      self.assertIn("kernels = 'xla_cpu'", repr(model))
      model = models.get(name, spec=spec, kernels="xla")
      self.assertIn("kernels = 'xla'", repr(model))
      with self.assertRaisesRegex(ValueError, "unknown kernels 'gpu'"):
        models.get(name, spec=spec, kernels="gpu")
    # Models without kernels take no such option.
    with self.assertRaisesRegex(ValueError, "no option"):
      models.get("mlp", spec=spec, kernels="xla")

  def test_the_attribute_reaches_the_layers(self):
    spec = dws_jax.WeightSpaceSpec.siren((2, 4, 1))
    ws = dws_jax.init_weight_space(jax.random.key(0), spec, "siren", (2,))
    model = models.get("dwsnet", spec=spec, kernels="xla")
    params = model.init(jax.random.key(1), ws)
    text = jax.jit(model.apply).lower(params, ws).as_text()
    self.assertNotIn("custom_call", text)
    # The attribute is part of the module's identity (jit's cache key).
    self.assertEqual(model, models.get("dwsnet", spec=spec, kernels="xla"))
    self.assertNotEqual(model, models.get("dwsnet", spec=spec,
                                          kernels="xla_cpu"))


if __name__ == "__main__":
  absltest.main()
