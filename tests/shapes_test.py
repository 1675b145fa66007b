# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests of the 3-D shape path: occupancy labels, ModelNet .off trees, fitting."""

import os
import pathlib
import shutil
import tempfile

from absl.testing import absltest
import numpy as np
import trimesh

from dws_jax import fitting
from dws_jax import siren
from dws_jax import weight_space as wsp
from dws_jax.data import furniture
from dws_jax.data import inr_dataset
from dws_jax.data import modelnet
from dws_jax.data import shapes
from dws_jax.data import sources

RES = 64
BAND = 2.5 * 2 / RES  # labels may differ this close to the surface


def _points(n=20000, seed=0):
  return np.random.default_rng(seed).uniform(-1, 1, (n, 3))


class OccupancyTest(absltest.TestCase):

  def test_unit_sphere_against_analytic(self):
    mesh = trimesh.creation.icosphere(subdivisions=4, radius=1.0)
    vertices = shapes.normalize(mesh.vertices, 0.9)  # radius 0.9
    np.testing.assert_allclose(np.abs(vertices).max(), 0.9, atol=1e-6)
    voxels = shapes.solid_voxels(vertices, np.asarray(mesh.faces), RES)
    p = _points()
    radius = np.linalg.norm(p, axis=1)
    got = shapes.lookup(voxels, p)
    far = np.abs(radius - 0.9) > BAND
    np.testing.assert_array_equal(got[far], (radius[far] < 0.9).astype(np.float32))
    self.assertGreater(float(np.mean(got[~far] == (radius[~far] < 0.9))), 0.6)
    # Volume of the solid close to the ball's.
    # Volume between the balls one voxel smaller and larger (surface voxels
    # count as inside).
    pitch = 2 / RES
    self.assertBetween(voxels.mean() * 8, 4 / 3 * np.pi * (0.9 - pitch)**3,
                       4 / 3 * np.pi * (0.9 + pitch)**3)

  def test_box_against_analytic(self):
    mesh = trimesh.creation.box(extents=(2.0, 1.0, 0.5))
    vertices = shapes.normalize(mesh.vertices + 3.0, 0.9)  # off-centre input
    half = np.array([0.9, 0.45, 0.225])
    np.testing.assert_allclose(vertices.max(0), half, atol=1e-6)
    voxels = shapes.solid_voxels(vertices, np.asarray(mesh.faces), RES)
    p = _points(seed=1)
    inside = np.all(np.abs(p) < half, axis=1)
    gap = np.min(np.abs(np.abs(p) - half), axis=1)
    far = gap > BAND
    got = shapes.lookup(voxels, p)
    np.testing.assert_array_equal(got[far], inside[far].astype(np.float32))

  def test_samples_are_deterministic_and_mixed(self):
    mesh = trimesh.creation.icosphere(subdivisions=3)
    options = shapes.ShapeOptions(num_points=2000, resolution=RES)
    coords, targets = shapes.occupancy_samples(mesh, options, "sphere")
    again, _ = shapes.occupancy_samples(mesh, options, "sphere")
    other, _ = shapes.occupancy_samples(mesh, options, "other")
    np.testing.assert_array_equal(coords, again)
    self.assertFalse(np.array_equal(coords, other))
    self.assertEqual(coords.shape, (2000, 3))
    self.assertEqual(targets.shape, (2000, 1))
    # Near-surface half: radius close to 0.9; uniform half spread out.
    near = np.linalg.norm(coords[1000:], axis=1)
    self.assertLess(float(np.abs(near - 0.9).mean()), 0.03)
    self.assertGreater(float(np.abs(coords[:1000]).max()), 0.95)
    # Both sides of the surface (more inside: surface voxels count as inside).
    self.assertBetween(float(targets[1000:].mean()), 0.3, 0.9)

  def test_bad_options(self):
    with self.assertRaisesRegex(ValueError, "signed distances are not"):
      shapes.ShapeOptions.from_config({"target": "sdf"})
    with self.assertRaisesRegex(ValueError, "unknown keys.*points"):
      shapes.ShapeOptions.from_config({"points": 3})


