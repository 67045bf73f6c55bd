"""tipline/fetch.py: links fetched for the public are never a way into the server's network."""

import pytest

from tests.pages_server import PagesServer
from tipline.fetch import FetchFailed, FetchRefused, SafeFetcher, public_address


def resolver(table):
    """A name resolver answering from a table (nothing else resolves); it records what it was asked."""
    asked = []

    def resolve(host, port):
        asked.append(host)
        if host not in table:
            raise FetchFailed(f"cannot resolve {host}")
        return table[host]

    resolve.asked = asked
    return resolve


@pytest.mark.parametrize("address, public", [
    ("93.184.216.34", True), ("2606:2800:220:1:248:1893:25c8:1946", True),
    ("127.0.0.1", False), ("127.8.9.10", False), ("10.0.0.1", False), ("10.255.1.2", False),
    ("172.16.0.1", False), ("192.168.1.1", False), ("169.254.169.254", False), ("100.64.0.1", False),
    ("0.0.0.0", False), ("224.0.0.1", False), ("255.255.255.255", False), ("::1", False),
    ("fe80::1", False), ("fc00::1", False), ("::ffff:10.0.0.1", False), ("::ffff:127.0.0.1", False),
    ("not an address", False),
])
def test_only_public_addresses_count_as_public(address, public):
    assert public_address(address) is public


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/", "http://10.0.0.1/admin", "http://10.20.30.40/", "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/", "http://0.0.0.0/", "http://2130706433/", "http://[::ffff:169.254.169.254]/",
    "https://192.168.0.1/", "http://100.100.100.200/",
])
def test_private_loopback_and_link_local_addresses_are_refused_in_production(url):
    with pytest.raises(FetchRefused, match="non-public address"):
        SafeFetcher().fetch(url)


def test_a_name_resolving_to_a_private_address_is_refused_after_resolution():
    resolve = resolver({"intranet.example": ["10.1.2.3"], "metadata.example": ["169.254.169.254"],
                        "rebind.example": ["93.184.216.34", "127.0.0.1"]})
    fetcher = SafeFetcher(resolver=resolve)
    for host in ("intranet.example", "metadata.example", "rebind.example"):
        with pytest.raises(FetchRefused, match="non-public address"):
            fetcher.fetch(f"https://{host}/page")
    assert resolve.asked == ["intranet.example", "metadata.example", "rebind.example"]


def test_a_loopback_server_is_never_reached_in_production():
    with PagesServer() as server:
        server.page("/", "<title>rahasia</title>")
        # Its port is allowed, so only the address check stands between the fetch and the server.
        fetcher = SafeFetcher(ports=[server.port])
        for url in (server.url + "/", f"http://localhost:{server.port}/", f"http://[::ffff:127.0.0.1]:{server.port}/"):
            with pytest.raises(FetchRefused):
                fetcher.fetch(url)
        assert server.hits == []
        # The same server in a test's allow-list is read: the refusal above was the address.
        assert b"rahasia" in SafeFetcher(allow=[server.host]).fetch(server.url + "/").body


def test_every_redirect_is_checked_again():
    with PagesServer() as inside, PagesServer() as allowed:
        inside.page("/secret", "<title>rahasia</title>")
        allowed.redirect("/to-metadata", "http://169.254.169.254/latest/meta-data/")
        allowed.redirect("/to-loopback", inside.url + "/secret")
        allowed.redirect("/to-named", "http://intranet.example/")
        fetcher = SafeFetcher(allow=[allowed.host], ports=[inside.port],
                              resolver=resolver({"intranet.example": ["10.9.8.7"]}))
        for path in ("/to-metadata", "/to-loopback", "/to-named"):
            with pytest.raises(FetchRefused):
                fetcher.fetch(allowed.url + path)
        assert inside.hits == []
        assert allowed.hits == ["/to-metadata", "/to-loopback", "/to-named"]


@pytest.mark.parametrize("url, why", [
    ("ftp://example.org/file", "only http and https"),
    ("file:///etc/passwd", "only http and https"),
    ("gopher://example.org/", "only http and https"),
    ("http://user:pass@example.org/", "user name or password"),
    ("http://example.org:22/", "port 22"),
    ("http:///nohost", "no host"),
])
def test_schemes_ports_and_credentials_are_refused(url, why):
    resolve = resolver({})
    with pytest.raises(FetchRefused, match=why):
        SafeFetcher(resolver=resolve).fetch(url)
    assert resolve.asked == []


def test_redirects_are_followed_a_few_times_only():
    with PagesServer() as server:
        server.page("/end", "<title>akhir</title>")
        server.redirect("/a", "/b")
        server.redirect("/b", "/end")
        for n in range(5):
            server.redirect(f"/loop{n}", f"/loop{n + 1}")
        fetcher = SafeFetcher(allow=[server.host], max_redirects=3)
        got = fetcher.fetch(server.url + "/a")
        assert got.url == server.url + "/end" and b"akhir" in got.body
        with pytest.raises(FetchFailed, match="more than 3 redirects"):
            fetcher.fetch(server.url + "/loop0")
        assert server.hits[-4:] == ["/loop0", "/loop1", "/loop2", "/loop3"]


def test_a_large_page_is_cut_at_the_cap_and_a_large_file_refused():
    with PagesServer() as server:
        server.page("/big", "<p>" + "kata " * 100_000 + "</p>")
        server.routes["/big.jpg"] = (200, {"Content-Type": "image/jpeg"}, b"\xff" * 50_000)
        fetcher = SafeFetcher(allow=[server.host], max_bytes=10_000)
        got = fetcher.fetch(server.url + "/big")
        assert got.truncated and len(got.body) == 10_000
        with pytest.raises(FetchFailed, match="larger than 10000 bytes"):
            fetcher.fetch(server.url + "/big.jpg", accept=("image/",), over_cap="refuse")


def test_other_content_types_and_error_statuses_fail():
    with PagesServer() as server:
        server.routes["/zip"] = (200, {"Content-Type": "application/zip"}, b"PK")
        server.routes["/gone"] = (410, {"Content-Type": "text/html"}, b"gone")
        fetcher = SafeFetcher(allow=[server.host])
        with pytest.raises(FetchFailed, match="application/zip"):
            fetcher.fetch(server.url + "/zip")
        with pytest.raises(FetchFailed, match="410"):
            fetcher.fetch(server.url + "/gone")


def test_a_slow_server_fails_at_the_deadline():
    with PagesServer(delay=2.0) as server:
        server.page("/slow", "<title>lambat</title>")
        with pytest.raises(FetchFailed):
            SafeFetcher(allow=[server.host], timeout=0.3).fetch(server.url + "/slow")


def test_credentials_go_only_to_the_origin_they_are_for():
    with PagesServer() as api, PagesServer() as cdn:
        seen = []
        cdn.page("/file", "ok")
        api.redirect("/media", cdn.url + "/file")
        fetcher = SafeFetcher(allow=[api.host, cdn.host])
        original = cdn._server.RequestHandlerClass.do_GET

        def record(handler):
            seen.append(handler.headers.get("Authorization"))
            original(handler)

        cdn._server.RequestHandlerClass.do_GET = record
        fetcher.fetch(api.url + "/media", headers={"Authorization": "Basic c2VjcmV0"},
                      auth_origin=f"http://127.0.0.1:{api.port}")
        assert seen == [None]
