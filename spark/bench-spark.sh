#!/usr/bin/env bash
# Throughput of the Spark batch (spark/navil4j-spark-batch, local mode) with 1 and 2 cores, alternated, on a folder of
# N distinct images. By default the model is a bench-shape checkpoint with random weights written to disk once:
# InternVL3-1B's shape (InternViT-300M + Qwen2.5-0.5B, dev.navil4j.bench.SyntheticCheckpoint) in q8, with the real
# Qwen2.5 tokenizer. Prints, per run, rows/s over the whole job, the model load time and rows/s while answering
# (from the first task that had its model to the last row: load excluded, JIT warm-up included).
#
#   spark/bench-spark.sh [--model DIR] [--images N] [--rounds R] [--max-new-tokens N] [--max-tiles N]
#                        [--weights q8|bf16] [--size WxH] [--work DIR]
#
# Run it on a quiet machine: each run uses the cores it is given, and the 2-core figure means nothing when other
# processes share those cores. Example smoke run on the tiny fixture:
#   spark/bench-spark.sh --model fixtures/internvl3-tiny/model --images 4 --rounds 1 --max-new-tokens 4
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"

model="" images=16 rounds=2 max_new=32 max_tiles=1 weights=q8 size=640x480 work="$here/spark/target/bench-spark"
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || { echo "bench-spark: $1 needs a value" >&2; exit 2; }
  case "$1" in
    --model) model="$2" ;;
    --images) images="$2" ;;
    --rounds) rounds="$2" ;;
    --max-new-tokens) max_new="$2" ;;
    --max-tiles) max_tiles="$2" ;;
    --weights) weights="$2" ;;
    --size) size="$2" ;;
    --work) work="$2" ;;
    *) echo "bench-spark: unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
mkdir -p "$work"

# the CLI jar holds the checkpoint writer; ./navil4j builds it when it is missing or stale
helper() {
  "$here/navil4j" --help >/dev/null
  "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
    -cp "$here/cli/target/navil4j-cli.jar:$here/cli/target/lib/*" dev.navil4j.bench.SyntheticCheckpoint "$@" \
    2> >(grep -v '^WARNING: Using incubator modules' >&2)
}

if [ -z "$model" ]; then
  model="$work/internvl3-1b-$weights"
  if [ ! -f "$model/config.json" ]; then
    echo "bench-spark: writing the synthetic internvl3-1b ($weights) checkpoint to $model (once)…" >&2
    rm -rf "$model.tmp"
    helper --out "$model.tmp" --shape internvl3-1b --weights "$weights" --tokenizer "$here/fixtures/tokenizer-qwen2.5/model"
    mv "$model.tmp" "$model"
  fi
fi

input="$work/images-$images-$size"
if [ ! -d "$input" ]; then
  rm -rf "$input.tmp"
  helper --images "$input.tmp" --count "$images" --size "$size"
  mv "$input.tmp" "$input"
fi

results=()
for ((r = 1; r <= rounds; r++)); do
  for cores in 1 2; do
    out="$work/out-r$r-c$cores"
    rm -rf "$out"
    log="$work/run-r$r-c$cores.log"
    echo "bench-spark: round $r, $cores core(s)…" >&2
    "$here/spark/navil4j-spark-batch" --model "$model" --input "$input" --output "$out" --cores "$cores" \
      --max-new-tokens "$max_new" --max-tiles "$max_tiles" 2>"$log" || { echo "bench-spark: run failed, see $log" >&2; exit 1; }
    line="$(grep -o 'summary .*' "$log" | tail -1)"
    [ -n "$line" ] || { echo "bench-spark: no summary in $log" >&2; exit 1; }
    get() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $line"; }
    row=$(printf 'round %d  cores %d  partitions %3s  rows %4s  errors %s  %8s s  %8s rows/s  load %6s s  %8s rows/s answering' \
      "$r" "$cores" "$(get partitions)" "$(get rows)" "$(get errors)" "$(get seconds)" "$(get rows_per_s)" "$(get load_s)" "$(get warm_rows_per_s)")
    echo "$row"
    results+=("$row")
    rm -rf "$out"
  done
done
echo
echo "bench-spark: model $model, $images images ($size), max tiles $max_tiles, $max_new new tokens"
printf '%s\n' "${results[@]}"
