# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""``train_and_evaluate(config, workdir)``: the training loop.

The whole INR dataset sits on device (replicated over the ``"data"`` mesh
axis); each jitted step gathers its batch, augments it and updates with optax
(:mod:`dws_jax.steps`). Every epoch evaluates on val and test (view 0 only),
keeps the best-val checkpoint (latest of ties) and the latest checkpoint, and
logs metrics. Rerunning the same command on the same workdir resumes exactly:
data order and random draws are pure functions of ``(seed, step)``.

``config.task = "contrastive"`` trains the same way without labels
(:mod:`dws_jax.contrastive`): NT-Xent on two augmented views, and a linear
probe and k-NN on frozen embeddings at step 0, every ``probe.every_epochs``
epochs and at the end in place of the val/test evaluation.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from typing import Any, Callable

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import tqdm

from dws_jax import checkpointing
from dws_jax import config_utils
from dws_jax import contrastive
from dws_jax import metric_writers
from dws_jax import optim
from dws_jax import parallel
from dws_jax import paths
from dws_jax import prng
from dws_jax import steps
from dws_jax import train_state as ts
from dws_jax import weight_space as wsp
from dws_jax.data.types import InrData

CONFIG_FILE = "config.json"
SUMMARY_FILE = "summary.json"
CURVES_FILE = "curves.png"
EVAL_SPLITS = ("val", "test")
# Optional eval split: an untrained view of the train objects (internal
# generalisation), made by ``config.data.heldout_view``.
HELDOUT_SPLIT = "heldout_view"


def load_data(config: ml_collections.ConfigDict) -> InrData:
  """Loads train (first ``views`` views), val and test (view 0) from disk."""
  from dws_jax.data import inr_dataset  # pylint: disable=g-import-not-at-top
  heldout = config.data.get("heldout_view", -1)
  return inr_dataset.load_for_training(
      config.data.dir, views=config.data.views,
      objects=config.data.get("objects", 0),
      heldout_view=None if heldout < 0 else heldout)


def prepare_workdir(config: ml_collections.ConfigDict, workdir: paths.PathLike,
                    overwrite: bool) -> None:
  """Creates ``workdir`` or checks it was made by the same config.

  ``workdir`` is a local path or a URI (``gs://bucket/run``).

  Raises:
    ValueError: the workdir holds a run of a different config (the message
      names the differing keys) and ``overwrite`` is False, or it is a URI of
      a scheme etils.epath does not handle.
  """
  root = paths.as_path(workdir)
  path = root / CONFIG_FILE
  current = config_utils.to_dict(config)
  if path.exists():
    previous = json.loads(path.read_text())
    diff = config_utils.config_diff(previous, current)
    if diff:
      if not overwrite:
        old, new = config_utils.flatten(previous), config_utils.flatten(current)
        details = ", ".join(f"{k}: {old.get(k)!r} -> {new.get(k)!r}"
                            for k in diff[:8])
        raise ValueError(
            f"workdir {workdir} holds a run made with a different config "
            f"({details}); use another --workdir, or pass --overwrite to "
            "delete it and start over")
      if jax.process_index() == 0:
        root.rmtree()
  if jax.process_index() == 0:
    root.mkdir(parents=True, exist_ok=True)
    paths.write_atomic(path, json.dumps(current, indent=2, sort_keys=True))


def build_model(config: ml_collections.ConfigDict, spec: wsp.WeightSpaceSpec,
                num_classes: int):
  from dws_jax import models  # pylint: disable=g-import-not-at-top
  kwargs = config.model.to_dict()
  name = kwargs.pop("name")
  return models.get(name, spec=spec, num_classes=num_classes, **kwargs)


def build_augmentation(config: ml_collections.ConfigDict,
                       spec: wsp.WeightSpaceSpec, num_classes: int
                       ) -> Callable | None:
  if not config.aug or config.aug == "none":
    return None
  from dws_jax import augment  # pylint: disable=g-import-not-at-top
  return augment.build(config.aug, spec, num_classes=num_classes)


POOL_SPLIT = "partner_pool"


