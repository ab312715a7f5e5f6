"""Tests against a real WordPress 6.1 + WooCommerce 7.9.0 (tests/realwoo/).

The service side is tests/integration's harness (a throwaway PostgreSQL,
the real binary, the contract check): this file loads
tests/integration/conftest.py as the module `aftersale_it` when pytest has
not already loaded it for tests/integration in the same run, and re-exports
its fixtures here (pytest only sees a conftest's fixtures below its folder).

The shop side is realwoo_shop.Shop, one per session (fixture `real_shop`):
  * no WooCommerce archive anywhere (see realwoo_shop.find_archive): every
    test here is SKIPPED with the one reason line (`-ra` shows it once);
  * WOOCOMMERCE_ARCHIVE set but not a file, a missing Debian package, or a
    failing set-up step: every test here FAILS with the reason;
  * the start-up time is printed in the terminal summary.
"""

import importlib.util
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
IT_DIR = HERE.parent / "integration"
for p in (HERE, IT_DIR):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

if "aftersale_it" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("aftersale_it", IT_DIR / "conftest.py")
    _mod = importlib.util.module_from_spec(_spec)
    sys.modules["aftersale_it"] = _mod
    _spec.loader.exec_module(_mod)

from aftersale_it import (_watchdog, admin, admin_token, anon, base_env, cli,  # noqa: E402,F401
                          db_name, fresh_db, migrated, new_shop, pg, secret_key, service,
                          service_factory, workdir)

import realwoo_shop  # noqa: E402

_timings = {}


@pytest.fixture(scope="session")
def woo_archive():
    try:
        return realwoo_shop.find_archive()
    except realwoo_shop.ArchiveMissing as exc:
        pytest.skip(f"real WooCommerce tests skipped: {exc}")
    except realwoo_shop.HarnessError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def real_shop(woo_archive):
    """The running shop (realwoo_shop.Shop), for the whole session."""
    shop = realwoo_shop.Shop(woo_archive)
    try:
        shop.start()
    except realwoo_shop.HarnessError as exc:
        keep = os.environ.get("KEEP_LOGS") == "1"
        if not keep:
            shop.destroy()
        pytest.fail(f"the real WooCommerce shop did not start: {exc}"
                    + (f"\n(logs in {shop.logs})" if keep else ""), pytrace=False)
    _timings.update(shop.timings)
    try:
        yield shop
    finally:
        if os.environ.get("KEEP_LOGS") == "1":
            shop.stop()
            print(f"\nrealwoo: shop logs kept in {shop.logs}")
        else:
            shop.destroy()


def pytest_terminal_summary(terminalreporter):
    if _timings:
        steps = ", ".join(f"{k} {v}s" for k, v in _timings.items())
        terminalreporter.write_line(f"realwoo: WordPress + WooCommerce ready in "
                                    f"{_timings.get('ready')} s ({steps})")
