#!/usr/bin/env bash
# Reproducible, bounded load test on loopback: starts `navil4j serve` on a model directory (default: the
# InternVL3 fixture), runs N = 1, 4, 16, 64 concurrent streaming clients (4 requests each, 16 tokens,
# at most 120 s per level), prints req/s, p50/p99 time to first token, 429s and failures, stops the server.
# Usage: scripts/load-test.sh [MODEL_DIR] [extra serve options, e.g. --max-batch 16 --max-queue 64]
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL="${1:-fixtures/internvl3-tiny/model}"; shift || true
PORT="${PORT:-18080}"
./navil4j serve --model "$MODEL" --host 127.0.0.1 --port "$PORT" "$@" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
  sleep 1
done
./navil4j loadtest --url "http://127.0.0.1:$PORT" --clients "${CLIENTS:-1,4,16,64}" --requests "${REQUESTS:-4}" \
  --max-tokens "${MAX_TOKENS:-16}" --time-limit 120
