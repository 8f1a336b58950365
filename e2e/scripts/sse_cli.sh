#!/usr/bin/env bash
# Turn on server-side encryption of a topic with the aws CLI, as a user would.
#
# Usage: sse_cli.sh HTTPS_ENDPOINT CA_FILE HTTP_ENDPOINT SUBSCRIBER_URL MARKER
#
# Creates a KMS key and an alias, an SSE topic (KmsMasterKeyId = the alias
# name), subscribes SUBSCRIBER_URL over HTTP (the Go test behind it confirms
# the subscription and collects what arrives) and publishes MARKER; the same
# publish over plain HTTP (HTTP_ENDPOINT) must fail with InvalidSecurity
# (MARKER-http must never arrive). The Go test checks that MARKER arrived in
# plaintext with a signature that verifies.
#
# Each check runs in its own subshell with `set -e`; values shared between
# checks live in files under $STATE. The script ends with
# "sse-cli: N passed, M failed" and exits 1 when any check failed.
set -euo pipefail

if [[ $# -ne 5 ]]; then
	echo "usage: sse_cli.sh HTTPS_ENDPOINT CA_FILE HTTP_ENDPOINT SUBSCRIBER_URL MARKER" >&2
	exit 2
fi
HTTPS=$1
CA_FILE=$2
HTTP=$3
SUBSCRIBER=$4
MARKER=$5

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
export AWS_MAX_ATTEMPTS=1 AWS_RETRY_MODE=standard AWS_PAGER=""
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_CA_BUNDLE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_SNS AWS_ENDPOINT_URL_KMS

PREFIX="scli-$(python3 -c 'import uuid; print(uuid.uuid4().hex[:8])')"
. "$(dirname "$0")/lib.sh"

COMMON=(--region us-east-1 --output json --cli-read-timeout 30 --cli-connect-timeout 10)
EP=(--endpoint-url "$HTTPS" --ca-bundle "$CA_FILE" "${COMMON[@]}")
PLAIN=(--endpoint-url "$HTTP" "${COMMON[@]}")

echo "$(aws --version 2>&1) against $HTTPS (CA $CA_FILE) and $HTTP, prefix $PREFIX"

ALIAS="alias/${PREFIX}-orders"

t_key() {
	local id
	id=$(aws "${EP[@]}" kms create-key --description "SSE for $PREFIX" --query KeyMetadata.KeyId | pyjson d)
	aws "${EP[@]}" kms create-alias --alias-name "$ALIAS" --target-key-id "$id"
	save key "$id"
}

t_topic() {
	local arn
	arn=$(aws "${EP[@]}" sns create-topic --name "${PREFIX}-orders" --attributes KmsMasterKeyId="$ALIAS" --query TopicArn | pyjson d)
	save topic "$arn"
	want KmsMasterKeyId "$(aws "${EP[@]}" sns get-topic-attributes --topic-arn "$arn" --query Attributes.KmsMasterKeyId | pyjson d)" "$ALIAS"
}

t_subscribe() {
	local sub i pending
	sub=$(aws "${EP[@]}" sns subscribe --topic-arn "$(load topic)" --protocol http --notification-endpoint "$SUBSCRIBER" \
		--return-subscription-arn --query SubscriptionArn | pyjson d)
	for i in $(seq 1 40); do
		pending=$(aws "${EP[@]}" sns get-subscription-attributes --subscription-arn "$sub" --query Attributes.PendingConfirmation | pyjson d)
		[[ $pending == false ]] && return 0
		sleep 0.5
	done
	echo "  subscription $sub still pending" >&2
	return 1
}

t_publish() {
	local id
	id=$(aws "${EP[@]}" sns publish --topic-arn "$(load topic)" --message "$MARKER" --subject "sse cli" --query MessageId | pyjson d)
	[[ -n $id ]]
}

t_plain_http() {
	local out rc=0
	out=$(aws "${PLAIN[@]}" sns publish --topic-arn "$(load topic)" --message "${MARKER}-http" 2>&1) || rc=$?
	if [[ $rc -ne 254 && $rc -ne 255 ]] || [[ $out != *"An error occurred (InvalidSecurity)"* ]]; then
		echo "  publish over HTTP: want InvalidSecurity, exit $rc: $out" >&2
		return 1
	fi
}

check "kms create-key, create-alias" t_key
check "sns create-topic with KmsMasterKeyId = alias name" t_topic
check "sns subscribe the HTTP endpoint; it confirms" t_subscribe
check "sns publish over HTTPS" t_publish
check "sns publish over plain HTTP: InvalidSecurity" t_plain_http

summary sse-cli
