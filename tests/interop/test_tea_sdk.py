"""Interop tests: Alibaba Cloud's CURRENT official Python SDK (the Tea generation) drives a running
smartag-service.

Every request goes through `alibabacloud_smartag20180313.client.Client` (2.1.2) on
`alibabacloud-tea-openapi`, configured as its users do: AccessKey id/secret, an endpoint, protocol
'http', a region. Each test runs three times (fixture `signing` in conftest.py):

- "v3": the SDK's default, signature version 3 (ACS3-HMAC-SHA256): `POST /?<operation parameters>`,
  empty body, Action/Version/date/nonce in `x-acs-*` headers, `Authorization: ACS3-HMAC-SHA256
  Credential=...,SignedHeaders=accept;host;user-agent;x-acs-action;x-acs-content-sha256;
  x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=<hex>` (this
  SDK signs every header it sets), query values encoded with `+` for space;
- "v2": `signature_algorithm='v2'`, which the Tea SDKs use for signature version 1.0 (HMAC-SHA1):
  everything in the query, `Format=json` in lower case and no `SignatureType`;
- "sm3": `signature_algorithm='ACS3-HMAC-SM3'`: version 3 as above with SM3 (GB/T 32905) in place
  of SHA-256 — the body's SM3 in `x-acs-content-sha256`, `ACS3-HMAC-SM3\n<hex SM3 of the canonical
  request>` signed with HMAC-SM3 (the SDK's own `alibabacloud_tea_openapi.sm3`).

What the SDK does with an answer (alibabacloud_tea_openapi/client.py, do_request / do_rpcrequest):
2xx is decoded as JSON into the operation's response model (`.status_code`, `.headers`, `.body`);
4xx raises `alibabacloud_tea_openapi.exceptions.ClientException` (5xx `ServerException`), a
TeaException with `.code` = the answer's Code, `.status_code`, `.request_id`, `.data` = the answer's
JSON object (plus `statusCode`), and `.message` = "code: <status>, <Message> request id: <RequestId>".
Unlike aliyunsdkcore it does not interpret SignatureDoesNotMatch itself: the tests compare the
server's "server string to sign is:" with the exact bytes the SDK fed to HMAC.

Expected codes, statuses and messages come from spec/smartag.yaml (the MSG table of
test_official_sdk.py).
"""

import hmac
import ipaddress
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from alibabacloud_smartag20180313 import models as sag
from alibabacloud_tea_openapi import utils as tea_utils
from alibabacloud_tea_openapi.exceptions import ClientException
from Tea.exceptions import TeaException

from test_official_sdk import CUSTOM_CONFIG, DEMO_CIDR, MSG, PASSWORD, invalid_parameter, missing_parameter

# ---- helpers ----------------------------------------------------------------------------------


def create(client, sag_id="sag-demo", mail=None, bandwidth=20, name=None, password=None, region="cn-shanghai", **extra):
    """CreateSmartAccessGatewayClientUser; parameters left None are not sent (the SDK leaves them out)."""
    if mail is None and name is not None:
        mail = f"{name.split('@')[0]}@example.com"
    req = sag.CreateSmartAccessGatewayClientUserRequest(
        region_id=region, smart_agid=sag_id, user_mail=mail, bandwidth=bandwidth, user_name=name,
        password=password, **extra)
    return client.create_smart_access_gateway_client_user(req)


def create_user(client, name, **kw):
    kw.setdefault("password", PASSWORD)
    return create(client, name=name, **kw)


def modify(client, name, sag_id="sag-demo", bandwidth=None, email=None, region="cn-shanghai"):
    req = sag.ModifySmartAccessGatewayClientUserRequest(
        region_id=region, smart_agid=sag_id, user_name=name, bandwidth=bandwidth, email=email)
    return client.modify_smart_access_gateway_client_user(req)


