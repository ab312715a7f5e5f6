"""A private WordPress 6.1 + WooCommerce 7.9.0 shop on 127.0.0.1, for tests.

What it starts (everything under one private base directory, all stopped
by stop()):
  * MariaDB (Debian's mariadbd) on a fresh datadir, socket only
    (--skip-networking), grant tables skipped (nothing else can reach the
    socket's private directory);
  * PHP's built-in server (`php -S`, PHP_CLI_SERVER_WORKERS workers, so the
    shop can answer the service's calls while one of its own requests is
    delivering a webhook) running Debian's WordPress (/usr/share/wordpress)
    through php/router.php, on a free port;
  * a WP_CONTENT_DIR of its own: plugins/woocommerce (a link to the
    unpacked archive, cached under <repo>/.cache/realwoo/ by the archive's
    sha256), the twentytwentythree theme, and php/mu-plugin.php (webhooks
    delivered synchronously and allowed to 127.0.0.1:any port);
  * /etc/wordpress/config-<tag>.php, the config file Debian's wp-config.php
    loads for WORDPRESS_CONFIG=<tag> (one tag per run: parallel runs do not
    collide); removed by stop().

Set-up: php/install.php (WordPress tables, admin user, permalinks, theme),
php/activate.php (WooCommerce and its tables), php/configure.php (EUR shop,
REST key read_write for the admin, an Application Password, 3 products).

The WooCommerce archive (find_archive): $WOOCOMMERCE_ARCHIVE if set (an
error if it names no file: a wrong explicit setting is never a silent
skip), else ../shared/woocommerce/woocommerce-7.9.0.tar.gz beside the repo
(or beside the main worktree, for a git worktree elsewhere), else a zip
already downloaded to .cache/realwoo/, else a download of the same version
from downloads.wordpress.org (unless WOOCOMMERCE_DOWNLOAD=0). Without any
of them ArchiveMissing carries the one-line reason the tests are skipped with.

Stdlib only, so scripts/realwoo can use it without pytest.
"""

import atexit
import base64
import hashlib
import hmac
import json
import re
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PHP_DIR = HERE / "php"
REPO = HERE.parents[1]

WC_VERSION = "7.9.0"
SHARED_NAME = f"woocommerce-{WC_VERSION}.tar.gz"
DOWNLOAD_URL = f"https://downloads.wordpress.org/plugin/woocommerce.{WC_VERSION}.zip"
WP_ROOT = Path("/usr/share/wordpress")
THEME_DIR = WP_ROOT / "wp-content" / "themes" / "twentytwentythree"
MARIADBD = "/usr/sbin/mariadbd"
MARIADB_INSTALL_DB = "/usr/bin/mariadb-install-db"
PHP = "/usr/bin/php"
WP_CONFIG_DIR = Path("/etc/wordpress")
STEP_TIMEOUT_S = 180
START_TIMEOUT_S = 60


# Shops of this process still running: stopped at exit if a caller never did
# (an interrupted test run must not leave mariadbd or php -S behind).
_LIVE = set()


def _stop_leftovers():
    for shop in list(_LIVE):
        try:
            shop.stop()
        except Exception:  # noqa: BLE001 (last-resort cleanup)
            pass


atexit.register(_stop_leftovers)


class ArchiveMissing(Exception):
    """No WooCommerce archive anywhere: the tests are skipped with str(self)."""


class HarnessError(Exception):
    """The shop could not be set up (a wrong setting, a missing package, a failing step)."""


# --------------------------------------------------------------------------
# finding and unpacking WooCommerce


def shared_candidates(repo=REPO):
    """../shared/woocommerce/<archive> beside the repo, and beside the main worktree."""
    roots = [Path(repo)]
    try:
        common = subprocess.run(["git", "-C", str(repo), "rev-parse", "--path-format=absolute",
                                 "--git-common-dir"], capture_output=True, text=True, timeout=10)
        if common.returncode == 0 and common.stdout.strip():
            main = Path(common.stdout.strip()).parent
            if main not in roots:
                roots.append(main)
    except (OSError, subprocess.SubprocessError):
        pass
    return [r.parent / "shared" / "woocommerce" / SHARED_NAME for r in roots]


def cache_root(repo=REPO):
    return Path(os.environ.get("REALWOO_CACHE", str(Path(repo) / ".cache" / "realwoo")))


