#!/usr/bin/env bash
# Installs what `npm start`, `npm test` and `npm run bench` need, once: npm packages and the
# local AWS emulator (moto, pinned) in a project-local Python virtualenv.
set -euo pipefail
cd "$(dirname "$0")/.."

MOTO_VERSION="5.2.1"

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "openbatch: installing npm packages" >&2
  npm ci --no-audit --no-fund >&2
fi

if [ -z "${OPENBATCH_SKIP_EMULATOR_INSTALL:-}" ]; then
  if [ ! -x .venv/bin/python ]; then
    echo "openbatch: creating .venv for the local AWS emulator" >&2
    # --system-site-packages reuses a moto that the machine already has.
    python3 -m venv --system-site-packages .venv >&2
  fi
  if ! .venv/bin/python -c "import moto, sys; from moto.server import main; sys.exit(0 if moto.__version__ == '${MOTO_VERSION}' else 1)" 2>/dev/null; then
    echo "openbatch: installing moto[server]==${MOTO_VERSION}" >&2
    .venv/bin/pip install --quiet "moto[server]==${MOTO_VERSION}" >&2
  fi
fi
