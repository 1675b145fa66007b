# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Picture of every augmentation applied to one real Fashion-MNIST INR.

Fits one INR to a Fashion-MNIST test image (:func:`dws_jax.fitting.fit_inrs`,
a few seconds), applies each augmentation several times with different keys
and renders every result into one PNG grid: one row per augmentation, the
original INR first.

  python -m dws_jax.augment.gallery --out results/augmentation_gallery.png
"""

from __future__ import annotations

import argparse
import pathlib

import jax
import jax.numpy as jnp
import numpy as np

from dws_jax import fitting
from dws_jax import siren
from dws_jax import weight_space as wsp
from dws_jax.augment import builder
from dws_jax.data import fashion_mnist

ROWS = (
    "translate", "rotate", "scale", "gaussian_noise", "dropout", "quantile",
    "permutation", "siren_negation", "siren_bias",
    "translate(order=2)",  # the official code's random order, when it draws 2
    "random_choice(translate, rotate, scale)|dropout@0.5",
)


def _parse(argv):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--out", default="results/augmentation_gallery.png")
  parser.add_argument("--index", type=int, default=0,
                      help="Fashion-MNIST test image to fit")
  parser.add_argument("--draws", type=int, default=6)
  parser.add_argument("--resolution", type=int, default=56,
                      help="render resolution (the INR is fitted at 28)")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--data-dir", default=None)
  return parser.parse_args(argv)


def main(argv=None) -> None:
  args = _parse(argv)
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top

  images, labels = fashion_mnist.load_split("test", args.data_dir)
  image, label = images[args.index], int(labels[args.index])
  spec = wsp.WeightSpaceSpec.dwsnets_inr()
  coords = siren.make_grid(28)
  fit = fitting.fit_inrs(jax.random.key(args.seed), image.reshape(1, -1, 1),
                         coords, spec)
  psnr = float(fit.psnr[0])
  print(f"fitted image {args.index} ({fashion_mnist.CLASS_NAMES[label]}): "
        f"PSNR {psnr:.1f} dB in {int(fit.steps[0])} steps")

  batch = jax.tree.map(lambda x: jnp.repeat(x, args.draws, axis=0), fit.ws)
  res = args.resolution
  grid = siren.make_grid(res)
  render = lambda ws: np.asarray(siren.render(ws, grid, spec, sin="exact")
                                 ).reshape(-1, res, res)
  original = render(fit.ws)[0]
  rows = []
  for i, desc in enumerate(ROWS):
    aug = builder.build(desc, spec)
    out, _ = jax.jit(aug)(jax.random.fold_in(jax.random.key(args.seed + 1), i),
                          batch)
    rows.append((str(aug), render(out)))

  cols = args.draws + 1
  fig, axes = plt.subplots(len(rows), cols, figsize=(1.1 * cols + 1.6,
                                                     1.1 * len(rows)))
  for r, (desc, imgs) in enumerate(rows):
    for c in range(cols):
      ax = axes[r, c]
      ax.imshow(original if c == 0 else imgs[c - 1], cmap="gray", vmin=0, vmax=1)
      ax.set_xticks([])
      ax.set_yticks([])
      if r == 0:
        ax.set_title("original" if c == 0 else f"draw {c}", fontsize=8)
    axes[r, 0].set_ylabel(desc.replace("|", "|\n").replace(", ", ",\n"),
                          rotation=0, ha="right", va="center", fontsize=8)
  fig.suptitle(f"dws_jax augmentations of one Fashion-MNIST INR "
               f"({fashion_mnist.CLASS_NAMES[label]}, {psnr:.1f} dB), "
               f"rendered at {res}x{res}", fontsize=9)
  fig.tight_layout()
  out = pathlib.Path(args.out)
  out.parent.mkdir(parents=True, exist_ok=True)
  fig.savefig(out, dpi=72)
  print(f"wrote {out}")


if __name__ == "__main__":
  main()
