"""The only way the bot reads a URL a user gave it: SSRF-safe and bounded in size and time.

Users paste links, so every fetch is hostile input aimed at our network position. The rules:
http/https only; every address a host resolves to must be public (or inside
``FETCH_ALLOW_PRIVATE``; link-local and cloud-metadata addresses never); we connect to the very
address we checked (no second DNS lookup an attacker could rebind), with TLS verified against
the host name; redirects are followed by hand, each hop checked again, never from https to http;
only HTML or plain text is read; the decoded body is capped; one deadline covers the whole
fetch, enforced by a watchdog that shuts the socket, so a server dripping a byte at a time
cannot hold a worker. Which addresses are refused is ``bot.fetch.addresses``.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urljoin, urlsplit

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import DecodeError, LocationParseError, ReadTimeoutError
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import SSLError as Urllib3SSLError
from urllib3.response import BaseHTTPResponse, HTTPResponse
from urllib3.util import parse_url
from urllib3.util.request import ACCEPT_ENCODING
from urllib3.util.ssl_match_hostname import CertificateError

from bot.fetch.addresses import (
    METADATA_HOSTS,
    IPAddress,
    IPNetwork,
    address_problem,
    as_networks,
    ip_literal,
    system_resolver,
)
from digests.errors import InputError

__all__ = ["ALLOWED_CONTENT_TYPES", "FetchError", "FetchedPage", "Fetcher", "check_redirect"]

log = logging.getLogger(__name__)

Resolver = Callable[[str, int], list[str]]

ALLOWED_CONTENT_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
DEFAULT_USER_AGENT = "PolicyDigestBot/0.1 (+https://github.com/policy-digest)"
MAX_URL_LENGTH = 8192
CONNECT_TIMEOUT = 10.0  # per address, so a second address still gets a chance
_CHUNK = 64 * 1024


class FetchError(InputError):
    """A URL we refused or could not fetch.

    ``code`` is one of the fetch slugs of the README and ``message`` one friendly line for the user;
    ``detail`` is for our logs only and ``status`` is the HTTP status for ``http_status``.
    """

    def __init__(
        self, code: str, message: str, *, detail: str = "", status: int | None = None
    ) -> None:
        super().__init__(code, message)
        self.detail = detail
        self.status = status


# getaddrinfo's "try again" answers: no name server answered (offline, DNS down).
_DNS_TEMPORARY = frozenset(
    getattr(socket, name)
    for name in ("EAI_AGAIN", "EAI_FAIL", "EAI_SYSTEM")
    if hasattr(socket, name)
)


def _dns_error(host: str, error: BaseException | None) -> FetchError:
    """A failed lookup: from here we can't tell a mistyped name from a machine that can't reach
    DNS (offline resolvers often answer "no such name" too), so say both, and that the link may
    be fine."""
    name = host.rstrip(".")[:100]
    if isinstance(error, socket.gaierror) and error.errno in _DNS_TEMPORARY:
        message = (
            f"I couldn't reach a name server to look up {name} (this machine may be offline); "
            "the link may be fine, so try again later."
        )
    else:
        message = (
            f"I couldn't resolve the site {name}: the name may be mistyped, or this machine may "
            "be offline or unable to reach DNS. If the link is right, try again later."
        )
    return FetchError("dns", message, detail=f"resolving {host}: {error or 'no addresses'}")


@dataclass
class FetchedPage:
    """A fetched page: the final URL after redirects and the decoded (decompressed) body."""

    url: str
    status: int
    content_type: str
    charset: str | None
    body: bytes
    etag: str | None = None  # validators for a later conditional request (feeds)
    last_modified: str | None = None


def _redact(url: str) -> str:
    """A URL fit for logs: no credentials, no query (signed links carry tokens), bounded length."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc.rsplit("@", 1)[-1]
        text = f"{parts.scheme}://{netloc}{parts.path}" if parts.scheme else url.split("?")[0]
    except ValueError:
        text = url.split("?")[0]
    return text[:200]


