"""Interop tests: Alibaba Cloud's official Python SDK drives a running smartag-service.

Every request goes through aliyunsdkcore's AcsClient and the request classes of
aliyun-python-sdk-smartag (2018-03-13), so the signing, parameter names and encodings are exactly
what real callers send. Expected codes, HTTP statuses and messages come from spec/smartag.yaml.
"""

import ipaddress
import json
import os
import re
import signal
import stat
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import pytest
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.request import CommonRequest
from aliyunsdksmartag.request.v20180313.CreateSmartAccessGatewayClientUserRequest import (
    CreateSmartAccessGatewayClientUserRequest,
)
from aliyunsdksmartag.request.v20180313.DescribeSmartAccessGatewayClientUsersRequest import (
    DescribeSmartAccessGatewayClientUsersRequest,
)
from aliyunsdksmartag.request.v20180313.ModifySmartAccessGatewayClientUserRequest import (
    ModifySmartAccessGatewayClientUserRequest,
)

DEMO_CIDR = ipaddress.ip_network("10.10.0.0/24")
DEMO_HZ_CIDR = ipaddress.ip_network("10.20.0.0/24")
PASSWORD = "Passw0rd-Interop_1"

# Messages as spec/smartag.yaml fixes them.
MSG = {
    "ClientUser.BandwidthInvalid": "The specified Bandwidth is invalid.",
    "ClientUser.EmailEmpty": "You must specify UserEmail.",
    "ClientUser.EmailInvalid": "The format of the specified UserEmail is invalid.",
    "ClientUser.InvalidClientIp": "The specified ClientIp is invalid.",
    "ClientUser.IpEmpty": "You must specify ClientIp.",
    "ClientUser.IpInvalid": "The specified ClientIp is invalid.",
    "ClientUser.NameEmpty": "You must specify UserName.",
    "ClientUser.NameInvalid": "The specified UserName is invalid.",
    "ClientUser.UserExist": "The specified user already exists.",
    "ClientUser.UserOverLimit": "The maximum number of users is exceeded.",
    "ClientUser.PasswordInvalid": "The specified password format is invalid.",
    "ClientUser.NotExist": "The specified user does not exist.",
    "SAG.CidrEmpty": "You must specify the CIDR blocks of SAG.",
    "SAG.InstanceIdEmpty": "You must specify the SAG instance ID.",
    "SAG.InstanceNoFound": "The specified SAG instance does not exist.",
    "InvalidAccessKeyId.NotFound": "Specified access key is not found.",
    "InvalidAction.NotFound": "Specified api is not found, please check your url and method.",
}


def invalid_parameter(param):
    return f'The specified parameter "{param}" is not valid.'


def missing_parameter(param):
    return f'The input parameter "{param}" that is mandatory for processing this request is not supplied.'


# ---- request builders (only the given parameters are set: the SDK would send None as "None") ----

_UNSET = object()


def create_request(sag="sag-demo", mail=_UNSET, bandwidth=20, name=None, password=None, client_ip=None, **extra):
    req = CreateSmartAccessGatewayClientUserRequest()
    if sag is not None:
        req.set_SmartAGId(sag)
    if mail is _UNSET:
        mail = f"{name or 'user'}@example.com"
    if mail is not None:
        req.set_UserMail(mail)
    if bandwidth is not None:
        req.set_Bandwidth(bandwidth)
    if name is not None:
        req.set_UserName(name)
    if password is not None:
        req.set_Password(password)
    if client_ip is not None:
        req.set_ClientIp(client_ip)
    for key, value in extra.items():
        getattr(req, f"set_{key}")(value)
    return req


def modify_request(sag="sag-demo", name=None, bandwidth=None, email=None):
    req = ModifySmartAccessGatewayClientUserRequest()
    if sag is not None:
        req.set_SmartAGId(sag)
    if name is not None:
        req.set_UserName(name)
    if bandwidth is not None:
        req.set_Bandwidth(bandwidth)
    if email is not None:
        req.set_Email(email)
    return req


def describe_request(sag="sag-demo", name=None, mail=None, page=None, size=None):
    req = DescribeSmartAccessGatewayClientUsersRequest()
    if sag is not None:
        req.set_SmartAGId(sag)
    if name is not None:
        req.set_UserName(name)
    if mail is not None:
        req.set_UserMail(mail)
    if page is not None:
        req.set_PageNumber(page)
    if size is not None:
        req.set_PageSize(size)
    return req