def _partner_pool(data: InrData, config: ml_collections.ConfigDict
                  ) -> steps.Split:
  """MixUp partner pool of ``reference_compat=True``: every training view.

  The official loader draws MixUp partners from all the views of the training
  set, even when training uses fewer (``config.data.views``). The pool is
  ``data.splits["partner_pool"]`` when given, else every view of the train
  split of ``config.data.dir``.
  """
  if POOL_SPLIT in data.splits:
    pool = data.splits[POOL_SPLIT]
  elif config.data.get("dir"):
    from dws_jax.data import inr_dataset  # pylint: disable=g-import-not-at-top
    meta = inr_dataset.read_metadata(config.data.dir)
    split = inr_dataset.load_inr_split(
        config.data.dir, "train", views=meta["splits"]["train"]["views"])
    pool = steps.Split(split.ws, split.labels)
  else:
    raise ValueError(
        f"aug={config.aug!r} draws MixUp partners from every training view "
        f"(reference_compat=True): give data.splits[{POOL_SPLIT!r}] or set "
        "config.data.dir")
  _check_split(data, pool, "partner pool")
  return pool


def _check_split(data: InrData, split: steps.Split, name: str) -> None:
  """Finite weights of ``data.spec`` and labels ``(N,)`` in range."""
  data.spec.validate(split.ws, batch_ndim=1, allow_nonfinite=False,
                     name=f"{name} weights")
  labels = np.asarray(split.labels)
  if labels.shape != split.ws.batch_shape:
    raise ValueError(f"{name} labels have shape {labels.shape}, weights have "
                     f"batch {split.ws.batch_shape}")
  if labels.size and (labels.min() < 0 or labels.max() >= data.num_classes):
    raise ValueError(f"{name} labels must be in [0, {data.num_classes}), got "
                     f"[{labels.min()}, {labels.max()}]")


def _check_data(data: InrData, config: ml_collections.ConfigDict,
                num_devices: int) -> None:
  for name in ("train",) + EVAL_SPLITS:
    if name not in data.splits:
      raise ValueError(f"dataset has no {name!r} split")
    _check_split(data, data.splits[name], name)
  num_train = data.splits["train"].ws.batch_shape[0]
  if config.batch_size % num_devices:
    raise ValueError(f"batch_size={config.batch_size} is not divisible by the "
                     f"{num_devices} devices of the mesh")
  epoch_steps = config.get("epoch_steps", 0)
  if not isinstance(epoch_steps, int) or epoch_steps < 0:
    raise ValueError(f"epoch_steps must be an integer >= 0 (0 = one pass over "
                     f"the train set), got {epoch_steps!r}")
  if num_train < config.batch_size:
    raise ValueError(f"train split has {num_train} INRs, fewer than "
                     f"batch_size={config.batch_size}")


def _eval_chunks(split: steps.Split, chunk: int, mesh):
  """Pads a split to whole chunks; returns the device (ws, labels, mask) chunks."""
  num = split.ws.batch_shape[0]
  total = max(chunk, math.ceil(num / chunk) * chunk)
  pad = lambda x: np.concatenate(
      [np.asarray(x), np.zeros((total - num,) + x.shape[1:], x.dtype)])
  ws = jax.tree.map(pad, split.ws)
  labels = pad(np.asarray(split.labels))
  mask = np.concatenate([np.ones(num, np.float32),
                         np.zeros(total - num, np.float32)])
  sharding = parallel.data_sharded(mesh)
  return [parallel.put_global(
      jax.tree.map(lambda x, start=start: x[start:start + chunk], (ws, labels, mask)),
      sharding) for start in range(0, total, chunk)]


@dataclasses.dataclass
class _Best:
  val_accuracy: float = -1.0
  epoch: int = -1
  step: int = -1
  test_accuracy: float = float("nan")
  val_loss: float = float("nan")
  heldout_accuracy: float = float("nan")


