#!/usr/bin/env python3
"""Drive a running KMS endpoint (Sealpost, or moto_server to check the script) with boto3.

Usage: kms_boto3.py ENDPOINT [CA_FILE]

Environment: TARGET=moto (or KMS_TARGET=moto) relaxes the checks moto_server does not implement
(key states on Encrypt/Decrypt, policy conditions, window validation); each
relaxed check prints "skip". Against Sealpost leave it unset.

Every check runs even when an earlier one failed (later checks may then fail
too); the script prints one line per check (with the traceback of a failure),
a closing summary line "kms-boto3: N passed, M failed" and exits 1 when
anything failed. Alias names carry a per-run prefix so that several runs
(HTTP and HTTPS) can share one server.
"""

import base64
import json
import os
import sys
import time
import uuid

sys.dont_write_bytecode = True

import boto3  # noqa: E402
import botocore.exceptions  # noqa: E402

from checks import REGION, STRICT, TARGET, check, client, expect_error, relax, summary  # noqa: E402

if len(sys.argv) not in (2, 3):
    print("usage: kms_boto3.py ENDPOINT [CA_FILE]", file=sys.stderr)
    sys.exit(2)
ENDPOINT = sys.argv[1]
CA_FILE = sys.argv[2] if len(sys.argv) == 3 else None
SCHEME = ENDPOINT.split(":", 1)[0]
PREFIX = "kb3-%s-%s" % (SCHEME, uuid.uuid4().hex[:8])
ALIAS = "alias/%s-orders" % PREFIX
CONTEXT = {"purpose": "e2e", "run": PREFIX}

kms = client("kms", ENDPOINT, CA_FILE)
print("boto3 %s / botocore %s against %s (CA %s, target %s), prefix %s" % (
    boto3.__version__, botocore.__version__, ENDPOINT, CA_FILE or "none", TARGET, PREFIX), flush=True)
X = kms.exceptions

state = {}


def state_of(key):
    return kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"]


PLAIN = os.urandom(3000) + ("readable tail %s\n" % PREFIX).encode()


@check("create_key with description and tags; list_keys; list_resource_tags")
def _():
    md = kms.create_key(Description="e2e key " + PREFIX,
                        Tags=[{"TagKey": "team", "TagValue": "core"}, {"TagKey": "run", "TagValue": PREFIX}])["KeyMetadata"]
    assert md["KeyState"] == "Enabled" and md["Enabled"] is True, md
    assert md["KeySpec"] == "SYMMETRIC_DEFAULT", md
    assert md["Description"] == "e2e key " + PREFIX, md
    assert md["Arn"] == "arn:aws:kms:%s:%s:key/%s" % (REGION, md["AWSAccountId"], md["KeyId"]), md
    if STRICT:
        assert md["KeyUsage"] == "ENCRYPT_DECRYPT" and md["KeyManager"] == "CUSTOMER", md
    state.update(id=md["KeyId"], arn=md["Arn"], acct=md["AWSAccountId"])
    tags = sorted((t["TagKey"], t["TagValue"]) for t in kms.list_resource_tags(KeyId=state["id"])["Tags"])
    assert tags == [("run", PREFIX), ("team", "core")], tags
    ids = []
    for page in kms.get_paginator("list_keys").paginate():
        ids.extend(k["KeyId"] for k in page["Keys"])
    assert state["id"] in ids, ids


@check("create_alias; describe_key by alias and alias ARN")
def _():
    kms.create_alias(AliasName=ALIAS, TargetKeyId=state["id"])
    assert kms.describe_key(KeyId=ALIAS)["KeyMetadata"]["KeyId"] == state["id"]
    alias_arn = "arn:aws:kms:%s:%s:%s" % (REGION, state["acct"], ALIAS)
    assert kms.describe_key(KeyId=alias_arn)["KeyMetadata"]["KeyId"] == state["id"]
    names = [a["AliasName"] for a in kms.list_aliases(KeyId=state["id"])["Aliases"]]
    assert names == [ALIAS], names
    expect_error(X.AlreadyExistsException, "AlreadyExistsException", 400, kms.create_alias, AliasName=ALIAS, TargetKeyId=state["id"])


@check("encrypt with an encryption context; decrypt without KeyId")
def _():
    out = kms.encrypt(KeyId=ALIAS, Plaintext=PLAIN, EncryptionContext=CONTEXT)
    assert out["KeyId"] == state["arn"], out
    blob = out["CiphertextBlob"]
    assert PLAIN not in blob, "plaintext inside the blob"
    state["old"] = blob
    dec = kms.decrypt(CiphertextBlob=blob, EncryptionContext=CONTEXT)
    assert dec["Plaintext"] == PLAIN and dec["KeyId"] == state["arn"], dec["KeyId"]
    dec = kms.decrypt(CiphertextBlob=blob, EncryptionContext=CONTEXT, KeyId=state["arn"])
    assert dec["Plaintext"] == PLAIN


