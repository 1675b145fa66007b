# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests of dws-tables: grids, sweeps (kill -9 and resume), aggregation, errors."""

import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap

from absl.testing import absltest
import ml_collections
import numpy as np

from dws_jax import train
from dws_jax.tables import aggregate
from dws_jax.tables import figures
from dws_jax.tables import grid
from dws_jax.tables import main as tables_main
from dws_jax.tables import sweep

REPO = pathlib.Path(__file__).resolve().parents[1]
WORKER = pathlib.Path(__file__).with_name("tables_worker.py")
# 10 train objects (1 view), 4 val, 4 test, fitted to 25 dB: seconds.
DATA_ARG = ("objects=10,val_objects=4,test_objects=4,views=1,shard=8,target=25,"
            "slots=2,devices=1")

TABLE_TEMPLATE = textwrap.dedent("""\
    import ml_collections

    def get_config(arg=None):
      c = ml_collections.ConfigDict()
      c.name = "tiny"
      c.title = "Tiny table"
      c.scale = "test"
      c.command = "dws-tables --config tiny.py"
      c.dataset = ml_collections.ConfigDict({{
          "config": {dataset_config!r}, "arg": {data_arg!r}, "dir": {data_dir!r}}})
      c.train = ml_collections.ConfigDict({{
          "config": {train_config!r}, "arg": "runlocal",
          "overrides": {{"batch_size": 4, "eval_batch_size": 8,
                        "num_epochs": {epochs}, "progress": False,
                        "checkpoint_every_steps": 1, "num_devices": 1}}}})
      c.grid = [{grid}]
      c.aggregate = ml_collections.ConfigDict({{
          "rows": ("aug",), "columns": ("metric",),
          "metrics": ("test_accuracy_at_best_val", "final_train_accuracy")}})
      c.figures = [{{"kind": "bar"}}]
      return c
    """)
GRID = '{"model": ["mlp"], "aug": ["none", "translate"], "seed": [0, 1]}'


def write_table(directory, data_dir, *, epochs=2, grid_text=GRID,
                dataset_config=None, name="tiny.py"):
  path = pathlib.Path(directory) / name
  path.write_text(TABLE_TEMPLATE.format(
      dataset_config=str(dataset_config or REPO / "configs/inrs/fmnist.py"),
      data_arg=DATA_ARG, data_dir=str(data_dir),
      train_config=str(REPO / "configs/fmnist_dwsnet.py"), epochs=epochs,
      grid=grid_text))
  return str(path)


def run_tables(*args, env=None, check=True):
  result = subprocess.run([sys.executable, str(WORKER), *args],
                          capture_output=True, text=True, env=env)
  if check and result.returncode:
    raise AssertionError(result.stdout[-3000:] + result.stderr[-3000:])
  return result


class GridTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.dir = tempfile.mkdtemp()

  def test_cells_product_union_and_names(self):
    table = grid.load_table(write_table(
        self.dir, "data", grid_text=GRID + ', {"aug": ["none"], "views": [1, 2],'
        ' "model": ["mlp"], "seed": [0]}'))
    cells = grid.cells(table)
    names = [c.name for c in cells]
    # 2 augs x 2 seeds, plus 2 view counts; mlp-none-v1-s0 is in both groups.
    self.assertLen(cells, 5)
    self.assertLen(set(names), 5)
    self.assertIn("mlp-none-v2-nall-s0", names)
    config = grid.cell_config(table, cells[1])
    self.assertEqual((config.model.name, config.aug, config.seed,
                      config.batch_size), ("mlp", "none", 1, 4))
    self.assertEqual(config.data.dir, "data")

  def test_aug_strings_with_punctuation_get_distinct_names(self):
    a = grid.Cell("dwsnet", "random_choice(translate,rotate)", 1, 0, 0)
    b = grid.Cell("dwsnet", "random_choice(translate|rotate)", 1, 0, 0)
    self.assertNotEqual(a.name, b.name)
    self.assertRegex(a.name, r"^[A-Za-z0-9_.=+-]+$")

  def test_unknown_axis_model_and_aug_are_refused(self):
    table = grid.load_table(write_table(
        self.dir, "data", grid_text='{"augs": ["none"]}'))
    with self.assertRaisesRegex(ValueError, "unknown axis 'augs'"):
      grid.cells(table)
    table = grid.load_table(write_table(
        self.dir, "data", grid_text='{"model": ["resnet"]}'))
    with self.assertRaisesRegex(ValueError, "unknown model 'resnet'"):
      grid.validate(table, grid.cells(table))
    table = grid.load_table(write_table(
        self.dir, "data", grid_text='{"aug": ["translate|twirl"]}'))
    with self.assertRaisesRegex(ValueError, "bad augmentation.*twirl"):
      grid.validate(table, grid.cells(table))
    table = grid.load_table(write_table(
        self.dir, "data", grid_text='{"views": ["2"]}'))
    with self.assertRaisesRegex(ValueError, "axis views value '2' is not a int"):
      grid.cells(table)

  def test_group_train_config(self):
    ssl = REPO / "configs/ssl_fmnist.py"
    grid_text = (GRID + ', {"model": ["dwsnet"], "aug": ["none"], "seed": [0], '
                 f'"train": {{"config": {str(ssl)!r}, "arg": "runlocal", '
                 '"overrides": {"num_epochs": 3}}}')
    table = grid.load_table(write_table(self.dir, "data", grid_text=grid_text))
    cells = grid.cells(table)
    self.assertLen(cells, 5)
    ssl_cell = [c for c in cells if c.train][0]
    self.assertRegex(ssl_cell.name, r"^dwsnet-none-v1-nall-s0-ssl_fmnist-[0-9a-f]{6}$")
    self.assertEqual(ssl_cell.axis("train"), "ssl_fmnist")
    self.assertEqual(cells[0].axis("train"), "")
    config = grid.cell_config(table, ssl_cell)
    # The group's file, arg and overrides; not the table's (batch_size 4).
    self.assertEqual(config.task, "contrastive")
    self.assertEqual(config.num_epochs, 3)
    self.assertNotEqual(config.batch_size, 4)
    self.assertEqual(grid.cell_config(table, cells[0]).batch_size, 4)
    # Another overrides value is another cell.
    other = grid.load_table(write_table(
        self.dir, "data", grid_text=grid_text.replace('"num_epochs": 3',
                                                      '"num_epochs": 4'),
        name="other.py"))
    self.assertNotIn(grid.cells(other)[-1].name, [c.name for c in cells])
    bad = grid_text.replace('"config"', '"file"')
    with self.assertRaisesRegex(ValueError, "'train' needs 'config'"):
      grid.cells(grid.load_table(write_table(self.dir, "data", grid_text=bad,
                                             name="bad.py")))

  def test_claims_skip_live_holders_and_take_over_dead_ones(self):
    table = grid.load_table(write_table(self.dir, "data"))
    cell = grid.cells(table)[0]
    root = pathlib.Path(self.dir) / "root"
    grid.cells_dir(root, table).mkdir(parents=True)
    self.assertIsNone(sweep.claim(root, table, cell))
    self.assertEqual(sweep.holder(root, table, cell)["pid"], os.getpid())
    sweep.release(root, table, cell)
    self.assertIsNone(sweep.holder(root, table, cell))
    path = sweep.claim_path(root, table, cell)
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
      path.write_text(json.dumps({"pid": live.pid, "host": sweep.socket.gethostname()}))
      self.assertEqual(sweep.claim(root, table, cell)["pid"], live.pid)
      listed = sweep.listing(root, table, [cell])
      self.assertIn(f"running (pid {live.pid}", listed)
      # A sweep skips it and trains nothing.
      result = sweep.run(root, table, [cell], log=lambda m: None)
      self.assertEqual((result["ran"], result["elsewhere"]), ([], [cell.name]))
    finally:
      live.kill()
      live.wait()
    # The holder died: the claim is taken over.
    self.assertIsNone(sweep.holder(root, table, cell))
    self.assertIsNone(sweep.claim(root, table, cell))
    self.assertEqual(json.loads(path.read_text())["pid"], os.getpid())

  def test_select(self):
    cells = [grid.Cell("dwsnet", a, 1, 0, s) for a in ("none", "mixup")
             for s in (0, 1)]
    self.assertLen(sweep.select(cells, "mixup"), 2)
    self.assertLen(sweep.select(cells, "*-s1"), 2)
    self.assertLen(sweep.select(cells, None), 4)

  def test_equivalent_views(self):
    views, acc = np.array([1, 2, 5, 10]), np.array([0.5, 0.6, 0.7, 0.8])
    self.assertAlmostEqual(figures.equivalent_views(views, acc, 0.6), 2.0)
    # Halfway between 2 and 5 in log space.
    self.assertAlmostEqual(figures.equivalent_views(views, acc, 0.65),
                           np.sqrt(10.0))
    self.assertIsNone(figures.equivalent_views(views, acc, 0.9))
    self.assertIsNone(figures.equivalent_views(views, acc, 0.4))