def create_user(svc, name, region="cn-shanghai", sag="sag-demo", **kw):
    kw.setdefault("password", PASSWORD)
    return svc.call(create_request(sag=sag, name=name, **kw), region=region)


def users_of(resp):
    """The list of users of a Describe answer ("Users": {"User": [...]}; empty may be {} or [])."""
    users = resp.get("Users")
    if users in (None, {}, [], ""):
        return []
    assert isinstance(users, dict) and isinstance(users.get("User"), list), f"Users is not wrapped: {resp!r}"
    return users["User"]


def describe_one(svc, name, sag="sag-demo", region="cn-shanghai"):
    resp = svc.call(describe_request(sag=sag, name=name), region=region)
    users = users_of(resp)
    assert resp["TotalCount"] == 1 and len(users) == 1, f"expected exactly {name!r}: {resp!r}"
    assert users[0]["UserName"] == name
    return users[0]


def expect_error(svc, req, code, status=400, message=None, client=None, region="cn-shanghai"):
    with pytest.raises(ServerException) as info:
        answer = svc.call(req, client=client, region=region)
        print("unexpected success:", answer)
    err = info.value
    got = (err.get_http_status(), err.get_error_code())
    assert got == (status, code), f"expected HTTP {status} {code}, got HTTP {got[0]} {got[1]}: {err.get_error_msg()!r}"
    if message is None:
        message = MSG.get(code)
    if message is not None:
        assert err.get_error_msg() == message
    assert err.get_request_id(), f"no RequestId in the error answer: {err}"
    return err


def assert_request_id(resp):
    assert isinstance(resp.get("RequestId"), str) and resp["RequestId"], f"no RequestId: {resp!r}"


def outbox_files(svc):
    if not svc.outbox.exists():
        return []
    return sorted(p for p in svc.outbox.iterdir() if p.is_file() and not p.name.startswith("."))


def mail_password(text):
    match = re.search(r"^\s*Password:\s*(\S+)\s*$", text, re.MULTILINE)
    assert match, f"no 'Password:' line in the e-mail:\n{text}"
    return match.group(1)


# ---- Create ------------------------------------------------------------------------------------


def test_create_with_username_and_password(service):
    resp = create_user(service, "alice01", mail="alice@example.com", bandwidth=20)
    assert_request_id(resp)
    assert resp["UserName"] == "alice01"
    assert resp["UserMail"] == "alice@example.com"
    assert resp["Bandwidth"] == 20 and isinstance(resp["Bandwidth"], int)
    ip = ipaddress.ip_address(resp["ClientIp"])
    assert ip in DEMO_CIDR
    assert ip not in (DEMO_CIDR.network_address, DEMO_CIDR.broadcast_address, DEMO_CIDR.network_address + 1)

    user = describe_one(service, "alice01")
    assert user["UserMail"] == "alice@example.com"
    assert user["Bandwidth"] == 20
    assert user["ClientIp"] == resp["ClientIp"]
    assert user["State"] == 0
    assert user.get("IsStaticIp", 0) == 0


def test_create_with_password_mails_the_account(service):
    # spec: "The username and password are sent to the user's e-mail address." (Create's
    # description and UserMail's), whether the password was given or generated.
    create_user(service, "alice02", mail="alice2@example.com")
    files = outbox_files(service)
    assert len(files) == 1, f"expected one account e-mail in {service.outbox}, found {[p.name for p in files]}"
    assert stat.S_IMODE(os.stat(files[0]).st_mode) == 0o600
    text = files[0].read_text()
    assert re.search(r"^To:.*alice2@example\.com", text, re.MULTILINE), text
    assert "alice02" in text
    assert mail_password(text) == PASSWORD
    service.stop()
    assert PASSWORD not in service.logs(), "the password appears in the service's stdout/stderr"


def test_create_accepts_owner_parameters_and_special_characters(service):
    # `.`/`@`/`-`/`_` in the username and `+` in the mail exercise the SDK's percent-encoding
    # against the server's signature check; the owner parameters are sent by real callers.
    resp = create_user(service, "john.doe-x_1@corp", mail="john+sag@example.com", bandwidth=2000,
                       password="Pw_@-12345678", OwnerId=1234567890123, ResourceOwnerId=42,
                       OwnerAccount="owner@example.com", ResourceOwnerAccount="ro-account")
    assert resp["UserName"] == "john.doe-x_1@corp"
    assert resp["UserMail"] == "john+sag@example.com"
    assert resp["Bandwidth"] == 2000
    user = describe_one(service, "john.doe-x_1@corp")
    assert user["UserMail"] == "john+sag@example.com"


