#!/bin/sh
# Packs what `sh scripts/bench-gpu.sh` needs on a bare Linux x86-64 machine with a GPU and Vulkan but
# no Node, no npm and no network: one file, build/gpu-pack/pack.tar.xz (build/ is ignored; carry it),
# holding
#   node                      this machine's `which node` (x86-64 Linux)
#   node_modules/webgpu/      npm `webgpu` (Dawn): package.json, index.js, dist/linux-x64/dawn.node
#   lib/libvulkan.so.1        a Vulkan loader (Chromium's), used only where the machine has none
#   bench-engine.mjs, bench-train.mjs   scripts/bench-*.ts bundled by esbuild (webgpu left external;
#                             transformers.js's web build, for the tokenizer: its Node build loads
#                             sharp and onnxruntime-node on import, neither of which travels)
# and prints its size. The repository's own files (models/tiny, scripts/) travel as the working tree.
#   npm run bench:gpu:pack            (heavy: take the heavy lock where the machine is shared)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${BENCH_GPU_PACK:-$ROOT/build/gpu-pack}
STAGE=$OUT/stage
NODE_BIN=$(readlink -f "$(command -v node)")
case "$(uname -m)" in x86_64) ;; *) echo "bench-gpu-pack: this machine is $(uname -m); the GPU machine needs x86-64 binaries" >&2; exit 1 ;; esac
rm -rf "$STAGE" && mkdir -p "$STAGE/node_modules/webgpu/dist/linux-x64" "$STAGE/lib"
cp "$NODE_BIN" "$STAGE/node"
W=$ROOT/node_modules/webgpu
cp "$W/package.json" "$W/index.js" "$STAGE/node_modules/webgpu/"
cp "$W/dist/linux-x64/dawn.node" "$STAGE/node_modules/webgpu/dist/linux-x64/"
LOADER=${VULKAN_LOADER:-/usr/lib/chromium/libvulkan.so.1}
if [ -f "$LOADER" ]; then cp "$LOADER" "$STAGE/lib/libvulkan.so.1"; else echo "bench-gpu-pack: no Vulkan loader at $LOADER: the GPU machine must have its own" >&2; fi
for s in bench-engine bench-train; do
  "$ROOT/node_modules/.bin/esbuild" "$ROOT/scripts/$s.ts" --bundle --platform=node --format=esm --target=node20 \
    --external:webgpu --log-level=warning --outfile="$STAGE/$s.mjs" \
    --alias:@huggingface/transformers="$ROOT/node_modules/@huggingface/transformers/dist/transformers.web.js" \
    --banner:js="import { createRequire as __rbRequire } from 'node:module'; const require = __rbRequire(import.meta.url);"
done
node -e "console.log('node ' + process.version + ' ' + process.arch)" > "$STAGE/VERSION"
(cd "$STAGE" && tar -cf - . | xz -T2 -6 > "$OUT/pack.tar.xz.tmp") && mv "$OUT/pack.tar.xz.tmp" "$OUT/pack.tar.xz"
rm -rf "$STAGE"
SIZE=$(stat -c %s "$OUT/pack.tar.xz")
TREE=$(cd "$ROOT" && git ls-files -z | xargs -0 stat -c %s 2>/dev/null | awk '{s+=$1} END {print s}')
echo "bench-gpu-pack: $OUT/pack.tar.xz $(awk "BEGIN {printf \"%.1f\", $SIZE/1048576}") MiB; tracked working tree $(awk "BEGIN {printf \"%.1f\", $TREE/1048576}") MiB; together $(awk "BEGIN {printf \"%.1f\", ($SIZE+$TREE)/1048576}") MiB (limit 64 MiB)"
