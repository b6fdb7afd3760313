// Writes tests/fixtures/quant/ggml-q8_0-q4_0.json: a fixed f32 vector and the bytes llama.cpp's own
// reference quantizers (quantize_row_q8_0_ref / quantize_row_q4_0_ref, called by dlopen from the
// libggml-base.so that node-llama-cpp ships) make of it, so tests can check src/engine/model/quant.ts
// byte for byte against ggml. Build and run (needs tools/llama-ref installed):
//   gcc -O0 -o /tmp/ggml-golden scripts/quant/ggml-golden.c -ldl -lm
//   /tmp/ggml-golden tools/llama-ref/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-base.so \
//     > tests/fixtures/quant/ggml-q8_0-q4_0.json
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define N 256 // 8 blocks of 32
typedef void (*quant_fn)(const float *, void *, int64_t);

static void hex(const uint8_t *b, size_t n) {
  putchar('"');
  for (size_t i = 0; i < n; i++) printf("%02x", b[i]);
  putchar('"');
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: ggml-golden path/to/libggml-base.so\n"); return 2; }
  void *lib = dlopen(argv[1], RTLD_NOW);
  if (!lib) { fprintf(stderr, "%s\n", dlerror()); return 1; }
  quant_fn q8 = (quant_fn)dlsym(lib, "quantize_row_q8_0_ref");
  quant_fn q4 = (quant_fn)dlsym(lib, "quantize_row_q4_0_ref");
  if (!q8 || !q4) { fprintf(stderr, "symbols missing\n"); return 1; }
  float x[N];
  for (int i = 0; i < N; i++) {
    int b = i / 32, j = i % 32;
    switch (b) {
      case 0: x[i] = sinf(0.37f * i) * 0.8f; break;                         // smooth, mixed signs
      case 1: x[i] = (j == 5 ? -2.5f : 0.1f * (j - 16)); break;               // negative extreme
      case 2: x[i] = 0.0f; break;                                             // all zero: d = 0
      case 3: x[i] = (j - 15.5f) / 15.5f; break;                              // +1 at the end: q4 clamp at 15
      case 4: x[i] = (j == 0 ? 127.0f : (float)(j - 16) + 0.5f); break;       // d = 1: exact q8 ties, roundf away from 0
      case 5: x[i] = ldexpf((float)((j * 7919) % 61 - 30), -20); break;       // tiny: subnormal-range scales
      case 6: x[i] = (j % 2 ? 1.0f : -1.0f) * 300.0f * cosf((float)j); break; // large
      default: x[i] = (j == 0 ? 7.0f : (j == 31 ? -7.0f : 0.2f * sinf((float)j))); // two equal |max|: first wins
    }
  }
  uint8_t b8[N / 32 * 34], b4[N / 32 * 18];
  memset(b8, 0, sizeof b8); memset(b4, 0, sizeof b4);
  q8(x, b8, N);
  q4(x, b4, N);
  printf("{\n  \"source\": \"llama.cpp quantize_row_q8_0_ref / quantize_row_q4_0_ref from %s (scripts/quant/ggml-golden.c)\",\n", argv[1]);
  printf("  \"f32\": "); hex((const uint8_t *)x, sizeof x); printf(",\n");
  printf("  \"q8_0\": "); hex(b8, sizeof b8); printf(",\n");
  printf("  \"q4_0\": "); hex(b4, sizeof b4); printf("\n}\n");
  return 0;
}
