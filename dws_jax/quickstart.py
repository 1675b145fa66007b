# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Quick start: fit a handful of SIREN INRs to real Fashion-MNIST images.

  python -m dws_jax.quickstart --num 8 --steps 1000
"""

from __future__ import annotations

import argparse
import time

import jax
import numpy as np

from dws_jax import siren
from dws_jax import weight_space as wsp
from dws_jax import fitting
from dws_jax.data import fashion_mnist


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--num", type=int, default=8, help="number of images")
  parser.add_argument("--steps", type=int, default=1000)
  parser.add_argument("--lr", type=float, default=5e-4)
  parser.add_argument("--init", default="siren", choices=siren.INITS)
  parser.add_argument("--data-dir", default=None)
  args = parser.parse_args(argv)

  images, labels = fashion_mnist.load_split("test", args.data_dir)
  images, labels = images[:args.num], labels[:args.num]
  spec = wsp.WeightSpaceSpec.dwsnets_inr()
  coords = siren.make_grid(28)
  targets = images.reshape(len(images), -1, 1)
  start = time.perf_counter()
  result = fitting.fit_inrs(jax.random.key(0), targets, coords, spec,
                            steps=args.steps, lr=args.lr, init=args.init)
  jax.block_until_ready(result)
  elapsed = time.perf_counter() - start
  print(f"Fitted {args.num} INRs (2->32->32->1 SIREN, {spec.num_params} params) "
        f"to real Fashion-MNIST test images in {elapsed:.1f} s")
  for i, (label, p, s) in enumerate(zip(labels, np.asarray(result.psnr),
                                        np.asarray(result.steps))):
    print(f"  image {i:3d}  {fashion_mnist.CLASS_NAMES[label]:<12s} "
          f"PSNR {p:6.2f} dB  steps {s:4d}")
  print(f"median PSNR {np.median(result.psnr):.2f} dB; "
        f"{int(np.sum(np.asarray(result.psnr) >= 40))}/{args.num} reach 40 dB")


def run() -> None:
  main()


if __name__ == "__main__":
  main()
