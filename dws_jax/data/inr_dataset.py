# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""INR datasets: fit SIRENs to real images or shapes, store them as tfds ArrayRecord.

The objects come from a registered source (:mod:`dws_jax.data.sources`,
``config.source``): images (Fashion-MNIST, MNIST, CIFAR-10; PSNR early stop)
or 3-D shapes (ModelNet40/10, furniture; occupancy INRs with an IoU early stop,
``config.fit.metric = "iou"``).

:func:`generate` fits one INR per (object, view) of each split with the slot
refill engine (:class:`dws_jax.fitting.RefillFitter`) and writes a directory::

  OUT/metadata.json         spec, flat layout, fit config, source, split rule,
                            seed, package versions, shard plan
  OUT/shards/<split>-<k>-of-<n>.npz (+ .done.json)
                            the fitted INRs, shard by shard (the resume unit)
  OUT/tfds/inr_dataset/1.0.0/
                            the tfds ArrayRecord dataset built from the shards
                            (Tensor features only, readable without TensorFlow)
  OUT/summary.json          PSNR and step statistics per split

Every record has ``params`` (``(P,)`` float32, ``WeightSpaceSpec.flat_layout``
order, :func:`dws_jax.to_flat`), ``label``, ``object_id`` (index of the image in
its split), ``view``, ``psnr`` and ``steps`` (and ``iou`` for occupancy INRs). Records are ordered view-major
(all objects' view 0, then view 1, ...), objects ascending, so the first ``K``
views of a split are its first ``K * num_objects`` records.

View ``v`` of object ``i`` of split ``s`` starts from the init key
``fold_in(fold_in(fold_in(key(seed), s), i), v)`` (split ids: train 0, val 1,
test 2), so any single INR can be regenerated alone (:func:`refit`). Train
objects get ``config.views`` views; val and test get view 0 only.

Safety: shards are written to a temporary name, fsynced and renamed, then a
completion marker holding the shard's SHA-256 is written the same way; a shard
without a valid marker is never read and is refitted on resume, so a killed job
restarts where it stopped. A directory made with a different config is refused
(the error names the differing keys) before any file is written.

``OUT`` may be a URI (``gs://bucket/inrs``, any scheme of etils.epath). Each
file there is one object upload, which object stores publish whole (the
equivalent of the rename). ArrayRecord files are written and read by C++ code
that only knows local files, so the tfds dataset is built in a local temporary
directory and uploaded (``dataset_info.json``, its completion mark, last), and
loading downloads it once per process into a local temporary directory.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import tempfile
import time
from typing import Any, Iterator, NamedTuple

from etils import epath
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import tensorflow_datasets as tfds

from dws_jax import config_utils
from dws_jax import fitting
from dws_jax import paths
from dws_jax import siren
from dws_jax import weight_space as wsp
from dws_jax.data import sources
from dws_jax.data import types

FORMAT_VERSION = 1
SPLIT_IDS = {"train": 0, "val": 1, "test": 2}
METADATA_FILE = "metadata.json"
SUMMARY_FILE = "summary.json"
SHARD_DIR = "shards"
TFDS_DIR = "tfds"
TFDS_NAME = "inr_dataset"
TFDS_VERSION = "1.0.0"
SOURCES = tuple(sources.MODULES)
# Config keys that only change speed, not results (beyond float rounding):
# they may differ between a run and its resumption.
RUNTIME_KEYS = ("data_dir", "fit.chunk_steps", "fit.slots_per_device",
                "host_devices", "picture")
# Config keys added after format 1 and their values when absent: a key at
# this value is left out of the identity, so a directory made before the key
# existed is still the same dataset.
IDENTITY_DEFAULTS = {"fit.metric": "psnr"}


class InrSplit(NamedTuple):
  """One split loaded on device.

  Attributes:
    ws: WeightSpace with leaves ``(M, ...)``.
    labels: ``(M,)`` int32 class labels.
    object_ids: ``(M,)`` int32 index of the source image in its split.
    views: ``(M,)`` int32 view index.
    psnr: ``(M,)`` float32 final PSNR (dB).
    steps: ``(M,)`` int32 fitting steps.
    iou: ``(M,)`` float32 final occupancy IoU (occupancy INRs), else None.
  """

  ws: wsp.WeightSpace
  labels: jax.Array
  object_ids: jax.Array
  views: jax.Array
  psnr: jax.Array
  steps: jax.Array
  iou: jax.Array | None = None


# -----------------------------------------------------------------------------
# Config, plan and metadata.
# -----------------------------------------------------------------------------


def spec_from_config(config: ml_collections.ConfigDict) -> wsp.WeightSpaceSpec:
  inr = config.inr
  return wsp.WeightSpaceSpec.siren(tuple(inr.layer_sizes), w0=inr.w0,
                                   w0_first=inr.w0_first,
                                   output_offset=inr.output_offset)


def _identity(config: dict[str, Any], source_sha: str) -> dict[str, Any]:
  """The config keys that define the data (everything but RUNTIME_KEYS)."""
  flat = config_utils.flatten(config)
  kept = {k: v for k, v in flat.items()
          if not any(k == r or k.startswith(r + ".") for r in RUNTIME_KEYS)
          and not (k in IDENTITY_DEFAULTS and v == IDENTITY_DEFAULTS[k])}
  kept["source.sha256"] = source_sha
  kept["format_version"] = FORMAT_VERSION
  return kept


def validate_config(config: ml_collections.ConfigDict) -> None:
  """Raises ValueError naming the first bad field of an INR dataset config."""
  if config.source not in SOURCES:
    raise ValueError(f"config.source={config.source!r}; expected one of {SOURCES}")
  for name in ("objects", "val_objects", "test_objects"):
    if int(config[name]) < 0:
      raise ValueError(f"config.{name} must be >= 0 (0 = all), got {config[name]}")
  if int(config.views) < 1:
    raise ValueError(f"config.views must be >= 1, got {config.views}")
  if int(config.shard_size) < 1:
    raise ValueError(f"config.shard_size must be >= 1, got {config.shard_size}")
  bad = [s for s in config.splits if s not in SPLIT_IDS]
  if bad or not config.splits:
    raise ValueError(f"config.splits={tuple(config.splits)}; expected a non-empty "
                     f"subset of {tuple(SPLIT_IDS)}")
  if config.inr.init not in siren.INITS:
    raise ValueError(f"config.inr.init={config.inr.init!r}; expected one of "
                     f"{siren.INITS}")
  source = sources.get(config.source)
  spec = spec_from_config(config)
  if spec.layer_sizes[0] != source.input_dim:
    raise ValueError(f"{source.kind} INRs of {source.name} take "
                     f"{source.input_dim}-D coordinates: config.inr.layer_sizes "
                     f"must start with {source.input_dim}, got {spec.layer_sizes}")
  if spec.layer_sizes[-1] != source.output_dim:
    raise ValueError(f"INRs of {source.name} have {source.output_dim} output(s): "
                     f"config.inr.layer_sizes must end with {source.output_dim}, "
                     f"got {spec.layer_sizes}")
  metric = _metric(config)
  if metric not in fitting.METRICS:
    raise ValueError(f"config.fit.metric={metric!r}; expected one of "
                     f"{fitting.METRICS}")
  if metric == "iou" and not 0 <= config.fit.get("target_iou", -1) <= 1:
    raise ValueError("config.fit.metric='iou' needs config.fit.target_iou in "
                     f"[0, 1], got {config.fit.get('target_iou')!r}")
  if source.kind == "shape" and metric != "iou":
    raise ValueError(f"shape source {source.name} needs config.fit.metric='iou'")
  for name in ("max_steps", "chunk_steps", "slots_per_device"):
    if int(config.fit[name]) < 1:
      raise ValueError(f"config.fit.{name} must be >= 1, got {config.fit[name]}")
  if not config.fit.lr > 0:
    raise ValueError(f"config.fit.lr must be > 0, got {config.fit.lr}")


def select_objects(labels: np.ndarray, cap: int) -> np.ndarray:
  """Class-balanced selection of at most ``cap`` objects (0 = all).

  Objects are taken round-robin over classes in their split order (the ``r``-th
  object of every class before any ``r+1``-th), so class counts differ by at
  most one. Returns sorted indices into ``labels``.
  """
  labels = np.asarray(labels)
  if cap == 0 or cap >= len(labels):
    return np.arange(len(labels))
  rank = np.zeros(len(labels), np.int64)
  for c in np.unique(labels):
    members = np.flatnonzero(labels == c)
    rank[members] = np.arange(len(members))
  order = np.lexsort((labels, rank))  # by rank, then class
  return np.sort(order[:cap])


def _metric(config) -> str:
  return config.fit.get("metric", IDENTITY_DEFAULTS["fit.metric"])


class _SplitPlan(NamedTuple):
  name: str
  objects: sources.Objects  # all objects of the split
  labels: np.ndarray  # (num_objects,) of the selected objects
  object_ids: np.ndarray  # (num_objects,) index into the split
  views: int

  def signals(self, pos: np.ndarray):
    """``(coords or None, targets)`` of the selected objects at ``pos``."""
    return self.objects.signals(self.object_ids[pos])

  @property
  def num_records(self) -> int:
    return len(self.object_ids) * self.views

  def jobs(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions (into the selected objects) and views of records [start, stop)."""
    n = len(self.object_ids)
    rec = np.arange(start, stop)
    return rec % n, rec // n


def _load_split(config, split: str) -> sources.Objects:
  source = sources.get(config.source)
  return source.load(split, config.data_dir, config.get("shape"))


def _load_source(config) -> tuple[dict[str, _SplitPlan], str]:
  """Loads the objects of every split (raises on missing/corrupt files)."""
  plans, digest = {}, hashlib.sha256()
  caps = {"train": config.objects, "val": config.val_objects,
          "test": config.test_objects}
  for split in config.splits:
    objects = _load_split(config, split)
    digest.update(split.encode())
    objects.fingerprint(digest)
    labels = objects.labels
    ids = select_objects(labels, int(caps[split]))
    views = int(config.views) if split == "train" else 1
    plans[split] = _SplitPlan(split, objects, labels[ids], ids.astype(np.int32),
                              views)
  return plans, digest.hexdigest()


def _versions() -> dict[str, str]:
  out = {}
  for pkg in ("dws_jax", "jax", "jaxlib", "optax", "numpy", "tensorflow-datasets",
              "array-record"):
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
      out[pkg] = importlib.metadata.version(pkg)
  return out


def _shard_names(plan: _SplitPlan, shard_size: int) -> list[tuple[str, int, int]]:
  n = max(1, -(-plan.num_records // shard_size))
  return [(f"{plan.name}-{k:05d}-of-{n:05d}", k * shard_size,
           min((k + 1) * shard_size, plan.num_records)) for k in range(n)]


def _metadata(config, plans, source_sha) -> dict[str, Any]:
  spec = spec_from_config(config)
  cfg = config_utils.to_dict(config)
  source = sources.get(config.source)
  return {
      "format_version": FORMAT_VERSION,
      "config": cfg,
      "identity": _identity(cfg, source_sha),
      "spec": {"layer_sizes": list(spec.layer_sizes), "activation": spec.activation,
               "w0": spec.w0, "w0_first": spec.w0_first,
               "output_offset": spec.output_offset},
      "flat_layout": [{"kind": e.kind, "layer": e.layer, "shape": list(e.shape),
                       "offset": e.offset} for e in spec.flat_layout],
      "num_params": spec.num_params,
      "source": {"name": config.source,
                 "kind": source.kind,
                 "data_dir": str(config.data_dir or source.default_dir()),
                 "sha256": source_sha,
                 "split_rule": source.split_rule,
                 "object_selection": select_objects.__doc__.strip().splitlines()[0],
                 "pixels" if source.kind == "image" else "values":
                     source.value_range,
                 "class_names": list(source.class_names),
                 "num_classes": source.num_classes},
      "metric": _metric(config),
      "key_rule": "fold_in(fold_in(fold_in(key(seed), split_id), object_id), view)",
      "seed": int(config.seed),
      "split_ids": SPLIT_IDS,
      "splits": {name: {"num_objects": len(p.object_ids), "views": p.views,
                        "num_records": p.num_records,
                        "shards": [s for s, _, _ in _shard_names(p, config.shard_size)]}
                 for name, p in plans.items()},
      "record_order": "view-major: all objects' view 0, then view 1, ...",
      "versions": _versions(),
  }


def read_metadata(out_dir: paths.PathLike) -> dict[str, Any]:
  path = paths.as_path(out_dir) / METADATA_FILE
  if not path.exists():
    raise FileNotFoundError(f"{path} not found: {out_dir} is not an INR dataset "
                            "directory (make one with dws-fit-inrs)")
  return json.loads(path.read_text())


# -----------------------------------------------------------------------------
# Atomic files.
# -----------------------------------------------------------------------------


def atomic_write(path: paths.PathLike, data: bytes) -> None:
  """Writes ``data`` to ``path`` atomically (temp file, fsync, rename).

  At a URI: one object upload (:func:`dws_jax.paths.write_atomic`).
  """
  paths.write_atomic(path, data, fsync=True)


def _shard_paths(out_dir: epath.Path, name: str
                 ) -> tuple[epath.Path, epath.Path]:
  base = out_dir / SHARD_DIR / name
  return base.with_name(name + ".npz"), base.with_name(name + ".done.json")


def _write_shard(out_dir: epath.Path, name: str, arrays: dict[str, np.ndarray],
                 info: dict[str, Any]) -> None:
  import io  # pylint: disable=g-import-not-at-top
  buf = io.BytesIO()
  np.savez(buf, **arrays)
  data = buf.getvalue()
  shard, marker = _shard_paths(out_dir, name)
  atomic_write(shard, data)
  info = dict(info, sha256=hashlib.sha256(data).hexdigest(),
              num_records=int(len(arrays["params"])))
  atomic_write(marker, (json.dumps(info, indent=1) + "\n").encode())


def _shard_complete(out_dir: epath.Path, name: str, expected: int) -> bool:
  shard, marker = _shard_paths(out_dir, name)
  if not (shard.exists() and marker.exists()):
    return False
  try:
    info = json.loads(marker.read_text())
  except ValueError:
    return False
  return (info.get("num_records") == expected and
          info.get("sha256") == hashlib.sha256(shard.read_bytes()).hexdigest())


def read_shard(out_dir: paths.PathLike, name: str) -> dict[str, np.ndarray]:
  """Reads a completed shard; raises if its completion marker is missing/invalid."""
  out_dir = paths.as_path(out_dir)
  shard, marker = _shard_paths(out_dir, name)
  if not marker.exists():
    raise FileNotFoundError(f"shard {shard} has no completion marker {marker.name}")
  data = shard.read_bytes()
  info = json.loads(marker.read_text())
  if info.get("sha256") != hashlib.sha256(data).hexdigest():
    raise ValueError(f"shard {shard} does not match the checksum in {marker.name}")
  import io  # pylint: disable=g-import-not-at-top
  with np.load(io.BytesIO(data)) as z:
    return {k: z[k] for k in z.files}


# -----------------------------------------------------------------------------
# Generation.
# -----------------------------------------------------------------------------


def make_fitter(config, mesh: jax.sharding.Mesh | None = None
                ) -> fitting.RefillFitter:
  """The :class:`~dws_jax.fitting.RefillFitter` of ``config`` (all local devices)."""
  mesh = fitting.local_mesh() if mesh is None else mesh
  fit = config.fit
  source = sources.get(config.source)
  if source.kind == "image":
    coords, num_points = siren.make_grid(source.resolution), None
  else:
    from dws_jax.data import shapes  # pylint: disable=g-import-not-at-top
    coords = None
    num_points = shapes.ShapeOptions.from_config(config.get("shape")).num_points
  metric = _metric(config)
  return fitting.RefillFitter(
      spec_from_config(config), coords, lr=fit.lr,
      init=config.inr.init, max_steps=fit.max_steps, target_psnr=fit.target_psnr,
      chunk_steps=fit.chunk_steps, slots=fit.slots_per_device * mesh.devices.size,
      sin=fit.sin, mesh=mesh, metric=metric,
      target_iou=fit.get("target_iou", 0.0) if metric == "iou" else 0.95,
      num_points=num_points)


def _check_existing(out_dir: epath.Path, meta: dict[str, Any]) -> bool:
  """True if ``out_dir`` already holds this dataset; raises on a clash."""
  path = out_dir / METADATA_FILE
  if not path.exists():
    if out_dir.exists() and any(out_dir.iterdir()):
      raise FileExistsError(f"{out_dir} is not empty and has no {METADATA_FILE}; "
                            "refusing to write an INR dataset into it")
    return False
  try:
    old = json.loads(path.read_text())
  except ValueError as e:
    raise ValueError(f"{path} is not valid JSON; refusing to write into "
                     f"{out_dir}") from e
  prev, new = old.get("identity", {}), meta["identity"]
  diff = sorted(k for k in set(prev) | set(new) if prev.get(k) != new.get(k))
  if diff:
    details = "; ".join(f"{k}: {prev.get(k, '<absent>')!r} (on disk) vs "
                        f"{new.get(k, '<absent>')!r} (now)" for k in diff[:10])
    raise ValueError(
        f"{out_dir} holds an INR dataset made with a different config; differing "
        f"keys: {details}. Use another output directory (or delete this one).")
  return True


def generate(config: ml_collections.ConfigDict, out_dir: paths.PathLike, *,
             max_shards: int | None = None, progress: bool = True,
             mesh: jax.sharding.Mesh | None = None) -> dict[str, Any]:
  """Fits (or resumes fitting) the INR dataset of ``config`` into ``out_dir``.

  Args:
    config: an INR dataset config (``configs/inrs/fmnist.py``).
    out_dir: output directory (created).
    max_shards: stop after writing this many new shards (the run can be
      resumed later); None runs to completion and builds the tfds dataset.
    progress: show a tqdm bar with INRs/s and ETA.
    mesh: 1-D ``"inr"`` mesh to shard the INR slots over (default: all local
      devices).

  Returns:
    ``{"complete": bool, "new_shards": int, "summary": per-split stats or None}``.

  Raises:
    FileNotFoundError / ValueError: missing or corrupt source files, an invalid
      config, or ``out_dir`` made with a different config. Nothing is written
      in these cases.
  """
  validate_config(config)
  out_dir = paths.as_path(out_dir)
  plans, source_sha = _load_source(config)
  meta = _metadata(config, plans, source_sha)
  exists = _check_existing(out_dir, meta)
  (out_dir / SHARD_DIR).mkdir(parents=True, exist_ok=True)
  if not exists:
    atomic_write(out_dir / METADATA_FILE, (json.dumps(meta, indent=1) + "\n").encode())

  todo = []  # (plan, name, start, stop)
  for plan in plans.values():
    for name, start, stop in _shard_names(plan, config.shard_size):
      if not _shard_complete(out_dir, name, stop - start):
        todo.append((plan, name, start, stop))
  # View 0 of every split first (then view 1, ...): a 1-view subset is ready
  # long before the last views are. Shard contents do not depend on the order.
  todo.sort(key=lambda job: job[2] // max(1, len(job[0].object_ids)))
  if max_shards is not None:
    todo = todo[:max_shards]

  new_shards = 0
  if todo:
    fitter = make_fitter(config, mesh)
    total = sum(stop - start for _, _, start, stop in todo)
    bar = _progress_bar(total, progress)

    def blocks():
      for plan, _, start, stop in todo:
        pos, views = plan.jobs(start, stop)
        keys = fitting.inr_key_data(config.seed, SPLIT_IDS[plan.name],
                                    plan.object_ids[pos], views)
        coords, targets = plan.signals(pos)
        yield (keys, targets) if coords is None else (keys, targets, coords)

    runtime = {k: v for k, v in config_utils.flatten(config_utils.to_dict(config)).items()
               if any(k == r or k.startswith(r + ".") for r in RUNTIME_KEYS)}
    runtime["num_devices"] = int(fitter.mesh.devices.size)
    try:
      for index, result in fitter.fit_blocks(blocks(), progress=bar.update):
        plan, name, start, stop = todo[index]
        pos, views = plan.jobs(start, stop)
        arrays = {"params": result.params, "label": plan.labels[pos].astype(np.int32),
                  "object_id": plan.object_ids[pos].astype(np.int32),
                  "view": views.astype(np.int32), "psnr": result.psnr,
                  "steps": result.steps}
        if result.iou is not None:
          arrays["iou"] = result.iou
        _write_shard(out_dir, name, arrays,
                     {"split": plan.name, "start": start, "stop": stop,
                      "runtime": runtime, "time": time.time()})
        new_shards += 1
    finally:
      bar.close()

  complete = all(_shard_complete(out_dir, name, stop - start)
                 for plan in plans.values()
                 for name, start, stop in _shard_names(plan, config.shard_size))
  summary = None
  if complete:
    summary = _summarize(out_dir, meta)
    build_tfds(out_dir)
  return {"complete": complete, "new_shards": new_shards, "summary": summary}


def _progress_bar(total: int, enabled: bool):
  import tqdm  # pylint: disable=g-import-not-at-top
  return tqdm.tqdm(total=total, unit="INR", disable=not enabled, smoothing=0.05,
                   dynamic_ncols=True, desc="fitting INRs")


def _iter_split(out_dir: epath.Path, meta: dict[str, Any], split: str
                ) -> Iterator[dict[str, np.ndarray]]:
  for name in meta["splits"][split]["shards"]:
    yield read_shard(out_dir, name)


def _summarize(out_dir: epath.Path, meta: dict[str, Any]) -> dict[str, Any]:
  metric = meta.get("metric", "psnr")
  fit = meta["config"]["fit"]
  target = fit["target_iou"] if metric == "iou" else fit["target_psnr"]
  summary = {}
  for split in meta["splits"]:
    parts = list(_iter_split(out_dir, meta, split))
    psnr = np.concatenate([p["psnr"] for p in parts])
    steps = np.concatenate([p["steps"] for p in parts])
    score = np.concatenate([p[metric] for p in parts])
    summary[split] = {
        "num_inrs": int(len(psnr)),
        "psnr_mean": float(np.mean(psnr)) if len(psnr) else None,
        "psnr_median": float(np.median(psnr)) if len(psnr) else None,
        "psnr_min": float(np.min(psnr)) if len(psnr) else None,
        "fraction_reached_target": float(np.mean(score >= target)) if len(psnr) else None,
        "steps_mean": float(np.mean(steps)) if len(psnr) else None,
        "steps_max": int(np.max(steps)) if len(psnr) else None,
    }
    if metric == "iou":
      summary[split].update({
          "iou_mean": float(np.mean(score)) if len(psnr) else None,
          "iou_median": float(np.median(score)) if len(psnr) else None,
          "iou_min": float(np.min(score)) if len(psnr) else None})
  atomic_write(out_dir / SUMMARY_FILE, (json.dumps(summary, indent=1) + "\n").encode())
  return summary


# -----------------------------------------------------------------------------
# tfds ArrayRecord dataset.
# -----------------------------------------------------------------------------


class InrDataset(tfds.core.GeneratorBasedBuilder):
  """tfds builder of a fitted INR dataset; reads the completed shards of OUT."""

  VERSION = tfds.core.Version(TFDS_VERSION)
  RELEASE_NOTES = {TFDS_VERSION: "INRs fitted by dws_jax."}

  def __init__(self, *, shard_root: str | None = None, **kwargs):
    self._shard_root = shard_root
    super().__init__(**kwargs)

  def _info(self) -> tfds.core.DatasetInfo:
    meta = read_metadata(self._shard_root) if self._shard_root else None
    num_params = meta["num_params"] if meta else None
    features = {
        "params": tfds.features.Tensor(shape=(num_params,), dtype=np.float32),
        "label": tfds.features.Tensor(shape=(), dtype=np.int32),
        "object_id": tfds.features.Tensor(shape=(), dtype=np.int32),
        "view": tfds.features.Tensor(shape=(), dtype=np.int32),
        "psnr": tfds.features.Tensor(shape=(), dtype=np.float32),
        "steps": tfds.features.Tensor(shape=(), dtype=np.int32),
    }
    if meta and meta.get("metric") == "iou":
      features["iou"] = tfds.features.Tensor(shape=(), dtype=np.float32)
    return tfds.core.DatasetInfo(
        builder=self,
        description="SIREN INRs fitted by dws_jax; see metadata.json beside tfds/.",
        features=tfds.features.FeaturesDict(features),
        supervised_keys=("params", "label"),
        disable_shuffling=True,
    )

  def _split_generators(self, dl_manager):
    del dl_manager
    meta = read_metadata(self._shard_root)
    return {split: self._generate_examples(split) for split in meta["splits"]}

  def _generate_examples(self, split):
    root = paths.as_path(self._shard_root)
    meta = read_metadata(root)
    keys = ("params", "label", "object_id", "view", "psnr", "steps") + (
        ("iou",) if meta.get("metric") == "iou" else ())
    index = 0
    for part in _iter_split(root, meta, split):
      for i in range(len(part["params"])):
        yield index, {k: part[k][i] for k in keys}
        index += 1


def tfds_dir(out_dir: paths.PathLike) -> epath.Path:
  """Directory of the prepared tfds dataset (for ``tfds.builder_from_directory``)."""
  return paths.as_path(out_dir) / TFDS_DIR / TFDS_NAME / TFDS_VERSION


INFO_FILE = "dataset_info.json"  # written last: the tfds dataset is complete


def build_tfds(out_dir: paths.PathLike) -> epath.Path:
  """Builds (once) the tfds ArrayRecord dataset from the completed shards.

  At a URI it is built in a local temporary directory and uploaded,
  :data:`INFO_FILE` last.
  """
  out_dir = paths.as_path(out_dir)
  target = tfds_dir(out_dir)
  if (target / INFO_FILE).exists():
    return target
  if not paths.is_uri(out_dir):
    _prepare_tfds(out_dir, out_dir / TFDS_DIR)
    return target
  with tempfile.TemporaryDirectory(prefix="dws_inrs_") as tmp:
    _prepare_tfds(out_dir, paths.as_path(tmp))
    paths.copy_tree(tmp, out_dir / TFDS_DIR, last=INFO_FILE)
  return target


def _prepare_tfds(out_dir: epath.Path, data_dir: epath.Path) -> None:
  """Writes the tfds dataset of the shards of ``out_dir`` under local ``data_dir``."""
  builder = InrDataset(shard_root=str(out_dir), data_dir=str(data_dir),
                       file_format="array_record")
  was_active = tfds.core.utils.tqdm_utils._active  # pylint: disable=protected-access
  tfds.display_progress_bar(False)
  try:
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(verify_ssl=False))
  finally:
    tfds.display_progress_bar(was_active)


# Local copies of the tfds datasets at URIs, by URI; removed at exit.
_DOWNLOADS: dict[str, tempfile.TemporaryDirectory] = {}


def _local_tfds_dir(target: epath.Path) -> epath.Path:
  """``target`` (a tfds dataset directory), downloaded once first if a URI."""
  if not paths.is_uri(target):
    return target
  key = os.fspath(target)
  if key not in _DOWNLOADS:
    tmp = tempfile.TemporaryDirectory(prefix="dws_inrs_")
    paths.copy_tree(target, os.path.join(tmp.name, TFDS_NAME, TFDS_VERSION),
                    last=INFO_FILE)
    _DOWNLOADS[key] = tmp
  return paths.as_path(os.path.join(_DOWNLOADS[key].name, TFDS_NAME,
                                    TFDS_VERSION))


def data_source(out_dir: paths.PathLike, split: str):
  """``tfds`` random-access data source of a split (no TensorFlow needed).

  A dataset at a URI is read from a local copy (made once per process).
  """
  target = tfds_dir(out_dir)
  if not (target / INFO_FILE).exists():
    raise FileNotFoundError(_incomplete_message(out_dir))
  builder = tfds.builder_from_directory(str(_local_tfds_dir(target)))
  if split not in builder.info.splits:
    raise ValueError(f"unknown split {split!r}; {out_dir} has "
                     f"{sorted(builder.info.splits)}")
  return builder.as_data_source(split=split)


def _incomplete_message(out_dir) -> str:
  try:
    meta = read_metadata(out_dir)
  except FileNotFoundError as e:
    return str(e)
  names = [(n, meta["splits"][s]["num_records"]) for s in meta["splits"]
           for n in meta["splits"][s]["shards"]]
  done = sum(1 for n, _ in names
             if (paths.as_path(out_dir) / SHARD_DIR / (n + ".done.json")).exists())
  return (f"INR dataset {out_dir} is incomplete ({done} of {len(names)} shards "
          "done, no tfds dataset yet); rerun the same dws-fit-inrs command to "
          "resume it")


# -----------------------------------------------------------------------------
# Loading.
# -----------------------------------------------------------------------------


def spec_from_metadata(meta: dict[str, Any]) -> wsp.WeightSpaceSpec:
  s = meta["spec"]
  return wsp.WeightSpaceSpec(tuple(s["layer_sizes"]), s["activation"], s["w0"],
                             s["w0_first"], s["output_offset"])


def _read_records(source, count: int, batch: int = 4096) -> dict[str, np.ndarray]:
  parts: dict[str, list] = {}
  for start in range(0, count, batch):
    records = source.__getitems__(list(range(start, min(start + batch, count))))
    for key in records[0] if records else ():
      parts.setdefault(key, []).append(np.stack([r[key] for r in records]))
  return {k: np.concatenate(v) for k, v in parts.items()}


def load_inr_split(data_dir: paths.PathLike, split: str, views: int = 1, *,
                   sharding: jax.sharding.Sharding | None = None) -> InrSplit:
  """Loads the first ``views`` views of every object of a split onto device.

  Args:
    data_dir: an INR dataset directory made by :func:`generate`.
    split: ``"train"``, ``"val"`` or ``"test"``.
    views: number of views per object (val and test have only view 0, so any
      ``views >= 1`` gives view 0 there).
    sharding: where to put the arrays (default: the default device).

  Returns:
    :class:`InrSplit`, records ordered view-major (view 0 of all objects, then
    view 1, ...), objects by ascending ``object_id``.
  """
  meta = read_metadata(data_dir)
  if split not in meta["splits"]:
    raise ValueError(f"unknown split {split!r}; {data_dir} has "
                     f"{sorted(meta['splits'])}")
  info = meta["splits"][split]
  if int(views) != views or views < 1:
    raise ValueError(f"views must be a positive integer, got {views!r}")
  if split == "train" and views > info["views"]:
    raise ValueError(f"views={views}, but the train split of {data_dir} has only "
                     f"{info['views']} view(s) per object")
  views = min(int(views), info["views"])
  source = data_source(data_dir, split)
  count = info["num_objects"] * views
  if len(source) != info["num_records"]:
    raise ValueError(f"{split} of {data_dir}: tfds has {len(source)} records, "
                     f"metadata says {info['num_records']}")
  rec = _read_records(source, count)
  if count == 0:
    raise ValueError(f"split {split!r} of {data_dir} is empty")
  expected_views = np.repeat(np.arange(views), info["num_objects"])
  if not np.array_equal(rec["view"], expected_views):
    raise ValueError(f"{split} of {data_dir}: records are not in view-major order")
  spec = spec_from_metadata(meta)
  put = (lambda x: jax.device_put(x, sharding)) if sharding else jax.device_put
  ws = wsp.from_flat(put(rec["params"].astype(np.float32)), spec)
  return InrSplit(ws, put(rec["label"].astype(np.int32)),
                  put(rec["object_id"].astype(np.int32)),
                  put(rec["view"].astype(np.int32)),
                  put(rec["psnr"].astype(np.float32)),
                  put(rec["steps"].astype(np.int32)),
                  put(rec["iou"].astype(np.float32)) if "iou" in rec else None)


HELDOUT_SPLIT = "heldout_view"


def load_for_training(data_dir: paths.PathLike, views: int = 1, *,
                      objects: int = 0, heldout_view: int | None = None):
  """Train, val and test (view 0) as ``train.InrData``.

  Args:
    data_dir: an INR dataset directory made by :func:`generate`.
    views: train on the first ``views`` views of every train object.
    objects: class-balanced cap on the train objects (0 = all of them), the
      same rule as the dataset's own caps (:func:`select_objects`).
    heldout_view: when given, also returns split ``"heldout_view"``: that view
      of the (selected) train objects, for internal generalisation (new views
      of objects seen in training). It must not be one of the trained views.

  Raises:
    ValueError: ``objects`` < 0, or ``heldout_view`` is trained on or absent.
  """
  meta = read_metadata(data_dir)
  if int(objects) < 0:
    raise ValueError(f"objects must be >= 0 (0 = all), got {objects}")
  if heldout_view is not None and not views <= heldout_view < meta["splits"][
      "train"]["views"]:
    raise ValueError(
        f"heldout_view={heldout_view} must be a view that is not trained on "
        f"(>= views={views}) and that {data_dir} has (< "
        f"{meta['splits']['train']['views']})")
  splits = {}
  for split in ("train", "val", "test"):
    if split not in meta["splits"]:
      continue
    want = views if split == "train" else 1
    if split == "train" and heldout_view is not None:
      want = heldout_view + 1
    s = load_inr_split(data_dir, split, want)
    if split != "train":
      splits[split] = types.Split(s.ws, s.labels)
      continue
    num = meta["splits"]["train"]["num_objects"]
    keep = np.zeros(num, bool)
    keep[select_objects(np.asarray(s.labels[:num]), int(objects))] = True
    for name, lo, hi in (("train", 0, views), (HELDOUT_SPLIT, heldout_view,
                                               (heldout_view or 0) + 1)):
      if lo is None:
        continue
      idx = np.flatnonzero(np.tile(keep, hi - lo)) + lo * num
      splits[name] = types.Split(s.ws[idx], s.labels[idx])
  num_classes = int(max(int(jnp.max(s.labels)) for s in splits.values()) + 1)
  known = meta["source"].get("num_classes")
  if known is None and meta["source"]["name"] in sources.MODULES:
    known = sources.get(meta["source"]["name"]).num_classes
  num_classes = max(num_classes, known or num_classes)
  return types.InrData(splits, spec_from_metadata(meta), num_classes)


def refit(config: ml_collections.ConfigDict, split: str, object_id: int,
          view: int, mesh: jax.sharding.Mesh | None = None
          ) -> fitting.BlockResult:
  """Regenerates one INR alone (same key and signal as in the dataset)."""
  validate_config(config)
  objects = _load_split(config, split)
  if not 0 <= object_id < len(objects):
    raise ValueError(f"object_id {object_id} out of range for {split} "
                     f"({len(objects)} objects)")
  keys = fitting.inr_key_data(config.seed, SPLIT_IDS[split], [object_id], [view])
  fitter = make_fitter(config, mesh)
  coords, targets = objects.signals(np.array([object_id]))
  return fitter.fit(keys, targets, coords=coords)
