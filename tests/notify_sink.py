"""Receivers for the notification tests (tests/notify_integration_test.cc), on loopback.

Usage: notify_sink.py DIR [CERT KEY PASSWORD]
Starts an SMTP server (Debian's python3-aiosmtpd) and an HTTP server, both on 127.0.0.1 with
ports chosen by the kernel, prints "smtp PORT" and "http PORT" on stdout, and runs until killed.
Each message the SMTP server accepts is saved whole as DIR/mail-N.eml (the envelope's sender and
recipients in X-Envelope-From / X-Envelope-To headers first); each POST to the HTTP server is
saved as DIR/webhook-N.json and answered 204, except that a POST to /fail-once is answered 503
the first time (the retry test). With CERT, KEY and PASSWORD the SMTP server requires STARTTLS
(with that certificate) and AUTH as user "usersync" with PASSWORD; each saved message then
records X-Auth-Login and X-TLS (whether the session was encrypted) first.
"""
import asyncio
import http.server
import os
import sys
import threading

import ssl

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

DIR = sys.argv[1]
LOCK = threading.Lock()
COUNTS = {}


def save(kind, suffix, data):
    with LOCK:
        n = COUNTS.get(kind, 0) + 1
        COUNTS[kind] = n
    path = os.path.join(DIR, "%s-%d.%s" % (kind, n, suffix))
    with open(path + ".tmp", "wb") as out:
        out.write(data)
    os.rename(path + ".tmp", path)  # the test never reads a half-written file


class Mailbox:
    async def handle_DATA(self, server, session, envelope):
        head = "X-Envelope-From: %s\r\nX-Envelope-To: %s\r\n" % (
            envelope.mail_from, ", ".join(envelope.rcpt_tos))
        if len(sys.argv) > 2:
            login = session.auth_data.login.decode() if session.authenticated else "-"
            head += "X-Auth-Login: %s\r\nX-TLS: %s\r\n" % (
                login, "yes" if session.ssl else "no")
        save("mail", "eml", head.encode() + envelope.original_content)
        return "250 OK"


class Hook(http.server.BaseHTTPRequestHandler):
    failed = set()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/fail-once" and self.path not in Hook.failed:
            Hook.failed.add(self.path)
            self.send_response(503)
            self.end_headers()
            return
        save("webhook", "json", body)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == b"usersync" and
          auth_data.password == sys.argv[4].encode())
    return AuthResult(success=ok, auth_data=auth_data)


def make_smtp():
    if len(sys.argv) <= 2:
        return SMTP(Mailbox())
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(sys.argv[2], sys.argv[3])
    return SMTP(Mailbox(), tls_context=context, require_starttls=True,
                authenticator=authenticate, auth_require_tls=True, auth_required=True)


def serve_smtp(started):
    # aiosmtpd's Controller cannot take port 0 (it connects to its port to check it is up).
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(make_smtp, "127.0.0.1", 0))
    started.append(server.sockets[0].getsockname()[1])
    loop.run_forever()


def main():
    started = []
    threading.Thread(target=serve_smtp, args=(started,), daemon=True).start()
    while not started:
        threading.Event().wait(0.01)
    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    print("smtp %d" % started[0], flush=True)
    print("http %d" % web.server_address[1], flush=True)
    web.serve_forever()


if __name__ == "__main__":
    main()
