#!/usr/bin/env bash
# Deploys openbatch into LocalStack: starts LocalStack, deploys the data, api and monitoring
# stacks of the dev environment with cdklocal, issues an API key, starts the compose workers.
# Needs Docker and LOCALSTACK_AUTH_TOKEN. See localstack/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${LOCALSTACK_AUTH_TOKEN:?set LOCALSTACK_AUTH_TOKEN (app.localstack.cloud)}"
compose=(docker compose -f localstack/compose.yaml)
context=(-c env=dev -c target=localstack)

export AWS_ENDPOINT_URL=http://localhost:4566
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
export CDK_DEFAULT_ACCOUNT=000000000000 CDK_DEFAULT_REGION=us-east-1

"${compose[@]}" up -d --wait localstack
npx cdklocal bootstrap aws://000000000000/us-east-1 "${context[@]}"
mkdir -p .openbatch
npx cdklocal deploy --all "${context[@]}" --require-approval never --outputs-file .openbatch/localstack-outputs.json

api_id=$(node -e "const o=require('./.openbatch/localstack-outputs.json')['openbatch-dev-api']; console.log(o.RestApiId)")
key=$(npx tsx cdk/bin/issue-api-key.ts --env dev --tenant local)

"${compose[@]}" --profile workers up -d --build

cat <<MSG

openbatch is deployed in LocalStack.
  baseURL  http://${api_id}.execute-api.localhost.localstack.cloud:4566/dev/v1
  apiKey   ${key}
  workers  docker compose -f localstack/compose.yaml --profile workers logs -f
  teardown docker compose -f localstack/compose.yaml --profile workers down -v
MSG
