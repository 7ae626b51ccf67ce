#!/usr/bin/env bash
# Installs what `npm start`, `npm test` and `npm run bench` need, once: npm packages and the
# local AWS emulator (moto, pinned) in a project-local Python virtualenv, with the official
# OpenAI Python SDK (pinned) that the Python SDK end-to-end test drives the runtime with, and
# schemathesis (pinned) that fuzzes the API against OpenAI's spec (test/fuzz/).
set -euo pipefail
cd "$(dirname "$0")/.."

MOTO_VERSION="5.2.1"
OPENAI_PY_VERSION="3.57.0"
SCHEMATHESIS_VERSION="4.32.5"

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "openbatch: installing npm packages" >&2
  # See .ci/run for why not `npm ci`; node-llama-cpp must not try to download or build binaries.
  NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --no-audit --no-fund >&2
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
  if ! .venv/bin/python -c "import openai, sys; sys.exit(0 if openai.__version__ == '${OPENAI_PY_VERSION}' else 1)" 2>/dev/null; then
    echo "openbatch: installing openai==${OPENAI_PY_VERSION} (Python SDK, for its end-to-end test)" >&2
    .venv/bin/pip install --quiet "openai==${OPENAI_PY_VERSION}" >&2
  fi
  if ! .venv/bin/python -c "import importlib.metadata as m, sys; sys.exit(0 if m.version('schemathesis') == '${SCHEMATHESIS_VERSION}' else 1)" 2>/dev/null; then
    echo "openbatch: installing schemathesis==${SCHEMATHESIS_VERSION} (for the fuzz test)" >&2
    .venv/bin/pip install --quiet "schemathesis==${SCHEMATHESIS_VERSION}" >&2
  fi
fi

# DynamoDB Local (AWS's own emulator, Java) for the tests that need DynamoDB's real
# concurrency guarantees: moto does not serialize concurrent conditional writes. It ships
# inside an npm package; `npm pack` fetches just that package, without its dependencies.
DDB_LOCAL_PACKAGE="amplify-dynamodb-simulator@2.9.30"
DDB_LOCAL_DIR=".openbatch/dynamodb-local"
if [ -z "${OPENBATCH_SKIP_EMULATOR_INSTALL:-}" ] && [ ! -f "$DDB_LOCAL_DIR/DynamoDBLocal.jar" ] && command -v java >/dev/null; then
  echo "openbatch: fetching DynamoDB Local ($DDB_LOCAL_PACKAGE)" >&2
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$DDB_LOCAL_PACKAGE" >/dev/null && tar xzf ./*.tgz)
  mkdir -p "$DDB_LOCAL_DIR"
  cp -r "$tmp/package/emulator/." "$DDB_LOCAL_DIR/"
  rm -rf "$tmp"
fi