@check("decrypt with a wrong or missing context: InvalidCiphertextException")
def _():
    for ctx in ({"purpose": "e2e", "run": PREFIX + "-other"}, {"purpose": "e2e"}, {}):
        expect_error(X.InvalidCiphertextException, "InvalidCiphertextException", 400, kms.decrypt,
                     CiphertextBlob=state["old"], EncryptionContext=ctx)
    bad = bytearray(state["old"])
    bad[-1] ^= 1
    expect_error(X.InvalidCiphertextException, "InvalidCiphertextException", 400, kms.decrypt,
                 CiphertextBlob=bytes(bad), EncryptionContext=CONTEXT)


@check("generate_data_key (AES_256) and without plaintext")
def _():
    out = kms.generate_data_key(KeyId=state["id"], KeySpec="AES_256", EncryptionContext=CONTEXT)
    assert len(out["Plaintext"]) == 32 and out["KeyId"] == state["arn"], out["KeyId"]
    back = kms.decrypt(CiphertextBlob=out["CiphertextBlob"], EncryptionContext=CONTEXT)["Plaintext"]
    assert back == out["Plaintext"]
    out = kms.generate_data_key_without_plaintext(KeyId=ALIAS, NumberOfBytes=64, EncryptionContext=CONTEXT)
    assert "Plaintext" not in out, out
    assert len(kms.decrypt(CiphertextBlob=out["CiphertextBlob"], EncryptionContext=CONTEXT)["Plaintext"]) == 64


@check("rotate_key_on_demand; list_key_rotations shows it")
def _():
    assert kms.rotate_key_on_demand(KeyId=state["id"])["KeyId"].split("/")[-1] == state["id"]
    rot = []
    for _ in range(20):  # AWS rotates asynchronously: wait up to 10 s
        rot = [r for r in kms.list_key_rotations(KeyId=state["id"]).get("Rotations", []) if r["RotationType"] == "ON_DEMAND"]
        if rot:
            break
        time.sleep(0.5)
    assert len(rot) == 1, rot
    assert rot[0]["KeyId"].split("/")[-1] == state["id"], rot


