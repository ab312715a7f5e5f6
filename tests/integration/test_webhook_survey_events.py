"""Outbound webhook events of surveys and of erasure (docs/webhooks.md):
`survey.response.created` when a response is first recorded,
`survey.detractor` when a response becomes an alert (once), and
`customer.erased` when POST /v1/customers/erase runs. A registered
endpoint (the receiver of test_webhook_endpoints.py, on 127.0.0.1)
receives them signed; signatures are checked with that file's independent
verifier.

The module's own service allows 127.0.0.0/8 as a webhook target
(WEBHOOK_ALLOW_PRIVATE) and sends mail to a real SMTP sink.
"""

import hashlib
import time

import pytest

from reviews_helpers import ReviewShop, sink, unique_email, wfake  # noqa: F401
from surveys_helpers import create_survey, link_invitation, list_all, put_answers, wait_for
from test_webhook_endpoints import Receiver, event, start_service, verifies
from woo_helpers import client

QS = [{"id": "nps", "kind": "nps", "required": True, "label": {"en": "Recommend us?"}},
      {"id": "why", "kind": "text", "label": {"en": "Why?"}}]


@pytest.fixture(scope="module")
def wh_svc(pg, base_env, migrated, workdir, sink):  # noqa: F811
    svc = start_service(pg, base_env, workdir, sink, "survey-hooks",
                        WEBHOOK_ALLOW_PRIVATE="127.0.0.0/8", WEBHOOK_TIMEOUT_MS="1000",
                        WEBHOOK_RETRY_BASE_MS="200")
    yield svc
    svc.stop(check=True)


@pytest.fixture(scope="module")
def wh_admin(wh_svc, admin_token):
    c = client(wh_svc.url, admin_token)
    yield c
    c.close()


@pytest.fixture
def shop(wh_svc, wh_admin, wfake, sink):  # noqa: F811
    s = ReviewShop(wh_svc, wh_admin, wfake, sink)
    yield s
    s.close()


@pytest.fixture
def receiver():
    r = Receiver()
    try:
        yield r
    finally:
        r.stop()


def _endpoint(shop, url, types):
    r = shop.api.post("/v1/webhook-endpoints", json={"url": url, "event_types": types})
    assert r.status_code == 201, r.text
    ep = r.json()
    shop.svc.secrets.add(ep["secret"])
    return ep


def _of(receiver, type_):
    return [r for r in receiver.got() if event(r)["type"] == type_]


def _token(inv):
    return inv["token"]


def test_survey_response_created_and_detractor_reach_the_endpoint(shop, receiver):
    ep = _endpoint(shop, receiver.url, ["survey.response.created", "survey.detractor"])
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    s = create_survey(shop, name="NPS", status="active", questions=QS, recontact_days=0,
                      trigger={"event": "order.completed", "delay": "P30D"})
    order = shop.completed_order([mug], unique_email("unhappy"))
    inv = link_invitation(shop, s["id"], order["id"])

    # The first answer creates the response (3: a detractor): both events.
    r = put_answers(shop, _token(inv), {"nps": 3}, partial=True)
    assert r.status_code == 201, r.text
    [created] = receiver.wait(1, pred=lambda q: event(q)["type"] == "survey.response.created")
    [detractor] = receiver.wait(1, pred=lambda q: event(q)["type"] == "survey.detractor")
    assert verifies(ep["secret"], created) and verifies(ep["secret"], detractor)
    data = event(created)["data"]
    assert (data["survey_id"], data["order_id"], data["answers"], data["complete"]) == (
        s["id"], order["id"], {"nps": 3}, True)
    [listed] = list_all(shop.api, f"/v1/surveys/{s['id']}/responses")
    assert data["id"] == listed["id"] and data["invitation_id"] == listed["invitation_id"]
    assert event(detractor)["data"] == {"response_id": listed["id"], "survey_id": s["id"],
                                        "invitation_id": listed["invitation_id"],
                                        "order_id": order["id"], "score": 3}

    # Answering again (lower, then complete) updates the same response: no new event.
    assert put_answers(shop, _token(inv), {"nps": 1, "why": "late"}).status_code == 200
    time.sleep(1.0)
    assert len(_of(receiver, "survey.response.created")) == 1
    assert len(_of(receiver, "survey.detractor")) == 1

    # A promoter: the response event only.
    order2 = shop.completed_order([mug], unique_email("happy"))
    inv2 = link_invitation(shop, s["id"], order2["id"])
    assert put_answers(shop, _token(inv2), {"nps": 10}).status_code == 201
    receiver.wait(2, pred=lambda q: event(q)["type"] == "survey.response.created")
    time.sleep(1.0)
    assert [event(q)["data"]["order_id"] for q in _of(receiver, "survey.response.created")] == [
        order["id"], order2["id"]]
    assert len(_of(receiver, "survey.detractor")) == 1


def test_a_response_raised_then_lowered_alerts_at_the_lowering_write(shop, receiver):
    _endpoint(shop, receiver.url, ["survey.detractor"])
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    s = create_survey(shop, name="NPS", status="active", questions=QS, recontact_days=0,
                      trigger={"event": "order.completed", "delay": "P30D"})
    order = shop.completed_order([mug], unique_email("later"))
    inv = link_invitation(shop, s["id"], order["id"])
    assert put_answers(shop, _token(inv), {"nps": 9}).status_code == 201
    time.sleep(1.0)
    assert receiver.got() == []
    assert put_answers(shop, _token(inv), {"nps": 4}).status_code == 200
    [q] = receiver.wait(1)
    assert event(q)["data"]["score"] == 4 and event(q)["data"]["order_id"] == order["id"]
    assert put_answers(shop, _token(inv), {"nps": 2}).status_code == 200
    time.sleep(1.0)
    assert len(receiver.got()) == 1


def test_customer_erased_reaches_the_endpoint_without_the_address(shop, receiver):
    ep = _endpoint(shop, receiver.url, ["customer.erased"])
    email = unique_email("Erase.Me").replace("erase.me", "Erase.Me")
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    shop.completed_order([mug], email.lower())
    r = shop.api.post("/v1/customers/erase", json={"email": "  " + email + " ", "customer_id": 77})
    assert r.status_code == 200, r.text
    [q] = receiver.wait(1)
    assert verifies(ep["secret"], q)
    ev = event(q)
    tomb = ("erased-" + hashlib.sha256(email.lower().encode()).hexdigest()[:32] +
            "@erased.invalid")
    assert ev["type"] == "customer.erased"
    assert ev["data"] == {"customer_id": 77, "email_tombstone": tomb,
                          "erased": r.json()["erased"]}
    assert email.lower().encode() not in q["body"].lower()
    # By customer id alone: no tombstone.
    r = shop.api.post("/v1/customers/erase", json={"customer_id": 78})
    assert r.status_code == 200, r.text
    q2 = receiver.wait(2)[1]
    assert event(q2)["data"]["customer_id"] == 78
    assert event(q2)["data"]["email_tombstone"] is None
