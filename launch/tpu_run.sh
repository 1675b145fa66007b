#!/usr/bin/env bash
# Runs on every TPU VM worker: bootstraps ~/dws_venv once (idempotent), then
# execs `python -m MODULE ARGS...` from ~/dws_jax with DWS_JAX_DISTRIBUTED=1,
# so jax.distributed.initialize() auto-detects the slice.
#   bash ~/dws_jax/launch/tpu_run.sh dws_jax.main --config=... --workdir=gs://...
set -eo pipefail
venv=${DWS_VENV:-$HOME/dws_venv}
src=${DWS_SRC:-$HOME/dws_jax}
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -U pip
  "$venv/bin/pip" install "jax[tpu]==0.10.2" -c "$src/launch/constraints.txt" -e "$src"
fi
if [ $# -gt 0 ]; then
  cd "$src"
  exec env DWS_JAX_DISTRIBUTED=1 "$venv/bin/python" -m "$@"
fi
