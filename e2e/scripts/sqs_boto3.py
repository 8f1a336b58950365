#!/usr/bin/env python3
"""Drive a running SQS endpoint (Sealpost, or moto_server to check the script) with boto3.

Usage: sqs_boto3.py ENDPOINT [CA_FILE]

Environment: TARGET=moto relaxes what moto_server does not implement (the
query-compatible error codes, message move tasks, KMS key checks); each
relaxed check prints "skip". Against Sealpost leave it unset.

Queues carry a per-run prefix, so several runs (HTTP and HTTPS) can share one
server. Every check runs even when an earlier one failed; the script ends with
"sqs-boto3: N passed, M failed" and exits 1 when anything failed. botocore
no longer checks the MD5 digests SQS returns, so the script does (body and
message attributes, AWS's documented algorithm).
"""

import hashlib
import json
import struct
import sys
import threading
import time
import uuid

sys.dont_write_bytecode = True

import boto3  # noqa: E402
import botocore  # noqa: E402
import botocore.exceptions  # noqa: E402

from checks import STRICT, TARGET, check, client, expect_error, relax, summary  # noqa: E402

if len(sys.argv) not in (2, 3):
    print("usage: sqs_boto3.py ENDPOINT [CA_FILE]", file=sys.stderr)
    sys.exit(2)
ENDPOINT = sys.argv[1]
CA_FILE = sys.argv[2] if len(sys.argv) == 3 else None
SCHEME = ENDPOINT.split(":", 1)[0]
PREFIX = "sq3-%s-%s" % (SCHEME, uuid.uuid4().hex[:8])

sqs = client("sqs", ENDPOINT, CA_FILE)
poller = client("sqs", ENDPOINT, CA_FILE)  # a second connection for the long poll
kms = client("kms", ENDPOINT, CA_FILE)
print("boto3 %s / botocore %s against %s (CA %s, target %s), prefix %s" % (
    boto3.__version__, botocore.__version__, ENDPOINT, CA_FILE or "none", TARGET, PREFIX), flush=True)
X = sqs.exceptions
ClientError = botocore.exceptions.ClientError
state = {}

# The wire codes of the query-compatible errors (x-amzn-query-error), which
# botocore puts in Error.Code; the exception class comes from the shape name.
NON_EXISTENT = "AWS.SimpleQueueService.NonExistentQueue"


class _AnyCode(str):
    """A code that equals any code (for errors whose code AWS leaves open)."""

    def __eq__(self, other):
        return True

    __hash__ = str.__hash__


expect_any_code = _AnyCode("any")


class code_ending(str):
    """A code that equals any code ending with the text given."""

    def __eq__(self, other):
        return isinstance(other, str) and other.endswith(str(self))

    __hash__ = str.__hash__


def md5_body(body):
    return hashlib.md5(body.encode()).hexdigest()


def md5_attributes(attrs):
    """MD5OfMessageAttributes as AWS documents it: names sorted; for each the
    length-prefixed name, data type, a transport byte (1 string, 2 binary) and
    the length-prefixed value."""
    h = hashlib.md5()
    for name in sorted(attrs):
        a = attrs[name]
        dt = a["DataType"]
        for part in (name.encode(), dt.encode()):
            h.update(struct.pack(">I", len(part)) + part)
        if dt.startswith("Binary"):
            value, transport = a["BinaryValue"], 2
        else:
            value, transport = a["StringValue"].encode(), 1
        h.update(bytes([transport]) + struct.pack(">I", len(value)) + value)
    return h.hexdigest()


def attrs_of(url, *names):
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(names) or ["All"]).get("Attributes", {})