def _download(url, dest, timeout=20):
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}")
    with urllib.request.urlopen(url, timeout=timeout) as r, open(tmp, "wb") as f:
        shutil.copyfileobj(r, f)
    with zipfile.ZipFile(tmp) as z:  # a truncated or HTML answer fails here
        if "woocommerce/woocommerce.php" not in z.namelist():
            raise HarnessError(f"{url} is not the WooCommerce plugin zip")
    os.replace(tmp, dest)
    return dest


def find_archive(repo=REPO, env=None, download=True):
    """Path of the WooCommerce 7.9.0 archive (.tar.gz or .zip); see the module doc."""
    env = os.environ if env is None else env
    explicit = env.get("WOOCOMMERCE_ARCHIVE")
    if explicit:
        p = Path(explicit)
        if not p.is_file():
            raise HarnessError(f"WOOCOMMERCE_ARCHIVE={explicit} is not a file "
                               f"(unset it to use ../shared/woocommerce/ or a download)")
        return p
    tried = shared_candidates(repo)
    for p in tried:
        if p.is_file():
            return p
    zipped = cache_root(repo) / f"woocommerce.{WC_VERSION}.zip"
    if zipped.is_file():
        return zipped
    if not download or env.get("WOOCOMMERCE_DOWNLOAD") == "0":
        why = "downloads disabled (WOOCOMMERCE_DOWNLOAD=0)"
    else:
        try:
            return _download(DOWNLOAD_URL, zipped)
        except (OSError, urllib.error.URLError, zipfile.BadZipFile, HarnessError) as exc:
            why = f"download of {DOWNLOAD_URL} failed ({exc})"
    raise ArchiveMissing(f"no WooCommerce {WC_VERSION}: WOOCOMMERCE_ARCHIVE unset, "
                         f"no {' or '.join(str(p) for p in tried)}, {why}")


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def unpacked_plugin(archive, cache=None):
    """The plugin folder `woocommerce/` of the archive, unpacked once per sha256."""
    cache = cache or cache_root()
    digest = sha256_file(archive)
    dest = cache / f"woocommerce-{digest[:16]}"
    plugin = dest / "woocommerce"
    if (dest / ".complete").is_file():
        return plugin
    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".unpack-", dir=cache))
    try:
        if str(archive).endswith(".zip"):
            with zipfile.ZipFile(archive) as z:
                z.extractall(tmp)
        else:
            subprocess.run(["tar", "-xzf", str(archive), "-C", str(tmp), "--no-same-owner"],
                           check=True, timeout=STEP_TIMEOUT_S)
        if not (tmp / "woocommerce" / "woocommerce.php").is_file():
            raise HarnessError(f"{archive} does not unpack to woocommerce/woocommerce.php")
        (tmp / ".complete").write_text(f"{archive}\n{digest}\n")
        try:
            os.rename(tmp, dest)
        except OSError:  # another run won the race (dest exists and is not empty)
            if not (dest / ".complete").is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return plugin


