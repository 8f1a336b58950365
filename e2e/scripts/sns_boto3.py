#!/usr/bin/env python3
"""Drive a running Sealpost server with boto3, the way an application would.

Usage: sns_boto3.py ENDPOINT [CA_FILE]

Every check runs even when an earlier one failed (later checks may then fail
too); the script prints one line per check (with the traceback of a failure),
a closing summary line "boto3: N passed, M failed" and exits 1 when anything
failed.
Topic names carry a per-run prefix so that several runs (HTTP and HTTPS)
can share one server.
"""

import json
import sys
import uuid

sys.dont_write_bytecode = True

import boto3  # noqa: E402
import botocore.exceptions  # noqa: E402

from checks import ACCOUNT, REGION, check, client, expect_error, summary  # noqa: E402

if len(sys.argv) not in (2, 3):
    print("usage: sns_boto3.py ENDPOINT [CA_FILE]", file=sys.stderr)
    sys.exit(2)
ENDPOINT = sys.argv[1]
CA_FILE = sys.argv[2] if len(sys.argv) == 3 else None
SCHEME = ENDPOINT.split(":", 1)[0]
PREFIX = "b3-%s-%s" % (SCHEME, uuid.uuid4().hex[:8])

sns = client("sns", ENDPOINT, CA_FILE)
print("boto3 %s / botocore %s against %s (CA %s), prefix %s" % (
    boto3.__version__, botocore.__version__, ENDPOINT, CA_FILE or "none", PREFIX), flush=True)
X = sns.exceptions


def topic_arn(name):
    return "arn:aws:sns:%s:%s:%s" % (REGION, ACCOUNT, name)


def queue_arn(name):
    return "arn:aws:sqs:%s:%s:%s" % (REGION, ACCOUNT, name)


state = {}
MAIN = PREFIX + "-main"
MISSING = topic_arn(PREFIX + "-missing")


@check("create_topic with attributes and tags")
def _():
    out = sns.create_topic(
        Name=MAIN,
        Attributes={"DisplayName": "Main topic"},
        Tags=[{"Key": "team", "Value": "core"}],
    )
    assert out["TopicArn"] == topic_arn(MAIN), out
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200, out
    assert out["ResponseMetadata"]["RequestId"], out
    state["arn"] = out["TopicArn"]


@check("create_topic is idempotent; other attributes are InvalidParameter")
def _():
    again = sns.create_topic(Name=MAIN, Attributes={"DisplayName": "Main topic"})
    assert again["TopicArn"] == state["arn"], again
    expect_error(X.InvalidParameterException, "InvalidParameter", 400,
                 sns.create_topic, Name=MAIN, Attributes={"DisplayName": "Other"})
    expect_error(X.InvalidParameterException, "InvalidParameter", 400,
                 sns.create_topic, Name=PREFIX + "-bad.name")


@check("get_topic_attributes")
def _():
    a = sns.get_topic_attributes(TopicArn=state["arn"])["Attributes"]
    assert a["TopicArn"] == state["arn"], a
    assert a["Owner"] == ACCOUNT, a
    assert a["DisplayName"] == "Main topic", a
    for k in ("SubscriptionsConfirmed", "SubscriptionsPending", "SubscriptionsDeleted"):
        assert a[k] == "0", (k, a)
    assert json.loads(a["Policy"])["Id"] == "__default_policy_ID", a["Policy"]
    assert "http" in json.loads(a["EffectiveDeliveryPolicy"]), a["EffectiveDeliveryPolicy"]


@check("set_topic_attributes")
def _():
    sns.set_topic_attributes(TopicArn=state["arn"], AttributeName="DisplayName", AttributeValue="Renamed")
    sns.set_topic_attributes(TopicArn=state["arn"], AttributeName="SignatureVersion", AttributeValue="2")
    a = sns.get_topic_attributes(TopicArn=state["arn"])["Attributes"]
    assert a["DisplayName"] == "Renamed" and a["SignatureVersion"] == "2", a
    expect_error(X.InvalidParameterException, "InvalidParameter", 400, sns.set_topic_attributes,
                 TopicArn=state["arn"], AttributeName="Bogus", AttributeValue="x")
    expect_error(X.InvalidParameterException, "InvalidParameter", 400, sns.set_topic_attributes,
                 TopicArn=state["arn"], AttributeName="SignatureVersion", AttributeValue="3")


