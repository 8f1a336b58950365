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
import uuid

sys.dont_write_bytecode = True

import boto3  # noqa: E402
import botocore.exceptions  # noqa: E402

from checks import check, client, expect_error, summary  # noqa: E402

if len(sys.argv) != 6:
    print("usage: sse_boto3.py HTTPS_ENDPOINT CA_FILE HTTP_ENDPOINT SUBSCRIBER_URL MARKER", file=sys.stderr)
    sys.exit(2)
HTTPS, CA_FILE, HTTP, SUBSCRIBER, MARKER = sys.argv[1:]
PREFIX = "sb3-%s" % uuid.uuid4().hex[:8]


sns = client("sns", HTTPS, CA_FILE)
kms = client("kms", HTTPS, CA_FILE)
plain_sns = client("sns", HTTP)
print("boto3 %s / botocore %s against %s (CA %s) and %s, prefix %s" % (
    boto3.__version__, botocore.__version__, HTTPS, CA_FILE, HTTP, PREFIX), flush=True)

state = {}


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
    expect_error(botocore.exceptions.ClientError, "InvalidSecurity", 403, plain_sns.publish, TopicArn=state["topic"], Message=MARKER + "-http")
    expect_error(botocore.exceptions.ClientError, "InvalidSecurity", 403, plain_sns.get_topic_attributes, TopicArn=state["topic"])


@check("switch the topic to the key ARN and publish")
def _():
    sns.set_topic_attributes(TopicArn=state["topic"], AttributeName="KmsMasterKeyId", AttributeValue=state["key_arn"])
    got = sns.get_topic_attributes(TopicArn=state["topic"])["Attributes"].get("KmsMasterKeyId")
    assert got == state["key_arn"], got
    sns.publish(TopicArn=state["topic"], Message=MARKER + "-arn")


summary("sse-boto3")
