"""Fault injection as Alibaba Cloud's current official Python SDK (the Tea generation) sees it: a
`[[faults]]` rule of the config file makes the next Create answer Throttling; the SDK raises its own
ClientException with the API's code, status, RequestId and HostId, exactly as for a real throttled
call, and the call after it goes through. Runs under both signing modes (fixture `signing`)."""

from test_tea_sdk import check_ok, create_user, describe, expect_error, users_of

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
    err = expect_error(lambda: create_user(tea, "throttled01"), "Throttling", status=400)
    assert err.data.get("HostId") == "smartag.aliyuncs.com", err.data
    # The rule hit once: the same call now succeeds, and only it created a user.
    check_ok(create_user(tea, "throttled01"))
    assert [u.user_name for u in users_of(describe(tea))] == ["throttled01"]
