"""The Public Suffix List, offline: tldextract's bundled snapshot, never a download.

Used by the PII e-mail check (is the domain real?) and by the UrlFilter (a blocklist
entry that is itself a public suffix, "co.uk" or "com", would block a whole country or
registry: it is skipped and counted).
"""
from __future__ import annotations

import functools


@functools.lru_cache(maxsize=1)
def offline_tld_extract():
    """A tldextract extractor that never touches the network nor writes a cache.

    ``suffix_list_urls=()``: no download is attempted; ``cache_dir=None``: the disk cache
    is disabled (no ``~/.cache/python-tldextract``); the bundled snapshot is parsed
    (``fallback_to_snapshot=True``, the default, named here on purpose).
    """
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


@functools.lru_cache(maxsize=1)
def _rules() -> tuple[frozenset, frozenset, frozenset]:
    exact, wild, exceptions = set(), set(), set()
    for rule in offline_tld_extract().tlds:  # the ICANN section; IDN rules also in punycode
        rule = rule.lower()
        if rule.startswith("!"):
            exceptions.add(_ascii(rule[1:]))
        elif rule.startswith("*."):
            wild.add(_ascii(rule[2:]))
        else:
            exact.add(_ascii(rule))
    return frozenset(exact), frozenset(wild), frozenset(exceptions)


def _ascii(name: str) -> str:
    try:
        return name if name.isascii() else name.encode("idna").decode("ascii")
    except UnicodeError:
        return name


def is_public_suffix(domain: str) -> bool:
    """Whether a lowercase ASCII (punycode) domain is a rule of the list's ICANN section
    (tldextract's default): "com", "co.uk", "foo.ck" (by the wildcard "*.ck"), not "www.ck"
    (an exception rule), not "github.io" (private section: a user may mean to block it).
    A set lookup or three, so millions of entries load in seconds."""
    exact, wild, exceptions = _rules()
    if domain in exact:
        return True
    parent = domain.partition(".")[2]
    return bool(parent) and parent in wild and domain not in exceptions
