#!/usr/bin/python3
"""A real SMTP sink for aftersale's integration tests.

Why this exists
---------------
aftersale's job workers send review emails through libcurl's SMTP client
(src/mail/smtp.c).  The integration tests need a server that speaks real
SMTP -- EHLO, pipelining quirks, dot-stuffing, multi-line replies -- so
that what they check is what a mail relay would see.  This module wraps
aiosmtpd's protocol implementation (Debian package ``python3-aiosmtpd``;
run with ``/usr/bin/python3``) and keeps every message it accepts.

What it offers
--------------
``SmtpSink(port=0)`` listens on 127.0.0.1 (``port=0``: a free port, read
it back from ``.port`` after ``start()``).  ``.messages`` is a list of dicts
with ``mail_from`` (str), ``rcpt_tos`` (list of str), ``data`` (the DATA
bytes exactly as received, CRLF line ends, dot-stuffing undone) and
``message`` (``email.message.EmailMessage`` parsed with the default
policy, so headers come back decoded).

Failure modes, for the retry and dead-letter paths:

* ``reject_next(n, code=421)`` answers the next ``n`` RCPT TO commands
  with ``code`` (421 "try again later" or 550 "recipient rejected"; any 4xx
  or 5xx works).  Rejections are recorded in ``.rejected``.
* ``set_down(True)`` closes the listening socket, so new connections are
  refused; ``set_down(False)`` listens again on the same port.
* ``hold_next_data(n, seconds)`` keeps the next ``n`` messages (they are in
  ``.messages`` at once) but answers their final dot with "250" only after
  ``seconds``: the sender times out or dies not knowing it was taken.

``credentials=("user", "password")`` makes AUTH PLAIN/LOGIN mandatory
(offered without TLS, as a test relay may); the login is recorded in each
message as ``auth_login``.

CLI: ``/usr/bin/python3 tests/fakes/smtp_sink.py --port 2525`` prints
every message until interrupted: the envelope, the main headers, then each
text part decoded (quoted-printable and base64 undone, charset applied), so
links and tokens can be copied from it as they are (``format_message``).
"""

import argparse
import asyncio
import email
import email.policy
import logging
import signal
import socket
import sys
import threading
import time
import warnings

try:
    from aiosmtpd.smtp import SMTP, AuthResult
except ImportError:  # pragma: no cover - a setup problem, say how to fix it
    sys.stderr.write("smtp_sink: needs aiosmtpd: apt-get install python3-aiosmtpd "
                     "(scripts/install-deps) and run with /usr/bin/python3\n")
    raise

_REPLIES = {
    421: "421 4.3.2 Service not available, try again later",
    450: "450 4.2.1 Mailbox unavailable, try again later",
    451: "451 4.3.0 Local error in processing",
    452: "452 4.3.1 Insufficient system storage",
    550: "550 5.1.1 Recipient address rejected: user unknown",
    552: "552 5.2.2 Mailbox full",
    554: "554 5.7.1 Rejected by policy",
}


