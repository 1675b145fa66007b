# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""dws-fit-inrs, dws-train and dws-tables against a stand-in ``gs://`` bucket.

No Google Cloud service is reached. A ``gs://`` path leaves the process in
three ways, and each is redirected to a local directory ``STORE`` (the object
``gs://b/k`` lives at ``STORE/b/k``):

* etils.epath, used by our code, by orbax (directories, commit files, JSON
  items) and by tfds: ``epath.testing.mock_epath`` rewrites the path of every
  backend call on a ``gs://`` path (and maps the paths that ``glob`` and
  ``walk`` return back to ``gs://``); local paths pass through untouched.
* TensorStore, which writes a checkpoint's arrays: the ``gcs`` kvstore that
  orbax asks for (``gcs_utils.get_kvstore_for_gcs``) becomes a ``file``
  kvstore at the same place in STORE.
* orbax's one Google Cloud Storage client call (is the bucket a hierarchical
  namespace?): answered no.

Everything else runs as against GCS: orbax takes its ``gs://`` code paths
(commit files rather than renames), our code keeps the URIs as they are, the
tfds dataset is built locally and uploaded, ``metrics.jsonl`` is rewritten
whole. The tests check what landed in STORE, that a run resumes from it, and
that nothing named like a mangled URI (``gs:``, what
``os.path.abspath("gs://b/x")`` or ``pathlib.Path("gs://b/x")`` make) appeared
on local disk, in the working directory or the temporary directory.
"""

import contextlib
import importlib.util
import json
import os
import pathlib
import shutil
import socket
import tempfile
import textwrap
from unittest import mock

from absl.testing import absltest
from etils.epath import gpath
from etils.epath import testing as epath_testing
import jax
import ml_collections
import numpy as np
from orbax.checkpoint._src.path import gcs_utils

from dws_jax import checkpointing
from dws_jax import metric_writers
from dws_jax import paths
from dws_jax import train
from dws_jax.data import inr_dataset
from dws_jax.tables import grid
from dws_jax.tables import main as tables_main
from dws_jax.tables import sweep

REPO = pathlib.Path(__file__).resolve().parents[1]
BUCKET = "gs://dws-test-bucket"
DATA = f"{BUCKET}/inrs"
# 10 train objects (1 view), 4 val, 4 test, fitted to 25 dB: seconds.
DATA_ARG = ("objects=10,val_objects=4,test_objects=4,views=1,shard=8,target=25,"
            "slots=2,devices=1")


def _load(path, arg):
  spec = importlib.util.spec_from_file_location(
      "remote_test_" + pathlib.Path(path).stem, path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config(arg)


def _train_config():
  config = _load(REPO / "configs" / "fmnist_dwsnet.py",
                 f"runlocal,model=mlp,data={DATA}")
  config.update({"batch_size": 4, "eval_batch_size": 8, "num_epochs": 2,
                 "progress": False, "num_devices": 1})
  return config


class FakeGcs:
  """``gs://`` redirected to the local directory ``store`` (see the module doc)."""

  def __init__(self, store: str):
    self.store = store

  def local(self, path) -> str:
    text = os.fspath(path)
    if text.startswith("gs://"):
      return os.path.join(self.store, text[len("gs://"):])
    return text

  def uri(self, path) -> str:
    return "gs://" + os.path.relpath(os.fspath(path), self.store)

  @contextlib.contextmanager
  def active(self):
    """Routes epath, orbax and TensorStore ``gs://`` I/O to the store."""

    def one(fn, path, *args, **kwargs):
      return fn(self.local(path), *args, **kwargs)

    def two(fn, path, dst, *args, **kwargs):
      return fn(self.local(path), self.local(dst), *args, **kwargs)

    def glob(fn, pattern):
      found = fn(self.local(pattern))
      if os.fspath(pattern).startswith("gs://"):
        return [self.uri(p) for p in found]
      return found

    def walk(fn, top, **kwargs):
      remote = os.fspath(top).startswith("gs://")
      for root, dirs, files in fn(self.local(top), **kwargs):
        yield (self.uri(root) if remote else root), dirs, files

    def kvstore(path):
      bucket, key = gcs_utils.parse_gcs_path(path, add_trailing_slash=False)
      return {"driver": "file", "path": os.path.join(self.store, bucket, key)}

    with contextlib.ExitStack() as stack:
      stack.enter_context(epath_testing.mock_epath(
          copy=two, exists=one, glob=glob, isdir=one, listdir=one,
          makedirs=one, mkdir=one, open=one, remove=one, rename=two,
          replace=two, rmtree=one, stat=one, walk=walk))
      # With TensorFlow installed epath would use tf.io.gfile for gs://.
      stack.enter_context(mock.patch.object(gpath, "_is_tf_installed",
                                            return_value=False))
      stack.enter_context(mock.patch.object(gcs_utils, "get_kvstore_for_gcs",
                                            kvstore))
      stack.enter_context(mock.patch.object(
          gcs_utils, "is_hierarchical_namespace_enabled", return_value=False))
      yield


