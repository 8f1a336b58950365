#!/usr/bin/env bash
# Drive a running SQS endpoint (Sealpost, or moto_server to check the script)
# with the aws CLI (v1 or v2).
#
# Usage: sqs_cli.sh ENDPOINT [CA_FILE]
#
# Environment: TARGET=moto relaxes what moto_server does not implement (each
# relaxed check prints "skip"). Against Sealpost leave it unset.
#
# Each check runs in its own subshell with `set -e` (lib.sh); values shared
# between checks live in files under $STATE. The script ends with
# "sqs-cli: N passed, M failed" and exits 1 when any check failed. Queue
# names carry a per-run prefix so that several runs (HTTP and HTTPS) can
# share one server. Binary message attributes are left to the boto3 script
# (aws CLI v1 and v2 read blob arguments differently). The aws CLI does not check the MD5 digests SQS returns,
# so the script does (md5_attrs: AWS's documented algorithm).
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
	echo "usage: sqs_cli.sh ENDPOINT [CA_FILE]" >&2
	exit 2
fi
ENDPOINT=$1
CA_FILE=${2:-}

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
export AWS_MAX_ATTEMPTS=1 AWS_RETRY_MODE=standard AWS_PAGER=""
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_CA_BUNDLE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_SQS AWS_ENDPOINT_URL_KMS

REGION=us-east-1
SCHEME=${ENDPOINT%%:*}
PREFIX="sqcli-${SCHEME}-$(python3 -c 'import uuid; print(uuid.uuid4().hex[:8])')"

. "$(dirname "$0")/lib.sh"
CLI=sqs

AWSARGS=(--endpoint-url "$ENDPOINT" --region "$REGION" --output json --cli-read-timeout 30 --cli-connect-timeout 10)
if [[ -n $CA_FILE ]]; then
	AWSARGS+=(--ca-bundle "$CA_FILE")
fi

echo "$(aws --version 2>&1) against $ENDPOINT (CA ${CA_FILE:-none}, target $TARGET), prefix $PREFIX"

sqs() { aws "${AWSARGS[@]}" sqs "$@"; }

# pj EXPR: pyjson, except that no output at all (what the CLI prints for an
# empty answer, such as a receive-message that got nothing) reads as {}.
pj() {
	python3 -c '
import json, sys
s = sys.stdin.read()
d = json.loads(s) if s.strip() else {}
r = eval(sys.argv[1])
print(r if isinstance(r, str) else json.dumps(r, sort_keys=True))
' "$1"
}
kms() { aws "${AWSARGS[@]}" kms "$@"; }

# md5_attrs: MD5OfMessageAttributes of the --message-attributes JSON on stdin
# (names sorted; length-prefixed name and data type, a transport byte, the
# length-prefixed value).
md5_attrs() {
	python3 -c '
import base64, hashlib, json, struct, sys
attrs = json.load(sys.stdin)
h = hashlib.md5()
for name in sorted(attrs):
    a = attrs[name]
    dt = a["DataType"]
    for part in (name.encode(), dt.encode()):
        h.update(struct.pack(">I", len(part)) + part)
    if dt.startswith("Binary"):
        v, t = base64.b64decode(a["BinaryValue"]), 2
    else:
        v, t = a["StringValue"].encode(), 1
    h.update(bytes([t]) + struct.pack(">I", len(v)) + v)
print(h.hexdigest())
'
}

# now_ms: milliseconds since the epoch.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

md5_text() { printf '%s' "$1" | md5sum | cut -d' ' -f1; }

# attr URL NAME: one queue attribute.
attr() { sqs get-queue-attributes --queue-url "$1" --attribute-names "$2" | pj "d.get('Attributes', {}).get('$2', '')"; }

# receive URL ARGS...: receive-message with every attribute; prints the JSON.
receive() {
	local url=$1
	shift
	sqs receive-message --queue-url "$url" --attribute-names All --message-attribute-names All --max-number-of-messages 10 "$@"
}

# bodies: the sorted message bodies of a receive-message answer, space separated.
bodies() { pj "' '.join(sorted(m['Body'] for m in d.get('Messages', [])))"; }

MAIN="${PREFIX}-main"
ATTRS='{"s":{"DataType":"String","StringValue":"v\u00e5lue"},"n":{"DataType":"Number","StringValue":"12.5"},"c":{"DataType":"String.custom","StringValue":"x"}}'

# The checks keep the number of CLI calls low (each starts a Python
# interpreter): what boto3 checks in depth (expiry timings, every error)
# is covered here once.

