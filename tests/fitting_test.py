# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests of the INR fitting engines on real Fashion-MNIST images."""

from absl.testing import absltest
from absl.testing import parameterized
import jax
import numpy as np

from dws_jax import fitting
from dws_jax import siren
from dws_jax import weight_space as wsp
from dws_jax.data import fashion_mnist

SPEC = wsp.WeightSpaceSpec.dwsnets_inr()


def _images(num, start=0):
  images, _ = fashion_mnist.load_split("test")
  return images[start:start + num].reshape(num, -1, 1)


def _fitter(**kwargs):
  kwargs.setdefault("slots", 16)
  return fitting.RefillFitter(SPEC, siren.make_grid(28), **kwargs)


class RefillFitterTest(parameterized.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.targets = _images(16)
    cls.keys = fitting.inr_key_data(0, 2, np.arange(16), np.zeros(16))
    # Default recipe, 40 dB, more INRs than slots so that slots are refilled.
    cls.fitter = _fitter(slots=8, chunk_steps=25)
    cls.result = cls.fitter.fit(cls.keys, cls.targets)

  def test_reaches_target_on_real_images(self):
    res = self.result
    self.assertEqual(res.params.shape, (16, SPEC.num_params))
    self.assertTrue(np.all(res.psnr >= 40.0), res.psnr)
    self.assertTrue(np.all((res.steps > 0) & (res.steps < 1000)), res.steps)
    # The recorded PSNR is that of the returned parameters.
    out = siren.render(wsp.from_flat(res.params, SPEC), siren.make_grid(28), SPEC)
    mse = np.mean((np.asarray(out) - self.targets) ** 2, axis=(1, 2))
    np.testing.assert_allclose(-10 * np.log10(mse), res.psnr, atol=0.02)

  def test_same_keys_bit_identical_in_any_slot(self):
    # Reversed order: every INR runs in another slot and starts at another time.
    rev = self.fitter.fit(self.keys[::-1], self.targets[::-1])
    np.testing.assert_array_equal(rev.params[::-1], self.result.params)
    np.testing.assert_array_equal(rev.steps[::-1], self.result.steps)
    np.testing.assert_array_equal(rev.psnr[::-1], self.result.psnr)

  def test_other_view_other_weights_same_image(self):
    keys = fitting.inr_key_data(0, 2, np.arange(4), np.ones(4))
    res = self.fitter.fit(keys, self.targets[:4])
    self.assertTrue(np.all(res.psnr >= 40.0))
    diff = np.abs(res.params - self.result.params[:4]).max(axis=1)
    self.assertTrue(np.all(diff > 1e-2), diff)

  def test_matches_plain_scan_fitter(self):
    # Same keys, lower target and step cap: the refill engine must take the
    # same number of steps and reach the same weights as fit_inrs.
    key = jax.random.key(3)
    targets = _images(8, start=100)
    keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(np.arange(8))
    plain = fitting.fit_inrs(key, targets, siren.make_grid(28), SPEC, steps=150,
                             target_psnr=28.0)
    res = _fitter(slots=8, chunk_steps=40, max_steps=150,
                  target_psnr=28.0).fit(keys, targets)
    np.testing.assert_array_equal(res.steps, np.asarray(plain.steps))
    self.assertTrue(np.any(res.steps == 150) and np.any(res.steps < 150),
                    res.steps)
    np.testing.assert_allclose(res.params, np.asarray(wsp.to_flat(plain.ws)),
                               atol=1e-4)
    np.testing.assert_allclose(res.psnr, np.asarray(plain.psnr), atol=1e-3)

  def test_blocks_stream_in_order_of_completion(self):
    fitter = _fitter(slots=8, max_steps=60, target_psnr=99.0, chunk_steps=20)
    blocks = [(self.keys[:3], self.targets[:3]), (self.keys[:0], self.targets[:0]),
              (self.keys[3:13], self.targets[3:13])]
    seen = dict(fitter.fit_blocks(blocks))
    self.assertEqual(sorted(seen), [0, 1, 2])
    self.assertEqual(seen[1].params.shape, (0, SPEC.num_params))
    self.assertTrue(np.all(seen[2].steps == 60))
    joined = fitter.fit(self.keys[:13], self.targets[:13])
    np.testing.assert_array_equal(np.concatenate([seen[0].params, seen[2].params]),
                                  joined.params)

  @parameterized.named_parameters(
      ("slots", dict(slots=12), "multiple of the 8"),
      ("steps", dict(max_steps=0), "max_steps"),
      ("init", dict(init="bad"), "unknown init"),
      ("lr", dict(lr=-1.0), "lr"))
  def test_bad_settings(self, kwargs, message):
    with self.assertRaisesRegex(ValueError, message):
      _fitter(**kwargs)

  def test_bad_block(self):
    fitter = _fitter(max_steps=2)
    with self.assertRaisesRegex(ValueError, "targets must be"):
      fitter.fit(self.keys[:2], self.targets[:2, :100])
    with self.assertRaisesRegex(ValueError, "NaN"):
      fitter.fit(self.keys[:2], np.full((2, 784, 1), np.nan, np.float32))

  def test_key_rule(self):
    data = fitting.inr_key_data(5, 1, [7, 7], [0, 3])
    k = jax.random.fold_in(jax.random.fold_in(jax.random.key(5), 1), 7)
    np.testing.assert_array_equal(
        data, np.stack([jax.random.key_data(jax.random.fold_in(k, 0)),
                        jax.random.key_data(jax.random.fold_in(k, 3))]))


if __name__ == "__main__":
  absltest.main()