def test_create_without_username_uses_mail_and_mails_generated_password(service_factory):
    # Verbose logging, to catch a password leaking into any log line.
    svc = service_factory(env={"RUST_LOG": "trace"})
    resp = svc.call(create_request(mail="nouser@example.com", bandwidth=5))
    assert_request_id(resp)
    assert resp["UserName"] == "nouser@example.com"
    assert resp["UserMail"] == "nouser@example.com"
    assert resp["Bandwidth"] == 5
    assert ipaddress.ip_address(resp["ClientIp"]) in DEMO_CIDR
    assert describe_one(svc, "nouser@example.com")["UserMail"] == "nouser@example.com"

    assert svc.outbox.is_dir(), f"no outbox folder next to the database ({svc.outbox})"
    assert stat.S_IMODE(os.stat(svc.outbox).st_mode) & 0o077 == 0, "outbox folder is accessible by group/others"
    files = outbox_files(svc)
    assert len(files) == 1, f"expected one e-mail in {svc.outbox}, found {[p.name for p in files]}"
    mode = stat.S_IMODE(os.stat(files[0]).st_mode)
    assert mode == 0o600, f"e-mail file mode is {mode:04o}, expected 0600"
    text = files[0].read_text()
    assert re.search(r"^To:.*nouser@example\.com", text, re.MULTILINE), text
    password = mail_password(text)
    # A generated password satisfies the spec's own Password rule.
    assert 8 <= len(password) <= 32 and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_@\-]*", password), password
    assert "nouser@example.com" in text  # the username is in the mail too

    svc.stop()  # flush everything it had to say
    logs = svc.logs()
    assert password not in logs, "the generated password appears in the service's stdout/stderr"


def test_create_two_users_without_password_get_different_passwords(service):
    service.call(create_request(mail="gen1@example.com"))
    service.call(create_request(mail="gen2@example.com"))
    passwords = [mail_password(p.read_text()) for p in outbox_files(service)]
    assert len(passwords) == 2 and passwords[0] != passwords[1]


def test_create_duplicate_username(service):
    create_user(service, "dupuser1")
    expect_error(service, create_request(name="dupuser1", password=PASSWORD, mail="other@example.com"),
                 "ClientUser.UserExist")
    # Without UserName the name is the mail: a second user with the same mail is a duplicate too.
    service.call(create_request(mail="same@example.com"))
    expect_error(service, create_request(mail="same@example.com"), "ClientUser.UserExist")
    assert service.call(describe_request())["TotalCount"] == 2


def test_same_username_in_another_instance_is_allowed(service_factory):
    svc = service_factory(config_text=CUSTOM_CONFIG)
    client = svc.client(ak="otherid", secret="othersecret")
    svc.call(create_request(sag="sag-one", name="shared1", password=PASSWORD), client=client)
    svc.call(create_request(sag="sag-two", name="shared1", password=PASSWORD), client=client)


# ---- Create: validation ------------------------------------------------------------------------

CREATE_VALIDATION = [
    ("bandwidth-2001", dict(bandwidth=2001), "ClientUser.BandwidthInvalid", None),
    ("bandwidth-0", dict(bandwidth=0), "ClientUser.BandwidthInvalid", None),
    ("bandwidth-negative", dict(bandwidth=-5), "ClientUser.BandwidthInvalid", None),
    ("bandwidth-not-a-number", dict(bandwidth="fast"), "ClientUser.BandwidthInvalid", None),
    ("bandwidth-missing", dict(bandwidth=None), "MissingParameter", missing_parameter("Bandwidth")),
    ("usermail-missing", dict(mail=None), "ClientUser.EmailEmpty", None),
    ("usermail-empty", dict(mail=""), "ClientUser.EmailEmpty", None),
    ("usermail-invalid", dict(mail="not-an-email"), "ClientUser.EmailInvalid", None),
    ("usermail-no-tld", dict(mail="user@localhost"), "ClientUser.EmailInvalid", None),
    ("username-too-short", dict(name="ab", password=PASSWORD), "ClientUser.NameInvalid", None),
    ("username-too-long", dict(name="a" * 34, password=PASSWORD), "ClientUser.NameInvalid", None),
    ("username-bad-first-char", dict(name="_abcdefg", password=PASSWORD), "ClientUser.NameInvalid", None),
    ("username-bad-char", dict(name="abc def1", password=PASSWORD), "ClientUser.NameInvalid", None),
    ("username-without-password", dict(name="nopassword1"), "ClientUser.PasswordInvalid", None),
    ("password-without-username", dict(password=PASSWORD), "ClientUser.NameEmpty", None),
    ("password-too-short", dict(name="shortpw1", password="Ab1"), "ClientUser.PasswordInvalid", None),
    ("password-bad-char", dict(name="badpwchar", password="Passw0rd.dot"), "ClientUser.PasswordInvalid", None),
    ("smartagid-missing", dict(sag=None), "SAG.InstanceIdEmpty", None),
    ("smartagid-empty", dict(sag=""), "SAG.InstanceIdEmpty", None),
    ("clientip-empty", dict(client_ip=""), "ClientUser.IpEmpty", None),
]


