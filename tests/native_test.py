"""Native XLA:CPU set attention: equals plain XLA attention; sharding; build.

The kernels are the XLA:CPU plugin's; conftest.py registers it
(``dws_jax.xla_cpu.register()``), so ``kernels="xla_cpu"`` models exist here.
"""

import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np
import optax

import dws_jax
from dws_jax import models
from dws_jax import parallel
from dws_jax.models import layers
from dws_jax.xla_cpu.native import build
from dws_jax.xla_cpu.native import materialize as mat
from dws_jax.xla_cpu.native import set_attention as sa

HAVE_NATIVE = build.available()
skip_without_native = absltest.skipUnless(
    HAVE_NATIVE, "native kernels not built (no C++ compiler?)")


def random_members(key, shapes, scale=2.0):
  keys = jax.random.split(key, 4 * len(shapes))
  return [[scale * jax.random.normal(keys[4 * i + r], s)
           for i, s in enumerate(shapes)] for r in range(4)]


def reference(qs, ks, vs):
  return [sa.reference_attention(q, k, v) for q, k, v in zip(qs, ks, vs)]


@skip_without_native
class SetAttentionTest(parameterized.TestCase):

  @parameterized.parameters(
      ([(4, 32, 8, 2), (4, 32, 3, 2)],),  # members with different heads
      ([(3, 17, 5, 1)],),  # n not a multiple of the 16 lanes
      ([(2, 1, 2, 3)],),  # a set of one element
      ([(2, 33, 40, 4)],),  # several head blocks per member
      ([(5, 16, 3, 5), (5, 16, 1, 5)],),
      ([(2, 12, 2, 8)],),
      ([(2, 3, 9, 4, 16)],),  # two batch axes
      ([(3, 20, 1, 32), (3, 20, 2, 32)],),
      ([(4, 7, 1, 6), (4, 7, 2, 6), (4, 7, 3, 6)],),
  )
  def test_values_and_gradients_match_softmax_attention(self, shapes):
    qs, ks, vs, gs = random_members(jax.random.key(0), shapes)
    got = jax.jit(sa.multi_set_attention)(qs, ks, vs)
    want = reference(qs, ks, vs)
    for a, b in zip(got, want):
      np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    vjp = lambda fn: jax.vjp(fn, qs, ks, vs)[1](list(gs))
    got = jax.jit(lambda: vjp(lambda *a: list(sa.multi_set_attention(*a))))()
    want = vjp(reference)
    scale = max(float(jnp.max(jnp.abs(b))) for b in jax.tree.leaves(want))
    for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
      np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-5 * scale)

  def test_peaked_softmax_stays_finite_and_exact(self):
    # Logits up to ~1e3: the row maximum shift keeps exp in range.
    qs, ks, vs, gs = random_members(jax.random.key(1), [(3, 24, 4, 2)],
                                    scale=20.0)
    got = sa.set_attention(qs[0], ks[0], vs[0])
    self.assertTrue(bool(jnp.all(jnp.isfinite(got))))
    np.testing.assert_allclose(got, reference(qs, ks, vs)[0], rtol=1e-4,
                               atol=1e-4)
    grads = jax.grad(lambda q: jnp.sum(sa.set_attention(q, ks[0], vs[0])
                                       * gs[0]))(qs[0])
    self.assertTrue(bool(jnp.all(jnp.isfinite(grads))))

  def test_vmap_equals_per_slice(self):
    qs, ks, vs, _ = random_members(jax.random.key(2), [(3, 2, 9, 2, 4)])
    got = jax.vmap(sa.set_attention)(qs[0], ks[0], vs[0])
    for i in range(3):
      np.testing.assert_allclose(
          got[i], sa.set_attention(qs[0][i], ks[0][i], vs[0][i]), rtol=1e-6,
          atol=1e-6)

  def test_sharded_over_the_data_axis_equals_one_device(self):
    mesh = parallel.make_mesh()
    self.assertGreater(mesh.devices.size, 1)
    qs, ks, vs, gs = random_members(jax.random.key(3), [(16, 10, 4, 2)] * 2)
    loss = lambda qs: sum(jnp.sum(o * g) for o, g in zip(
        sa.multi_set_attention(qs, ks, vs), gs))
    want = jax.grad(loss)(qs)
    sharded = parallel.put_global(qs, parallel.data_sharded(mesh))

    def step(qs):
      with jax.sharding.use_abstract_mesh(mesh.abstract_mesh):
        return jax.grad(loss)(qs)

    text = jax.jit(step).lower(sharded).as_text()
    # Each device runs the kernel on its 2 rows; no gather of the batch.
    self.assertTrue(bool(re.search(
        r"custom_call @dws_jax_set_attention_bwd\(.*tensor<2x10x4x2xf32>",
        text)))
    self.assertNotIn("all-gather", text)
    got = jax.jit(step)(sharded)
    for a, b in zip(got, want):
      np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)

  @parameterized.parameters(
      (dict(q=(2, 4, 2, 2), k=(2, 4, 2, 3)), r"k\[0\] has shape"),
      (dict(q=(2, 4, 2, 9)), "head width 9"),
      (dict(q=(4, 2)), r"must be \(batch\.\.\., n, heads, d\)"),
  )
  def test_bad_shapes_are_named(self, shapes, message):
    q = jnp.zeros(shapes["q"])
    k = jnp.zeros(shapes.get("k", shapes["q"]))
    with self.assertRaisesRegex(ValueError, message):
      sa.set_attention(q, k, k)

  def test_bad_dtype_and_member_mismatch_are_named(self):
    x = jnp.zeros((2, 4, 2, 2))
    with self.assertRaisesRegex(ValueError, "must be float32"):
      sa.set_attention(x.astype(jnp.bfloat16), x, x)
    y = jnp.zeros((2, 5, 2, 2))
    with self.assertRaisesRegex(ValueError, "differ only in heads"):
      sa.multi_set_attention([x, y], [x, y], [x, y])
    with self.assertRaisesRegex(ValueError, "same number"):
      sa.multi_set_attention([x, x], [x], [x])

  def test_benchmark_shapes_agree_with_the_plain_xla_path(self):
    # The benchmark's comparison: DWSNet's stacked attentions, kernel against
    # the chunked XLA path, at a small batch.
    # pylint: disable-next=g-import-not-at-top
    from dws_jax.benchmarks import attention
    rows = attention.run(batch=2, steps=1)
    self.assertLen(rows, len(attention.SHAPES))
    for row in rows:
      self.assertLess(row["max_rel_err"], 1e-4, row)

  def test_dwsnet_with_xla_cpu_kernels_equals_plain_xla(self):
    spec = dws_jax.WeightSpaceSpec.siren((2, 8, 8, 1))
    ws = dws_jax.init_weight_space(jax.random.key(0), spec, "siren", (6,))
    labels = jnp.arange(6) % 10
    self.assertEqual(models.get("dwsnet", spec=spec).kernels, "xla_cpu")

    def value_and_grad(kernels):
      model = models.get("dwsnet", spec=spec, num_classes=10, kernels=kernels)
      self.assertIn(f"kernels = '{kernels}'", repr(model))
      params = model.init(jax.random.key(1), ws)
      loss = lambda p: optax.softmax_cross_entropy_with_integer_labels(
          model.apply(p, ws), labels).mean()
      text = jax.jit(loss).lower(params).as_text()
      for target in ("dws_jax_set_attention", "dws_jax_materialize"):
        self.assertEqual(target in text, kernels == "xla_cpu", target)
      return jax.value_and_grad(loss)(params)

    got, want = value_and_grad("xla_cpu"), value_and_grad("xla")
    for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
      np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


