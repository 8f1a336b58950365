#!/usr/bin/env bash
# Drive a running Sealpost server with the aws CLI (v1 or v2).
#
# Usage: sns_cli.sh ENDPOINT [CA_FILE]
#
# Each check runs in its own subshell with `set -e`, so one failing check is
# reported and the next one still runs; values shared between checks live in
# files under $STATE. The script ends with "cli: N passed, M failed" and exits
# 1 when any check failed. Topic names carry a per-run prefix so that several
# runs (HTTP and HTTPS) can share one server.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
	echo "usage: sns_cli.sh ENDPOINT [CA_FILE]" >&2
	exit 2
fi
ENDPOINT=$1
CA_FILE=${2:-}

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
export AWS_MAX_ATTEMPTS=1 AWS_RETRY_MODE=standard AWS_PAGER=""
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_CA_BUNDLE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_SNS

ACCOUNT=000000000000
REGION=us-east-1
SCHEME=${ENDPOINT%%:*}
PREFIX="cli-${SCHEME}-$(python3 -c 'import uuid; print(uuid.uuid4().hex[:8])')"
MISSING="arn:aws:sns:${REGION}:${ACCOUNT}:${PREFIX}-missing"

. "$(dirname "$0")/lib.sh"
CLI=sns

AWSARGS=(--endpoint-url "$ENDPOINT" --region "$REGION" --output json --cli-read-timeout 30 --cli-connect-timeout 10)
if [[ -n $CA_FILE ]]; then
	AWSARGS+=(--ca-bundle "$CA_FILE")
fi

echo "$(aws --version 2>&1) against $ENDPOINT (CA ${CA_FILE:-none}), prefix $PREFIX"

# sns ARGS...: one aws sns call.
sns() { aws "${AWSARGS[@]}" sns "$@"; }

TOPIC="${PREFIX}-orders"
TOPIC_ARN="arn:aws:sns:${REGION}:${ACCOUNT}:${TOPIC}"
QUEUE_ARN="arn:aws:sqs:${REGION}:${ACCOUNT}:${PREFIX}-q"

t_create_topic() {
	local arn
	arn=$(sns create-topic --name "$TOPIC" --attributes DisplayName=Orders --tags Key=team,Value=core --query TopicArn | unquote)
	want TopicArn "$arn" "$TOPIC_ARN"
	# idempotent with the same attributes
	arn=$(sns create-topic --name "$TOPIC" --attributes DisplayName=Orders --query TopicArn | unquote)
	want "TopicArn again" "$arn" "$TOPIC_ARN"
}

t_list_topics() {
	local found
	found=$(sns list-topics | pyjson "sum(1 for t in d['Topics'] if t['TopicArn'] == '$TOPIC_ARN')")
	want "topic listed" "$found" 1
}

t_topic_attributes() {
	local attrs
	attrs=$(sns get-topic-attributes --topic-arn "$TOPIC_ARN" --query Attributes)
	want DisplayName "$(pyjson "d['DisplayName']" <<<"$attrs")" Orders
	want Owner "$(pyjson "d['Owner']" <<<"$attrs")" "$ACCOUNT"
	want PolicyId "$(pyjson "json.loads(d['Policy'])['Id']" <<<"$attrs")" __default_policy_ID
	sns set-topic-attributes --topic-arn "$TOPIC_ARN" --attribute-name DisplayName --attribute-value "Orders & Co <1>"
	want "DisplayName after set" "$(sns get-topic-attributes --topic-arn "$TOPIC_ARN" --query Attributes.DisplayName | unquote)" "Orders & Co <1>"
}

t_tags() {
	sns tag-resource --resource-arn "$TOPIC_ARN" --tags Key=env,Value=dev
	want tags "$(sns list-tags-for-resource --resource-arn "$TOPIC_ARN" | pyjson "sorted((t['Key'], t['Value']) for t in d['Tags'])")" '[["env", "dev"], ["team", "core"]]'
	sns untag-resource --resource-arn "$TOPIC_ARN" --tag-keys env
	want "tags after untag" "$(sns list-tags-for-resource --resource-arn "$TOPIC_ARN" --query 'Tags[].Key' | pyjson d)" '["team"]'
}

t_subscribe() {
	local arn
	arn=$(sns subscribe --topic-arn "$TOPIC_ARN" --protocol sqs --notification-endpoint "$QUEUE_ARN" \
		--attributes RawMessageDelivery=true --return-subscription-arn --query SubscriptionArn | unquote)
	[[ $arn == "$TOPIC_ARN":* ]] || { echo "  subscription arn $arn" >&2; return 1; }
	save sub "$arn"
	local attrs
	attrs=$(sns get-subscription-attributes --subscription-arn "$arn" --query Attributes)
	want PendingConfirmation "$(pyjson "d['PendingConfirmation']" <<<"$attrs")" false
	want RawMessageDelivery "$(pyjson "d['RawMessageDelivery']" <<<"$attrs")" true
	want Endpoint "$(pyjson "d['Endpoint']" <<<"$attrs")" "$QUEUE_ARN"
	sns set-subscription-attributes --subscription-arn "$arn" --attribute-name FilterPolicy \
		--attribute-value '{"store":["example_corp"],"price_usd":[{"numeric":[">=",100]}]}'
	want FilterPolicy "$(sns get-subscription-attributes --subscription-arn "$arn" | pyjson "json.loads(d['Attributes']['FilterPolicy'])['store'][0]")" example_corp
}