def receive(url, n=10, wait=0, visibility=None, **kw):
    args = dict(QueueUrl=url, MaxNumberOfMessages=n, WaitTimeSeconds=wait,
                MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"], **kw)
    if visibility is not None:
        args["VisibilityTimeout"] = visibility
    return sqs.receive_message(**args).get("Messages", [])


def receive_until(url, want, timeout=10, **kw):
    """Receive (long polling 1 s) until want messages arrived or timeout."""
    got = []
    deadline = time.time() + timeout
    while len(got) < want and time.time() < deadline:
        got += receive(url, wait=1, **kw)
    return got


def queue(name, **attrs):
    url = sqs.create_queue(QueueName="%s-%s" % (PREFIX, name), Attributes={k: str(v) for k, v in attrs.items()})["QueueUrl"]
    return url, attrs_of(url, "QueueArn")["QueueArn"]


MAIN = PREFIX + "-main"
MAIN_ATTRS = {"VisibilityTimeout": "30", "MessageRetentionPeriod": "3600", "MaximumMessageSize": "2048"}


@check("create_queue with attributes and tags; get_queue_url; idempotent; QueueAlreadyExists")
def _():
    out = sqs.create_queue(QueueName=MAIN, Attributes=MAIN_ATTRS, tags={"team": "core"})
    url = out["QueueUrl"]
    assert url.endswith("/" + MAIN), url
    state["main"] = url
    assert sqs.get_queue_url(QueueName=MAIN)["QueueUrl"] == url
    assert sqs.create_queue(QueueName=MAIN, Attributes=MAIN_ATTRS)["QueueUrl"] == url, "not idempotent"
    assert sqs.create_queue(QueueName=MAIN)["QueueUrl"] == url, "no attributes: not idempotent"
    expect_error(X.QueueNameExists, "QueueAlreadyExists", 400,
                 sqs.create_queue, QueueName=MAIN, Attributes={"VisibilityTimeout": "31"})


@check("get_queue_attributes: defaults, ApproximateNumberOfMessages*, SqsManagedSseEnabled")
def _():
    a = attrs_of(state["main"])
    state["main_arn"] = a["QueueArn"]
    state["account"] = a["QueueArn"].split(":")[4]
    assert a["QueueArn"] == "arn:aws:sqs:us-east-1:%s:%s" % (state["account"], MAIN), a
    assert state["main"].endswith("/%s/%s" % (state["account"], MAIN)), state["main"]
    for k, v in MAIN_ATTRS.items():
        assert a[k] == v, (k, a)
    want = {"DelaySeconds": "0", "ReceiveMessageWaitTimeSeconds": "0", "ApproximateNumberOfMessages": "0",
            "ApproximateNumberOfMessagesNotVisible": "0", "ApproximateNumberOfMessagesDelayed": "0"}
    for k, v in want.items():
        assert a[k] == v, (k, a)
    for k in ("CreatedTimestamp", "LastModifiedTimestamp"):
        assert float(a[k]) > 1.6e9 and (a[k].isdigit() or not STRICT), (k, a)  # AWS: whole seconds
    one = attrs_of(state["main"], "VisibilityTimeout")
    assert one == {"VisibilityTimeout": "30"}, one
    if a.get("SqsManagedSseEnabled") is None:
        relax()
    assert a["SqsManagedSseEnabled"] == "true", a


@check("set_queue_attributes")
def _():
    sqs.set_queue_attributes(QueueUrl=state["main"], Attributes={"VisibilityTimeout": "300", "DelaySeconds": "0"})
    assert attrs_of(state["main"], "VisibilityTimeout")["VisibilityTimeout"] == "300"


@check("list_queues with a prefix, paged")
def _():
    second = sqs.create_queue(QueueName=PREFIX + "-second")["QueueUrl"]
    urls = sqs.list_queues(QueueNamePrefix=PREFIX)["QueueUrls"]
    assert sorted(urls) == sorted([state["main"], second]), urls
    assert sqs.list_queues(QueueNamePrefix=PREFIX + "-nothing").get("QueueUrls", []) == []
    pages = list(sqs.get_paginator("list_queues").paginate(QueueNamePrefix=PREFIX, PaginationConfig={"PageSize": 1}))
    got = [u for p in pages for u in p.get("QueueUrls", [])]
    assert sorted(got) == sorted(urls), (got, pages)
    if len(pages) < 2:
        relax()
    assert len(pages) == 2, pages
    sqs.delete_queue(QueueUrl=second)


ATTRS = {
    "s": {"DataType": "String", "StringValue": "vålue"},
    "n": {"DataType": "Number", "StringValue": "12.5"},
    "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01\x02\xff"},
    "c": {"DataType": "String.custom", "StringValue": "x"},
}


