"""Tests of the weight-space models: invariance, counts, registry, training."""

import os
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np
import optax

import dws_jax
from dws_jax import fitting
from dws_jax import models
from dws_jax.data import fashion_mnist

# DWSNets INR, shallow, deep 3-D, CIFAR-10-like RGB, 3-D occupancy.
SIZES = [(2, 32, 32, 1), (2, 16, 1), (3, 8, 8, 8, 2), (2, 16, 16, 3), (3, 16, 16, 1)]
# Small configs keep compilation short; the defaults are checked by count.
SMALL = {
    "dwsnet": dict(hidden_features=8, n_hidden=1, num_heads=2),
    "relational_transformer": dict(d_node=16, d_edge=8, d_attn_hid=16,
                                   d_node_hid=16, d_edge_hid=16, d_out_hid=16,
                                   n_layers=2, n_heads=2, fourier_features=16),
    "nfn_np": dict(hidden_features=16, num_layers=2, head_hidden=32),
    "nfn_hnp": dict(hidden_features=16, num_layers=2, head_hidden=32),
    "mlp": dict(hidden_features=64),
    "inr2vec_transformer": dict(num_layers=2, num_heads=2, ff_features=32),
}
NUM_INRS = 256
BATCH = 32
# Training test: learning rate, steps and config changes per model.
TRAIN = {
    "dwsnet": (1e-2, 300, {}),
    "nfn_np": (3e-3, 300, {}),
    "nfn_hnp": (3e-3, 600, {}),
    "mlp": (1e-3, 100, {}),
    "inr2vec_transformer": (1e-3, 200, dict(dropout_rate=0.0)),
}


def random_params(key, shapes, std=0.3):
  leaves, treedef = jax.tree.flatten(shapes)
  keys = jax.random.split(key, len(leaves))
  return jax.tree.unflatten(treedef, [
      std * jax.random.normal(k, s.shape, s.dtype) for k, s in zip(keys, leaves)])


def random_ws(key, spec, batch):
  return dws_jax.init_weight_space(key, spec, "siren", (batch,)).map(
      lambda x: x + 0.05 * jax.random.normal(key, x.shape))


def random_perms(key, spec, batch):
  keys = jax.random.split(key, max(1, len(spec.permutations)))
  return [jax.vmap(lambda k, n=p.size: jax.random.permutation(k, n))(
      jax.random.split(k, batch)) for k, p in zip(keys, spec.permutations)]


def fitted_inrs():
  """256 real Fashion-MNIST training images fitted once, cached on disk."""
  path = os.path.join(tempfile.gettempdir(), "dws_jax_models_test_inrs_v1.npz")
  spec = dws_jax.WeightSpaceSpec.siren((2, 32, 32, 1))
  if os.path.exists(path):
    data = np.load(path)
    flat, labels = data["flat"], data["labels"]
  else:
    images, labels = fashion_mnist.load_split("train")
    images, labels = images[:NUM_INRS], labels[:NUM_INRS]
    targets = jnp.asarray(images.reshape(NUM_INRS, 784, 1))
    result = fitting.fit_inrs(jax.random.key(0), targets,
                              dws_jax.make_grid(28), spec, steps=300)
    flat = np.asarray(dws_jax.to_flat(result.ws))
    np.savez(path, flat=flat, labels=labels)
  return spec, dws_jax.from_flat(jnp.asarray(flat), spec), jnp.asarray(labels)


