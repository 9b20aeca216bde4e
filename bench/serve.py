#!/usr/bin/env python3
"""The farm over HTTP when nginx is not installed: static files with nginx's validators
(ETag from mtime and size, Last-Modified) and 304s for conditional requests.

    serve.py DIR PORT
"""
import email.utils
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Farm(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    root = "."

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = os.path.normpath(os.path.join(self.root, self.path.lstrip("/").split("?")[0]))
        if not path.startswith(os.path.abspath(self.root)) or not os.path.isfile(path):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        st = os.stat(path)
        etag = '"%x-%x"' % (int(st.st_mtime), st.st_size)
        modified = email.utils.formatdate(int(st.st_mtime), usegmt=True)
        if self.headers.get("If-None-Match") == etag or (
            self.headers.get("If-None-Match") is None
            and self.headers.get("If-Modified-Since") == modified
        ):
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with open(path, "rb") as f:
            body = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", modified)
        self.end_headers()
        self.wfile.write(body)


def main():
    Farm.root = os.path.abspath(sys.argv[1])
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), Farm)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
