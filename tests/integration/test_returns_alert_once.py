"""The merchant's alert of a new return request (returns.alert) is sent
once, also when its job runs again after an attempt that was cut off
mid-send: a timeout while the SMTP server held its "250" (the message was
taken), or the service killed (SIGKILL) at that moment and the job run
again by the next service after its lease. The SMTP sink counts the mails.

Each test has its own database, SMTP sink and service (service_factory).
"""

import time

import pytest

from aftersale_it import free_port
from woo_helpers import client, fake, new_migrated_db, service_env, wait_for  # noqa: F401
from returns_helpers import ReturnsShop
from reviews_helpers import MAIL_FROM, unique_email
from fakes.smtp_sink import SmtpSink  # noqa: E402  (woo_helpers put tests/ on sys.path)


@pytest.fixture
def sink():
    s = SmtpSink(port=0).start()
    try:
        yield s
    finally:
        s.stop()


def mail_env(pg, db, sink, **extra):
    return service_env(pg, db, free_port(), SMTP_HOST="127.0.0.1", SMTP_PORT=str(sink.port),
                       SMTP_TLS="none", MAIL_FROM=MAIL_FROM, **extra)


def new_shop(svc, admin_token, fake):  # noqa: F811
    admin = client(svc.url, admin_token)
    shop = ReturnsShop(svc, admin, fake)
    boss = unique_email("boss")
    r = shop.api.put("/v1/messaging/settings", json={"alert_email": boss})
    assert r.status_code == 200, r.text
    return shop, admin, boss


def alert_job(shop, rid):
    r = shop.api.get("/v1/jobs", params={"kind": "returns.alert", "limit": 100})
    assert r.status_code == 200, r.text
    jobs = [j for j in r.json()["items"] if j["payload"]["request_id"] == rid]
    return jobs[0] if jobs else None


def to(sink, addr):
    return [m for m in list(sink.messages) if addr in m["rcpt_tos"]]


def test_a_timeout_after_the_server_took_the_alert_does_not_send_it_again(
        pg, base_env, service_factory, admin_token, fake, sink):  # noqa: F811
    db = new_migrated_db(pg, base_env)
    # the sink answers the final dot after 3 s; the service waits 1 s
    svc = service_factory.start(env=mail_env(pg, db, sink, SMTP_TIMEOUT_MS="1000"), name="alert-t")
    shop, admin, boss = new_shop(svc, admin_token, fake)
    sink.hold_next_data(1, 3)
    o = shop.order([("Mug", "10.00", 1)], email=unique_email("cust"))
    ret = shop.create(o, [(0, 1, "wrong_item")])
    job = wait_for(lambda: (lambda j: j if j and j["status"] == "done" else None)(
        alert_job(shop, ret["id"])), 15, what="the alert job to end")
    assert "unconfirmed" in job["result"], job
    assert "timed out" in job["result"]["unconfirmed"].lower() or \
        "timeout" in job["result"]["unconfirmed"].lower(), job
    time.sleep(3.5)  # the held "250" has come; a second attempt would have shown by now
    assert len(to(sink, boss)) == 1
    assert alert_job(shop, ret["id"])["attempts"] == 1
    # a job that is run again by hand (POST /v1/jobs/{id}/retry) does not send either
    r = shop.api.post(f"/v1/jobs/{job['id']}/retry")
    assert r.status_code in (200, 202, 409), r.text
    if r.status_code != 409:
        wait_for(lambda: (lambda j: j if j["status"] == "done" and j["attempts"] >= 1 else None)(
            alert_job(shop, ret["id"])), 10, what="the retried alert job")
        time.sleep(0.5)
    assert len(to(sink, boss)) == 1
    # a send that certainly failed (the server refused the recipient) is retried and sent
    sink.reject_next(1, 421)
    o2 = shop.order([("Cup", "4.00", 1)], email=unique_email("cust"))
    ret2 = shop.create(o2, [(0, 1, "wrong_item")])
    done = wait_for(lambda: (lambda j: j if j and j["status"] == "done" else None)(
        alert_job(shop, ret2["id"])), 15, what="the second alert job")
    assert done["result"]["sent"] == "email" and done["attempts"] == 2, done
    assert len(to(sink, boss)) == 2 and sink.rejected
    shop.close()
    admin.close()


def test_an_alert_cut_off_by_a_crash_is_not_sent_again_after_restart(
        pg, base_env, service_factory, admin_token, fake, sink):  # noqa: F811
    db = new_migrated_db(pg, base_env)
    first = service_factory.start(env=mail_env(pg, db, sink, SMTP_TIMEOUT_MS="20000"),
                                  name="alert-k1")
    shop, admin, boss = new_shop(first, admin_token, fake)
    sink.hold_next_data(1, 4)
    o = shop.order([("Vase", "30.00", 1)], email=unique_email("cust"))
    ret = shop.create(o, [(0, 1, "wrong_item")])
    # the sink has the message and holds its "250": kill the service now
    wait_for(lambda: to(sink, boss), 10, interval=0.02, what="the alert at the sink")
    first.kill()
    assert first.returncode == -9
    second = service_factory.start(env=mail_env(pg, db, sink, SMTP_TIMEOUT_MS="20000"),
                                   name="alert-k2")
    shop.api.close()
    shop.api = client(second.url, shop.api_key)
    shop.svc = second
    # the job was 'running' under the dead service's lease (JOB_LEASE_S=5): it runs again
    job = wait_for(lambda: (lambda j: j if j and j["status"] == "done" else None)(
        alert_job(shop, ret["id"])), 20, what="the alert job after the restart")
    assert job["attempts"] == 2, job
    assert "unconfirmed" in job["result"], job
    time.sleep(0.5)
    assert len(to(sink, boss)) == 1
    shop.close()
    admin.close()
