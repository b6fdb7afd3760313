#!/bin/sh
# The tiny-world student, from a seed, in one command (build time; Debian's python3-torch):
#   npm run make:tiny-world:full      every stage from scratch into build/tiny-world-full/ (about 2.5 hours
#                                     on one shared core of this 2-core machine: 1,100 + 5,000 + 2,500 + 700 steps)
#   npm run make:tiny-world:reflect   only the last stage, continuing from the committed weights
#                                     (models/tiny-world/model.safetensors) into build/tiny-world-v4/ (18 minutes here)
# Stages (each continues from the last; the corpora are seeded, test problems excluded):
#   1. make:tiny-world: test set, drills / bare worked problems / direct chat answers, tokenizer, 1,100 steps
#   2. 5,000 more steps on the same corpus
#   3. textbook: half the documents are problems worked in the trace format outside chat (--aligned rows)
#   4. reflect: as 3, with 60% of the worked problems written by the reflective teacher (a check line per
#      step, slips caught with "Wait", counted plans), so the student knows how to check
# Nothing is written to models/tiny-world/: compare the result (npm run experiment:tiny -- --model DIR)
# before copying it there.
set -e
PY=/usr/bin/python3
NICE="nice -n 10"
reflect() { # $1 init weights, $2 out dir, $3 the tokenizer's folder
  mkdir -p "$2"
  npx tsx scripts/world/textbook-corpus.ts --docs 40000 --textbook 0.5 --reflect 0.6 --seed 31 --out "$2" --model "$3"
  $NICE $PY scripts/world/pretrain.py --corpus "$2/corpus.u16" --config models/tiny-world/config.json --out "$2/model.safetensors" \
    --steps 700 --batch 16 --seq 256 --lr 2e-3 --seed 37 --threads 1 --init "$1" --aligned --save-every 100 --log "$2/pretrain.log"
}
case "$1" in
  reflect) reflect models/tiny-world/model.safetensors build/tiny-world-v4 models/tiny-world ;;
  full)
    B=build/tiny-world-full
    mkdir -p $B
    npx tsx scripts/make-tiny-world.ts --seed 7 --docs 150000 --steps 1100 --out $B
    $NICE $PY scripts/world/pretrain.py --corpus build/tiny-world/corpus.u16 --config $B/config.json --out $B/stage2.safetensors \
      --steps 5000 --lr 0.003 --seed 9 --threads 1 --init $B/model.safetensors --save-every 250 --log $B/stage2.log
    npx tsx scripts/world/textbook-corpus.ts --docs 150000 --textbook 0.5 --seed 23 --out $B/textbook --model $B
    $NICE $PY scripts/world/pretrain.py --corpus $B/textbook/corpus.u16 --config $B/config.json --out $B/stage3.safetensors \
      --steps 2500 --batch 16 --seq 192 --lr 3e-3 --seed 29 --threads 1 --init $B/stage2.safetensors --aligned --save-every 250 --log $B/stage3.log
    reflect $B/stage3.safetensors $B/reflect $B ;;
  *) echo "usage: rebuild-student.sh reflect|full" >&2; exit 2 ;;
esac