# ---- user-facing messages: one line, what was wrong and what to do --------------------------

_PASTE = "paste the article text instead"


def _bad_link(detail: str) -> FetchError:
    return FetchError(
        "bad_scheme",
        "That link doesn't look like a valid web address; check it and paste it again.",
        detail=detail,
    )


def _private(kind: str, redirected: bool, detail: str) -> FetchError:
    where = "redirected to" if redirected else "points to"
    if kind in ("metadata", "link_local"):
        what = "a cloud-metadata or link-local address, which I never fetch"
    else:
        what = "a private network address, so I won't fetch it"
    message = f"That link {where} {what}; share a public link instead."
    return FetchError("private_address", message, detail=detail)


def _status_error(status: int, detail: str) -> FetchError:
    try:
        label = f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        label = str(status)
    if status in (401, 402, 403):
        message = (
            f"That site refused to show me the page ({label}); it may be paywalled or block "
            f"bots, so {_PASTE}."
        )
    elif status in (404, 410):
        message = f"That page wasn't found ({label}); check the link."
    elif status == 429:
        message = f"That site is rate-limiting requests ({label}); try again in a few minutes."
    elif status >= 500:
        message = f"That site had a server error ({label}); try again later."
    elif status >= 400:
        message = f"That site rejected the request ({label}); check the link."
    else:
        message = f"That link gave an unexpected response ({label}); try the page's direct link."
    return FetchError("http_status", message, detail=detail, status=status)


def _content_type_error(mime: str, detail: str) -> FetchError:
    kind = {"application/pdf": "a PDF"}.get(mime)
    if kind is None:
        major = mime.split("/", 1)[0]
        kind = {"image": "an image", "video": "a video", "audio": "an audio file"}.get(
            major, "a file"
        )
    shown = f" ({mime})" if mime else ""
    return FetchError(
        "content_type",
        f"That link is {kind}{shown}, not a web page; I can only read HTML or plain text, "
        f"so {_PASTE}.",
        detail=detail,
    )


def check_redirect(current_url: str, location: str) -> str:
    """The absolute URL a redirect leads to, or FetchError when following it is not allowed.

    Only http(s) targets, and never from https down to http: a downgrade would let anyone on
    the path rewrite the page we summarize. The target's address is checked by the caller.
    """
    target = urljoin(current_url, location.strip().replace(" ", "%20"))
    try:
        scheme = urlsplit(target).scheme.lower()
    except ValueError as exc:
        raise _bad_link(f"unparsable redirect {location[:200]!r}") from exc
    if scheme not in ("http", "https"):
        raise FetchError(
            "bad_scheme",
            "That link redirected to a non-web address"
            + (f" ({scheme}:)" if scheme else "")
            + ", so I stopped; paste the article's final web address instead.",
            detail=f"redirect to scheme {scheme!r}",
        )
    if urlsplit(current_url).scheme.lower() == "https" and scheme == "http":
        raise FetchError(
            "bad_scheme",
            "That link redirected from a secure (https) address to an insecure (http) one, "
            "so I stopped; try the page's https address.",
            detail=f"https->http downgrade to {_redact(target)}",
        )
    return target


@dataclass(frozen=True)
class _Options:
    """What one call adds to the rules: request headers and the content types it reads."""

    headers: dict[str, str]
    content_types: frozenset[str]

    @property
    def conditional(self) -> bool:
        return any(k.lower() in ("if-none-match", "if-modified-since") for k in self.headers)


