#!/usr/bin/env bash
# Drive a running KMS endpoint (Sealpost, or moto_server to check the script)
# with the aws CLI (v1 or v2): the key life cycle a user walks through.
#
# Usage: kms_cli.sh ENDPOINT [CA_FILE]
#
# Environment: KMS_TARGET=moto relaxes the checks moto_server does not
# implement (it encrypts under disabled keys and keys pending deletion); each
# relaxed check prints "skip (moto)". Against Sealpost leave it unset.
#
# Each check runs in its own subshell with `set -e`, so one failing check is
# reported and the next one still runs; values shared between checks live in
# files under $STATE. The script ends with "kms-cli: N passed, M failed" and
# exits 1 when any check failed. Alias names carry a per-run prefix so that
# several runs (HTTP and HTTPS) can share one server.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
	echo "usage: kms_cli.sh ENDPOINT [CA_FILE]" >&2
	exit 2
fi
ENDPOINT=$1
CA_FILE=${2:-}
TARGET=${KMS_TARGET:-sealpost}
. "$(dirname "$0")/lib.sh"
CLI=kms

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
export AWS_MAX_ATTEMPTS=1 AWS_RETRY_MODE=standard AWS_PAGER=""
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_CA_BUNDLE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_KMS

REGION=us-east-1
SCHEME=${ENDPOINT%%:*}
PREFIX="kcli-${SCHEME}-$(python3 -c 'import uuid; print(uuid.uuid4().hex[:8])')"

AWSARGS=(--endpoint-url "$ENDPOINT" --region "$REGION" --output json --cli-read-timeout 30 --cli-connect-timeout 10)
if [[ -n $CA_FILE ]]; then
	AWSARGS+=(--ca-bundle "$CA_FILE")
fi

echo "$(aws --version 2>&1) against $ENDPOINT (CA ${CA_FILE:-none}, target $TARGET), prefix $PREFIX"

# kms ARGS...: one aws kms call.
kms() { aws "${AWSARGS[@]}" kms "$@"; }

ALIAS="alias/${PREFIX}-orders"
CONTEXT="purpose=e2e,run=${PREFIX}"
WRONG_CONTEXT="purpose=e2e,run=${PREFIX}-other"

t_create_key() {
	local md id arn acct
	md=$(kms create-key --description "e2e key $PREFIX" --tags TagKey=team,TagValue=core TagKey=run,TagValue="$PREFIX" --query KeyMetadata)
	id=$(pyjson "d['KeyId']" <<<"$md")
	arn=$(pyjson "d['Arn']" <<<"$md")
	acct=$(pyjson "d['AWSAccountId']" <<<"$md")
	want KeyState "$(pyjson "d['KeyState']" <<<"$md")" Enabled
	want Enabled "$(pyjson "d['Enabled']" <<<"$md")" true
	if strict; then # moto leaves KeyUsage out
		want KeyUsage "$(pyjson "d.get('KeyUsage')" <<<"$md")" ENCRYPT_DECRYPT
	fi
	want KeySpec "$(pyjson "d.get('KeySpec')" <<<"$md")" SYMMETRIC_DEFAULT
	want Description "$(pyjson "d['Description']" <<<"$md")" "e2e key $PREFIX"
	want Arn "$arn" "arn:aws:kms:${REGION}:${acct}:key/${id}"
	save id "$id"
	save arn "$arn"
	save acct "$acct"
	local tags
	tags=$(kms list-resource-tags --key-id "$id" | pyjson "sorted((t['TagKey'], t['TagValue']) for t in d['Tags'])")
	want tags "$tags" "[[\"run\", \"$PREFIX\"], [\"team\", \"core\"]]"
	local listed
	listed=$(kms list-keys | pyjson "sum(1 for k in d['Keys'] if k['KeyId'] == '$id')")
	want "key listed" "$listed" 1
}

