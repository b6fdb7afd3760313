#!/bin/sh
# The one command for a machine with a real GPU (issue 24): prints bench:engine, bench:train and the
# peers' figures for the real shapes on whatever adapter Dawn finds. Runs from a copy of the working
# tree plus build/gpu-pack/pack.tar.xz (scripts/bench-gpu-pack.sh), with no Node, npm or network:
#   sh scripts/bench-gpu.sh            full run: Qwen2.5-0.5B shape at all 24 layers, training sections
#   sh scripts/bench-gpu.sh --tiny     a smoke run (2 layers, 2 training steps, no memory table)
# Vulkan: the machine's loader if ldconfig knows one, else the packed one; the driver's ICD from
# VK_ICD_FILENAMES / VK_DRIVER_FILES if set, else NVIDIA's where its files are.
# The peers (transformers.js, wllama) need a browser page: they run only where Chromium and the
# checkout's node_modules exist (npm run bench:peers); otherwise this says so and skips them.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PACK=${BENCH_GPU_PACK:-$ROOT/build/gpu-pack}/pack.tar.xz
RUN=${BENCH_GPU_DIR:-/tmp/rb-gpu-pack}
TINY=0
[ "${1:-}" = "--tiny" ] && TINY=1
if [ ! -x "$RUN/node" ]; then
  [ -f "$PACK" ] || { echo "bench:gpu: no $PACK (make it with: sh scripts/bench-gpu-pack.sh)" >&2; exit 1; }
  mkdir -p "$RUN"
  if command -v xz >/dev/null; then xz -dc "$PACK" | tar -xf - -C "$RUN"
  else python3 -c "import lzma,sys,tarfile; tarfile.open(fileobj=lzma.open(sys.argv[1])).extractall(sys.argv[2])" "$PACK" "$RUN"; fi
fi
NODE=$RUN/node
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1 '; then export LD_LIBRARY_PATH="$RUN/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi
if [ -z "${VK_ICD_FILENAMES:-}${VK_DRIVER_FILES:-}" ]; then
  for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
    if [ -f "$f" ]; then export VK_DRIVER_FILES="$f"; break; fi
  done
fi
echo "== bench:gpu on $(uname -m), $($NODE --version), $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null || echo 'no nvidia-smi'); vulkan ICD ${VK_ICD_FILENAMES:-${VK_DRIVER_FILES:-loader default}}"
status=0
if [ $TINY = 1 ]; then
  echo "== bench:engine (--tiny: 2 layers) =="; $NODE "$RUN/bench-engine.mjs" --layers 2 || status=1
  echo "== bench:train (--tiny: tiny students, 2 steps) =="; $NODE "$RUN/bench-train.mjs" --steps 2 --sections models || status=1
else
  echo "== bench:engine =="; $NODE "$RUN/bench-engine.mjs" || status=1
  echo "== bench:train =="; $NODE "$RUN/bench-train.mjs" --sections models,qwen,table,layer || status=1
fi
CHROME=${CHROMIUM_PATH:-/usr/bin/chromium}
if [ -x "$CHROME" ] && [ -d node_modules/@huggingface/transformers ] && [ -d node_modules/@wllama/wllama ]; then
  echo "== bench:peers =="
  if [ $TINY = 1 ]; then
    d=build/onnx/tiny-world-f16
    if [ -f "$d/onnx/model_fp16.onnx" ]; then $NODE node_modules/.bin/tsx scripts/bench-peers.ts --ours models/tiny-world --onnx "$d" --tokens 8 --runs 1 --backends ours-webgpu,tjs-wasm,wllama-wasm --prompt '12 + 35 = ' || status=1
    else echo "bench:peers (--tiny): no $d (make it: python3 scripts/onnx/make_onnx.py models/tiny-world --out $d --dtype f16; npm run export:gguf -- --model models/tiny-world --out $d/model.gguf)"; fi
  else for shape in qwen2.5-0.5b qwen3-0.6b; do
    d=build/onnx/$shape-shaped-L${PEER_LAYERS:-4}
    if [ -f "$d/onnx/model_fp16.onnx" ]; then $NODE node_modules/.bin/tsx scripts/bench-peers.ts --ours "$d" --onnx "$d" --tokens 32 --runs 3 || status=1
    else echo "bench:peers $shape: no $d (make it: python3 scripts/onnx/make_onnx.py --shape $shape --layers ${PEER_LAYERS:-4} --dtype f16, then npm run export:gguf -- --model $d --out $d/model.gguf)"; fi
  done; fi
else
  echo "== bench:peers: skipped: they run in a Chromium page (transformers.js, wllama) and this machine has no $CHROME with the checkout's node_modules; a browser does not fit the 64 MiB copy =="
fi
exit $status
