#!/usr/bin/env bash
# The test command: installs what the tests need on a fresh machine, then runs pytest.
#   ./tests/run.sh              # everything
#   ./tests/run.sh -k registry  # pytest arguments pass through
# Everything Python goes into a virtual environment (.venv, or $WFP_VENV): Debian's and Ubuntu's
# python3 refuse `pip install` outside one (PEP 668).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else return 1; fi; }

VENV="${WFP_VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  if ! python3 -m venv "$VENV" 2>/dev/null; then
    # Debian ships venv's pip bootstrap separately.
    rm -rf "$VENV"
    as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null \
      || { echo "error: python3 -m venv failed; install python3-venv" >&2; exit 1; }
    python3 -m venv "$VENV"
  fi
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[test]'

# The CDK CLI pinned in package.json: the deploy rehearsal and the CLI synthesis tests run it.
pinned=$(node -p "require('./package.json').devDependencies['aws-cdk']")
installed=$(node -p "require('./node_modules/aws-cdk/package.json').version" 2>/dev/null || true)
if [ "$pinned" != "$installed" ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

# Browser tests drive Debian's Chromium (Playwright's own browser download is not possible here).
if ! command -v chromium >/dev/null 2>&1; then
  as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null \
    || echo "warning: chromium is not installed and apt-get needs root: browser tests will be skipped" >&2
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

exec "$VENV/bin/python" -m pytest "$@"
