#!/usr/bin/env python3
"""Protocol-level health probes for the local stack (standard library only).

  probe.py kafka HOST:PORT            ApiVersions + Metadata; healthy when the broker lists itself
  probe.py s3 ENDPOINT BUCKET [--create]
                                      signed ListBuckets (SigV4, creds from AWS_* env); healthy when the
                                      bucket exists (created first with --create)
  probe.py http URL                   any HTTP response
  probe.py registry BASE CCOMPAT [--compatibility LEVEL]
                                      Apicurio Registry: /health/ready says UP and the Confluent-compatible API
                                      (CCOMPAT) answers its global config (set to LEVEL first when given)

Exit 0 when healthy, 1 otherwise; one line of detail on stdout.
"""
import datetime
import hashlib
import hmac
import json
import os
import socket
import struct
import sys
import urllib.error
import urllib.parse
import urllib.request

TIMEOUT = 3.0


# ---------------------------------------------------------------- Kafka
def _kafka_request(sock, api_key, api_version, correlation_id, body=b""):
    client_id = b"scheduled-job-stack"
    header = struct.pack(">hhih", api_key, api_version, correlation_id, len(client_id)) + client_id
    msg = header + body
    sock.sendall(struct.pack(">i", len(msg)) + msg)
    size = struct.unpack(">i", _recv_exact(sock, 4))[0]
    resp = _recv_exact(sock, size)
    if struct.unpack(">i", resp[:4])[0] != correlation_id:
        raise RuntimeError("correlation id mismatch")
    return resp[4:]


def _recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise RuntimeError("connection closed")
        buf += chunk
    return buf


def kafka(addr):
    host, port = addr.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as sock:
        sock.settimeout(TIMEOUT)
        # ApiVersions v0: error_code, [api_key, min, max]
        resp = _kafka_request(sock, 18, 0, 1)
        err, n = struct.unpack(">hi", resp[:6])
        if err != 0:
            raise RuntimeError("ApiVersions error %d" % err)
        versions = {}
        for i in range(n):
            k, lo, hi = struct.unpack(">hhh", resp[6 + 6 * i:12 + 6 * i])
            versions[k] = (lo, hi)
        lo, hi = versions.get(3, (0, -1))
        if not lo <= 4 <= hi:
            return "api versions ok (%d apis)" % n
        # Metadata v4: topics=null (all), allow_auto_topic_creation=false
        resp = _kafka_request(sock, 3, 4, 2, struct.pack(">ib", -1, 0))
        brokers = struct.unpack(">i", resp[4:8])[0]  # after throttle_time_ms
        if brokers < 1:
            raise RuntimeError("metadata lists no broker yet")
        return "metadata ok (%d broker%s)" % (brokers, "" if brokers == 1 else "s")


# ---------------------------------------------------------------- S3 (SigV4)
def _sign(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def s3_request(endpoint, method, path, region="us-east-1"):
    access = os.environ["AWS_ACCESS_KEY_ID"]
    secret = os.environ["AWS_SECRET_ACCESS_KEY"]
    u = urllib.parse.urlsplit(endpoint)
    t = datetime.datetime.now(datetime.timezone.utc)
    amz_date, day = t.strftime("%Y%m%dT%H%M%SZ"), t.strftime("%Y%m%d")
    payload_hash = hashlib.sha256(b"").hexdigest()
    headers = {"host": u.netloc, "x-amz-content-sha256": payload_hash, "x-amz-date": amz_date}
    signed = ";".join(sorted(headers))
    canonical = "\n".join([
        method, urllib.parse.quote(path), "",
        "".join("%s:%s\n" % (k, headers[k]) for k in sorted(headers)),
        signed, payload_hash,
    ])
    scope = "%s/%s/s3/aws4_request" % (day, region)
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    k = _sign(("AWS4" + secret).encode(), day)
    for part in (region, "s3", "aws4_request"):
        k = _sign(k, part)
    sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        access, scope, signed, sig)
    req = urllib.request.Request(endpoint.rstrip("/") + path, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def s3(endpoint, bucket, create=False):
    status, body = s3_request(endpoint, "GET", "/")
    if status != 200:
        raise RuntimeError("ListBuckets returned HTTP %d: %s" % (status, body[:200]))
    if "<Name>%s</Name>" % bucket in body:
        return "bucket %s exists" % bucket
    if not create:
        raise RuntimeError("bucket %s missing" % bucket)
    status, body = s3_request(endpoint, "PUT", "/" + bucket)
    if status not in (200, 409):
        raise RuntimeError("CreateBucket returned HTTP %d: %s" % (status, body[:200]))
    return "bucket %s created" % bucket


def http(url):
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as r:
            return "HTTP %d" % r.status
    except urllib.error.HTTPError as e:
        return "HTTP %d" % e.code


def _json(url, method="GET", body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
        return json.loads(r.read().decode())


def registry(base, ccompat, compatibility=None):
    health = _json(base + "/health/ready")
    if health.get("status") != "UP":
        raise RuntimeError("/health/ready: %s" % health.get("status"))
    if compatibility:
        _json(ccompat + "/config", "PUT", {"compatibility": compatibility})
    level = _json(ccompat + "/config").get("compatibilityLevel")
    if not level:
        raise RuntimeError("%s/config has no compatibilityLevel" % ccompat)
    return "ready; global compatibility %s" % level


def main(argv):
    try:
        if argv[:1] == ["kafka"] and len(argv) == 2:
            print(kafka(argv[1]))
        elif argv[:1] == ["s3"] and len(argv) in (3, 4):
            print(s3(argv[1], argv[2], create="--create" in argv[3:]))
        elif argv[:1] == ["registry"] and len(argv) == 3:
            print(registry(argv[1], argv[2]))
        elif argv[:1] == ["registry"] and len(argv) == 5 and argv[3] == "--compatibility":
            print(registry(argv[1], argv[2], argv[4]))
        elif argv[:1] == ["http"] and len(argv) == 2:
            print(http(argv[1]))
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except Exception as e:  # any failure is "not healthy"
        print("unhealthy: %s" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