class _Handler(object):
    """aiosmtpd hooks: RCPT may be rejected on demand, DATA is kept."""

    def __init__(self, sink):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.sink._take_reject(envelope.mail_from, address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        login = session.auth_data.login if session.auth_data is not None else None
        self.sink._deliver(envelope, login)
        hold = self.sink._take_hold()
        if hold:
            # queued, but the "250" comes late: a client that times out
            # (or dies) meanwhile cannot know the message was taken
            await asyncio.sleep(hold)
        return "250 2.0.0 OK: queued"


class SmtpSink(object):
    """An SMTP server on a thread of its own; see the module docstring."""

    def __init__(self, port=0, host="127.0.0.1", credentials=None):
        self.host = host
        self.port = port
        self.credentials = credentials
        self.messages = []
        self.rejected = []
        self._cond = threading.Condition()
        self._rejects = []  # pending reply codes, first is next
        self._holds = []  # pending delays (s) of the reply to DATA, first is next
        self._loop = None
        self._thread = None
        self._server = None

    # ---- lifecycle -------------------------------------------------------

    def start(self):
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def run():
            asyncio.set_event_loop(self._loop)
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="smtp-sink", daemon=True)
        self._thread.start()
        ready.wait()
        self._call(self._listen())
        return self

    def stop(self):
        if self._loop is None:
            return
        self._call(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()
        self._loop = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ---- controls --------------------------------------------------------

    def reject_next(self, n, code=421):
        """Answer the next n RCPT TO commands with `code` instead of 250."""
        if not 400 <= code <= 599:
            raise ValueError("code must be 4xx or 5xx")
        with self._cond:
            self._rejects.extend([code] * n)

    def hold_next_data(self, n, seconds):
        """Keep the next n messages (they count as delivered at once) but
        answer their final dot with "250" only after `seconds`."""
        with self._cond:
            self._holds.extend([float(seconds)] * n)

    def set_down(self, down):
        """True: stop listening (connections are refused); False: listen
        again on the same port.  Connections already open are left alone."""
        self._call(self._close() if down else self._listen())

    def wait_for(self, n, timeout=5.0):
        """Block until at least n messages arrived; return a copy of the
        list.  Raises TimeoutError naming how many did arrive."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.messages) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("smtp_sink: %d message(s) after %.1fs, wanted %d"
                                       % (len(self.messages), timeout, n))
                self._cond.wait(left)
            return list(self.messages)

    def clear(self):
        with self._cond:
            self.messages.clear()
            self.rejected.clear()
            self._rejects.clear()
            self._holds.clear()

    # ---- inside the loop -------------------------------------------------

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        user, password = self.credentials
        ok = (auth_data is not None and auth_data.login == user.encode()
              and auth_data.password == password.encode())
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    def _protocol(self):
        kw = {"hostname": "sink.test", "ident": "aftersale smtp_sink"}
        if self.credentials is None:
            return SMTP(_Handler(self), **kw)
        # AUTH without TLS is what a local test relay offers; aiosmtpd warns
        # about it on every connection, which is noise here.
        kw.update(authenticator=self._authenticate, auth_required=True, auth_require_tls=False)
        logging.getLogger("mail.log").setLevel(logging.ERROR)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return SMTP(_Handler(self), **kw)

    async def _listen(self):
        if self._server is not None:
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
            sock.listen(16)
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        self._server = await self._loop.create_server(self._protocol, sock=sock)

    async def _close(self):
        if self._server is None:
            return
        self._server.close()
        await self._server.wait_closed()
        self._server = None

    def _take_hold(self):
        with self._cond:
            return self._holds.pop(0) if self._holds else 0

    def _take_reject(self, mail_from, rcpt):
        with self._cond:
            if not self._rejects:
                return None
            code = self._rejects.pop(0)
            self.rejected.append({"mail_from": mail_from, "rcpt": rcpt, "code": code})
        return _REPLIES.get(code, "%d %d.0.0 Rejected by smtp_sink" % (code, code // 100))

    def _deliver(self, envelope, login):
        data = bytes(envelope.original_content)
        msg = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "data": data,
            "message": email.message_from_bytes(data, policy=email.policy.default),
            "auth_login": login.decode() if login is not None else None,
        }
        with self._cond:
            self.messages.append(msg)
            self._cond.notify_all()


# Headers worth showing when a person reads the sink's output; the MIME
# plumbing (Content-Transfer-Encoding, boundaries) is left out because the
# parts below are printed decoded.
_SHOWN_HEADERS = ("From", "To", "Cc", "Reply-To", "Subject", "Date", "Message-ID",
                  "List-Unsubscribe", "List-Unsubscribe-Post", "Auto-Submitted")


def _text_parts(msg):
    """Every text/* leaf of a message, in order, as (content type, decoded
    text): quoted-printable or base64 undone and the charset applied, so a
    long link is one line again and "=3D" is "=" (what a mail client shows,
    and what a person copies a token from)."""
    for part in msg.walk():
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        try:
            text = part.get_content()
        except (LookupError, UnicodeError, ValueError):
            # An unknown charset or broken encoding: show the bytes as
            # well as they decode rather than nothing.
            raw = part.get_payload(decode=True) or b""
            text = raw.decode("utf-8", errors="replace")
        yield part.get_content_type(), text.replace("\r\n", "\n")


def format_message(m):
    """One received message as a person reads it: the envelope, the headers
    that matter (decoded), then each text part decoded."""
    msg = m["message"]
    lines = ["=" * 72,
             "MAIL FROM: %s" % m["mail_from"],
             "RCPT TO: %s" % ", ".join(m["rcpt_tos"])]
    for name in _SHOWN_HEADERS:
        for value in msg.get_all(name, []):
            lines.append("%s: %s" % (name, value))
    for ctype, text in _text_parts(msg):
        lines.append("-" * 28 + " " + ctype + " " + "-" * max(3, 43 - len(ctype)))
        lines.append(text.rstrip("\n"))
    lines.append("")
    return "\n".join(lines) + "\n"


def _print_message(m, out):
    out.write(format_message(m))
    out.flush()


def main(argv=None):
    ap = argparse.ArgumentParser(description="Print every message sent to this SMTP server.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=2525)
    args = ap.parse_args(argv)

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    sink = SmtpSink(port=args.port, host=args.host).start()
    print("smtp_sink: listening on %s:%d" % (sink.host, sink.port), flush=True)
    seen = 0
    try:
        while True:
            try:
                msgs = sink.wait_for(seen + 1, timeout=1.0)
            except TimeoutError:
                continue
            for m in msgs[seen:]:
                _print_message(m, sys.stdout)
            seen = len(msgs)
    except KeyboardInterrupt:
        pass
    finally:
        sink.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
