"""Privacy and outbound webhooks: POST /v1/customers/erase also erases what
the outbound messages (outbound_events) hold about the customer, and
GET /v1/customers/export shows them (docs/privacy.md).

Two endpoints on receivers in this process (127.0.0.1, allowed by
WEBHOOK_ALLOW_PRIVATE): one answering 200 for every type, one answering
500 until after the erasure, so its deliveries are still pending retries
then. The customer of test_privacy.build_customer (an order, a review, a
loyalty adjustment and redemption, a return with a note and a photo) plus
a survey answer with a text makes events in four programmes; after the
erasure no text, JSON or bytea column of the shop's rows holds the
address, the names or the texts, ids, scores and amounts of the messages
are unchanged, the retry delivers the erased
body (signed, same webhook-id) and the first receiver gets
`customer.erased`.

WEBHOOK_RETRY_BASE_MS is an hour, so a retry runs when the test makes it
due (jobs.run_at = now()), not by chance before the erasure.
"""

import json
import secrets

import pytest

from aftersale_it import Service, free_port
from reviews_helpers import (MAIL_FROM, WP_APP_PASSWORD, assert_no_secrets_in_logs,  # noqa: F401
                             rshop, rv_admin, rv_db, sink, unique_email, wait_for, wfake)
from surveys_helpers import create_survey, link_invitation, put_answers
from test_privacy import ALL_KINDS, build_customer, dump_hits, erase, export
from test_webhook_endpoints import Receiver, add_endpoint, event, hdr, verifies
from woo_helpers import service_env


@pytest.fixture(scope="module")
def rv_svc(pg, base_env, rv_db, sink, workdir):  # noqa: F811
    """reviews_helpers' service, with webhooks allowed to 127.0.0.1."""
    env = dict(base_env)
    env.update(service_env(pg, rv_db, free_port(), SMTP_HOST="127.0.0.1",
                           SMTP_PORT=str(sink.port), SMTP_TLS="none", MAIL_FROM=MAIL_FROM,
                           WEBHOOK_ALLOW_PRIVATE="127.0.0.0/8", WEBHOOK_TIMEOUT_MS="2000",
                           WEBHOOK_RETRY_BASE_MS="3600000"))
    svc = Service(env, workdir / "logs", "rv-privacy-hooks")
    try:
        svc.wait_healthy()
    except Exception:
        svc.kill()
        raise
    svc.db = rv_db
    svc.secrets = {WP_APP_PASSWORD, WP_APP_PASSWORD.replace(" ", "")}
    yield svc
    svc.stop(check=True)
    assert_no_secrets_in_logs(svc, svc.secrets)


@pytest.fixture
def receivers():
    ok, failing = Receiver(), Receiver(default="500")
    try:
        yield ok, failing
    finally:
        ok.stop()
        failing.stop()


QS = [{"id": "nps", "kind": "nps", "required": True, "label": {"en": "Recommend us?"}},
      {"id": "why", "kind": "text", "label": {"en": "Why?"}}]


def bodies(pg, db, shop_id):
    return {row[0]: (row[1], json.loads(row[2])) for row in pg.query(
        db, "SELECT msg_id, type, body FROM outbound_events WHERE shop_id = %s", (shop_id,))}


