"""Self-test of the SMTP sink (tests/fakes/smtp_sink.py).

Run: cd /work/main && /usr/bin/python3 -m pytest -q tests/fakes/test_smtp_sink.py
Sends with the standard library's smtplib, so the sink is checked against
an independent client; every wait is bounded and the file runs in a couple
of seconds.
"""

import os
import smtplib
import socket
import subprocess
import sys
import time
from email.message import EmailMessage

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smtp_sink import SmtpSink, format_message  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture
def sink():
    s = SmtpSink().start()
    yield s
    s.stop()


def make_message(subject="Wie war Ihre Bestellung?", to="jane@example.com"):
    m = EmailMessage()
    m["From"] = "Kaffee & Co <shop@kaffee.example>"
    m["To"] = to
    m["Subject"] = subject
    m["Message-ID"] = "<t1@aftersale.example>"
    m.set_content("Hallo Jürgen,\n.line starting with a dot\n")
    m.add_alternative("<p>Hallo J&uuml;rgen</p>", subtype="html")
    return m


def send(sink, msg, to="jane@example.com", login=None):
    with smtplib.SMTP(sink.host, sink.port, timeout=5) as c:
        if login:
            c.login(*login)
        return c.send_message(msg, from_addr="shop@kaffee.example", to_addrs=[to])


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_keeps_envelope_raw_data_and_parsed_message(sink):
    assert sink.port > 0 and sink.host == "127.0.0.1"
    send(sink, make_message())
    [m] = sink.wait_for(1)
    assert m["mail_from"] == "shop@kaffee.example"
    assert m["rcpt_tos"] == ["jane@example.com"]
    assert isinstance(m["data"], bytes)
    assert b"\r\n" in m["data"] and b"\n" not in m["data"].replace(b"\r\n", b"")
    assert b"\r\n.line starting with a dot" in m["data"] or b".line" not in m["data"]
    msg = m["message"]
    assert msg["Subject"] == "Wie war Ihre Bestellung?"
    assert msg.get_content_type() == "multipart/alternative"
    assert "Hallo Jürgen," in msg.get_body(("plain",)).get_content()
    assert ".line starting with a dot" in msg.get_body(("plain",)).get_content()
    assert m["auth_login"] is None


def test_reject_550_then_accept(sink):
    sink.reject_next(1, code=550)
    with pytest.raises(smtplib.SMTPRecipientsRefused) as exc:
        send(sink, make_message())
    assert exc.value.recipients["jane@example.com"][0] == 550
    assert sink.rejected == [{"mail_from": "shop@kaffee.example", "rcpt": "jane@example.com",
                              "code": 550}]
    assert sink.messages == []
    send(sink, make_message())
    assert len(sink.wait_for(1)) == 1


def test_reject_421_is_temporary(sink):
    sink.reject_next(2, code=421)
    for _ in range(2):
        with pytest.raises(smtplib.SMTPRecipientsRefused) as exc:
            send(sink, make_message())
        assert exc.value.recipients["jane@example.com"][0] == 421
    send(sink, make_message())
    assert len(sink.wait_for(1)) == 1
    assert [r["code"] for r in sink.rejected] == [421, 421]


def test_down_refuses_then_up_on_the_same_port(sink):
    port = sink.port
    sink.set_down(True)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((sink.host, port), timeout=2).close()
    sink.set_down(False)
    assert sink.port == port
    send(sink, make_message())
    assert len(sink.wait_for(1)) == 1


def test_wait_for_times_out_quickly(sink):
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        sink.wait_for(1, timeout=0.2)
    assert time.monotonic() - t0 < 2


def test_credentials_are_required_and_checked():
    with SmtpSink(credentials=("mailer", "s3cret")) as s:
        with pytest.raises(smtplib.SMTPAuthenticationError):
            send(s, make_message(), login=("mailer", "wrong"))
        with pytest.raises(smtplib.SMTPSenderRefused):
            send(s, make_message())
        send(s, make_message(), login=("mailer", "s3cret"))
        [m] = s.wait_for(1)
        assert m["auth_login"] == "mailer"


