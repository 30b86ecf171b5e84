"""The safe fetcher against real local servers: every refusal path, and the happy ones.

Servers listen on 127.0.0.1 port 0; fetchers let loopback through with allow_private (as
``FETCH_ALLOW_PRIVATE=127.0.0.0/8`` does) unless a test checks that loopback is refused.
"""

from __future__ import annotations

import functools
import gzip
import ipaddress
import logging
import shutil
import socket
import ssl
import subprocess
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.fetch.addresses import address_problem, ip_literal, parse_allow_private
from bot.fetch.fetcher import FetchedPage, Fetcher, FetchError, check_redirect
from digests.errors import InputError
from digests.extract import extract_article

LOOPBACK = ["127.0.0.0/8"]
ARTICLE = (
    b"<html><head><title>Port bill passes</title></head><body><article>"
    b"<p>The harbour authority approved the new tariff schedule on Monday after a long debate "
    b"among commissioners about shipping costs and regional competition.</p>"
    b"<p>Officials said the fees take effect next spring and will be reviewed every year.</p>"
    b"</article></body></html>"
)
BIG = 300_000
BOMB_DECODED = 20_000_000


@functools.cache
def bomb(encoding: str) -> bytes:
    """A small compressed body that decodes to BOMB_DECODED bytes of HTML-ish filler."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31 if encoding == "gzip" else 15)
    block = b" " * 1_000_000
    parts = [comp.compress(b"<html><body><p>")]
    parts += [comp.compress(block) for _ in range(BOMB_DECODED // len(block))]
    parts.append(comp.flush())
    return b"".join(parts)


class Handler(BaseHTTPRequestHandler):
    """Routes by path; every request is recorded on the server so tests can see what arrived."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def send(self, status: int, body: bytes = b"", ctype: str | None = "text/html", **extra):
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for key, value in extra.items():
            self.send_header(key.replace("_", "-"), value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def drip(self, data: bytes, every: float, limit: float = 4.0) -> None:
        start = time.monotonic()
        try:
            for byte in data:
                if time.monotonic() - start > limit:
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(every)
        except OSError:
            return

    def do_GET(self) -> None:  # noqa: C901 - a route table reads best as one switch
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.server.seen.append((self.path, dict(self.headers)))  # type: ignore[attr-defined]
        path = url.path
        if path == "/article":
            self.send(200, ARTICLE, "text/html; charset=utf-8")
        elif path == "/plain":
            self.send(
                200, "Plain words, café.\n".encode("latin-1"), "text/plain; charset=ISO-8859-1"
            )
        elif path == "/xhtml":
            self.send(200, ARTICLE, "application/xhtml+xml")
        elif path == "/pdf":
            self.send(200, b"%PDF-1.7\n%binary", "application/pdf")
        elif path == "/png":
            self.send(200, b"\x89PNG\r\n\x1a\n....", "image/png")
        elif path == "/untyped-pdf":
            self.send(200, b"%PDF-1.7\n%binary", None)
        elif path == "/untyped-html":
            self.send(200, ARTICLE, None)
        elif path == "/empty":
            self.send(200, b"<html><head></head><body></body></html>")
        elif path == "/host":
            self.send(200, self.headers.get("Host", "").encode(), "text/plain")
        elif path.startswith("/status/"):
            self.send(int(path.rsplit("/", 1)[1]), b"<html>nope</html>")
        elif path.startswith("/hop/"):
            left = int(path.rsplit("/", 1)[1])
            target = f"/hop/{left - 1}" if left > 1 else "/article"
            self.send(302, b"", Location=target)
        elif path == "/goto":
            self.send(int(query.get("status", "302")), b"", Location=query["to"])
        elif path == "/no-location":
            self.send(302, b"")
        elif path == "/big":
            self.send(200, b"<p>" + b"x" * BIG)
        elif path == "/big-stream":  # no Content-Length: only the read cap can stop it
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            try:
                for _ in range(BIG // 10_000):
                    self.wfile.write(b"y" * 10_000)
            except OSError:
                pass
        elif path == "/exact":
            self.send(200, b"z" * int(query["n"]), "text/plain")
        elif path == "/gzip":
            self.send(200, gzip.compress(ARTICLE), Content_Encoding="gzip")
        elif path.startswith("/bomb/"):
            encoding = path.rsplit("/", 1)[1]
            self.send(200, bomb(encoding), Content_Encoding=encoding)
        elif path == "/odd-encoding":
            self.send(200, b"\x1f\x9dnot-really", Content_Encoding="compress")
        elif path == "/drip-body":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.flush()
            self.drip(b"a" * 1000, every=0.05)
        elif path == "/drip-headers":
            self.drip(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Slow: " + b"s" * 500, 0.05)
        elif path == "/stall":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.flush()
            time.sleep(3)
        else:
            self.send(404, b"no route")


class Server:
    """A threaded HTTP(S) server on 127.0.0.1:0 that records requests."""

    def __init__(self, context: ssl.SSLContext | None = None) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.httpd.seen = []  # type: ignore[attr-defined]
        if context is not None:
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def seen(self) -> list[tuple[str, dict]]:
        return self.httpd.seen  # type: ignore[attr-defined]

    def url(self, path: str, host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    srv = Server()
    yield srv
    srv.stop()


def local(**kwargs) -> Fetcher:
    kwargs.setdefault("allow_private", LOOPBACK)
    kwargs.setdefault("deadline", 1.0)
    return Fetcher(**kwargs)


def refused(fetcher: Fetcher, url: str, code: str) -> FetchError:
    with pytest.raises(FetchError) as info:
        fetcher.fetch(url)
    assert info.value.code == code, (info.value.code, info.value.message)
    assert isinstance(info.value, InputError)
    message = info.value.message
    assert message and "\n" not in message and message[0].isupper() and message.endswith(".")
    return info.value


def no_dns(host: str, port: int) -> list[str]:
    raise AssertionError(f"the resolver must not be asked about {host}")


def fixed(table: dict[str, list[str]], calls: list[str] | None = None) -> Callable:
    def resolve(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return table[host]

    return resolve


# ---- happy paths ---------------------------------------------------------------------------


def test_fetches_html_with_type_and_charset(server: Server) -> None:
    page = local().fetch(server.url("/article"))
    assert isinstance(page, FetchedPage)
    assert (page.status, page.content_type, page.charset) == (200, "text/html", "utf-8")
    assert page.body == ARTICLE
    assert page.url == server.url("/article")


def test_plain_text_and_xhtml_are_allowed(server: Server) -> None:
    page = local().fetch(server.url("/plain"))
    assert (page.content_type, page.charset) == ("text/plain", "iso-8859-1")
    assert page.body == "Plain words, café.\n".encode("latin-1")
    assert local().fetch(server.url("/xhtml")).content_type == "application/xhtml+xml"


def test_gzip_is_decoded(server: Server) -> None:
    assert local().fetch(server.url("/gzip")).body == ARTICLE


def test_sends_our_user_agent_and_the_host_name_not_the_address(server: Server) -> None:
    calls: list[str] = []
    fetcher = local(resolver=fixed({"news.test": ["127.0.0.1"]}, calls))
    page = fetcher.fetch(f"http://News.Test:{server.port}/host")
    assert page.body == f"news.test:{server.port}".encode()
    assert calls == ["news.test"]  # resolved once; we connected to the checked address
    assert server.seen[-1][1]["User-Agent"].startswith("PolicyDigestBot/")


def test_tries_the_next_checked_address_when_one_refuses(server: Server) -> None:
    # 127.0.0.2 is loopback too but nothing listens there on this port.
    fetcher = local(resolver=fixed({"two.test": ["127.0.0.2", "127.0.0.1"]}))
    assert fetcher.fetch(f"http://two.test:{server.port}/article").body == ARTICLE


def test_untyped_responses_are_sniffed(server: Server) -> None:
    assert local().fetch(server.url("/untyped-html")).content_type == "text/html"
    err = refused(local(), server.url("/untyped-pdf"), "content_type")
    assert "PDF" in err.message


def test_empty_page_fetches_but_is_no_article(server: Server) -> None:
    page = local().fetch(server.url("/empty"))
    with pytest.raises(InputError) as info:
        extract_article(page.body, page.url, page.content_type, page.charset)
    assert info.value.code == "no_article"
    article = local().fetch(server.url("/article"))
    assert "harbour authority" in extract_article(article.body, article.url).text


def test_body_exactly_at_the_cap_is_fine(server: Server) -> None:
    page = local(max_bytes=1000).fetch(server.url("/exact?n=1000"))
    assert len(page.body) == 1000
    refused(local(max_bytes=1000), server.url("/exact?n=1001"), "too_large")


# ---- scheme and URL shape ------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.org/file.txt",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "data:text/html,<p>hi</p>",
        "gopher://example.org/",
        "example.org/no-scheme",
        "//example.org/protocol-relative",
    ],
)
def test_non_http_schemes_are_refused(url: str) -> None:
    err = refused(Fetcher(resolver=no_dns), url, "bad_scheme")
    assert "http://" in err.message


@pytest.mark.parametrize(
    "url",
    ["http://", "http://exa mple.org/", "http://1.2.3.256/", "https://[::1/", "http://a\x00b/"],
)
def test_malformed_links_are_refused(url: str) -> None:
    refused(Fetcher(resolver=no_dns), url, "bad_scheme")


# ---- addresses -----------------------------------------------------------------------------


def test_loopback_is_refused_without_allow_private(server: Server) -> None:
    before = len(server.seen)
    err = refused(Fetcher(deadline=1.0), server.url("/article"), "private_address")
    assert err.message == (
        "That link points to a private network address, so I won't fetch it; "
        "share a public link instead."
    )
    assert len(server.seen) == before  # refused before connecting


@pytest.mark.parametrize(
    "host",
    [
        "2130706433",
        "0x7f000001",
        "0177.0.0.1",
        "127.1",
        "0x7f.0.0.1",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "0.0.0.0",
        "0",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "100.64.0.1",
        "169.254.169.254",
        "[fe80::1]",
        "[fc00::1]",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "[64:ff9b::a00:1]",
        "[2002:7f00:1::]",
        "metadata.google.internal",
        "metadata.google.internal.",
        "METADATA",
    ],
)
def test_non_public_addresses_in_any_spelling_are_refused(host: str) -> None:
    err = refused(Fetcher(resolver=no_dns), f"http://{host}/latest/meta-data/", "private_address")
    assert "address" in err.message


def test_numeric_spellings_mean_the_address_they_spell(server: Server) -> None:
    # With loopback allowed, the decimal/hex/octal forms reach 127.0.0.1 — proof they were
    # decoded to that address (and so were checked as it) rather than sent to a resolver.
    for host in ("2130706433", "0x7f000001", "0177.0.0.1", "127.1"):
        page = local(resolver=no_dns).fetch(f"http://{host}:{server.port}/article")
        assert page.body == ARTICLE


def test_public_name_resolving_to_a_private_address_is_refused() -> None:
    fetcher = Fetcher(resolver=fixed({"innocent.example": ["10.20.30.40"]}))
    refused(fetcher, "https://innocent.example/story", "private_address")


def test_one_private_address_among_public_ones_is_refused() -> None:
    fetcher = Fetcher(resolver=fixed({"mixed.example": ["93.184.216.34", "192.168.0.10"]}))
    refused(fetcher, "http://mixed.example/", "private_address")
    six = Fetcher(resolver=fixed({"v6.example": ["2606:4700::1", "::1"]}))
    refused(six, "http://v6.example/", "private_address")


def test_link_local_and_metadata_stay_refused_even_when_allowed() -> None:
    everything = Fetcher(allow_private=["0.0.0.0/0", "::/0"], resolver=no_dns)
    for host in ("169.254.169.254", "169.254.1.1", "[fe80::1]", "168.63.129.16", "[fd00:ec2::254]"):
        err = refused(everything, f"http://{host}/", "private_address")
        assert "metadata" in err.message
    refused(everything, "http://metadata.google.internal/", "private_address")


def test_dns_failure() -> None:
    err = refused(Fetcher(resolver=fixed({})), "https://no-such-site.example/x", "dns")
    assert "no-such-site.example" in err.message


@pytest.mark.parametrize("errno", [socket.EAI_NONAME, socket.EAI_AGAIN])
def test_an_offline_machine_is_not_told_the_link_has_typos(errno: int) -> None:
    """Offline resolvers answer "no such name" (EAI_NONAME) as often as "try again"."""

    def offline(host: str, port: int) -> list[str]:
        raise socket.gaierror(errno, "offline")

    err = refused(Fetcher(resolver=offline), "https://www.reuters.com/world/", "dns")
    assert "www.reuters.com" in err.message
    assert "offline" in err.message and "typo" not in err.message
    assert "link may be fine" in err.message or "If the link is right" in err.message


def test_slow_dns_counts_against_the_deadline() -> None:
    def slow(host: str, port: int) -> list[str]:
        time.sleep(2)
        return ["93.184.216.34"]

    start = time.monotonic()
    refused(Fetcher(resolver=slow, deadline=0.3), "http://slow.example/", "timeout")
    assert time.monotonic() - start < 1.0


def test_closed_port_is_unreachable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    err = refused(local(), f"http://127.0.0.1:{port}/", "unreachable")
    assert f"127.0.0.1:{port}" in err.message


def test_refusals_are_logged_without_credentials_or_query(caplog) -> None:
    caplog.set_level(logging.INFO, logger="bot.fetch.fetcher")
    refused(
        Fetcher(resolver=no_dns), "http://joe:hunter2@10.0.0.1/x?token=s3cret", "private_address"
    )
    assert "private_address" in caplog.text and "10.0.0.1" in caplog.text
    assert "hunter2" not in caplog.text and "s3cret" not in caplog.text
    assert caplog.records[-1].levelno == logging.WARNING


# ---- redirects -----------------------------------------------------------------------------


def test_follows_up_to_three_redirects(server: Server) -> None:
    page = local().fetch(server.url("/hop/3"))
    assert page.body == ARTICLE and page.url == server.url("/article")


def test_more_than_three_redirects_are_refused(server: Server) -> None:
    err = refused(local(), server.url("/hop/4"), "http_status")
    assert "more than 3" in err.message
    assert local(max_redirects=4).fetch(server.url("/hop/4")).body == ARTICLE


def test_redirect_without_location(server: Server) -> None:
    refused(local(), server.url("/no-location"), "http_status")


@pytest.mark.parametrize(
    "target",
    [
        "http://10.0.0.1/admin",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://2852039166/",  # 169.254.169.254 as one number
    ],
)
def test_redirects_to_internal_addresses_are_refused(server: Server, target: str) -> None:
    # Loopback and even all of link-local are allowed here; every hop is checked again and
    # link-local/metadata addresses never pass.
    fetcher = local(allow_private=[*LOOPBACK, "169.254.0.0/16"], resolver=no_dns)
    err = refused(fetcher, server.url(f"/goto?to={target}"), "private_address")
    assert "redirected" in err.message


def test_redirect_target_name_is_resolved_and_checked(server: Server) -> None:
    calls: list[str] = []
    fetcher = local(resolver=fixed({"evil.example": ["127.0.0.1", "10.9.9.9"]}, calls))
    refused(fetcher, server.url("/goto?to=http://evil.example/"), "private_address")
    assert calls == ["evil.example"]


def test_redirect_to_other_schemes_is_refused(server: Server) -> None:
    err = refused(local(), server.url("/goto?to=file:///etc/passwd"), "bad_scheme")
    assert "(file:)" in err.message
    refused(local(), server.url("/goto?to=ftp://example.org/"), "bad_scheme")


def test_check_redirect_decisions() -> None:
    assert check_redirect("https://a.example/x/y", "../z?q=1") == "https://a.example/z?q=1"
    assert check_redirect("http://a.example/", "https://b.example/") == "https://b.example/"
    assert check_redirect("https://a.example/", "//b.example/p") == "https://b.example/p"
    with pytest.raises(FetchError) as info:
        check_redirect("https://a.example/", "http://a.example/")
    assert info.value.code == "bad_scheme" and "https" in info.value.message
    with pytest.raises(FetchError):
        check_redirect("https://a.example/", "HTTP://a.example/")
    with pytest.raises(FetchError):
        check_redirect("http://a.example/", "javascript:alert(1)")


# ---- status and content type ---------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 410, 500, 503, 400, 429])
def test_error_statuses(server: Server, status: int) -> None:
    err = refused(local(), server.url(f"/status/{status}"), "http_status")
    assert str(status) in err.message and err.status == status


@pytest.mark.parametrize("status", [401, 402, 403])
def test_refusal_statuses_hint_at_a_paywall(server: Server, status: int) -> None:
    err = refused(local(), server.url(f"/status/{status}"), "http_status")
    assert "paywall" in err.message and str(status) in err.message


@pytest.mark.parametrize(("path", "word"), [("/pdf", "PDF"), ("/png", "image")])
def test_binary_content_types_are_refused(server: Server, path: str, word: str) -> None:
    err = refused(local(), server.url(path), "content_type")
    assert word in err.message


def test_unknown_content_encoding_is_refused(server: Server) -> None:
    refused(local(), server.url("/odd-encoding"), "content_type")


# ---- size and time -------------------------------------------------------------------------


def test_declared_oversize_body_is_refused(server: Server) -> None:
    err = refused(local(max_bytes=100_000), server.url("/big"), "too_large")
    assert "0.1 MB" in err.message


def test_streamed_oversize_body_is_refused(server: Server) -> None:
    refused(local(max_bytes=100_000), server.url("/big-stream"), "too_large")
    assert len(local(max_bytes=BIG + 10).fetch(server.url("/big-stream")).body) == BIG


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_decompression_bombs_stop_at_the_decoded_cap(server: Server, encoding: str) -> None:
    assert len(bomb(encoding)) < 100_000  # small on the wire, 20 MB decoded
    tracemalloc.start()
    try:
        refused(local(max_bytes=1_000_000), server.url(f"/bomb/{encoding}"), "too_large")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000, peak  # decoded in bounded steps, never inflated whole


def test_the_deadline_covers_the_whole_fetch(server: Server) -> None:
    # /drip-body and /drip-headers send a byte every 50 ms, so no single read ever times out;
    # /stall sends headers, then nothing. One shared fetcher, three threads: also thread-safe.
    fetcher = local(deadline=1.0)

    def timed(path: str) -> tuple[float, FetchError]:
        start = time.monotonic()
        err = refused(fetcher, server.url(path), "timeout")
        return time.monotonic() - start, err

    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(timed, ["/drip-body", "/drip-headers", "/stall"]))
    for elapsed, err in results:
        # the deadline fired, not a read timeout or the server's own 4 s drip limit
        assert 0.9 <= elapsed < 3.5, elapsed
        assert "1 seconds" in err.message


# ---- helpers -------------------------------------------------------------------------------


def test_parse_allow_private() -> None:
    assert parse_allow_private("") == []
    assert parse_allow_private(" 127.0.0.0/8 , 10.0.0.0/8,,fd00::/8 ") == [
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("fd00::/8"),
    ]
    assert parse_allow_private("127.0.0.1/8") == [ipaddress.ip_network("127.0.0.0/8")]
    with pytest.raises(ValueError, match="not-a-net"):
        parse_allow_private("127.0.0.0/8,not-a-net")
    assert Fetcher(allow_private="10.0.0.0/8").allow_private == (
        ipaddress.ip_network("10.0.0.0/8"),
    )


def test_ip_literal_and_address_problem() -> None:
    assert ip_literal("example.org") is None
    assert ip_literal("1.2.3.4.") == ipaddress.ip_address("1.2.3.4")
    assert ip_literal("0x7f.1") == ipaddress.ip_address("127.0.0.1")
    with pytest.raises(ValueError):
        ip_literal("08.1.1.1")
    public = ipaddress.ip_address("93.184.216.34")
    assert address_problem(public) is None
    assert address_problem(ipaddress.ip_address("127.0.0.1")) == "private"
    allowed = [ipaddress.ip_network("127.0.0.0/8")]
    assert address_problem(ipaddress.ip_address("127.0.0.1"), allowed) is None
    assert address_problem(ipaddress.ip_address("169.254.169.254"), allowed) == "metadata"


# ---- real TLS ------------------------------------------------------------------------------


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


@pytest.fixture(scope="module")
def tls(tmp_path_factory) -> Iterator[tuple[Server, Path]]:
    """An HTTPS server for ``secure.test`` signed by a throwaway CA (made with openssl)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    d = tmp_path_factory.mktemp("tls")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(
        "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=Policy Digest Test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=d,
    )  # fmt: skip
    _openssl("req", *ec, "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=secure.test", cwd=d)
    (d / "ext.cnf").write_text(
        "subjectAltName=DNS:secure.test\nbasicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
        "authorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n"
    )
    _openssl(
        "x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "srv.pem", "-days", "2", "-extfile", "ext.cnf",
        cwd=d,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(d / "srv.pem", d / "srv.key")
    srv = Server(context)
    yield srv, d / "ca.pem"
    srv.stop()


def _tls_fetcher(ca: Path | None, **kwargs) -> Fetcher:
    names = {"secure.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]}
    return local(resolver=fixed(names), ca_certs=str(ca) if ca else None, **kwargs)


def test_https_verifies_the_name_while_connecting_to_the_checked_address(tls) -> None:
    srv, ca = tls
    page = _tls_fetcher(ca).fetch(f"https://secure.test:{srv.port}/host")
    assert page.body == f"secure.test:{srv.port}".encode()


def test_https_with_a_wrong_or_untrusted_certificate_is_refused(tls) -> None:
    srv, ca = tls
    err = refused(_tls_fetcher(ca), f"https://other.test:{srv.port}/", "unreachable")
    assert "certificate" in err.message
    refused(_tls_fetcher(ca), f"https://127.0.0.1:{srv.port}/", "unreachable")
    refused(_tls_fetcher(None), f"https://secure.test:{srv.port}/", "unreachable")


def test_https_to_http_downgrade_is_refused(tls, server: Server) -> None:
    srv, ca = tls
    plain = server.url("/article", host="secure.test")
    err = refused(_tls_fetcher(ca), f"https://secure.test:{srv.port}/goto?to={plain}", "bad_scheme")
    assert "https" in err.message
    ok = _tls_fetcher(ca).fetch(f"https://secure.test:{srv.port}/goto?to=/article")
    assert ok.body == ARTICLE and ok.url == f"https://secure.test:{srv.port}/article"
