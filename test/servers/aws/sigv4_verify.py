"""Checks AWS SigV4 signatures with botocore's own implementation (SigV4Auth), for the
loopback stand-in of an AWS endpoint in test/servers/aws/: an implementation independent of the
one espipe signs with. Reads one JSON request per line on stdin, writes one JSON verdict per
line on stdout:
  in:  {"method", "url", "headers": {signed name: value}, "body": base64, "region", "service",
        "accessKey", "secretKey", "token", "amzDate", "signature"}
  out: {"ok": bool, "reason"?, "canonical", "stringToSign"}
"""
import base64
import hashlib
import json
import sys

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def verify(r):
    body = base64.b64decode(r["body"])
    headers = r["headers"]
    request = AWSRequest(method=r["method"], url=r["url"], data=body, headers=headers)
    # The time the client signed at, not now: the stand-in judges its age itself.
    request.context["timestamp"] = r["amzDate"]
    auth = SigV4Auth(Credentials(r["accessKey"], r["secretKey"], r.get("token")), r["service"], r["region"])
    canonical = auth.canonical_request(request)
    string_to_sign = auth.string_to_sign(request, canonical)
    signature = auth.signature(string_to_sign, request)
    verdict = {"ok": signature == r["signature"], "canonical": canonical, "stringToSign": string_to_sign}
    # botocore takes a given x-amz-content-sha256 as the payload's hash; AWS checks it too.
    claimed = {k.lower(): v for k, v in headers.items()}.get("x-amz-content-sha256")
    if claimed is not None and claimed != hashlib.sha256(body).hexdigest():
        verdict.update(ok=False, reason="x-amz-content-sha256 is not the hash of the body")
    elif not verdict["ok"]:
        verdict["reason"] = "signature mismatch"
    return verdict


for line in sys.stdin:
    try:
        out = verify(json.loads(line))
    except Exception as e:  # a verdict for every line: the stand-in waits for one
        out = {"ok": False, "reason": f"{type(e).__name__}: {e}"}
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