def test_cli_prints_each_message():
    port = free_port()
    p = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "smtp_sink.py"),
                          "--port", str(port)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "listening on 127.0.0.1:%d" % port in p.stdout.readline()
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as c:
            c.send_message(make_message(subject="CLI check"), from_addr="shop@kaffee.example",
                           to_addrs=["jane@example.com"])
            c.send_message(qp_message(), from_addr="aftersale@localhost.localdomain",
                           to_addrs=["ann@example.com"])
        seen = ""
        deadline = time.monotonic() + 5
        while "5 stars</a>" not in seen and time.monotonic() < deadline:
            seen += p.stdout.readline()
        assert "RCPT TO: jane@example.com" in seen
        assert "Subject: CLI check" in seen
        assert "Hallo Jürgen," in seen
        assert "5 stars: %s\n" % LONG_LINK in seen       # one line, as a person copies it
    finally:
        p.terminate()
        p.wait(5)
    assert p.returncode == 0


LONG_LINK = ("http://127.0.0.1:18080/review?token=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
             "eyJzdWIiOiJyciIsImF1ZCI6InJldmlldyIsInNob3AiOjEsInJyIjo0MiwiZXhwIjoxODAwMDAwMDAwfQ."
             "c2lnbmF0dXJlLXdpdGgtcGFkZGluZw==&product=10&rating=5")


def qp_message():
    """A message shaped like aftersale's review email: text and HTML parts,
    both quoted-printable, with a link far longer than a QP line."""
    m = EmailMessage()
    m["From"] = '"Demo" <aftersale@localhost.localdomain>'
    m["To"] = '"Ann" <ann@example.com>'
    m["Subject"] = "How was your order from Demo?"
    m["List-Unsubscribe"] = "<http://127.0.0.1:18080/unsubscribe?token=abc>"
    m.set_content("Hi Ann,\n\n\u2605\u2605\u2605\u2605\u2605 5 stars: %s\n" % LONG_LINK,
                  cte="quoted-printable")
    m.add_alternative('<p><a href="%s">5 stars</a></p>' % LONG_LINK.replace("&", "&amp;"),
                      subtype="html", cte="quoted-printable")
    return m


def test_prints_quoted_printable_parts_decoded(sink):
    with smtplib.SMTP(sink.host, sink.port, timeout=5) as c:
        c.send_message(qp_message(), from_addr="aftersale@localhost.localdomain",
                       to_addrs=["ann@example.com"])
    [m] = sink.wait_for(1)
    raw = m["data"].decode()
    # The wire really is quoted-printable: "=" escaped, the link broken by
    # soft line breaks, so the raw text would not give a working link.
    assert "=3D" in raw and LONG_LINK not in raw.replace("\r\n", "\n")
    out = format_message(m)
    assert "=3D" not in out and "=\n" not in out.replace("=" * 72 + "\n", "")
    assert "\u2605\u2605\u2605\u2605\u2605 5 stars: %s\n" % LONG_LINK in out
    assert '<a href="%s">' % LONG_LINK.replace("&", "&amp;") in out
    assert "Subject: How was your order from Demo?\n" in out
    assert "To: Ann <ann@example.com>\n" in out
    assert "List-Unsubscribe: <http://127.0.0.1:18080/unsubscribe?token=abc>\n" in out
    assert "text/plain" in out and "text/html" in out
    assert "Content-Transfer-Encoding" not in out


def test_prints_base64_part_in_its_charset(sink):
    m = EmailMessage()
    m["Subject"] = "Grüße"
    m.set_content("Grüße aus Köln: %s\n" % LONG_LINK, charset="iso-8859-1", cte="base64")
    send(sink, m)
    [got] = sink.wait_for(1)
    assert b"Gr\xfc" not in got["data"]           # base64 on the wire
    out = format_message(got)
    assert "Subject: Grüße\n" in out
    assert "Grüße aus Köln: %s\n" % LONG_LINK in out
