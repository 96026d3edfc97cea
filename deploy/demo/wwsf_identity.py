"""The demo WWSF's keys, kept in its state directory and made on first run
(reused afterwards, like the daemons' certificates):

  <state>/tls/cert.pem, key.pem   self-signed ECDSA P-256 certificate for
                                  HTTPS (SAN DNS:localhost, IP:127.0.0.1 and
                                  the host of the WWSF's origin)
  <state>/signing/es256.pem       the ES256 token signing key (mode 0600;
                                  never logged, never served)
  <state>/jwks.json               its public half as a JWK Set (RFC 7517),
                                  the file the eP-CSCF's `wwsf ... jwks=`
                                  reads; also served at /jwks.json

The key id is the RFC 7638 thumbprint of the public JWK, so that two WWSFs
never share a kid."""
import base64
import datetime
import hashlib
import ipaddress
import json
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _write_private(path, data):
    """Writes a secret file readable by its owner only."""
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _write_public(path, data):
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _load_key(path):
    with open(path, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("%s: not an EC P-256 private key" % path)
    return key


def _new_key(path):
    key = ec.generate_private_key(ec.SECP256R1())
    _write_private(path, key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return key


def public_jwk(key):
    """The public JWK of an EC P-256 key, with its RFC 7638 thumbprint as kid."""
    nums = key.public_key().public_numbers()
    x, y = _b64url(nums.x.to_bytes(32, "big")), _b64url(nums.y.to_bytes(32, "big"))
    # RFC 7638 3.2: the required members in lexicographic order, no spaces.
    canon = '{"crv":"P-256","kty":"EC","x":"%s","y":"%s"}' % (x, y)
    kid = _b64url(hashlib.sha256(canon.encode()).digest())
    return {"kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": kid, "use": "sig", "alg": "ES256"}


def _cert_usable(cert_path, key_path):
    """The stored certificate parses, matches its key and stays valid for a week."""
    try:
        with open(cert_path, "rb") as f:
            cert = x509.load_pem_x509_certificate(f.read())
        key = _load_key(key_path)
    except (OSError, ValueError):
        return False
    if cert.public_key().public_numbers() != key.public_key().public_numbers():
        return False
    horizon = datetime.datetime.utcnow() + datetime.timedelta(days=7)
    return cert.not_valid_after > horizon


def _new_cert(cert_path, key_path, host):
    key = _new_key(key_path)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "demo WWSF")])
    sans = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    try:
        ip = ipaddress.ip_address(host)
        if str(ip) != "127.0.0.1":
            sans.append(x509.IPAddress(ip))
    except ValueError:
        if host != "localhost":
            sans.append(x509.DNSName(host))
    now = datetime.datetime.utcnow()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    _write_public(cert_path, cert.public_bytes(serialization.Encoding.PEM))


class Identity:
    """Paths and keys of one WWSF; load() makes whatever is missing."""

    def __init__(self, state_dir, host):
        self.state_dir = os.path.abspath(state_dir)
        self.host = host
        self.cert_path = os.path.join(self.state_dir, "tls", "cert.pem")
        self.tls_key_path = os.path.join(self.state_dir, "tls", "key.pem")
        self.signing_path = os.path.join(self.state_dir, "signing", "es256.pem")
        self.jwks_path = os.path.join(self.state_dir, "jwks.json")
        self.signing_key = None  # the ES256 private key (owned; never logged)
        self.jwk = None          # its public JWK
        self.made = []           # what this start generated, for the log

    def load(self):
        os.makedirs(self.state_dir, mode=0o700, exist_ok=True)
        if not _cert_usable(self.cert_path, self.tls_key_path):
            _new_cert(self.cert_path, self.tls_key_path, self.host)
            self.made.append("tls certificate")
        if os.path.exists(self.signing_path):
            self.signing_key = _load_key(self.signing_path)
        else:
            self.signing_key = _new_key(self.signing_path)
            self.made.append("signing key")
        self.jwk = public_jwk(self.signing_key)
        doc = (json.dumps(self.jwks(), indent=2) + "\n").encode()
        try:
            with open(self.jwks_path, "rb") as f:
                same = f.read() == doc
        except OSError:
            same = False
        if not same:
            _write_public(self.jwks_path, doc)
            self.made.append("jwks")
        return self

    def jwks(self):
        return {"keys": [self.jwk]}

    @property
    def kid(self):
        return self.jwk["kid"]
