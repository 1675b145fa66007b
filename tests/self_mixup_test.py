# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests of the label-free self-MixUp variants and their registry entries."""

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np

import dws_jax
from dws_jax import augment
from dws_jax import matching
from dws_jax.augment import mixup

SPEC = dws_jax.WeightSpaceSpec.dwsnets_inr((2, 32, 32, 1))


def random_batch(key, num):
  k1, k2 = jax.random.split(key)
  return dws_jax.init_weight_space(k1, SPEC, "siren", (num,)).map(
      lambda x: x + 0.02 * jax.random.normal(jax.random.fold_in(k2, x.size),
                                             x.shape))


def permuted(key, ws):
  perms = dws_jax.random_permutations(key, SPEC, ws.batch_shape)
  return dws_jax.permute(ws, perms, SPEC)


def assert_trees_equal(x, y):
  for p, q in zip(jax.tree.leaves(x), jax.tree.leaves(y)):
    np.testing.assert_array_equal(p, q)


class SelfMixupTest(parameterized.TestCase):

  @parameterized.parameters("self_mixup", "self_mixup_perm",
                            "self_mixup_aligned")
  def test_identical_inputs_give_the_input(self, name):
    # Vanilla: the view partner is the INR itself; perm and aligned: a
    # permuted copy (perm only when its random permutation undoes it, so here
    # the identity copy goes through the copy path: copy_aug='none').
    ws = random_batch(jax.random.key(0), 8)
    aug = augment.build(f"{name}('none')", SPEC)
    out, labels = jax.jit(aug)(jax.random.key(1), ws)
    self.assertIsNone(labels)
    if name == "self_mixup_perm":  # mixes with a permuted self: changes
      self.assertGreater(float(jnp.abs(out.weights[1] - ws.weights[1]).max()),
                         1e-3)
    else:
      assert_trees_equal(out, ws)
    out, _ = jax.jit(augment.build(name, SPEC))(jax.random.key(1), ws,
                                                 view_partners=ws)
    if name != "self_mixup_perm":
      assert_trees_equal(out, ws)

  def test_aligned_self_mixup_of_a_permuted_copy_is_the_original(self):
    ws = random_batch(jax.random.key(2), 8)
    other = permuted(jax.random.key(3), ws)
    self.assertGreater(float(jnp.abs(other.weights[0] - ws.weights[0]).max()),
                       0.1)
    aligned = augment.build("self_mixup_aligned(solver='scipy')", SPEC)
    out, _ = jax.jit(aligned)(jax.random.key(4), ws, view_partners=other)
    assert_trees_equal(out, ws)
    # As the copy: a permutation then alignment back.
    out, _ = jax.jit(augment.build("self_mixup_aligned('permutation')", SPEC))(
        jax.random.key(4), ws)
    assert_trees_equal(out, ws)
    # Vanilla mixing of the permuted copy does not recover it.
    out, _ = jax.jit(augment.build("self_mixup", SPEC))(
        jax.random.key(4), ws, view_partners=other)
    self.assertGreater(float(jnp.abs(out.weights[0] - ws.weights[0]).max()),
                       0.01)

  def test_mixes_with_the_view_partner_by_the_formula(self):
    ws = random_batch(jax.random.key(5), 8)
    other = random_batch(jax.random.key(6), 8)
    key = jax.random.key(7)
    out, _ = augment.build("self_mixup", SPEC)(key, ws, view_partners=other)
    # alpha per sample from the formula on one entry, then every entry.
    a, b, o = ws.weights[0], other.weights[0], out.weights[0]
    alpha = 1 - (o[:, 0, 0] - a[:, 0, 0]) / (b[:, 0, 0] - a[:, 0, 0])
    self.assertTrue(np.all((alpha >= 0) & (alpha <= 1)))
    self.assertGreater(float(jnp.std(alpha)), 0.05)  # one alpha per sample
    for x, y, z in zip(jax.tree.leaves(ws), jax.tree.leaves(other),
                       jax.tree.leaves(out)):
      w = (1 - alpha).reshape((-1,) + (1,) * (x.ndim - 1))
      np.testing.assert_allclose(z, x + w * (y - x), atol=1e-6)
    # Labels pass through unchanged in a supervised pipeline.
    labels = jax.nn.one_hot(jnp.arange(8) % 10, 10)
    _, out_labels = augment.build("translate|self_mixup_aligned", SPEC,
                                  num_classes=10)(key, ws, labels,
                                                  view_partners=other)
    np.testing.assert_array_equal(out_labels, labels)

  def test_copy_source_ignores_views_and_pipelines_report_what_they_take(self):
    aug = augment.build("translate|self_mixup_aligned", SPEC)
    self.assertTrue(aug.uses_view_partners)
    self.assertEqual(aug.label_augs, ())
    copy = augment.build("self_mixup(source='copy')", SPEC)
    self.assertFalse(copy.uses_view_partners)
    ws = random_batch(jax.random.key(8), 4)
    with self.assertRaisesRegex(ValueError, "takes no view_partners"):
      copy(jax.random.key(0), ws, view_partners=ws)
    self.assertEqual(
        augment.label_augmentations(
            "translate|random_choice(mixup, self_mixup)|label_smoothing@0.5"),
        ("mixup", "label_smoothing"))
    with self.assertRaisesRegex(ValueError, "changes labels"):
      augment.build("mixup", SPEC)(jax.random.key(0), ws)

  def test_bad_hyperparameters(self):
    with self.assertRaisesRegex(ValueError, "unknown source 'views'"):
      augment.build("self_mixup(source='views')", SPEC)
    with self.assertRaisesRegex(ValueError, "must be made of sample"):
      augment.build("self_mixup('mixup')", SPEC)
    with self.assertRaisesRegex(ValueError, "unknown matching solver"):
      augment.build("self_mixup_aligned(solver='magic')", SPEC)
    ws = random_batch(jax.random.key(9), 4)
    with self.assertRaisesRegex(ValueError, "view_partners have batch"):
      augment.build("self_mixup", SPEC)(jax.random.key(0), ws,
                                        view_partners=ws[:2])
    self.assertEqual(mixup.SELF_ALTERNATIVES["mixup_aligned"],
                     "self_mixup_aligned")


if __name__ == "__main__":
  absltest.main()
