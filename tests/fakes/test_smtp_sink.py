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
from smtp_sink import SmtpSink  # noqa: E402

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
        seen = ""
        deadline = time.monotonic() + 5
        while "Subject: CLI check" not in seen and time.monotonic() < deadline:
            seen += p.stdout.readline()
        assert "RCPT TO: jane@example.com" in seen
        assert "Subject: CLI check" in seen
    finally:
        p.terminate()
        p.wait(5)
    assert p.returncode == 0
