"""UrlFilter: drop records by URL before any HTML is parsed. Pure logic, no Beam.

The design follows RefinedWeb's / datatrove's URL filter (a domain blocklist, hard- and
soft-banned words, banned subwords); the lists are this project's own and short, see
``transforms/data/*.txt``. Real runs give a real domain list (e.g. UT1's "adult"
category) with ``UrlFilterConfig(blocklist=PATH)``.

``UrlFilter(config).reason(url)`` returns None (keep) or the first failing check, in
this order:

``url_too_long``       longer than ``max_url_length`` characters (2048).
``malformed_url``      whitespace or control characters anywhere, unparsable, no scheme.
``bad_scheme``         scheme not in ``allowed_schemes`` (http, https): ftp:, mailto:, ...
``malformed_url``      no host, bad port (not a number, > 65535), bad host name (empty or
                       > 63-character label, > 253 characters, characters other than
                       letters/digits/-/_ after IDNA, invalid IPv6 literal).
``blocked_domain``     the host or any parent domain is on the blocklist (case-insensitive,
                       port and leading "www." ignored, IDN hosts compared in punycode;
                       "a.example.com" is blocked by "example.com", "notexample.com" is not).
``banned_word``        a hard-banned word is a whole token of the URL (percent-decoded,
                       lowercased, split on every non-alphanumeric character).
``soft_banned_words``  at least ``soft_banned_threshold`` (2) different soft-banned tokens.
``banned_subword``     a banned subword occurs inside the host name.

Words are matched as whole tokens everywhere and subwords are searched in the host
only: "essex", "analysis", "therapist", "scunthorpe" never match (Scunthorpe problem).
"""
from __future__ import annotations

import dataclasses
import gzip
import io
import ipaddress
import logging
import os
import pathlib
import re
from typing import Iterable, Optional, Sequence, Union
from urllib.parse import unquote, urlsplit

from gristmill.transforms.stage import DocStage

log = logging.getLogger("gristmill")

STAGE = "url_filter"

MALFORMED_URL = "malformed_url"
BAD_SCHEME = "bad_scheme"
URL_TOO_LONG = "url_too_long"
BLOCKED_DOMAIN = "blocked_domain"
BANNED_WORD = "banned_word"
SOFT_BANNED_WORDS = "soft_banned_words"
BANNED_SUBWORD = "banned_subword"
REASONS = (URL_TOO_LONG, MALFORMED_URL, BAD_SCHEME, BLOCKED_DOMAIN, BANNED_WORD, SOFT_BANNED_WORDS, BANNED_SUBWORD)

DATA_DIR = pathlib.Path(__file__).resolve().parent / "data"
SHIPPED_BLOCKLIST = DATA_DIR / "blocked_domains.txt"
SHIPPED_BANNED_WORDS = DATA_DIR / "url_banned_words.txt"
SHIPPED_SOFT_BANNED_WORDS = DATA_DIR / "url_soft_banned_words.txt"
SHIPPED_BANNED_SUBWORDS = DATA_DIR / "url_banned_subwords.txt"

PathSpec = Union[None, str, os.PathLike, Sequence[Union[str, os.PathLike]]]

_BAD_CHARS = re.compile(r"[\x00-\x20\x7f-\x9f\s]")  # C0/C1 controls, space, any Unicode whitespace
_TOKEN = re.compile(r"[^\W_]+")                      # runs of Unicode letters/digits
_LABEL = re.compile(r"[a-z0-9_-]{1,63}", re.ASCII)


def _paths(spec: PathSpec) -> Optional[tuple[str, ...]]:
    if spec is None:
        return None
    if isinstance(spec, (str, os.PathLike)):
        spec = (spec,)
    return tuple(os.fspath(p) for p in spec)


