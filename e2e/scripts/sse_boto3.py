#!/usr/bin/env python3
"""Turn on server-side encryption of a topic with boto3, as a user would.

Usage: sse_boto3.py HTTPS_ENDPOINT CA_FILE HTTP_ENDPOINT SUBSCRIBER_URL MARKER

Creates a KMS key and an alias, an SSE topic (KmsMasterKeyId = the alias
name), subscribes SUBSCRIBER_URL over HTTP (the Go test behind it confirms the
subscription and collects what arrives), publishes MARKER, MARKER-batch-1 and
MARKER-batch-2 (PublishBatch), switches the topic to the key ARN and
publishes MARKER-arn; the same Publish and GetTopicAttributes over plain HTTP
(HTTP_ENDPOINT) must fail with InvalidSecurity 403 (MARKER-http must never
arrive). The Go test checks that the messages arrived in plaintext with
signatures that verify.

Every check runs even when an earlier one failed; the script prints one line
per check and ends with "sse-boto3: N passed, M failed", exiting 1 on any
failure.
"""

import sys
import time
import traceback
import uuid

import boto3
import botocore
import botocore.exceptions
from botocore.config import Config

REGION = "us-east-1"

if len(sys.argv) != 6:
    print("usage: sse_boto3.py HTTPS_ENDPOINT CA_FILE HTTP_ENDPOINT SUBSCRIBER_URL MARKER", file=sys.stderr)
    sys.exit(2)
HTTPS, CA_FILE, HTTP, SUBSCRIBER, MARKER = sys.argv[1:]
PREFIX = "sb3-%s" % uuid.uuid4().hex[:8]


def clients(endpoint, verify):
    kw = dict(
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=10, read_timeout=30),
    )
    if verify:
        kw["verify"] = verify
    return boto3.client("sns", **kw), boto3.client("kms", **kw)


sns, kms = clients(HTTPS, CA_FILE)
plain_sns, _ = clients(HTTP, None)
print("boto3 %s / botocore %s against %s (CA %s) and %s, prefix %s" % (
    boto3.__version__, botocore.__version__, HTTPS, CA_FILE, HTTP, PREFIX), flush=True)

passed = 0
failed = 0
state = {}


def check(name):
    """Decorator: run the function now as one named check."""

    def run(fn):
        global passed, failed
        try:
            fn()
        except Exception:  # noqa: BLE001 - every failure is reported, not raised
            failed += 1
            print("FAIL %s:\n%s" % (name, traceback.format_exc()), flush=True)
        else:
            passed += 1
            print("ok   %s" % name, flush=True)
        return fn

    return run


def expect_error(code, status, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except botocore.exceptions.ClientError as e:
        got = e.response["Error"]["Code"]
        got_status = e.response["ResponseMetadata"]["HTTPStatusCode"]
        assert (got, got_status) == (code, status), "want %s %d, got %s %d: %s" % (code, status, got, got_status, e)
        return
    raise AssertionError("want %s %d, the call succeeded" % (code, status))


@check("create a key and an alias")
def _():
    md = kms.create_key(Description="SSE for %s" % PREFIX)["KeyMetadata"]
    state["key_arn"] = md["Arn"]
    state["alias"] = "alias/%s-orders" % PREFIX
    kms.create_alias(AliasName=state["alias"], TargetKeyId=md["KeyId"])


@check("create an SSE topic with KmsMasterKeyId = alias name")
def _():
    arn = sns.create_topic(Name="%s-orders" % PREFIX, Attributes={"KmsMasterKeyId": state["alias"]})["TopicArn"]
    state["topic"] = arn
    got = sns.get_topic_attributes(TopicArn=arn)["Attributes"].get("KmsMasterKeyId")
    assert got == state["alias"], "KmsMasterKeyId %r, want %r" % (got, state["alias"])


@check("subscribe the HTTP endpoint; it confirms")
def _():
    sub = sns.subscribe(TopicArn=state["topic"], Protocol="http", Endpoint=SUBSCRIBER, ReturnSubscriptionArn=True)["SubscriptionArn"]
    deadline = time.time() + 20
    while True:
        attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
        if attrs["PendingConfirmation"] == "false":
            return
        assert time.time() < deadline, "not confirmed within 20 s: %r" % attrs
        time.sleep(0.05)


@check("publish and publish_batch over HTTPS")
def _():
    out = sns.publish(TopicArn=state["topic"], Message=MARKER, Subject="sse boto3")
    assert out["MessageId"]
    out = sns.publish_batch(TopicArn=state["topic"], PublishBatchRequestEntries=[
        {"Id": "1", "Message": MARKER + "-batch-1"}, {"Id": "2", "Message": MARKER + "-batch-2"}])
    assert len(out["Successful"]) == 2 and not out.get("Failed"), out


@check("over plain HTTP: InvalidSecurity 403")
def _():
    expect_error("InvalidSecurity", 403, plain_sns.publish, TopicArn=state["topic"], Message=MARKER + "-http")
    expect_error("InvalidSecurity", 403, plain_sns.get_topic_attributes, TopicArn=state["topic"])


@check("switch the topic to the key ARN and publish")
def _():
    sns.set_topic_attributes(TopicArn=state["topic"], AttributeName="KmsMasterKeyId", AttributeValue=state["key_arn"])
    got = sns.get_topic_attributes(TopicArn=state["topic"])["Attributes"].get("KmsMasterKeyId")
    assert got == state["key_arn"], got
    sns.publish(TopicArn=state["topic"], Message=MARKER + "-arn")


print("sse-boto3: %d passed, %d failed" % (passed, failed), flush=True)
sys.exit(1 if failed else 0)
