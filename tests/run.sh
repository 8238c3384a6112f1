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

# checkov (tests/infrastructure/test_checkov.py) lives in a virtualenv of its own: it pins versions of
# many libraries the platform also uses. Installed once (about 40 s); a rerun finds it and costs nothing.
CHECKOV_VERSION=3.3.30
CHECKOV_VENV=build/tools/checkov-venv
if [ -z "${WFP_CHECKOV:-}" ] && [ ! -x "$CHECKOV_VENV/bin/checkov" ]; then
  rm -rf "$CHECKOV_VENV"  # a half-made one from an interrupted install
  python3 -m venv "$CHECKOV_VENV"
  "$CHECKOV_VENV/bin/pip" install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION"
fi
export WFP_CHECKOV="${WFP_CHECKOV:-$PWD/$CHECKOV_VENV/bin/checkov}"

exec python3 -m pytest "$@"
