"""Is a phone-number finding a phone number? Pure functions, no presidio.

presidio's PhoneRecognizer (libphonenumber's matcher) flags any digit run that some
region's numbering plan allows: sports tables ("5035 7 0 15 24"), ranges ("350–375"),
calorie counts, case numbers ("03/095/2018"), dates and times ("03.03.2011, 15:02"),
citations ("1978;239:840-2"). Replacing those corrupts the training text, so a finding
is kept only when it looks like a phone number written for people to call:

1. Never (whatever the context) when the span
   - has a date shape (d.m.y, y-m-d, d/m/y with a 2- or 4-digit year), a time
     (hh:mm) or a "/" at all, or ";" or ":" (citations, scores);
   - is a range: two numbers joined by an en or em dash, or by " - ";
   - is a table row: a group of one digit (other than a country code or "(0)");
   - has fewer than 7 digits, or more than 15.
2. Then kept when a phone word stands within 40 characters before it (tel, phone,
   call, fax, mobile, cell, whatsapp, signal, contact, inquiry, hotline, telefon,
   téléphone, teléfono, telefone, 電話, 전화, 문의, ☎, 📞, ... see PHONE_WORDS), or
   when its format is a phone format by itself: a "+" country code, an area code in
   parentheses, or three or more digit groups joined by the same separator
   ("02-751-1500", "347.966.3806", "030 1234 5678").

A finding right after "+CC " (presidio often starts "+41 (0)96 471 07 95" at the
parenthesis) is extended to include the country code.
"""
from __future__ import annotations

import re
from typing import Optional

PHONE_WORDS = (
    "tel", "tel.", "tél", "tele", "phone", "phones", "telephone", "call", "calls", "fax", "mobile", "mob",
    "cell", "cellphone", "whatsapp", "signal", "sms", "contact", "contacts", "inquiry", "inquiries",
    "enquiries", "hotline", "helpline", "dial", "ph", "desk", "office", "reception", "number", "no",
    "telefon", "telefono", "teléfono", "telefone", "téléphone", "handy", "mobil", "móvil", "celular",
    "portable", "cellulare", "numer", "tlf", "тел", "телефон", "電話", "电话", "전화", "문의", "연락처",
)
_WORD = re.compile(r"[^\W\d_]+|[☎📞📱]", re.UNICODE)
_DATE = re.compile(r"\b(\d{1,2}[./-]\d{1,2}[./-](\d{4}|\d{2})|\d{4}[./-]\d{1,2}[./-]\d{1,2})\b")
_TIME = re.compile(r"\b\d{1,2}:\d{2}\b")
_RANGE = re.compile(r"^\s*\d[\d.,]*\s*([–—]|\s-\s)\s*\d[\d.,]*\s*$")
_GROUP = re.compile(r"\d+")
_COUNTRY = re.compile(r"\+\d{1,3}[\s.-]*$")


def _digits(span: str) -> int:
    return sum(c.isdigit() for c in span)


def never_phone(span: str) -> Optional[str]:
    """Why a span cannot be a phone number (a short reason), or None."""
    if "/" in span or ";" in span or ":" in span:
        return "separator"
    if _DATE.search(span) or _TIME.search(span):
        return "date_or_time"
    if _RANGE.match(span) or "–" in span or "—" in span:
        return "range"
    groups = _GROUP.findall(span)
    body = span
    if body.startswith("+"):
        groups = groups[1:]   # the country code
    groups = [g for g in groups if g != "0" or "(0)" not in span]
    if any(len(g) == 1 for g in groups):
        return "table"
    n = _digits(span)
    if n < 7 or n > 15:
        return "digit_count"
    return None


def phone_format(span: str) -> bool:
    """A format people write phone numbers in, without any context."""
    s = span.strip()
    if s.startswith("+") or re.match(r"^\(\d{2,5}\)", s):
        return True
    seps = re.findall(r"\d([\s.-])\d", s)
    groups = _GROUP.findall(s)
    return len(groups) >= 3 and len(set(seps)) == 1


def has_phone_word(text: str, start: int, window: int = 40) -> bool:
    before = text[max(0, start - window):start].lower()
    return any(w in PHONE_WORDS for w in _WORD.findall(before)[-4:])


_PHONE_WORD_END = re.compile("(?:" + "|".join(sorted(map(re.escape, PHONE_WORDS), key=len, reverse=True))
                             + r")(?![^\W\d_])")
_NOT_BETWEEN = set("/;:–—")  # never inside a kept span (never_phone)


def _three_groups(s: str) -> bool:
    """Three digit groups of two digits or more in a row, with none of _NOT_BETWEEN
    between them."""
    run, prev = 0, None
    for m in _GROUP.finditer(s):
        if len(m.group(0)) < 2:
            run = 0
        elif prev is not None and _NOT_BETWEEN & set(s[prev:m.start()]):
            run = 1
        else:
            run += 1
        prev = m.end()
        if run >= 3:
            return True
    return False


def may_keep(text: str, a: int, b: int) -> bool:
    """False when no span inside text[a:b] can pass `plausible_phone`: a necessary
    condition, cheap enough to skip the phone matcher on a window. A kept span, extended
    start s >= a - 6, has a phone word among the words in the 40 characters before s
    (so one in text[a-46:b], ending before a non-letter), or starts with "+" or "(",
    or has three or more digit groups with no one-digit group (never_phone's "table")
    and no "/", ";", ":", en or em dash inside."""
    lo = max(0, a - 6)
    if "+" in text[lo:b] or "(" in text[lo:b]:
        return True
    if _PHONE_WORD_END.search(text[max(0, a - 46):b].lower()):
        return True
    return _three_groups(text[a:b])


def plausible_phone(text: str, start: int, end: int) -> Optional[tuple[int, int]]:
    """The (possibly extended) span of a real-looking phone number, or None to drop it."""
    m = _COUNTRY.search(text[max(0, start - 6):start])
    if m:
        start -= len(m.group(0))
    span = text[start:end]
    if never_phone(span):
        return None
    if has_phone_word(text, start) or phone_format(span):
        return start, end
    return None
