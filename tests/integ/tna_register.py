#!/usr/bin/python3
"""Web authentication end to end: a scripted WIC registers with a WWSF's
token (Authorization: Bearer) and the eP-CSCF registers it toward the IMS
core stand-in with Trusted Node Authentication; Kamailio trusts TNA only
from the eP-CSCF's address (a TNA-looking REGISTER from SIPp elsewhere is
challenged); bad tokens get their exact SIP responses; a guest IMPU from a
WWSF range registers at the eP-CSCF, which registers the range toward IMS
as its wildcarded identity (refreshed, then de-registered once no guest
is left), and receives a MESSAGE from SIPp; a registration
whose token expires is de-registered and its flow ended.  Tokens are made
with python3-jwt (an implementation independent of the eP-CSCF's).
Prints TAP lines.  usage: tna_register.py BINDIR"""
import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ROOT, Lab, Tap, free_port, metrics, wait_log  # noqa: E402
from wic_client import Wic, header  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
ORIGIN_A, ORIGIN_B = "https://a.test", "https://b.test"
AUD = "sip:ep-cscf.ims.test"
tap = Tap()
result = tap.result
lab = Lab("tna_register.")
TMP = lab.tmp
KAM_PORT = WSS = IMS_PORT = None
KEYS = {}
RANGE_EXP = 4  # lifetime Kamailio grants the range's registration


def b64(n):
    return jwt.utils.base64url_encode(n.to_bytes(32, "big")).decode()


