"""Every settings document goes back as it was read.

A plugin's settings screen reads a document, changes one field and sends the
whole document back. For every settings route: GET -> change one field ->
write the whole document -> GET shows the change and every other field as it
was. Read-only fields (wordpress.application_password_set) are accepted and
ignored on write; unknown fields are still a 422 naming the field; a secret
that is write-only (the WordPress application password) survives a round
trip that does not carry it.
"""

import copy

import pytest

from aftersale_it import assert_problem

# route, write method, the field to change (dotted path), a new value
ROUTES = [
    ("/v1/loyalty/settings", "put", "points_per_unit", "7"),
    ("/v1/loyalty/settings", "put", "redemption.min_points", 321),
    ("/v1/loyalty/settings", "put", "email_tokens_reach_registered", True),
    ("/v1/reviews/settings", "put", "delay", "P3D"),
    ("/v1/messaging/settings", "put", "contact_policy.max_messages", 5),
    ("/v1/messaging/settings", "put", "accent_color", "#0f766e"),
    ("/v1/messaging/settings", "put", "default_locale", "pl"),
    ("/v1/reviews/settings", "put", "sender_name", "Round Trip Shop"),
    ("/v1/reviews/settings", "put", "wordpress.username", "editor"),
    ("/v1/woocommerce/settings", "patch", "sync_interval_s", 900),
    ("/v1/woocommerce/settings", "patch", "delivered_status", "delivered"),
    ("/v1/reviews/settings", "put", "trigger", "delivered"),
    ("/v1/returns/settings", "put", "window_days", 45),
    ("/v1/returns/settings", "put", "resolutions.store_credit_bonus_percent", "12.5"),
    ("/v1/returns/settings", "put", "auto_approve.enabled", True),
]


def get_path(doc, path):
    for part in path.split("."):
        doc = doc[part]
    return doc


def set_path(doc, path, value):
    parts = path.split(".")
    for part in parts[:-1]:
        doc = doc[part]
    doc[parts[-1]] = value


def write(client, method, route, body):
    return getattr(client, method)(route, json=body)


def with_wordpress(client):
    """Reviews settings with WordPress credentials set, so the document has
    a username and application_password_set true."""
    r = client.put("/v1/reviews/settings",
                   json={"wordpress": {"username": "admin", "application_password": "ab cd ef gh"}})
    assert r.status_code == 200, r.text
    assert r.json()["wordpress"] == {"username": "admin", "application_password_set": True}


@pytest.mark.parametrize("route,method,field,value", ROUTES,
                         ids=[f"{r}:{f}" for r, _, f, _ in ROUTES])
def test_get_change_one_field_put_get(new_shop, route, method, field, value):
    _, client = new_shop()
    if route == "/v1/reviews/settings":
        with_wordpress(client)
    r = client.get(route)
    assert r.status_code == 200, r.text
    before = r.json()
    assert get_path(before, field) != value, "pick a value that changes something"

    body = copy.deepcopy(before)
    set_path(body, field, value)
    r = write(client, method, route, body)
    assert r.status_code == 200, r.text

    r = client.get(route)
    assert r.status_code == 200, r.text
    after = r.json()
    want = copy.deepcopy(before)
    set_path(want, field, value)
    assert after == want
    if route == "/v1/reviews/settings":
        # the secret was not in the document and was not wiped by it
        assert after["wordpress"]["application_password_set"] is True


@pytest.mark.parametrize("route,method", [("/v1/loyalty/settings", "put"),
                                          ("/v1/reviews/settings", "put"),
                                          ("/v1/messaging/settings", "put"),
                                          ("/v1/woocommerce/settings", "patch"),
                                          ("/v1/returns/settings", "put")])
def test_unchanged_document_is_accepted_and_changes_nothing(new_shop, route, method):
    _, client = new_shop()
    before = client.get(route).json()
    r = write(client, method, route, before)
    assert r.status_code == 200, r.text
    assert r.json() == before
    assert client.get(route).json() == before


@pytest.mark.parametrize("route,method,bad", [
    ("/v1/loyalty/settings", "put", "nonsense"),
    ("/v1/loyalty/settings", "put", "redemption.nonsense"),
    ("/v1/reviews/settings", "put", "nonsense"),
    ("/v1/reviews/settings", "put", "wordpress.nonsense"),
    ("/v1/reviews/settings", "put", "incentive.nonsense"),
    ("/v1/messaging/settings", "put", "nonsense"),
    ("/v1/messaging/settings", "put", "contact_policy.nonsense"),
    ("/v1/woocommerce/settings", "patch", "nonsense"),
    ("/v1/returns/settings", "put", "nonsense"),
    ("/v1/returns/settings", "put", "resolutions.nonsense"),
    ("/v1/returns/settings", "put", "auto_approve.nonsense"),
])
def test_unknown_fields_are_still_refused(new_shop, route, method, bad):
    _, client = new_shop()
    if route == "/v1/reviews/settings":
        with_wordpress(client)
    body = client.get(route).json()
    set_path(body, bad, 1)
    r = write(client, method, route, body)
    assert_problem(r, 422, "invalid-field", field=bad)
    assert "unknown field" in r.json()["detail"]


def test_read_only_field_is_ignored_not_applied(new_shop):
    """application_password_set is what the service knows; a client cannot
    set it (true without a password) nor clear the password with false."""
    _, client = new_shop()
    r = client.put("/v1/reviews/settings",
                   json={"wordpress": {"username": "admin", "application_password_set": True}})
    assert r.status_code == 200, r.text
    assert r.json()["wordpress"] == {"username": "admin", "application_password_set": False}

    with_wordpress(client)
    r = client.put("/v1/reviews/settings",
                   json={"wordpress": {"username": "admin", "application_password_set": False}})
    assert r.status_code == 200, r.text
    assert r.json()["wordpress"] == {"username": "admin", "application_password_set": True}


def test_wordpress_credentials_are_still_replaced_and_removed(new_shop):
    _, client = new_shop()
    with_wordpress(client)
    r = client.put("/v1/reviews/settings",
                   json={"wordpress": {"username": "other", "application_password": "new pw"}})
    assert r.status_code == 200, r.text
    assert r.json()["wordpress"] == {"username": "other", "application_password_set": True}
    r = client.put("/v1/reviews/settings", json={"wordpress": None})
    assert r.status_code == 200, r.text
    assert r.json()["wordpress"] == {"username": None, "application_password_set": False}
    # a password needs a username to go with it
    r = client.put("/v1/reviews/settings", json={"wordpress": {"application_password": "x y"}})
    assert_problem(r, 422, "invalid-field", field="wordpress.username")