@pytest.mark.parametrize("kwargs,code,message", [c[1:] for c in CREATE_VALIDATION],
                         ids=[c[0] for c in CREATE_VALIDATION])
def test_create_validation(service, kwargs, code, message):
    kwargs = dict(kwargs)
    kwargs.setdefault("mail", "valid@example.com")
    expect_error(service, create_request(**kwargs), code, message=message)
    # Nothing was created, and nothing was mailed.
    assert service.call(describe_request())["TotalCount"] == 0
    assert outbox_files(service) == []


def test_create_unknown_instance(service):
    expect_error(service, create_request(sag="sag-doesnotexist"), "SAG.InstanceNoFound")
    # sag-demo-hz exists, but in cn-hangzhou, not in the client's region cn-shanghai.
    expect_error(service, create_request(sag="sag-demo-hz"), "SAG.InstanceNoFound")
    # ...and sag-demo is not in cn-hangzhou.
    expect_error(service, create_request(sag="sag-demo"), "SAG.InstanceNoFound", region="cn-hangzhou")


def test_create_instance_without_cidr(service):
    expect_error(service, create_request(sag="sag-nocidr", name="nocidr01", password=PASSWORD), "SAG.CidrEmpty")


def test_create_user_over_limit(service):
    ips = set()
    for i in range(5):
        resp = create_user(service, f"hzuser{i:02d}", region="cn-hangzhou", sag="sag-demo-hz")
        ip = ipaddress.ip_address(resp["ClientIp"])
        assert ip in DEMO_HZ_CIDR
        ips.add(ip)
    assert len(ips) == 5, "client addresses are not unique"
    expect_error(service, create_request(sag="sag-demo-hz", name="hzuser05", password=PASSWORD),
                 "ClientUser.UserOverLimit", region="cn-hangzhou")
    assert service.call(describe_request(sag="sag-demo-hz"), region="cn-hangzhou")["TotalCount"] == 5
    # Other instances have their own quota.
    create_user(service, "shuser01")


# ---- Create: static client IPs -----------------------------------------------------------------


def test_static_client_ip_inside_cidr(service):
    resp = create_user(service, "static01", client_ip="10.10.0.200")
    assert resp["ClientIp"] == "10.10.0.200"
    user = describe_one(service, "static01")
    assert user["ClientIp"] == "10.10.0.200"
    assert user["IsStaticIp"] == 1
    # Allocated addresses never take the static one.
    for i in range(3):
        auto = create_user(service, f"dynamic{i}")
        assert auto["ClientIp"] != "10.10.0.200"
        assert describe_one(service, f"dynamic{i}").get("IsStaticIp", 0) == 0


def test_static_client_ip_outside_cidr(service):
    expect_error(service, create_request(name="static02", password=PASSWORD, client_ip="10.10.1.5"),
                 "ClientUser.IpInvalid")
    expect_error(service, create_request(name="static02", password=PASSWORD, client_ip="192.168.1.10"),
                 "ClientUser.IpInvalid")


@pytest.mark.parametrize("ip", ["10.10.0.0", "10.10.0.255", "10.10.0.1"], ids=["network", "broadcast", "gateway"])
def test_static_client_ip_reserved(service, ip):
    expect_error(service, create_request(name="static03", password=PASSWORD, client_ip=ip), "ClientUser.IpInvalid")


@pytest.mark.parametrize("ip", ["8.8.8.8", "10.10.0.300", "not-an-ip", "172.32.0.1"])
def test_static_client_ip_not_private(service, ip):
    expect_error(service, create_request(name="static04", password=PASSWORD, client_ip=ip),
                 "ClientUser.InvalidClientIp")


