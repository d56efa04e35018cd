"""UrlFilter: blocklist, banned words / subwords, schemes, malformed and long URLs."""
from __future__ import annotations

import dataclasses
import gzip

import pytest

from gristmill.transforms import url_filter
from gristmill.transforms.url_filter import (
    REASONS, SHIPPED_BLOCKLIST, UrlFilter, UrlFilterConfig, normalize_domain_entry, url_tokens,
)


@pytest.fixture(scope="module")
def uf():
    return UrlFilter()


@pytest.mark.parametrize(
    "url, reason",
    [
        ("https://example.com/" + "a" * 2100, "url_too_long"),
        ("", "malformed_url"),
        ("http://exa mple.com/", "malformed_url"),
        ("http://example.com/a b", "malformed_url"),
        ("http://example.com/\x00", "malformed_url"),
        ("http://example.com/\u00a0x", "malformed_url"),
        (" http://example.com/", "malformed_url"),
        ("example.com/page", "malformed_url"),
        ("http://[::1/", "malformed_url"),
        ("http:///path", "malformed_url"),
        ("http://:80/", "malformed_url"),
        ("http://example.com:99999/", "malformed_url"),
        ("http://example.com:80a/", "malformed_url"),
        ("http://a..example.com/", "malformed_url"),
        ("http://" + "a" * 64 + ".com/", "malformed_url"),
        ("http://ex!ample.com/", "malformed_url"),
        ("http://[2001:db8::zz]/", "malformed_url"),
        ("ftp://example.com/file", "bad_scheme"),
        ("mailto:someone@example.com", "bad_scheme"),
        ("javascript:alert(1)", "bad_scheme"),
        ("https://megacasino-bonus.com/", "blocked_domain"),
        ("http://cheap-pills-online.net/buy", "blocked_domain"),
        ("https://adult-videos-xxx.com/", "blocked_domain"),
        ("https://example.com/free-porn/", "banned_word"),
        ("https://example.com/watch?v=XXX", "banned_word"),
        ("https://example.com/free%20porn", "banned_word"),
        ("https://example.com/sexy-nude-pics", "soft_banned_words"),
        ("https://casino.example.com/jackpot", "soft_banned_words"),
        ("http://hotxxxvids.com/", "banned_subword"),
        ("https://myporntube.net/", "banned_subword"),
    ],
)
def test_reasons(uf, url, reason):
    assert uf.reason(url) == reason
    assert reason in REASONS


def test_reason_strings_are_stable():
    assert set(REASONS) == {"malformed_url", "bad_scheme", "url_too_long", "blocked_domain",
                            "banned_word", "soft_banned_words", "banned_subword"}
    assert url_filter.STAGE == "url_filter"


@pytest.mark.parametrize(
    "url",
    [
        "https://www.essex.ac.uk/",
        "https://www.sussex.ac.uk/research/analysis",
        "https://www.middlesex.gov.uk/services",
        "https://en.wikipedia.org/wiki/Middlesex",
        "https://www.bbc.co.uk/news/uk-england-essex-66351234",
        "https://analysis.example.com/data-analysis/report",
        "https://therapist.com/find-a-therapist/",
        "https://www.scunthorpe-united.co.uk/",
        "https://www.scunthorpe.gov.uk/",
        "https://www.essexcamping.co.uk/",
        "https://www.milford.gov/",
        "https://www.adult-education.org/courses",
        "https://casino-royale.example.org/review",
        "https://example.org/search?q=data+analysis&page=2#results",
        "HTTP://WWW.EXAMPLE.COM:8080/Path/To?Q=1",
        "http://example.com:80/",
        "https://user:secret@example.com/private",
        "https://example.com./trailing-dot",
        "https://münchen.de/straße?q=öffnungszeiten",
        "https://MÜNCHEN.de/",
        "https://xn--mnchen-3ya.de/",
        "https://例え.jp/パス",
        "https://bücher.example.ch:8443/katalog",
        "http://192.0.2.1/index.html",
        "http://[2001:db8::1]:8080/",
        "https://notmegacasino-bonus.com/",
        "https://megacasino-bonus.com.example.org/",
        "http://localhost:8000/",
    ],
)
def test_normal_urls_kept(uf, url):
    assert uf.reason(url) is None
    assert uf.keep(url)


def test_blocked_domain_rules(uf):
    for url in ("https://www.megacasino-bonus.com/",
                "https://WWW.MegaCasino-Bonus.COM:8443/offers?x=1",
                "https://eu.promo.megacasino-bonus.com/",
                "https://megacasino-bonus.com./",
                "http://user@cheap-pills-online.net:81/"):
        assert uf.reason(url) == "blocked_domain", url
    # only whole labels: a longer name or the domain inside another one is not blocked
    assert uf.reason("https://notmegacasino-bonus.com/") != "blocked_domain"
    assert uf.reason("https://megacasino-bonus.com.evil.example/") != "blocked_domain"
    assert uf.reason("https://megacasino-bonus.co/") != "blocked_domain"