# --------------------------------------------------------------------------
# small utilities


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(pred, timeout, what, proc=None, log=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        if proc is not None and proc.poll() is not None:
            raise HarnessError(f"{what}: process exited with {proc.returncode}\n{_tail(log)}")
        time.sleep(0.05)
    raise HarnessError(f"{what}: not ready after {timeout}s\n{_tail(log)}")


def _tail(path, n=3000):
    try:
        return Path(path).read_text(errors="replace")[-n:] if path else ""
    except OSError:
        return ""


def require_packages():
    """A clear failure (never a skip) when Debian's packages are missing."""
    missing = [p for p in (MARIADBD, MARIADB_INSTALL_DB, PHP, str(WP_ROOT / "wp-load.php"),
                           str(THEME_DIR / "style.css")) if not os.path.exists(p)]
    if missing:
        raise HarnessError(f"missing {', '.join(missing)}: run scripts/install-deps "
                           f"(wordpress, mariadb-server, php-cli, php-mysql, ...)")
    if not os.access(WP_CONFIG_DIR, os.W_OK):
        raise HarnessError(f"{WP_CONFIG_DIR} is not writable: Debian's wp-config.php reads the "
                           f"shop's config from there (run as root)")


# --------------------------------------------------------------------------
# OAuth 1.0a, one-legged, as WooCommerce checks it over plain HTTP


def _enc(s):
    return urllib.parse.quote(str(s), safe="~-._")


def oauth_query(method, url, params, ck, cs):
    """The query string (params + oauth_*) of a signed request to `url` (no query in url)."""
    p = {k: str(v) for k, v in (params or {}).items()}
    p.update({"oauth_consumer_key": ck, "oauth_nonce": secrets.token_hex(16),
              "oauth_signature_method": "HMAC-SHA256", "oauth_timestamp": str(int(time.time()))})
    norm = "&".join(f"{_enc(k)}={_enc(p[k])}" for k in sorted(p))
    base = "&".join([method.upper(), _enc(url), _enc(norm)])
    sig = base64.b64encode(hmac.new((cs + "&").encode(), base.encode(), hashlib.sha256).digest())
    p["oauth_signature"] = sig.decode()
    return urllib.parse.urlencode(p, quote_via=urllib.parse.quote)


# --------------------------------------------------------------------------
# the shop


class Shop:
    """One private WordPress + WooCommerce; start() then stop()."""

    def __init__(self, archive, base=None, workers=4):
        self.archive = Path(archive)
        self.base = Path(base) if base else Path(tempfile.mkdtemp(prefix="aftersale-woo-"))
        self.base.mkdir(parents=True, exist_ok=True)
        os.chmod(self.base, 0o755)  # mariadbd runs as mysql and must reach its dirs
        self.workers = workers
        self.tag = "realwoo-" + secrets.token_hex(6)
        self.port = None
        self.url = None
        self.ck = "ck_" + secrets.token_hex(20)
        self.cs = "cs_" + secrets.token_hex(20)
        self.admin_user = "admin"
        self.admin_password = secrets.token_urlsafe(18)
        self.app_password = None
        self.products = []
        self.timings = {}
        self.db_proc = None
        self.php_proc = None
        self.config_file = WP_CONFIG_DIR / f"config-{self.tag}.php"
        self.content = self.base / "wp-content"
        self.db_dir = self.base / "mariadb"
        self.run_dir = self.base / "run"
        self.sock = self.run_dir / "mariadb.sock"
        self.logs = self.base / "logs"

    # -- lifecycle
    def start(self, keep_running=False):
        """Set everything up; with keep_running the processes outlive this
        Python process (scripts/realwoo start), else they are stopped at exit."""
        t0 = time.monotonic()
        if not keep_running:
            _LIVE.add(self)
        try:
            require_packages()
            plugin = unpacked_plugin(self.archive)
            self._lap("unpack", t0)
            self._content(plugin)
            self._start_mariadb()
            self._lap("mariadb", t0)
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            self._write_config()
            self.admin_id = self._step("install.php")["admin_id"]
            self._lap("wp_install", t0)
            self._step("activate.php")
            self._lap("wc_activate", t0)
            conf = self._step("configure.php")
            self.app_password = conf["app_password"]
            self.products = conf["products"]
            self._lap("configure", t0)
            self._start_php()
            self._lap("ready", t0)
        except BaseException:
            self.stop()
            raise
        return self

    def _lap(self, name, t0):
        self.timings[name] = round(time.monotonic() - t0, 2)

    def stop(self):
        """Stop what start() started (by pid), remove the config file. Idempotent."""
        for attr in ("php_proc", "db_proc"):
            proc = getattr(self, attr)
            if proc is None:
                continue
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)  # the server and its workers
                except ProcessLookupError:
                    pass
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)
            setattr(self, attr, None)
        try:
            self.config_file.unlink()
        except FileNotFoundError:
            pass
        _LIVE.discard(self)

    def destroy(self):
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    # -- pieces
    def _content(self, plugin):
        for d in ("plugins", "themes", "mu-plugins", "uploads", "upgrade"):
            (self.content / d).mkdir(parents=True, exist_ok=True)
        (self.content / "plugins" / "woocommerce").symlink_to(plugin)
        (self.content / "themes" / "twentytwentythree").symlink_to(THEME_DIR)
        shutil.copy(PHP_DIR / "mu-plugin.php", self.content / "mu-plugins" / "aftersale-tests.php")

    def _as_mysql(self):
        return os.geteuid() == 0

    def _start_mariadb(self):
        for d in (self.db_dir, self.run_dir, self.logs):
            d.mkdir(parents=True, exist_ok=True)
        user = ["--user=mysql"] if self._as_mysql() else []
        if self._as_mysql():
            for d in (self.db_dir, self.run_dir):
                shutil.chown(d, "mysql", "mysql")
        log = self.logs / "mariadb-install.log"
        with open(log, "wb") as out:
            p = subprocess.run([MARIADB_INSTALL_DB, "--no-defaults", f"--datadir={self.db_dir}",
                                "--skip-test-db", "--skip-name-resolve",
                                "--auth-root-authentication-method=normal"] + user,
                               stdout=out, stderr=subprocess.STDOUT, timeout=STEP_TIMEOUT_S)
        if p.returncode != 0:
            raise HarnessError(f"mariadb-install-db failed ({p.returncode}):\n{_tail(log)}")
        err = self.logs / "mariadb.err"
        self.db_proc = subprocess.Popen(
            [MARIADBD, "--no-defaults", f"--datadir={self.db_dir}", f"--socket={self.sock}",
             f"--pid-file={self.run_dir / 'mariadb.pid'}", "--skip-networking",
             "--skip-grant-tables", "--skip-log-bin", f"--log-error={err}",
             f"--tmpdir={self.run_dir}", "--innodb-flush-log-at-trx-commit=0",
             "--innodb-doublewrite=0", "--innodb-buffer-pool-size=128M",
             "--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci"] + user,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        _wait(self.sock.exists, START_TIMEOUT_S, "mariadbd", self.db_proc, err)
        self.sql("CREATE DATABASE wordpress")

    def sql(self, statement):
        """Run SQL in the shop's database (rows as tab-separated lines)."""
        p = subprocess.run(["mariadb", "--no-defaults", f"--socket={self.sock}", "-u", "root",
                            "-N", "-B", "-D", "mysql" if "CREATE DATABASE" in statement
                            else "wordpress", "-e", statement],
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise HarnessError(f"mariadb {statement!r}: {p.stderr}")
        return [line.split("\t") for line in p.stdout.splitlines()]

    def _write_config(self):
        keys = "".join(f"define('{k}', '{secrets.token_hex(32)}');\n" for k in
                       ("AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY", "AUTH_SALT",
                        "SECURE_AUTH_SALT", "LOGGED_IN_SALT", "NONCE_SALT"))
        text = f"""<?php
/* aftersale real-WooCommerce test shop {self.tag} (tests/realwoo); removed when it stops. */
define('DB_NAME', 'wordpress');
define('DB_USER', 'root');
define('DB_PASSWORD', '');
define('DB_HOST', 'localhost:{self.sock}');
define('DB_CHARSET', 'utf8mb4');
define('WP_HOME', '{self.url}');
define('WP_SITEURL', '{self.url}');
define('WP_CONTENT_DIR', '{self.content}');
define('WP_CONTENT_URL', '{self.url}/wp-content');
define('WP_ENVIRONMENT_TYPE', 'local');
define('DISABLE_WP_CRON', true);
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_DEBUG', false);
define('FS_METHOD', 'direct');
{keys}$table_prefix = 'wp_';
"""
        self.config_file.write_text(text)

    def _php_env(self):
        env = dict(os.environ)
        env.update({"WORDPRESS_CONFIG": self.tag, "REALWOO_HOST": f"127.0.0.1:{self.port}",
                    "REALWOO_CONTENT_DIR": str(self.content),
                    "REALWOO_ADMIN_PASSWORD": self.admin_password,
                    "REALWOO_CK": self.ck, "REALWOO_CS": self.cs})
        return env

    def _step(self, script, *args):
        log = self.logs / f"{script}.log"
        p = subprocess.run([PHP, "-d", "memory_limit=1G", "-d", "display_errors=stderr",
                            str(PHP_DIR / script)] + [str(a) for a in args],
                           env=self._php_env(), capture_output=True,
                           text=True, timeout=STEP_TIMEOUT_S)
        with open(log, "a") as f:  # a step may run more than once (aftersale-plugin.php)
            f.write(p.stdout + "\n--- stderr\n" + p.stderr)
        lines = [line for line in p.stdout.splitlines() if line.startswith("{")]
        if p.returncode != 0 or not lines:
            raise HarnessError(f"{script} failed ({p.returncode}):\n{p.stdout[-2000:]}\n"
                               f"{p.stderr[-3000:]}")
        return json.loads(lines[-1])

    def _start_php(self):
        env = self._php_env()
        env["PHP_CLI_SERVER_WORKERS"] = str(self.workers)
        log = self.logs / "php-server.log"
        with open(log, "wb") as out:
            self.php_proc = subprocess.Popen(
                [PHP, "-d", "memory_limit=512M", "-d", "display_errors=stderr",
                 "-S", f"127.0.0.1:{self.port}", "-t", str(WP_ROOT), str(PHP_DIR / "router.php")],
                env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True, cwd=str(WP_ROOT))

        def ready():
            try:
                with urllib.request.urlopen(self.url + "/wp-json/", timeout=5) as r:
                    return r.status == 200
            except (OSError, urllib.error.URLError):
                return False
        _wait(ready, START_TIMEOUT_S, "php -S (WordPress)", self.php_proc, log)

    # -- the aftersale plugin (tests/realwoo/test_plugin_shop.py)
    def install_aftersale(self, src=REPO / "wordpress" / "aftersale"):
        """Copy the plugin into wp-content/plugins/aftersale (a copy, not a link:
        WordPress resolves __FILE__ of a linked plugin to the link's target and
        its activation hook would never run) and activate it. Returns
        php/aftersale-plugin.php's answer: {active, points_rules}."""
        dest = self.content / "plugins" / "aftersale"
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(src, dest, ignore=shutil.ignore_patterns("phpcs.xml"))
        return self._step("aftersale-plugin.php", "activate")

    def remove_aftersale(self):
        """Deactivate the plugin, delete its options and its copy."""
        out = self._step("aftersale-plugin.php", "deactivate")
        shutil.rmtree(self.content / "plugins" / "aftersale", ignore_errors=True)
        return out

    def create_customer(self, login, email, password):
        """A WooCommerce customer (role customer) who can log in; returns the user id."""
        return self._step("aftersale-plugin.php", "customer", login, email, password)["id"]

    def set_options(self, **values):
        """Write WordPress options straight into wp_options, autoload off
        (tests/realwoo/test_plugin_returns.py configures the plugin this way;
        test_plugin_shop.py does it in Chromium). Values: str or int."""
        for name, value in values.items():
            assert re.fullmatch(r"[a-z0-9_]+", name), name
            v = str(value).replace("\\", "\\\\").replace("'", "\\'")
            self.sql(f"INSERT INTO wp_options (option_name, option_value, autoload) VALUES "
                     f"('{name}', '{v}', 'no') ON DUPLICATE KEY UPDATE option_value = '{v}'")

    def add_mu_plugin(self, name, text):
        """A must-use plugin for this shop only (remove it with remove_mu_plugin)."""
        path = self.content / "mu-plugins" / name
        path.write_text(text)
        return path

    def remove_mu_plugin(self, name):
        try:
            (self.content / "mu-plugins" / name).unlink()
        except FileNotFoundError:
            pass

    @property
    def server_log(self):
        """The PHP server's log (its stderr: PHP's errors, and one line per request)."""
        return self.logs / "php-server.log"

    # -- talking to the shop
    def rest(self, method, path, params=None, json_body=None, timeout=60):
        """A wc/v3 (or any wp-json) call signed with the shop's REST key: (status, json)."""
        url = f"{self.url}/wp-json{path}"
        q = oauth_query(method, url, params, self.ck, self.cs)
        data = None
        headers = {"Accept": "application/json"}
        if json_body is not None:
            data = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(f"{url}?{q}", data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            body = e.read()
            try:
                return e.code, json.loads(body)
            except ValueError:
                return e.code, body.decode(errors="replace")

    def wc(self, method, path, params=None, json_body=None, expect=None):
        """rest() under /wc/v3; with expect, asserts the status and returns the json."""
        status, body = self.rest(method, "/wc/v3" + path, params, json_body)
        if expect is not None and status != expect:
            raise AssertionError(f"{method} /wc/v3{path}: {status}, expected {expect}: {body}")
        return body if expect is not None else (status, body)

    # the names tests/integration's Linked / LoyalShop read from a fake shop
    @property
    def base_url(self):
        return self.url

    @property
    def consumer_key(self):
        return self.ck

    @property
    def consumer_secret(self):
        return self.cs

    # -- for scripts/realwoo
    def describe(self):
        return {"url": self.url, "consumer_key": self.ck, "consumer_secret": self.cs,
                "admin_user": self.admin_user, "admin_password": self.admin_password,
                "app_password": self.app_password, "products": self.products,
                "base": str(self.base), "config_file": str(self.config_file),
                "mariadb_socket": str(self.sock),
                "pids": {"php": self.php_proc.pid if self.php_proc else None,
                         "mariadbd": self.db_proc.pid if self.db_proc else None},
                "timings_s": self.timings}