def describe(client, sag_id="sag-demo", name=None, mail=None, page=None, size=None, region="cn-shanghai", **extra):
    req = sag.DescribeSmartAccessGatewayClientUsersRequest(
        region_id=region, smart_agid=sag_id, user_name=name, user_mail=mail, page_number=page, page_size=size,
        **extra)
    return client.describe_smart_access_gateway_client_users(req)


def users_of(resp):
    """The typed users of a Describe answer (`body.users.user`)."""
    users = resp.body.users
    return [] if users is None or users.user is None else list(users.user)


def describe_all(client, size=10, **kw):
    """Every user, page after page until TotalCount (what a caller of this API has to do)."""
    users, page, pages = [], 1, []
    while True:
        resp = describe(client, page=page, size=size, **kw)
        assert resp.status_code == 200
        body = resp.body
        assert (body.page_number, body.page_size) == (page, size), body.to_map()
        batch = users_of(resp)
        pages.append(len(batch))
        users += batch
        if not batch or len(users) >= body.total_count:
            return users, body.total_count, pages
        page += 1
        assert page < 1000, "paging does not end"


def check_ok(resp):
    """A 2xx answer, decoded into the response model, with a RequestId (also in x-acs-request-id)."""
    assert resp.status_code == 200, resp.status_code
    assert isinstance(resp.body.request_id, str) and resp.body.request_id, resp.body.to_map()
    request_id_header = {k.lower(): v for k, v in resp.headers.items()}.get("x-acs-request-id")
    if request_id_header is not None:
        assert request_id_header == resp.body.request_id
    return resp.body


def expect_error(call, code, status=400, message=None):
    """Runs `call`, which must raise the SDK's ClientException for HTTP `status` and `code`;
    checks every field the SDK fills from the error answer. Returns the exception."""
    with pytest.raises(ClientException) as info:
        answer = call()
        print("unexpected success:", answer.body.to_map() if hasattr(answer, "body") else answer)
    err = info.value
    assert isinstance(err, TeaException)
    got = (err.status_code, err.code)
    data = err.data or {}
    assert got == (status, code), f"expected HTTP {status} {code}, got HTTP {got[0]} {got[1]}: {data!r}"
    if message is None:
        message = MSG.get(code)
    assert isinstance(err.request_id, str) and err.request_id and err.request_id != "None", f"no RequestId: {data!r}"
    assert data.get("RequestId") == err.request_id
    assert data.get("Code") == code
    assert "HostId" in data, data
    if message is not None:
        assert data.get("Message") == message
        assert err.message == f"code: {status}, {message} request id: {err.request_id}"
    else:
        assert data.get("Message"), data
    return err


class SignedStrings:
    """Records what the Tea SDK feeds to HMAC (the string to sign), by wrapping the `hmac` module
    that alibabacloud_tea_openapi.utils calls for both signature 1.0 (get_rpcsignature) and 3
    (get_authorization -> signature_method)."""

    def __init__(self):
        self.messages = []

    def new(self, key, msg=None, digestmod=None):
        self.messages.append(msg.decode("utf-8") if isinstance(msg, bytes) else msg)
        return hmac.new(key, msg, digestmod)

    def __getattr__(self, name):
        return getattr(hmac, name)


@pytest.fixture
def signed(monkeypatch):
    recorder = SignedStrings()
    monkeypatch.setattr(tea_utils, "hmac", recorder)
    return recorder


def server_string_to_sign(err):
    message = (err.data or {}).get("Message", "")
    marker = "server string to sign is:"
    assert marker in message, f"no {marker!r} in the error message: {message!r}"
    return message.split(marker, 1)[1]


# ---- the signing mode is really what each parametrization says ----------------------------------


def test_signing_mode(service, signing, tea, signed):
    check_ok(describe(tea))
    assert len(signed.messages) == 1, signed.messages
    string_to_sign = signed.messages[0]
    if signing == "v3":
        assert re.fullmatch(r"ACS3-HMAC-SHA256\n[0-9a-f]{64}", string_to_sign), string_to_sign
    elif signing == "sm3":
        assert re.fullmatch(r"ACS3-HMAC-SM3\n[0-9a-f]{64}", string_to_sign), string_to_sign
    else:
        assert string_to_sign.startswith("POST&%2F&"), string_to_sign
        assert "SignatureVersion%3D1.0" in string_to_sign and "Format%3Djson" in string_to_sign, string_to_sign


