"""Interop tests: Alibaba Cloud's official Node.js Tea OpenAPI clients drive a running smartag-service.

tests/interop/node/driver.js does the work (create, modify, every page of describe, filters, API
errors, a wrong secret, an unknown AccessKeyId, and the shape of every request on the wire); this
file starts a fresh service for each combination and runs the driver against it:

- core: `@alicloud/openapi-core` (what the current generated `@alicloud/*` product clients extend)
  and `@alicloud/openapi-client` (the previous generation);
- signing: the SDK's default, signature version 3 (ACS3-HMAC-SHA256); `signatureAlgorithm:
  'ACS3-HMAC-SM3'` (version 3 with SM3, Node's own `crypto` SM3); and `signatureAlgorithm: 'v2'`
  (signature 1.0);
- parameters: in the query string (what the generated Smartag client does) or as
  `OpenApiRequest.body`, which these clients send as an application/x-www-form-urlencoded body
  with Transfer-Encoding: chunked.

A second set runs the driver's `sts-https` scenario (both cores, the three signings): STS
credentials (`Config.securityToken`) over HTTPS (`Config.ca`), against a service serving TLS with a
temporary key — the token accepted, another or none refused, an untrusted certificate refused.

The versions are pinned in tests/interop/node/package.json + package-lock.json; scripts/test runs
`npm ci`. If tests/interop/node/node_modules is missing, the first test runs `npm ci` itself. The
tests skip only when `node` or `npm` is not installed.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

NODE_DIR = Path(__file__).resolve().parent / "node"
COMBINATIONS = [(core, signing, params)
                for core in ("openapi-core", "openapi-client")
                for signing in ("v3", "sm3", "v2")
                for params in ("query", "body")]


@pytest.fixture(scope="session")
def node_driver():
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("Node.js tests need `node` and `npm` on PATH (not found): install Node.js >= 18 with npm; "
                    "scripts/test then installs the pinned SDK with `npm ci --prefix tests/interop/node`")
    if not (NODE_DIR / "node_modules" / "@alicloud" / "openapi-core").is_dir():
        result = subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=NODE_DIR,
                                capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            pytest.fail(f"`npm ci` in {NODE_DIR} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}",
                        pytrace=False)
    return node


@pytest.mark.parametrize("core,signing,params", COMBINATIONS,
                         ids=[f"{core}-sig-{signing}-{params}" for core, signing, params in COMBINATIONS])
def test_node_tea_sdk(service, node_driver, core, signing, params):
    run_driver(node_driver, SMARTAG_ENDPOINT=service.endpoint, SMARTAG_CORE=core, SMARTAG_SIGNING=signing,
               SMARTAG_PARAMS=params)


STS_HTTPS = [(core, signing) for core in ("openapi-core", "openapi-client") for signing in ("v3", "sm3", "v2")]


@pytest.mark.parametrize("core,signing", STS_HTTPS, ids=[f"{core}-sig-{signing}" for core, signing in STS_HTTPS])
def test_node_tea_sdk_sts_over_https(service_factory, tmp_path, node_driver, core, signing):
    """The driver's sts-https scenario: Config.securityToken and Config.ca, against the service
    serving HTTPS with a temporary key (the configuration and the CA of the Python tests)."""
    from test_https import make_certificates
    from test_tea_sdk import STS_CONFIG, STS_KEY, STS_SECRET, STS_TOKEN

    ca, cert, key = make_certificates(tmp_path)
    svc = service_factory(config_text=STS_CONFIG, env={"SMARTAG_TLS_CERT": str(cert), "SMARTAG_TLS_KEY": str(key)})
    run_driver(node_driver, SMARTAG_ENDPOINT=svc.endpoint, SMARTAG_CORE=core, SMARTAG_SIGNING=signing,
               SMARTAG_SCENARIO="sts-https", SMARTAG_ACCESS_KEY_ID=STS_KEY, SMARTAG_ACCESS_KEY_SECRET=STS_SECRET,
               SMARTAG_SECURITY_TOKEN=STS_TOKEN, SMARTAG_CA=str(ca))


def run_driver(node, **settings):
    """Runs driver.js with `settings` in its environment (no proxy variables); every check must pass."""
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
    env.update(settings)
    result = subprocess.run([node, "driver.js"], cwd=NODE_DIR, env=env, capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    print(output)
    assert result.returncode == 0, f"driver.js ({settings}) exited {result.returncode}:\n{output}"
    assert output.rstrip().splitlines()[-1].endswith(" 0 failed"), output