def _mangled(directory) -> list[str]:
  """Files and directories under ``directory`` named like a mangled URI."""
  return [os.path.join(root, n) for root, dirs, files in os.walk(directory)
          for n in dirs + files if "gs:" in n or "dws-test-bucket" in n]


class RemotePathTest(absltest.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.tmp = tempfile.mkdtemp()
    cls.store = os.path.join(cls.tmp, "store")
    cls.cwd = os.path.join(cls.tmp, "cwd")
    cls.local_tmp = os.path.join(cls.tmp, "tmp")
    for d in (cls.store, cls.cwd, cls.local_tmp):
      os.makedirs(d)
    cls.gcs = FakeGcs(cls.store)
    cls.stack = contextlib.ExitStack()
    cls.stack.enter_context(cls.gcs.active())
    cls.stack.enter_context(mock.patch.object(tempfile, "tempdir",
                                              cls.local_tmp))
    cls.old_cwd = os.getcwd()
    os.chdir(cls.cwd)
    cls.data_config = _load(REPO / "configs" / "inrs" / "fmnist.py", DATA_ARG)
    # Stopped after one shard, then resumed: both halves write to the bucket.
    cls.first = inr_dataset.generate(cls.data_config, DATA, max_shards=1,
                                     progress=False)
    cls.second = inr_dataset.generate(cls.data_config, DATA, progress=False)

  @classmethod
  def tearDownClass(cls):
    os.chdir(cls.old_cwd)
    cls.stack.close()
    shutil.rmtree(cls.tmp, ignore_errors=True)
    super().tearDownClass()

  def tearDown(self):
    for directory in (self.cwd, self.local_tmp):
      self.assertEqual(_mangled(directory), [])
    self.assertEqual([n for n in os.listdir(REPO) if "gs:" in n], [])
    super().tearDown()

  def in_store(self, uri) -> pathlib.Path:
    return pathlib.Path(self.gcs.local(uri))

  def test_inr_dataset_generation_writes_to_the_bucket(self):
    self.assertFalse(self.first["complete"])
    self.assertEqual(self.first["new_shards"], 1)
    self.assertTrue(self.second["complete"])
    self.assertEqual(self.second["new_shards"], 3)  # 2 train, 1 val, 1 test
    self.assertEqual({k: v["num_inrs"] for k, v in
                      self.second["summary"].items()},
                     {"train": 10, "val": 4, "test": 4})
    root = self.in_store(DATA)
    for name in ("metadata.json", "summary.json",
                 "shards/train-00000-of-00002.npz",
                 "shards/train-00001-of-00002.done.json",
                 "tfds/inr_dataset/1.0.0/dataset_info.json"):
      self.assertTrue((root / name).is_file(), name)
    self.assertTrue(list((root / "tfds/inr_dataset/1.0.0").glob(
        "*.array_record-*")))
    self.assertEqual(inr_dataset.read_metadata(DATA)["splits"]["val"][
        "num_records"], 4)
    # Loading goes through a local copy of the tfds dataset in the bucket.
    val = inr_dataset.load_inr_split(DATA, "val")
    shard = inr_dataset.read_shard(DATA, "val-00000-of-00001")
    np.testing.assert_array_equal(np.asarray(jax.device_get(
        inr_dataset.wsp.to_flat(val.ws))), shard["params"])
    # A finished dataset is found complete, nothing refitted.
    again = inr_dataset.generate(self.data_config, DATA, progress=False)
    self.assertEqual(again["new_shards"], 0)

  def test_training_writes_to_the_bucket_and_resumes_from_it(self):
    workdir = f"{BUCKET}/runs/mlp"
    config = _train_config()
    summary = train.train_and_evaluate(config, workdir)
    root = self.in_store(workdir)
    for name in ("config.json", "metrics.jsonl", "summary.json", "curves.png"):
      self.assertTrue((root / name).is_file(), name)
    self.assertTrue(list((root / "tensorboard").glob("events.out.tfevents.*")))
    stored = json.loads((root / "summary.json").read_text())
    self.assertEqual({k: stored[k] for k in ("steps", "best_epoch")},
                     {k: summary[k] for k in ("steps", "best_epoch")})
    steps = summary["steps"]
    self.assertEqual(steps, 4)  # 10 INRs / batch 4 = 2 steps, 2 epochs
    ckpt = checkpointing.Checkpointer(f"{workdir}/checkpoints")
    self.assertEqual(ckpt.latest_step(), steps)
    self.assertTrue((root / "checkpoints" / str(steps)).is_dir())
    self.assertTrue((root / "best" / str(summary["best_epoch"] * 2)).is_dir())
    records = metric_writers.read_metrics(workdir)
    self.assertEqual([r["epoch"] for r in records if "val_accuracy" in r],
                     [1, 2])
    final = ckpt.restore_raw()
    self.assertEqual(int(final["step"]), steps)

    # A run killed after its first epoch: the last checkpoints and the summary
    # are gone from the bucket. The same command resumes from step 2.
    for name in (f"checkpoints/{steps}", f"best/{steps}", "summary.json"):
      path = root / name
      if path.is_dir():
        shutil.rmtree(path)
      elif path.exists():
        path.unlink()
    self.assertEqual(checkpointing.Checkpointer(
        f"{workdir}/checkpoints").latest_step(), 2)
    resumed = train.train_and_evaluate(config, workdir)
    self.assertEqual(metric_writers.read_metrics(workdir), records)
    for key in ("best_epoch", "best_val_accuracy", "final_train_loss"):
      self.assertEqual(resumed[key], summary[key], key)
    jax.tree.map(np.testing.assert_array_equal, final,
                 checkpointing.Checkpointer(
                     f"{workdir}/checkpoints").restore_raw())

  def test_table_sweep_writes_to_the_bucket(self):
    table_file = pathlib.Path(self.tmp) / "tiny_remote.py"
    table_file.write_text(textwrap.dedent(f"""\
        import ml_collections

        def get_config(arg=None):
          c = ml_collections.ConfigDict()
          c.name = "tiny"
          c.title = "Tiny table"
          c.scale = "test"
          c.command = "dws-tables --config tiny.py"
          c.dataset = ml_collections.ConfigDict({{
              "config": {str(REPO / "configs/inrs/fmnist.py")!r},
              "arg": {DATA_ARG!r}, "dir": {DATA!r}}})
          c.train = ml_collections.ConfigDict({{
              "config": {str(REPO / "configs/fmnist_dwsnet.py")!r},
              "arg": "runlocal",
              "overrides": {{"batch_size": 4, "eval_batch_size": 8,
                            "num_epochs": 1, "progress": False,
                            "num_devices": 1}}}})
          c.grid = [{{"model": ["mlp"], "aug": ["none"], "seed": [0]}}]
          c.aggregate = ml_collections.ConfigDict({{
              "rows": ("aug",), "columns": ("metric",),
              "metrics": ("test_accuracy_at_best_val",)}})
          c.figures = [{{"kind": "bar"}}]
          return c
        """))
    root, results = f"{BUCKET}/tables", f"{BUCKET}/results"
    args = ["--config", str(table_file), "--root", root, "--results", results]
    with mock.patch("sys.stdout"):
      self.assertEqual(tables_main.main(args), 0)
    table = grid.load_table(str(table_file))
    cell = grid.cells(table)[0]
    cells = self.in_store(f"{root}/tiny")
    self.assertTrue((cells / sweep.TABLE_FILE).is_file())
    for name in ("summary.json", "wall.json", "checkpoints"):
      self.assertTrue((cells / cell.name / name).exists(), name)
    self.assertFalse((cells / (cell.name + sweep.CLAIM_SUFFIX)).exists())
    self.assertEqual(sweep.state_of(root, table, cell).state, "done")
    out = self.in_store(results)
    for name in ("tiny.md", "tiny.csv", "tiny.json", "tiny-bar.png"):
      self.assertTrue((out / name).is_file(), name)
    self.assertIn("![tiny bar](tiny-bar.png)", (out / "tiny.md").read_text())

    # Claims in the bucket: best effort, a live holder is respected.
    self.assertIsNone(sweep.claim(root, table, cell))
    self.assertEqual(sweep.holder(root, table, cell)["pid"], os.getpid())
    sweep.release(root, table, cell)
    self.assertIsNone(sweep.holder(root, table, cell))
    other = {"pid": 1, "host": socket.gethostname() + "-elsewhere"}
    sweep.claim_path(root, table, cell).write_text(json.dumps(other))
    self.assertEqual(sweep.claim(root, table, cell), other)

  def test_uris_are_kept_and_unknown_schemes_refused(self):
    self.assertEqual(os.fspath(paths.resolve(f"{BUCKET}/x")), f"{BUCKET}/x")
    self.assertEqual(os.fspath(paths.resolve("x")),
                     os.path.join(self.cwd, "x"))
    table = ml_collections.ConfigDict({"name": "n"})
    self.assertEqual(str(grid.cells_dir(f"{BUCKET}/t", table)), f"{BUCKET}/t/n")
    with self.assertRaisesRegex(ValueError,
                                r"unsupported URI scheme memory:// in "
                                r"'memory://b/run'.*gs://"):
      train.train_and_evaluate(_train_config(), "memory://b/run")
    with self.assertRaisesRegex(ValueError, "unsupported URI scheme bad://"):
      inr_dataset.generate(self.data_config, "bad://b/inrs", progress=False)
    with self.assertRaisesRegex(ValueError, "unsupported URI scheme bad://"):
      checkpointing.Checkpointer("bad://b/checkpoints")
    self.assertEqual(os.listdir(self.cwd), [])


class PathsTest(absltest.TestCase):

  def test_local_atomic_write_replaces_and_leaves_no_temporary_file(self):
    directory = tempfile.mkdtemp()
    path = os.path.join(directory, "a.json")
    paths.write_atomic(path, "old")
    paths.write_atomic(path, b"new", fsync=True)
    self.assertEqual(os.listdir(directory), ["a.json"])
    with open(path) as f:
      self.assertEqual(f.read(), "new")

  def test_uri_helpers(self):
    self.assertTrue(paths.is_uri("gs://b/x"))
    self.assertFalse(paths.is_uri("runs/gs_x"))
    self.assertEqual(paths.scheme("s3://b/x"), "s3")
    self.assertIsNone(paths.scheme("/tmp/x"))
    self.assertEqual(str(paths.as_path("runs/x/")), "runs/x")

  def test_copy_tree_copies_the_last_file_last(self):
    src, dst = tempfile.mkdtemp(), tempfile.mkdtemp()
    for name in ("z.txt", "info.json", "sub/a.txt"):
      os.makedirs(os.path.dirname(os.path.join(src, name)), exist_ok=True)
      with open(os.path.join(src, name), "w") as f:
        f.write(name)
    copied = []
    original = gpath._GPath.copy  # pylint: disable=protected-access

    def copy(self, target, overwrite=False):
      copied.append(os.path.basename(target))
      return original(self, target, overwrite=overwrite)

    with mock.patch.object(gpath._GPath, "copy", copy):  # pylint: disable=protected-access
      paths.copy_tree(src, os.path.join(dst, "out"), last="info.json")
    self.assertEqual(copied[-1], "info.json")
    self.assertCountEqual(copied, ["z.txt", "info.json", "a.txt"])
    with open(os.path.join(dst, "out", "sub", "a.txt")) as f:
      self.assertEqual(f.read(), "sub/a.txt")


if __name__ == "__main__":
  absltest.main()