def train_and_evaluate(config: ml_collections.ConfigDict,
                       workdir: paths.PathLike, *,
                       data: InrData | None = None, overwrite: bool = False
                       ) -> dict[str, Any]:
  """Trains ``config.model`` on the INR dataset and evaluates every epoch.

  Args:
    config: run config (see ``configs/fmnist_dwsnet.py``).
    workdir: where checkpoints, metrics, curves and the summary go: a local
      path or a URI (``gs://bucket/run``). Reusing a workdir resumes; a
      workdir of another config is refused.
    data: the dataset; loaded from ``config.data.dir`` when None.
    overwrite: delete a workdir made by a different config.

  Returns:
    The summary dict (also written to ``workdir/summary.json``).
  """
  contrastive_run = contrastive.task_of(config) == "contrastive"
  if contrastive_run:
    contrastive.check_config(config)
  prepare_workdir(config, workdir, overwrite)
  is_main = jax.process_index() == 0
  mesh = parallel.make_mesh(config.num_devices)
  num_devices = mesh.devices.size
  data = load_data(config) if data is None else data
  _check_data(data, config, num_devices)
  spec, num_classes = data.spec, data.num_classes
  num_train = data.splits["train"].ws.batch_shape[0]
  # An "epoch" is one pass over the train set, or config.epoch_steps steps
  # when set (equal step budgets across view counts; data order still
  # reshuffles after every full pass, steps.batch_indices).
  steps_per_epoch = config.get("epoch_steps", 0) or num_train // config.batch_size
  total_steps = steps_per_epoch * config.num_epochs
  eval_splits = EVAL_SPLITS + ((HELDOUT_SPLIT,) if HELDOUT_SPLIT in data.splits
                               and not contrastive_run else ())

  model = build_model(config, spec, num_classes)
  if contrastive_run:
    model = contrastive.wrap_model(config, model)
  aug_fn = build_augmentation(config, spec, num_classes)
  tx = optim.make_optimizer(config.optim)
  prng_impl = prng.resolve(config.get("prng_impl", prng.AUTO))
  key = prng.root_key(config.seed, prng_impl)
  repl = parallel.replicated(mesh)

  # Every process draws the same values from the same key.
  sample = jax.tree.map(lambda x: jnp.asarray(np.asarray(x[:2])),
                        data.splits["train"].ws)
  params_key, dropout_key = jax.random.split(
      jax.random.fold_in(key, steps.INIT_STREAM))
  state = ts.create(model, tx, {"params": params_key, "dropout": dropout_key},
                    sample, repl, config.get("init_mode", "auto"))
  num_params = sum(int(np.prod(x.shape)) for x in jax.tree.leaves(state.params))

  root = paths.as_path(workdir)
  ckpt = checkpointing.Checkpointer(root / "checkpoints")
  best_ckpt = checkpointing.Checkpointer(root / "best", max_to_keep=1)
  best = _Best()
  epoch_sums = {"loss": 0.0, "accuracy": 0.0, "count": 0}
  window = {"loss": 0.0, "count": 0}
  train_seconds = 0.0
  if ckpt.latest_step() is not None:
    state, meta = ckpt.restore(state)
    best = _Best(**meta["best"])
    epoch_sums, window = meta["epoch_sums"], meta["window"]
    train_seconds = meta["train_seconds"]
  start_step = int(state.step)
  writer = metric_writers.MetricWriter(workdir, start_step, enabled=is_main)

  train_data = parallel.put_replicated(data.splits["train"], mesh)
  pool_data = None
  if aug_fn is not None and aug_fn.needs_partner_pool:
    pool = _partner_pool(data, config)
    # Soft labels once here, not in every step.
    soft = np.eye(num_classes, dtype=np.float32)[np.asarray(pool.labels)]
    pool_data = parallel.put_replicated((pool.ws, soft), mesh)
  stats = (parallel.put_replicated(steps.weight_statistics(
      jax.tree.map(np.asarray, data.splits["train"].ws)), mesh)
           if config.data.normalize else None)
  eval_data = {name: _eval_chunks(data.splits[name], _round_up(
      min(config.eval_batch_size, data.splits[name].ws.batch_shape[0]),
      num_devices), mesh) for name in eval_splits}
  if contrastive_run:
    make_step = lambda **kw: contrastive.make_train_step(
        temperature=config.contrastive.temperature,
        num_views=config.data.views, **kw)
    make_eval = lambda num_classes, **kw: contrastive.make_embed_step(**kw)
    num_objects = num_train // config.data.views
    probe_train = jax.tree.map(lambda x: x[:num_objects],
                               data.splits["train"])  # view 0 of each object
    eval_data["probe_train"] = _eval_chunks(probe_train, _round_up(
        min(config.eval_batch_size, num_objects), num_devices), mesh)
  else:
    make_step = lambda **kw: steps.make_train_step(num_classes=num_classes,
                                                   **kw)
    make_eval = steps.make_eval_step
  train_step = jax.jit(
      make_step(apply_fn=model.apply, tx=tx, aug_fn=aug_fn,
                batch_size=config.batch_size, mesh=mesh, stats=stats),
      donate_argnums=(0,), out_shardings=(repl, repl))
  eval_step = jax.jit(make_eval(apply_fn=model.apply, num_classes=num_classes,
                                stats=stats, mesh=mesh),
                      out_shardings=repl)

  def evaluate(name):
    sums = [eval_step(state, *chunk) for chunk in eval_data[name]]
    sums = jax.device_get(sums)
    count = sum(float(s["count"]) for s in sums)
    return (sum(float(s["loss_sum"]) for s in sums) / count,
            sum(float(s["correct"]) for s in sums) / count)

  def checkpoint_meta():
    return {"best": dataclasses.asdict(best), "epoch_sums": epoch_sums,
            "window": window, "train_seconds": train_seconds}

  if is_main:
    resume = f"; resuming at step {start_step}" if start_step else ""
    print(f"Training {config.model.name} ({num_params:,} params) on {num_train:,} "
          f"INRs ({config.data.views} view(s)), aug={config.aug or 'none'}, "
          f"{num_devices} device(s), {steps_per_epoch} steps/epoch, "
          f"{config.num_epochs} epochs{resume}", flush=True)
  if contrastive_run and start_step == 0:  # the random encoder's probe
    writer.write(0, {"epoch": 0, **contrastive.evaluate(
        config, eval_step, state, eval_data, num_classes)})
  bar = tqdm.tqdm(total=total_steps, initial=start_step, unit="step",
                  disable=not is_main or not config.progress, dynamic_ncols=True)
  pending = []
  tick = time.perf_counter()
  for step in range(start_step, total_steps):
    state, metrics = train_step(state, train_data, key, pool_data)
    pending.append(metrics)
    end_of_epoch = (step + 1) % steps_per_epoch == 0
    save_now = end_of_epoch or bool(
        config.checkpoint_every_steps
        and (step + 1) % config.checkpoint_every_steps == 0)
    if len(pending) >= config.sync_every_steps or save_now:
      fetched = jax.device_get(pending)
      pending = []
      for offset, m in enumerate(fetched):
        at = step + 1 - len(fetched) + offset
        if not (np.isfinite(m["loss"]) and np.isfinite(m["grad_norm"])
                and m["params_finite"]):
          raise RuntimeError(
              f"non-finite training loss, gradient or parameters at step {at} "
              f"(loss={m['loss']}, grad_norm={m['grad_norm']}); stopping. The "
              f"last good checkpoint (step {ckpt.latest_step()}) is kept in "
              f"{workdir}")
        epoch_sums["loss"] += float(m["loss"])
        epoch_sums["accuracy"] += float(m["accuracy"])
        epoch_sums["count"] += 1
        window["loss"] += float(m["loss"])
        window["count"] += 1
        if (at + 1) % config.log_every_steps == 0:
          writer.write(at + 1, {"train_loss_window": window["loss"] / window["count"],
                                "learning_rate": float(optim.warmup_constant(
                                    config.optim.lr, config.optim.warmup_steps)(at)),
                                "grad_norm": float(m["grad_norm"])})
          window = {"loss": 0.0, "count": 0}
      bar.update(len(fetched))
      bar.set_postfix(loss=f"{fetched[-1]['loss']:.3f}", refresh=False)
    if end_of_epoch:
      train_seconds += time.perf_counter() - tick
      epoch = (step + 1) // steps_per_epoch
      record = {"epoch": epoch,
                "train_loss": epoch_sums["loss"] / epoch_sums["count"],
                "train_accuracy": epoch_sums["accuracy"] / epoch_sums["count"]}
      if not contrastive_run:
        val_loss, val_acc = evaluate("val")
        test_loss, test_acc = evaluate("test")
        record.update(val_loss=val_loss, val_accuracy=val_acc,
                      test_loss=test_loss, test_accuracy=test_acc)
      elif contrastive.probe_due(config, epoch):
        # Model selection by the probe's val accuracy, like val accuracy.
        record.update(contrastive.evaluate(config, eval_step, state, eval_data,
                                           num_classes))
        val_loss, val_acc = float("nan"), record["probe_val_accuracy"]
        test_acc = record["probe_test_accuracy"]
        record.update(val_accuracy=val_acc, test_accuracy=test_acc)
      else:
        val_loss, val_acc, test_acc = float("nan"), float("-inf"), float("nan")
      if HELDOUT_SPLIT in eval_splits:
        record[f"{HELDOUT_SPLIT}_loss"], record[f"{HELDOUT_SPLIT}_accuracy"] = (
            evaluate(HELDOUT_SPLIT))
      epoch_sums = {"loss": 0.0, "accuracy": 0.0, "count": 0}
      improved = val_acc >= best.val_accuracy
      if improved:
        best = _Best(val_acc, epoch, step + 1, test_acc, val_loss,
                     record.get(f"{HELDOUT_SPLIT}_accuracy", float("nan")))
      writer.write(step + 1, record)
      evals = (f" | val acc {val_acc:.4f} | test acc {test_acc:.4f}"
               if math.isfinite(val_acc) else "")
      bar.write(f"epoch {epoch:4d}  train loss {record['train_loss']:.4f} acc "
                f"{record['train_accuracy']:.4f}{evals}"
                f"{'  *' if improved else ''}")
      writer.flush()  # every record up to a checkpoint outlives a kill
      if improved:
        best_ckpt.save(step + 1, state, checkpoint_meta())
      ckpt.save(step + 1, state, checkpoint_meta())
      tick = time.perf_counter()
    elif save_now:
      train_seconds += time.perf_counter() - tick
      writer.flush()
      ckpt.save(step + 1, state, checkpoint_meta())
      tick = time.perf_counter()
  bar.close()
  writer.close()
  ckpt.close()
  best_ckpt.close()

  records = metric_writers.read_metrics(workdir) if is_main else []
  last = next((r for r in reversed(records) if "val_accuracy" in r), {})
  summary = {
      "model": config.model.name, "aug": config.aug or "none",
      "views": config.data.views, "num_params": num_params,
      "prng_impl": prng_impl,
      "num_train": num_train, "epochs": config.num_epochs, "steps": total_steps,
      "best_epoch": best.epoch, "best_val_accuracy": best.val_accuracy,
      "test_accuracy_at_best_val": best.test_accuracy,
      f"{HELDOUT_SPLIT}_accuracy_at_best_val": best.heldout_accuracy,
      "final_val_accuracy": last.get("val_accuracy"),
      "final_test_accuracy": last.get("test_accuracy"),
      "final_train_accuracy": last.get("train_accuracy"),
      "final_train_loss": last.get("train_loss"),
      "final_test_loss": last.get("test_loss"),
      f"final_{HELDOUT_SPLIT}_accuracy": last.get(f"{HELDOUT_SPLIT}_accuracy"),
      "train_seconds": train_seconds,
      "samples_per_second": (total_steps * config.batch_size / train_seconds
                             if train_seconds > 0 else None),
      "num_devices": num_devices, "num_processes": jax.process_count(),
  }
  if contrastive_run:
    summary.update(contrastive.summary(records))
  if is_main:
    (root / SUMMARY_FILE).write_text(json.dumps(summary, indent=2))
    metric_writers.plot_curves(
        records, root / CURVES_FILE,
        title=f"{config.model.name}, aug={config.aug or 'none'}, "
        f"{config.data.views} view(s)")
    print(f"best val accuracy {best.val_accuracy:.4f} at epoch {best.epoch}; "
          f"test accuracy there {best.test_accuracy:.4f}; "
          f"{summary['samples_per_second'] or 0:.0f} samples/s; "
          f"curves in {os.path.join(workdir, CURVES_FILE)}")
  return summary


def _round_up(x: int, multiple: int) -> int:
  return int(math.ceil(x / multiple) * multiple)
