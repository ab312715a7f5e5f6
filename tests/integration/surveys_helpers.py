"""Helpers for the survey integration tests (test_surveys_*.py).

They reuse the review tests' fixtures (reviews_helpers.py: a service and a
database per module, a fake WooCommerce shop and an aftersale shop per
test), and add the survey calls. Import the fixtures by name:

    from surveys_helpers import rv_admin, rv_db, rv_svc, sink, wfake, rshop  # noqa: F401
"""

import copy
import time

from reviews_helpers import (ReviewShop, jwt_claims, path_of, rshop, rv_admin, rv_db,  # noqa: F401
                             rv_svc, sink, unique_email, wfake)
from woo_helpers import db_query, list_all, wait_for  # noqa: F401

NPS_QUESTIONS = [
    {"id": "nps", "kind": "nps", "required": True, "label": {"en": "Recommend us?"}},
    {"id": "why", "kind": "text", "label": {"en": "What went wrong?"},
     "show_if": {"question": "nps", "lte": 6}},
    {"id": "src", "kind": "multiple_choice", "other": True, "label": {"en": "Where from?"},
     "choices": [{"id": "web", "label": {"en": "Web"}}, {"id": "tv", "label": {"en": "TV"}}]},
    {"id": "csat", "kind": "csat", "label": {"en": "Satisfied?"}},
    {"id": "ces", "kind": "ces", "label": {"en": "Easy?"}},
]


def questions():
    return copy.deepcopy(NPS_QUESTIONS)


def create_survey(shop, **body):
    if "template" not in body:
        body.setdefault("name", "NPS")
        body.setdefault("questions", questions())
    r = shop.api.post("/v1/surveys", json=body)
    assert r.status_code == 201, r.text
    s = r.json()
    assert r.headers["Location"] == f"/v1/surveys/{s['id']}"
    return s


def survey(shop, sid, **query):
    r = shop.api.get(f"/v1/surveys/{sid}", params=query)
    assert r.status_code == 200, r.text
    return r.json()


def invitations(shop, sid, **query):
    return list_all(shop.api, f"/v1/surveys/{sid}/invitations", **query)


def wait_order(shop, order_id, timeout=10.0):
    """Webhooks are processed by a job: wait for the order's completion event."""
    return wait_for(lambda: list_all(shop.api, "/v1/events", kind="order.completed",
                                     order_id=order_id), timeout, interval=0.05,
                    what=f"order {order_id} to be processed")


def link_invitation(shop, sid, order_id, status=(201, 200)):
    wait_order(shop, order_id)
    r = shop.api.post(f"/v1/surveys/{sid}/invitations", json={"order_id": order_id})
    assert r.status_code in status, r.text
    return r.json()


def put_answers(shop, token, answers, **extra):
    return shop.anon.put(f"/v1/public/survey-invitations/{token}",
                         json=dict(extra, answers=answers))


def db(pg, shop, sql, params=None):
    """Rows of a query on the module's database (pg: the conftest fixture)."""
    return db_query(pg, shop.svc.db, sql, params)


def settle(seconds=0.3):
    time.sleep(seconds)


def schedule_result(shop, order_id, timeout=10.0):
    """The surveys.schedule job's result for an order's order.completed event."""
    def find():
        evs = {e["id"] for e in list_all(shop.api, "/v1/events", kind="order.completed",
                                         order_id=order_id)}
        return next((j["result"] for j in shop.jobs(kind="surveys.schedule")
                     if j["status"] == "done" and j["payload"].get("event_id") in evs), None)
    return wait_for(find, timeout, interval=0.05, what=f"the survey scheduling of order {order_id}")


def outcomes(result):
    return {s["survey_id"]: s["outcome"] for s in result["surveys"]}


MASK = (1 << 64) - 1


def _mix64(z):
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & MASK
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & MASK
    return z ^ (z >> 31)


def sampled(survey_id, order_id, rate):
    """The service's sampling rule (surveys/rules.c), recomputed here."""
    bp = round(rate * 10000)
    h = _mix64(_mix64((survey_id + 0x9e3779b97f4a7c15) & MASK) ^ order_id)
    return h % 10000 < bp
