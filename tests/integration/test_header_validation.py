"""Texts that end up in email headers are one line, checked when written.

A shop name with CR/LF used to be accepted, and then every email of that
shop failed. Every such text (the shop's name, the review sender name and
address, template subjects) is refused with a 422 naming the field when it
is written; a value stored before that is refused at sending time with an
error naming the header, and the message is not sent.
"""

import pytest

from aftersale_it import assert_problem, shop_body
from reviews_helpers import (rshop, rv_admin, rv_db, rv_svc, sink, unique_email,  # noqa: F401
                             wfake)

BAD = {
    "CRLF injection": "Acme\r\nBcc: x@example.com",
    "LF": "Acme\nBcc: x@example.com",
    "CR": "Acme\rBcc: x@example.com",
    "tab": "Acme\tShop",
    "escape": "Acme\x1b[31m",
    "NEL (C1)": "Acme\u0085Bcc: x@example.com",
    "line separator": "Acme\u2028Bcc: x@example.com",
}


@pytest.mark.parametrize("bad", list(BAD.values()), ids=list(BAD))
def test_shop_name_is_one_line_on_create(admin, bad):
    r = admin.post("/v1/shops", json=shop_body(name=bad))
    assert_problem(r, 422, "invalid-field", field="name")


@pytest.mark.parametrize("bad", list(BAD.values()), ids=list(BAD))
def test_shop_name_is_one_line_on_patch(admin, new_shop, bad):
    shop, client = new_shop()
    r = admin.patch(f"/v1/shops/{shop['id']}", json={"name": bad})
    assert_problem(r, 422, "invalid-field", field="name")
    r = client.patch("/v1/shop", json={"name": bad})
    assert_problem(r, 422, "invalid-field", field="name")
    assert client.get("/v1/shop").json()["name"] == shop["name"]
    # still encoded as before: non-ASCII on one line is fine
    r = client.patch("/v1/shop", json={"name": "Kávičkáreň – Ñandú"})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Kávičkáreň – Ñandú"


def test_shop_name_is_one_line_in_the_cli(cli):
    p = cli(["shop", "create", "--name", "Acme\r\nBcc: x@example.com", "--url",
             "https://cli-bad.example", "--consumer-key", "ck_x", "--consumer-secret", "cs_x",
             "--currency", "EUR", "--timezone", "UTC"])
    assert p.returncode != 0
    assert "name" in (p.stdout + p.stderr)


@pytest.mark.parametrize("field,value", [
    ("sender_name", BAD["CRLF injection"]),
    ("sender_name", BAD["NEL (C1)"]),
    ("sender_email", "shop@example.com\r\nBcc: x@example.com"),
    ("templates[0].subject", "Thanks\r\nBcc: x@example.com"),
    ("templates[0].subject", "Thanks\u2028Bcc: x@example.com"),
])
def test_review_settings_header_fields_are_one_line(new_shop, field, value):
    _, client = new_shop()
    before = client.get("/v1/reviews/settings").json()
    if field.startswith("templates"):
        body = {"templates": [{"locale": "en", "subject": value}]}
    else:
        body = {field: value}
    r = client.put("/v1/reviews/settings", json=body)
    assert_problem(r, 422, "invalid-field", field=field)
    assert client.get("/v1/reviews/settings").json() == before


def test_stored_bad_name_is_refused_at_sending_with_the_header_named(rshop, pg, rv_svc, sink):
    """A name stored before the check existed: the message is refused (the
    job says which header), nothing reaches the SMTP server, and the
    shop's other settings keep working once the name is fixed."""
    shop = rshop
    shop.settings(delay="PT0S", reminder_count=0)
    pg.query(rv_svc.db, "UPDATE shops SET name = %s WHERE id = %s",
             ("Acme\r\nBcc: victim@example.com", shop.id))
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    email = unique_email("hdr")
    order = shop.completed_order([mug], email)
    req = shop.request_for_order(order["id"])
    job = shop.send_job(req["id"], 0, pred=lambda j: j["status"] == "dead")
    assert "from_name" in job["last_error"] and "CR or LF" in job["last_error"], job
    assert shop.mails(email) == []
    assert not [m for m in list(sink.messages) if "victim@example.com" in m["rcpt_tos"]
                or b"victim@example.com" in m["data"]], "injected"

    # fixed through the API, the next request goes out
    r = shop.api.patch("/v1/shop", json={"name": "Acme"})
    assert r.status_code == 200, r.text
    other = unique_email("hdr2")
    shop.completed_order([mug], other)
    mail = shop.wait_mails(other, 1)[0]
    assert mail.header("From").startswith("Acme") or mail.header("From").startswith('"Acme"'), \
        mail.header("From")