@dataclasses.dataclass(frozen=True)
class UrlFilterConfig:
    """Each list is a path or a sequence of paths (files are concatenated, ``.gz`` read
    as gzip, ``gs://``-style paths through Beam's FileSystems when Beam is installed);
    None means the list shipped in ``transforms/data``, ``()`` means no list."""
    blocklist: PathSpec = None            # domains, one per line
    banned_words: PathSpec = None         # hard-banned whole tokens
    soft_banned_words: PathSpec = None    # dropped when >= soft_banned_threshold of them
    banned_subwords: PathSpec = None      # substrings of the host name
    soft_banned_threshold: int = 2
    max_url_length: int = 2048
    allowed_schemes: tuple[str, ...] = ("http", "https")

    def __post_init__(self):
        for name in ("blocklist", "banned_words", "soft_banned_words", "banned_subwords"):
            object.__setattr__(self, name, _paths(getattr(self, name)))
        schemes = (self.allowed_schemes,) if isinstance(self.allowed_schemes, str) else self.allowed_schemes
        object.__setattr__(self, "allowed_schemes", tuple(s.lower() for s in schemes))
        if self.soft_banned_threshold < 1:
            raise ValueError("soft_banned_threshold must be >= 1")
        if self.max_url_length < 1:
            raise ValueError("max_url_length must be >= 1")


def _open_text(path: str):
    if "://" in path and not path.startswith("file://"):
        from apache_beam.io.filesystems import FileSystems  # gs://, s3://, ... when Beam is there

        raw = FileSystems.open(path)  # decompresses .gz by its extension
        return io.TextIOWrapper(raw, encoding="utf-8", errors="replace")
    path = path.removeprefix("file://")
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def read_list(paths: Iterable[str]) -> list[str]:
    """Entries of list files: one per line, ``#`` to end of line is a comment, stripped,
    lowercased, blank lines skipped."""
    entries = []
    for path in paths:
        with _open_text(path) as f:
            for line in f:
                line = line.split("#", 1)[0].strip().lower()
                if line:
                    entries.append(line)
    return entries


def _ascii_host(host: str) -> Optional[str]:
    """Lowercase ASCII (IDNA/punycode) form of a host name or IP literal, or None if invalid."""
    if host.endswith("."):
        host = host[:-1]  # the root label of a fully qualified name
    if not host:
        return None
    if ":" in host:  # IPv6 literal (urlsplit already removed the brackets)
        try:
            return ipaddress.IPv6Address(host).compressed
        except ValueError:
            return None
    if host.isascii():
        ascii_host = host.lower()
    else:
        try:
            ascii_host = host.encode("idna").decode("ascii").lower()  # also maps 。．｡ to "."
        except UnicodeError:
            return None
    if len(ascii_host) > 253 or not all(_LABEL.fullmatch(label) for label in ascii_host.split(".")):
        return None
    return ascii_host


def normalize_host(host: str) -> Optional[str]:
    """The form hosts and blocklist entries are compared in: lowercase, IDNA-encoded,
    without a trailing dot nor a leading "www." ("www.com" stays); None if not a valid
    host name."""
    ascii_host = _ascii_host(host)
    if ascii_host and ascii_host.startswith("www.") and "." in ascii_host[4:]:
        ascii_host = ascii_host[4:]
    return ascii_host


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
        return True
    except ValueError:
        return False


def normalize_domain_entry(entry: str) -> Optional[str]:
    """A blocklist line as a normalised domain, or None when it is not one.

    Accepts "example.com", "WWW.Example.com.", "*.example.com", ".example.com",
    "münchen.de", "0.0.0.0 example.com" (hosts file), "http://example.com/" and IP
    addresses; rejects URLs with a path and anything else."""
    fields = entry.split()
    if len(fields) == 2 and _is_ip(fields[0]):
        entry = fields[1]
    elif len(fields) != 1:
        return None
    else:
        entry = fields[0]
    if "/" in entry:
        try:
            parts = urlsplit(entry if "://" in entry else "//" + entry)
        except ValueError:
            return None
        if parts.path not in ("", "/") or parts.query or not parts.hostname:
            return None
        entry = parts.hostname
    entry = entry.removeprefix("*.").lstrip(".")
    if entry.startswith("[") and entry.endswith("]"):
        entry = entry[1:-1]
    return normalize_host(entry)


