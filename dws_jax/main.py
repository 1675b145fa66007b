# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""``dws-train``: train a weight-space model from a config file.

  dws-train --config configs/fmnist_dwsnet.py:aug=mixup_aligned --workdir runs/x

The same command runs on every host of a TPU slice (``launch/tpu_run.sh`` sets
``DWS_JAX_DISTRIBUTED=1``) or on several local processes with explicit
``--coordinator_address/--num_processes/--process_id``.
"""

from absl import app
from absl import flags
from ml_collections import config_flags

from dws_jax import plugins
from dws_jax import parallel
from dws_jax import train

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", None, "Config file (get_config(arg)).",
                                lock_config=True)
flags.DEFINE_string("workdir", None, "Checkpoints, metrics, curves, summary: "
                    "a local path or a URI such as gs://bucket/run.")
flags.DEFINE_bool("overwrite", False, "Delete a workdir made by another config.")
flags.DEFINE_string("coordinator_address", None, "host:port of process 0.")
flags.DEFINE_integer("num_processes", None, "Number of processes.")
flags.DEFINE_integer("process_id", None, "This process's index.")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  parallel.maybe_initialize_distributed(FLAGS.coordinator_address,
                                        FLAGS.num_processes, FLAGS.process_id)
  train.train_and_evaluate(FLAGS.config, FLAGS.workdir, overwrite=FLAGS.overwrite)


def run():
  plugins.load(command=True)
  flags.mark_flags_as_required(["config", "workdir"])
  app.run(main)


if __name__ == "__main__":
  run()
