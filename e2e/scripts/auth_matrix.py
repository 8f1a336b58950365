#!/usr/bin/env python3
"""Try to get past Sealpost's SigV4 check with botocore, one way per row.

Usage: auth_matrix.py [--auth-off] ENDPOINT [CA_FILE]

The server must know access key "test" with secret "test" (the default) in
account 000000000000 and enforce signatures; with --auth-off, the server runs
with --auth=off and the rows are those that must hold even then (wrongly
signed requests act as the account; cross-site and rebinding requests are
still refused). Each row sends one request that
must be refused with the row's error code and HTTP status (or, for the rows
that must work, answered 200), then checks that a correct request still works
right after. Where botocore can make the bad request itself (boto3 client with
a wrong key, a fixed clock, another region, no signature, a hook that changes
the request after signing) it does; the rest are signed by botocore's own
SigV4Auth / SigV4QueryAuth and sent with botocore's HTTP session.

Prints one line per row ("ok   <row>: <code> <status>" or "FAIL <row>: ..."),
then "authmatrix: N passed, M failed"; exits 1 when anything failed.
"""

import datetime
import random
import string
import sys
import traceback
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

import boto3
import botocore
import botocore.auth
import botocore.exceptions
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.httpsession import URLLib3Session

KEY, SECRET = "test", "test"
ACCOUNT = "000000000000"
REGION = "us-east-1"
FORM = "application/x-www-form-urlencoded; charset=utf-8"

ARGS = sys.argv[1:]
AUTH_OFF = bool(ARGS) and ARGS[0] == "--auth-off"
if AUTH_OFF:
    ARGS = ARGS[1:]
if len(ARGS) not in (1, 2):
    print("usage: auth_matrix.py [--auth-off] ENDPOINT [CA_FILE]", file=sys.stderr)
    sys.exit(2)
ENDPOINT = ARGS[0].rstrip("/")
CA_FILE = ARGS[1] if len(ARGS) == 2 else None
PREFIX = "am-%s-%s" % (ENDPOINT.split(":", 1)[0], uuid.uuid4().hex[:8])
HOST = urllib.parse.urlsplit(ENDPOINT).netloc
CONFIG = Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=10, read_timeout=30)
HTTP = URLLib3Session(verify=CA_FILE if CA_FILE else True, timeout=30)

print("authmatrix: botocore %s against %s (CA %s)%s" % (botocore.__version__, ENDPOINT, CA_FILE or "none",
                                                    " with --auth=off" if AUTH_OFF else ""), flush=True)


def client(key=KEY, secret=SECRET, region=REGION, **config):
    kwargs = dict(endpoint_url=ENDPOINT, region_name=region, aws_access_key_id=key,
                  aws_secret_access_key=secret, config=CONFIG.merge(Config(**config)))
    if CA_FILE:
        kwargs["verify"] = CA_FILE
    return boto3.client("sns", **kwargs)


GOOD = client()


class Clock:
    """Patch botocore's signing clock by an offset for the duration of a with block."""

    def __init__(self, offset):
        self.offset = offset

    def __enter__(self):
        self.saved = botocore.auth.get_current_datetime
        botocore.auth.get_current_datetime = lambda: self.saved() + self.offset

    def __exit__(self, *exc):
        botocore.auth.get_current_datetime = self.saved


def via_client(fn):
    """Run a botocore call; return (code, status, message) of its error, or (None, 200, "") on success."""
    try:
        out = fn()
    except botocore.exceptions.ClientError as e:
        err = e.response.get("Error", {})
        return err.get("Code"), e.response.get("ResponseMetadata", {}).get("HTTPStatusCode"), err.get("Message", "")
    return None, out["ResponseMetadata"]["HTTPStatusCode"], ""


def parse_error(status, body):
    """(code, status, message) of a raw Query-protocol response."""
    if status == 200:
        return None, status, ""
    if status == 431:
        return "connection closed by the server", status, body.decode("utf-8", "replace")[:200]
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return "<not XML: %r>" % body[:200], status, ""
    code = msg = None
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1]
        if tag == "Code":
            code = el.text
        elif tag == "Message":
            msg = el.text
    return code, status, msg or ""


def send(req):
    """Send a botocore AWSRequest as it stands and parse the answer."""
    resp = HTTP.send(req.prepare())
    return parse_error(resp.status_code, resp.content)


def signed(params, service="sns", region=REGION, key=KEY, secret=SECRET, auth=botocore.auth.SigV4Auth, headers=None):
    """A POST form request signed by botocore's signer for service and region."""
    req = AWSRequest(method="POST", url=ENDPOINT + "/", data=urllib.parse.urlencode(params),
                     headers=dict({"Content-Type": FORM}, **(headers or {})))
    auth(Credentials(key, secret), service, region).add_auth(req)
    return req