def test_static_client_ip_taken(service):
    create_user(service, "static05", client_ip="10.10.0.77")
    expect_error(service, create_request(name="static06", password=PASSWORD, client_ip="10.10.0.77"),
                 "ClientUser.IpInvalid")
    # An allocated (non-static) address is taken as well.
    auto = create_user(service, "static07")
    expect_error(service, create_request(name="static08", password=PASSWORD, client_ip=auto["ClientIp"]),
                 "ClientUser.IpInvalid")


# ---- Modify ------------------------------------------------------------------------------------


def test_modify_email_and_bandwidth(service):
    created = create_user(service, "modme001", mail="before@example.com", bandwidth=20)
    resp = service.call(modify_request(name="modme001", bandwidth=1500, email="after@example.com"))
    assert_request_id(resp)
    assert resp["UserName"] == "modme001"
    assert resp["UserMail"] == "after@example.com"
    assert resp["Bandwidth"] == 1500
    if "ClientIp" in resp:
        assert resp["ClientIp"] == created["ClientIp"]

    user = describe_one(service, "modme001")
    assert user["UserMail"] == "after@example.com"
    assert user["Bandwidth"] == 1500
    assert user["ClientIp"] == created["ClientIp"]
    # The new mail is searchable, the old one is gone.
    assert service.call(describe_request(mail="after@example.com"))["TotalCount"] == 1
    assert service.call(describe_request(mail="before@example.com"))["TotalCount"] == 0


def test_modify_bandwidth_only_keeps_mail(service):
    create_user(service, "modme002", mail="keep@example.com", bandwidth=20)
    resp = service.call(modify_request(name="modme002", bandwidth=7))
    assert resp["UserMail"] == "keep@example.com" and resp["Bandwidth"] == 7
    user = describe_one(service, "modme002")
    assert user["UserMail"] == "keep@example.com" and user["Bandwidth"] == 7


def test_modify_unknown_user(service):
    create_user(service, "existing1")
    expect_error(service, modify_request(name="nobody123", bandwidth=10), "ClientUser.NotExist")


MODIFY_VALIDATION = [
    ("bandwidth-2001", dict(bandwidth=2001), "ClientUser.BandwidthInvalid", None),
    ("bandwidth-0", dict(bandwidth=0), "ClientUser.BandwidthInvalid", None),
    ("bandwidth-missing", dict(bandwidth=None), "MissingParameter", missing_parameter("Bandwidth")),
    ("username-missing", dict(name=None), "ClientUser.NameEmpty", None),
    ("username-invalid", dict(name="ab"), "ClientUser.NameInvalid", None),
    ("email-invalid", dict(email="nope"), "ClientUser.EmailInvalid", None),
    ("smartagid-missing", dict(sag=None), "SAG.InstanceIdEmpty", None),
    ("unknown-instance", dict(sag="sag-doesnotexist"), "SAG.InstanceNoFound", None),
]


@pytest.mark.parametrize("kwargs,code,message", [c[1:] for c in MODIFY_VALIDATION],
                         ids=[c[0] for c in MODIFY_VALIDATION])
def test_modify_validation(service, kwargs, code, message):
    create_user(service, "target01", mail="target@example.com", bandwidth=20)
    args = dict(name="target01", bandwidth=30)
    args.update(kwargs)
    expect_error(service, modify_request(**args), code, message=message)
    user = describe_one(service, "target01")
    assert user["Bandwidth"] == 20 and user["UserMail"] == "target@example.com"


# ---- Describe ----------------------------------------------------------------------------------


def create_many(svc, names, **kw):
    svc.client(kw.get("region", "cn-shanghai"))  # one shared client, created before the threads
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda name: create_user(svc, name, **kw), names))


