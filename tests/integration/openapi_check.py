"""Hold the service's HTTP responses to openapi/openapi.yaml.

The integration suite passes every response it gets to `check()`, so the
spec cannot drift from the binary unnoticed: each response must be one the
spec documents for its operation (method + templated path), with the
documented status code, media type, required headers and body schema.
`spec_routes()` gives the spec's route list, for a test that compares it
with `aftersale routes`.

Rules `check()` applies, in order:
  - The request path is matched against the spec's path templates (literal
    segments first, then templates whose parameters fit their schemas; a
    template still matches a parameter that does not fit, because the
    service answers 400 for it and the spec documents that).
  - HEAD is checked as the GET of the same path (as the router treats it),
    without a body.
  - A path the spec lacks must answer 404, and a spec path asked with a
    method it does not list must answer 405 with an `Allow` header naming
    exactly the spec's methods for that path (docs/api.md: "404 no such
    route", "405 route exists, other method"); both as problem bodies.
  - The status must be documented (exact code, then `4XX`-style range, then
    `default`); an undocumented status is an error.
  - Required headers must be present and fit their schemas; the
    Content-Type's media type must be one documented for the response; a
    JSON body must parse (no duplicate keys) and validate against its
    schema (JSON Schema 2020-12, `$ref`s resolved within the whole spec).
  - A problem body's `status` and `request_id` must equal the HTTP status
    and the `X-Request-Id` header.
Any mismatch raises AssertionError naming method, path, status and what
failed.

Uses only Debian's python3-yaml and python3-jsonschema (4.10, RefResolver;
newer releases with the `referencing` library are used through it).
"""

import functools
import json
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jsonschema
import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

__all__ = ["load_spec", "check", "spec_routes"]

DEFAULT_SPEC = Path(__file__).resolve().parents[2] / "openapi" / "openapi.yaml"

# The base URI the spec document is registered under, so that `$ref`s such
# as "#/components/schemas/Shop" resolve inside it. Never fetched.
SPEC_URI = "https://aftersale.invalid/openapi.yaml"

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

BODY_PREVIEW = 600


class _SpecLoader(yaml.SafeLoader):
    """SafeLoader that leaves timestamps as strings, as JSON would carry them."""


_SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@functools.lru_cache(maxsize=None)
def _load(path):
    with open(path, encoding="utf-8") as f:
        spec = yaml.load(f, Loader=_SpecLoader)  # noqa: S506 (a SafeLoader)
    if not isinstance(spec, dict) or "paths" not in spec:
        raise ValueError(f"{path}: not an OpenAPI document")
    return spec


def load_spec(path=None):
    """The spec as a dict (default: the repo's openapi/openapi.yaml). Cached:
    treat the result as read-only."""
    return _load(str(Path(path).resolve() if path is not None else DEFAULT_SPEC))


