#!/usr/bin/env bash
# Runs dws-train as N local processes on this host (CPU), exercising
# jax.distributed, multi-host data placement and orbax multi-process
# checkpoints; one log per process.
#   bash launch/local_multiprocess.sh WORKDIR CONFIG [N] [DEVICES_PER_PROCESS]
set -euo pipefail
workdir=${1:?usage: local_multiprocess.sh WORKDIR CONFIG [N] [DEVICES_PER_PROCESS]}
config=${2:?usage: local_multiprocess.sh WORKDIR CONFIG [N] [DEVICES_PER_PROCESS]}
n=${3:-2}
devices=${4:-2}
python=${PYTHON:-$(dirname "$0")/../.venv/bin/python}
port=$((20000 + RANDOM % 10000))
mkdir -p "$workdir"
pids=()
for ((i = 0; i < n; i++)); do
  JAX_PLATFORMS=cpu JAX_NUM_CPU_DEVICES=$devices "$python" -m dws_jax.main \
    --config="$config" --workdir="$workdir" \
    --coordinator_address="127.0.0.1:$port" --num_processes="$n" --process_id="$i" \
    > "$workdir/process_$i.log" 2>&1 &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do
  wait "$pid" || status=1
done
[ "$status" = 0 ] || { tail -n 30 "$workdir"/process_*.log >&2; exit 1; }
echo "all $n processes finished; logs in $workdir/process_*.log"
