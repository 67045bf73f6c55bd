"""Fetching a URL someone else chose, safely: the server-side request an attacker controls.

A forwarded link (or a media URL) is fetched only over http/https, on the usual ports, within a
deadline and a size cap, following a few redirects. Every hop's host is resolved here and each
of its addresses checked: loopback, private, link-local (169.254.169.254, the cloud's metadata
service), shared, reserved and multicast addresses are refused. The connection then goes to the
address that was checked, not to a second lookup an attacker's DNS could answer differently.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import certifi
import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error

log = logging.getLogger(__name__)

PORTS = {"http": 80, "https": 443}
REDIRECTS = (301, 302, 303, 307, 308)
USER_AGENT = "CekFaktaTipline/1.0 (+fact-check tipline; reads one page a user sent)"
CHUNK = 16 * 1024

Resolver = Callable[[str, int], Iterable[str]]


class FetchRefused(Exception):
    """A URL the tipline will not fetch: its scheme, port or address is not allowed."""


class FetchFailed(Exception):
    """A fetch that was allowed but did not give a usable answer (timeout, size, status)."""


@dataclass(frozen=True)
class Fetched:
    """What a fetch brought back."""

    url: str  # after redirects
    status: int
    content_type: str  # lowercase, without parameters
    charset: str | None
    body: bytes
    truncated: bool  # the body was cut at the cap


def resolve(host: str, port: int) -> list[str]:
    """Give every address a host name resolves to (what the system resolver says)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchFailed(f"cannot resolve {host}: {exc}") from None
    return list(dict.fromkeys(info[4][0] for info in infos))