class AggregateTest(absltest.TestCase):
  """Aggregation of hand-made summaries, checked against numpy."""

  def setUp(self):
    super().setUp()
    self.dir = tempfile.mkdtemp()
    self.root = pathlib.Path(self.dir) / "root"
    grid_text = ('{"model": ["mlp"], "aug": ["none", "translate"], '
                 '"seed": [0, 1, 2]}')
    self.table = grid.load_table(write_table(self.dir, "data",
                                             grid_text=grid_text))
    self.cells = grid.cells(self.table)
    self.values = {}
    rng = np.random.default_rng(0)
    for cell in self.cells:
      if cell.aug == "translate" and cell.seed == 2:
        continue  # Missing: never finished.
      workdir = grid.cell_dir(self.root, self.table, cell)
      workdir.mkdir(parents=True)
      (workdir / train.CONFIG_FILE).write_text(json.dumps(
          grid.config_json(grid.cell_config(self.table, cell))))
      acc, train_acc = rng.uniform(0.3, 0.9, 2)
      self.values[cell.name] = (acc, train_acc)
      (workdir / train.SUMMARY_FILE).write_text(json.dumps(
          {"steps": 4, "test_accuracy_at_best_val": acc,
           "final_train_accuracy": train_acc, "model": "mlp", "aug": cell.aug,
           "views": 1}))

  def test_mean_std_against_numpy_and_missing_cells(self):
    records = aggregate.collect(self.root, self.table, self.cells)
    result = aggregate.summarize(self.table, records)
    for aug, expected in (("none", 3), ("translate", 2)):
      group = result["groups"][((aug,), ())]
      values = [self.values[c.name][0] for c in self.cells
                if c.aug == aug and c.name in self.values]
      st = group["metrics"]["test_accuracy_at_best_val"]
      self.assertEqual(group["expected"], 3)
      self.assertEqual(st["n"], expected)
      np.testing.assert_allclose(st["mean"], np.mean(values))
      np.testing.assert_allclose(st["std"], np.std(values, ddof=1))
    md = aggregate.markdown(self.table, result, records)
    none = [line for line in md.splitlines() if line.startswith("| none")][0]
    translate = [line for line in md.splitlines()
                 if line.startswith("| translate")][0]
    self.assertNotIn("(3/3)", none)
    self.assertIn("(2/3)", translate)
    self.assertIn("5/6 cells finished", md)

  def test_wall_time_counts_parts_lost_to_kills(self):
    cell = self.cells[0]
    workdir = grid.cell_dir(self.root, self.table, cell)
    summary = json.loads((workdir / train.SUMMARY_FILE).read_text())
    (workdir / train.SUMMARY_FILE).write_text(json.dumps(
        {**summary, "train_seconds": 90.0}))
    (workdir / sweep.WALL_FILE).write_text('{"seconds": 5.0}')  # resumed part
    self.assertEqual(sweep.state_of(self.root, self.table, cell).wall_seconds,
                     90.0)
    (workdir / sweep.WALL_FILE).write_text('{"seconds": 120.0}')
    self.assertEqual(sweep.state_of(self.root, self.table, cell).wall_seconds,
                     120.0)

  def test_all_seeds_missing_is_shown_as_missing_not_zero(self):
    for cell in self.cells:
      if cell.aug == "translate":
        shutil.rmtree(grid.cell_dir(self.root, self.table, cell),
                      ignore_errors=True)
    records = aggregate.collect(self.root, self.table, self.cells)
    result = aggregate.summarize(self.table, records)
    md = aggregate.markdown(self.table, result, records)
    translate = [line for line in md.splitlines()
                 if line.startswith("| translate")][0]
    self.assertIn("missing (0/3)", translate)
    self.assertNotIn("0.0 ±", translate)
    paths = aggregate.write(self.table, self.root, self.cells,
                            pathlib.Path(self.dir) / "results")
    rows = paths["csv"].read_text().splitlines()
    self.assertTrue(any(",translate,,test_accuracy_at_best_val,nan,nan,0,3"
                        in r for r in rows), rows)
    self.assertTrue(paths["figure:0"].exists())

  def test_axis_not_in_rows_or_columns_is_refused(self):
    table = grid.load_table(write_table(
        self.dir, "data", grid_text='{"model": ["mlp"], "views": [1, 2]}',
        name="views.py"))
    with self.assertRaisesRegex(ValueError, "axis views varies"):
      aggregate.summarize(table, aggregate.collect(self.root, table,
                                                   grid.cells(table)))