t_alias() {
	local id
	id=$(load id)
	kms create-alias --alias-name "$ALIAS" --target-key-id "$id"
	want "describe by alias" "$(kms describe-key --key-id "$ALIAS" --query KeyMetadata.KeyId | pyjson d)" "$id"
	local found
	found=$(kms list-aliases --key-id "$id" | pyjson "[a['AliasName'] for a in d['Aliases'] if a.get('TargetKeyId') == '$id']")
	want aliases "$found" "[\"$ALIAS\"]"
	expect_error AlreadyExistsException create-alias --alias-name "$ALIAS" --target-key-id "$id"
}

t_encrypt_decrypt_file() {
	head -c 3000 /dev/urandom >"$STATE/plain.bin"
	printf 'and a readable tail %s\n' "$PREFIX" >>"$STATE/plain.bin"
	local out
	out=$(kms encrypt --key-id "$ALIAS" --plaintext "fileb://$STATE/plain.bin" --encryption-context "$CONTEXT")
	want "encrypt KeyId" "$(pyjson "d['KeyId']" <<<"$out")" "$(load arn)"
	pyjson "d['CiphertextBlob']" <<<"$out" | b64d >"$STATE/old.enc"
	if cmp -s "$STATE/plain.bin" "$STATE/old.enc"; then
		echo "  ciphertext equals plaintext" >&2
		return 1
	fi
	# Decrypt without KeyId: the blob names its key.
	out=$(kms decrypt --ciphertext-blob "fileb://$STATE/old.enc" --encryption-context "$CONTEXT")
	want "decrypt KeyId" "$(pyjson "d['KeyId']" <<<"$out")" "$(load arn)"
	pyjson "d['Plaintext']" <<<"$out" | b64d >"$STATE/plain.out"
	cmp "$STATE/plain.bin" "$STATE/plain.out"
	# With the matching KeyId (alias) it works too.
	kms decrypt --key-id "$ALIAS" --ciphertext-blob "fileb://$STATE/old.enc" --encryption-context "$CONTEXT" --query Plaintext --output text | b64d >"$STATE/plain.out2"
	cmp "$STATE/plain.bin" "$STATE/plain.out2"
}

t_decrypt_wrong_context() {
	expect_error InvalidCiphertextException decrypt --ciphertext-blob "fileb://$STATE/old.enc" --encryption-context "$WRONG_CONTEXT"
	expect_error InvalidCiphertextException decrypt --ciphertext-blob "fileb://$STATE/old.enc"
}

t_data_key() {
	local out pt
	out=$(kms generate-data-key --key-id "$(load id)" --key-spec AES_256 --encryption-context "$CONTEXT")
	pt=$(pyjson "d['Plaintext']" <<<"$out" | b64d | wc -c)
	want "data key bytes" "$pt" 32
	pyjson "d['CiphertextBlob']" <<<"$out" | b64d >"$STATE/dk.enc"
	local back
	back=$(kms decrypt --ciphertext-blob "fileb://$STATE/dk.enc" --encryption-context "$CONTEXT" --query Plaintext --output text)
	want "data key decrypts to its plaintext" "$back" "$(pyjson "d['Plaintext']" <<<"$out")"
	out=$(kms generate-data-key-without-plaintext --key-id "$ALIAS" --number-of-bytes 64 --encryption-context "$CONTEXT")
	want "without plaintext" "$(pyjson "'Plaintext' in d" <<<"$out")" false
}

t_rotate_on_demand() {
	local id n i
	id=$(load id)
	# KeyId is the key id or ARN (moto answers the id, Sealpost the ARN).
	want "rotate KeyId" "$(kms rotate-key-on-demand --key-id "$id" --query KeyId | pyjson "d.split('/')[-1]")" "$id"
	# AWS rotates asynchronously; wait up to 10 s for the rotation to be listed.
	for i in $(seq 20); do
		n=$(kms list-key-rotations --key-id "$id" | pyjson "sum(1 for r in d.get('Rotations', []) if r['RotationType'] == 'ON_DEMAND')")
		[[ $n -ge 1 ]] && break
		sleep 0.5
	done
	want "on-demand rotations listed" "$n" 1
}

