#!/usr/bin/env bash
# The official OpenAI Python and Node clients against `navil4j serve` on the InternVL3 tiny fixture: text, stream,
# image, logprobs, /v1/completions, structured output and error cases (scripts/openai-clients/check.py, check.mjs),
# and LangChain JS's ChatOpenAI incl. withStructuredOutput (langchain.mjs). Loopback only.
# The Python client comes from a local wheel directory (OPENAI_WHEELS, default /opt/pypi/files) or the configured
# index; the Node client from the npm registry (openai 6.x: 7.x needs Node 22). Both install under target/.
# Usage: scripts/openai-clients.sh [MODEL_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL="${1:-fixtures/internvl3-tiny/model}"
PORT="${PORT:-18081}"
KEY="openai-clients-check"
WORK=target/openai-clients
mkdir -p "$WORK"
WHEELS="${OPENAI_WHEELS:-/opt/pypi/files}"
if ! "$WORK/venv/bin/python" -c "import openai" 2>/dev/null; then
  [ -x "$WORK/venv/bin/python" ] || python3 -m venv "$WORK/venv"
  if [ -d "$WHEELS" ]; then
    "$WORK/venv/bin/pip" install -q --no-index --find-links "$WHEELS" openai
  else
    "$WORK/venv/bin/pip" install -q openai
  fi
fi
if [ ! -d "$WORK/node/node_modules/openai" ]; then
  mkdir -p "$WORK/node"
  (cd "$WORK/node" && npm init -y >/dev/null && npm install --no-audit --no-fund openai@6 >/dev/null)
fi
if [ ! -d "$WORK/node/node_modules/@langchain/openai" ]; then
  (cd "$WORK/node" && npm install --no-audit --no-fund @langchain/openai@1 @langchain/core@1 zod@4 >/dev/null)
fi
cp scripts/openai-clients/check.mjs scripts/openai-clients/langchain.mjs "$WORK/node/" # they resolve packages from its node_modules
./navil4j serve --model "$MODEL" --host 127.0.0.1 --port "$PORT" --served-model-name tiny --api-key "$KEY" --max-tokens 16 \
  2> "$WORK/server.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
  sleep 1
done
BASE="http://127.0.0.1:$PORT/v1"
IMAGE=fixtures/images/navil-tiny_40x30.png
status=0
"$WORK/venv/bin/python" scripts/openai-clients/check.py "$BASE" "$KEY" tiny "$IMAGE" || status=1
node "$WORK/node/check.mjs" "$BASE" "$KEY" tiny "$PWD/$IMAGE" || status=1
node "$WORK/node/langchain.mjs" "$BASE" "$KEY" tiny "$PWD/$IMAGE" || status=1
exit $status
