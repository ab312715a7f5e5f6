"""The harness itself: where the WooCommerce archive comes from, and that the
shop it starts is the real thing (WordPress 6.1, WooCommerce 7.9.0, OAuth
only over plain HTTP, the REST key and the Application Password work)."""

import base64
import shutil
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import pytest

import realwoo_shop as rw


# -- finding the archive (no shop needed)

def test_explicit_archive_that_is_missing_is_an_error_not_a_skip(tmp_path):
    missing = tmp_path / "nope.tar.gz"
    with pytest.raises(rw.HarnessError, match="WOOCOMMERCE_ARCHIVE=.*nope.tar.gz is not a file"):
        rw.find_archive(env={"WOOCOMMERCE_ARCHIVE": str(missing)})


def test_explicit_archive_wins(tmp_path):
    a = tmp_path / "wc.tar.gz"
    a.write_bytes(b"x")
    assert rw.find_archive(repo=tmp_path, env={"WOOCOMMERCE_ARCHIVE": str(a)}) == a


def test_shared_copy_beside_the_repo_is_found(tmp_path):
    repo = tmp_path / "clone"
    repo.mkdir()
    shared = tmp_path / "shared" / "woocommerce" / rw.SHARED_NAME
    shared.parent.mkdir(parents=True)
    shared.write_bytes(b"x")
    assert rw.find_archive(repo=repo, env={}, download=False) == shared


def test_nothing_anywhere_gives_one_skip_reason(tmp_path, monkeypatch):
    repo = tmp_path / "clone"
    repo.mkdir()
    monkeypatch.setenv("REALWOO_CACHE", str(tmp_path / "cache"))
    with pytest.raises(rw.ArchiveMissing) as exc:
        rw.find_archive(repo=repo, env={"WOOCOMMERCE_DOWNLOAD": "0"})
    msg = str(exc.value)
    assert "\n" not in msg
    assert msg.startswith("no WooCommerce 7.9.0: WOOCOMMERCE_ARCHIVE unset, no ")
    assert str(tmp_path / "shared" / "woocommerce" / rw.SHARED_NAME) in msg
    assert msg.endswith("downloads disabled (WOOCOMMERCE_DOWNLOAD=0)")


def test_download_is_cached_and_a_zip_unpacks(tmp_path, monkeypatch):
    """The download path (no internet needed: a file:// URL stands in for
    downloads.wordpress.org), then the zip unpacked once into the cache."""
    src = tmp_path / "plugin.zip"
    with zipfile.ZipFile(src, "w") as z:
        z.writestr("woocommerce/woocommerce.php", "<?php /* Version: 7.9.0 */\n")
    repo = tmp_path / "clone"
    repo.mkdir()
    cache = tmp_path / "cache"
    monkeypatch.setenv("REALWOO_CACHE", str(cache))
    monkeypatch.setattr(rw, "DOWNLOAD_URL", src.as_uri())
    got = rw.find_archive(repo=repo, env={})
    assert got == cache / "woocommerce.7.9.0.zip" and got.read_bytes() == src.read_bytes()
    plugin = rw.unpacked_plugin(got, cache)
    assert (plugin / "woocommerce.php").read_text().startswith("<?php")
    assert plugin.parent.name == "woocommerce-" + rw.sha256_file(got)[:16]
    assert rw.unpacked_plugin(got, cache) == plugin  # the second time from the cache
    # next time the cached zip is used without asking the network
    monkeypatch.setattr(rw, "DOWNLOAD_URL", (tmp_path / "gone.zip").as_uri())
    assert rw.find_archive(repo=repo, env={}) == got
    got.unlink()
    with pytest.raises(rw.ArchiveMissing, match=r"download of file://.*gone.zip failed"):
        rw.find_archive(repo=repo, env={})


def test_without_archive_the_suite_is_skipped_with_that_line(tmp_path):
    """A whole pytest run of this folder in a clone with no ../shared, downloads
    off: every shop test is skipped, with the reason, and nothing fails."""
    here = Path(__file__).resolve().parent
    clone = tmp_path / "clone"
    # tests/ alone, without .git: the main-worktree lookup cannot find the real ../shared.
    shutil.copytree(here.parent, clone / "tests",
                    ignore=shutil.ignore_patterns("__pycache__", "node_modules"))
    env = {"PATH": "/usr/bin:/bin", "WOOCOMMERCE_DOWNLOAD": "0",
           "REALWOO_CACHE": str(tmp_path / "cache"), "HOME": str(tmp_path),
           "AFTERSALE_BIN": rw.os.environ.get("AFTERSALE_BIN", str(here.parents[1] / "build"
                                                                     / "aftersale"))}
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-ra", "-p", "no:cacheprovider",
                        "tests/realwoo/test_harness.py", "-k", "shop_is_real"],
                       cwd=clone, env=env, capture_output=True, text=True, timeout=300)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out
    skips = [line for line in out.splitlines() if line.startswith("SKIPPED")]
    assert len(skips) == 1, out
    assert "real WooCommerce tests skipped: no WooCommerce 7.9.0: WOOCOMMERCE_ARCHIVE unset" \
        in skips[0], out
    assert "1 skipped" in out and "passed" not in out and "failed" not in out, out


# -- the shop

def _get(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_shop_is_real(real_shop):
    shop = real_shop
    # the versions the brief is about
    [[wc]] = shop.sql("SELECT option_value FROM wp_options WHERE option_name='woocommerce_version'")
    assert wc == "7.9.0"
    [[db_version]] = shop.sql("SELECT option_value FROM wp_options WHERE option_name='db_version'")
    assert int(db_version) >= 53496  # WordPress 6.1
    # OAuth 1.0a with the REST key works; the three seeded products are there
    # (modules that ran before this one in the same shop may have added more)
    products = shop.wc("GET", "/products", {"per_page": "100"}, expect=200)
    seeded = {p["id"] for p in shop.products}
    assert seeded <= {p["id"] for p in products}
    assert {p["name"]: p["price"] for p in products if p["id"] in seeded} == {
        "Mug": "13.00", "Teapot": "40.00", "Tea towel": "7.50"}
    # Basic with the REST key over plain HTTP is ignored (anonymous -> 401)
    basic = base64.b64encode(f"{shop.ck}:{shop.cs}".encode()).decode()
    status, body = _get(shop.url + "/wp-json/wc/v3/products", {"Authorization": f"Basic {basic}"})
    assert status == 401 and b"woocommerce_rest_cannot_view" in body
    # the Application Password authenticates the admin on wp/v2 (WP_ENVIRONMENT_TYPE local)
    app = base64.b64encode(f"{shop.admin_user}:{shop.app_password}".encode()).decode()
    status, body = _get(shop.url + "/wp-json/wp/v2/users/me?context=edit",
                        {"Authorization": f"Basic {app}"})
    assert status == 200, body
    assert b'"username":"admin"' in body
    assert shop.timings["ready"] > 0