class SweepTest(absltest.TestCase):
  """The whole command on real fitted INRs: kill -9, resume, list, stale."""

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.dir = pathlib.Path(tempfile.mkdtemp())
    cls.data = cls.dir / "inrs"

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls.dir, ignore_errors=True)
    super().tearDownClass()

  def test_kill_resume_bitwise_list_and_stale(self):
    config = write_table(self.dir, self.data)
    args = lambda root, results: ["--config", config, "--root", str(root),
                                  "--results", str(results)]
    full, part = self.dir / "full", self.dir / "part"
    run_tables(*args(full, self.dir / "full_results"))
    full_csv = (self.dir / "full_results" / "tiny.csv").read_bytes()
    listing = run_tables(*args(full, self.dir / "x"), "--list").stdout
    self.assertIn("4 cells: 4 done, 0 partial, 0 stale, 0 todo", listing)

    # kill -9 in the middle of the second cell, after its 3rd checkpoint.
    env = dict(os.environ, DWS_TEST_SLOW_SAVE="0.3")
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), *args(part, self.dir / "part_results")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    started, saves = False, 0
    for line in proc.stdout:
      started = started or line.startswith("[2/4]")
      saves += started and line.startswith("saved")
      if saves == 3:
        proc.send_signal(signal.SIGKILL)
        break
    proc.wait()
    self.assertEqual(proc.returncode, -signal.SIGKILL)
    listing = run_tables(*args(part, self.dir / "x"), "--list").stdout
    self.assertIn("1 done, 1 partial, 0 stale, 2 todo", listing)
    self.assertRegex(listing, r"mlp-none-v1-nall-s1 +partial at step \d/4")
    run_tables(*args(part, self.dir / "part_results"))
    self.assertEqual((self.dir / "part_results" / "tiny.csv").read_bytes(),
                     full_csv)

    # A changed table config: cells are stale, reported and not reused.
    changed = write_table(self.dir, self.data, epochs=3, name="tiny3.py")
    before = {p: p.read_bytes() for p in full.rglob("*") if p.is_file()}
    stale_args = ["--config", changed, "--root", str(full),
                  "--results", str(self.dir / "stale_results")]
    listing = run_tables(*stale_args, "--list").stdout
    self.assertIn("0 done, 0 partial, 4 stale", listing)
    self.assertIn("num_epochs: 2 -> 3", listing)
    result = run_tables(*stale_args, check=False)
    self.assertEqual(result.returncode, 1, result.stderr[-2000:])
    self.assertIn("4 stale cell(s) not run", result.stderr)
    after = {p: p.read_bytes() for p in full.rglob("*") if p.is_file()}
    self.assertEqual(before, after)

  def test_bad_roots_and_datasets_are_refused_and_nothing_is_deleted(self):
    root = self.dir / "other_root"
    (root / "tiny").mkdir(parents=True)
    (root / "tiny" / sweep.TABLE_FILE).write_text(json.dumps(
        {"table": "tiny", "dataset": "somewhere/else"}))
    (root / "tiny" / "keep.txt").write_text("x")
    config = write_table(self.dir, self.data, name="bad_root.py")
    with self.assertRaisesRegex(ValueError, "holds the cells of another table"):
      tables_main.main(["--config", config, "--root", str(root)])
    self.assertEqual((root / "tiny" / "keep.txt").read_text(), "x")
    plain = self.dir / "plain_root"
    (plain / "tiny").mkdir(parents=True)
    (plain / "tiny" / "notes.txt").write_text("mine")
    with self.assertRaisesRegex(ValueError, "is not a dws-tables directory"):
      tables_main.main(["--config", config, "--root", str(plain)])
    self.assertEqual((plain / "tiny" / "notes.txt").read_text(), "mine")

    # A dataset whose source images are missing cannot be made.
    dataset = self.dir / "missing_source.py"
    dataset.write_text(textwrap.dedent(f"""\
        import importlib.util
        spec = importlib.util.spec_from_file_location(
            "fmnist_inrs", {str(REPO / "configs/inrs/fmnist.py")!r})
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)

        def get_config(arg=None):
          config = module.get_config(arg)
          config.data_dir = {str(self.dir / "no_images_here")!r}
          return config
        """))
    config = write_table(self.dir, self.dir / "never", dataset_config=dataset,
                         name="bad_data.py")
    with self.assertRaisesRegex(ValueError, "its INR dataset .* cannot be made"):
      tables_main.main(["--config", config, "--root", str(self.dir / "r3")])
    self.assertFalse((self.dir / "never").exists())
    with self.assertRaisesRegex(ValueError, "matches none"):
      tables_main.main(["--config", config, "--only", "nothing_like_this",
                        "--list"])