def load_domains(paths: Iterable[str]) -> tuple[frozenset[str], int]:
    """(normalised domains, number of lines skipped as not a domain)."""
    domains, skipped = set(), 0
    for entry in read_list(paths):
        domain = normalize_domain_entry(entry)
        if domain:
            domains.add(domain)
        else:
            skipped += 1
    return frozenset(domains), skipped


def url_tokens(url: str) -> set[str]:
    """Whole tokens of a URL: percent-decoded, lowercased, split on non-alphanumerics."""
    return set(_TOKEN.findall(unquote(url).lower()))


class UrlFilter:
    """Loads its lists once; ``reason(url)`` is None to keep, else a reason in ``REASONS``."""

    def __init__(self, config: UrlFilterConfig = UrlFilterConfig()):
        self.config = config

        def pick(spec, shipped):
            return (str(shipped),) if spec is None else spec

        self.blocked_domains, self.skipped_entries = load_domains(pick(config.blocklist, SHIPPED_BLOCKLIST))
        if self.skipped_entries:
            log.warning("url blocklist: %d lines are not domains and were skipped", self.skipped_entries)
        self.banned_words = frozenset(read_list(pick(config.banned_words, SHIPPED_BANNED_WORDS)))
        self.soft_banned_words = frozenset(read_list(pick(config.soft_banned_words, SHIPPED_SOFT_BANNED_WORDS)))
        self.banned_subwords = frozenset(read_list(pick(config.banned_subwords, SHIPPED_BANNED_SUBWORDS)))
        self._subword_re = (
            re.compile("|".join(re.escape(s) for s in sorted(self.banned_subwords, key=len, reverse=True)))
            if self.banned_subwords else None
        )
        self._schemes = frozenset(config.allowed_schemes)

    def _blocked(self, host: str, is_ip: bool) -> bool:
        blocked = self.blocked_domains
        if not blocked:
            return False
        if is_ip:
            return host in blocked
        while True:  # the host, then every parent domain
            if host in blocked:
                return True
            dot = host.find(".")
            if dot < 0:
                return False
            host = host[dot + 1:]

    def reason(self, url: str) -> Optional[str]:
        if not isinstance(url, str) or not url:
            return MALFORMED_URL
        if len(url) > self.config.max_url_length:
            return URL_TOO_LONG
        if _BAD_CHARS.search(url):
            return MALFORMED_URL
        try:
            parts = urlsplit(url)
            parts.port  # raises ValueError on a non-numeric or out-of-range port
        except ValueError:
            return MALFORMED_URL
        if not parts.scheme:
            return MALFORMED_URL
        if parts.scheme not in self._schemes:
            return BAD_SCHEME
        raw_host = parts.hostname
        if not raw_host:
            return MALFORMED_URL
        host = normalize_host(raw_host)
        if host is None:
            return MALFORMED_URL

        if self._blocked(host, ":" in host or _is_ip(host)):
            return BLOCKED_DOMAIN
        tokens = url_tokens(url)
        if not tokens.isdisjoint(self.banned_words):
            return BANNED_WORD
        if len(tokens & self.soft_banned_words) >= self.config.soft_banned_threshold:
            return SOFT_BANNED_WORDS
        if self._subword_re is not None and (
            self._subword_re.search(host) or self._subword_re.search(raw_host.lower())
        ):
            return BANNED_SUBWORD
        return None

    def keep(self, url: str) -> bool:
        return self.reason(url) is None


def url_filter(doc, flt: UrlFilter, config=None):
    """The stage function: the document, or the reason its URL is dropped."""
    return flt.reason(doc.url) or doc


class UrlFilterStage(DocStage):
    """Beam shell: the lists are loaded once per worker process, not pickled with the DoFn."""

    def __init__(self, config: UrlFilterConfig = UrlFilterConfig()):
        super().__init__(STAGE, url_filter, config, load=UrlFilter)
