#!/usr/bin/env bash
# Idempotent set-up of a dws_jax checkout: real Fashion-MNIST, furniture models and tcmalloc (Debian
# packages, installed when run as root), a .venv with pinned packages, dws_jax editable.
# A second run reuses the venv and installs nothing.
#   bash launch/setup.sh            # core + test packages (+ cpu extra on CPU hosts)
#   DWS_EXTRAS=test,cpu,torch bash launch/setup.sh   # also torch==2.13.0 (benchmarks)
set -euo pipefail
cd "$(dirname "$0")/.."

fmnist=${DWS_FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
packages=()
if [ ! -e "$fmnist/train-images-idx3-ubyte.gz" ] && [ ! -e "$fmnist/train-images-idx3-ubyte" ]; then
  packages+=(dataset-fashion-mnist)
fi
# Real 3-D furniture models for the shape INR dataset (configs/inrs/furniture.py).
if [ ! -d "${DWS_FURNITURE_DIR:-/usr/share/sweethome3d/furniture}" ]; then
  packages+=(sweethome3d-furniture)
fi
# tcmalloc keeps XLA:CPU's step buffers mapped between steps (dws_jax/xla_cpu/allocator.py).
if ! compgen -G "/usr/lib/*/libtcmalloc_minimal.so.4" > /dev/null; then
  packages+=(libtcmalloc-minimal4)
fi
# A C++ compiler builds the native XLA:CPU kernels (dws_jax/xla_cpu/native/build.py).
if ! command -v "${DWS_JAX_CXX:-c++}" > /dev/null; then
  packages+=(g++)
fi
if [ ${#packages[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq "${packages[@]}"
  else
    echo "Not installed: ${packages[*]} (Fashion-MNIST is looked for in $fmnist);" \
      "run: sudo apt-get update && sudo apt-get install -y ${packages[*]}" >&2
  fi
fi

# The cpu extra (dws_jax.xla_cpu's lapx) on CPU hosts; accelerator hosts skip it.
default_extras="test,cpu"
if [ -e /dev/accel0 ] || [ -e /dev/nvidia0 ]; then default_extras="test"; fi
extras=${DWS_EXTRAS:-$default_extras}
[ -x .venv/bin/python ] || "${PYTHON:-python3}" -m venv .venv
stamp=.venv/.dws_jax-installed
want=$(cat setup.cfg launch/constraints.txt <(echo "$extras") | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/pip install -q --disable-pip-version-check -c launch/constraints.txt -e ".[$extras]"
  echo "$want" > "$stamp"
fi
# Build (or find cached) the native kernels now rather than in the first run.
.venv/bin/python -m dws_jax.xla_cpu.native.build > /dev/null \
  || echo "Native kernels not built; dws_jax falls back to plain XLA." >&2