@check("decrypt the ciphertext from before the rotation; new ciphertext decrypts")
def _():
    assert kms.decrypt(CiphertextBlob=state["old"], EncryptionContext=CONTEXT)["Plaintext"] == PLAIN
    blob = kms.encrypt(KeyId=ALIAS, Plaintext=PLAIN, EncryptionContext=CONTEXT)["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext=CONTEXT)["Plaintext"] == PLAIN


@check("disable_key: DisabledException; enable_key")
def _():
    kms.disable_key(KeyId=state["id"])
    assert state_of(state["id"]) == "Disabled"
    if STRICT:
        expect_error(X.DisabledException, "DisabledException", 400, kms.encrypt, KeyId=state["id"], Plaintext=b"x")
        expect_error(X.DisabledException, "DisabledException", 400, kms.decrypt, CiphertextBlob=state["old"], EncryptionContext=CONTEXT)
        expect_error(X.DisabledException, "DisabledException", 400, kms.generate_data_key, KeyId=ALIAS, KeySpec="AES_256")
    kms.enable_key(KeyId=state["id"])
    assert state_of(state["id"]) == "Enabled"
    assert kms.decrypt(CiphertextBlob=state["old"], EncryptionContext=CONTEXT)["Plaintext"] == PLAIN
    relax()


@check("schedule_key_deletion (7 days): PendingDeletion, KMSInvalidStateException; cancel: Disabled; enable")
def _():
    out = kms.schedule_key_deletion(KeyId=state["id"], PendingWindowInDays=7)
    assert out["KeyId"].split("/")[-1] == state["id"], out
    md = kms.describe_key(KeyId=state["id"])["KeyMetadata"]
    assert md["KeyState"] == "PendingDeletion" and md.get("DeletionDate"), md
    days = (md["DeletionDate"] - md["CreationDate"]).total_seconds() / 86400
    assert 6.9 < days < 7.1, days
    if STRICT:
        assert out["KeyState"] == "PendingDeletion" and out["PendingWindowInDays"] == 7, out
        assert md["PendingDeletionWindowInDays"] == 7, md
        expect_error(X.KMSInvalidStateException, "KMSInvalidStateException", 400, kms.encrypt, KeyId=state["id"], Plaintext=b"x")
        expect_error(X.KMSInvalidStateException, "KMSInvalidStateException", 400, kms.decrypt,
                     CiphertextBlob=state["old"], EncryptionContext=CONTEXT)
        expect_error(X.KMSInvalidStateException, "KMSInvalidStateException", 400, kms.enable_key, KeyId=state["id"])
    kms.cancel_key_deletion(KeyId=state["id"])
    md = kms.describe_key(KeyId=state["id"])["KeyMetadata"]
    assert md["KeyState"] == "Disabled" and not md.get("DeletionDate"), md
    kms.enable_key(KeyId=state["id"])
    assert kms.decrypt(CiphertextBlob=state["old"], EncryptionContext=CONTEXT)["Plaintext"] == PLAIN
    relax()


@check("get_key_policy / put_key_policy; a Deny on an encryption context is enforced")
def _():
    acct = state["acct"]
    root = "arn:aws:iam::%s:root" % acct
    pol = json.loads(kms.get_key_policy(KeyId=state["id"], PolicyName="default")["Policy"])
    assert any(root in json.dumps(s.get("Principal")) and s.get("Action") in ("kms:*", ["kms:*"]) for s in pol["Statement"]), pol
    new = {"Version": "2012-10-17", "Id": PREFIX, "Statement": [
        {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "NoForbidden", "Effect": "Deny", "Principal": {"AWS": root}, "Action": "kms:Encrypt", "Resource": "*",
         "Condition": {"StringEquals": {"kms:EncryptionContext:purpose": "forbidden"}}}]}
    kms.put_key_policy(KeyId=state["id"], PolicyName="default", Policy=json.dumps(new))
    got = json.loads(kms.get_key_policy(KeyId=state["id"], PolicyName="default")["Policy"])
    assert got.get("Id") == PREFIX and [s["Sid"] for s in got["Statement"]] == ["Root", "NoForbidden"], got
    assert kms.list_key_policies(KeyId=state["id"])["PolicyNames"] == ["default"]
    kms.encrypt(KeyId=state["id"], Plaintext=b"x", EncryptionContext={"purpose": "fine"})
    if STRICT:
        # AccessDeniedException and ValidationException are not modeled
        # for KMS: botocore raises a plain ClientError.
        expect_error(botocore.exceptions.ClientError, "AccessDeniedException", 400, kms.encrypt, KeyId=state["id"], Plaintext=b"x",
                     EncryptionContext={"purpose": "forbidden"})
        # A policy that locks the caller out is refused without the bypass flag.
        lockout = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:Encrypt", "Resource": "*"}]}
        expect_error(X.MalformedPolicyDocumentException, "MalformedPolicyDocumentException", 400, kms.put_key_policy,
                     KeyId=state["id"], PolicyName="default", Policy=json.dumps(lockout))
    relax()


@check("create_grant, list_grants, encrypt with the grant token, retire_grant")
def _():
    root = "arn:aws:iam::%s:root" % state["acct"]
    out = kms.create_grant(KeyId=state["id"], Name=PREFIX + "-grant", GranteePrincipal=root, RetiringPrincipal=root,
                           Operations=["Encrypt", "Decrypt", "GenerateDataKey"],
                           Constraints={"EncryptionContextSubset": {"run": PREFIX}})
    gid, token = out["GrantId"], out["GrantToken"]
    assert gid and token, out
    grants = [g for g in kms.list_grants(KeyId=state["id"])["Grants"] if g["GrantId"] == gid]
    assert len(grants) == 1, grants
    g = grants[0]
    assert sorted(g["Operations"]) == ["Decrypt", "Encrypt", "GenerateDataKey"], g
    assert g.get("Name") == PREFIX + "-grant" and g["GranteePrincipal"] == root, g
    if STRICT:
        assert g["Constraints"] == {"EncryptionContextSubset": {"run": PREFIX}}, g
    kms.encrypt(KeyId=state["id"], Plaintext=b"x", EncryptionContext=CONTEXT, GrantTokens=[token])
    kms.retire_grant(KeyId=state["arn"], GrantId=gid)
    left = [g for g in kms.list_grants(KeyId=state["id"])["Grants"] if g["GrantId"] == gid]
    assert not left, left


@check("errors: NotFoundException, ValidationException")
def _():
    expect_error(X.NotFoundException, "NotFoundException", 400, kms.describe_key, KeyId="alias/%s-missing" % PREFIX)
    expect_error(X.NotFoundException, "NotFoundException", 400, kms.describe_key, KeyId=str(uuid.uuid4()))
    relax()  # moto accepts any window (and would schedule the deletion)
    for days in (3, 31):
        expect_error(botocore.exceptions.ClientError, "ValidationException", 400, kms.schedule_key_deletion,
                     KeyId=state["id"], PendingWindowInDays=days)
    assert state_of(state["id"]) == "Enabled"


@check("generate_random")
def _():
    r = kms.generate_random(NumberOfBytes=48)["Plaintext"]
    assert len(r) == 48 and r != bytes(48), r
    assert base64.b64encode(r)


summary("kms-boto3")
