"""Interop over HTTPS: the official SDKs with protocol 'https' against the service serving TLS
(rustls) with a certificate from a test CA made here.

- The Python Tea SDK: `Config(protocol='https', ca=<the CA's PEM>)`, under every signing of the
  `signing` fixture (ACS3-HMAC-SHA256, ACS3-HMAC-SM3, signature 1.0); its TLS is Python's `ssl`
  (OpenSSL) through the SDK's HTTP stack.
- The legacy core SDK: `AcsClient(..., verify=<the CA's PEM>)` and `set_protocol_type('https')`
  (`Service.client(verify=...)`, `Service.call(..., protocol="https")`).
- Without the CA the SDK refuses the certificate before any request is sent: the TLS is real, not
  a plain-text port that happens to answer.

The service gets its certificate and key as a user passes them (`SMARTAG_TLS_CERT`,
`SMARTAG_TLS_KEY`; README, "HTTPS").
"""

import datetime
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from test_official_sdk import PASSWORD, create_request, describe_request
from test_tea_sdk import check_ok, create_user, describe, users_of


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_certificates(folder):
    """A CA and a server certificate for 127.0.0.1 signed by it (P-256, valid for a day); returns
    the paths of the CA's certificate, the server's certificate and the server's key (PKCS#8)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    validity = (now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=1))

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder()
          .subject_name(_name("smartag interop test CA")).issuer_name(_name("smartag interop test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(validity[0]).not_valid_after(validity[1])
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))

    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(_name("127.0.0.1")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(validity[0]).not_valid_after(validity[1])
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))

    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


@pytest.fixture
def https_service(service_factory, tmp_path):
    """The demo service serving HTTPS; returns (service, path of the CA's PEM)."""
    ca, cert, key = make_certificates(tmp_path)
    svc = service_factory(env={"SMARTAG_TLS_CERT": str(cert), "SMARTAG_TLS_KEY": str(key)})
    return svc, ca


def test_tea_sdk_over_https(https_service, signing):
    svc, ca = https_service
    tea = svc.tea_client(signing, https=True, ca=ca)
    check_ok(create_user(tea, "tls00001"))
    assert [u.user_name for u in users_of(describe(tea))] == ["tls00001"]


def test_tea_sdk_refuses_an_untrusted_certificate(https_service):
    svc, _ca = https_service
    tea = svc.tea_client("v3", https=True)
    with pytest.raises(Exception) as info:
        describe(tea)
    assert "CERTIFICATE_VERIFY_FAILED" in str(info.value) or "certificate verify failed" in str(info.value), info.value


def test_legacy_sdk_over_https(https_service):
    svc, ca = https_service
    client = svc.client(verify=ca)
    created = svc.call(create_request(name="tls00002", password=PASSWORD), client=client, protocol="https")
    assert created["UserName"] == "tls00002"
    described = svc.call(describe_request(), client=client, protocol="https")
    assert [u["UserName"] for u in described["Users"]["User"]] == ["tls00002"]