# ---- Create ------------------------------------------------------------------------------------


def test_create_with_username_and_password(tea):
    body = check_ok(create_user(tea, "alice01", mail="alice@example.com", bandwidth=20))
    assert isinstance(body, sag.CreateSmartAccessGatewayClientUserResponseBody)
    assert (body.user_name, body.user_mail, body.bandwidth) == ("alice01", "alice@example.com", 20)
    ip = ipaddress.ip_address(body.client_ip)
    assert ip in DEMO_CIDR and ip not in (DEMO_CIDR.network_address, DEMO_CIDR.broadcast_address,
                                          DEMO_CIDR.network_address + 1)

    resp = describe(tea, name="alice01")
    check_ok(resp)
    assert resp.body.total_count == 1
    [user] = users_of(resp)
    assert isinstance(user, sag.DescribeSmartAccessGatewayClientUsersResponseBodyUsersUser)
    assert (user.user_name, user.user_mail, user.bandwidth, user.client_ip, user.state) == (
        "alice01", "alice@example.com", 20, body.client_ip, 0)


def test_create_without_username_uses_mail(service, tea):
    body = check_ok(create(tea, mail="nouser@example.com", bandwidth=5))
    assert (body.user_name, body.user_mail, body.bandwidth) == ("nouser@example.com", "nouser@example.com", 5)
    assert ipaddress.ip_address(body.client_ip) in DEMO_CIDR
    [user] = users_of(describe(tea, name="nouser@example.com"))
    assert user.user_mail == "nouser@example.com"
    # The generated password went to the outbox, as for every new account.
    mails = [p for p in service.outbox.iterdir() if p.is_file() and not p.name.startswith(".")]
    assert len(mails) == 1 and "nouser@example.com" in mails[0].read_text()


def test_create_special_characters_and_owner_parameters(tea):
    # '+' in the mail and '@' in name and password: the SDK percent-encodes them (and a space as
    # '+' under v3), the server must decode and re-encode them exactly as the SDK signed them.
    body = check_ok(create_user(tea, "john.doe-x_1@corp", mail="john+sag@example.com", bandwidth=2000,
                                password="Pw_@-12345678", owner_id=1234567890123, resource_owner_id=42,
                                owner_account="owner@example.com", resource_owner_account="ro account*~"))
    assert (body.user_name, body.user_mail, body.bandwidth) == ("john.doe-x_1@corp", "john+sag@example.com", 2000)
    [user] = users_of(describe(tea, name="john.doe-x_1@corp"))
    assert user.user_mail == "john+sag@example.com"
    [user] = users_of(describe(tea, mail="john+sag@example.com"))
    assert user.user_name == "john.doe-x_1@corp"


@pytest.mark.parametrize("value", ["账户 ü", "a&b=c%d", "x+y/z?#", "", "tab\tnl\n", "*~'()!$,;:"],
                         ids=["utf8-space", "amp-eq-pct", "plus-slash-query-hash", "empty", "tab-newline", "punctuation"])
def test_awkward_characters_are_signed_alike(tea, value):
    # OwnerAccount is accepted and not interpreted: any value must pass the signature check, so the
    # server's decoding and re-encoding of the query matches the SDK's for every character class.
    body = check_ok(describe(tea, owner_account=value, resource_owner_account=value))
    assert body.total_count == 0


def test_create_static_client_ip(tea):
    body = check_ok(create_user(tea, "static01", client_ip="10.10.0.200"))
    assert body.client_ip == "10.10.0.200"
    [user] = users_of(describe(tea, name="static01"))
    assert (user.client_ip, user.is_static_ip) == ("10.10.0.200", 1)


