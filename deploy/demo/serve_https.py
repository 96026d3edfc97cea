#!/usr/bin/python3
"""Serves the demo WIC page over HTTPS (the origin the eP-CSCF's "demo"
WWSF lists).  usage: serve_https.py DIR ADDR:PORT CERT KEY"""
import http.server
import ssl
import sys


def main():
    www, addr, cert, key = sys.argv[1:5]
    host, port = addr.rsplit(":", 1)
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=www)  # noqa: E731
    httpd = http.server.ThreadingHTTPServer((host, int(port)), handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None
    httpd.serve_forever()


main()
