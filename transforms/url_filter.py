"""UrlFilter: drop records by URL before any HTML is parsed. Pure logic, no Beam.

The design follows RefinedWeb's / datatrove's URL filter (a domain blocklist, hard- and
soft-banned words, banned subwords); the lists shipped in ``transforms/data/*.txt`` are
this project's own and short, and say so. Real runs give real lists, e.g. the UT1
blacklists (Université Toulouse 1 Capitole) as the unpacked folder or the
``blacklists.tar.gz`` archive with ``UrlFilterConfig(blocklist=PATH,
blocklist_categories=("adult",))``, or any domain-per-line file.

``UrlFilter(config).reason(url)`` returns None (keep) or the first failing check, in
this order:

``url_too_long``       longer than ``max_url_length`` characters (2048).
``malformed_url``      whitespace or control characters anywhere, unparsable, no scheme.
``bad_scheme``         scheme not in ``allowed_schemes`` (http, https): ftp:, mailto:, ...
``malformed_url``      no host, bad port (not a number, > 65535), bad host name (empty or
                       > 63-character label, > 253 characters, characters other than
                       letters/digits/-/_ after IDNA, invalid IPv6 literal).
``blocked_domain``     the host or any parent domain is on the blocklist (case-insensitive,
                       port and leading "www." ignored, IDN hosts compared in IDNA2008
                       punycode; "a.example.com" is blocked by "example.com",
                       "notexample.com" is not). Entries that are public suffixes of the
                       list's ICANN section ("com", "co.uk") would block a whole registry: they are skipped
                       and counted (``suffix_entries``), so matching never climbs past the
                       registrable domain of the Public Suffix List.
``blocked_url``        the URL is, or lies under, a blocked page ("example.com/~user" in a
                       UT1 ``urls`` file, or a line with a path in any list): same host
                       (without "www."), path equal or below on a "/" boundary.
``banned_word``        a hard-banned word is a whole token of the URL (percent-decoded,
                       lowercased, split on every non-alphanumeric character: datatrove's
                       and RefinedWeb's word rule).
``soft_banned_words``  at least ``soft_banned_threshold`` (2) different soft-banned tokens.
``banned_subword``     a banned subword occurs inside the host name (``subword_scope="host"``,
                       the default) or anywhere in the URL with non-alphanumerics removed
                       (``"url"``: datatrove's rule, which also drops "/pornography-law").

Words are matched as whole tokens everywhere and, by default, subwords in the host only:
"essex", "analysis", "therapist", "scunthorpe" never match (Scunthorpe problem).
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
import tarfile
from typing import Iterable, Iterator, Optional, Sequence, Union
from urllib.parse import unquote, urlsplit

import idna

from gristmill.transforms.stage import DocStage
from gristmill.transforms.suffixes import is_public_suffix

log = logging.getLogger("gristmill")

STAGE = "url_filter"

MALFORMED_URL = "malformed_url"
BAD_SCHEME = "bad_scheme"
URL_TOO_LONG = "url_too_long"
BLOCKED_DOMAIN = "blocked_domain"
BLOCKED_URL = "blocked_url"
BANNED_WORD = "banned_word"
SOFT_BANNED_WORDS = "soft_banned_words"
BANNED_SUBWORD = "banned_subword"
REASONS = (URL_TOO_LONG, MALFORMED_URL, BAD_SCHEME, BLOCKED_DOMAIN, BLOCKED_URL, BANNED_WORD,
           SOFT_BANNED_WORDS, BANNED_SUBWORD)
SUBWORD_SCOPES = ("host", "url")
UT1_LISTS = ("domains", "urls")  # what a UT1 category folder holds (besides expressions, usage)
ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz")

DATA_DIR = pathlib.Path(__file__).resolve().parent / "data"
SHIPPED_BLOCKLIST = DATA_DIR / "blocked_domains.txt"
SHIPPED_BANNED_WORDS = DATA_DIR / "url_banned_words.txt"
SHIPPED_SOFT_BANNED_WORDS = DATA_DIR / "url_soft_banned_words.txt"
SHIPPED_BANNED_SUBWORDS = DATA_DIR / "url_banned_subwords.txt"

PathSpec = Union[None, str, os.PathLike, Sequence[Union[str, os.PathLike]]]

_BAD_CHARS = re.compile(r"[\x00-\x20\x7f-\x9f\s]")  # C0/C1 controls, space, any Unicode whitespace
_TOKEN = re.compile(r"[^\W_]+")                      # runs of Unicode letters/digits
_LABEL = re.compile(r"[a-z0-9_-]{1,63}", re.ASCII)
_NOT_ALNUM = re.compile(r"[\W_]+")


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
    None means the list shipped in ``transforms/data``, ``()`` means no list.

    A ``blocklist`` path may also be a UT1 folder (``ROOT/CATEGORY/domains`` and
    ``.../urls``, or one category folder) or a UT1 archive (``.tar``, ``.tar.gz``, ``.tgz``,
    local or remote): the ``blocklist_categories`` of it are read."""
    blocklist: PathSpec = None            # domains (or pages: a line with a path), one per line
    blocklist_categories: tuple[str, ...] = ("adult",)
    banned_words: PathSpec = None         # hard-banned whole tokens
    soft_banned_words: PathSpec = None    # dropped when >= soft_banned_threshold of them
    banned_subwords: PathSpec = None      # substrings of the host name
    soft_banned_threshold: int = 2
    max_url_length: int = 2048
    allowed_schemes: tuple[str, ...] = ("http", "https")
    subword_scope: str = "host"           # or "url" (datatrove: the whole URL, punctuation removed)

    def __post_init__(self):
        for name in ("blocklist", "banned_words", "soft_banned_words", "banned_subwords"):
            object.__setattr__(self, name, _paths(getattr(self, name)))
        cats = (self.blocklist_categories,) if isinstance(self.blocklist_categories, str) else self.blocklist_categories
        object.__setattr__(self, "blocklist_categories", tuple(c.strip() for c in cats if c.strip()))
        if self.subword_scope not in SUBWORD_SCOPES:
            raise ValueError(f"subword_scope {self.subword_scope!r}: must be one of {', '.join(SUBWORD_SCOPES)}")
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