CREATE_ERRORS = [
    ("bandwidth-2001", dict(name="bigbw001", password=PASSWORD, bandwidth=2001), "ClientUser.BandwidthInvalid", None),
    ("bandwidth-missing", dict(name="nobw0001", password=PASSWORD, bandwidth=None), "MissingParameter",
     missing_parameter("Bandwidth")),
    ("usermail-missing", dict(mail=None), "ClientUser.EmailEmpty", None),
    ("usermail-invalid", dict(mail="not-an-email"), "ClientUser.EmailInvalid", None),
    # A space and '*' reach the server's validation only if the signature (with '+' / '%2A') matched.
    ("username-space-and-star", dict(name="abc def*1", mail="abc@example.com", password=PASSWORD),
     "ClientUser.NameInvalid", None),
    ("username-without-password", dict(name="nopassword1"), "ClientUser.PasswordInvalid", None),
    ("password-without-username", dict(mail="pw@example.com", password=PASSWORD), "ClientUser.NameEmpty", None),
    ("smartagid-missing", dict(sag_id=None, name="nosag001", password=PASSWORD), "SAG.InstanceIdEmpty", None),
    ("unknown-instance", dict(sag_id="sag-doesnotexist", name="nosag002", password=PASSWORD),
     "SAG.InstanceNoFound", None),
    ("clientip-outside-cidr", dict(name="ipuser01", password=PASSWORD, client_ip="192.168.1.10"),
     "ClientUser.IpInvalid", None),
]


@pytest.mark.parametrize("kwargs,code,message", [c[1:] for c in CREATE_ERRORS], ids=[c[0] for c in CREATE_ERRORS])
def test_create_errors(tea, kwargs, code, message):
    expect_error(lambda: create(tea, **kwargs), code, message=message)
    assert describe(tea).body.total_count == 0


def test_create_duplicate_username(tea):
    check_ok(create_user(tea, "dupuser1"))
    err = expect_error(lambda: create_user(tea, "dupuser1", mail="other@example.com"), "ClientUser.UserExist")
    assert err.data["statusCode"] == 400  # the SDK adds the HTTP status to the answer's data
    # Without UserName the name is the mail: a second user with that mail is a duplicate too.
    check_ok(create(tea, mail="same@example.com"))
    expect_error(lambda: create(tea, mail="same@example.com"), "ClientUser.UserExist")
    assert describe(tea).body.total_count == 2


def test_create_over_quota_with_custom_config(service_factory, signing):
    svc = service_factory(config_text=CUSTOM_CONFIG)
    client = svc.tea_client(signing, ak="otherid", secret="othersecret")
    for i in range(2):
        body = check_ok(create_user(client, f"quota{i:03d}", sag_id="sag-one"))
        assert ipaddress.ip_address(body.client_ip) in ipaddress.ip_network("192.168.50.0/24")
    expect_error(lambda: create_user(client, "quota002", sag_id="sag-one"), "ClientUser.UserOverLimit")
    # The demo key is not configured there.
    expect_error(lambda: describe(svc.tea_client(signing), sag_id="sag-one"), "InvalidAccessKeyId.NotFound",
                 status=404)


# ---- Modify ------------------------------------------------------------------------------------


def test_modify_bandwidth_and_mail(tea):
    created = check_ok(create_user(tea, "modme001", mail="before@example.com", bandwidth=20))
    body = check_ok(modify(tea, "modme001", bandwidth=50, email="after@example.com"))
    assert isinstance(body, sag.ModifySmartAccessGatewayClientUserResponseBody)
    assert (body.user_name, body.user_mail, body.bandwidth, body.client_ip) == (
        "modme001", "after@example.com", 50, created.client_ip)
    [user] = users_of(describe(tea, name="modme001"))
    assert (user.user_mail, user.bandwidth) == ("after@example.com", 50)
    assert describe(tea, mail="before@example.com").body.total_count == 0

    body = check_ok(modify(tea, "modme001", bandwidth=7))
    assert (body.user_mail, body.bandwidth) == ("after@example.com", 7)


