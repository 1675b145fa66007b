"""The launch scripts parse (bash -n) and pass shellcheck."""

import glob
import os
import shutil
import subprocess

from absl.testing import absltest
from absl.testing import parameterized

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = sorted(glob.glob(os.path.join(ROOT, "launch", "*.sh"))) + [
    os.path.join(ROOT, ".ci", "run")]


class LaunchScriptsTest(parameterized.TestCase):

  def test_scripts_exist(self):
    names = {os.path.basename(s) for s in SCRIPTS}
    for name in ("tpu.sh", "tpu_run.sh", "tpu_env.sh", "local_multiprocess.sh",
                 "setup.sh", "run"):
      self.assertIn(name, names)

  @parameterized.parameters(*SCRIPTS)
  def test_bash_syntax(self, script):
    subprocess.run(["bash", "-n", script], check=True)

  @parameterized.parameters(*SCRIPTS)
  def test_shellcheck(self, script):
    if shutil.which("shellcheck") is None:
      if os.environ.get("CI"):
        self.fail("shellcheck is not installed (apt-get install -y shellcheck)")
      self.skipTest("shellcheck not installed")
    result = subprocess.run(["shellcheck", "-x", script], cwd=ROOT,
                            capture_output=True, text=True)
    self.assertEqual(result.returncode, 0, result.stdout + result.stderr)


if __name__ == "__main__":
  absltest.main()