def public_address(address: str) -> bool:
    """Say whether an address is on the public internet (not loopback, private, link-local…)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class SafeFetcher:
    """Fetches URLs from outside with the checks above.

    allow: "host:port" pairs exempt from the port and address checks. Only tests hand any (a
    local server); the tipline hands none outside testing. ports: the ports read besides 80
    and 443 (tests add a local server's, to show its address alone is refused). resolver: the
    name resolver (tests hand one that answers a name with a private address).
    """

    def __init__(self, timeout: float = 3.0, max_bytes: int = 1_000_000, max_redirects: int = 3,
                 allow: Iterable[str] = (), ports: Iterable[int] = (), resolver: Resolver = resolve):
        self.timeout, self.max_bytes, self.max_redirects = timeout, max_bytes, max_redirects
        self.allow = frozenset(allow)
        self.ports = frozenset(ports)
        self.resolver = resolver

    def fetch(self, url: str, *, accept: Iterable[str] = ("text/html",), headers=None,
              auth_origin: str | None = None, over_cap: str = "truncate",
              max_bytes: int | None = None, timeout: float | None = None) -> Fetched:
        """GET a URL, following redirects, each hop checked; FetchRefused or FetchFailed.

        accept: content types (or "image/" prefixes) to read; anything else fails.
        headers: sent to auth_origin (scheme://host:port) only, never after a redirect elsewhere.
        over_cap: "truncate" keeps the first max_bytes; "refuse" fails.
        """
        deadline = time.monotonic() + (timeout or self.timeout)
        cap = max_bytes or self.max_bytes
        accepted = tuple(accept)
        for _ in range(self.max_redirects + 1):
            origin, address, target, host_header, scheme, host = self._check(url)
            sent = {"User-Agent": USER_AGENT, "Accept": ", ".join(accepted) + ", */*;q=0.1",
                    "Accept-Encoding": "identity", "Host": host_header}
            if headers and auth_origin == origin:
                sent.update(headers)
            pool, response = self._open(scheme, address, host, target, sent, deadline)
            try:
                if response.status in REDIRECTS and response.headers.get("Location"):
                    url = urljoin(url, response.headers["Location"])
                    continue
                if not 200 <= response.status < 300:
                    raise FetchFailed(f"the server answered {response.status}")
                kind, charset = _content_type(response.headers.get("Content-Type", ""))
                if not any(kind == a or (a.endswith("/") and kind.startswith(a)) for a in accepted):
                    raise FetchFailed(f"not what was asked for: {kind or 'no content type'}")
                declared = response.headers.get("Content-Length", "")
                if over_cap == "refuse" and declared.isdigit() and int(declared) > cap:
                    raise FetchFailed(f"larger than {cap} bytes")
                body, truncated = self._read(response, cap, deadline)
                if truncated and over_cap == "refuse":
                    raise FetchFailed(f"larger than {cap} bytes")
                return Fetched(url, response.status, kind, charset, body, truncated)
            finally:
                response.release_conn()
                pool.close()
        raise FetchFailed(f"more than {self.max_redirects} redirects")

    def _check(self, url: str):
        """Refuse what must not be fetched; give the checked address to connect to."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise FetchRefused(f"not a valid URL ({exc})") from None
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").rstrip(".")
        if scheme not in PORTS:
            raise FetchRefused(f"only http and https links are read, not {scheme or 'no scheme'}")
        if not host:
            raise FetchRefused("the link names no host")
        if parts.username is not None or parts.password is not None:
            raise FetchRefused("links with a user name or password are not read")
        port = port or PORTS[scheme]
        allowed = f"{host}:{port}" in self.allow
        if not allowed and port != PORTS[scheme] and port not in self.ports:
            raise FetchRefused(f"port {port} is not read (only {PORTS[scheme]} for {scheme})")
        addresses = [literal] if (literal := _ip_literal(host)) else list(self.resolver(host, port))
        if not addresses:
            raise FetchFailed(f"{host} has no address")
        if not allowed:
            bad = [a for a in addresses if not public_address(a)]
            if bad:  # any: a name that also points inside is an attack, not a mistake
                raise FetchRefused(f"{host} resolves to a non-public address ({bad[0]})")
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host_header = host if port == PORTS[scheme] else f"{host}:{port}"
        if ":" in host and not host.startswith("["):
            host_header = f"[{host}]" if port == PORTS[scheme] else f"[{host}]:{port}"
        return f"{scheme}://{host}:{port}", (addresses[0], port), target, host_header, scheme, host

    def _open(self, scheme, address, host, target, headers, deadline):
        """Connect to the checked address (the certificate is checked against the host name)."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise FetchFailed("timed out")
        timeout = urllib3.Timeout(connect=left, read=left)
        ip, port = address
        if scheme == "https":
            pool = urllib3.HTTPSConnectionPool(
                ip, port, timeout=timeout, retries=False, maxsize=1, cert_reqs="CERT_REQUIRED",
                ca_certs=certifi.where(), server_hostname=host, assert_hostname=host)
        else:
            pool = urllib3.HTTPConnectionPool(ip, port, timeout=timeout, retries=False, maxsize=1)
        try:
            return pool, pool.urlopen("GET", target, headers=headers, redirect=False, retries=False,
                                      preload_content=False, assert_same_host=False)
        except (Urllib3Error, OSError) as exc:
            pool.close()
            raise FetchFailed(f"could not fetch: {type(exc).__name__}") from None

    def _read(self, response, cap: int, deadline: float) -> tuple[bytes, bool]:
        """Read at most cap bytes before the deadline; say whether there was more."""
        body = bytearray()
        try:
            while len(body) <= cap:
                if time.monotonic() > deadline:
                    raise FetchFailed("timed out")
                chunk = response.read(CHUNK)
                if not chunk:
                    return bytes(body), False
                body.extend(chunk)
        except (Urllib3Error, OSError) as exc:
            raise FetchFailed(f"could not read: {type(exc).__name__}") from None
        return bytes(body[:cap]), True


def _ip_literal(host: str) -> str | None:
    """Give the address a host written as an IP address stands for (no resolver asked)."""
    try:
        return str(ipaddress.ip_address(host.strip("[]").split("%", 1)[0]))
    except ValueError:
        return None


def _content_type(header: str) -> tuple[str, str | None]:
    kind, _, rest = header.partition(";")
    charset = None
    for param in rest.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"').lower()
    return kind.strip().lower(), charset
