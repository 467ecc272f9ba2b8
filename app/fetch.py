"""Fetch a query picture by URL, without letting the URL reach inside the server's network.

http and https only; every hop of a redirect chain (at most `MAX_REDIRECTS`) is checked again;
a host whose address is loopback, private, link-local or otherwise not public is refused unless
`allow_private` (SHAZAM_FETCH_ALLOW_PRIVATE). The body is read in chunks and cut off at the size
limit; the whole fetch has one deadline. The name is resolved for the check and again by the
connection, so the address actually connected to is checked too before anything is read: a DNS
server answering differently the second time can make the server send a GET inside, but never
read its answer back. A proxy that enforces egress rules closes even that, if it matters.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass

import httpx
from fastapi import status

from app.errors import ApiError

MAX_REDIRECTS = 3
_CHUNK = 64 * 1024
_HEADERS = {"Accept": "image/*, video/*;q=0.8, */*;q=0.5", "User-Agent": "ShazamAnime/0.1"}


@dataclass(frozen=True, slots=True)
class Fetched:
    data: bytes
    content_type: str
    url: str  # after redirects
    name: str  # last path segment, for messages and type sniffing


def refused(detail: str) -> ApiError:
    return ApiError(status.HTTP_400_BAD_REQUEST, detail, code="url_refused")


def fetch_failed(detail: str) -> ApiError:
    return ApiError(status.HTTP_400_BAD_REQUEST, detail, code="fetch_failed")


def check_url(url: str, *, allow_private: bool) -> httpx.URL:
    """The URL parsed, or a 400 when it is not http(s) or names a non-public address."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as error:
        raise refused(f"not a valid URL: {error}") from error
    if parsed.scheme not in ("http", "https"):
        raise refused(f"only http and https URLs are fetched, not {parsed.scheme or 'none'!r}")
    if not parsed.host:
        raise refused("the URL has no host")
    if allow_private:
        return parsed
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parsed.host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise fetch_failed(f"cannot resolve {parsed.host!r}: {error}") from error
    for info in infos:
        _check_public(parsed.host, str(info[4][0]))
    return parsed


def _check_public(host: str, ip: str) -> None:
    address = ipaddress.ip_address(ip.split("%")[0])
    if not address.is_global or address.is_multicast:
        raise refused(
            f"{host!r} resolves to {address}, which is not a public address; "
            "set SHAZAM_FETCH_ALLOW_PRIVATE=true to allow it"
        )


def fetch(url: str, *, max_bytes: int, timeout_s: float, allow_private: bool) -> Fetched:
    """GET `url` (blocking: run it off the event loop) within the limits, or a 4xx saying why."""
    deadline = time.monotonic() + timeout_s
    timeout = httpx.Timeout(timeout_s)
    with httpx.Client(follow_redirects=False, timeout=timeout, trust_env=False) as client:
        for _hop in range(MAX_REDIRECTS + 1):
            target = check_url(url, allow_private=allow_private)
            try:
                with client.stream("GET", target, headers=_HEADERS) as response:
                    if not allow_private:  # where the connection really went
                        peer = response.extensions.get("network_stream")
                        server = peer.get_extra_info("server_addr") if peer else None
                        if server:
                            _check_public(target.host, str(server[0]))
                    if response.is_redirect and "location" in response.headers:
                        url = str(target.join(response.headers["location"]))
                        continue
                    if response.status_code >= 400:
                        raise fetch_failed(f"the URL answered HTTP {response.status_code}")
                    data = _read_limited(response, max_bytes, deadline)
                    content_type = response.headers.get("content-type", "")
                    name = target.path.rsplit("/", 1)[-1] or target.host
                    return Fetched(data, content_type, str(target), name)
            except httpx.TimeoutException as error:
                raise fetch_failed(f"the URL did not answer within {timeout_s:g} s") from error
            except httpx.HTTPError as error:
                raise fetch_failed(f"fetching the URL failed: {error}") from error
    raise fetch_failed(f"more than {MAX_REDIRECTS} redirects")


def _read_limited(response: httpx.Response, max_bytes: int, deadline: float) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise ApiError(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"the URL's content is {declared} bytes, over the {max_bytes}-byte limit",
        )
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise ApiError(
                status.HTTP_413_CONTENT_TOO_LARGE,
                f"the URL's content is over the {max_bytes}-byte limit",
            )
        if time.monotonic() > deadline:
            raise fetch_failed("the URL's content took too long to arrive")
        chunks.append(chunk)
    return b"".join(chunks)
