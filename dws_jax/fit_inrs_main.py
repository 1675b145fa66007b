# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""``dws-fit-inrs``: fit an INR dataset of real images from a config file.

  dws-fit-inrs --config configs/inrs/fmnist.py:objects=2000,views=10 \
      --out data/fmnist_inrs

Rerunning the same command resumes an interrupted run (finished shards are
kept); a different config into the same ``--out`` is refused. Ends by printing
PSNR statistics per split and writing ``OUT/fits.png`` (original images beside
renders of several views).
"""

from __future__ import annotations

import os
import pathlib

from absl import app
from absl import flags
from ml_collections import config_flags

from dws_jax import allocator

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", None, "Config file (get_config(arg)).",
                                lock_config=True)
flags.DEFINE_string("out", None, "Output directory of the INR dataset.")
flags.DEFINE_integer("max_shards", None,
                     "Stop after this many new shards (resume later).")
flags.DEFINE_bool("progress", True, "Show a progress bar.")

PICTURE_FILE = "fits.png"


def _set_host_devices(num: int) -> None:
  import jax  # pylint: disable=g-import-not-at-top
  platforms = os.environ.get("JAX_PLATFORMS", "")
  if num and num > 1 and platforms in ("", "cpu"):
    jax.config.update("jax_num_cpu_devices", int(num))


def write_picture(out_dir: str | os.PathLike, num_objects: int = 8,
                  num_views: int = 4, data_dir: str | None = None) -> pathlib.Path:
  """Writes ``OUT/fits.png``: train images beside renders of their first views."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  from dws_jax import siren  # pylint: disable=g-import-not-at-top
  from dws_jax.data import fashion_mnist  # pylint: disable=g-import-not-at-top
  from dws_jax.data import inr_dataset  # pylint: disable=g-import-not-at-top

  out_dir = pathlib.Path(out_dir)
  meta = inr_dataset.read_metadata(out_dir)
  split = "train" if "train" in meta["splits"] else next(iter(meta["splits"]))
  info = meta["splits"][split]
  views = min(num_views, info["views"])
  data = inr_dataset.load_inr_split(out_dir, split, views)
  spec = inr_dataset.spec_from_metadata(meta)
  n = min(num_objects, info["num_objects"])
  rows = [np.arange(n) + v * info["num_objects"] for v in range(views)]
  renders = np.asarray(siren.render_images(data.ws, spec, 28))[..., 0]
  images, _ = fashion_mnist.load_split(split, meta["config"].get("data_dir"))
  object_ids = np.asarray(data.object_ids)
  psnr = np.asarray(data.psnr)
  fig, axes = plt.subplots(n, views + 1, figsize=(1.6 * (views + 1), 1.6 * n),
                           squeeze=False)
  for i in range(n):
    axes[i, 0].imshow(images[object_ids[i]], cmap="gray", vmin=0, vmax=1)
    axes[i, 0].set_title(f"image {object_ids[i]}", fontsize=7)
    for v in range(views):
      r = rows[v][i]
      axes[i, v + 1].imshow(np.clip(renders[r], 0, 1), cmap="gray", vmin=0, vmax=1)
      axes[i, v + 1].set_title(f"view {v}: {psnr[r]:.1f} dB", fontsize=7)
  for ax in axes.ravel():
    ax.set_axis_off()
  fig.suptitle(f"{split}: original | INR renders", fontsize=8)
  fig.tight_layout()
  path = out_dir / PICTURE_FILE
  fig.savefig(path, dpi=100)
  plt.close(fig)
  return path


def format_summary(summary: dict) -> str:
  lines = [f"{'split':<6} {'INRs':>7} {'PSNR mean':>10} {'median':>8} {'min':>7} "
           f"{'>=target':>9} {'steps mean':>11} {'max':>5}"]
  for split, s in summary.items():
    if not s["num_inrs"]:
      lines.append(f"{split:<6} {0:>7}")
      continue
    lines.append(f"{split:<6} {s['num_inrs']:>7d} {s['psnr_mean']:>10.2f} "
                 f"{s['psnr_median']:>8.2f} {s['psnr_min']:>7.2f} "
                 f"{s['fraction_reached_target']:>9.3f} {s['steps_mean']:>11.1f} "
                 f"{s['steps_max']:>5d}")
  return "\n".join(lines)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  config = FLAGS.config
  _set_host_devices(config.get("host_devices", 0))
  from dws_jax.data import inr_dataset  # pylint: disable=g-import-not-at-top
  result = inr_dataset.generate(config, FLAGS.out, max_shards=FLAGS.max_shards,
                                progress=FLAGS.progress)
  if not result["complete"]:
    print(f"Stopped after {result['new_shards']} new shard(s); rerun the same "
          "command to resume.")
    return
  print(f"INR dataset complete in {FLAGS.out} ({result['new_shards']} new "
        "shard(s) this run). PSNR (dB) per split:")
  print(format_summary(result["summary"]))
  pic = config.get("picture", {})
  path = write_picture(FLAGS.out, pic.get("objects", 8), pic.get("views", 4),
                       config.data_dir)
  print(f"Wrote {path}")


def run():
  allocator.reexec_with_tcmalloc()
  flags.mark_flags_as_required(["config", "out"])
  app.run(main)


if __name__ == "__main__":
  run()