class ConfigsTest(absltest.TestCase):
  """Every shipped table config parses, at every scale, and lists its cells."""

  def test_shipped_table_configs(self):
    configs = sorted(p for p in (REPO / "configs" / "tables").glob("*.py")
                     if not p.name.startswith("_"))
    self.assertNotEmpty(configs)
    # Datasets that only have one scale refuse the other, naming the scales.
    one_scale = {"cifar10_augmentations": "full",
                 "modelnet40_augmentations": "full",
                 "furniture_augmentations": "small"}
    for path in configs:
      for scale in ("small", "full"):
        if path.stem in one_scale and scale != one_scale[path.stem]:
          with self.assertRaisesRegex(ValueError, "expected one of"):
            grid.load_table(f"{path}:scale={scale}")
          continue
        table = grid.load_table(f"{path}:scale={scale}")
        cells = grid.cells(table)
        grid.validate(table, cells)
        self.assertGreaterEqual(len({c.seed for c in cells}), 3, path)
        self.assertIn(scale, table.name)
        text = sweep.listing(tempfile.mkdtemp(), table, cells,
                             table.dataset.get("train_objects"))
        self.assertIn(f"{len(cells)} cells:", text)
        self.assertIsInstance(table.aggregate, ml_collections.ConfigDict)


if __name__ == "__main__":
  absltest.main()
