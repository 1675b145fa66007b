# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Copies measured results into README.md.

Each block between ``<!-- results/NAME.md -->`` and ``<!-- end -->`` in the
README is replaced by the current contents of ``results/NAME.md``, which the
benchmark or job named there wrote. The README's numbers are therefore always
those of the last run of the command shown beside them.

  python -m dws_jax.benchmarks.readme [--check]
"""

from __future__ import annotations

import argparse
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"(<!-- (results/[\w./-]+\.md) -->\n)(.*?)(<!-- end -->)", re.S)


def render(readme: str, root: pathlib.Path = ROOT) -> str:
  """Returns ``readme`` with every results block refreshed from disk."""

  def replace(match):
    path = root / match.group(2)
    if not path.exists():
      raise FileNotFoundError(f"README block names {match.group(2)}, which does "
                              "not exist; run the command beside it first")
    return match.group(1) + path.read_text().rstrip("\n") + "\n" + match.group(4)

  return BLOCK.sub(replace, readme)


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--check", action="store_true",
                      help="exit 1 if README.md is out of date")
  args = parser.parse_args(argv)
  path = ROOT / "README.md"
  current = path.read_text()
  fresh = render(current)
  if args.check:
    if fresh != current:
      print("README.md is out of date: run python -m dws_jax.benchmarks.readme")
      return 1
    return 0
  path.write_text(fresh)
  return 0


if __name__ == "__main__":
  sys.exit(main())