def jwk(key, kid):
    pub = key.public_key().public_numbers()
    return {"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "x": b64(pub.x), "y": b64(pub.y)}


def make_jwks(name, kid, keep_old=False):
    """A new signing key for WWSF `name`; its JWKS file publishes it (and
    the previous key too when keep_old: a rollover)."""
    key = ec.generate_private_key(ec.SECP256R1())
    keys = [jwk(key, kid)]
    if keep_old and name in KEYS:
        keys.append(jwk(*KEYS[name]))
    KEYS[name] = (key, kid)
    path = os.path.join(TMP, "%s.jwks" % name)
    with open(path, "w") as f:
        json.dump({"keys": keys}, f)
    return path


def token(wwsf="wwsf-a", impu="sip:alice@ims.test", impi="alice@ims.test", ttl=300,
          alg="ES256", jti=None, **over):
    key, kid = KEYS[wwsf]
    now = int(time.time())
    claims = {"iss": "https://%s.test" % wwsf, "aud": AUD, "iat": now, "nbf": now,
              "exp": now + ttl, "jti": jti or os.urandom(8).hex(), "impu": impu, "impi": impi,
              "3gpp-wwsf": wwsf, "3gpp-waf": "waf-%s" % wwsf[-1]}
    claims.update(over)
    if alg == "none":
        return jwt.encode(claims, None, algorithm="none", headers={"kid": kid})
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


class TokenWic(Wic):
    async def register_bearer(self, tok, expires=600, scheme="Bearer %s"):
        auth = ("Authorization: " + scheme % tok) if tok is not None else None
        await self.ws.send(self._register(expires, auth))
        return await self.recv()


async def wic(origin, user):
    w = TokenWic(WSS, origin, user, "")
    await w.connect()
    return w


def kam_log():
    return lab.log("kamailio.log")


def sipp(scenario, user, expected=None):
    scen = os.path.join(TMP, os.path.basename(scenario))
    with open(os.path.join(ROOT, scenario)) as f:
        text = f.read()
    if expected:
        text = text.replace("EXPECTED", str(expected))
    with open(scen, "w") as f:
        f.write(text)
    r = subprocess.run(["sipp", "127.0.0.1:%d" % KAM_PORT, "-sf", scen, "-s", user, "-m", "1",
                        "-i", "127.0.0.1", "-p", str(free_port(socket.SOCK_DGRAM)), "-timeout", "10s",
                        "-timeout_error", "-nostdin", "-trace_err", "-error_file",
                        os.path.join(TMP, "sipp_err.log")],
                       stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, cwd=TMP, timeout=30)
    return r.returncode


async def expect_refusal(name, origin, user, tok, status, www=None, scheme="Bearer %s"):
    w = await wic(origin, user)
    rsp = await w.register_bearer(tok, scheme=scheme)
    got_www = header(rsp, "www-authenticate") if rsp else None
    ok = rsp is not None and rsp["status"] == status and (www is None or got_www == www)
    result(ok, "%s: %d%s" % (name, status, " " + www if www else ""),
           "got %s / %s" % (rsp and rsp["start"], got_www))
    await w.close()


async def receive_message(w, user):
    loop = asyncio.get_running_loop()
    sp = loop.run_in_executor(None, lab.sipp_message, KAM_PORT, 200, user)
    req = await w.recv(10)
    got = req is not None and req.get("method") == "MESSAGE"
    if got:
        await w.answer(req)
    rc = await sp
    return got, rc


async def scenario(metrics_port):
    # 1. A valid token: TNA REGISTER, 200 without any challenge.
    w = await wic(ORIGIN_A, "alice")
    tok = token()
    rsp = await w.register_bearer(tok)
    result(rsp is not None and rsp["status"] == 200,
           "REGISTER with a valid Bearer token: 200 OK at once (no challenge to the WIC)",
           str(rsp and rsp["start"]))
    wait_log(os.path.join(TMP, "kamailio.log"), "TNA REGISTER for sip:alice@ims.test", 5)
    k = kam_log()
    result("TNA REGISTER for sip:alice@ims.test (IMPI alice@ims.test) from trusted" in k and
           "challenge REGISTER for sip:alice" not in k,
           "Kamailio registered the TNA REGISTER from the eP-CSCF without a digest challenge",
           k[-600:])
    ep = lab.log("ep-cscf.log")
    result(tok not in ep and "Bearer" not in k, "the token reaches neither IMS nor the logs")
    got, rc = await receive_message(w, "alice")
    result(got and rc == 0, "terminating MESSAGE from SIPp reaches the token-registered WIC",
           "got %s sipp %s" % (got, rc))
    # Refresh, re-checked: the same token on the same flow is fine.
    rsp = await w.register_bearer(tok)
    result(rsp is not None and rsp["status"] == 200, "refresh with the token re-checked: 200",
           str(rsp and rsp["start"]))
    # The same token on another flow is a replay.
    await expect_refusal("the same token on another flow (jti replay)", ORIGIN_A, "alice", tok, 401,
                         'Bearer realm="wwsf-a", error="invalid_token", '
                         'error_description="token replayed"')

    # 2. TNA claimed directly toward the IMS core: challenged.
    rc = await asyncio.get_running_loop().run_in_executor(
        None, sipp, "tests/sipp/tna_register_uac.xml", "bob")
    result(rc == 0, "a TNA-looking REGISTER sent by SIPp straight to Kamailio is challenged (401)",
           "sipp exit %s" % rc)

    # 3. Bad tokens over WSS: exact responses.
    inv = 'Bearer realm="wwsf-a", error="invalid_token", error_description="%s"'
    await expect_refusal("no token", ORIGIN_A, "bob", None, 401, 'Bearer realm="wwsf-a"')
    await expect_refusal("expired token", ORIGIN_A, "bob", token(impu="sip:bob@ims.test", ttl=-60),
                         401, inv % "token expired")
    await expect_refusal("not yet valid", ORIGIN_A, "bob",
                         token(impu="sip:bob@ims.test", nbf=int(time.time()) + 120), 401,
                         inv % "token not yet valid")
    forged = token(impu="sip:bob@ims.test")
    forged = forged[:-6] + ("AAAAAA" if not forged.endswith("AAAAAA") else "BBBBBB")
    await expect_refusal("forged signature", ORIGIN_A, "bob", forged, 401,
                         inv % "signature check failed")
    await expect_refusal("alg none", ORIGIN_A, "bob", token(impu="sip:bob@ims.test", alg="none"),
                         401, inv % "token is not three base64url parts")
    await expect_refusal("wrong audience", ORIGIN_A, "bob",
                         token(impu="sip:bob@ims.test", aud="sip:other.test"), 401,
                         inv % "audience is not this eP-CSCF")
    await expect_refusal("token for another IMPU", ORIGIN_A, "bob", token(), 403)
    await expect_refusal("token of WWSF B from an origin of WWSF A", ORIGIN_A, "bob",
                         token(wwsf="wwsf-b", impu="sip:bob@ims.test"), 403)
    await expect_refusal("IMPU the WWSF may not grant", ORIGIN_A, "carol",
                         token(impu="sip:carol@ims.test"), 403)
    await expect_refusal("access_token= form (TS 24.371 A.3.2), expired", ORIGIN_A, "bob",
                         token(impu="sip:bob@ims.test", ttl=-60), 401, inv % "token expired",
                         scheme='Bearer access_token="%s"')
    ep = lab.log("ep-cscf.log")
    for reason in ("token is for another impu", "origin is not one of wwsf wwsf-b",
                   "impu not allowed for wwsf wwsf-a"):
        result(("reason=\"%s\"" % reason) in ep, "log names the 403 reason: %s" % reason)

    # 4. A guest IMPU from WWSF A's range.
    g = await wic(ORIGIN_A, "guest-7")
    rsp = await g.register_bearer(token(impu="sip:guest-7@ims.test", impi="guest-7@ims.test"))
    result(rsp is not None and rsp["status"] == 200, "guest IMPU from the WWSF range: 200",
           str(rsp and rsp["start"]))
    got, rc = await receive_message(g, "guest-7")
    result(got and rc == 0, "terminating MESSAGE to the guest IMPU reaches its flow",
           "got %s sipp %s" % (got, rc))
    # The range, not the guest, is registered toward IMS: its wildcarded
    # identity (TS 23.003 13.4A), refreshed while a guest is registered and
    # de-registered at its refresh once none is (Kamailio grants RANGE_EXP s).
    k = kam_log()
    result("TNA REGISTER for sip:guest-!.*!@ims.test (IMPI guest-!.*!@ims.test) from trusted "
           "127.0.0.1:%d, expires 600" % IMS_PORT in k and "TNA REGISTER for sip:guest-7@" not in k,
           "IMS saw the range registered as its wildcarded identity, not the guest's IMPU", k[-800:])
    epl = os.path.join(TMP, "ep-cscf.log")
    result(wait_log(epl, 'msg="range registration sent" wwsf=wwsf-a impu=sip:guest-!.*!@ims.test '
                    'cseq=2 expires=600', RANGE_EXP + 3) and
           wait_log(epl, 'msg="range registered" wwsf=wwsf-a impu=sip:guest-!.*!@ims.test '
                    'expires=%d status=200' % RANGE_EXP, 3),
           "the range registration is refreshed while its guest is registered")
    await g.close()
    result(wait_log(epl, 'msg="range de-registration sent" wwsf=wwsf-a', RANGE_EXP + 3) and
           wait_log(os.path.join(TMP, "kamailio.log"),
                    "TNA REGISTER for sip:guest-!.*!@ims.test (IMPI guest-!.*!@ims.test) from "
                    "trusted 127.0.0.1:%d, expires 0" % IMS_PORT, 3) and
           wait_log(epl, 'msg="range deregistered" impu=sip:guest-!.*!@ims.test status=200', 3),
           "with its guest gone the range is de-registered at its refresh (Expires 0)")
    rc = await asyncio.get_running_loop().run_in_executor(None, lab.sipp_message, KAM_PORT, 404,
                                                           "guest-7")
    result(rc == 0, "afterwards IMS no longer routes the range's IMPUs (MESSAGE gets 404)",
           "sipp %s" % rc)

    # 5. Expiry without renewal: de-registered toward IMS, flow ended.
    e = await wic(ORIGIN_A, "bob")
    rsp = await e.register_bearer(token(impu="sip:bob@ims.test", impi="bob@ims.test", ttl=3))
    result(rsp is not None and rsp["status"] == 200, "short-lived token: registered",
           str(rsp and rsp["start"]))
    try:
        await asyncio.wait_for(e.ws.wait_closed(), 10)
    except asyncio.TimeoutError:
        pass
    # The server sends close 1008; the client library has reported 1006
    # here at times (the TCP close overtaking the close frame).
    result(e.ws.closed, "token expiry ends the flow (WebSocket closed by the eP-CSCF)",
           "code %s" % e.ws.close_code)
    print("# close code seen by the client: %s" % e.ws.close_code)
    ep = lab.log("ep-cscf.log")
    result("registration ended by token expiry" in ep and
           wait_log(os.path.join(TMP, "kamailio.log"),
                    "TNA REGISTER for sip:bob@ims.test (IMPI bob@ims.test) from trusted "
                    "127.0.0.1:%d, expires 0" % IMS_PORT, 3) and
           wait_log(os.path.join(TMP, "ep-cscf.log"),
                    "closed flow dropped\" status=200", 3),
           "the eP-CSCF de-registered toward IMS (TNA REGISTER, Expires 0)")
    rc = await asyncio.get_running_loop().run_in_executor(None, lab.sipp_message, KAM_PORT, 404,
                                                           "bob")
    result(rc == 0, "after expiry IMS no longer reaches bob (MESSAGE gets 404)", "sipp %s" % rc)
    # A guest's token expiring: its flow ends; nothing to de-register in IMS.
    e = await wic(ORIGIN_A, "guest-9")
    rsp = await e.register_bearer(token(impu="sip:guest-9@ims.test", impi="guest-9@ims.test", ttl=3))
    result(rsp is not None and rsp["status"] == 200, "guest with a short-lived token: registered",
           str(rsp and rsp["start"]))
    try:
        await asyncio.wait_for(e.ws.wait_closed(), 10)
    except asyncio.TimeoutError:
        pass
    result(e.ws.closed and re.search(r'msg="registration ended by token expiry" flow=\S+ '
                                     r'impu=sip:guest-9@ims\.test range=', lab.log("ep-cscf.log"))
           and "TNA REGISTER for sip:guest-9@" not in kam_log(),
           "a guest's token expiry ends its flow, with no REGISTER of its IMPU toward IMS")

    # Key rollover: the WWSF publishes a new key beside the old one; tokens
    # signed with it are refused until SIGHUP makes ep-cscf read the JWKS
    # again, then accepted.
    old_key = KEYS["wwsf-a"]
    make_jwks("wwsf-a", "a-2", keep_old=True)
    await expect_refusal("a token signed with a key not yet loaded (kid a-2)", ORIGIN_A, "alice",
                         token(), 401)
    lab.ep.send_signal(signal.SIGHUP)
    reloaded = wait_log(os.path.join(TMP, "ep-cscf.log"), 'msg="jwks reloaded"', 5)
    r = await wic(ORIGIN_A, "alice")
    rsp = await r.register_bearer(token())
    result(reloaded and rsp is not None and rsp["status"] == 200,
           "after SIGHUP the new key (kid a-2) is accepted", str(rsp and rsp["start"]))
    await r.close()
    KEYS["wwsf-a"], new_key = old_key, KEYS["wwsf-a"]
    r = await wic(ORIGIN_A, "alice")
    rsp = await r.register_bearer(token())
    result(rsp is not None and rsp["status"] == 200,
           "the old key (kid a-1), still published, is accepted too", str(rsp and rsp["start"]))
    await r.close()
    KEYS["wwsf-a"] = new_key

    m = metrics(metrics_port)
    exp = re.search(r"^epcscf_token_registrations_expired_total (\d+)", m, re.M)
    result("epcscf_bearer_tokens_accepted_total" in m and exp and exp.group(1) == "2",
           "token metrics exported (2 registrations ended by token expiry: bob, guest-9)",
           exp.group(0) if exp else m[-400:])
    rng = re.search(r"^epcscf_range_registrations (\d+)", m, re.M)
    result(rng is not None, "range registrations gauge exported", rng.group(0) if rng else "")
    await w.close()


def main():
    global KAM_PORT, WSS, IMS_PORT
    jwks_a = make_jwks("wwsf-a", "a-1")
    jwks_b = make_jwks("wwsf-b", "b-1")
    ims_port = IMS_PORT = free_port(socket.SOCK_DGRAM)
    KAM_PORT = lab.kamailio(tna_peer="127.0.0.1:%d" % ims_port, range_expires=RANGE_EXP)
    if not result(KAM_PORT is not None, "Kamailio started", kam_log()[-1500:]):
        return
    extra = ("wwsf = wwsf-a origins=%s issuer=https://wwsf-a.test jwks=%s "
             "impus=sip:alice@ims.test,sip:bob@ims.test ranges=sip:guest-*@ims.test wafs=waf-a\n"
             "wwsf = wwsf-b origins=%s issuer=https://wwsf-b.test jwks=%s impus=sip:*@ims.test\n"
             "auth.leeway = 0\n" % (ORIGIN_A, jwks_a, ORIGIN_B, jwks_b))
    ports = lab.ep_cscf(BIN, KAM_PORT, ["https://digest.test"], extra, ims_port=ims_port)
    if not result(ports is not None, "ep-cscf started", lab.log("ep-cscf.log")[-1500:]):
        return
    WSS = "wss://127.0.0.1:%d" % ports["wss"]
    try:
        asyncio.run(asyncio.wait_for(scenario(ports["metrics"]), 120))
    except Exception as e:  # a crash of the scenario is a failure, with its reason
        result(False, "scenario ran to the end", repr(e))
    lab.stop_ep_cscf(tap)


try:
    main()
finally:
    lab.close(tap)
sys.exit(1 if tap.failed else 0)