def unsigned_post(params, headers=None):
    return send(AWSRequest(method="POST", url=ENDPOINT + "/", data=urllib.parse.urlencode(params),
                           headers=dict({"Content-Type": FORM}, **(headers or {}))))


def create(name):
    return {"Action": "CreateTopic", "Version": "2010-03-31", "Name": PREFIX + "-" + name}


LIST = {"Action": "ListTopics", "Version": "2010-03-31"}


class HostNotSigned(botocore.auth.SigV4Auth):
    def headers_to_sign(self, request):
        h = super().headers_to_sign(request)
        del h["host"]
        return h


def changed_signature_character():
    req = signed(LIST)
    auth = req.headers["Authorization"]
    i = auth.index("Signature=") + len("Signature=") + 17
    req.headers.replace_header("Authorization", auth[:i] + ("0" if auth[i] != "0" else "1") + auth[i + 1:])
    return send(req)


def body_changed_after_signing():
    req = signed({"Action": "CreateTopic", "Version": "2010-03-31", "Name": PREFIX + "-signed"})
    req.data = urllib.parse.urlencode({"Action": "CreateTopic", "Version": "2010-03-31", "Name": PREFIX + "-forged"})
    return send(req)


def client_hook_changes_body():
    """A boto3 client whose request body is changed after botocore signed it."""
    c = client()

    def tamper(request, **_):
        body = request.body
        if isinstance(body, str):
            request.body = body.replace("-signed", "-forged")
        else:
            request.body = body.replace(b"-signed", b"-forged")

    c.meta.events.register("before-send.sns.CreateTopic", tamper)
    return via_client(lambda: c.create_topic(Name=PREFIX + "-signed"))


def unsigned_get_create():
    url = ENDPOINT + "/?" + urllib.parse.urlencode({"Action": "CreateTopic", "Version": "2010-03-31", "Name": PREFIX + "-csrf"})
    return send(AWSRequest(method="GET", url=url))


def presigned(offset, expires):
    req = AWSRequest(method="GET", url=ENDPOINT + "/?" + urllib.parse.urlencode(LIST))
    with Clock(offset):
        botocore.auth.SigV4QueryAuth(Credentials(KEY, SECRET), "sns", REGION, expires=expires).add_auth(req)
    return send(req)


def random_authorization(size):
    req = signed(LIST)
    rnd = random.Random(size)
    junk = "".join(rnd.choice(string.ascii_letters + string.digits + "+/=,; ") for _ in range(size))
    req.headers.replace_header("Authorization", junk)
    return req


def huge_authorization():
    """100 KB is past the server's 64 KiB header cap: Go's HTTP server answers
    431 and hangs up, possibly before the client has read the answer (then the
    client sees the connection closed). Either way nothing reaches an action."""
    try:
        return send(random_authorization(100 * 1024))
    except botocore.exceptions.ConnectionClosedError:
        return "connection closed by the server", 431, "(no answer read)"


MIN = datetime.timedelta(minutes=1)
UNSIGNED = client(signature_version=botocore.UNSIGNED)

# A request whose Host names another server: what a web page reaches through
# DNS rebinding (signed correctly for that host, as the page could not).
REBIND = {"Host": "rebind.attacker.example"}

# (row, function returning (code, status, message), want code, want status, text the message must contain)
ROWS = [
    ("no signature (boto3, signature_version=UNSIGNED)", lambda: via_client(UNSIGNED.list_topics),
     "MissingAuthenticationToken", 403, ""),
    ("no signature, state-changing GET ?Action=CreateTopic", unsigned_get_create,
     "MissingAuthenticationToken", 403, ""),
    ("unknown access key", lambda: via_client(client(key="AKIAUNKNOWN000000000").list_topics),
     "InvalidClientTokenId", 403, ""),
    ("wrong secret", lambda: via_client(client(secret="not-the-secret").list_topics),
     "SignatureDoesNotMatch", 403, ""),
    ("one signature character changed", changed_signature_character, "SignatureDoesNotMatch", 403, ""),
    ("host not signed", lambda: send(signed(LIST, auth=HostNotSigned)), "IncompleteSignature", 400, "Host"),
    ("body changed after signing (raw)", body_changed_after_signing, "SignatureDoesNotMatch", 403, ""),
    ("body changed after signing (boto3 before-send hook)", client_hook_changes_body, "SignatureDoesNotMatch", 403, ""),
    ("dated 20 minutes in the past", lambda: with_clock(-20 * MIN), "SignatureDoesNotMatch", 403, "Signature expired"),
    ("dated 20 minutes in the future", lambda: with_clock(20 * MIN), "SignatureDoesNotMatch", 403, "Signature not yet current"),
    ("dated 5 minutes in the past works", lambda: with_clock(-5 * MIN), None, 200, ""),
    ("dated 5 minutes in the future works", lambda: with_clock(5 * MIN), None, 200, ""),
    ("scope region mars-north-1 (boto3)", lambda: via_client(client(region="mars-north-1").list_topics),
     "SignatureDoesNotMatch", 403, ""),
    ("scope region us-east-1:evil", lambda: send(signed(LIST, region="us-east-1:evil")), "SignatureDoesNotMatch", 403, ""),
    ("scope service kms on an SNS request", lambda: send(signed(LIST, service="kms")), "SignatureDoesNotMatch", 403, ""),
    ("presigned URL, valid", lambda: presigned(datetime.timedelta(0), 300), None, 200, ""),
    ("presigned URL, expired", lambda: presigned(-10 * MIN, 60), "SignatureDoesNotMatch", 403, ""),
    ("60 KB of random characters as Authorization", lambda: send(random_authorization(60 * 1024)),
     "IncompleteSignature", 400, ""),
    ("100 KB of random characters as Authorization (past the 64 KiB header cap)", huge_authorization,
     "connection closed by the server", 431, ""),
    ("Host of another name (DNS rebinding), correctly signed", lambda: send(signed(create("rebind"), headers=REBIND)),
     "AccessDenied", 403, "rebind.attacker.example"),
]