t_create() {
	local url
	url=$(sqs create-queue --queue-name "$MAIN" --attributes VisibilityTimeout=30,MessageRetentionPeriod=3600,MaximumMessageSize=2048 \
		--tags team=core --query QueueUrl | unquote)
	[[ $url == */"$MAIN" ]]
	save main "$url"
	want get-queue-url "$(sqs get-queue-url --queue-name "$MAIN" --query QueueUrl | unquote)" "$url"
	want "create again" "$(sqs create-queue --queue-name "$MAIN" --attributes VisibilityTimeout=30,MessageRetentionPeriod=3600,MaximumMessageSize=2048 --query QueueUrl | unquote)" "$url"
	expect_error QueueAlreadyExists create-queue --queue-name "$MAIN" --attributes VisibilityTimeout=31
}

t_attributes() {
	local a
	sqs set-queue-attributes --queue-url "$(load main)" --attributes VisibilityTimeout=300
	a=$(sqs get-queue-attributes --queue-url "$(load main)" --attribute-names All --query Attributes)
	save main_arn "$(pj "d['QueueArn']" <<<"$a")"
	[[ $(load main_arn) == "arn:aws:sqs:${REGION}:"*":${MAIN}" ]]
	want counts "$(pj "[d[k] for k in ('ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed')]" <<<"$a")" '["0", "0", "0"]'
	want set "$(pj "[d[k] for k in ('VisibilityTimeout', 'MessageRetentionPeriod', 'MaximumMessageSize', 'DelaySeconds')]" <<<"$a")" '["300", "3600", "2048", "0"]'
	want SqsManagedSseEnabled "$(pj "d.get('SqsManagedSseEnabled', '')" <<<"$a")" true
}

# arn_of NAME: the ARN of this account's queue NAME.
arn_of() { echo "$(load main_arn | cut -d: -f1-5):$1"; }

t_list() {
	local second
	second=$(sqs create-queue --queue-name "${PREFIX}-second" --query QueueUrl | unquote)
	save second "$second"
	want listed "$(sqs list-queues --queue-name-prefix "$PREFIX" | pj "sorted(d['QueueUrls'])")" \
		"$(python3 -c 'import json, sys; print(json.dumps(sorted(sys.argv[1:])))' "$(load main)" "$second")"
}

t_send_receive() {
	local body out m
	body="hello ${PREFIX} é世"
	out=$(sqs send-message --queue-url "$(load main)" --message-body "$body" --message-attributes "$ATTRS")
	want MD5OfMessageBody "$(pj "d['MD5OfMessageBody']" <<<"$out")" "$(md5_text "$body")"
	want MD5OfMessageAttributes "$(pj "d['MD5OfMessageAttributes']" <<<"$out")" "$(md5_attrs <<<"$ATTRS")"
	m=$(receive "$(load main)" --wait-time-seconds 1 | pj "d['Messages'][0]")
	want Body "$(pj "d['Body']" <<<"$m")" "$body"
	want MD5OfBody "$(pj "d['MD5OfBody']" <<<"$m")" "$(md5_text "$body")"
	want "received MD5OfMessageAttributes" "$(pj "d['MD5OfMessageAttributes']" <<<"$m")" "$(md5_attrs <<<"$ATTRS")"
	want MessageAttributes "$(pj "d['MessageAttributes']" <<<"$m")" "$(pj d <<<"$ATTRS")"
	want "system attributes" "$(pj "[d['Attributes']['ApproximateReceiveCount'], bool(d['Attributes']['SenderId']), len(d['Attributes']['SentTimestamp'])]" <<<"$m")" '["1", true, 13]'
	want "visible, in flight" "$(sqs get-queue-attributes --queue-url "$(load main)" --attribute-names ApproximateNumberOfMessages ApproximateNumberOfMessagesNotVisible \
		| pj "[d['Attributes'][k] for k in ('ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible')]")" '["0", "1"]'
	save handle "$(pj "d['ReceiptHandle']" <<<"$m")"
}

t_visibility() {
	local m
	want "in flight" "$(receive "$(load main)" | bodies)" ""
	sqs change-message-visibility --queue-url "$(load main)" --receipt-handle "$(load handle)" --visibility-timeout 0
	m=$(receive "$(load main)" | pj "d['Messages'][0]")
	want ApproximateReceiveCount "$(pj "d['Attributes']['ApproximateReceiveCount']" <<<"$m")" 2
	sqs delete-message --queue-url "$(load main)" --receipt-handle "$(pj "d['ReceiptHandle']" <<<"$m")"
}

