"""Runs ``dws-tables`` in a subprocess (optionally with slow, announced saves).

  python tables_worker.py --config ... --root ... --results ...

With ``DWS_TEST_SLOW_SAVE=<seconds>`` every checkpoint save prints
``saved <step>`` and then sleeps, so a test can kill the sweep mid-cell.
"""

import os
import sys
import time

from dws_jax import checkpointing
from dws_jax.tables import main as tables_main


def run():
  delay = float(os.environ.get("DWS_TEST_SLOW_SAVE", "0"))
  if delay:
    save = checkpointing.Checkpointer.save

    def slow_save(self, *args, **kwargs):
      save(self, *args, **kwargs)
      print("saved", args[0], flush=True)
      time.sleep(delay)

    checkpointing.Checkpointer.save = slow_save
  sys.exit(tables_main.main(sys.argv[1:]))


if __name__ == "__main__":
  run()
