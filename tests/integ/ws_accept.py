#!/usr/bin/python3
"""ep-cscf's own accept for WebSocket listeners (ep-cscf/ws_listen.c):
many WSS connects at once all succeed though at most 256 handshakes are
let in at a time (the rest wait in the kernel's backlog), each flow
answers a keep-alive (written straight to the socket), and the per-address
limit (ws.max_flows_per_ip) refuses the connection past it and counts a
closed flow out.  Python websockets clients; prints TAP lines.

usage: ws_accept.py BINDIR"""
import asyncio
import os
import socket
import ssl
import sys

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Lab, Tap, free_port  # noqa: E402

ORIGIN = "https://wic.test"
AT_ONCE = 600  # more than the 256 handshakes ep-cscf lets in at a time

tap = Tap()
lab = Lab("ws_accept.")


def tls():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


async def connect(url):
    return await websockets.connect(url, subprotocols=["sip"], origin=ORIGIN, ssl=tls(),
                                    ping_interval=None, open_timeout=60, close_timeout=2)


async def pong(ws):
    """RFC 5626 keep-alive: a double CRLF gets a CRLF."""
    await ws.send("\r\n\r\n")
    return await asyncio.wait_for(ws.recv(), 10) == "\r\n"


async def many_at_once(url):
    got = await asyncio.gather(*[connect(url) for _ in range(AT_ONCE)], return_exceptions=True)
    conns = [c for c in got if not isinstance(c, BaseException)]
    errors = [repr(e) for e in got if isinstance(e, BaseException)]
    tap.result(len(conns) == AT_ONCE, "%d WSS connects at once all open" % AT_ONCE,
               "opened %d" % len(conns), *errors[:3])
    answers = await asyncio.gather(*[pong(c) for c in conns], return_exceptions=True)
    tap.result(all(a is True for a in answers) and len(answers) == AT_ONCE,
               "every one of them answers a keep-alive",
               "answered %d" % sum(1 for a in answers if a is True))
    await asyncio.gather(*[c.close() for c in conns], return_exceptions=True)


async def per_address_limit(url, log):
    first = [await connect(url) for _ in range(3)]
    try:
        extra = await connect(url)
        await extra.close()
        refused = False
    except Exception:  # the TCP connection is closed at accept
        refused = True
    tap.result(refused, "a 4th flow from the address is refused (limit 3)")
    await asyncio.sleep(0.5)
    tap.result("too many flows from this address" in lab.log(log), "the refusal is logged")
    await first[0].close()
    await asyncio.sleep(0.5)  # the flow is counted out when lws reports it closed
    try:
        again = await connect(url)
        ok = await pong(again)
        await again.close()
    except Exception as e:
        ok = False
        print("# %r" % e)
    tap.result(ok, "after one of the 3 closes, a new flow is taken")
    await asyncio.gather(*[c.close() for c in first[1:]], return_exceptions=True)


def run(bindir, extra, scenario):
    ports = lab.ep_cscf(bindir, free_port(socket.SOCK_DGRAM), [ORIGIN], extra)
    if not ports:
        tap.result(False, "ep-cscf starts", lab.log("ep-cscf.log")[-2000:])
        return
    url = "wss://127.0.0.1:%d" % ports["wss"]
    try:
        asyncio.run(asyncio.wait_for(scenario(url), 120))
    except Exception as e:  # a crash of the scenario is a failure, with its reason
        tap.result(False, "scenario ran to the end", repr(e))
    lab.stop_ep_cscf(tap)


def main():
    bindir = sys.argv[1] if len(sys.argv) > 1 else "build/asan/bin"
    run(bindir, "ws.max_flows_per_ip = 5000\nws.max_connections = 5000\n", many_at_once)
    run(bindir, "ws.max_flows_per_ip = 3\n",
        lambda url: per_address_limit(url, "ep-cscf.log"))


try:
    main()
finally:
    lab.close(tap)
sys.exit(1 if tap.failed else 0)