def test_describe_paging(service):
    names = [f"pageuser{i:02d}" for i in range(25)]
    created = create_many(service, names)
    assert len({c["ClientIp"] for c in created}) == 25, "client addresses are not unique"

    seen = []
    for page, expected in ((1, 10), (2, 10), (3, 5)):
        resp = service.call(describe_request(page=page, size=10))
        assert_request_id(resp)
        assert resp["TotalCount"] == 25
        assert resp["PageNumber"] == page
        assert resp["PageSize"] == 10
        users = users_of(resp)
        assert len(users) == expected, f"page {page}: {len(users)} users"
        for user in users:
            assert set(user) >= {"UserName", "UserMail", "Bandwidth", "State"}, user
        seen += [u["UserName"] for u in users]
    assert len(seen) == len(set(seen)), f"duplicates across pages: {seen}"
    assert sorted(seen) == sorted(names)

    beyond = service.call(describe_request(page=4, size=10))
    assert beyond["TotalCount"] == 25 and users_of(beyond) == []

    # Defaults: PageNumber 1, PageSize 10.
    default = service.call(describe_request())
    assert default["PageNumber"] == 1 and default["PageSize"] == 10
    assert default["TotalCount"] == 25 and len(users_of(default)) == 10

    everything = service.call(describe_request(size=100))
    assert sorted(u["UserName"] for u in users_of(everything)) == sorted(names)


def test_describe_filters(service):
    create_user(service, "filter01", mail="shared@example.com")
    create_user(service, "filter02", mail="shared@example.com")
    create_user(service, "filter03", mail="own@example.com")

    by_name = service.call(describe_request(name="filter02"))
    assert by_name["TotalCount"] == 1
    assert [u["UserName"] for u in users_of(by_name)] == ["filter02"]

    by_mail = service.call(describe_request(mail="shared@example.com"))
    assert by_mail["TotalCount"] == 2
    assert sorted(u["UserName"] for u in users_of(by_mail)) == ["filter01", "filter02"]

    both = service.call(describe_request(name="filter03", mail="own@example.com"))
    assert [u["UserName"] for u in users_of(both)] == ["filter03"]
    mismatch = service.call(describe_request(name="filter03", mail="shared@example.com"))
    assert mismatch["TotalCount"] == 0 and users_of(mismatch) == []

    # Exact matches only.
    assert service.call(describe_request(name="filter"))["TotalCount"] == 0
    assert service.call(describe_request(name="nobody999"))["TotalCount"] == 0

    # Users of other instances are not listed.
    create_user(service, "filter01", region="cn-hangzhou", sag="sag-demo-hz")
    assert service.call(describe_request())["TotalCount"] == 3


@pytest.mark.parametrize("kwargs,param", [
    (dict(size=101), "PageSize"),
    (dict(size=0), "PageSize"),
    (dict(page=0), "PageNumber"),
    (dict(size="ten"), "PageSize"),
], ids=["pagesize-101", "pagesize-0", "pagenumber-0", "pagesize-not-a-number"])
def test_describe_invalid_paging(service, kwargs, param):
    expect_error(service, describe_request(**kwargs), "InvalidParameter", message=invalid_parameter(param))


def test_describe_page_size_100_is_allowed(service):
    resp = service.call(describe_request(size=100))
    assert resp["PageSize"] == 100 and resp["TotalCount"] == 0


def test_describe_instance_errors(service):
    expect_error(service, describe_request(sag=None), "SAG.InstanceIdEmpty")
    expect_error(service, describe_request(sag="sag-doesnotexist"), "SAG.InstanceNoFound")


# ---- Authentication and protocol ---------------------------------------------------------------


def test_wrong_secret(service):
    client = service.client(secret="wrongsecret")
    err = expect_error(service, describe_request(), "InvalidAccessKeySecret", status=400,
                       message="The AccessKeySecret is incorrect. Please check your AccessKeyId and AccessKeySecret.",
                       client=client)
    # aliyunsdkcore turns SignatureDoesNotMatch into InvalidAccessKeySecret only when the
    # "server string to sign is:" part of the message equals its own string to sign: so the
    # server answered SignatureDoesNotMatch with the exact string the SDK signed.
    assert err.get_request_id()


def test_wrong_secret_on_create_creates_nothing(service):
    client = service.client(secret="wrongsecret")
    expect_error(service, create_request(name="sneaky01", password=PASSWORD), "InvalidAccessKeySecret", client=client,
                 message="The AccessKeySecret is incorrect. Please check your AccessKeyId and AccessKeySecret.")
    assert service.call(describe_request())["TotalCount"] == 0


def test_unknown_access_key_id(service):
    client = service.client(ak="nosuchkey", secret="testsecret")
    expect_error(service, describe_request(), "InvalidAccessKeyId.NotFound", status=404, client=client)


