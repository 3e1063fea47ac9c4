"""Fault injection as Alibaba Cloud's current official Python SDK (the Tea generation) sees it: a
`[[faults]]` rule of the config file makes the next Create answer Throttling with
`x-acs-retry-after`, and the SDK raises its own ThrottlingException (what it raises for a throttled
call of Alibaba Cloud's gateway: it reads that header into `retry_after`, in milliseconds) with the
API's code, status, RequestId and HostId; the call after it goes through. Runs under both signing
modes (fixture `signing`)."""

import pytest
from alibabacloud_tea_openapi.exceptions import ThrottlingException

from test_tea_sdk import check_ok, create_user, describe, users_of

THROTTLED_CONFIG = """
[[access_keys]]
id = "testid"
secret = "testsecret"

[[instances]]
region = "cn-shanghai"
id = "sag-demo"
cidr = "10.10.0.0/24"

[[faults]]
action = "CreateSmartAccessGatewayClientUser"
error = "Throttling"
count = 1
retry_after_ms = 20
"""


def test_the_sdk_sees_an_injected_throttling(service_factory, signing):
    svc = service_factory(config_text=THROTTLED_CONFIG)
    tea = svc.tea_client(signing)
    with pytest.raises(ThrottlingException) as info:
        create_user(tea, "throttled01")
    err = info.value
    assert (err.status_code, err.code, err.retry_after) == (400, "Throttling", 20)
    assert err.request_id and err.data.get("RequestId") == err.request_id, err.data
    assert err.data.get("HostId") == "smartag.aliyuncs.com", err.data
    # The rule hit once: the same call now succeeds, and only it created a user.
    check_ok(create_user(tea, "throttled01"))
    assert [u.user_name for u in users_of(describe(tea))] == ["throttled01"]
