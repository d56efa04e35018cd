"""UrlFilter: blocklist, banned words / subwords, schemes, malformed and long URLs."""
from __future__ import annotations

import dataclasses
import gzip
import tarfile

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
    assert set(REASONS) == {"malformed_url", "bad_scheme", "url_too_long", "blocked_domain", "blocked_url",
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
    assert f.skipped_entries == 1 and f.suffix_entries == 0
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
    for url in ("https://with-path.example/some/page", "https://www.with-path.example/Some/Page/",
                "https://with-path.example/some/page/child?x=1", "https://with-path.example/some/page?x=1"):
        assert f.reason(url) == "blocked_url", url
    kept = ["https://example.com/", "https://notexample.org/", "https://with-path.example/",
            "https://with-path.example/some/pages", "https://with-path.example/some",
            "https://sub.with-path.example/some/page",
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


def _ut1_tree(root):
    """A folder laid out as the UT1 blacklists are: ROOT/CATEGORY/{domains,urls,usage}."""
    for category, domains, urls in (
        ("adult", "adult-one.example\nadult-two.example\ncom\nco.uk\n", "pages.example/~bad\nhttp://www.pages.example/dir/x.html\n"),
        ("gambling", "bets.example\n", None),
        ("news", "daily.example\n", None),
    ):
        (root / category).mkdir(parents=True)
        (root / category / "domains").write_text(domains)
        (root / category / "usage").write_text("black\n")
        if urls:
            (root / category / "urls").write_text(urls)
    return root


UT1_EXPECT = {
    "https://adult-one.example/": "blocked_domain",
    "https://cdn.adult-two.example/img": "blocked_domain",
    "https://pages.example/~bad/index.html": "blocked_url",
    "https://pages.example/dir/x.html": "blocked_url",
    "https://pages.example/~good/": None,
    "https://example.com/": None,        # "com" in the list: a public suffix, skipped
    "https://bbc.co.uk/": None,          # "co.uk": the same
}


def test_ut1_folder_and_categories(tmp_path):
    root = _ut1_tree(tmp_path / "blacklists")
    adult = UrlFilter(UrlFilterConfig(blocklist=str(root)))  # default category: adult
    assert adult.suffix_entries == 2 and adult.skipped_entries == 0
    for url, reason in UT1_EXPECT.items():
        assert adult.reason(url) == reason, url
    assert adult.reason("https://bets.example/") is None
    both = UrlFilter(UrlFilterConfig(blocklist=root, blocklist_categories=("adult", "gambling")))
    assert both.reason("https://bets.example/") == "blocked_domain"
    assert both.reason("https://daily.example/") is None
    one = UrlFilter(UrlFilterConfig(blocklist=root / "gambling", blocklist_categories=()))  # a category folder
    assert one.reason("https://bets.example/") == "blocked_domain" and one.reason("https://adult-one.example/") is None
    with pytest.raises(ValueError, match="no UT1 category casino .*adult, gambling, news"):
        UrlFilter(UrlFilterConfig(blocklist=root, blocklist_categories="casino"))
    with pytest.raises(ValueError, match="not a UT1 blacklist"):
        UrlFilter(UrlFilterConfig(blocklist=tmp_path / "blacklists" / "adult" / ".." / ".." ))


def test_ut1_archive_read_without_unpacking(tmp_path):
    root = _ut1_tree(tmp_path / "tree" / "blacklists")
    archive = tmp_path / "blacklists.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(root, arcname="blacklists")
    from_archive = UrlFilter(UrlFilterConfig(blocklist=str(archive), blocklist_categories=("adult", "gambling")))
    from_folder = UrlFilter(UrlFilterConfig(blocklist=str(root), blocklist_categories=("adult", "gambling")))
    assert from_archive.blocklist == from_folder.blocklist
    for url, reason in UT1_EXPECT.items():
        assert from_archive.reason(url) == reason, url
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blacklists.tar.gz", "tree"]  # nothing unpacked
    with pytest.raises(ValueError, match="no UT1 category porn"):
        UrlFilter(UrlFilterConfig(blocklist=str(archive), blocklist_categories=("porn",)))


def test_public_suffix_matching(tmp_path):
    path = tmp_path / "list.txt"
    path.write_text("example.co.uk\nco.uk\njp\nfoo.ck\nwww.ck\nuser.github.io\nkyoto.jp\n")
    f = UrlFilter(UrlFilterConfig(blocklist=str(path)))
    # co.uk, jp, kyoto.jp and foo.ck (by the "*.ck" rule) are suffixes; www.ck is the rule's exception
    assert f.suffix_entries == 4
    assert f.blocked_domains == {"example.co.uk", "www.ck", "user.github.io"}
    assert f.reason("https://a.b.example.co.uk/") == "blocked_domain"
    assert f.reason("https://other.co.uk/") is None
    assert f.reason("https://temple.kyoto.jp/") is None
    assert f.reason("https://user.github.io/blog") == "blocked_domain"
    assert f.reason("https://someone.github.io/") is None


def test_idna2008_hosts(tmp_path):
    path = tmp_path / "list.txt"
    path.write_text("faß.de\n")
    f = UrlFilter(UrlFilterConfig(blocklist=str(path)))
    assert f.blocked_domains == {"xn--fa-hia.de"}               # IDNA2008, not IDNA2003's fass.de
    assert f.reason("https://faß.de/") == "blocked_domain"
    assert f.reason("https://FASS.de/") is None                  # a different domain under IDNA2008
    assert f.reason("https://xn--fa-hia.de/seite") == "blocked_domain"
    assert url_filter.idna_host("faß.de") == "xn--fa-hia.de"
    assert url_filter.idna_host("例え。jp") == "xn--r8jz45g.jp"   # ideographic full stop
    assert url_filter.idna_host("i❤.ws") == "xn--i-7iq.ws"       # IDNA2008 refuses, browsers open it
    assert f.reason("https://i❤.ws/") is None


def test_subword_scope(tmp_path):
    kept_by_host = ("https://example.com/watch/hotxxxgirls", "https://example.com/pornography-law")
    host = UrlFilter(UrlFilterConfig(blocklist=()))
    whole = UrlFilter(UrlFilterConfig(blocklist=(), subword_scope="url"))
    for url in kept_by_host:
        assert host.reason(url) is None and whole.reason(url) == "banned_subword", url
    for url in ("https://www.essex.ac.uk/analysis", "https://therapist.com/"):
        assert whole.reason(url) is None, url
    with pytest.raises(ValueError, match="subword_scope"):
        UrlFilterConfig(subword_scope="path")


def test_job_options_build_the_filter_config(tmp_path):
    from apache_beam.options.pipeline_options import PipelineOptions

    from gristmill.pipelines.options import GristmillOptions, job_config
    from tests.conftest import shared_data

    warc = shared_data("warc", "cc-main-2020-34-slice.warc.gz")
    root = _ut1_tree(tmp_path / "blacklists")
    extra = tmp_path / "extra.txt"
    extra.write_text("extra.example\n")
    words = tmp_path / "words.txt"
    words.write_text("forbidden\n")

    def cfg(*argv):
        opts = PipelineOptions([f"--input={warc}", f"--output={tmp_path / 'out'}", *argv])
        return job_config(opts.view_as(GristmillOptions))

    c = cfg(f"--url-blocklist={root},{extra}", "--url-blocklist", str(SHIPPED_BLOCKLIST),
            "--url-blocklist-categories=adult,gambling", f"--url-banned-words={words}",
            "--url-soft-banned-threshold=3", "--url-subword-scope=url")
    assert c.url_filter == UrlFilterConfig(
        blocklist=(str(root), str(extra), str(SHIPPED_BLOCKLIST)), blocklist_categories=("adult", "gambling"),
        banned_words=(str(words),), soft_banned_threshold=3, subword_scope="url")
    flt = UrlFilter(c.url_filter)
    for url in ("https://bets.example/", "https://extra.example/", "https://megacasino-bonus.com/"):
        assert flt.reason(url) == "blocked_domain", url
    assert flt.reason("https://example.org/forbidden") == "banned_word"
    rec = c.recorded()
    assert rec["url_blocklist"] == f"{root},{extra},{SHIPPED_BLOCKLIST}" and rec["url_subword_scope"] == "url"
    default = cfg()
    assert default.url_filter == UrlFilterConfig() and default.recorded()["url_blocklist"] == "shipped"
    assert cfg("--url-blocklist=none").url_filter.blocklist == ()
