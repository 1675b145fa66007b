#!/usr/bin/env bash
# Settings for the Cloud TPU VM scripts; source it and edit to taste:
#   source launch/tpu_env.sh
export PROJECT=${PROJECT:-my-project}
export ZONE=${ZONE:-us-central2-b}
export TPU_NAME=${TPU_NAME:-dws-${USER:-user}}
export ACCELERATOR_TYPE=${ACCELERATOR_TYPE:-v4-32}
export RUNTIME_VERSION=${RUNTIME_VERSION:-tpu-ubuntu2204-base}
export BUCKET=${BUCKET:-gs://my-dws-bucket}