@check("topic not found and malformed ARN")
def _():
    expect_error(X.NotFoundException, "NotFound", 404, sns.get_topic_attributes, TopicArn=MISSING)
    expect_error(X.NotFoundException, "NotFound", 404, sns.set_topic_attributes,
                 TopicArn=MISSING, AttributeName="DisplayName", AttributeValue="x")
    expect_error(X.InvalidParameterException, "InvalidParameter", 400,
                 sns.get_topic_attributes, TopicArn="not-an-arn")


@check("XML-special and non-ASCII characters round-trip")
def _():
    name = PREFIX + "-escape"
    display = "a<b>&\"c' \u00fcn\u00ef \u20ac \U0001f600"
    arn = sns.create_topic(Name=name, Attributes={"DisplayName": display},
                           Tags=[{"Key": "k&<", "Value": "v\"'>\u00fc"}])["TopicArn"]
    a = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert a["DisplayName"] == display, repr(a["DisplayName"])
    tags = sns.list_tags_for_resource(ResourceArn=arn)["Tags"]
    assert tags == [{"Key": "k&<", "Value": "v\"'>\u00fc"}], tags
    out = sns.publish(TopicArn=arn, Message="\u00fcn\u00efc\u00f8de <&> \U0001f600", Subject="\u00fc & <>")
    assert len(out["MessageId"]) == 36, out
    sns.delete_topic(TopicArn=arn)


@check("tag_resource / list_tags_for_resource / untag_resource")
def _():
    tags = sns.list_tags_for_resource(ResourceArn=state["arn"])["Tags"]
    assert tags == [{"Key": "team", "Value": "core"}], tags
    sns.tag_resource(ResourceArn=state["arn"], Tags=[{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "edge"}])
    tags = {t["Key"]: t["Value"] for t in sns.list_tags_for_resource(ResourceArn=state["arn"])["Tags"]}
    assert tags == {"env": "dev", "team": "edge"}, tags
    sns.untag_resource(ResourceArn=state["arn"], TagKeys=["env"])
    tags = sns.list_tags_for_resource(ResourceArn=state["arn"])["Tags"]
    assert tags == [{"Key": "team", "Value": "edge"}], tags
    expect_error(X.ResourceNotFoundException, "ResourceNotFound", 404,
                 sns.list_tags_for_resource, ResourceArn=MISSING)
    many = [{"Key": "k%d" % i, "Value": "v"} for i in range(51)]
    expect_error(X.TagLimitExceededException, "TagLimitExceeded", 400,
                 sns.tag_resource, ResourceArn=state["arn"], Tags=many)


@check("add_permission / remove_permission")
def _():
    sns.add_permission(TopicArn=state["arn"], Label="allow-other",
                       AWSAccountId=["111122223333"], ActionName=["Publish", "Subscribe"])
    pol = json.loads(sns.get_topic_attributes(TopicArn=state["arn"])["Attributes"]["Policy"])
    stmts = {s.get("Sid"): s for s in pol["Statement"]}
    assert "allow-other" in stmts, pol
    assert "111122223333" in json.dumps(stmts["allow-other"]), stmts["allow-other"]
    expect_error(X.InvalidParameterException, "InvalidParameter", 400, sns.add_permission,
                 TopicArn=state["arn"], Label="allow-other", AWSAccountId=["111122223333"], ActionName=["Publish"])
    sns.remove_permission(TopicArn=state["arn"], Label="allow-other")
    pol = sns.get_topic_attributes(TopicArn=state["arn"])["Attributes"]["Policy"]
    assert "allow-other" not in pol, pol
    expect_error(X.InvalidParameterException, "InvalidParameter", 400,
                 sns.remove_permission, TopicArn=state["arn"], Label="allow-other")


