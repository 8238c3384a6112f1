#!/usr/bin/env bash
# The test command: installs what the tests need on a fresh machine, then runs pytest.
#   ./tests/run.sh              # everything
#   ./tests/run.sh -k registry  # pytest arguments pass through
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -e '.[test]'

# Browser tests drive Debian's Chromium (Playwright's own browser download is not possible here).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null
  elif command -v sudo >/dev/null 2>&1; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null
  else
    echo "warning: chromium is not installed and apt-get needs root: browser tests will be skipped" >&2
  fi
fi

exec python3 -m pytest "$@"
