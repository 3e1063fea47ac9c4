"""Fixtures of the interop suite: a real smartag-service process, driven by Alibaba Cloud's
official Python SDKs: the legacy one (aliyun-python-sdk-core + aliyun-python-sdk-smartag, signature
1.0) and the current Tea one (alibabacloud-smartag20180313 on alibabacloud-tea-openapi, signature
version 3 by default, 1.0 with signature_algorithm='v2').

The binary is taken from $SMARTAG_SERVICE_BIN (scripts/test sets it), else from
target/debug/smartag-service. Each test gets its own process, its own free port and its own
temporary --data database, so tests are independent of each other and of their order.

With SMARTAG_INTEROP_STORE=postgres the same suite runs on the PostgreSQL store: each service gets
a database of its own (created with psql on the server of $SMARTAG_TEST_POSTGRES_URL, binaries in
$SMARTAG_POSTGRES_BIN; scripts/test runs the suite under `with-postgres`, which sets both) and is
started with --database-url; --data then only locates its outbox.
"""

import json
import os
import signal
import socket
import subprocess
import time
import warnings
from pathlib import Path

import pytest

# The SDK builds its own proxy map from these variables and does not honour NO_PROXY: a proxy in
# the environment would swallow requests to 127.0.0.1.
for _name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_name, None)

from aliyunsdkcore.client import AcsClient  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
ACCESS_KEY_ID = "testid"
ACCESS_KEY_SECRET = "testsecret"
START_TIMEOUT = 20.0


def service_binary():
    path = os.environ.get("SMARTAG_SERVICE_BIN") or str(REPO / "target" / "debug" / "smartag-service")
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        pytest.fail(
            f"smartag-service binary not found or not executable at {path!r} "
            "(build it with `cargo build -p smartag-service`, or set SMARTAG_SERVICE_BIN)",
            pytrace=False,
        )
    return path


STORE = os.environ.get("SMARTAG_INTEROP_STORE", "sqlite")
_DATABASES = iter(range(1_000_000))