def test_unknown_action(service):
    req = CommonRequest(domain=service.endpoint, version="2018-03-13", action_name="DeleteEverything",
                        product="Smartag")
    req.set_protocol_type("http")
    req.set_method("POST")
    req.add_query_param("SmartAGId", "sag-demo")
    with pytest.raises(ServerException) as info:
        service.client().do_action_with_exception(req)
    err = info.value
    assert (err.get_http_status(), err.get_error_code()) == (404, "InvalidAction.NotFound"), str(err)
    assert err.get_error_msg() == MSG["InvalidAction.NotFound"]
    assert err.get_request_id()


def test_xml_describe(service):
    create_user(service, "xmluser1", mail="xml@example.com", bandwidth=33)
    create_user(service, "xmluser2", mail="xml2@example.com", bandwidth=44, client_ip="10.10.0.99")
    status, headers, body = service.call_raw(describe_request(), "xml")
    assert status == 200, body
    content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
    assert "xml" in content_type, f"Content-Type {content_type!r}"
    root = ET.fromstring(body)
    assert root.tag == "DescribeSmartAccessGatewayClientUsersResponse"
    assert root.findtext("RequestId")
    assert root.findtext("TotalCount") == "2"
    assert root.findtext("PageNumber") == "1"
    assert root.findtext("PageSize") == "10"
    users = root.findall("Users/User")
    assert len(users) == 2
    by_name = {u.findtext("UserName"): u for u in users}
    assert set(by_name) == {"xmluser1", "xmluser2"}
    assert by_name["xmluser1"].findtext("UserMail") == "xml@example.com"
    assert by_name["xmluser1"].findtext("Bandwidth") == "33"
    assert ipaddress.ip_address(by_name["xmluser1"].findtext("ClientIp")) in DEMO_CIDR
    assert by_name["xmluser2"].findtext("ClientIp") == "10.10.0.99"
    assert by_name["xmluser2"].findtext("IsStaticIp") == "1"


def test_xml_create_and_error(service):
    status, _, body = service.call_raw(create_request(name="xmluser3", password=PASSWORD, mail="x3@example.com"), "xml")
    assert status == 200, body
    root = ET.fromstring(body)
    assert root.tag == "CreateSmartAccessGatewayClientUserResponse"
    assert root.findtext("RequestId")
    assert root.findtext("UserName") == "xmluser3"
    assert root.findtext("UserMail") == "x3@example.com"

    status, _, body = service.call_raw(describe_request(sag="sag-doesnotexist"), "xml")
    assert status == 400, body
    root = ET.fromstring(body)
    assert root.tag == "Error"
    assert root.findtext("Code") == "SAG.InstanceNoFound"
    assert root.findtext("Message") == MSG["SAG.InstanceNoFound"]
    assert root.findtext("RequestId")


def test_json_error_envelope(service):
    status, _, body = service.call_raw(create_request(bandwidth=2001, mail="bw@example.com"), "json")
    assert status == 400
    envelope = json.loads(body)
    assert envelope["Code"] == "ClientUser.BandwidthInvalid"
    assert envelope["Message"] == MSG["ClientUser.BandwidthInvalid"]
    assert envelope["RequestId"]
    assert "HostId" in envelope


# ---- Persistence and configuration -------------------------------------------------------------


def test_restart_keeps_users(service):
    first = create_user(service, "persist1", mail="p1@example.com", bandwidth=11)
    second = create_user(service, "persist2", mail="p2@example.com", bandwidth=22, client_ip="10.10.0.150")
    service.call(modify_request(name="persist1", bandwidth=12, email="p1new@example.com"))
    old_port = service.port

    service.restart()
    assert service.port  # (possibly a different port; same --data)
    resp = service.call(describe_request())
    assert resp["TotalCount"] == 2, f"after restart (old port {old_port}): {resp!r}"
    users = {u["UserName"]: u for u in users_of(resp)}
    assert users["persist1"]["UserMail"] == "p1new@example.com"
    assert users["persist1"]["Bandwidth"] == 12
    assert users["persist1"]["ClientIp"] == first["ClientIp"]
    assert users["persist2"]["ClientIp"] == second["ClientIp"] == "10.10.0.150"
    assert users["persist2"]["IsStaticIp"] == 1

    expect_error(service, create_request(name="persist1", password=PASSWORD), "ClientUser.UserExist")
    expect_error(service, create_request(name="persist3", password=PASSWORD, client_ip="10.10.0.150"),
                 "ClientUser.IpInvalid")
    third = create_user(service, "persist3")
    assert third["ClientIp"] not in (first["ClientIp"], second["ClientIp"])