@check("send_message with attributes: MD5s; receive_message: body, attributes, system attributes")
def _():
    body = "hello %s \u00e9\u4e16" % PREFIX
    out = sqs.send_message(QueueUrl=state["main"], MessageBody=body, MessageAttributes=ATTRS)
    assert out["MD5OfMessageBody"] == md5_body(body), out
    assert out["MD5OfMessageAttributes"] == md5_attributes(ATTRS), out
    a = attrs_of(state["main"], "ApproximateNumberOfMessages")
    assert a["ApproximateNumberOfMessages"] == "1", a
    msgs = receive(state["main"])
    assert len(msgs) == 1, msgs
    m = msgs[0]
    assert m["MessageId"] == out["MessageId"] and m["Body"] == body, m
    assert m["MD5OfBody"] == md5_body(body), m
    assert m["MessageAttributes"] == ATTRS, m["MessageAttributes"]
    assert m["MD5OfMessageAttributes"] == md5_attributes(ATTRS), m
    sa = m["Attributes"]
    assert sa["ApproximateReceiveCount"] == "1", sa
    assert abs(int(sa["SentTimestamp"]) / 1000 - time.time()) < 60, sa
    assert int(sa["ApproximateFirstReceiveTimestamp"]) >= int(sa["SentTimestamp"]), sa
    assert sa["SenderId"], sa
    a = attrs_of(state["main"], "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
    assert a == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "1"}, a
    state["handle"] = m["ReceiptHandle"]


@check("visibility: in flight until change_message_visibility 0; then redelivered, receive count 2; delete_message")
def _():
    assert receive(state["main"]) == [], "a message in flight was received"
    sqs.change_message_visibility(QueueUrl=state["main"], ReceiptHandle=state["handle"], VisibilityTimeout=0)
    msgs = receive(state["main"], AttributeNames=["ApproximateReceiveCount"])
    assert len(msgs) == 1 and msgs[0]["Attributes"]["ApproximateReceiveCount"] == "2", msgs
    sqs.delete_message(QueueUrl=state["main"], ReceiptHandle=msgs[0]["ReceiptHandle"])
    assert receive(state["main"]) == []
    a = attrs_of(state["main"], "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
    assert a == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}, a


@check("visibility timeout expiry: a message received with VisibilityTimeout=1 comes back")
def _():
    sqs.send_message(QueueUrl=state["main"], MessageBody="expiry")
    begin = time.time()  # before the receive: the message is invisible for 1 s after it
    first = receive(state["main"], visibility=1)
    assert len(first) == 1, first
    again = receive_until(state["main"], 1, timeout=5)
    took = time.time() - begin
    assert len(again) == 1 and again[0]["Body"] == "expiry", again
    assert again[0]["Attributes"]["ApproximateReceiveCount"] == "2", again
    assert took >= 1, "redelivered %.2fs after the receive with VisibilityTimeout=1" % took
    sqs.delete_message(QueueUrl=state["main"], ReceiptHandle=again[0]["ReceiptHandle"])


