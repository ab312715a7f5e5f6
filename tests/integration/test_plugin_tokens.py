"""The WordPress plugin's customer tokens, checked against the service.

The tokens are minted by the plugin's own PHP (Aftersale_Tokens, through
tests/plugin/mint.php, which loads the plugin with the PHPUnit stubs) with
a shop's token_secret, and used on GET /v1/me/loyalty: the service accepts
what the plugin mints for a logged-in customer (sub) and for a guest
(email), and refuses the same token tampered with, re-signed with another
secret, or expired.
"""

import base64
import json
import os
import subprocess
from pathlib import Path

import pytest

from loyalty_helpers import (fake, loyal, loyalty_verified, woo_admin, woo_db,  # noqa: F401
                             woo_svc)

MINT = Path(__file__).resolve().parents[1] / "plugin" / "mint.php"


def php_mint(mode, shop_id, secret, who, *extra):
    p = subprocess.run(["php", str(MINT), mode, str(shop_id), "-", str(who), *map(str, extra)],
                       env=dict(os.environ, AFTERSALE_TOKEN_SECRET=secret),
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return p.stdout


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64e(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


@pytest.fixture(scope="module", autouse=True)
def _php():
    if subprocess.run(["php", "-v"], capture_output=True).returncode != 0:
        pytest.fail("php is required (scripts/install-deps installs php-cli)")


def test_a_token_the_plugin_mints_is_accepted_and_a_tampered_one_is_not(loyal):
    loyal.settings(points_per_unit="1", rounding="down")
    loyal.completed_order("42.00", email="wp@example.com", customer_id=801)

    token = php_mint("current", loyal.id, loyal.token_secret, 801)
    head, body, sig = token.split(".")
    claims = json.loads(b64d(body))
    assert claims["sub"] == "801" and claims["aud"] == f"shop:{loyal.id}"
    assert claims["scope"] == "loyalty" and claims["exp"] - claims["iat"] == 300

    r = loyal.me(token).get("/v1/me/loyalty")
    assert r.status_code == 200, r.text
    assert r.json()["customer_id"] == 801 and r.json()["balance"] == 42

    # the same token, another customer in its payload: the signature no longer matches
    forged = dict(claims, sub="802")
    tampered = f"{head}.{b64e(json.dumps(forged, separators=(',', ':')).encode())}.{sig}"
    # one changed character of the signature
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    # signed by the plugin with another shop's secret
    other = php_mint("current", loyal.id, "x" * 43, 801)
    expired = php_mint("raw", loyal.id, loyal.token_secret, 801, -5)
    for name, bad in (("payload", tampered), ("signature", flipped), ("secret", other),
                      ("expired", expired)):
        r = loyal.me(bad).get("/v1/me/loyalty")
        assert r.status_code == 401, (name, r.status_code, r.text)


def test_a_guest_token_is_bound_to_its_email(loyal):
    loyal.settings(points_per_unit="1", rounding="down")
    loyal.completed_order("7.00", email="guest.wp@example.com")
    token = php_mint("guest", loyal.id, loyal.token_secret, "guest.wp@example.com")
    claims = json.loads(b64d(token.split(".")[1]))
    assert "sub" not in claims and claims["email"] == "guest.wp@example.com"
    r = loyal.me(token).get("/v1/me/loyalty")
    assert r.status_code == 200, r.text
    assert r.json()["email"] == "guest.wp@example.com" and r.json()["balance"] == 7


def test_a_resubmitted_redeem_form_spends_once(loyal):
    """The plugin sends Idempotency-Key "wp-<user>-<form uuid>" with a
    redemption: the service takes that key, and the same form sent twice
    (a reload) answers the first coupon again without spending twice."""
    loyal.settings(points_per_unit="1", rounding="down",
                   redemption={"points_per_unit": 100, "min_points": 100})
    loyal.completed_order("300.00", email="twice@example.com", customer_id=803)
    token = php_mint("current", loyal.id, loyal.token_secret, 803)
    me = loyal.me(token)
    key = {"Idempotency-Key": "wp-803-0f8fad5b-d9cb-469f-a165-70867728950e"}
    first = me.post("/v1/me/loyalty/redemptions", json={"points": 100}, headers=key)
    assert first.status_code == 201, first.text
    again = me.post("/v1/me/loyalty/redemptions", json={"points": 100}, headers=key)
    assert again.status_code == 201, again.text
    assert again.json()["code"] == first.json()["code"]
    assert me.get("/v1/me/loyalty").json()["balance"] == 200
    loyal.loyalty_idle()