t_batch() {
	local out m entries
	out=$(sqs send-message-batch --queue-url "$(load main)" --entries \
		'[{"Id":"e0","MessageBody":"batch-0"},{"Id":"e1","MessageBody":"batch-1","MessageAttributes":{"k":{"DataType":"String","StringValue":"v"}}}]')
	want successful "$(pj "sorted(e['Id'] for e in d['Successful'])" <<<"$out")" '["e0", "e1"]'
	want "batch MD5" "$(pj "[e['MD5OfMessageBody'] for e in sorted(d['Successful'], key=lambda e: e['Id'])]" <<<"$out")" \
		"[\"$(md5_text batch-0)\", \"$(md5_text batch-1)\"]"
	want "batch attribute MD5" "$(pj "[e['MD5OfMessageAttributes'] for e in d['Successful'] if e['Id'] == 'e1'][0]" <<<"$out")" \
		"$(md5_attrs <<<'{"k":{"DataType":"String","StringValue":"v"}}')"
	m=$(receive "$(load main)" --wait-time-seconds 1)
	if [[ $(bodies <<<"$m") != "batch-0 batch-1" ]]; then
		m=$(python3 -c 'import json, sys; a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2]); print(json.dumps({"Messages": a.get("Messages", []) + b.get("Messages", [])}))' \
			"$m" "$(receive "$(load main)" --wait-time-seconds 1)")
	fi
	want bodies "$(bodies <<<"$m")" "batch-0 batch-1"
	entries=$(pj "[{'Id': 'd%d' % i, 'ReceiptHandle': x['ReceiptHandle']} for i, x in enumerate(d['Messages'])]" <<<"$m")
	out=$(sqs delete-message-batch --queue-url "$(load main)" --entries "$entries")
	want deleted "$(pj "sorted(e['Id'] for e in d['Successful'])" <<<"$out")" '["d0", "d1"]'
}

t_delay() {
	local t0 m
	# What is checked "before the delay" only counts when the CLI answered
	# within 1.8 s of the send (a loaded machine starts the CLI slowly).
	t0=$(now_ms)
	sqs send-message --queue-url "$(load main)" --message-body delayed --delay-seconds 2 >/dev/null
	m=$(receive "$(load main)")
	if [[ $(($(now_ms) - t0)) -lt 1800 ]]; then
		want "at once" "$(bodies <<<"$m")" ""
		m=$(receive "$(load main)" --wait-time-seconds 5)
	elif [[ -z $(bodies <<<"$m") ]]; then
		m=$(receive "$(load main)" --wait-time-seconds 5)
	fi
	want "after the delay (long polling)" "$(bodies <<<"$m")" delayed
	[[ $(($(now_ms) - t0)) -ge 1900 ]] || { echo "  received before the delay" >&2; return 1; }
}

t_purge() {
	# The delayed message is in flight; purge-queue deletes it too.
	sqs send-message --queue-url "$(load main)" --message-body purged >/dev/null
	sqs purge-queue --queue-url "$(load main)"
	want after "$(sqs get-queue-attributes --queue-url "$(load main)" --attribute-names All \
		| pj "[d['Attributes'][k] for k in ('ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible')]")" '["0", "0"]'
}

t_tags() {
	sqs tag-queue --queue-url "$(load main)" --tags env=test,team=edge
	sqs untag-queue --queue-url "$(load main)" --tag-keys team
	want tags "$(sqs list-queue-tags --queue-url "$(load main)" | pj "d['Tags']")" '{"env": "test"}'
}

t_permission() {
	local account pol
	account=$(load main_arn | cut -d: -f5)
	sqs add-permission --queue-url "$(load main)" --label peer --aws-account-ids "$account" --actions SendMessage ReceiveMessage
	pol=$(attr "$(load main)" Policy)
	want statement "$(pj "[(s['Sid'], s['Effect'], sorted(s['Action'])) for s in d['Statement']]" <<<"$pol")" \
		'[["peer", "Allow", ["SQS:ReceiveMessage", "SQS:SendMessage"]]]'
	sqs remove-permission --queue-url "$(load main)" --label peer
}

