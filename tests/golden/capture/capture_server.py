#!/usr/bin/python3
"""Serves capture.html on 127.0.0.1 and writes the offers a browser POSTs to
/result as <outdir>/<browser>-<scenario>.sdp (CRLF line ends kept), plus
<outdir>/<browser>.json with the user agent.  Exits after one result.

usage: capture_server.py BROWSER OUTDIR PORTFILE
PORTFILE receives the port the server listens on (chosen by the kernel)."""
import http.server
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
browser, outdir, portfile = sys.argv[1:4]


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        if self.path.split('?')[0] != '/capture.html':
            self.send_error(404)
            return
        with open(os.path.join(HERE, 'capture.html'), 'rb') as f:
            body = f.read()
        self.send_response(200)
        self.send_header('Content-Type', 'text/html; charset=utf-8')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get('Content-Length', '0'))
        data = json.loads(self.rfile.read(n))
        os.makedirs(outdir, exist_ok=True)
        for name, sdp in data['offers'].items():
            if sdp is None:
                continue
            with open(os.path.join(outdir, f'{browser}-{name}.sdp'), 'w',
                      newline='') as f:
                f.write(sdp)
        with open(os.path.join(outdir, f'{browser}.json'), 'w') as f:
            json.dump({'userAgent': data['userAgent'],
                       'error': data.get('error')}, f, indent=1)
            f.write('\n')
        self.send_response(204)
        self.end_headers()
        self.server.done = True


srv = http.server.HTTPServer(('127.0.0.1', 0), Handler)
srv.done = False
with open(portfile, 'w') as f:
    f.write(str(srv.server_address[1]))
while not srv.done:
    srv.handle_request()
