"""The built-in topic `http.json`: one JSON request to a host on the administrators' allow-list.

Inputs (camunda:inputParameter):
- `url` (required): `http(s)://host/path?query` where `{name}` is replaced by the input `name`, URL-encoded;
- `method`: GET (default), POST, PUT, PATCH or DELETE;
- `timeout`: seconds, default EXTERNAL_HTTP_TIMEOUT (10), at most EXTERNAL_HTTP_MAX_TIMEOUT (30);
- `result`: a variable name; the response goes there whole. Without it the response must be a JSON object,
  whose members are merged into the dossier's data.
Every other input not used in `url` is a member of the JSON body (POST, PUT, PATCH).

Refused (the incident says why, without retrying): a scheme other than http/https, a host not in
EXTERNAL_HTTP_ALLOWED_HOSTS (`host` or `host:port`), a redirect to another host, a response larger than
EXTERNAL_HTTP_MAX_BYTES. A time-out, a connection error or a non-2xx answer fails the attempt (it is retried).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import requests

from portal.core import outbound
from portal.external.registry import ExternalCall, HandlerError, topic

RESERVED = frozenset({"url", "method", "timeout", "result"})
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
MAX_REDIRECTS = 3
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def fill_url(template: str, variables: Mapping[str, Any]) -> tuple[str, set[str]]:
    """The URL with each `{name}` replaced by the URL-encoded value; the names used."""
    used: set[str] = set()

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in variables or variables[name] is None:
            raise HandlerError(f"url: no value for {{{name}}}", retry=False)
        used.add(name)
        value = variables[name]
        text = json.dumps(value) if isinstance(value, bool) else str(value)
        return quote(text, safe="")

    return _PLACEHOLDER.sub(replace, template), used


def check_url(url: str, allowed: list[str]) -> str:
    """The URL's host if the URL may be called; HandlerError (no retry) saying why not."""
    try:
        found = outbound.target(url)
    except outbound.RefusedUrl as refused:
        raise HandlerError(refused.reason, retry=False) from refused
    if not outbound.is_listed(found.host, found.port, outbound.allowed_entries(allowed)):
        raise HandlerError(f"host {found.host} is not in EXTERNAL_HTTP_ALLOWED_HOSTS", retry=False)
    return found.host


def _timeout(value: Any, config: Mapping[str, Any]) -> float:
    default = float(config.get("EXTERNAL_HTTP_TIMEOUT", 10))
    cap = float(config.get("EXTERNAL_HTTP_MAX_TIMEOUT", 30))
    try:
        seconds = float(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        raise HandlerError(f"timeout {value!r} is not a number of seconds", retry=False) from None
    return min(max(seconds, 0.1), cap)


def _read(response: requests.Response, limit: int, deadline: float) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_content(65536):
        size += len(chunk)
        if size > limit:
            raise HandlerError(f"response larger than {limit} bytes (EXTERNAL_HTTP_MAX_BYTES)", retry=False)
        if time.monotonic() > deadline:
            raise HandlerError("the answer took longer than the time-out")
        chunks.append(chunk)
    return b"".join(chunks)


@topic("http.json")
def http_json(call: ExternalCall) -> dict[str, Any]:
    config, variables = call.config, call.variables
    template = variables.get("url")
    if not isinstance(template, str) or not template.strip():
        raise HandlerError("http.json needs an input parameter url", retry=False)
    method = str(variables.get("method") or "GET").upper()
    if method not in METHODS:
        raise HandlerError(f"method {method} is not one of {', '.join(sorted(METHODS))}", retry=False)
    result = variables.get("result")
    if result is not None and not (isinstance(result, str) and _IDENTIFIER.fullmatch(result)):
        raise HandlerError(f"result {result!r} is not a variable name", retry=False)
    url, used = fill_url(template.strip(), variables)
    allowed = list(config.get("EXTERNAL_HTTP_ALLOWED_HOSTS") or [])
    host = check_url(url, allowed)
    timeout = _timeout(variables.get("timeout"), config)
    body = {k: v for k, v in variables.items() if k not in RESERVED and k not in used} if method in WITH_BODY else None
    limit = int(config.get("EXTERNAL_HTTP_MAX_BYTES", 1024 * 1024))
    deadline = time.monotonic() + timeout
    headers = {"Accept": "application/json", "Idempotency-Key": f"motcua-job-{call.job_id}"}
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            remaining = max(deadline - time.monotonic(), 0.1)
            with requests.request(
                method, url, json=body, headers=headers, timeout=remaining, allow_redirects=False, stream=True
            ) as response:
                if response.is_redirect:
                    target = urljoin(url, response.headers.get("Location", ""))
                    elsewhere = (urlsplit(target).hostname or "").lower()
                    if elsewhere != host:
                        raise HandlerError(f"redirect to another host refused: {elsewhere or '-'}", retry=False)
                    check_url(target, allowed)  # the scheme and port too
                    url = target
                    continue
                content = _read(response, limit, deadline)
                status = response.status_code
            break
        else:
            raise HandlerError(f"more than {MAX_REDIRECTS} redirects")
    except requests.Timeout:
        raise HandlerError(f"no answer from {host} within {timeout:g} s") from None
    except requests.RequestException as exc:
        raise HandlerError(f"request to {host} failed: {type(exc).__name__}") from None
    if not 200 <= status < 300:
        raise HandlerError(f"{host} answered HTTP {status}: {content[:200].decode('utf-8', 'replace')}")
    try:
        answer = json.loads(content) if content.strip() else {}
    except ValueError:
        raise HandlerError(f"{host} did not answer with JSON") from None
    if result:
        return {result: answer}
    if not isinstance(answer, dict):
        raise HandlerError("the answer is not a JSON object; set the input result to keep it whole", retry=False)
    return answer
