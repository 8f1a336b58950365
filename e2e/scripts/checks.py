"""Shared helpers of the boto3 scripts (import it from the script's directory).

A script runs its checks in order with the @check(name) decorator: each one
runs at once, a failure is printed with its traceback and counted, and the
next check still runs. relax() ends a check as "skip" when the target is moto
(TARGET=moto in the environment; KMS_TARGET=moto too, as the KMS
scripts document), for the strict parts moto_server does not
implement. expect_error(exc_class, code, status, fn, ...) requires a service
error. summary(tool) prints "<tool>: N passed, M failed" (the line the Go
tests look for) and exits 1 when any check failed.

client(service, endpoint, ca_file) builds a boto3 client with the static
test credentials and no retries.
"""

import os
import sys
import traceback

import boto3
import botocore.exceptions
from botocore.config import Config

REGION = "us-east-1"
ACCOUNT = "000000000000"
TARGET = os.environ.get("TARGET") or os.environ.get("KMS_TARGET") or "sealpost"
STRICT = TARGET != "moto"

_counts = {"passed": 0, "failed": 0, "relaxed": 0}


class Relaxed(Exception):
    """Raised by relax() to end a check whose strict part moto lacks."""


def check(name):
    """Decorator: run the function now as one named check."""

    def run(fn):
        try:
            fn()
        except Relaxed:
            _counts["relaxed"] += 1
            print("skip %s (not implemented by %s)" % (name, TARGET), flush=True)
        except Exception:  # noqa: BLE001 - every failure is reported, not raised
            _counts["failed"] += 1
            print("FAIL %s:\n%s" % (name, traceback.format_exc()), flush=True)
        else:
            _counts["passed"] += 1
            print("ok   %s" % name, flush=True)
        return fn

    return run


def relax():
    """End the current check as skipped when the target is moto."""
    if not STRICT:
        raise Relaxed()


def expect_error(exc_class, code, status, fn, *args, **kwargs):
    """Call fn and require that botocore raises exc_class with the wire code
    and HTTP status given (status None: any). A service error must carry a
    message and a request id, and when the protocol names the fault side
    (Query, or JSON in query-compatible mode) it must be Sender. Returns the
    exception."""
    try:
        fn(*args, **kwargs)
    except exc_class as e:
        err = e.response.get("Error", {})
        meta = e.response.get("ResponseMetadata", {})
        assert err.get("Code") == code, "code %r, want %r (%s)" % (err.get("Code"), code, e.response)
        if status is not None:
            assert meta.get("HTTPStatusCode") == status, "status %r, want %r (%s)" % (
                meta.get("HTTPStatusCode"), status, e.response)
        if STRICT:
            assert err.get("Type", "Sender") == "Sender", "error type %r, want Sender (%s)" % (err.get("Type"), e.response)
            assert err.get("Message"), "empty error message: %s" % e.response
            assert meta.get("RequestId"), "no RequestId in error response: %s" % e.response
        return e
    except botocore.exceptions.ClientError as e:  # another error than exc_class
        raise AssertionError("want %s (%s), got %s: %s" % (exc_class.__name__, code, type(e).__name__, e.response)) from e
    raise AssertionError("want %s (%s), the call succeeded" % (exc_class.__name__, code))


def client(service, endpoint, ca_file=None, **config):
    """A boto3 client for endpoint with the test credentials and one attempt."""
    cfg = dict(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=10, read_timeout=30)
    cfg.update(config)
    kw = dict(
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(**cfg),
    )
    if ca_file:
        kw["verify"] = ca_file
    return boto3.client(service, **kw)


def summary(tool):
    """Print the totals and exit (1 when a check failed)."""
    if _counts["relaxed"]:
        print("%s: %d check(s) relaxed for %s" % (tool, _counts["relaxed"], TARGET))
    print("%s: %d passed, %d failed" % (tool, _counts["passed"], _counts["failed"]), flush=True)
    sys.exit(1 if _counts["failed"] else 0)