class RegistryTest(parameterized.TestCase):

  def test_names_and_aliases(self):
    self.assertEqual(set(models.names()),
                     {"dwsnet", "relational_transformer", "nfn_np", "nfn_hnp",
                      "mlp", "inr2vec_transformer"})
    spec = dws_jax.WeightSpaceSpec.siren((2, 8, 1))
    self.assertIsInstance(models.get("rtransformer", spec=spec),
                          models.RelationalTransformer)
    self.assertIsInstance(models.get("wsl", spec=spec), models.Inr2VecTransformer)

  def test_errors(self):
    spec = dws_jax.WeightSpaceSpec.siren((2, 8, 1))
    with self.assertRaisesRegex(ValueError, "unknown model 'gnn'"):
      models.get("gnn", spec=spec)
    with self.assertRaisesRegex(ValueError, "no option.*hidden_dim"):
      models.get("dwsnet", spec=spec, hidden_dim=3)
    ws = random_ws(jax.random.key(0), spec, 2)
    with self.assertRaisesRegex(ValueError, "reduction"):
      jax.eval_shape(models.get("dwsnet", spec=spec, reduction="median").init,
                     jax.random.key(0), ws)
    other = random_ws(jax.random.key(0), dws_jax.WeightSpaceSpec.siren((2, 9, 1)), 2)
    with self.assertRaisesRegex(ValueError, "expected batch"):
      jax.eval_shape(models.get("mlp", spec=spec).init, jax.random.key(0), other)
    uneven = dws_jax.WeightSpaceSpec.siren((2, 8, 4, 1))
    with self.assertRaisesRegex(ValueError, "hidden widths equal"):
      jax.eval_shape(models.get("wsl", spec=uneven, num_heads=2).init,
                     jax.random.key(0), random_ws(jax.random.key(0), uneven, 2))

  @parameterized.parameters(
      ("dwsnet", 76_970), ("relational_transformer", 376_586),
      ("inr2vec_transformer", 569_002 + 32))
  def test_official_param_counts(self, name, expected):
    spec = dws_jax.WeightSpaceSpec.siren((2, 32, 32, 1))
    model = models.get(name, spec=spec, num_classes=10)
    shapes = jax.eval_shape(
        model.init, {"params": jax.random.key(0), "dropout": jax.random.key(1)},
        random_ws(jax.random.key(0), spec, 2))
    self.assertEqual(models.param_count(shapes), expected)
    self.assertEqual(expected - (32 if name == "inr2vec_transformer" else 0),
                     models.OFFICIAL_PARAM_COUNTS[name])

  @parameterized.parameters(("nfn_np", 616_458, {}), ("nfn_hnp", 929_482, {}),
                            ("nfn_hnp", 937_738, dict(last_hidden_bias=True)))
  def test_nfn_param_counts(self, name, expected, kwargs):
    # nfn_hnp: the three layers have 7,232 + 2 * 402,368 parameters, the sizes
    # of the Conv1d/Linear maps that nfn.layers.HNPLinear's constructor makes
    # for this network, plus the 117,514 of the head. The b_{L-2} -> W_{L-1}
    # term adds 8,256 (64 + 2 * 64 * 64).
    spec = dws_jax.WeightSpaceSpec.siren((2, 32, 32, 1))
    model = models.get(name, spec=spec, num_classes=10, **kwargs)
    shapes = jax.eval_shape(model.init, jax.random.key(0),
                            random_ws(jax.random.key(0), spec, 2))
    self.assertEqual(models.param_count(shapes), expected)


