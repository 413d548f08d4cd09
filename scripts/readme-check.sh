#!/usr/bin/env bash
# Runs every shell command README.md shows, on a fresh clone of HEAD, as a newcomer would: JDK 17 first on PATH (when
# the machine has one) and no JAVA_HOME, so the launcher must find JDK 25 itself; each command is checked for its exit
# status and for a line of its expected output, `serve` is started, probed with the README's curl commands and stopped,
# and the README's dependency XML + Example.java are built as a downstream Maven project against this build's
# artifacts and run. The README marks each shell block with what to expect (or why it is skipped); the convention is
# described at the top of scripts/readme_check.py. A shell block or an inline command without a mark fails the check.
# Usage: scripts/readme-check.sh [--list] [--keep]   (--list: only check the marks and print the plan; --keep: keep the
# temp directory). Needs git, python3, curl, Maven and a JDK 25 at /usr/lib/jvm/temurin-25-jdk-amd64. Run by .ci/run.
set -euo pipefail
exec python3 "$(dirname "${BASH_SOURCE[0]}")/readme_check.py" "$@"