@skip_without_native
class MaterializeTest(absltest.TestCase):

  def test_values_and_gradients_pass_through_one_opaque_copy(self):
    x = jax.random.normal(jax.random.key(0), (4, 5, 3))
    y = jax.random.normal(jax.random.key(1), (7,))
    fn = lambda x, y: [a * b for a, b in zip(mat.materialize((x, y)), (2, 3))]
    got = jax.jit(fn)(x, y)
    np.testing.assert_array_equal(got[0], 2 * x)
    np.testing.assert_array_equal(got[1], 3 * y)
    loss = lambda x, y: jnp.sum(fn(x, y)[0] * x) + jnp.sum(fn(x, y)[1])
    gx, gy = jax.jit(jax.grad(loss, argnums=(0, 1)))(x, y)
    np.testing.assert_allclose(gx, 4 * x, rtol=1e-6)
    np.testing.assert_allclose(gy, jnp.full_like(y, 3.0))
    # The copy is a custom call that XLA cannot fuse into its consumers...
    text = jax.jit(fn).lower(x, y).as_text()
    self.assertIn("custom_call @dws_jax_materialize", text)
    # ... and the XLA version (kernels="xla") is the identity.
    plain = lambda kernels: jax.jit(lambda x, y: layers.materialize(
        (x, y), kernels)).lower(x, y).as_text()
    self.assertNotIn("dws_jax_materialize", plain("xla"))
    self.assertIn("dws_jax_materialize", plain("xla_cpu"))
    got = jax.vmap(lambda x: mat.materialize((x,))[0])(x)
    np.testing.assert_array_equal(got, x)


