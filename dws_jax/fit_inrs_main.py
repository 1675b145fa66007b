# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""``dws-fit-inrs``: fit an INR dataset of real images or shapes from a config file.

  dws-fit-inrs --config configs/inrs/fmnist.py:objects=2000,views=10 \
      --out data/fmnist_inrs

Rerunning the same command resumes an interrupted run (finished shards are
kept); a different config into the same ``--out`` is refused. Ends by printing
PSNR (and, for shapes, IoU) statistics per split and writing ``OUT/fits.png``
(original images beside renders of several views; for shapes, slices of the
truth and of the INRs and a marching-cubes preview). ``--out`` may be a URI
(``gs://bucket/inrs``).
"""

from __future__ import annotations

import os

from absl import app
from absl import flags
from etils import epath
from ml_collections import config_flags

from dws_jax import plugins
from dws_jax import paths

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", None, "Config file (get_config(arg)).",
                                lock_config=True)
flags.DEFINE_string("out", None, "Output directory of the INR dataset (a "
                    "local path or a URI such as gs://bucket/inrs).")
flags.DEFINE_integer("max_shards", None,
                     "Stop after this many new shards (resume later).")
flags.DEFINE_bool("progress", True, "Show a progress bar.")

PICTURE_FILE = "fits.png"


def _set_host_devices(num: int) -> None:
  import jax  # pylint: disable=g-import-not-at-top
  platforms = os.environ.get("JAX_PLATFORMS", "")
  if num and num > 1 and platforms in ("", "cpu"):
    jax.config.update("jax_num_cpu_devices", int(num))


def write_picture(out_dir: paths.PathLike, num_objects: int = 8,
                  num_views: int = 4, data_dir: str | None = None) -> epath.Path:
  """Writes ``OUT/fits.png``: train objects beside renders of their first views.

  Images: the original beside each view's render. Shapes: the ground-truth
  occupancy of the slice ``z = 0``, each view's INR on that slice, and a
  marching-cubes preview of view 0 (:func:`skimage.measure.marching_cubes`).
  """
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  from dws_jax import siren  # pylint: disable=g-import-not-at-top
  from dws_jax.data import inr_dataset  # pylint: disable=g-import-not-at-top
  from dws_jax.data import sources  # pylint: disable=g-import-not-at-top

  out_dir = paths.as_path(out_dir)
  meta = inr_dataset.read_metadata(out_dir)
  split = "train" if "train" in meta["splits"] else next(iter(meta["splits"]))
  info = meta["splits"][split]
  views = min(num_views, info["views"])
  data = inr_dataset.load_inr_split(out_dir, split, views)
  spec = inr_dataset.spec_from_metadata(meta)
  n = min(num_objects, info["num_objects"])
  rows = [np.arange(n) + v * info["num_objects"] for v in range(views)]
  source = sources.get(meta["source"]["name"])
  objects = source.load(split, data_dir or meta["config"].get("data_dir"),
                        meta["config"].get("shape"))
  object_ids = np.asarray(data.object_ids)
  psnr = np.asarray(data.psnr)
  shape = source.kind == "shape"
  cols = views + 1 + int(shape)
  fig = plt.figure(figsize=(1.6 * cols, 1.6 * n))
  if shape:
    _shape_rows(fig, data, spec, objects, object_ids, rows, n, views, cols)
  else:
    res = objects.resolution
    renders = np.asarray(siren.render(data.ws, siren.make_grid(res), spec))
    renders = renders.reshape(renders.shape[:-2] + (res[1], res[0], -1))
    for i in range(n):
      ax = fig.add_subplot(n, cols, i * cols + 1)
      _show_image(ax, objects.images[object_ids[i]])
      ax.set_title(f"image {object_ids[i]}", fontsize=7)
      for v in range(views):
        r = rows[v][i]
        ax = fig.add_subplot(n, cols, i * cols + v + 2)
        _show_image(ax, np.clip(renders[r], 0, 1))
        ax.set_title(f"view {v}: {psnr[r]:.1f} dB", fontsize=7)
  for ax in fig.axes:
    ax.set_axis_off()
  what = "slice z=0: truth | INR views | view 0 mesh" if shape else \
      "original | INR renders"
  fig.suptitle(f"{split}: {what}", fontsize=8)
  fig.tight_layout()
  path = out_dir / PICTURE_FILE
  paths.save_figure(fig, path, dpi=100)
  plt.close(fig)
  return path


def _show_image(ax, image):
  if image.ndim == 3 and image.shape[-1] == 1:
    image = image[..., 0]
  ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=1)


def _shape_rows(fig, data, spec, objects, object_ids, rows, n, views, cols,
                resolution=64):
  """Slices z=0 of truth and INRs, and a marching-cubes mesh of view 0."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  from skimage import measure  # pylint: disable=g-import-not-at-top
  from dws_jax import siren  # pylint: disable=g-import-not-at-top
  from dws_jax.data import shapes  # pylint: disable=g-import-not-at-top
  lin = np.linspace(-1, 1, resolution, dtype=np.float32)
  gx, gy = np.meshgrid(lin, lin, indexing="xy")
  plane = np.stack([gx.ravel(), gy.ravel(), np.zeros(gx.size, np.float32)], 1)
  volume = siren.make_grid(resolution, 3)
  iou = np.asarray(data.iou) if data.iou is not None else None
  for i in range(n):
    obj = int(object_ids[i])
    mesh = objects.mesh(obj)
    voxels = shapes.solid_voxels(
        shapes.normalize(mesh.vertices, objects.options.extent),
        np.asarray(mesh.faces), int(objects.options.resolution))
    truth = shapes.lookup(voxels, plane).reshape(resolution, resolution)
    ax = fig.add_subplot(n, cols, i * cols + 1)
    ax.imshow(truth, cmap="gray", vmin=0, vmax=1, origin="lower")
    ax.set_title(f"shape {obj}", fontsize=7)
    for v in range(views):
      r = int(rows[v][i])
      out = np.asarray(siren.render(data.ws[r], plane, spec))[:, 0]
      ax = fig.add_subplot(n, cols, i * cols + v + 2)
      ax.imshow((out > 0.5).reshape(resolution, resolution), cmap="gray",
                vmin=0, vmax=1, origin="lower")
      ax.set_title(f"view {v}: IoU {iou[r]:.3f}" if iou is not None else
                   f"view {v}", fontsize=7)
    occ = np.asarray(siren.render(data.ws[int(rows[0][i])], volume, spec))[:, 0]
    # make_grid is 'xy' ordered: reshape to [z, y, x].
    occ = np.array(occ.reshape(resolution, resolution, resolution), np.float32)
    ax = fig.add_subplot(n, cols, i * cols + cols, projection="3d")
    if occ.min() < 0.5 < occ.max():
      verts, faces, _, _ = measure.marching_cubes(occ, 0.5)
      ax.plot_trisurf(verts[:, 2], verts[:, 0], faces, verts[:, 1],
                      linewidth=0, antialiased=False, color="0.6")
    ax.view_init(elev=20, azim=-60)


def format_summary(summary: dict) -> str:
  has_iou = any("iou_mean" in s for s in summary.values())
  lines = [f"{'split':<6} {'INRs':>7} {'PSNR mean':>10} {'median':>8} {'min':>7} "
           f"{'>=target':>9} {'steps mean':>11} {'max':>5}"
           + (f" {'IoU mean':>9} {'median':>7} {'min':>6}" if has_iou else "")]
  for split, s in summary.items():
    if not s["num_inrs"]:
      lines.append(f"{split:<6} {0:>7}")
      continue
    line = (f"{split:<6} {s['num_inrs']:>7d} {s['psnr_mean']:>10.2f} "
            f"{s['psnr_median']:>8.2f} {s['psnr_min']:>7.2f} "
            f"{s['fraction_reached_target']:>9.3f} {s['steps_mean']:>11.1f} "
            f"{s['steps_max']:>5d}")
    if has_iou:
      line += (f" {s['iou_mean']:>9.4f} {s['iou_median']:>7.4f} "
               f"{s['iou_min']:>6.4f}")
    lines.append(line)
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
  metric = "IoU and PSNR" if config.fit.get("metric") == "iou" else "PSNR (dB)"
  print(f"INR dataset complete in {FLAGS.out} ({result['new_shards']} new "
        f"shard(s) this run). {metric} per split:")
  print(format_summary(result["summary"]))
  pic = config.get("picture", {})
  path = write_picture(FLAGS.out, pic.get("objects", 8), pic.get("views", 4),
                       config.data_dir)
  print(f"Wrote {path}")


def run():
  plugins.load(command=True)
  flags.mark_flags_as_required(["config", "out"])
  app.run(main)


if __name__ == "__main__":
  run()