def fresh_database_url():
    """A new, empty PostgreSQL database for one service (SMARTAG_INTEROP_STORE=postgres)."""
    server = os.environ.get("SMARTAG_TEST_POSTGRES_URL")
    bindir = os.environ.get("SMARTAG_POSTGRES_BIN")
    if not server or not bindir:
        pytest.fail("SMARTAG_INTEROP_STORE=postgres needs SMARTAG_TEST_POSTGRES_URL and SMARTAG_POSTGRES_BIN "
                    "(run the suite under target/debug/with-postgres, as scripts/test does)", pytrace=False)
    name = f"interop_{os.getpid()}_{next(_DATABASES)}"
    subprocess.run([str(Path(bindir) / "psql"), server, "-v", "ON_ERROR_STOP=1", "-q", "-c",
                    f"CREATE DATABASE {name}"], check=True, stdin=subprocess.DEVNULL)
    return server.rsplit("/", 1)[0] + "/" + name


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class Service:
    """One smartag-service process (restartable on the same database)."""

    def __init__(self, workdir, data, config=None, env=None):
        self.workdir = Path(workdir)
        self.data = Path(data)
        self.config = Path(config) if config else None
        self.env = env or {}
        self.port = None
        self.proc = None
        self.runs = 0
        self._clients = {}

    # ---- process -------------------------------------------------------------------------------

    @property
    def outbox(self):
        """The mail folder: `outbox/` next to the database file."""
        return self.data.parent / "outbox"

    def start(self):
        assert self.proc is None, "service already running"
        binary = service_binary()
        last_error = None
        for _attempt in range(3):  # a freshly picked free port can be taken by someone else
            self.runs += 1
            port = free_port()
            self.stdout_path = self.workdir / f"stdout.{self.runs}.log"
            self.stderr_path = self.workdir / f"stderr.{self.runs}.log"
            args = [binary, "--listen", f"127.0.0.1:{port}", "--data", str(self.data)]
            if self.config:
                args += ["--config", str(self.config)]
            env = dict(os.environ)
            env.update(self.env)
            with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
                proc = subprocess.Popen(args, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                        cwd=str(self.workdir), env=env)
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    break
                if _port_open(port):
                    self.proc, self.port = proc, port
                    self._clients.clear()
                    return self
                time.sleep(0.05)
            if proc.poll() is None:
                proc.kill()
                proc.wait()
                pytest.fail(
                    f"smartag-service did not accept connections on 127.0.0.1:{port} within "
                    f"{START_TIMEOUT:.0f} s.\nargs: {args}\nstderr:\n{self.stderr_path.read_text(errors='replace')}",
                    pytrace=False,
                )
            stderr = self.stderr_path.read_text(errors="replace")
            last_error = (
                f"smartag-service exited with status {proc.returncode} before accepting connections.\n"
                f"args: {args}\nstdout:\n{self.stdout_path.read_text(errors='replace')}\nstderr:\n{stderr}"
            )
            if "in use" not in stderr.lower():
                break
        pytest.fail(last_error, pytrace=False)

    def stop(self):
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def restart(self):
        self.stop()
        return self.start()

    def logs(self):
        """Everything the service wrote to stdout and stderr, over all its runs."""
        text = []
        for run in range(1, self.runs + 1):
            for name in (f"stdout.{run}.log", f"stderr.{run}.log"):
                path = self.workdir / name
                if path.exists():
                    text.append(path.read_text(errors="replace"))
        return "\n".join(text)

    # ---- SDK -----------------------------------------------------------------------------------

    @property
    def endpoint(self):
        return f"127.0.0.1:{self.port}"

    def client(self, region="cn-shanghai", ak=ACCESS_KEY_ID, secret=ACCESS_KEY_SECRET, token=None, verify=None):
        """A legacy core SDK client; with `token`, on STS credentials (`StsTokenCredential`, which
        sends the token as the `SecurityToken` parameter); with `verify`, trusting the CA certificate
        at that path for HTTPS (`call(..., protocol="https")`)."""
        key = (region, ak, secret, token, verify)
        if key not in self._clients:
            # No automatic retries: every test sees exactly one request per call.
            options = dict(auto_retry=False, max_retry_time=0, timeout=30, connect_timeout=5,
                           verify=None if verify is None else str(verify))
            if token is None:
                self._clients[key] = AcsClient(ak, secret, region, **options)
            else:
                from aliyunsdkcore.auth.credentials import StsTokenCredential

                credential = StsTokenCredential(ak, secret, token)
                self._clients[key] = AcsClient(region_id=region, credential=credential, **options)
        return self._clients[key]

    def tea_client(self, signing="v3", region="cn-shanghai", ak=ACCESS_KEY_ID, secret=ACCESS_KEY_SECRET, token=None,
                   https=False, ca=None):
        """A Tea SDK client (alibabacloud_smartag20180313.client.Client) for this service, configured
        as a user would: AccessKey id/secret, endpoint '127.0.0.1:<port>', protocol 'http', region.

        signing "v3": the SDK's default (ACS3-HMAC-SHA256); "sm3": signature_algorithm='ACS3-HMAC-SM3'
        (version 3 with SM3 hashes and HMAC-SM3); "v2": signature_algorithm='v2', which the
        Tea SDKs use to mean signature version 1.0 (HMAC-SHA1). With `token`, STS credentials
        (`Config(security_token=...)`: `x-acs-security-token` under version 3, `SecurityToken` under
        1.0). With `https`, protocol 'https', trusting the CA certificate at `ca` (None: the system's
        roots). The Tea SDK retries nothing unless given retry options, so every call is exactly one
        request."""
        from alibabacloud_smartag20180313.client import Client as SmartagClient
        from alibabacloud_tea_openapi.utils_models import Config

        assert signing in TEA_SIGNINGS, signing
        key = ("tea", signing, region, ak, secret, token, https, ca)
        if key not in self._clients:
            config = Config(access_key_id=ak, access_key_secret=secret, security_token=token, endpoint=self.endpoint,
                            protocol="https" if https else "http", ca=None if ca is None else str(ca),
                            region_id=region, connect_timeout=5000, read_timeout=30000)
            if signing == "v2":
                config.signature_algorithm = "v2"
            elif signing == "sm3":
                config.signature_algorithm = "ACS3-HMAC-SM3"
            self._clients[key] = SmartagClient(config)
        return self._clients[key]

    def prepare(self, req, fmt="json", protocol="http"):
        req.set_endpoint(self.endpoint)
        req.set_protocol_type(protocol)
        req.set_accept_format(fmt)
        return req

    def call(self, req, client=None, region="cn-shanghai", protocol="http"):
        """Sends `req` with do_action_with_exception and returns the decoded JSON answer.

        Errors raise aliyunsdkcore.acs_exception.exceptions.ServerException."""
        client = client or self.client(region)
        body = client.do_action_with_exception(self.prepare(req, protocol=protocol))
        return json.loads(body)

    def call_raw(self, req, fmt, client=None, region="cn-shanghai"):
        """Sends `req` asking for `fmt` (do_action_with_exception always asks for JSON) and returns
        (HTTP status, headers, body bytes) whatever the status."""
        client = client or self.client(region)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            status, headers, body = client.get_response(self.prepare(req, fmt))
        return status, headers, body


@pytest.fixture
def service_factory(tmp_path):
    """Starts services: service_factory(config_text=None, env=None) -> running Service.

    With config_text, the service gets --config with that TOML; otherwise the built-in demo config."""
    services = []

    def make(config_text=None, env=None):
        n = len(services)
        workdir = tmp_path / f"svc{n}"
        workdir.mkdir()
        config = None
        if config_text is not None:
            config = workdir / "smartag.toml"
            config.write_text(config_text)
        env = dict(env or {})
        if STORE == "postgres":
            env.setdefault("DATABASE_URL", fresh_database_url())
        svc = Service(workdir, workdir / "data" / "smartag.db", config=config, env=env)
        (workdir / "data").mkdir()
        services.append(svc)
        return svc.start()

    yield make
    for svc in services:
        svc.stop()


@pytest.fixture
def service(service_factory):
    """A service with the built-in demo configuration and an empty database."""
    return service_factory()


# The ways a current Tea SDK signs: its default, signature version 3 (ACS3-HMAC-SHA256);
# signature_algorithm='v2' (signature version 1.0, HMAC-SHA1); and signature_algorithm='ACS3-HMAC-SM3'
# (version 3 with SM3 in place of SHA-256).
TEA_SIGNINGS = ("v3", "v2", "sm3")


@pytest.fixture(params=TEA_SIGNINGS, ids=["sig-v3", "sig-v1(v2)", "sig-v3-sm3"])
def signing(request):
    """How the Tea SDK client signs: "v3" (its default), "v2" (signature 1.0) or "sm3"
    (ACS3-HMAC-SM3)."""
    return request.param


@pytest.fixture
def tea(service, signing):
    """A Tea SDK client (alibabacloud-smartag20180313) on the demo service, signing per `signing`.

    Other keys, regions or services: `service.tea_client(signing, region=..., ak=..., secret=...)`."""
    return service.tea_client(signing)