t_decrypt_old_after_rotation() {
	kms decrypt --ciphertext-blob "fileb://$STATE/old.enc" --encryption-context "$CONTEXT" --query Plaintext --output text | b64d >"$STATE/plain.rot"
	cmp "$STATE/plain.bin" "$STATE/plain.rot"
	# New encryptions use the new material and decrypt as well.
	kms encrypt --key-id "$ALIAS" --plaintext "fileb://$STATE/plain.bin" --encryption-context "$CONTEXT" --query CiphertextBlob --output text | b64d >"$STATE/new.enc"
	kms decrypt --ciphertext-blob "fileb://$STATE/new.enc" --encryption-context "$CONTEXT" --query Plaintext --output text | b64d >"$STATE/plain.new"
	cmp "$STATE/plain.bin" "$STATE/plain.new"
}

t_disable_enable() {
	local id
	id=$(load id)
	kms disable-key --key-id "$id"
	want KeyState "$(kms describe-key --key-id "$id" --query KeyMetadata.KeyState | pyjson d)" Disabled
	if strict; then
		expect_error DisabledException encrypt --key-id "$id" --plaintext "fileb://$STATE/plain.bin"
		expect_error DisabledException decrypt --ciphertext-blob "fileb://$STATE/old.enc" --encryption-context "$CONTEXT"
		expect_error DisabledException generate-data-key --key-id "$id" --key-spec AES_256
	fi
	kms enable-key --key-id "$id"
	want KeyState "$(kms describe-key --key-id "$id" --query KeyMetadata.KeyState | pyjson d)" Enabled
	kms encrypt --key-id "$id" --plaintext "fileb://$STATE/plain.bin" >/dev/null
	strict || return 77
}

t_schedule_cancel_deletion() {
	local id md
	id=$(load id)
	md=$(kms schedule-key-deletion --key-id "$id" --pending-window-in-days 7)
	want "schedule KeyId" "$(pyjson "d['KeyId'].split('/')[-1]" <<<"$md")" "$id"
	md=$(kms describe-key --key-id "$id" --query KeyMetadata)
	want KeyState "$(pyjson "d['KeyState']" <<<"$md")" PendingDeletion
	want "DeletionDate set" "$(pyjson "bool(d.get('DeletionDate'))" <<<"$md")" true
	if strict; then
		want PendingDeletionWindowInDays "$(pyjson "d.get('PendingDeletionWindowInDays')" <<<"$md")" 7
		expect_error KMSInvalidStateException encrypt --key-id "$id" --plaintext "fileb://$STATE/plain.bin"
		expect_error KMSInvalidStateException decrypt --ciphertext-blob "fileb://$STATE/old.enc" --encryption-context "$CONTEXT"
	fi
	kms cancel-key-deletion --key-id "$id" >/dev/null
	md=$(kms describe-key --key-id "$id" --query KeyMetadata)
	want "KeyState after cancel" "$(pyjson "d['KeyState']" <<<"$md")" Disabled
	want "DeletionDate cleared" "$(pyjson "bool(d.get('DeletionDate'))" <<<"$md")" false
	kms enable-key --key-id "$id"
	kms decrypt --ciphertext-blob "fileb://$STATE/old.enc" --encryption-context "$CONTEXT" --query Plaintext --output text | b64d >"$STATE/plain.back"
	cmp "$STATE/plain.bin" "$STATE/plain.back"
	strict || return 77
}

t_key_policy() {
	local id acct pol got
	id=$(load id)
	acct=$(load acct)
	got=$(kms get-key-policy --key-id "$id" --policy-name default --query Policy | pyjson d)
	want "default policy names the account root" "$(pyjson "any('arn:aws:iam::$acct:root' in json.dumps(s.get('Principal')) and s.get('Action') in ('kms:*', ['kms:*']) for s in d['Statement'])" <<<"$got")" true
	pol=$(python3 -c '
import json, sys
acct, prefix = sys.argv[1], sys.argv[2]
print(json.dumps({"Version": "2012-10-17", "Id": prefix, "Statement": [
    {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % acct},
     "Action": "kms:*", "Resource": "*"},
    {"Sid": "NoOtherContext", "Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::%s:root" % acct},
     "Action": "kms:Encrypt", "Resource": "*",
     "Condition": {"StringEquals": {"kms:EncryptionContext:purpose": "forbidden"}}}]}))
