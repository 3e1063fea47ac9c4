"""Sequential DescribeSmartAccessGatewayClientUsers calls through one of Alibaba Cloud's official
Python SDKs, for the `sdk` section of smartag-bench (BENCHMARKS.md).

    sdk_calls.py --sdk tea|tea-v1|core --endpoint 127.0.0.1:PORT --warmup 1.0 --seconds 3.0

Configured as the interop tests configure them (tests/interop/conftest.py): the Tea SDK
(alibabacloud-smartag20180313 on alibabacloud-tea-openapi) signing with version 3, its default, or
with signature_algorithm='v2' (version 1.0); the legacy aliyunsdkcore AcsClient (version 1.0).
Every call is checked (ten users on the page) and timed; after the warm-up, calls run for
`--seconds`, and one JSON line is printed: {"calls": N, "seconds": S, "p50_ms": X, "p99_ms": Y}.
"""

import argparse
import json
import sys
import time

ACCESS_KEY_ID = "benchid"
ACCESS_KEY_SECRET = "benchsecret"
REGION = "cn-shanghai"
INSTANCE = "sag-bench"
USERS = 10


def tea_call(endpoint, v1):
    from alibabacloud_smartag20180313 import models as sag
    from alibabacloud_smartag20180313.client import Client
    from alibabacloud_tea_openapi.utils_models import Config

    config = Config(access_key_id=ACCESS_KEY_ID, access_key_secret=ACCESS_KEY_SECRET, endpoint=endpoint,
                    protocol="http", region_id=REGION, connect_timeout=5000, read_timeout=30000)
    if v1:
        config.signature_algorithm = "v2"
    client = Client(config)
    request = sag.DescribeSmartAccessGatewayClientUsersRequest(
        region_id=REGION, smart_agid=INSTANCE, page_number=1, page_size=10)

    def call():
        users = client.describe_smart_access_gateway_client_users(request).body.users.user
        if len(users) != USERS:
            raise SystemExit(f"tea: {len(users)} users instead of {USERS}")

    return call


def core_call(endpoint):
    from aliyunsdkcore.client import AcsClient
    from aliyunsdksmartag.request.v20180313.DescribeSmartAccessGatewayClientUsersRequest import (
        DescribeSmartAccessGatewayClientUsersRequest,
    )

    client = AcsClient(ACCESS_KEY_ID, ACCESS_KEY_SECRET, REGION, auto_retry=False, max_retry_time=0,
                       timeout=30, connect_timeout=5)

    def call():
        request = DescribeSmartAccessGatewayClientUsersRequest()
        request.set_SmartAGId(INSTANCE)
        request.set_PageNumber(1)
        request.set_PageSize(10)
        request.set_endpoint(endpoint)
        request.set_protocol_type("http")
        request.set_accept_format("json")
        answer = json.loads(client.do_action_with_exception(request))
        users = answer["Users"]["User"]
        if len(users) != USERS:
            raise SystemExit(f"core: {len(users)} users instead of {USERS}")

    return call


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sdk", choices=["tea", "tea-v1", "core"], required=True)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    call = core_call(args.endpoint) if args.sdk == "core" else tea_call(args.endpoint, args.sdk == "tea-v1")

    end = time.perf_counter() + args.warmup
    while time.perf_counter() < end:
        call()
    latencies = []
    start = time.perf_counter()
    end = start + args.seconds
    while True:
        before = time.perf_counter()
        if before >= end:
            break
        call()
        latencies.append(time.perf_counter() - before)
    seconds = time.perf_counter() - start
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000.0  # noqa: E731
    json.dump({"calls": len(latencies), "seconds": seconds, "p50_ms": pick(0.5), "p99_ms": pick(0.99)}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