@check("list_topics paginator over 105 topics, then delete them")
def _():
    names = ["%s-page-%03d" % (PREFIX, i) for i in range(105)]
    want = set(topic_arn(n) for n in names)
    for n in names:
        sns.create_topic(Name=n)
    pages = 0
    seen = []
    for page in sns.get_paginator("list_topics").paginate():
        pages += 1
        assert len(page["Topics"]) <= 100, len(page["Topics"])
        seen.extend(t["TopicArn"] for t in page["Topics"])
    assert pages >= 2, pages
    assert len(seen) == len(set(seen)), "duplicates across pages"
    assert want <= set(seen), "missing %d topics" % len(want - set(seen))
    assert state["arn"] in seen
    expect_error(X.InvalidParameterException, "InvalidParameter", 400, sns.list_topics, NextToken="garbage!")
    for arn in want:
        sns.delete_topic(TopicArn=arn)
    left = set()
    for page in sns.get_paginator("list_topics").paginate():
        left.update(t["TopicArn"] for t in page["Topics"])
    assert not (want & left), "%d topics left after delete" % len(want & left)


@check("subscribe sqs: confirmed at once, same endpoint gives same ARN")
def _():
    q = queue_arn(PREFIX + "-q1")
    out = sns.subscribe(TopicArn=state["arn"], Protocol="sqs", Endpoint=q,
                        Attributes={"RawMessageDelivery": "true"})
    arn = out["SubscriptionArn"]
    assert arn.startswith(state["arn"] + ":"), arn
    again = sns.subscribe(TopicArn=state["arn"], Protocol="sqs", Endpoint=q,
                          Attributes={"RawMessageDelivery": "true"})
    assert again["SubscriptionArn"] == arn, again
    a = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert a["PendingConfirmation"] == "false", a
    assert a["Protocol"] == "sqs" and a["Endpoint"] == q and a["TopicArn"] == state["arn"], a
    assert a["RawMessageDelivery"] == "true", a
    assert a["Owner"] == ACCOUNT, a
    state["sub"] = arn


@check("subscribe http: pending confirmation; ReturnSubscriptionArn")
def _():
    out = sns.subscribe(TopicArn=state["arn"], Protocol="http", Endpoint="http://127.0.0.1:1/%s/hook" % PREFIX)
    assert out["SubscriptionArn"] == "pending confirmation", out
    out = sns.subscribe(TopicArn=state["arn"], Protocol="https", Endpoint="https://127.0.0.1:1/%s/hook" % PREFIX,
                        ReturnSubscriptionArn=True)
    arn = out["SubscriptionArn"]
    assert arn.startswith(state["arn"] + ":"), out
    a = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert a["PendingConfirmation"] == "true" and a["Protocol"] == "https", a
    state["pending"] = arn


@check("subscribe errors")
def _():
    expect_error(X.InvalidParameterException, "InvalidParameter", 400, sns.subscribe,
                 TopicArn=state["arn"], Protocol="email", Endpoint="a@example.com")
    expect_error(X.InvalidParameterException, "InvalidParameter", 400, sns.subscribe,
                 TopicArn=state["arn"], Protocol="sqs", Endpoint="not-an-arn")
    expect_error(X.NotFoundException, "NotFound", 404, sns.subscribe,
                 TopicArn=MISSING, Protocol="sqs", Endpoint=queue_arn("q"))


@check("set/get_subscription_attributes")
def _():
    sub = state["sub"]

    def put(name, value):
        sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName=name, AttributeValue=value)

    policy = {"store": ["example_corp"], "price_usd": [{"numeric": [">=", 100]}]}
    put("RawMessageDelivery", "false")
    put("FilterPolicy", json.dumps(policy))
    put("FilterPolicyScope", "MessageBody")
    put("RedrivePolicy", json.dumps({"deadLetterTargetArn": queue_arn(PREFIX + "-dlq")}))
    a = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert a["RawMessageDelivery"] == "false", a
    assert json.loads(a["FilterPolicy"]) == policy, a["FilterPolicy"]
    assert a["FilterPolicyScope"] == "MessageBody", a
    assert json.loads(a["RedrivePolicy"])["deadLetterTargetArn"] == queue_arn(PREFIX + "-dlq"), a
    put("FilterPolicyScope", "MessageAttributes")
    put("RawMessageDelivery", "true")
    a = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert a["FilterPolicyScope"] == "MessageAttributes" and a["RawMessageDelivery"] == "true", a
    for name, value in [
        ("FilterPolicy", "not json"),
        ("FilterPolicy", json.dumps({"a": [{"numeric": [">"]}]})),
        ("FilterPolicyScope", "Nowhere"),
        ("RawMessageDelivery", "yes"),
        ("RedrivePolicy", json.dumps({"deadLetterTargetArn": "nope"})),
        ("Unknown", "1"),
    ]:
        expect_error(X.InvalidParameterException, "InvalidParameter", 400, put, name, value)
    expect_error(X.NotFoundException, "NotFound", 404, sns.get_subscription_attributes,
                 SubscriptionArn=state["arn"] + ":00000000-0000-0000-0000-000000000000")