' "$acct" "$PREFIX")
	kms put-key-policy --key-id "$id" --policy-name default --policy "$pol"
	got=$(kms get-key-policy --key-id "$id" --policy-name default --query Policy | pyjson d)
	want "policy Id" "$(pyjson "d.get('Id')" <<<"$got")" "$PREFIX"
	want "policy statements" "$(pyjson "[s['Sid'] for s in d['Statement']]" <<<"$got")" '["Root", "NoOtherContext"]'
	want "list-key-policies" "$(kms list-key-policies --key-id "$id" --query PolicyNames | pyjson d)" '["default"]'
	if strict; then
		expect_error AccessDeniedException encrypt --key-id "$id" --plaintext "fileb://$STATE/plain.bin" --encryption-context purpose=forbidden
	fi
	kms encrypt --key-id "$id" --plaintext "fileb://$STATE/plain.bin" --encryption-context purpose=fine >/dev/null
	strict || return 77
}

t_grant() {
	local id acct out gid n
	id=$(load id)
	acct=$(load acct)
	out=$(kms create-grant --key-id "$id" --name "$PREFIX-grant" \
		--grantee-principal "arn:aws:iam::${acct}:root" --retiring-principal "arn:aws:iam::${acct}:root" \
		--operations Encrypt Decrypt GenerateDataKey --constraints "EncryptionContextSubset={run=$PREFIX}")
	gid=$(pyjson "d['GrantId']" <<<"$out")
	want "grant token returned" "$(pyjson "bool(d.get('GrantToken'))" <<<"$out")" true
	out=$(kms list-grants --key-id "$id")
	n=$(pyjson "[g for g in d['Grants'] if g['GrantId'] == '$gid']" <<<"$out")
	want "grant listed" "$(pyjson "len(d)" <<<"$n")" 1
	want "grant operations" "$(pyjson "sorted(d[0]['Operations'])" <<<"$n")" '["Decrypt", "Encrypt", "GenerateDataKey"]'
	want "grant name" "$(pyjson "d[0].get('Name')" <<<"$n")" "$PREFIX-grant"
	kms retire-grant --key-id "$(load arn)" --grant-id "$gid"
	out=$(kms list-grants --key-id "$id")
	want "grant gone after retire" "$(pyjson "sum(1 for g in d['Grants'] if g['GrantId'] == '$gid')" <<<"$out")" 0
}

t_errors() {
	expect_error NotFoundException describe-key --key-id "alias/${PREFIX}-missing"
	expect_error NotFoundException describe-key --key-id 00000000-0000-0000-0000-000000000000
	# moto accepts any window (and schedules the deletion).
	strict || return 77
	expect_error ValidationException schedule-key-deletion --key-id "$(load id)" --pending-window-in-days 3
	expect_error ValidationException schedule-key-deletion --key-id "$(load id)" --pending-window-in-days 31
	want "still Enabled" "$(kms describe-key --key-id "$(load id)" --query KeyMetadata.KeyState | pyjson d)" Enabled
}

check "create-key with description and tags" t_create_key
check "create-alias, describe by alias" t_alias
check "encrypt a file with an encryption context, decrypt without KeyId" t_encrypt_decrypt_file
check "decrypt with a wrong context: InvalidCiphertextException" t_decrypt_wrong_context
check "generate-data-key" t_data_key
check "rotate-key-on-demand, list-key-rotations" t_rotate_on_demand
check "decrypt the ciphertext from before the rotation" t_decrypt_old_after_rotation
check "disable-key: DisabledException; enable-key" t_disable_enable
check "schedule-key-deletion 7 days: PendingDeletion; cancel: Disabled; enable" t_schedule_cancel_deletion
check "get/put-key-policy" t_key_policy
check "create-grant, list-grants, retire-grant" t_grant
check "errors: NotFound, ValidationException" t_errors

summary kms-cli