t_list_subscriptions() {
	local subs
	subs=$(sns list-subscriptions-by-topic --topic-arn "$TOPIC_ARN")
	want count "$(pyjson "len(d['Subscriptions'])" <<<"$subs")" 1
	want SubscriptionArn "$(pyjson "d['Subscriptions'][0]['SubscriptionArn']" <<<"$subs")" "$(load sub)"
	want Protocol "$(pyjson "d['Subscriptions'][0]['Protocol']" <<<"$subs")" sqs
	want "in list-subscriptions" "$(sns list-subscriptions | pyjson "sum(1 for s in d['Subscriptions'] if s['TopicArn'] == '$TOPIC_ARN')")" 1
	want SubscriptionsConfirmed "$(sns get-topic-attributes --topic-arn "$TOPIC_ARN" --query Attributes.SubscriptionsConfirmed | unquote)" 1
}

t_publish() {
	local id
	id=$(sns publish --topic-arn "$TOPIC_ARN" --subject greeting --message "hello from the cli" \
		--message-attributes '{
			"s": {"DataType": "String", "StringValue": "v"},
			"n": {"DataType": "Number", "StringValue": "12.5"},
			"b": {"DataType": "Binary", "BinaryValue": "AAEC"},
			"arr": {"DataType": "String.Array", "StringValue": "[\"a\", 1, true]"}
		}' --query MessageId | unquote)
	want "MessageId length" "${#id}" 36
	id=$(sns publish --topic-arn "$TOPIC_ARN" --message-structure json \
		--message '{"default": "d", "sqs": "for sqs"}' --query MessageId | unquote)
	want "json MessageId length" "${#id}" 36
}

t_publish_batch() {
	local out
	out=$(sns publish-batch --topic-arn "$TOPIC_ARN" --publish-batch-request-entries '[
		{"Id": "ok1", "Message": "one"},
		{"Id": "bad", "Message": "two", "Subject": "'"$(printf 's%.0s' {1..120})"'"},
		{"Id": "ok2", "Message": "three", "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}}}
	]')
	want Successful "$(pyjson "sorted(e['Id'] for e in d['Successful'])" <<<"$out")" '["ok1", "ok2"]'
	want Failed "$(pyjson "[(e['Id'], e['Code'], e['SenderFault']) for e in d['Failed']]" <<<"$out")" '[["bad", "InvalidParameter", true]]'
}

t_errors() {
	expect_error NotFound get-topic-attributes --topic-arn "$MISSING"
	expect_error NotFound publish --topic-arn "$MISSING" --message m
	expect_error InvalidParameter set-topic-attributes --topic-arn "$TOPIC_ARN" --attribute-name Bogus --attribute-value x
	expect_error ParameterValueInvalid publish --topic-arn "$TOPIC_ARN" --message m \
		--message-attributes '{"k": {"DataType": "Number", "StringValue": "abc"}}'
	expect_error ResourceNotFound list-tags-for-resource --resource-arn "$MISSING"
	expect_error InvalidParameter subscribe --topic-arn "$TOPIC_ARN" --protocol email --notification-endpoint a@example.com
}

t_batch_errors() {
	local eleven="[" i
	for i in $(seq 1 11); do
		eleven+="{\"Id\": \"e$i\", \"Message\": \"m\"},"
	done
	eleven="${eleven%,}]"
	expect_error TooManyEntriesInBatchRequest publish-batch --topic-arn "$TOPIC_ARN" --publish-batch-request-entries "$eleven"
	expect_error BatchEntryIdsNotDistinct publish-batch --topic-arn "$TOPIC_ARN" \
		--publish-batch-request-entries '[{"Id": "a", "Message": "m"}, {"Id": "a", "Message": "m"}]'
}

t_tls_verified() {
	# Without --ca-bundle the generated certificate must not be trusted.
	local out rc=0
	out=$(aws --endpoint-url "$ENDPOINT" --region "$REGION" --output json sns list-topics 2>&1) || rc=$?
	if [[ $rc -eq 0 || $out != *SSL* ]]; then
		echo "  want a certificate error without --ca-bundle, exit $rc: $out" >&2
		return 1
	fi
}

t_unsubscribe() {
	local arn
	arn=$(load sub)
	sns unsubscribe --subscription-arn "$arn"
	expect_error NotFound get-subscription-attributes --subscription-arn "$arn"
	want "subscriptions left" "$(sns list-subscriptions-by-topic --topic-arn "$TOPIC_ARN" --query 'length(Subscriptions)')" 0
}

t_delete_topic() {
	sns delete-topic --topic-arn "$TOPIC_ARN"
	sns delete-topic --topic-arn "$TOPIC_ARN" # idempotent
	expect_error NotFound get-topic-attributes --topic-arn "$TOPIC_ARN"
	want "topic listed" "$(sns list-topics | pyjson "sum(1 for t in d['Topics'] if t['TopicArn'] == '$TOPIC_ARN')")" 0
}

check "create-topic with attributes and tags (idempotent)" t_create_topic
check "list-topics" t_list_topics
check "get/set-topic-attributes" t_topic_attributes
check "tag-resource / list-tags-for-resource / untag-resource" t_tags
check "subscribe sqs, get/set-subscription-attributes" t_subscribe
check "list-subscriptions-by-topic / list-subscriptions" t_list_subscriptions
check "publish with --message-attributes and --message-structure json" t_publish
check "publish-batch with one failing entry" t_publish_batch
check "error codes: NotFound, InvalidParameter, ParameterValueInvalid, ResourceNotFound" t_errors
check "publish-batch errors" t_batch_errors
if [[ $SCHEME == https && -n $CA_FILE ]]; then
	check "https without --ca-bundle is rejected" t_tls_verified
fi
check "unsubscribe" t_unsubscribe
check "delete-topic" t_delete_topic

summary cli