MODIFY_ERRORS = [
    ("unknown-user", dict(name="nobody123", bandwidth=10), "ClientUser.NotExist", None),
    ("bandwidth-0", dict(name="target01", bandwidth=0), "ClientUser.BandwidthInvalid", None),
    ("bandwidth-missing", dict(name="target01"), "MissingParameter", missing_parameter("Bandwidth")),
    ("username-missing", dict(name=None, bandwidth=10), "ClientUser.NameEmpty", None),
    ("email-invalid", dict(name="target01", bandwidth=10, email="nope"), "ClientUser.EmailInvalid", None),
    ("unknown-instance", dict(name="target01", bandwidth=10, sag_id="sag-doesnotexist"), "SAG.InstanceNoFound", None),
]


@pytest.mark.parametrize("kwargs,code,message", [c[1:] for c in MODIFY_ERRORS], ids=[c[0] for c in MODIFY_ERRORS])
def test_modify_errors(tea, kwargs, code, message):
    check_ok(create_user(tea, "target01", mail="target@example.com", bandwidth=20))
    expect_error(lambda: modify(tea, **kwargs), code, message=message)
    [user] = users_of(describe(tea, name="target01"))
    assert (user.bandwidth, user.user_mail) == (20, "target@example.com")


# ---- Describe ----------------------------------------------------------------------------------