@check("list_subscriptions_by_topic and list_subscriptions")
def _():
    subs = sns.list_subscriptions_by_topic(TopicArn=state["arn"])["Subscriptions"]
    assert len(subs) == 3, subs
    assert sum(1 for s in subs if s["SubscriptionArn"] == "PendingConfirmation") == 2, subs
    protos = sorted(s["Protocol"] for s in subs)
    assert protos == ["http", "https", "sqs"], protos
    for s in subs:
        assert s["TopicArn"] == state["arn"] and s["Owner"] == ACCOUNT, s
    mine = []
    for page in sns.get_paginator("list_subscriptions").paginate():
        mine.extend(s for s in page["Subscriptions"] if s["TopicArn"] == state["arn"])
    assert len(mine) == 3, mine
    assert state["sub"] in [s["SubscriptionArn"] for s in mine], mine
    a = sns.get_topic_attributes(TopicArn=state["arn"])["Attributes"]
    assert a["SubscriptionsConfirmed"] == "1" and a["SubscriptionsPending"] == "2", a
    expect_error(X.NotFoundException, "NotFound", 404, sns.list_subscriptions_by_topic, TopicArn=MISSING)


@check("list_subscriptions_by_topic paginator over 105 subscriptions")
def _():
    name = PREFIX + "-fanout"
    arn = sns.create_topic(Name=name)["TopicArn"]
    want = set()
    for i in range(105):
        want.add(sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn("%s-fan-%03d" % (PREFIX, i)))["SubscriptionArn"])
    assert len(want) == 105
    pages = 0
    seen = []
    for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arn):
        pages += 1
        assert len(page["Subscriptions"]) <= 100, len(page["Subscriptions"])
        seen.extend(s["SubscriptionArn"] for s in page["Subscriptions"])
    assert pages == 2, pages
    assert len(seen) == 105 and set(seen) == want, (len(seen), len(set(seen) & want))
    a = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert a["SubscriptionsConfirmed"] == "105", a
    sns.delete_topic(TopicArn=arn)
    expect_error(X.NotFoundException, "NotFound", 404, sns.get_subscription_attributes, SubscriptionArn=seen[0])


@check("publish with Subject and every attribute type")
def _():
    out = sns.publish(
        TopicArn=state["arn"],
        Message="hello from boto3",
        Subject="greeting",
        MessageAttributes={
            "s": {"DataType": "String", "StringValue": "v"},
            "n": {"DataType": "Number", "StringValue": "12.5"},
            "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01\x02\xff"},
            "arr": {"DataType": "String.Array", "StringValue": '["a", 1, true]'},
            "custom": {"DataType": "String.custom", "StringValue": "x"},
        },
    )
    assert len(out["MessageId"]) == 36, out
    out = sns.publish(TargetArn=state["arn"], Message="via TargetArn")
    assert len(out["MessageId"]) == 36, out


@check("publish MessageStructure=json")
def _():
    out = sns.publish(TopicArn=state["arn"], MessageStructure="json",
                      Message=json.dumps({"default": "d", "sqs": "for sqs"}))
    assert len(out["MessageId"]) == 36, out
    expect_error(X.InvalidParameterException, "InvalidParameter", 400, sns.publish,
                 TopicArn=state["arn"], MessageStructure="json", Message=json.dumps({"sqs": "no default"}))