def write_off(path, mesh, glued_header=False):
  text = trimesh.exchange.off.export_off(mesh)
  if glued_header:  # ModelNet's known defect: "OFF<counts>" on one line
    text = text.replace("OFF\n", "OFF", 1)
  pathlib.Path(path).write_text(text)


class ModelNetTest(absltest.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.root = pathlib.Path(tempfile.mkdtemp()) / "ModelNet40"
    meshes = {"chair": trimesh.creation.box(extents=(1, 2, 1)),
              "table": trimesh.creation.icosphere(subdivisions=2)}
    cls.counts = {("chair", "train"): 10, ("chair", "test"): 2,
                  ("table", "train"): 20, ("table", "test"): 3}
    for (c, part), n in cls.counts.items():
      (cls.root / c / part).mkdir(parents=True)
      for i in range(n):
        mesh = meshes[c].copy()
        mesh.apply_scale(1 + 0.1 * i)
        write_off(cls.root / c / part / f"{c}_{i:04d}.off", mesh,
                  glued_header=i == 0)

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls.root.parent, ignore_errors=True)
    super().tearDownClass()

  def test_tree_loads_with_labels_and_splits(self):
    options = {"num_points": 512, "resolution": 32}
    split = {s: modelnet.load_split(s, str(self.root), options)
             for s in sources.SPLITS}
    chair = modelnet.MODELNET40_CLASSES.index("chair")
    table = modelnet.MODELNET40_CLASSES.index("table")
    for s, want in (("train", (9, 18)), ("val", (1, 2)), ("test", (2, 3))):
      self.assertEqual((int(np.sum(split[s].labels == chair)),
                        int(np.sum(split[s].labels == table))), want, s)
    self.assertIn("chair/test/chair_0000.off", split["test"].keys)
    keys = set(split["train"].keys)
    self.assertEmpty(keys & set(split["val"].keys))
    self.assertLen(keys | set(split["val"].keys), 30)
    coords, targets = split["test"].signals(np.array([0, 1]))
    self.assertEqual(coords.shape, (2, 512, 3))
    self.assertEqual(targets.shape, (2, 512, 1))
    self.assertTrue(np.all(np.isin(targets, [0.0, 1.0])))
    # The glued-header file reads like the others (and is a scaled box).
    mesh = split["test"].mesh(split["test"].keys.index("chair/test/chair_0000.off"))
    np.testing.assert_allclose(np.ptp(mesh.vertices, axis=0), [1, 2, 1], atol=1e-6)
    # The parent of ModelNet40/ works too; ModelNet10 reads the same tree.
    parent = modelnet.load_split("test", str(self.root.parent), options)
    self.assertEqual(parent.keys, split["test"].keys)
    ten = modelnet.load_split("test", str(self.root), options, "modelnet10")
    np.testing.assert_array_equal(
        sorted(set(ten.labels)), sorted(modelnet.MODELNET10_CLASSES.index(c)
                                        for c in ("chair", "table")))

  def test_generate_occupancy_inr_dataset(self):
    config = _config("modelnet40", f"objects=2,val_objects=2,test_objects=2,"
                     f"points=512,resolution=32,width=16,depth=2,target=0.85,"
                     f"shard=4,slots=2,devices=8,data_dir={self.root}")
    out = self.root.parent / "inrs"
    result = inr_dataset.generate(config, out, progress=False)
    self.assertTrue(result["complete"])
    self.assertEqual(result["summary"]["train"]["fraction_reached_target"], 1.0)
    self.assertGreaterEqual(result["summary"]["test"]["iou_min"], 0.85)
    data = inr_dataset.load_inr_split(out, "test")
    self.assertEqual(data.ws.weights[0].shape, (2, 3, 16))
    objects = modelnet.load_split("test", str(self.root), config.shape)
    coords, targets = objects.signals(np.asarray(data.object_ids))
    spec = inr_dataset.spec_from_metadata(inr_dataset.read_metadata(out))
    for i in range(2):
      pred = siren.render(data.ws[i], coords[i], spec)
      self.assertAlmostEqual(float(fitting.occupancy_iou(pred, targets[i])),
                             float(data.iou[i]), places=5)

  def test_errors_name_file_and_download(self):
    bad = self.root.parent / "bad" / "ModelNet40"
    shutil.copytree(self.root, bad)
    (bad / "chair" / "test" / "chair_0001.off").write_text("OFF\n3 1 0\n0 0 0\n")
    objects = modelnet.load_split("test", str(bad), None)
    with self.assertRaisesRegex(ValueError, "chair_0001.off.*ModelNet40.zip"):
      objects.signals(np.array([objects.keys.index("chair/test/chair_0001.off")]))
    (bad / "sofa_typo").mkdir()
    with self.assertRaisesRegex(ValueError, "sofa_typo.*not modelnet40 classes"):
      modelnet.load_split("test", str(bad), None)
    with self.assertRaisesRegex(FileNotFoundError,
                                "does not exist.*ModelNet40.zip.*DWS_MODELNET40_DIR"):
      modelnet.load_split("train", str(self.root.parent / "missing"), None)