CUSTOM_CONFIG = """
[[access_keys]]
id = "otherid"
secret = "othersecret"

[[instances]]
region = "cn-shanghai"
id = "sag-one"
cidr = "192.168.50.0/24"
max_users = 2

[[instances]]
region = "cn-shanghai"
id = "sag-two"
cidr = "172.16.8.0/30"
max_users = 100
"""


def test_sts_token_credential(service_factory):
    """StsTokenCredential: the legacy SDK sends the token as the SecurityToken parameter (signed
    with the rest); a temporary key's request without it, or with another token, is refused."""
    from test_tea_sdk import STS_CONFIG, STS_KEY, STS_SECRET, STS_TOKEN

    svc = service_factory(config_text=STS_CONFIG)
    sts = svc.client(ak=STS_KEY, secret=STS_SECRET, token=STS_TOKEN)
    resp = svc.call(create_request(name="sts00002", password=PASSWORD), client=sts)
    assert resp["UserName"] == "sts00002"
    assert [u["UserName"] for u in svc.call(describe_request(), client=sts)["Users"]["User"]] == ["sts00002"]
    other = svc.client(ak=STS_KEY, secret=STS_SECRET, token="CAIS+another/token==")
    expect_error(svc, describe_request(), "InvalidSecurityToken.MismatchWithAccessKey", client=other,
                 message="The security token does not belong to the AccessKey (SecurityToken).")
    without = svc.client(ak=STS_KEY, secret=STS_SECRET)
    expect_error(svc, describe_request(), "MissingSecurityToken", client=without,
                 message="The security token of the temporary AccessKey is not supplied (SecurityToken).")


def test_custom_config_quota_and_keys(service_factory):
    svc = service_factory(config_text=CUSTOM_CONFIG)
    client = svc.client(ak="otherid", secret="othersecret")

    # The demo key is not configured.
    expect_error(svc, describe_request(sag="sag-one"), "InvalidAccessKeyId.NotFound", status=404)
    # Neither are the demo instances.
    expect_error(svc, create_request(sag="sag-demo", name="demo0001", password=PASSWORD), "SAG.InstanceNoFound",
                 client=client)

    for i in range(2):
        resp = svc.call(create_request(sag="sag-one", name=f"quota{i:03d}", password=PASSWORD), client=client)
        assert ipaddress.ip_address(resp["ClientIp"]) in ipaddress.ip_network("192.168.50.0/24")
    expect_error(svc, create_request(sag="sag-one", name="quota002", password=PASSWORD), "ClientUser.UserOverLimit",
                 client=client)


def test_custom_config_cidr_exhausted(service_factory):
    # 172.16.8.0/30: network .0, gateway .1, one client .2, broadcast .3.
    svc = service_factory(config_text=CUSTOM_CONFIG)
    client = svc.client(ak="otherid", secret="othersecret")
    resp = svc.call(create_request(sag="sag-two", name="tiny0001", password=PASSWORD), client=client)
    assert resp["ClientIp"] == "172.16.8.2"
    expect_error(svc, create_request(sag="sag-two", name="tiny0002", password=PASSWORD), "ClientUser.UserOverLimit",
                 client=client)


def test_kill_9_loses_no_acknowledged_create(service):
    """Creates run from several threads; the service is killed with SIGKILL mid-stream; after a
    restart every Create that was answered 200 is there, and the database opens."""
    import threading

    acknowledged, stop = [], threading.Event()
    lock = threading.Lock()

    def worker(w):
        i = 0
        while not stop.is_set():
            name = f"k9w{w}u{i:04d}"
            i += 1
            try:
                service.call(create_request(name=name, password=PASSWORD))
            except Exception:  # the kill cuts requests off; only answered ones count
                continue
            with lock:
                acknowledged.append(name)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with lock:
            if len(acknowledged) >= 20:
                break
        time.sleep(0.01)
    service.proc.send_signal(signal.SIGKILL)
    service.proc.wait()
    service.proc = None
    stop.set()
    for t in threads:
        t.join()
    with lock:
        answered = list(acknowledged)
    assert len(answered) >= 20, f"only {len(answered)} creates answered before the kill"

    service.start()
    stored, page = set(), 1
    while True:
        resp = service.call(describe_request(page=page, size=100))
        batch = users_of(resp)
        stored |= {u["UserName"] for u in batch}
        if not batch or len(stored) >= resp["TotalCount"]:
            break
        page += 1
    missing = [n for n in answered if n not in stored]
    assert not missing, f"acknowledged but lost after kill -9: {missing}"
