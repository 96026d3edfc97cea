#!/usr/bin/python3
"""Server for check_answers.html: answers the browser's offers with the
IMS-ALG tool (test_ims_alg --w3-answer) and prints the browser's verdicts
as TAP lines.  Exits after the results arrive.

usage: check_answers_server.py TOOL PORTFILE"""
import http.server
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
tool, portfile = sys.argv[1:3]


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def reply(self, code, body, ctype='text/plain'):
        self.send_response(code)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        with open(os.path.join(HERE, 'check_answers.html'), 'rb') as f:
            self.reply(200, f.read(), 'text/html; charset=utf-8')

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', '0')))
        if self.path.startswith('/offer'):
            with tempfile.TemporaryDirectory() as d:
                offer, answer = os.path.join(d, 'o.sdp'), os.path.join(d, 'a.sdp')
                with open(offer, 'wb') as f:
                    f.write(body)
                args = [tool, '--w3-answer', offer, answer]
                if 'bundle=0' in self.path:
                    args.append('nobundle')
                p = subprocess.run(args, capture_output=True)
                if p.returncode:
                    self.reply(500, p.stderr)
                    return
                with open(answer, 'rb') as f:
                    self.reply(200, f.read(), 'application/sdp')
            return
        data = json.loads(body)
        print('# ' + data['ua'])
        for i, r in enumerate(data['results'], 1):
            print(f"{'ok' if r['ok'] else 'not ok'} {i} - {r['name']}: "
                  f"the browser accepts the ALG's answer")
            print(f"#   {r['detail']}")
        print(f"1..{len(data['results'])}")
        self.reply(204, b'')
        self.server.done = True


srv = http.server.HTTPServer(('127.0.0.1', 0), Handler)
srv.done = False
with open(portfile, 'w') as f:
    f.write(str(srv.server_address[1]))
while not srv.done:
    srv.handle_request()