@dataclass(frozen=True)
class _Target:
    """One hop, parsed once: what we resolve, where we connect, what we send."""

    url: str  # normalized, without credentials or fragment
    scheme: str
    host: str  # as in the URL (IDNA, lower case), without brackets
    port: int
    request_uri: str
    literal: IPAddress | None

    @property
    def host_header(self) -> str:
        host = self.host.rstrip(".")
        if ":" in host:
            host = f"[{host}]"
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def _parse_target(url: str) -> _Target:
    text = url.strip()
    scheme = text.split(":", 1)[0].lower() if ":" in text else ""
    if scheme not in ("http", "https"):
        shown = f" ({scheme}:)" if scheme.isalnum() and len(scheme) < 20 else ""
        raise FetchError(
            "bad_scheme",
            f"I can only fetch links that start with http:// or https://{shown}; "
            f"paste the article's web address or its text instead.",
            detail=f"scheme {scheme[:20]!r}",
        )
    if len(text) > MAX_URL_LENGTH or any(ord(c) < 0x21 or ord(c) == 0x7F for c in text):
        raise _bad_link("whitespace or control character in URL")
    try:
        parsed = parse_url(text)
        host = (parsed.host or "").strip("[]")
        port = parsed.port or (443 if scheme == "https" else 80)
    except (LocationParseError, ValueError) as exc:
        raise _bad_link(f"unparsable URL ({type(exc).__name__})") from exc
    if not host:
        raise _bad_link("no host")
    try:
        literal = ip_literal(host)
    except ValueError as exc:
        raise _bad_link(str(exc)) from exc
    clean = parsed._replace(scheme=scheme, auth=None, fragment=None)
    return _Target(
        url=clean.url,
        scheme=scheme,
        host=host,
        port=port,
        request_uri=clean.request_uri or "/",
        literal=literal,
    )


def _parse_content_type(value: str) -> tuple[str, str | None]:
    """``text/html; charset=UTF-8`` → ("text/html", "utf-8")."""
    mime, _, params = value.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, val = param.partition("=")
        if key.strip().lower() == "charset":
            charset = val.strip().strip("\"'").lower() or None
    return mime.strip().lower(), charset