def spec_routes(spec=None):
    """{("GET", "/v1/shops/{id}"), ...}: every operation in the spec."""
    spec = spec if spec is not None else load_spec()
    return {
        (method.upper(), template)
        for template, item in spec["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


# --- JSON pointers and $ref ---------------------------------------------------


def _esc(token):
    return str(token).replace("~", "~0").replace("/", "~1")


def _ptr(*tokens):
    return "".join("/" + _esc(t) for t in tokens)


def _at(spec, pointer):
    node = spec
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def _deref(spec, node, pointer):
    """Follow local `$ref`s: returns (target, pointer of target)."""
    seen = set()
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/") or ref in seen:
            raise ValueError(f"unsupported or circular $ref {ref!r} at {pointer}")
        seen.add(ref)
        pointer = ref[1:]
        node = _at(spec, pointer)
    return node, pointer


# --- schema validation --------------------------------------------------------

_validators = {}


def _validator(spec, schema):
    """A 2020-12 validator for `schema`, whose `$ref`s point into the spec by
    absolute URI (SPEC_URI#/...). Cached per spec and schema."""
    key = (id(spec), json.dumps(schema, sort_keys=True))
    spec_seen, v = _validators.get(key, (None, None))
    if spec_seen is not spec:  # new, or an id() reused by another spec
        fmt = jsonschema.FormatChecker()
        try:
            from referencing import Registry  # jsonschema >= 4.18
            from referencing.jsonschema import DRAFT202012
        except ImportError:
            resolver = jsonschema.RefResolver(base_uri=SPEC_URI, referrer=spec)
            v = Draft202012Validator(schema, resolver=resolver, format_checker=fmt)
        else:
            registry = Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(spec))
            v = Draft202012Validator(schema, registry=registry, format_checker=fmt)
        _validators[key] = (spec, v)
    return v


def _schema_at(pointer):
    return {"$ref": SPEC_URI + "#" + pointer}


def _where(error):
    out = "$"
    for p in error.absolute_path:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def _validate(spec, schema, instance):
    """None if valid, else a readable account of why not."""
    errors = list(_validator(spec, schema).iter_errors(instance))
    if not errors:
        return None
    best = best_match(errors)
    lines = [f"{_where(best)}: {best.message}"]
    leaves = []
    for e in errors:
        stack = [e]
        while stack:
            e = stack.pop()
            if e.context:
                stack.extend(e.context)
            else:
                leaves.append(f"{_where(e)}: {e.message}")
    others = [x for x in dict.fromkeys(leaves) if x != lines[0]]
    if others:
        lines.append("also: " + "; ".join(others[:5]))
    return "\n  ".join(lines)


# --- matching a request to an operation ---------------------------------------


def _path_params(spec, template, item):
    """{name: (param, pointer)} of the path parameters of a path item."""
    out = {}
    base = _ptr("paths", template)
    sources = [(item.get("parameters", []), base + "/parameters")]
    for m in HTTP_METHODS:
        if m in item:
            sources.append((item[m].get("parameters", []), f"{base}/{m}/parameters"))
    for params, ptr in sources:
        for i, p in enumerate(params):
            p, pptr = _deref(spec, p, f"{ptr}/{i}")
            if p.get("in") == "path":
                out.setdefault(p["name"], (p, pptr))
    return out


def _param_fits(spec, param, pptr, raw):
    if "schema" not in param:
        return True
    schema, _ = _deref(spec, param["schema"], pptr + "/schema")
    types = schema.get("type")
    types = types if isinstance(types, list) else [types]
    value = raw
    if ("integer" in types or "number" in types) and re.fullmatch(r"-?[0-9]+", raw):
        value = int(raw)
    return _validate(spec, _schema_at(pptr + "/schema"), value) is None


def _segment_regex(template_segment):
    parts = re.split(r"(\{[^}]+\})", template_segment)
    rx = ""
    for part in parts:
        if part.startswith("{") and part.endswith("}"):
            rx += f"(?P<{re.sub(r'[^A-Za-z0-9_]', '_', part[1:-1])}>[^/]+)"
        else:
            rx += re.escape(part)
    return re.compile(rx)


def _match_path(spec, path):
    """(template, path item, {param: value}) for the request path, or None."""
    segments = [unquote(s) for s in path.split("/")]
    best = None
    for template, item in spec["paths"].items():
        tsegs = template.split("/")
        if len(tsegs) != len(segments):
            continue
        values, literal = {}, 0
        for t, s in zip(tsegs, segments):
            m = _segment_regex(t).fullmatch(s)
            if not m:
                break
            if "{" not in t:
                literal += 1
            names = re.findall(r"\{([^}]+)\}", t)
            for name, value in zip(names, m.groups()):
                values[name] = value
        else:
            params = _path_params(spec, template, item)
            fits = all(
                _param_fits(spec, *params[name], value)
                for name, value in values.items()
                if name in params
            )
            score = (literal, fits)
            if best is None or score > best[0]:
                best = (score, template, item, values)
    return None if best is None else best[1:]


def _request_path(spec, url):
    path = urlsplit(url).path or "/"
    servers = spec.get("servers") or [{"url": "/"}]
    base = urlsplit(servers[0].get("url", "/")).path.rstrip("/")
    if base and (path == base or path.startswith(base + "/")):
        path = path[len(base):] or "/"
    return path


# --- the check ----------------------------------------------------------------


def _media_type(content_type):
    return content_type.split(";", 1)[0].strip().lower()


def _is_json(media_type):
    return media_type == "application/json" or media_type.endswith("+json")


def _no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    dups = sorted({k for k in keys if keys.count(k) > 1})
    if dups:
        raise ValueError(f"duplicate keys {dups}")
    return dict(pairs)


def _coerce_header(spec, hschema_ptr, raw):
    schema, _ = _deref(spec, _at(spec, hschema_ptr), hschema_ptr)
    types = schema.get("type")
    types = types if isinstance(types, list) else [types]
    if "integer" in types and re.fullmatch(r"-?[0-9]+", raw.strip()):
        return int(raw.strip())
    if "number" in types:
        try:
            return float(raw)
        except ValueError:
            return raw
    if "boolean" in types and raw in ("true", "false"):
        return raw == "true"
    return raw


class _Failure(Exception):
    pass


def _check_header(spec, response, name, header, hptr):
    header, hptr = _deref(spec, header, hptr)
    raw = response.headers.get(name)
    if raw is None:
        if header.get("required"):
            raise _Failure(f"missing required header {name}")
        return
    if "schema" in header:
        value = _coerce_header(spec, hptr + "/schema", raw)
        why = _validate(spec, _schema_at(hptr + "/schema"), value)
        if why:
            raise _Failure(f"header {name}: {raw!r} does not fit its schema: {why}")


def _check_headers(spec, response, resp, rptr):
    for name, header in (resp.get("headers") or {}).items():
        if name.lower() != "content-type":  # OpenAPI: ignored in `headers`
            _check_header(spec, response, name, header, f"{rptr}/headers/{_esc(name)}")


def _documented_media_type(content, media_type):
    """The `content` key for a response media type: exact, type/*, or */*."""
    by_type = {_media_type(k): k for k in content}
    for candidate in (media_type, media_type.split("/")[0] + "/*", "*/*"):
        if candidate in by_type:
            return by_type[candidate]
    return None


def _check_body(spec, response, method, resp, rptr):
    content = resp.get("content")
    body = response.content or b""
    if not content:
        if body:
            raise _Failure(f"documented without a body, but has {len(body)} bytes")
        return
    ctype = response.headers.get("Content-Type")
    if not ctype:
        raise _Failure(f"no Content-Type; documented: {sorted(content)}")
    mt = _media_type(ctype)
    key = _documented_media_type(content, mt)
    if key is None:
        raise _Failure(f"Content-Type {ctype!r} is not documented; documented: {sorted(content)}")
    if method == "HEAD":
        return
    media = content[key]
    sptr = f"{rptr}/content/{_esc(key)}/schema"
    if _is_json(mt):
        try:
            instance = json.loads(body.decode("utf-8"), object_pairs_hook=_no_duplicates)
        except (UnicodeDecodeError, ValueError) as e:
            raise _Failure(f"body is not valid JSON ({e})") from None
    elif mt.startswith("image/"):
        # binary (a return's photo): the documented type is all there is to check
        if not body:
            raise _Failure("an image without bytes")
        return
    else:
        try:
            instance = body.decode(response.encoding or "utf-8")
        except (LookupError, UnicodeDecodeError) as e:
            raise _Failure(f"body is not text ({e})") from None
    if "schema" in media:
        why = _validate(spec, _schema_at(sptr), instance)
        if why:
            raise _Failure(f"body does not match {_schema_name(spec, media, sptr)}: {why}")
    if mt == "application/problem+json" and isinstance(instance, dict):
        _check_problem(response, instance)


def _schema_name(spec, media, sptr):
    schema = media.get("schema", {})
    if isinstance(schema, dict) and "$ref" in schema:
        return schema["$ref"]
    return "#" + sptr


def _check_problem(response, problem):
    status = problem.get("status")
    if status != response.status_code:
        raise _Failure(f"problem status {status!r} is not the HTTP status {response.status_code}")
    rid = response.headers.get("X-Request-Id")
    if rid is not None and problem.get("request_id") != rid:
        raise _Failure(
            f"problem request_id {problem.get('request_id')!r} is not X-Request-Id {rid!r}"
        )


def _check_unrouted(spec, response, method, status, expected, template=None, item=None):
    """A 404 for a path the spec lacks, a 405 for a method it lacks there."""
    if status != expected:
        if template is None:
            raise _Failure(f"path is not in the spec, so only 404 is expected (got {status})")
        raise _Failure(
            f"{template} has no {method} in the spec, so only 405 is expected (got {status})"
        )
    type_ = {404: "/problems/not-found", 405: "/problems/method-not-allowed"}[expected]
    _check_header(
        spec, response, "X-Request-Id", _at(spec, "/components/headers/XRequestId"),
        "/components/headers/XRequestId",
    )
    body = response.content or b""
    ctype = response.headers.get("Content-Type") or ""
    if _media_type(ctype) != "application/problem+json":
        raise _Failure(f"Content-Type {ctype!r}, expected application/problem+json")
    if method != "HEAD":
        try:
            problem = json.loads(body.decode("utf-8"), object_pairs_hook=_no_duplicates)
        except (UnicodeDecodeError, ValueError) as e:
            raise _Failure(f"body is not valid JSON ({e})") from None
        schema = {
            "allOf": [
                _schema_at("/components/schemas/Problem"),
                {"properties": {"type": {"const": type_}, "status": {"const": expected}}},
            ]
        }
        why = _validate(spec, schema, problem)
        if why:
            raise _Failure(f"body is not a {expected} problem: {why}")
        if isinstance(problem, dict):
            _check_problem(response, problem)
    if expected == 405:
        allow = response.headers.get("Allow")
        if allow is None:
            raise _Failure("405 without an Allow header")
        got = {m.strip().upper() for m in allow.split(",") if m.strip()}
        want = {m.upper() for m in item if m in HTTP_METHODS}
        if got != want:
            raise _Failure(f"Allow: {allow!r}, but the spec has {sorted(want)} for {template}")


def _response_key(responses, status):
    """The key documenting `status`: exact code, then e.g. `4XX`, then `default`."""
    code = str(status)
    for candidate in (code, code[0] + "XX", "default"):
        for k in responses:
            if str(k).upper() == candidate.upper():
                return k
    return None


def check(response, spec=None):
    """Assert that a `requests.Response` is one the spec documents.

    Raises AssertionError (method, path, status and what failed) otherwise.
    """
    spec = spec if spec is not None else load_spec()
    request = getattr(response, "request", None)
    if request is None or not getattr(request, "url", None):
        raise AssertionError("openapi: the response carries no request to match")
    method = request.method.upper()
    path = _request_path(spec, request.url)
    status = response.status_code
    where = f"{method} {path} -> {status}"
    try:
        match = _match_path(spec, path)
        if match is None:
            _check_unrouted(spec, response, method, status, 404)
            return
        template, item, _values = match
        op_method = method.lower()
        if op_method == "head" and "head" not in item:  # the router answers HEAD as GET
            op_method = "get"
        if op_method not in item:
            _check_unrouted(spec, response, method, status, 405, template, item)
            return
        where = f"{method} {path} -> {status} (spec: {op_method.upper()} {template})"
        responses = item[op_method].get("responses") or {}
        rptr = _ptr("paths", template, op_method, "responses")
        key = _response_key(responses, status)
        if key is None:
            documented = ", ".join(sorted(str(k) for k in responses))
            raise _Failure(f"status {status} is not documented (documented: {documented})")
        resp, rptr = _deref(spec, responses[key], f"{rptr}/{_esc(key)}")
        _check_headers(spec, response, resp, rptr)
        _check_body(spec, response, method, resp, rptr)
    except _Failure as failure:
        text = (response.content or b"")[:BODY_PREVIEW].decode("utf-8", "replace")
        raise AssertionError(f"openapi: {where}: {failure}\n  body: {text}") from None
