"""Feeds written for these tests (never copied from anywhere), and a local server for them.

Shapes official sources publish: an RSS 2.0 press-release feed with teasers (the article page is
read), an Atom feed with full content, a feed with relative links, a malformed feed, a site page
announcing its feed, a redirect to a private address and a 404.
"""

from __future__ import annotations

import threading
from email.utils import formatdate
from xml.sax.saxutils import escape

from tests.local_http import QuietHandler, serve

ARTICLE = """<html><head><title>{title}</title>
<meta property="og:site_name" content="Commerce Press Office"></head><body>
<nav>Home | Newsroom | Contact</nav><article><h1>{title}</h1>
<p>{lead}</p>
<p>The Bureau of Industry and Security said the rule adds entities to the Entity List because
they supplied advanced computing items to military end users, contrary to national security.</p>
<p>Companies that export to the listed parties will need a licence, and applications face a
presumption of denial. The rule takes effect on publication in the Federal Register.</p>
<p>Officials said they coordinated with allies and would keep reviewing the list as new
information about diversion of semiconductors and chipmaking tools comes to light.</p>
</article><footer>An official website of the United States government</footer></body></html>"""

FULL_TEXT = (
    "<p>{lead}</p><p>The Ministry said the measures answer the latest round of tariffs and take "
    "effect next month. Exporters of the listed goods will need a licence for each shipment, "
    "and the ministry will publish guidance for firms that already hold contracts abroad.</p>"
    "<p>Analysts said the step widens a dispute that has run for two years and that talks "
    "between the two sides are expected to resume after the holiday. Trade groups asked for "
    "a grace period so that shipments already at sea are not stranded at the border.</p>"
    "<p>The statement added that the ministry would keep reviewing the list of controlled "
    "items as new information comes to light, and that it remains open to dialogue on the "
    "matter with every partner that respects the rules of international trade.</p>"
)


def rfc822(ts: float) -> str:
    return formatdate(ts, usegmt=True)


def iso(ts: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rss(title: str, items: list[dict], base: str = "", link: str = "/newsroom") -> str:
    """An RSS 2.0 feed; each item: title, link, guid?, published (ts)?, description."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>',
        f"<title>{escape(title)}</title><link>{escape(base + link)}</link>",
        "<description>Press releases</description>",
    ]
    for it in items:
        parts.append("<item>")
        parts.append(f"<title>{escape(it['title'])}</title>")
        parts.append(f"<link>{escape(it['link'])}</link>")
        if it.get("guid"):
            parts.append(f'<guid isPermaLink="false">{escape(it["guid"])}</guid>')
        if it.get("published") is not None:
            parts.append(f"<pubDate>{rfc822(it['published'])}</pubDate>")
        parts.append(f"<description>{escape(it.get('description', ''))}</description>")
        if it.get("content"):
            parts.append(f"<content:encoded>{escape(it['content'])}</content:encoded>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "\n".join(parts)


def atom(title: str, entries: list[dict]) -> str:
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<title>{escape(title)}</title><id>urn:feed:{escape(title)}</id>",
        f"<updated>{iso(max((e['published'] for e in entries), default=0))}</updated>",
    ]
    for e in entries:
        parts.append(
            f"<entry><id>{escape(e['id'])}</id><title>{escape(e['title'])}</title>"
            f'<link rel="alternate" href="{escape(e["link"])}"/>'
            f"<updated>{iso(e['published'])}</updated><published>{iso(e['published'])}</published>"
            f'<content type="html">{escape(e["content"])}</content></entry>'
        )
    parts.append("</feed>")
    return "\n".join(parts)


class FeedServer:
    """Serves ``routes`` (path -> (status, content type, body, headers)) on 127.0.0.1:0;
    answers 304 to a matching ``If-None-Match`` when a route sets an ETag."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, str, bytes, dict]] = {}
        self.hits: list[tuple[str, dict]] = []
        self.lock = threading.Lock()
        server = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802
                with server.lock:
                    server.hits.append((self.path, dict(self.headers)))
                    route = server.routes.get(self.path)
                if route is None and self.path.startswith("/a/"):
                    slug = self.path.rsplit("/", 1)[-1]
                    title = f"Commerce adds entities to the Entity List ({slug})"
                    lead = (
                        f"The Commerce Department on Tuesday added entities to the Entity "
                        f"List in action {slug}, tightening export controls on chips."
                    )
                    body = ARTICLE.format(title=title, lead=lead).encode()
                    route = (200, "text/html; charset=utf-8", body, {})
                if route is None:
                    route = (404, "text/html", b"<html><body>Not found</body></html>", {})
                status, ctype, body, headers = route
                etag = headers.get("ETag")
                if etag and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_body(body, ctype, status, headers)

        self.httpd = serve(Handler)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def serve(
        self, path: str, body: str | bytes, ctype: str = "application/rss+xml", **headers
    ) -> str:
        data = body.encode() if isinstance(body, str) else body
        with self.lock:
            self.routes[path] = (200, ctype, data, headers)
        return self.url(path)

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        with self.lock:
            self.routes[path] = (status, "text/html", b"", {"Location": location})
        return self.url(path)

    def hits_of(self, path: str) -> list[dict]:
        with self.lock:
            return [h for p, h in self.hits if p == path]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