def test_describe_every_page(service, signing, tea):
    names = [f"pageuser{i:02d}" for i in range(25)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        created = list(pool.map(lambda n: check_ok(create_user(tea, n)), names))
    assert len({c.client_ip for c in created}) == 25

    users, total, pages = describe_all(tea, size=10)
    assert total == 25 and pages == [10, 10, 5], (total, pages)
    seen = [u.user_name for u in users]
    assert len(seen) == len(set(seen)), f"duplicates across pages: {seen}"
    assert sorted(seen) == sorted(names)
    for user in users:
        assert user.user_mail and user.bandwidth == 20 and user.state == 0 and user.client_ip, user.to_map()

    users, total, pages = describe_all(tea, size=7)
    assert (total, pages) == (25, [7, 7, 7, 4]) and sorted(u.user_name for u in users) == sorted(names)

    beyond = describe(tea, page=4, size=10)
    assert check_ok(beyond).total_count == 25 and users_of(beyond) == []

    default = check_ok(describe(tea))
    assert (default.page_number, default.page_size, default.total_count) == (1, 10, 25)
    assert len(default.users.user) == 10


def test_describe_filters(tea):
    check_ok(create_user(tea, "filter01", mail="shared@example.com"))
    check_ok(create_user(tea, "filter02", mail="shared@example.com"))
    check_ok(create_user(tea, "filter03", mail="own@example.com"))
    check_ok(create_user(tea, "filter01", sag_id="sag-demo-hz", region="cn-hangzhou"))

    assert [u.user_name for u in users_of(describe(tea, name="filter02"))] == ["filter02"]
    assert sorted(u.user_name for u in users_of(describe(tea, mail="shared@example.com"))) == ["filter01", "filter02"]
    assert [u.user_name for u in users_of(describe(tea, name="filter03", mail="own@example.com"))] == ["filter03"]
    mismatch = describe(tea, name="filter03", mail="shared@example.com")
    assert mismatch.body.total_count == 0 and users_of(mismatch) == []
    assert describe(tea, name="filter").body.total_count == 0
    assert describe(tea).body.total_count == 3
    hz = describe(tea, sag_id="sag-demo-hz", region="cn-hangzhou")
    assert [u.user_name for u in users_of(hz)] == ["filter01"]


@pytest.mark.parametrize("kwargs,param", [
    (dict(size=101), "PageSize"),
    (dict(size=0), "PageSize"),
    (dict(page=0), "PageNumber"),
], ids=["pagesize-101", "pagesize-0", "pagenumber-0"])
def test_describe_invalid_paging(tea, kwargs, param):
    expect_error(lambda: describe(tea, **kwargs), "InvalidParameter", message=invalid_parameter(param))


def test_describe_instance_errors(tea):
    expect_error(lambda: describe(tea, sag_id=None), "SAG.InstanceIdEmpty")
    expect_error(lambda: describe(tea, sag_id="sag-doesnotexist"), "SAG.InstanceNoFound")


# ---- Authentication ----------------------------------------------------------------------------


@pytest.mark.parametrize("operation", ["describe", "create"])
def test_wrong_secret(service, signing, signed, operation):
    client = service.tea_client(signing, secret="wrongsecret")
    if operation == "create":
        call = lambda: create_user(client, "sneaky01", mail="sneaky@example.com")  # noqa: E731
    else:
        call = lambda: describe(client)  # noqa: E731
    with pytest.raises(ClientException) as info:
        call()
    err = info.value
    data = err.data or {}
    # As the real service answers: SignatureDoesNotMatch (or, under v3, IncompleteSignature), 400,
    # with the server's string to sign in the message.
    assert err.status_code == 400, (err.status_code, data)
    assert err.code in ("SignatureDoesNotMatch", "IncompleteSignature"), data
    assert err.request_id and data.get("RequestId") == err.request_id
    assert len(signed.messages) == 1, signed.messages
    # The server rebuilt exactly the string the SDK signed: only the secret differs.
    assert server_string_to_sign(err) == signed.messages[0], (server_string_to_sign(err), signed.messages[0])
    assert "server string to sign is:" in err.message  # what the SDK's user sees
    assert describe(service.tea_client(signing)).body.total_count == 0


# ---- STS credentials ---------------------------------------------------------------------------

# A temporary (STS) AccessKey, as the service is configured with one: its requests must carry its
# security token.
STS_KEY, STS_SECRET, STS_TOKEN = "STS.interop", "sts-secret", "CAIS+interop/token=="
STS_CONFIG = f"""
[[access_keys]]
id = "{STS_KEY}"
secret = "{STS_SECRET}"
security_token = "{STS_TOKEN}"

[[instances]]
region = "cn-shanghai"
id = "sag-demo"
cidr = "10.10.0.0/24"
"""


def test_sts_credentials(service_factory, signing):
    """Config(security_token=...): the SDK sends the token (`x-acs-security-token`, with
    `x-acs-accesskey-id`, both signed, under version 3; the `SecurityToken` parameter under 1.0)."""
    svc = service_factory(config_text=STS_CONFIG)
    sts = svc.tea_client(signing, ak=STS_KEY, secret=STS_SECRET, token=STS_TOKEN)
    check_ok(create_user(sts, "sts00001"))
    assert [u.user_name for u in users_of(describe(sts))] == ["sts00001"]

    field = "SecurityToken" if signing == "v2" else "x-acs-security-token"
    other = svc.tea_client(signing, ak=STS_KEY, secret=STS_SECRET, token="CAIS+another/token==")
    expect_error(lambda: describe(other), "InvalidSecurityToken.MismatchWithAccessKey",
                 message=f"The security token does not belong to the AccessKey ({field}).")
    without = svc.tea_client(signing, ak=STS_KEY, secret=STS_SECRET)
    expect_error(lambda: describe(without), "MissingSecurityToken",
                 message=f"The security token of the temporary AccessKey is not supplied ({field}).")
    assert [u.user_name for u in users_of(describe(sts))] == ["sts00001"], "the refused calls changed nothing"


def test_unknown_access_key_id(service, signing):
    client = service.tea_client(signing, ak="nosuchkey", secret="testsecret")
    expect_error(lambda: describe(client), "InvalidAccessKeyId.NotFound", status=404)
    expect_error(lambda: create_user(client, "ghost001"), "InvalidAccessKeyId.NotFound", status=404)
