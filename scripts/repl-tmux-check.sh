#!/usr/bin/env bash
# Drives the interactive chat (`navil4j chat` at a real terminal) in a tmux session and checks what the screen shows:
# Ctrl-C cancels a running answer and the chat goes on without that turn, arrow keys edit the line and recall the
# history (no "^[[D" on screen), /load and /save round-trip a conversation, --stats lines end above the prompt, Ctrl-C
# at an empty prompt prints a hint and a second one leaves (exit code 0), the history is written to $NAVIL4J_HISTORY.
# Exit code 0 when every check passes; each check prints "ok" or "FAIL" with the screen around it.
# Usage: scripts/repl-tmux-check.sh [MODEL_DIR]   (default: fixtures/internvl3-tiny/model)
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
model="${1:-$here/fixtures/internvl3-tiny/model}"
command -v tmux >/dev/null || { echo "tmux is not installed"; exit 2; }

work="$(mktemp -d)"
sess="navil4j-repl-check-$$"
trap 'tmux kill-session -t "$sess" 2>/dev/null; rm -rf "$work"' EXIT
failures=0

screen() { tmux capture-pane -p -J -t "$sess" -S -200 | sed -e 's/[[:space:]]*$//' | grep -v '^$'; }
# the last visible line (the prompt line while the chat waits for input)
last_line() { screen | tail -1; }
# waits up to $2 seconds for the screen to match the extended regex $1
wait_for() {
  local deadline=$((SECONDS + $2))
  while [ $SECONDS -lt $deadline ]; do
    screen | grep -qE -- "$1" && return 0
    sleep 0.2
  done
  return 1
}
check() { # check NAME CONDITION-COMMAND...
  local name="$1"; shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; screen | tail -12 | sed 's/^/     | /'; failures=$((failures + 1)); fi
}
prompt_is() { [ "$(last_line)" = "$1" ]; }
# json_turns FILE N [USER ANSWER]: FILE is a conversation with N turns (the first one USER/ANSWER)
json_turns() {
  python3 - "$@" <<'PY'
import json, sys
f, n = sys.argv[1], int(sys.argv[2])
turns = json.load(open(f))["turns"]
ok = len(turns) == n and (len(sys.argv) < 4 or (turns[0]["user"], turns[0]["assistant"]) == (sys.argv[3], sys.argv[4]))
sys.exit(0 if ok else 1)
PY
}

# an earlier conversation for /load (a turn with its answer; no media, so the file needs nothing else)
cat >"$work/earlier.json" <<'EOF'
{"format": "navil4j-conversation", "version": 1, "system": null,
 "turns": [{"user": "earlier question", "media": [], "assistant": "earlier answer"}]}
EOF

# a repetition penalty below 1 keeps the tiny model repeating instead of stopping, so the answer is still running
# (30000 tokens take far longer than the 3 s before Ctrl-C) when it is cancelled
tmux new-session -d -s "$sess" -x 200 -y 60 \
  "cd '$here' && NAVIL4J_HISTORY='$work/history' ./navil4j chat --model '$model' --max-new-tokens 30000 --repetition-penalty 0.2 --stats; echo \"EXITED rc=\$?\"; read"

check "the chat starts and shows the prompt" wait_for '^>>> ?$' 180

tmux send-keys -t "$sess" 'first question' Enter
wait_for 'decode|[^[:space:]]{20}' 30 >/dev/null # the answer is streaming
sleep 3
tmux send-keys -t "$sess" C-c
check "Ctrl-C during the answer cancels it" wait_for '^\(answer cancelled after [1-9][0-9]* tokens; it is not kept in the history\)' 20
check "the chat goes on: the prompt is back, after the stats lines" wait_for '^>>> ?$' 10
check "stats lines end above the prompt" bash -c "tmux capture-pane -p -J -t '$sess' | sed -e 's/[[:space:]]*\$//' | grep -v '^\$' | tail -3 | head -2 | grep -q 'decode [0-9]* tokens.*(cancelled)'"

tmux send-keys -t "$sess" "/save $work/after-cancel.json" Enter
wait_for 'saved [0-9]+ turn' 10 >/dev/null
check "the cancelled answer is not in the history (/save writes 0 turns)" json_turns "$work/after-cancel.json" 0

# line editing: type "/hlp", move left twice, insert "e" -> "/help"
tmux send-keys -t "$sess" '/hlp' Left Left 'e' Enter
check "arrow keys edit the line (/hlp + Left Left + e = /help)" wait_for '/save FILE +write the conversation' 10
check "no raw escape codes on screen" bash -c "! tmux capture-pane -p -t '$sess' -S -200 | grep -qF '^[['"

# history recall: Up three times walks back over /help, /save ..., first question
tmux send-keys -t "$sess" Up Up Up
sleep 0.5
check "arrow up recalls earlier input (3 x Up = 'first question')" prompt_is ">>> first question"
tmux send-keys -t "$sess" C-u  # clear the recalled line

tmux send-keys -t "$sess" "/load $work/earlier.json" Enter
check "/load continues a saved conversation" wait_for '^\(loaded 1 turn\(s\) from ' 10
tmux send-keys -t "$sess" "/save $work/roundtrip.json" Enter
wait_for '^\(saved 1 turn' 10 >/dev/null
check "/save after /load writes the loaded turn" json_turns "$work/roundtrip.json" 1 "earlier question" "earlier answer"

wait_for '^>>> ?$' 10 >/dev/null
tmux send-keys -t "$sess" C-c
check "Ctrl-C at an empty prompt prints a hint" wait_for '^\(press Ctrl-C again or type /exit to leave\)' 10
check "... and the chat is still there" prompt_is ">>>"
tmux send-keys -t "$sess" C-c
check "a second Ctrl-C leaves with exit code 0" wait_for '^EXITED rc=0$' 20
check "the history file holds the questions" grep -qx '[0-9]*:first question' "$work/history"

echo "--- screen at the end (last 25 lines, long answer lines cut at 150 characters) ---"
screen | tail -25 | cut -c1-150
if [ $failures -eq 0 ]; then echo "all REPL checks passed"; else echo "$failures REPL check(s) failed"; fi
exit $((failures > 0))