# With --auth=off: wrongly signed requests act as the key's account, but what a
# web page can send is refused all the same.
ROWS_AUTH_OFF = [
    ("wrong secret acts as the account", lambda: via_client(client(secret="not-the-secret").list_topics), None, 200, ""),
    ("unknown key acts as the default account", lambda: via_client(client(key="AKIAUNKNOWN000000000").list_topics),
     None, 200, ""),
    ("dated 20 minutes in the past acts as the account", lambda: with_clock(-20 * MIN), None, 200, ""),
    ("unsigned form POST without Origin (a local script) works", lambda: unsigned_post(LIST), None, 200, ""),
    ("unsigned state-changing GET ?Action=CreateTopic (CSRF)", unsigned_get_create,
     "MissingAuthenticationToken", 403, "POST"),
    ("unsigned form POST from a web page (foreign Origin)",
     lambda: unsigned_post(create("origin"), {"Origin": "http://attacker.example"}),
     "MissingAuthenticationToken", 403, "web pages"),
    ("unsigned POST that is not a form (text/plain)",
     lambda: send(AWSRequest(method="POST", url=ENDPOINT + "/", data=urllib.parse.urlencode(create("plain")),
                             headers={"Content-Type": "text/plain"})),
     "InvalidParameter", 400, "x-www-form-urlencoded"),  # refused before authentication: not a Query request
    ("Host of another name (DNS rebinding), unsigned", lambda: unsigned_post(create("rebind"), REBIND),
     "AccessDenied", 403, "rebind.attacker.example"),
    ("scope region mars-north-1 (a region is part of every ARN)",
     lambda: via_client(client(region="mars-north-1").list_topics), "SignatureDoesNotMatch", 403, ""),
]


def with_clock(offset):
    with Clock(offset):
        return via_client(client().list_topics)


passed = 0
failed = 0
for name, fn, want_code, want_status, want_text in (ROWS_AUTH_OFF if AUTH_OFF else ROWS):
    problems = []
    try:
        code, status, message = fn()
        if code != want_code or status != want_status:
            problems.append("got %s %s (%r), want %s %s" % (code, status, message, want_code, want_status))
        elif want_code and not message:
            problems.append("empty error message")
        elif want_text and want_text not in message:
            problems.append("message %r does not contain %r" % (message, want_text))
        # A correct request right after the row still works.
        after = via_client(GOOD.list_topics)
        if after[0] is not None or after[1] != 200:
            problems.append("correct request after the row: %s %s %s" % after)
    except Exception:  # noqa: BLE001 - every failure is reported, not raised
        problems.append(traceback.format_exc())
        code, status, message = None, None, ""
    if problems:
        failed += 1
        print("FAIL %s: %s" % (name, "; ".join(problems)), flush=True)
    else:
        passed += 1
        print("ok   %s: %s %s %s" % (name, code or "OK", status, message), flush=True)

# None of the refused state-changing requests created a topic.
try:
    leaked = [t["TopicArn"] for page in GOOD.get_paginator("list_topics").paginate()
              for t in page["Topics"] if (":" + PREFIX) in t["TopicArn"]]
    if leaked:
        raise AssertionError("refused requests created topics: %s" % leaked)
except Exception:  # noqa: BLE001
    failed += 1
    print("FAIL no topic created by a refused request:\n%s" % traceback.format_exc(), flush=True)
else:
    passed += 1
    print("ok   no topic created by a refused request", flush=True)

print("authmatrix: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
