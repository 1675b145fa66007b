#!/usr/bin/env bash
# Cloud TPU VM slice lifecycle for dws_jax. Settings come from launch/tpu_env.sh.
#   bash launch/tpu.sh create            # create the slice (SPOT=1 for spot capacity)
#   bash launch/tpu.sh ship              # copy this exact commit to all workers, bootstrap venv
#   bash launch/tpu.sh check             # every worker must report the global device count
#   bash launch/tpu.sh run CONFIG [ARGS] # same command on every worker, detached, a log per worker
#   bash launch/tpu.sh watch [WORKER]    # tail a worker's log
#   bash launch/tpu.sh stop              # stop the run and free the chips
#   bash launch/tpu.sh delete            # delete the slice
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=launch/tpu_env.sh
source "$here/tpu_env.sh"
ssh_all() {
  gcloud compute tpus tpu-vm ssh "$TPU_NAME" --project="$PROJECT" --zone="$ZONE" \
    --worker=all --command="$1"
}
cmd=${1:-help}
shift || true
case "$cmd" in
  create)
    spot=()
    [ -n "${SPOT:-}" ] && spot=(--spot)
    gcloud compute tpus tpu-vm create "$TPU_NAME" --project="$PROJECT" --zone="$ZONE" \
      --accelerator-type="$ACCELERATOR_TYPE" --version="$RUNTIME_VERSION" "${spot[@]}"
    ;;
  ship)
    tarball=$(mktemp /tmp/dws_jax.XXXXXX.tgz)
    git -C "$here/.." archive --format=tar.gz -o "$tarball" HEAD
    gcloud compute tpus tpu-vm scp "$tarball" "$TPU_NAME:~/dws_jax.tgz" \
      --project="$PROJECT" --zone="$ZONE" --worker=all
    ssh_all "rm -rf ~/dws_jax && mkdir ~/dws_jax && tar xzf ~/dws_jax.tgz -C ~/dws_jax && bash ~/dws_jax/launch/tpu_run.sh"
    rm -f "$tarball"
    ;;
  check)
    # shellcheck disable=SC2088  # '~' expands on the workers
    ssh_all "~/dws_venv/bin/python -c 'import jax; jax.distributed.initialize(); print(jax.process_index(), jax.device_count())'"
    ;;
  run)
    config=${1:?usage: tpu.sh run CONFIG [EXTRA ARGS]}
    shift
    # Expanded here, once, so every worker gets the same workdir.
    workdir=${WORKDIR:-$BUCKET/runs/dws_$(date -u +%Y%m%d_%H%M%S)}
    echo "workdir: $workdir"
    ssh_all "tmux new -d -s dws 'TFDS_DATA_DIR=$BUCKET/tensorflow_datasets bash ~/dws_jax/launch/tpu_run.sh dws_jax.main --config=$config --workdir=$workdir $* 2>&1 | tee ~/dws.log'"
    ;;
  watch)
    gcloud compute tpus tpu-vm ssh "$TPU_NAME" --project="$PROJECT" --zone="$ZONE" \
      --worker="${1:-0}" --command="tail -n 40 -f ~/dws.log"
    ;;
  stop)
    ssh_all "tmux kill-session -t dws 2>/dev/null; sudo lsof -t /dev/accel* /dev/vfio/* 2>/dev/null | xargs -r sudo kill -9; sudo rm -f /tmp/libtpu_lockfile"
    ;;
  delete)
    gcloud compute tpus tpu-vm delete "$TPU_NAME" --project="$PROJECT" --zone="$ZONE" --quiet
    ;;
  *)
    sed -n '2,10p' "$0"
    ;;
esac
