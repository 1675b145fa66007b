"""README numbers are those of the last benchmark runs (results/*.md)."""

import os
import pathlib
import re
import tempfile

from absl.testing import absltest

from dws_jax.benchmarks import readme

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class ReadmeTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    with open(os.path.join(ROOT, "README.md")) as f:
      self.text = f.read()

  def test_results_blocks_match_results_files(self):
    blocks = re.findall(r"<!-- (results/[\w./-]+\.md) -->", self.text)
    self.assertNotEmpty(blocks)
    for block in blocks:
      self.assertTrue(os.path.exists(os.path.join(ROOT, block)), block)
    self.assertEqual(readme.render(self.text), self.text,
                     "README.md is out of date: run "
                     "python -m dws_jax.benchmarks.readme")

  def test_render_replaces_block(self):
    tmp = pathlib.Path(tempfile.mkdtemp())
    (tmp / "results").mkdir()
    (tmp / "results" / "x.md").write_text("| a |\n")
    text = "intro\n<!-- results/x.md -->\nstale\n<!-- end -->\nrest\n"
    self.assertEqual(readme.render(text, root=tmp),
                     "intro\n<!-- results/x.md -->\n| a |\n<!-- end -->\nrest\n")
    with self.assertRaisesRegex(FileNotFoundError, "results/y.md"):
      readme.render("<!-- results/y.md -->\n<!-- end -->", root=tmp)

  def test_first_screen_has_the_two_commands(self):
    first_screen = "\n".join(self.text.splitlines()[:40])
    self.assertIn("bash launch/setup.sh && .venv/bin/dws-demo", first_screen)
    self.assertIn("bash launch/setup.sh && .venv/bin/python -m pytest -n 2 tests",
                  first_screen)
    with open(os.path.join(ROOT, ".ci", "run")) as f:
      self.assertIn("bash launch/setup.sh && .venv/bin/python -m pytest -n 2 tests",
                    f.read())


if __name__ == "__main__":
  absltest.main()