@check("publish errors")
def _():
    expect_error(X.NotFoundException, "NotFound", 404, sns.publish, TopicArn=MISSING, Message="m")
    expect_error(X.InvalidParameterException, "InvalidParameter", 400, sns.publish,
                 TopicArn=state["arn"], Message="m", Subject="s" * 100)
    expect_error(X.InvalidParameterException, "InvalidParameter", 400, sns.publish,
                 TopicArn=state["arn"], Message="x" * (256 * 1024 + 1))
    for attrs in [
        {"k": {"DataType": "Number", "StringValue": "abc"}},
        {"k": {"DataType": "Blob", "StringValue": "v"}},
        {"a b": {"DataType": "String", "StringValue": "v"}},
        {"k": {"DataType": "String.Array", "StringValue": "["}},
    ]:
        expect_error(X.InvalidParameterValueException, "ParameterValueInvalid", 400, sns.publish,
                     TopicArn=state["arn"], Message="m", MessageAttributes=attrs)


@check("publish_batch with one failing entry")
def _():
    out = sns.publish_batch(TopicArn=state["arn"], PublishBatchRequestEntries=[
        {"Id": "ok1", "Message": "one"},
        {"Id": "bad", "Message": "two", "Subject": "s" * 120},
        {"Id": "ok2", "Message": "three", "Subject": "third",
         "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"},
                               "bin": {"DataType": "Binary", "BinaryValue": b"\x01\x02"}}},
    ])
    ok = sorted(e["Id"] for e in out["Successful"])
    assert ok == ["ok1", "ok2"], out
    for e in out["Successful"]:
        assert len(e["MessageId"]) == 36, e
    assert len(out["Failed"]) == 1, out
    f = out["Failed"][0]
    assert f["Id"] == "bad" and f["Code"] == "InvalidParameter" and f["SenderFault"] is True, f
    assert f.get("Message"), f


@check("publish_batch errors")
def _():
    arn = state["arn"]
    eleven = [{"Id": "e%d" % i, "Message": "m"} for i in range(11)]
    expect_error(X.TooManyEntriesInBatchRequestException, "TooManyEntriesInBatchRequest", 400,
                 sns.publish_batch, TopicArn=arn, PublishBatchRequestEntries=eleven)
    expect_error(X.BatchEntryIdsNotDistinctException, "BatchEntryIdsNotDistinct", 400,
                 sns.publish_batch, TopicArn=arn,
                 PublishBatchRequestEntries=[{"Id": "a", "Message": "m"}, {"Id": "a", "Message": "m"}])
    expect_error(X.EmptyBatchRequestException, "EmptyBatchRequest", 400,
                 sns.publish_batch, TopicArn=arn, PublishBatchRequestEntries=[])
    expect_error(X.InvalidBatchEntryIdException, "InvalidBatchEntryId", 400,
                 sns.publish_batch, TopicArn=arn, PublishBatchRequestEntries=[{"Id": "a b", "Message": "m"}])
    expect_error(X.NotFoundException, "NotFound", 404,
                 sns.publish_batch, TopicArn=MISSING, PublishBatchRequestEntries=[{"Id": "a", "Message": "m"}])