class BuildTest(absltest.TestCase):

  def run_python(self, code, **env):
    cache = tempfile.mkdtemp()
    self.addCleanup(shutil.rmtree, cache)
    env = {**os.environ, "DWS_JAX_CACHE": cache, **env}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)],
                          env=env, capture_output=True, text=True, check=False)

  def test_missing_compiler_falls_back_with_a_warning(self):
    proc = self.run_python("""
        from dws_jax.xla_cpu.native import build
        print("available", build.available())
        """, DWS_JAX_CXX="/nonexistent/c++", DWS_JAX_NATIVE="auto")
    self.assertEqual(proc.returncode, 0, proc.stderr)
    self.assertIn("available False", proc.stdout)
    self.assertIn("/nonexistent/c++", proc.stderr)
    self.assertIn("using plain XLA", proc.stderr)

  def test_required_kernels_raise_when_the_build_fails(self):
    proc = self.run_python("""
        from dws_jax.xla_cpu.native import build
        build.available()
        """, DWS_JAX_CXX="/nonexistent/c++", DWS_JAX_NATIVE="1")
    self.assertNotEqual(proc.returncode, 0)
    self.assertIn("NativeBuildError", proc.stderr)
    self.assertIn("DWS_JAX_NATIVE=1", proc.stderr)

  def test_failing_compiler_is_reported_and_leaves_no_library(self):
    cache = tempfile.mkdtemp()
    self.addCleanup(shutil.rmtree, cache)
    proc = subprocess.run(
        [sys.executable, "-m", "dws_jax.xla_cpu.native.build"],
        capture_output=True, text=True, check=False,
        env={**os.environ, "DWS_JAX_CACHE": cache, "DWS_JAX_CXX": "false"})
    self.assertEqual(proc.returncode, 1)
    self.assertIn("building the native kernels failed: false", proc.stderr)
    leftovers = [f for _, _, files in os.walk(cache) for f in files]
    self.assertEqual(leftovers, [])

  @skip_without_native
  def test_command_builds_a_loadable_library_in_an_empty_cache(self):
    cache = tempfile.mkdtemp()
    self.addCleanup(shutil.rmtree, cache)
    env = {**os.environ, "DWS_JAX_CACHE": cache}
    proc = subprocess.run(
        [sys.executable, "-m", "dws_jax.xla_cpu.native.build"],
        capture_output=True, text=True, check=False, env=env)
    self.assertEqual(proc.returncode, 0, proc.stderr)
    path = proc.stdout.strip()
    self.assertTrue(path.startswith(cache) and os.path.exists(path), path)
    files = [f for _, _, fs in os.walk(cache) for f in fs]
    self.assertEqual(files, ["libdws_jax_native.so"])  # objects cleaned up
    proc = self.run_python("""
        from dws_jax.xla_cpu.native import build
        print("available", build.available(), build.library_path())
        """, DWS_JAX_CACHE=cache, DWS_JAX_NATIVE="1")
    self.assertEqual(proc.returncode, 0, proc.stderr)
    self.assertIn(f"available True {path}", proc.stdout)

  @skip_without_native
  def test_portable_build_without_avx512_gives_the_same_attention(self):
    # simd.h has AVX-512 paths (exp, masked moves); a CPU without AVX-512
    # builds the portable ones, checked here by forcing x86-64-v3 (AVX2).
    if platform.machine() not in ("x86_64", "AMD64"):
      self.skipTest("x86-64 only")
    work = tempfile.mkdtemp()
    self.addCleanup(shutil.rmtree, work)
    wrapper = os.path.join(work, "cxx")
    with open(wrapper, "w") as f:
      f.write('#!/bin/sh\nexec c++ "$@" -march=x86-64-v3\n')
    os.chmod(wrapper, 0o755)
    proc = self.run_python("""
        import jax, jax.numpy as jnp
        from dws_jax.xla_cpu.native import set_attention as sa
        q, k, v, g = (2.0 * jax.random.normal(key, (3, 17, 5, 3))
                      for key in jax.random.split(jax.random.key(0), 4))
        def grads(fn):
          return jax.grad(lambda *a: jnp.sum(fn(*a) * g), (0, 1, 2))(q, k, v)
        err = max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(
            grads(sa.set_attention), grads(sa.reference_attention)))
        out = sa.set_attention(q, k, v) - sa.reference_attention(q, k, v)
        print("error", max(err, float(jnp.max(jnp.abs(out)))))
        """, DWS_JAX_CXX=wrapper, DWS_JAX_NATIVE="1")
    self.assertEqual(proc.returncode, 0, proc.stderr)
    self.assertLess(float(proc.stdout.split()[-1]), 1e-4)

  def test_switched_off_kernels_name_their_plain_xla_fallback(self):
    proc = self.run_python("""
        import jax.numpy as jnp
        from dws_jax.xla_cpu.native import build, edge_mlp, materialize
        from dws_jax.xla_cpu.native import relational_attention, set_attention
        z = jnp.zeros
        params = [z(s) for s in edge_mlp.param_shapes(16, 32)]
        calls = (
            lambda: materialize.materialize([z((2, 3))]),
            lambda: set_attention.set_attention(*[z((2, 4, 2, 2))] * 3),
            lambda: relational_attention.relational_attention(
                *[z((1, 3, 2, 16))] * 3, z((1, 3, 3, 16)),
                z((16, 2, 2, 16)), z((16, 2, 16)), 0.25),
            lambda: edge_mlp.edge_mlp(z((1, 3, 3, 16)), z((1, 3, 32)),
                                      z((1, 3, 32)), params))
        for call in calls:
          try:
            call()
          except build.NativeBuildError as e:
            print(e)
        """, DWS_JAX_NATIVE="0")
    self.assertEqual(proc.returncode, 0, proc.stderr)
    lines = proc.stdout.strip().splitlines()
    self.assertLen(lines, 4)
    for line, (user, fallback) in zip(lines, (
        ("materialize", "the identity"),
        ("set_attention", "reference_attention"),
        ("relational_attention", "xla_relational_attention"),
        ("edge_mlp", "xla_edge_mlp"))):
      self.assertTrue(line.startswith(f"{user}: the native kernels are not "
                                      "available"), line)
      self.assertIn("DWS_JAX_NATIVE=0", line)
      self.assertTrue(line.endswith(f"use {fallback}"), line)

  def test_unknown_mode_is_refused(self):
    proc = self.run_python("""
        from dws_jax.xla_cpu.native import build
        build.available()
        """, DWS_JAX_NATIVE="yes")
    self.assertIn("DWS_JAX_NATIVE='yes'", proc.stderr)

  def models_kernels(self, **env):
    """A DWSNet's resolved kernels and whether it lowers to the kernel, in a
    fresh process that loads the plugins as the commands do."""
    proc = self.run_python("""
        import jax, dws_jax
        from dws_jax import models, plugins
        plugins.load()
        spec = dws_jax.WeightSpaceSpec.siren((2, 4, 1))
        model = models.get("dwsnet", spec=spec, num_classes=3)
        ws = dws_jax.init_weight_space(jax.random.key(0), spec, "siren", (2,))
        params = model.init(jax.random.key(1), ws)
        print(model.kernels, "dws_jax_set_attention" in jax.jit(
            model.apply).lower(params, ws).as_text())
        """, **env)
    self.assertEqual(proc.returncode, 0, proc.stderr)
    return proc.stdout.split()[-2:]

  def test_switched_off_kernels_are_not_registered(self):
    self.assertEqual(self.models_kernels(DWS_JAX_NATIVE="0"),
                     ["xla", "False"])

  def test_without_plugins_models_use_plain_xla(self):
    self.assertEqual(self.models_kernels(DWS_JAX_PLUGINS="none"),
                     ["xla", "False"])

  @skip_without_native
  def test_loaded_plugin_selects_xla_cpu(self):
    cache = str(build.library_path().parents[2])  # the built library's
    self.assertEqual(self.models_kernels(DWS_JAX_CACHE=cache),
                     ["xla_cpu", "True"])

  @skip_without_native
  def test_build_is_cached_and_named_by_the_source(self):
    path = build.library_path()
    self.assertTrue(path.exists())
    self.assertEqual(build.build(), path)
    self.assertLen(path.parent.name, 16)


if __name__ == "__main__":
  absltest.main()