def test_erase_reaches_outbound_messages_and_a_pending_retry_sends_the_erased_body(
        rshop, rv_svc, pg, receivers):  # noqa: F811
    shop, (ok, failing) = rshop, receivers
    tag = secrets.token_hex(3)
    email = unique_email("wendy")
    first, last = f"Wilhelmina{tag}", f"Hookworth{tag}"
    review_text = f"Sings when the kettle boils {tag}"
    note_text = f"Arrived in seven pieces {tag}"
    survey_text = f"The courier shouted at me {tag}"
    needles = [email, first, last, review_text, note_text, survey_text]

    ep_ok = add_endpoint(shop, ok.url, ["*"])
    ep_failing = add_endpoint(shop, failing.url, ["review.created", "return.created",
                                                  "loyalty.points_changed",
                                                  "survey.response.created"])
    made = build_customer(shop, email, first, last, review_text, note_text)
    # ... and a survey answered with a text (a detractor's score).
    sv = create_survey(shop, name="NPS", status="active", questions=QS, recontact_days=0,
                       trigger={"event": "order.completed", "delay": "P30D"})
    inv = link_invitation(shop, sv["id"], made["order"]["id"])
    r = put_answers(shop, inv["token"], {"nps": 3, "why": survey_text})
    assert r.status_code == 201, r.text
    # a later change of score (no new event): the message keeps its 3
    r = put_answers(shop, inv["token"], {"nps": 1, "why": survey_text})
    assert r.status_code == 200, r.text
    shop.idle(kinds=ALL_KINDS)

    def review_created(r):
        return event(r)["type"] == "review.created"

    # Delivered before the erasure, with the personal data in it.
    [got] = ok.wait(1, pred=review_created)
    assert event(got)["data"]["body"] == review_text
    assert event(got)["data"]["reviewer_email"] == email.lower()
    ok.wait(1, pred=lambda r: event(r)["type"] == "return.created")
    ok.wait(1, pred=lambda r: event(r)["type"] == "loyalty.points_changed")
    [sr] = ok.wait(1, pred=lambda r: event(r)["type"] == "survey.response.created")
    assert event(sr)["data"]["answers"] == {"nps": 3, "why": survey_text}
    assert event(sr)["data"]["email"] == email.lower()
    ok.wait(1, pred=lambda r: event(r)["type"] == "survey.detractor")
    [first_try] = failing.wait(1, pred=review_created)
    msg_id = hdr(first_try, "webhook-id")
    before = bodies(pg, rv_svc.db, shop.id)
    assert {t for t, _ in before.values()} >= {"review.created", "return.created",
                                               "loyalty.points_changed",
                                               "survey.response.created", "survey.detractor"}
    hits = dump_hits(pg, rv_svc.db, shop.id, needles)
    assert ("outbound_events.body", email) in hits, hits
    assert ("outbound_events.body", review_text) in hits, hits

    # The export shows the messages, as they are.
    x = export(shop, email=email)
    evs = x["webhooks"]["events"]
    assert {e["webhook_id"] for e in evs} >= {msg_id}
    [rv_ev] = [e for e in evs if e["type"] == "review.created"]
    assert rv_ev["data"]["body"] == review_text and rv_ev["data"]["id"] == made["review"]["id"]
    assert {d["endpoint_id"] for d in rv_ev["deliveries"]} == {ep_ok["id"], ep_failing["id"]}
    assert [e for e in evs if e["type"] == "return.created"
            and e["data"]["return_id"] == made["return"]["id"]]
    assert [e for e in evs if e["type"] == "loyalty.points_changed"
            and e["data"]["account_id"] == made["account"]]

    # -- erase
    counts = erase(shop, email=email)
    assert counts["outbound_events"] >= 1, counts
    assert dump_hits(pg, rv_svc.db, shop.id, needles) == []

    after = bodies(pg, rv_svc.db, shop.id)
    assert set(before) <= set(after)
    for mid, (typ, body) in before.items():
        now = after[mid][1]
        assert (now["type"], now["timestamp"]) == (body["type"], body["timestamp"])
        if typ == "review.created":
            d = now["data"]
            assert d["reviewer_email"].endswith("@erased.invalid")
            assert (d["body"], d["reviewer_name"]) == ("[erased]", "[erased]")
            keep = ("id", "request_id", "order_id", "product_id", "rating", "status",
                    "created_at")
            assert {k: d.get(k) for k in keep} == {k: body["data"].get(k) for k in keep}
        elif typ == "survey.response.created":
            d = now["data"]
            assert d["email"].endswith("@erased.invalid")
            assert d["answers"] == {"nps": 3, "why": "[erased]"}, d
            keep = ("id", "survey_id", "invitation_id", "order_id", "score", "complete")
            assert {k: d.get(k) for k in keep} == {k: body["data"].get(k) for k in keep}
        elif typ.startswith(("loyalty.", "return.", "survey.detractor")):
            # ids, amounts, states: nothing personal, nothing changed
            assert now == body, (typ, now, body)
    x2 = export(shop, email=email)
    text = json.dumps(x2["webhooks"])
    assert x2["webhooks"]["events"] and not [n for n in needles if n.lower() in text.lower()]

    # -- the pending retry sends the erased body, signed, same webhook-id
    seen = len(failing.got())
    failing.default = "ok"
    pg.query(rv_svc.db, "UPDATE jobs SET run_at = now() WHERE shop_id = %s"
                        " AND kind = 'hooks.deliver' AND status = 'pending'", (shop.id,))
    [retry] = wait_for(lambda: [r for r in failing.got()[seen:] if hdr(r, "webhook-id") == msg_id]
                       or None, 20.0, what="the retry of review.created")
    assert verifies(ep_failing["secret"], retry)
    sent = retry["body"].decode()
    assert not [n for n in needles if n.lower() in sent.lower()], sent
    assert event(retry)["data"]["body"] == "[erased]"
    assert event(retry)["data"]["id"] == made["review"]["id"]
    assert json.loads(sent) == after[msg_id][1]

    # -- the shop's systems are told, without the address
    [erased] = ok.wait(1, pred=lambda r: event(r)["type"] == "customer.erased")
    ev = event(erased)
    assert ev["data"]["email_tombstone"].endswith("@erased.invalid")
    assert ev["data"]["erased"] == counts
    assert email.lower() not in erased["body"].decode().lower()

    # -- idempotent
    again = erase(shop, email=email)
    assert again["outbound_events"] == 0, again
