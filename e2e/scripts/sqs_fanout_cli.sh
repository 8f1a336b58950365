#!/usr/bin/env bash
# The classic SNS -> SQS fan-out with the aws CLI, as a user sets it up.
#
# Usage: sqs_fanout_cli.sh ENDPOINT CA_FILE PREFIX
#
# One topic with server-side encryption under a customer key; three queues
# subscribed to it:
#   PREFIX-filtered   raw message delivery and a filter policy (kind = order),
#                     SSE-SQS (the default), a queue policy allowing the topic;
#   PREFIX-encrypted  SSE-KMS under a second customer key whose key policy
#                     lets sns.amazonaws.com use it (kms:GenerateDataKey*,
#                     kms:Decrypt), a queue policy allowing the topic;
#                     envelope (JSON) delivery;
#   PREFIX-denied     no queue policy: the topic may not send to it.
# Three messages are published (kind = order, kind = other, no attribute).
# The filtered queue receives the order alone, raw, with its attribute as a
# message attribute; the encrypted queue receives all three as Notification
# envelopes; the denied queue receives nothing. The Go test behind the
# script checks that the refused deliveries are visible (metrics, log).
#
# Each check runs in its own subshell with `set -e` (lib.sh). The script ends
# with "sqs-fanout: N passed, M failed" and exits 1 when any check failed.
set -euo pipefail

if [[ $# -ne 3 ]]; then
	echo "usage: sqs_fanout_cli.sh ENDPOINT CA_FILE PREFIX" >&2
	exit 2
fi
ENDPOINT=$1
CA_FILE=$2
PREFIX=$3

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
export AWS_MAX_ATTEMPTS=1 AWS_RETRY_MODE=standard AWS_PAGER=""
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_CA_BUNDLE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_SQS AWS_ENDPOINT_URL_SNS AWS_ENDPOINT_URL_KMS

. "$(dirname "$0")/lib.sh"
CLI=sqs

EP=(--endpoint-url "$ENDPOINT" --ca-bundle "$CA_FILE" --region us-east-1 --output json --cli-read-timeout 30 --cli-connect-timeout 10)
echo "$(aws --version 2>&1) against $ENDPOINT (CA $CA_FILE, target $TARGET), prefix $PREFIX"

sqs() { aws "${EP[@]}" sqs "$@"; }
sns() { aws "${EP[@]}" sns "$@"; }
kms() { aws "${EP[@]}" kms "$@"; }

# pj EXPR: pyjson, with no output at all (an empty answer) read as {}.
pj() {
	python3 -c '
import json, sys
s = sys.stdin.read()
d = json.loads(s) if s.strip() else {}
r = eval(sys.argv[1])
print(r if isinstance(r, str) else json.dumps(r, sort_keys=True))
' "$1"
}

# drain URL N: receive (long polling) until N messages arrived or 20 s
# passed; prints them as a JSON list. What arrived stays in flight for the
# queue's visibility timeout (30 s), so each receive gets new messages.
drain() {
	local url=$1 n=$2 got='[]' m i
	for i in $(seq 1 20); do
		m=$(sqs receive-message --queue-url "$url" --max-number-of-messages 10 --wait-time-seconds 1 \
			--message-attribute-names All --attribute-names All)
		got=$(python3 -c 'import json, sys; a = json.loads(sys.argv[1]); b = json.loads(sys.argv[2]) if sys.argv[2].strip() else {}; print(json.dumps(a + b.get("Messages", [])))' "$got" "$m")
		[[ $(pj "len(d)" <<<"$got") -ge $n ]] && break
	done
	echo "$got"
}

# key_policy: the policy of the queue key (the account may administer and
# use it; SNS may generate data keys and decrypt).
key_policy() {
	python3 -c '
import json, sys
print(json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "owner", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % sys.argv[1]}, "Action": "kms:*", "Resource": "*"},
    {"Sid": "sns", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
     "Action": ["kms:GenerateDataKey*", "kms:Decrypt"], "Resource": "*"}]}))
' "$1"
}

# queue_policy QUEUE_ARN TOPIC_ARN: allow the topic (through SNS) to send.
queue_policy() {
	python3 -c '
import json, sys
q, t = sys.argv[1:]
p = {"Version": "2012-10-17", "Statement": [{"Sid": "topic", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
     "Action": "sqs:SendMessage", "Resource": q, "Condition": {"ArnEquals": {"aws:SourceArn": t}}}]}
print(json.dumps({"Policy": json.dumps(p)}))
' "$1" "$2"
}

t_keys() {
	local account
	save topic_key "$(kms create-key --description "fan-out topic $PREFIX" --query KeyMetadata.Arn | unquote)"
	account=$(load topic_key | cut -d: -f5)
	save account "$account"
	save queue_key "$(kms create-key --description "fan-out queue $PREFIX" --policy "$(key_policy "$account")" --query KeyMetadata.Arn | unquote)"
}