@check("FIFO topic: publish with deduplication")
def _():
    name = PREFIX + "-jobs.fifo"
    arn = sns.create_topic(Name=name, Attributes={"FifoTopic": "true"})["TopicArn"]
    assert arn == topic_arn(name), arn
    a = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert a["FifoTopic"] == "true" and a.get("ContentBasedDeduplication", "false") == "false", a
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn(PREFIX + "-jobs.fifo"))
    p1 = sns.publish(TopicArn=arn, Message="m", MessageGroupId="g", MessageDeduplicationId="d1")
    assert p1["SequenceNumber"], p1
    p2 = sns.publish(TopicArn=arn, Message="m", MessageGroupId="g", MessageDeduplicationId="d1")
    assert p2["MessageId"] == p1["MessageId"], (p1, p2)
    p3 = sns.publish(TopicArn=arn, Message="m", MessageGroupId="g", MessageDeduplicationId="d2")
    assert p3["MessageId"] != p1["MessageId"], (p1, p3)
    expect_error(X.InvalidParameterException, "InvalidParameter", 400, sns.publish,
                 TopicArn=arn, Message="m", MessageDeduplicationId="d3")
    expect_error(X.InvalidParameterException, "InvalidParameter", 400, sns.publish,
                 TopicArn=arn, Message="m", MessageGroupId="g")
    expect_error(X.InvalidParameterException, "InvalidParameter", 400, sns.publish,
                 TopicArn=state["arn"], Message="m", MessageDeduplicationId="d")
    sns.set_topic_attributes(TopicArn=arn, AttributeName="ContentBasedDeduplication", AttributeValue="true")
    c1 = sns.publish(TopicArn=arn, Message="same body", MessageGroupId="g")
    c2 = sns.publish(TopicArn=arn, Message="same body", MessageGroupId="g")
    assert c1["MessageId"] == c2["MessageId"], (c1, c2)
    b = sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=[
        {"Id": "x", "Message": "bx", "MessageGroupId": "g", "MessageDeduplicationId": "bx"},
        {"Id": "y", "Message": "by", "MessageGroupId": "g", "MessageDeduplicationId": "by"},
    ])
    assert len(b["Successful"]) == 2 and not b.get("Failed"), b
    for e in b["Successful"]:
        assert e["SequenceNumber"], e
    expect_error(X.InvalidParameterException, "InvalidParameter", 400, sns.create_topic,
                 Name=PREFIX + "-nofifo", Attributes={"FifoTopic": "true"})
    sns.delete_topic(TopicArn=arn)


@check("data protection policy; unsupported actions")
def _():
    pol = json.dumps({"Name": "p", "Version": "2021-06-01", "Statement": []})
    sns.put_data_protection_policy(ResourceArn=state["arn"], DataProtectionPolicy=pol)
    got = sns.get_data_protection_policy(ResourceArn=state["arn"])["DataProtectionPolicy"]
    assert got == pol, got
    e = expect_error(botocore.exceptions.ClientError, "InvalidAction", 400, sns.get_sms_attributes)
    assert "SMS" in e.response["Error"]["Message"] or "support" in e.response["Error"]["Message"], e.response
    expect_error(X.InvalidParameterException, "InvalidParameter", 400, sns.publish,
                 PhoneNumber="+15555550100", Message="hi")
    expect_error(X.InvalidParameterException, "InvalidParameter", 400, sns.confirm_subscription,
                 TopicArn=state["arn"], Token="bogus")


@check("unsubscribe")
def _():
    sub = state["sub"]
    out = sns.unsubscribe(SubscriptionArn=sub)
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200, out
    expect_error(X.NotFoundException, "NotFound", 404, sns.get_subscription_attributes, SubscriptionArn=sub)
    expect_error(X.NotFoundException, "NotFound", 404, sns.unsubscribe, SubscriptionArn=sub)
    expect_error(X.InvalidParameterException, "InvalidParameter", 400, sns.unsubscribe, SubscriptionArn="garbage")
    subs = sns.list_subscriptions_by_topic(TopicArn=state["arn"])["Subscriptions"]
    assert sub not in [s["SubscriptionArn"] for s in subs] and len(subs) == 2, subs


@check("delete_topic (idempotent) removes its subscriptions")
def _():
    arn = state["arn"]
    sns.delete_topic(TopicArn=arn)
    sns.delete_topic(TopicArn=arn)
    expect_error(X.NotFoundException, "NotFound", 404, sns.get_topic_attributes, TopicArn=arn)
    expect_error(X.NotFoundException, "NotFound", 404, sns.get_subscription_attributes,
                 SubscriptionArn=state["pending"])
    expect_error(X.NotFoundException, "NotFound", 404, sns.publish, TopicArn=arn, Message="gone")
    arns = []
    for page in sns.get_paginator("list_topics").paginate():
        arns.extend(t["TopicArn"] for t in page["Topics"])
    assert not [a for a in arns if (":" + PREFIX) in a], "left over: %s" % [a for a in arns if PREFIX in a]


summary("boto3")