@absltest.skipUnless(os.path.isdir(furniture.default_dir()),
                     "sweethome3d-furniture is not installed")
class FurnitureTest(absltest.TestCase):

  def test_fitted_real_mesh_reaches_iou_threshold(self):
    objects = furniture.load_split(
        "train", None, {"num_points": 4096, "resolution": 64})
    self.assertLen(objects, 420)
    spec = wsp.WeightSpaceSpec.siren((3, 32, 32, 32, 1), w0=10.0)
    coords, targets = objects.signals(np.array([0]))
    fitter = fitting.RefillFitter(spec, None, num_points=4096, slots=1,
                                  metric="iou", target_iou=0.9, max_steps=1500,
                                  target_psnr=float("inf"),
                                  mesh=fitting.local_mesh(1))
    keys = fitting.inr_key_data(0, 0, [0], [0])
    res = fitter.fit(keys, targets, coords=coords)
    self.assertGreaterEqual(float(res.iou[0]), 0.9)
    self.assertLess(int(res.steps[0]), 1500)
    # The recorded IoU is that of the returned weights at the points.
    ws = wsp.from_flat(res.params, spec)
    pred = siren.render(ws, coords[0], spec)
    self.assertAlmostEqual(float(fitting.occupancy_iou(pred[0], targets[0])),
                           float(res.iou[0]), places=5)
    # Held out (new uniform points): a real fit of the shape, not only of the
    # samples.
    mesh = objects.mesh(0)
    voxels = shapes.solid_voxels(shapes.normalize(mesh.vertices, 0.9),
                                 np.asarray(mesh.faces), 64)
    p = np.random.default_rng(7).uniform(-1, 1, (8192, 3)).astype(np.float32)
    held = fitting.occupancy_iou(siren.render(ws, p, spec)[0],
                                 shapes.lookup(voxels, p)[:, None])
    self.assertGreater(float(held), 0.6)

  def test_counts_and_config(self):
    counts = {s: np.bincount(furniture.load_split(s, None, None).labels,
                             minlength=9) for s in sources.SPLITS}
    self.assertEqual({s: int(c.sum()) for s, c in counts.items()},
                     {"train": 420, "val": 97, "test": 127})
    self.assertTrue(np.all(counts["test"] >= 7) and np.all(counts["val"] >= 5))
    config = _config("furniture")
    inr_dataset.validate_config(config)
    self.assertEqual(config.fit.metric, "iou")


def _config(name, arg=None):
  import importlib.util  # pylint: disable=g-import-not-at-top
  path = pathlib.Path(__file__).resolve().parents[1] / "configs" / "inrs" / f"{name}.py"
  spec = importlib.util.spec_from_file_location(f"{name}_cfg", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config(arg)


class ConfigTest(absltest.TestCase):

  def test_shape_configs_validate(self):
    for name in ("modelnet40",):
      config = _config(name)
      inr_dataset.validate_config(config)
      self.assertEqual(tuple(config.inr.layer_sizes)[0], 3)
    config = _config("modelnet40")
    config.fit.metric = "psnr"
    with self.assertRaisesRegex(ValueError, "needs config.fit.metric='iou'"):
      inr_dataset.validate_config(config)


if __name__ == "__main__":
  absltest.main()