def _sniff_binary(body: bytes) -> str | None:
    """For a response without Content-Type: the kind of binary file it is, if it is one."""
    head = body[:1024]
    if head.startswith(b"%PDF"):
        return "application/pdf"
    for magic, mime in (
        (b"\x89PNG", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF8", "image/gif"),
        (b"PK\x03\x04", "application/zip"),
    ):
        if head.startswith(magic):
            return mime
    return "application/octet-stream" if b"\x00" in head else None


class _Watchdog:
    """Shuts the socket when the deadline passes, whatever phase (TLS, headers, body) we're in.

    Socket timeouts bound each read, not their sum: a server sending one byte a second would
    keep us forever without this.
    """

    def __init__(self, conn: HTTPConnection, deadline_at: float) -> None:
        self.conn = conn
        self.sock: socket.socket | None = None
        self.fired = False
        self._timer = threading.Timer(max(0.0, deadline_at - time.monotonic()), self._fire)
        self._timer.daemon = True

    def start(self) -> _Watchdog:
        self._timer.start()
        return self

    def _fire(self) -> None:
        self.fired = True
        sock = self.sock or self.conn.sock
        if sock is not None:
            # The plain socket method: SSLSocket.shutdown would also drop its TLS state while
            # another thread is reading through it.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()


class Fetcher:
    """Fetches user-supplied URLs under the rules in the module docstring; thread-safe."""

    def __init__(
        self,
        allow_private: Sequence[str | IPNetwork] = (),
        resolver: Resolver | None = None,
        max_bytes: int = 5_000_000,
        deadline: float = 15.0,
        max_redirects: int = 3,
        user_agent: str = DEFAULT_USER_AGENT,
        ca_certs: str | None = None,
    ) -> None:
        """``ca_certs`` (a PEM bundle) replaces the default trust store (certifi when installed,
        else the system's); verification itself can't be turned off."""
        self.allow_private: tuple[IPNetwork, ...] = as_networks(allow_private)
        self.resolver: Resolver = resolver or system_resolver
        self.max_bytes = max_bytes
        self.deadline = deadline
        self.max_redirects = max_redirects
        self.user_agent = user_agent
        self.ca_certs = ca_certs or _default_ca_bundle()

    def fetch(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content_types: Collection[str] = ALLOWED_CONTENT_TYPES,
    ) -> FetchedPage:
        """Fetch ``url`` or raise FetchError (with a message fit to show the user).

        ``headers`` add to ours (feeds send ``If-None-Match``/``If-Modified-Since`` and their
        own ``Accept``); a 304 to such a conditional request is a page with status 304 and no
        body. ``content_types`` widens what is read (feeds are XML); the rules stay the same.
        """
        deadline_at = time.monotonic() + self.deadline
        opts = _Options(dict(headers or {}), frozenset(content_types))
        try:
            return self._fetch(url, deadline_at, opts)
        except FetchError as err:
            level = logging.WARNING if err.code == "private_address" else logging.INFO
            log.log(level, "fetch refused code=%s url=%s: %s", err.code, _redact(url), err.detail)
            raise

    # ---- the hops ----------------------------------------------------------------------------

    def _fetch(self, url: str, deadline_at: float, opts: _Options) -> FetchedPage:
        target = _parse_target(url)
        redirects = 0
        while True:
            addresses = self._checked_addresses(target, deadline_at, redirected=redirects > 0)
            result = self._exchange(target, addresses, deadline_at, opts)
            if isinstance(result, FetchedPage):
                return result
            location, status = result
            if redirects >= self.max_redirects:
                raise FetchError(
                    "http_status",
                    f"That link redirected more than {self.max_redirects} times, so I gave up; "
                    f"paste the page's final address instead.",
                    detail=f"redirect #{redirects + 1} ({status}) at {_redact(target.url)}",
                    status=status,
                )
            target = _parse_target(check_redirect(target.url, location))
            redirects += 1

    def _timeout(self, detail: str) -> FetchError:
        return FetchError(
            "timeout",
            f"That site took longer than {self.deadline:g} seconds to send the page, so I gave "
            f"up; try again later or {_PASTE}.",
            detail=detail,
        )

    def _checked_addresses(
        self, target: _Target, deadline_at: float, redirected: bool
    ) -> list[IPAddress]:
        """Resolve the hop's host and check every address: one bad address refuses the link."""
        if target.literal is not None:
            addresses = [target.literal]
        else:
            name = target.host.rstrip(".")
            if name in METADATA_HOSTS:
                raise _private("metadata", redirected, f"metadata host name {name}")
            addresses = self._resolve(target, deadline_at)
        for ip in addresses:
            problem = address_problem(ip, self.allow_private)
            if problem:
                raise _private(
                    problem,
                    redirected,
                    f"{target.host} -> {ip} ({problem}) at {_redact(target.url)}",
                )
        return addresses

    def _resolve(self, target: _Target, deadline_at: float) -> list[IPAddress]:
        """Run the resolver in a helper thread: getaddrinfo has no timeout of its own."""
        result: list[str] = []
        errors: list[BaseException] = []

        def work() -> None:
            try:
                result.extend(self.resolver(target.host, target.port))
            except BaseException as exc:  # handed to the caller's thread
                errors.append(exc)

        thread = threading.Thread(target=work, name="fetch-dns", daemon=True)
        thread.start()
        thread.join(max(0.0, deadline_at - time.monotonic()))
        if thread.is_alive():
            raise self._timeout(f"DNS lookup of {target.host} outlived the deadline")
        dns_error = _dns_error(target.host, errors[0] if errors else None)
        if errors:
            if isinstance(errors[0], OSError | UnicodeError):
                raise dns_error from errors[0]
            raise errors[0]
        try:
            addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in result]
        except ValueError as exc:
            raise dns_error from exc
        if not addresses:
            raise dns_error
        return list(dict.fromkeys(addresses))

    def _new_connection(self, target: _Target, ip: IPAddress, timeout: float) -> HTTPConnection:
        if target.scheme == "https":
            name = None if target.literal is not None else target.host.rstrip(".")
            return HTTPSConnection(
                str(ip),
                target.port,
                timeout=timeout,
                server_hostname=name,  # SNI for the name, though we connect to the address
                assert_hostname=name,  # the certificate must match the name, not the address
                cert_reqs="CERT_REQUIRED",
                ca_certs=self.ca_certs,
            )
        return HTTPConnection(str(ip), target.port, timeout=timeout)

    def _connect(
        self, target: _Target, addresses: list[IPAddress], deadline_at: float
    ) -> tuple[HTTPConnection, _Watchdog]:
        """Connect to the first checked address that answers (TLS included), under the deadline."""
        failures = []
        for ip in addresses:
            remaining = deadline_at - time.monotonic()
            if remaining <= 0:
                break
            conn = self._new_connection(target, ip, min(remaining, CONNECT_TIMEOUT))
            watchdog = _Watchdog(conn, deadline_at).start()
            try:
                conn.connect()
            except (ssl.SSLError, CertificateError, Urllib3SSLError) as exc:
                watchdog.cancel()
                conn.close()
                if watchdog.fired:
                    raise self._timeout(f"TLS handshake with {ip}") from exc
                raise FetchError(
                    "unreachable",
                    f"The security certificate of {target.host_header} couldn't be verified, so "
                    f"I didn't fetch the page; check the link or {_PASTE}.",
                    detail=f"TLS with {ip}: {exc}",
                ) from exc
            except (OSError, Urllib3Error) as exc:
                watchdog.cancel()
                conn.close()
                failures.append(f"{ip}: {exc}")
                continue
            watchdog.sock = conn.sock
            return conn, watchdog
        if time.monotonic() >= deadline_at:
            raise self._timeout(f"connecting to {target.host}: {'; '.join(failures)}")
        raise FetchError(
            "unreachable",
            f"I couldn't connect to {target.host_header}; the site may be down, so try again "
            f"later.",
            detail="; ".join(failures)[:500],
        )

    def _exchange(
        self, target: _Target, addresses: list[IPAddress], deadline_at: float, opts: _Options
    ) -> FetchedPage | tuple[str, int]:
        """One request: the page, or (Location, status) for a redirect to check and follow."""
        conn, watchdog = self._connect(target, addresses, deadline_at)
        try:
            conn.timeout = max(0.001, deadline_at - time.monotonic())
            conn.request(
                "GET",
                target.request_uri,
                headers={**self._headers(target), **opts.headers},
                preload_content=False,
                decode_content=True,
            )
            response = conn.getresponse()
            return self._handle(target, response, watchdog, deadline_at, opts)
        except FetchError:
            raise
        except (TimeoutError, ReadTimeoutError) as exc:
            raise self._timeout(f"reading from {_redact(target.url)}: {exc}") from exc
        except DecodeError as exc:
            if watchdog.fired:
                raise self._timeout(f"decoding {_redact(target.url)}") from exc
            raise FetchError(
                "unreachable",
                f"The site {target.host_header} sent a garbled (badly compressed) page; "
                f"try again later or {_PASTE}.",
                detail=f"decode error at {_redact(target.url)}: {exc}",
            ) from exc
        except (OSError, Urllib3Error, http.client.HTTPException) as exc:
            if watchdog.fired or time.monotonic() >= deadline_at:
                raise self._timeout(f"deadline hit at {_redact(target.url)}: {exc!r}") from exc
            raise FetchError(
                "unreachable",
                f"The site {target.host_header} closed the connection before sending the page; try "
                f"again later.",
                detail=f"{_redact(target.url)}: {exc!r}",
            ) from exc
        finally:
            watchdog.cancel()
            conn.close()

    def _headers(self, target: _Target) -> dict[str, str]:
        return {
            "Host": target.host_header,
            "User-Agent": self.user_agent,
            "Accept": "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.8",
            "Accept-Encoding": ACCEPT_ENCODING,  # only what this urllib3 can decode
            "Accept-Language": "en;q=0.9,*;q=0.5",
            "Connection": "close",
        }

    def _handle(
        self,
        target: _Target,
        response: BaseHTTPResponse,
        watchdog: _Watchdog,
        deadline_at: float,
        opts: _Options,
    ) -> FetchedPage | tuple[str, int]:
        status = response.status
        where = f"{status} from {_redact(target.url)}"
        if status == 304 and opts.conditional:
            return FetchedPage(url=target.url, status=304, content_type="", charset=None, body=b"")
        if status in REDIRECT_STATUSES:
            location = response.headers.get("Location")
            if not location:
                raise FetchError(
                    "http_status",
                    f"That link answered with a redirect ({status}) but no address to go to; "
                    f"check the link.",
                    detail=f"{where} without Location",
                    status=status,
                )
            return location, status
        if not 200 <= status < 300:
            raise _status_error(status, where)

        mime, charset = _parse_content_type(response.headers.get("Content-Type", ""))
        if mime and mime not in opts.content_types:
            raise _content_type_error(mime, where)
        encodings = [
            e.strip().lower()
            for e in response.headers.get("Content-Encoding", "").split(",")
            if e.strip() and e.strip().lower() != "identity"
        ]
        unknown = [e for e in encodings if e not in HTTPResponse.CONTENT_DECODERS]
        if unknown:
            raise FetchError(
                "content_type",
                f"That page is compressed in a format I can't read ({', '.join(unknown)}); "
                f"{_PASTE}.",
                detail=f"{where} with Content-Encoding {unknown}",
            )
        length = response.headers.get("Content-Length", "")
        if not encodings and length.isdigit() and int(length) > self.max_bytes:
            raise self._too_large(f"{where} declares {length} bytes")

        body = self._read_body(response, watchdog, deadline_at, where)
        if not mime:
            binary = _sniff_binary(body)
            if binary:
                raise _content_type_error(binary, f"{where} without Content-Type")
            mime = "text/html" if body.lstrip()[:1] == b"<" else "text/plain"
        return FetchedPage(
            url=target.url,
            status=status,
            content_type=mime,
            charset=charset,
            body=body,
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
        )

    def _too_large(self, detail: str) -> FetchError:
        return FetchError(
            "too_large",
            f"That page is bigger than {self.max_bytes / 1_000_000:g} MB, so I stopped reading; "
            f"{_PASTE}.",
            detail=detail,
        )

    def _read_body(
        self, response: BaseHTTPResponse, watchdog: _Watchdog, deadline_at: float, where: str
    ) -> bytes:
        """Read and decompress in bounded steps, so a gzip bomb stops at max_bytes decoded."""
        chunks: list[bytes] = []
        total = 0
        sock = watchdog.sock
        while True:
            remaining = deadline_at - time.monotonic()
            if remaining <= 0 or watchdog.fired:
                raise self._timeout(f"body of {where} after {total} bytes")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.settimeout(remaining)
            chunk = response.read1(_CHUNK, decode_content=True)
            if not chunk:
                break
            total += len(chunk)
            if total > self.max_bytes:
                raise self._too_large(f"{where}: more than {self.max_bytes} decoded bytes")
            chunks.append(chunk)
        if watchdog.fired:  # the watchdog's shutdown looks like a normal end of the body
            raise self._timeout(f"body of {where} cut at {total} bytes")
        return b"".join(chunks)


def _default_ca_bundle() -> str | None:
    """certifi's bundle when installed (same roots everywhere), else None: the system store."""
    try:
        import certifi
    except ImportError:  # pragma: no cover - certifi ships with trafilatura
        return None
    return certifi.where()