t_redrive() {
	local dlq dlq_arn src i
	dlq=$(sqs create-queue --queue-name "${PREFIX}-dlq" --query QueueUrl | unquote)
	dlq_arn=$(arn_of "${PREFIX}-dlq")
	src=$(sqs create-queue --queue-name "${PREFIX}-src" --attributes \
		"$(python3 -c 'import json, sys; print(json.dumps({"RedrivePolicy": json.dumps({"deadLetterTargetArn": sys.argv[1], "maxReceiveCount": "2"})}))' "$dlq_arn")" \
		--query QueueUrl | unquote)
	save dlq "$dlq"
	save dlq_arn "$dlq_arn"
	save src "$src"
	sqs send-message --queue-url "$src" --message-body poison >/dev/null
	for i in 1 2; do
		want "receive $i" "$(receive "$src" --visibility-timeout 0 | bodies)" poison
	done
	want "third receive" "$(receive "$src" | bodies)" ""
	want "in the DLQ" "$(receive "$dlq" --wait-time-seconds 5 --visibility-timeout 0 | bodies)" poison
	want sources "$(sqs list-dead-letter-source-queues --queue-url "$dlq" | pj "d['queueUrls']")" "[\"$src\"]"
}

t_move() {
	local i r
	strict || return 77
	[[ -n $(sqs start-message-move-task --source-arn "$(load dlq_arn)" --query TaskHandle | unquote) ]]
	for i in $(seq 1 50); do
		r=$(sqs list-message-move-tasks --source-arn "$(load dlq_arn)" | pj "[d['Results'][0][k] for k in ('Status', 'ApproximateNumberOfMessagesMoved')]")
		[[ $r == '["COMPLETED", 1]' ]] && break
		sleep 0.2
	done
	want "Status, moved" "$r" '["COMPLETED", 1]'
	want "back in the source" "$(receive "$(load src)" --wait-time-seconds 2 | bodies)" poison
}

t_kms_queue() {
	local key url a
	key=$(kms create-key --description "queue key $PREFIX" --query KeyMetadata.Arn | unquote)
	url=$(sqs create-queue --queue-name "${PREFIX}-kms" --attributes KmsMasterKeyId="$key",KmsDataKeyReusePeriodSeconds=120 --query QueueUrl | unquote)
	a=$(sqs get-queue-attributes --queue-url "$url" --attribute-names All --query Attributes)
	want "KmsMasterKeyId, KmsDataKeyReusePeriodSeconds" "$(pj "[d['KmsMasterKeyId'], d['KmsDataKeyReusePeriodSeconds']]" <<<"$a")" "[\"$key\", \"120\"]"
	sqs send-message --queue-url "$url" --message-body "secret $PREFIX" >/dev/null
	want received "$(receive "$url" --wait-time-seconds 1 | bodies)" "secret $PREFIX"
	strict || return 77
	want SqsManagedSseEnabled "$(pj "d.get('SqsManagedSseEnabled', 'false')" <<<"$a")" false
	expect_error InvalidAttributeValue set-queue-attributes --queue-url "$url" --attributes KmsDataKeyReusePeriodSeconds=59
}

t_errors() {
	expect_error AWS.SimpleQueueService.NonExistentQueue get-queue-url --queue-name "${PREFIX}-missing"
	strict || return 77
	expect_error InvalidAttributeName get-queue-attributes --queue-url "$(load main)" --attribute-names Bogus
	expect_error ReceiptHandleIsInvalid delete-message --queue-url "$(load main)" --receipt-handle not-a-receipt-handle
}

t_delete() {
	sqs delete-queue --queue-url "$(load main)"
	expect_error AWS.SimpleQueueService.NonExistentQueue send-message --queue-url "$(load main)" --message-body gone
}

check "create-queue with attributes and tags; get-queue-url; idempotent; QueueAlreadyExists" t_create
check "set/get-queue-attributes: counts, SqsManagedSseEnabled default" t_attributes
check "list-queues with a prefix" t_list
check "send-message with attributes (MD5s); receive-message with every attribute" t_send_receive
check "visibility: in flight; change-message-visibility; delete-message" t_visibility
check "send-message-batch (MD5s), delete-message-batch" t_batch
check "send-message --delay-seconds; receive-message --wait-time-seconds" t_delay
check "purge-queue" t_purge
check "tag-queue, untag-queue, list-queue-tags" t_tags
check "add-permission, remove-permission" t_permission
check "RedrivePolicy: to the DLQ after maxReceiveCount; list-dead-letter-source-queues" t_redrive
check "start-message-move-task back to the source; list-message-move-tasks" t_move
check "SSE-KMS queue with a customer key" t_kms_queue
check "errors: nonexistent queue, bad attribute, invalid receipt handle" t_errors
check "delete-queue" t_delete

summary sqs-cli