def _entries(lines: Iterable[str]) -> Iterator[str]:
    for line in lines:
        line = line.split("#", 1)[0].strip().lower()
        if line:
            yield line


def read_list(paths: Iterable[str]) -> list[str]:
    """Entries of list files: one per line, ``#`` to end of line is a comment, stripped,
    lowercased, blank lines skipped."""
    entries = []
    for path in paths:
        with _open_text(path) as f:
            entries.extend(_entries(f))
    return entries


def _ut1_archive(path: str, categories: Sequence[str]) -> Iterator[str]:
    """The entries of the chosen categories of a UT1 archive (``blacklists/adult/domains``
    and ``.../urls`` members), streamed: the archive is never unpacked to disk."""
    if "://" in path and not path.startswith("file://"):
        from apache_beam.io.filesystems import FileSystems
        from apache_beam.io.filesystem import CompressionTypes

        raw = FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)
    else:
        raw = open(path.removeprefix("file://"), "rb")
    seen, found = set(), set()
    with raw, tarfile.open(fileobj=raw, mode="r|*") as tar:
        for member in tar:
            parts = member.name.strip("/").split("/")
            if not member.isfile() or len(parts) < 2 or parts[-1] not in UT1_LISTS:
                continue
            seen.add(parts[-2])
            if parts[-2] in categories:
                found.add(parts[-2])
                lines = tar.extractfile(member)  # bytes lines: a stream-mode member cannot seek
                yield from _entries(line.decode("utf-8", "replace") for line in lines)
    _check_categories(path, categories, found, seen)


def _check_categories(path: str, wanted: Sequence[str], found: set, available: set) -> None:
    missing = [c for c in wanted if c not in found]
    if missing:
        have = ", ".join(sorted(available)[:12]) + (", ..." if len(available) > 12 else "")
        raise ValueError(f"{path}: no UT1 category {', '.join(missing)} (it has {have or 'none'})")