t_topic() {
	local arn
	arn=$(sns create-topic --name "${PREFIX}-orders" --attributes KmsMasterKeyId="$(load topic_key)" --query TopicArn | unquote)
	save topic "$arn"
	want KmsMasterKeyId "$(sns get-topic-attributes --topic-arn "$arn" --query Attributes.KmsMasterKeyId | unquote)" "$(load topic_key)"
}

t_queues() {
	local q url arn
	for q in filtered encrypted denied; do
		if [[ $q == encrypted ]]; then
			url=$(sqs create-queue --queue-name "${PREFIX}-$q" --attributes KmsMasterKeyId="$(load queue_key)" --query QueueUrl | unquote)
		else
			url=$(sqs create-queue --queue-name "${PREFIX}-$q" --query QueueUrl | unquote)
		fi
		arn="arn:aws:sqs:us-east-1:$(load account):${PREFIX}-$q"
		save "${q}_url" "$url"
		save "${q}_arn" "$arn"
		if [[ $q != denied ]]; then
			sqs set-queue-attributes --queue-url "$url" --attributes "$(queue_policy "$arn" "$(load topic)")"
		fi
	done
}

t_subscribe() {
	local sub q
	sub=$(sns subscribe --topic-arn "$(load topic)" --protocol sqs --notification-endpoint "$(load filtered_arn)" --return-subscription-arn \
		--attributes '{"RawMessageDelivery": "true", "FilterPolicy": "{\"kind\": [\"order\"]}"}' --query SubscriptionArn | unquote)
	want "filtered: confirmed at once" "$(sns get-subscription-attributes --subscription-arn "$sub" --query Attributes.PendingConfirmation | unquote)" false
	for q in encrypted denied; do
		sns subscribe --topic-arn "$(load topic)" --protocol sqs --notification-endpoint "$(load ${q}_arn)" >/dev/null
	done
}

t_publish() {
	sns publish --topic-arn "$(load topic)" --message "${PREFIX} order" --subject "an order" \
		--message-attributes '{"kind": {"DataType": "String", "StringValue": "order"}}' >/dev/null
	sns publish --topic-arn "$(load topic)" --message "${PREFIX} other" \
		--message-attributes '{"kind": {"DataType": "String", "StringValue": "other"}}' >/dev/null
	sns publish --topic-arn "$(load topic)" --message "${PREFIX} plain" >/dev/null
}

t_filtered() {
	local got
	got=$(drain "$(load filtered_url)" 1)
	want "raw bodies" "$(pj "[m['Body'] for m in d]" <<<"$got")" "[\"${PREFIX} order\"]"
	want "raw attribute" "$(pj "d[0]['MessageAttributes']['kind']" <<<"$got")" '{"DataType": "String", "StringValue": "order"}'
	want "SenderId" "$(pj "bool(d[0]['Attributes']['SenderId'])" <<<"$got")" true
	want "filtered out" "$(sqs receive-message --queue-url "$(load filtered_url)" --wait-time-seconds 1 | pj "len(d.get('Messages', []))")" 0
}

t_encrypted() {
	local got
	got=$(drain "$(load encrypted_url)" 3)
	want envelopes "$(pj "sorted((json.loads(m['Body'])['Type'], json.loads(m['Body'])['Message']) for m in d)" <<<"$got")" \
		"[[\"Notification\", \"${PREFIX} order\"], [\"Notification\", \"${PREFIX} other\"], [\"Notification\", \"${PREFIX} plain\"]]"
	want "envelope fields" "$(pj "sorted(set(k for m in d for k in json.loads(m['Body'])) & {'TopicArn', 'MessageId', 'Timestamp', 'Signature', 'SignatureVersion', 'SigningCertURL', 'UnsubscribeURL'})" <<<"$got")" \
		'["MessageId", "Signature", "SignatureVersion", "SigningCertURL", "Timestamp", "TopicArn", "UnsubscribeURL"]'
	want TopicArn "$(pj "sorted(set(json.loads(m['Body'])['TopicArn'] for m in d))" <<<"$got")" "[\"$(load topic)\"]"
	want "Subject and attribute" "$(pj "[(b.get('Subject'), b['MessageAttributes']['kind']['Value']) for b in (json.loads(m['Body']) for m in d) if b['Message'].endswith(' order')]" <<<"$got")" \
		'[["an order", "order"]]'
}

t_denied() {
	strict || return 77 # moto does not enforce queue policies
	want "nothing queued" "$(sqs get-queue-attributes --queue-url "$(load denied_url)" --attribute-names All \
		--query 'Attributes.[ApproximateNumberOfMessages, ApproximateNumberOfMessagesNotVisible]' | pj d)" '["0", "0"]'
}

check "kms create-key: a topic key and a queue key SNS may use" t_keys
check "sns create-topic with SSE (the topic key)" t_topic
check "sqs create-queue x3; set-queue-attributes Policy allowing the topic on two" t_queues
check "sns subscribe the three queues (one raw with a filter policy)" t_subscribe
check "sns publish three messages" t_publish
check "the filtered queue: the order alone, raw, with its attribute" t_filtered
check "the SSE-KMS queue: all three as signed Notification envelopes" t_encrypted
check "the queue without a policy for the topic: nothing" t_denied

summary sqs-fanout
