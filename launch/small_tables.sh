#!/usr/bin/env bash
# Every small-scale Fashion-MNIST table, in resumable pieces, on this machine.
#   bash launch/small_tables.sh              # 2 sweeps side by side (2+ cores)
#   WORKERS=1 bash launch/small_tables.sh    # one sweep
#   TABLES="fmnist_views" bash launch/small_tables.sh
# Each worker runs the tables in order; workers share the cell directories and
# claim cells, so no cell is trained twice. Rerunning resumes (finished cells
# are skipped, partial ones resume from their last checkpoint). Logs go to
# $ROOT/logs/worker-<i>.log; the tables to $RESULTS/<table>_small.*.
# ROOT, RESULTS and DWS_TABLES (the dws-tables command) can be overridden.
set -euo pipefail
cd "$(dirname "$0")/.."
workers=${WORKERS:-2}
tables=${TABLES:-"fmnist_views fmnist_augmentations fmnist_overfitting fmnist_ssl"}
root=${ROOT:-runs/tables}
results=${RESULTS:-results/tables}
cmd=${DWS_TABLES:-.venv/bin/dws-tables}
mkdir -p "$root/logs"
pids=()
for i in $(seq 1 "$workers"); do
  (
    for t in $tables; do
      $cmd --config "configs/tables/$t.py:scale=small" --root "$root" \
        --results "$results" || echo "dws-tables $t exited with $?"
    done
  ) > "$root/logs/worker-$i.log" 2>&1 &
  pids+=($!)
  sleep 20  # let the first worker claim its first cell before the next starts
done
wait "${pids[@]}"
# Every worker is done: rebuild each table from all finished cells.
for t in $tables; do
  $cmd --config "configs/tables/$t.py:scale=small" --root "$root" \
    --results "$results" --aggregate > /dev/null
done