def _ut1_folder(path: str, categories: Sequence[str]) -> list[str]:
    """The ``domains`` and ``urls`` files to read from a UT1 folder: a category folder
    itself, or the chosen categories of the root."""
    root = pathlib.Path(path.removeprefix("file://"))
    if (root / "domains").is_file():
        return [str(root / name) for name in UT1_LISTS if (root / name).is_file()]
    available = {d.name for d in root.iterdir() if (d / "domains").is_file()}
    if not available:
        raise ValueError(f"{path}: a folder, but not a UT1 blacklist (no CATEGORY/domains in it)")
    _check_categories(path, categories, set(categories) & available, available)
    return [str(root / c / name) for c in categories for name in UT1_LISTS if (root / c / name).is_file()]


def blocklist_entries(paths: Iterable[str], categories: Sequence[str] = ("adult",)) -> Iterator[str]:
    """Every entry of the blocklist sources: list files, UT1 folders, UT1 archives."""
    for path in paths:
        if path.lower().endswith(ARCHIVE_SUFFIXES):
            yield from _ut1_archive(path, categories)
        elif os.path.isdir(path.removeprefix("file://")):
            yield from read_list(_ut1_folder(path, categories))
        else:
            with _open_text(path) as f:
                yield from _entries(f)


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
        ascii_host = idna_host(host)
        if ascii_host is None:
            return None
    if len(ascii_host) > 253 or not all(_LABEL.fullmatch(label) for label in ascii_host.split(".")):
        return None
    return ascii_host


def idna_host(host: str) -> Optional[str]:
    """A non-ASCII host in punycode as browsers resolve it: IDNA2008 with the UTS #46
    mapping, non-transitional ("faß.de" is xn--fa-hia.de, not IDNA2003's fass.de; "。"
    maps to "."), through the ``idna`` package. A host IDNA2008 disallows but IDNA2003
    allows (symbols, emoji: "i❤.ws", which browsers open) gets its IDNA2003 form; None
    when neither accepts it."""
    try:
        return idna.encode(host, uts46=True, transitional=False).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        pass
    try:
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None


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


def _page(path: str, query: str) -> str:
    """The part of a URL a page entry is compared on: lowercase path (and query)."""
    page = (path or "/").lower()
    return f"{page}?{query.lower()}" if query else page


def parse_entry(entry: str) -> Optional[tuple[str, Optional[str]]]:
    """A blocklist line as (normalised domain, None), or (host, page) for a page entry, or
    None when it is neither.

    Domains: "example.com", "WWW.Example.com.", "*.example.com", ".example.com",
    "münchen.de", "0.0.0.0 example.com" (hosts file), "http://example.com/", IP addresses.
    Pages: "example.com/~user", "http://www.example.com/dir/page.html" (UT1 ``urls``)."""
    fields = entry.split()
    if len(fields) == 2 and _is_ip(fields[0]):
        entry = fields[1]
    elif len(fields) != 1:
        return None
    else:
        entry = fields[0]
    page = None
    if "/" in entry:
        try:
            parts = urlsplit(entry if "://" in entry else "//" + entry)
        except ValueError:
            return None
        if not parts.hostname:
            return None
        if parts.path not in ("", "/") or parts.query:
            page = _page(parts.path.rstrip("/") or "/", parts.query)
        entry = parts.hostname
    entry = entry.removeprefix("*.").lstrip(".")
    if entry.startswith("[") and entry.endswith("]"):
        entry = entry[1:-1]
    host = normalize_host(entry)
    return (host, page) if host else None


def normalize_domain_entry(entry: str) -> Optional[str]:
    """A blocklist line as a normalised domain, or None (not a domain, or a page entry)."""
    parsed = parse_entry(entry)
    return parsed[0] if parsed and parsed[1] is None else None


@dataclasses.dataclass(frozen=True)
class Blocklist:
    domains: frozenset[str]              # normalised hosts; a host is blocked with its subdomains
    pages: dict                          # host -> tuple of blocked pages (path[?query]) on it
    skipped_entries: int = 0             # lines that are neither a domain nor a page
    suffix_entries: int = 0              # public suffixes ("com", "co.uk"), never applied