@check("send_message_batch; change_message_visibility_batch; delete_message_batch with an invalid handle entry")
def _():
    entries = [{"Id": "e%d" % i, "MessageBody": "batch-%d" % i} for i in range(3)]
    entries[1]["MessageAttributes"] = {"k": {"DataType": "String", "StringValue": "v"}}
    out = sqs.send_message_batch(QueueUrl=state["main"], Entries=entries)
    assert not out.get("Failed"), out
    ok = {e["Id"]: e for e in out["Successful"]}
    assert sorted(ok) == ["e0", "e1", "e2"], out
    for e in entries:
        assert ok[e["Id"]]["MD5OfMessageBody"] == md5_body(e["MessageBody"]), ok[e["Id"]]
    assert ok["e1"]["MD5OfMessageAttributes"] == md5_attributes(entries[1]["MessageAttributes"]), ok["e1"]
    msgs = receive_until(state["main"], 3)
    assert sorted(m["Body"] for m in msgs) == ["batch-0", "batch-1", "batch-2"], msgs
    out = sqs.change_message_visibility_batch(QueueUrl=state["main"], Entries=[
        {"Id": "v%d" % i, "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0} for i, m in enumerate(msgs)])
    assert sorted(e["Id"] for e in out["Successful"]) == ["v0", "v1", "v2"] and not out.get("Failed"), out
    msgs = receive_until(state["main"], 3)
    assert sorted((m["Body"], m["Attributes"]["ApproximateReceiveCount"]) for m in msgs) == [
        ("batch-0", "2"), ("batch-1", "2"), ("batch-2", "2")], msgs
    dels = [{"Id": "d%d" % i, "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)]
    dels.append({"Id": "bad", "ReceiptHandle": "not-a-receipt-handle"})
    out = sqs.delete_message_batch(QueueUrl=state["main"], Entries=dels)
    assert sorted(e["Id"] for e in out["Successful"]) == ["d0", "d1", "d2"], out
    if not out.get("Failed"):
        relax()
    assert [(f["Id"], f["Code"], f["SenderFault"]) for f in out["Failed"]] == [("bad", "ReceiptHandleIsInvalid", True)], out
    expect_error(X.BatchEntryIdsNotDistinct, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400, sqs.send_message_batch, QueueUrl=state["main"],
                 Entries=[{"Id": "x", "MessageBody": "1"}, {"Id": "x", "MessageBody": "2"}])


@check("receive_message long polling: an empty poll waits; a send wakes a waiting poll")
def _():
    begin = time.time()
    assert receive(state["main"], wait=1) == []
    took = time.time() - begin
    assert 0.9 <= took < 5, "an empty 1 s long poll took %.2fs" % took
    got = {}

    def poll():
        t0 = time.time()
        got["msgs"] = poller.receive_message(QueueUrl=state["main"], WaitTimeSeconds=10).get("Messages", [])
        got["took"] = time.time() - t0

    th = threading.Thread(target=poll)
    th.start()
    time.sleep(0.3)
    sqs.send_message(QueueUrl=state["main"], MessageBody="wake")
    th.join(15)
    assert [m["Body"] for m in got["msgs"]] == ["wake"], got
    assert got["took"] < 5, "the poll woke after %.2fs" % got["took"]
    sqs.delete_message(QueueUrl=state["main"], ReceiptHandle=got["msgs"][0]["ReceiptHandle"])


@check("delay: a per-message DelaySeconds and a queue's DelaySeconds hold messages back")
def _():
    # What is checked before the delay ends only counts when the answers
    # came within 1.5 s of the sends (a loaded machine can be slower).
    url, _ = queue("delay", DelaySeconds=2)
    t0 = time.time()
    sqs.send_message(QueueUrl=url, MessageBody="queue-delay")
    sqs.send_message(QueueUrl=state["main"], MessageBody="msg-delay", DelaySeconds=2)
    a = attrs_of(state["main"], "ApproximateNumberOfMessagesDelayed")
    early = [receive(state["main"]), receive(url)]
    if time.time() - t0 < 1.5:
        assert a["ApproximateNumberOfMessagesDelayed"] == "1", a
        assert early == [[], []], "a delayed message was received at once: %s" % early
    for u, body, got in ((state["main"], "msg-delay", early[0]), (url, "queue-delay", early[1])):
        msgs = got or receive_until(u, 1, timeout=6)
        assert time.time() - t0 >= 1.9, "received %.2fs after a 2 s delay" % (time.time() - t0)
        assert [m["Body"] for m in msgs] == [body], msgs
        sqs.delete_message(QueueUrl=u, ReceiptHandle=msgs[0]["ReceiptHandle"])
    sqs.delete_queue(QueueUrl=url)


@check("purge_queue")
def _():
    url, _ = queue("purge")
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(3)])
    assert attrs_of(url, "ApproximateNumberOfMessages")["ApproximateNumberOfMessages"] == "3"
    sqs.purge_queue(QueueUrl=url)
    assert attrs_of(url, "ApproximateNumberOfMessages")["ApproximateNumberOfMessages"] == "0"
    assert receive(url) == []
    sqs.delete_queue(QueueUrl=url)


@check("tag_queue, list_queue_tags, untag_queue")
def _():
    url = state["main"]
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "core"}
    sqs.tag_queue(QueueUrl=url, Tags={"env": "test", "team": "edge"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "test", "team": "edge"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["team"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "test"}


@check("add_permission, remove_permission: the queue policy")
def _():
    url = state["main"]
    sqs.add_permission(QueueUrl=url, Label="peer", AWSAccountIds=[state["account"]], Actions=["SendMessage", "ReceiveMessage"])
    pol = json.loads(attrs_of(url, "Policy")["Policy"])
    st = [s for s in pol["Statement"] if s["Sid"] == "peer"]
    assert len(st) == 1 and st[0]["Effect"] == "Allow" and st[0]["Resource"] == state["main_arn"], pol
    assert sorted(st[0]["Action"]) == ["SQS:ReceiveMessage", "SQS:SendMessage"], st
    sqs.remove_permission(QueueUrl=url, Label="peer")
    pol = attrs_of(url, "Policy").get("Policy")
    assert not pol or not [s for s in json.loads(pol)["Statement"] if s["Sid"] == "peer"], pol


@check("RedrivePolicy: a message received maxReceiveCount times lands in the DLQ; list_dead_letter_source_queues")
def _():
    dlq, dlq_arn = queue("dlq")
    src, src_arn = queue("src", RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}))
    state.update(dlq=dlq, dlq_arn=dlq_arn, src=src, src_arn=src_arn)
    got = json.loads(attrs_of(src, "RedrivePolicy")["RedrivePolicy"])
    assert got["deadLetterTargetArn"] == dlq_arn and int(got["maxReceiveCount"]) == 2, got
    sqs.send_message(QueueUrl=src, MessageBody="poison")
    for i in range(2):
        msgs = receive(src, visibility=0)
        assert [m["Body"] for m in msgs] == ["poison"], (i, msgs)
    assert receive(src) == [], "received a third time"
    msgs = receive_until(dlq, 1, timeout=5)
    assert [m["Body"] for m in msgs] == ["poison"], msgs
    sqs.change_message_visibility(QueueUrl=dlq, ReceiptHandle=msgs[0]["ReceiptHandle"], VisibilityTimeout=0)
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [src]


@check("start_message_move_task back to the source; list_message_move_tasks")
def _():
    relax()
    task = sqs.start_message_move_task(SourceArn=state["dlq_arn"])["TaskHandle"]
    assert task
    deadline = time.time() + 15
    while True:
        results = sqs.list_message_move_tasks(SourceArn=state["dlq_arn"])["Results"]
        assert results and results[0]["SourceArn"] == state["dlq_arn"], results
        if results[0]["Status"] == "COMPLETED":
            break
        assert time.time() < deadline, results
        time.sleep(0.1)
    assert results[0]["ApproximateNumberOfMessagesMoved"] == 1, results
    msgs = receive_until(state["src"], 1)
    assert [m["Body"] for m in msgs] == ["poison"], msgs
    assert receive(state["dlq"]) == []


@check("SSE-KMS queue with a customer key: attributes, send and receive (HTTPS) or InvalidSecurity (HTTP)")
def _():
    key = kms.create_key(Description="queue key " + PREFIX)["KeyMetadata"]["Arn"]
    url = sqs.create_queue(QueueName=PREFIX + "-kms", Attributes={
        "KmsMasterKeyId": key, "KmsDataKeyReusePeriodSeconds": "120"})["QueueUrl"]
    if SCHEME == "http" and STRICT:
        # AWS: all requests to queues with SSE-KMS must use HTTPS.
        expect_error(ClientError, code_ending("InvalidSecurity"), 403, sqs.send_message, QueueUrl=url, MessageBody="x")
        expect_error(ClientError, code_ending("InvalidSecurity"), 403, sqs.get_queue_attributes,
                     QueueUrl=url, AttributeNames=["All"])
        return
    a = attrs_of(url)
    assert a["KmsMasterKeyId"] == key and a["KmsDataKeyReusePeriodSeconds"] == "120", a
    out = sqs.send_message(QueueUrl=url, MessageBody="secret " + PREFIX, MessageAttributes=ATTRS)
    assert out["MD5OfMessageBody"] == md5_body("secret " + PREFIX), out
    msgs = receive(url)
    assert [m["Body"] for m in msgs] == ["secret " + PREFIX] and msgs[0]["MessageAttributes"] == ATTRS, msgs
    relax()
    assert a.get("SqsManagedSseEnabled", "false") == "false", a
    for bad in ("59", "86401", "x"):
        expect_error(X.InvalidAttributeValue, "InvalidAttributeValue", 400, sqs.set_queue_attributes,
                     QueueUrl=url, Attributes={"KmsDataKeyReusePeriodSeconds": bad})


@check("SqsManagedSseEnabled=false: a queue without encryption")
def _():
    url, _ = queue("plain", SqsManagedSseEnabled="false")
    assert attrs_of(url, "SqsManagedSseEnabled")["SqsManagedSseEnabled"] == "false"
    sqs.delete_queue(QueueUrl=url)


@check("errors: nonexistent queue, bad attributes, invalid receipt handle, too long, FIFO")
def _():
    missing = state["main"].rsplit("/", 1)[0] + "/" + PREFIX + "-missing"
    expect_error(X.QueueDoesNotExist, NON_EXISTENT, 400, sqs.get_queue_url, QueueName=PREFIX + "-missing")
    expect_error(X.QueueDoesNotExist, NON_EXISTENT, 400, sqs.send_message, QueueUrl=missing, MessageBody="x")
    expect_error(X.QueueDoesNotExist, NON_EXISTENT, 400, sqs.receive_message, QueueUrl=missing)
    relax()
    expect_error(X.InvalidAttributeName, "InvalidAttributeName", 400, sqs.get_queue_attributes,
                 QueueUrl=state["main"], AttributeNames=["Bogus"])
    expect_error(X.InvalidAttributeName, "InvalidAttributeName", 400, sqs.set_queue_attributes,
                 QueueUrl=state["main"], Attributes={"Bogus": "1"})
    expect_error(X.InvalidAttributeValue, "InvalidAttributeValue", 400, sqs.set_queue_attributes,
                 QueueUrl=state["main"], Attributes={"VisibilityTimeout": "43201"})
    expect_error(X.ReceiptHandleIsInvalid, "ReceiptHandleIsInvalid", 404, sqs.delete_message,
                 QueueUrl=state["main"], ReceiptHandle="not-a-receipt-handle")
    expect_error(X.ReceiptHandleIsInvalid, "ReceiptHandleIsInvalid", 404, sqs.change_message_visibility,
                 QueueUrl=state["main"], ReceiptHandle="not-a-receipt-handle", VisibilityTimeout=0)
    expect_error(ClientError, "InvalidParameterValue", 400, sqs.send_message,
                 QueueUrl=state["main"], MessageBody="x" * 2049)
    e = expect_error(ClientError, expect_any_code, None, sqs.create_queue, QueueName=PREFIX + "-q.fifo",
                     Attributes={"FifoQueue": "true"})
    assert "FIFO" in e.response["Error"]["Message"].upper(), e.response


@check("delete_queue: gone from get_queue_url and list_queues")
def _():
    for url in (state["main"], state.get("dlq"), state.get("src")):
        if url:
            sqs.delete_queue(QueueUrl=url)
    expect_error(X.QueueDoesNotExist, NON_EXISTENT, 400, sqs.get_queue_url, QueueName=MAIN)
    left = [u for u in sqs.list_queues(QueueNamePrefix=PREFIX).get("QueueUrls", [])
            if u.rsplit("/", 1)[1] in (MAIN, PREFIX + "-dlq", PREFIX + "-src")]
    assert left == [], left


summary("sqs-boto3")