class InvarianceTest(parameterized.TestCase):

  @parameterized.product(name=models.INVARIANT, sizes=SIZES)
  def test_invariant(self, name, sizes):
    spec = dws_jax.WeightSpaceSpec.siren(sizes)
    config = {} if (name == "dwsnet" and sizes == SIZES[0]) else SMALL[name]
    model = models.get(name, spec=spec, num_classes=5, **config)
    ws = random_ws(jax.random.key(0), spec, 4)
    shapes = jax.eval_shape(model.init, jax.random.key(1), ws)
    variables = random_params(jax.random.key(2), shapes)
    apply = jax.jit(model.apply)
    logits = apply(variables, ws)
    self.assertEqual(logits.shape, (4, 5))
    permuted = dws_jax.permute(ws, random_perms(jax.random.key(3), spec, 4), spec)
    scale = float(jnp.max(jnp.abs(logits)))
    self.assertGreater(scale, 1e-3)
    np.testing.assert_allclose(apply(variables, permuted), logits,
                               atol=1e-4 * max(1.0, scale), rtol=0)
    # Sanity: different INRs give different logits.
    self.assertGreater(float(jnp.max(jnp.abs(logits[0] - logits[1]))),
                       1e-3 * scale)

  @parameterized.parameters("mlp", "inr2vec_transformer")
  def test_baselines_not_invariant(self, name):
    spec = dws_jax.WeightSpaceSpec.siren((2, 32, 32, 1))
    model = models.get(name, spec=spec, **SMALL[name])
    ws = random_ws(jax.random.key(0), spec, 4)
    variables = model.init(jax.random.key(1), ws)
    logits = model.apply(variables, ws)
    permuted = dws_jax.permute(ws, random_perms(jax.random.key(3), spec, 4), spec)
    diff = float(jnp.max(jnp.abs(model.apply(variables, permuted) - logits)))
    self.assertGreater(diff, 0.05 * float(jnp.max(jnp.abs(logits))))

  def test_embed_and_batch_norm(self):
    spec = dws_jax.WeightSpaceSpec.siren((2, 16, 1))
    model = models.get("dwsnet", spec=spec, batch_norm=True, dropout_rate=0.1,
                       **SMALL["dwsnet"])
    ws = random_ws(jax.random.key(0), spec, 4)
    variables = model.init({"params": jax.random.key(1),
                            "dropout": jax.random.key(2)}, ws)
    self.assertIn("batch_stats", variables)
    logits, updates = model.apply(variables, ws, train=True,
                                  rngs={"dropout": jax.random.key(3)},
                                  mutable=["batch_stats"])
    self.assertEqual(logits.shape, (4, 10))
    self.assertIn("batch_stats", updates)
    emb = model.apply(variables, ws, method=model.embed)
    # 8 features * (2L - 3 + d_0 + 2 d_L) with L = 2, d_0 = 2, d_L = 1.
    self.assertEqual(emb.shape, (4, 8 * (1 + 2 + 2)))


def train_losses(model, ws, labels, lr, steps, batch=None):
  """Loss on ``(ws, labels)`` before and after ``steps`` Adam steps.

  Each step trains on ``batch`` INRs drawn without replacement (all of them
  when ``batch`` is None), with dropout on; the losses are without dropout.
  """
  key = jax.random.key(0)
  params = model.init({"params": key, "dropout": key}, ws[:2])["params"]
  tx = optax.adam(lr)
  opt_state = tx.init(params)
  num = labels.shape[0]

  def loss_fn(params, ws, labels, key, train):
    logits = model.apply({"params": params}, ws, train=train,
                         rngs={"dropout": key})
    return optax.softmax_cross_entropy_with_integer_labels(
        logits, labels).mean()

  # Data are arguments, never closed-over constants (XLA would fold them).
  @jax.jit
  def step(params, opt_state, ws, labels, key):
    if batch is not None:
      idx = jax.random.choice(key, num, (batch,), replace=False)
      ws, labels = ws[idx], labels[idx]
    grads = jax.grad(loss_fn)(params, ws, labels, key, True)
    updates, opt_state = tx.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state

  evaluate = jax.jit(lambda p, w, l: loss_fn(p, w, l, key, False))
  initial = float(evaluate(params, ws, labels))
  for i in range(steps):
    params, opt_state = step(params, opt_state, ws, labels,
                             jax.random.fold_in(key, i))
  return initial, float(evaluate(params, ws, labels))


class TrainingTest(parameterized.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.spec, cls.ws, cls.labels = fitted_inrs()

  # The relational transformer's training test (overfitting a few INRs) is in
  # relational_transformer_test.py.
  @parameterized.parameters(*sorted(TRAIN))
  def test_loss_goes_down(self, name):
    lr, steps, extra = TRAIN[name]
    model = models.get(name, spec=self.spec, num_classes=10,
                       **{**SMALL[name], **extra})
    # Per-tensor scalar normalisation (keeps every symmetry).
    ws = jax.tree.map(lambda x: x / jnp.std(x), self.ws)
    labels = self.labels
    initial, final = train_losses(model, ws, labels, lr, steps, BATCH)
    self.assertLess(final, 0.7 * initial, msg=f"{name}: {initial} -> {final}")


if __name__ == "__main__":
  absltest.main()
