"""Tokens of the demo WWSF: short-lived JWTs signed with ES256 (RFC 7519,
RFC 7518 3.4) carrying exactly what the eP-CSCF checks
(ep-cscf/jwt_verify.c): header alg ES256, kid, typ JWT; claims iss (the
WWSF's issuer), aud (the eP-CSCF's auth.audience), iat, nbf, exp, a fresh
jti, impu, impi, 3gpp-wwsf (the WWSF's name in the eP-CSCF's `wwsf` line)
and 3gpp-waf (the WAF identity, TS 24.229 7.13)."""
import secrets
import time

import jwt


class Issuer:
    def __init__(self, identity, issuer, audience, wwsf, waf, ttl):
        self.identity = identity  # borrowed: holds the signing key
        self.issuer = issuer
        self.audience = audience
        self.wwsf = wwsf
        self.waf = waf
        self.ttl = ttl

    def issue(self, ident, now=None):
        """A signed token for ident ({"impu", "impi", "user"}) and its claims."""
        now = int(now if now is not None else time.time())
        claims = {"iss": self.issuer, "aud": self.audience, "sub": ident["user"],
                  "iat": now, "nbf": now, "exp": now + self.ttl,
                  "jti": secrets.token_urlsafe(16), "impu": ident["impu"], "impi": ident["impi"],
                  "3gpp-wwsf": self.wwsf, "3gpp-waf": self.waf}
        tok = jwt.encode(claims, self.identity.signing_key, algorithm="ES256",
                         headers={"kid": self.identity.kid, "typ": "JWT"})
        return tok, claims
