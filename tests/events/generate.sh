#!/usr/bin/env bash
# Regenerates the event fixtures with the AWS SAM CLI (offline). SAM pins its own boto3, so give it a venv:
#   python3 -m venv /tmp/samvenv && /tmp/samvenv/bin/pip install aws-sam-cli
#   SAM=/tmp/samvenv/bin/sam ./tests/events/generate.sh
set -euo pipefail
cd "$(dirname "$0")"
SAM=${SAM:-sam}
export SAM_CLI_TELEMETRY=0
gen() { out=$1; shift; "$SAM" local generate-event "$@" > "$out"; echo "wrote $out"; }
gen apigw-rest-get-workflows.json apigateway aws-proxy --stage prod --method GET --path api/workflows --body '' \
    --querystringparameters '{}'
gen apigw-rest-post-execute.json apigateway aws-proxy --stage prod --method POST \
    --path api/workflows/execute/hello_world --querystringparameters '{}' --body '{"name": "Ada", "language": "fr"}'
gen apigw-rest-get-root.json apigateway aws-proxy --stage prod --method GET --resource / --path '' --body '' \
    --querystringparameters '{}'
gen apigw-http-get-workflows.json apigateway http-api-proxy --stage prod --method GET --path api/workflows --body ''
gen apigw-http-post-execute.json apigateway http-api-proxy --stage prod --method POST \
    --path api/workflows/execute/hello_world --body '{"name": "Ada", "language": "fr"}'
gen scheduled-event.json cloudwatch scheduled-event
gen scheduled-event-rule.json cloudwatch scheduled-event --rule wfp-test-daily_digest
gen sqs-receive-message.json sqs receive-message --queue-name wfp-test-runs