def test_user_blocklist(tmp_path):
    path = tmp_path / "my-domains.txt"
    path.write_text(
        "# my list\n"
        "\n"
        "WWW.Example.ORG   # trailing comment\n"
        "*.wild.example\n"
        "0.0.0.0 tracker.example.net\n"
        "münchen.de\n"
        "xn--bcher-kva.example\n"
        "203.0.113.7\n"
        "http://from-url.example/\n"
        "http://with-path.example/some/page\n"
        "this is not a domain\n",
        encoding="utf-8",
    )
    f = UrlFilter(UrlFilterConfig(blocklist=str(path)))
    assert f.skipped_entries == 2
    blocked = [
        "https://example.org/", "https://www.example.org/x", "https://a.b.EXAMPLE.org/",
        "https://wild.example/", "https://x.wild.example/",
        "https://tracker.example.net/pixel.gif",
        "https://münchen.de/", "https://www.xn--mnchen-3ya.de/", "https://MÜNCHEN.DE/",
        "https://bücher.example/", "http://203.0.113.7:8080/",
        "https://from-url.example/",
    ]
    for url in blocked:
        assert f.reason(url) == "blocked_domain", url
    kept = ["https://example.com/", "https://notexample.org/", "https://with-path.example/",
            "http://203.0.113.8/", "https://muenchen.de/",
            # a user list replaces the shipped one
            "https://megacasino-bonus.com/"]
    for url in kept:
        assert f.reason(url) is None, url


def test_several_lists_and_gzip(tmp_path):
    a = tmp_path / "a.txt"
    a.write_text("alpha.example\n")
    b = tmp_path / "b.txt.gz"
    with gzip.open(b, "wt") as f:
        f.write("beta.example\n")
    uf = UrlFilter(UrlFilterConfig(blocklist=[a, str(b), SHIPPED_BLOCKLIST]))
    for url in ("http://alpha.example/", "http://x.beta.example/", "http://megacasino-bonus.com/"):
        assert uf.reason(url) == "blocked_domain", url
    none = UrlFilter(UrlFilterConfig(blocklist=()))
    assert none.blocked_domains == frozenset()
    assert none.reason("https://megacasino-bonus.com/") is None


def test_whole_token_vs_host_subword(tmp_path):
    """The Scunthorpe guard is the matching rule, not just the shipped lists' contents."""
    words = tmp_path / "words.txt"
    words.write_text("sex\n")
    subwords = tmp_path / "subwords.txt"
    subwords.write_text("sex\n")
    by_word = UrlFilter(UrlFilterConfig(blocklist=(), banned_words=words, soft_banned_words=(), banned_subwords=()))
    assert by_word.reason("https://www.essex.ac.uk/sussex/middlesex") is None
    assert by_word.reason("https://shop.example/sex-toys") == "banned_word"
    assert by_word.reason("https://shop.example/SEX") == "banned_word"
    by_subword = UrlFilter(UrlFilterConfig(blocklist=(), banned_words=(), soft_banned_words=(), banned_subwords=subwords))
    assert by_subword.reason("https://example.com/essex-and-sussex") is None  # path: never searched
    assert by_subword.reason("https://www.essex.ac.uk/") == "banned_subword"   # host: searched


def test_shipped_lists_hold_no_scunthorpe_subwords(uf):
    innocent_hosts = ("essex", "sussex", "middlesex", "analysis", "therapist", "scunthorpe", "milford",
                      "essexcamping", "titleholders", "massachusetts", "cocktails", "shitake")
    for host in innocent_hosts:
        assert not [sub for sub in uf.banned_subwords if sub in host], host
    assert {"porn", "xxx"} <= uf.banned_words and {"porn", "xxx"} <= uf.banned_subwords
    assert "sex" in uf.soft_banned_words and "sex" not in uf.banned_words


def test_shipped_blocklist_file():
    text = SHIPPED_BLOCKLIST.read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines()]
    for domain in ("megacasino-bonus.com", "cheap-pills-online.net", "adult-videos-xxx.com"):
        assert domain in lines
    assert lines[0].startswith("#") and "one domain per line" in text
    for name in ("url_banned_words.txt", "url_soft_banned_words.txt", "url_banned_subwords.txt"):
        assert (url_filter.DATA_DIR / name).exists()


def test_config_options():
    short = UrlFilter(UrlFilterConfig(max_url_length=30))
    assert short.reason("https://example.com/0123456789") is None  # 30 characters
    assert short.reason("https://example.com/0123456789a") == "url_too_long"
    http_only = UrlFilter(UrlFilterConfig(allowed_schemes=("HTTP",)))
    assert http_only.reason("http://example.com/") is None
    assert http_only.reason("https://example.com/") == "bad_scheme"
    strict = UrlFilter(UrlFilterConfig(soft_banned_threshold=1))
    assert strict.reason("https://casino-royale.example.org/") == "soft_banned_words"
    lax = UrlFilter(UrlFilterConfig(soft_banned_threshold=3))
    assert lax.reason("https://example.com/sexy-nude-pics") is None
    assert lax.reason("https://example.com/sexy-nude-webcam") == "soft_banned_words"
    cfg = UrlFilterConfig(blocklist="x.txt")
    assert cfg.blocklist == ("x.txt",) and hash(cfg) == hash(UrlFilterConfig(blocklist=["x.txt"]))
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.max_url_length = 1
    with pytest.raises(ValueError):
        UrlFilterConfig(soft_banned_threshold=0)


def test_helpers():
    assert url_tokens("https://Ex-ample.com/a_b/%C3%BCber?x=1+2") == {"https", "ex", "ample", "com", "a", "b", "über", "x", "1", "2"}
    assert normalize_domain_entry("WWW.Example.COM.") == "example.com"
    assert normalize_domain_entry("www.com") == "www.com"
    assert normalize_domain_entry("0.0.0.0 ads.example") == "ads.example"
    assert normalize_domain_entry("bücher.example") == "xn--bcher-kva.example"
    assert normalize_domain_entry("2001:DB8::1") == "2001:db8::1"
    assert normalize_domain_entry("two words") is None
    assert normalize_domain_entry("bad!host.example") is None