def load_blocklist(paths: Iterable[str], categories: Sequence[str] = ("adult",)) -> Blocklist:
    domains, pages, skipped, suffixes = set(), {}, 0, 0
    for entry in blocklist_entries(paths, categories):
        parsed = parse_entry(entry)
        if parsed is None:
            skipped += 1
        elif parsed[1] is not None:
            pages.setdefault(parsed[0], set()).add(parsed[1])
        elif is_public_suffix(parsed[0]):
            suffixes += 1
        else:
            domains.add(parsed[0])
    return Blocklist(frozenset(domains), {h: tuple(sorted(p)) for h, p in pages.items()}, skipped, suffixes)


def url_tokens(url: str) -> set[str]:
    """Whole tokens of a URL: percent-decoded, lowercased, split on non-alphanumerics."""
    return set(_TOKEN.findall(unquote(url).lower()))


class UrlFilter:
    """Loads its lists once; ``reason(url)`` is None to keep, else a reason in ``REASONS``."""

    def __init__(self, config: UrlFilterConfig = UrlFilterConfig()):
        self.config = config

        def pick(spec, shipped):
            return (str(shipped),) if spec is None else spec

        self.blocklist = load_blocklist(pick(config.blocklist, SHIPPED_BLOCKLIST), config.blocklist_categories)
        self.blocked_domains, self.blocked_pages = self.blocklist.domains, self.blocklist.pages
        self.skipped_entries, self.suffix_entries = self.blocklist.skipped_entries, self.blocklist.suffix_entries
        if self.skipped_entries:
            log.warning("url blocklist: %d lines are neither a domain nor a page and were skipped",
                        self.skipped_entries)
        if self.suffix_entries:
            log.warning("url blocklist: %d public suffixes (com, co.uk, ...) were skipped: they would "
                        "block a whole registry", self.suffix_entries)
        self.banned_words = frozenset(read_list(pick(config.banned_words, SHIPPED_BANNED_WORDS)))
        self.soft_banned_words = frozenset(read_list(pick(config.soft_banned_words, SHIPPED_SOFT_BANNED_WORDS)))
        self.banned_subwords = frozenset(read_list(pick(config.banned_subwords, SHIPPED_BANNED_SUBWORDS)))
        self._subword_re = (
            re.compile("|".join(re.escape(s) for s in sorted(self.banned_subwords, key=len, reverse=True)))
            if self.banned_subwords else None
        )
        self._schemes = frozenset(config.allowed_schemes)
        self._url_subwords = config.subword_scope == "url"

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
        if self.blocked_pages and host in self.blocked_pages and self._blocked_page(host, parts):
            return BLOCKED_URL
        decoded = unquote(url).lower()
        tokens = set(_TOKEN.findall(decoded))
        if not tokens.isdisjoint(self.banned_words):
            return BANNED_WORD
        if len(tokens & self.soft_banned_words) >= self.config.soft_banned_threshold:
            return SOFT_BANNED_WORDS
        if self._subword_re is not None:
            if self._url_subwords:
                found = self._subword_re.search(_NOT_ALNUM.sub("", decoded))
            else:
                found = self._subword_re.search(host) or self._subword_re.search(raw_host.lower())
            if found:
                return BANNED_SUBWORD
        return None

    def _blocked_page(self, host: str, parts) -> bool:
        page = _page(parts.path, parts.query)
        for blocked in self.blocked_pages[host]:
            if page == blocked or page.startswith(blocked if blocked.endswith("/") else blocked + "/") \
                    or page.startswith(blocked + "?"):
                return True
        return False

    def keep(self, url: str) -> bool:
        return self.reason(url) is None


def url_filter(doc, flt: UrlFilter, config=None):
    """The stage function: the document, or the reason its URL is dropped."""
    return flt.reason(doc.url) or doc


class UrlFilterStage(DocStage):
    """Beam shell: the lists are loaded once per worker process, not pickled with the DoFn."""

    def __init__(self, config: UrlFilterConfig = UrlFilterConfig()):
        super().__init__(STAGE, url_filter, config, load=UrlFilter)
