"""Decode a page's HTML bytes to text: `decode_html(body, http_charset) -> (text, name)`.

`name` is the WHATWG Encoding Standard name of the encoding used ("utf-8",
"windows-1252", "gbk", ...), with "+replace" appended when bytes had to be replaced by
U+FFFD. The first step that applies wins:

1. A byte-order mark (UTF-8, UTF-16LE, UTF-16BE): it outranks every label, as in browsers.
2. Strict UTF-8 (pure ASCII included). Legacy-encoded text almost never passes a strict
   UTF-8 decode, while labels are often wrong (UTF-8 pages served as ISO-8859-1), so a
   clean decode is the stronger evidence.
3. The declarations, HTTP Content-Type charset first, then the first known `<meta>`
   charset in the first 4 KB. Labels go through the WHATWG label table (webencodings),
   so latin-1/iso-8859-1/ascii mean windows-1252 and gb2312 means GBK; a UTF-16 label in
   a <meta> means UTF-8 (the spec's rule); unknown labels are ignored. The first
   declaration that decodes the whole page strictly wins.
4. Detection: charset_normalizer on the first 32 KB, limited to the web's encodings; its
   pick wins when it decodes the whole page strictly.
5. Last resort: the first declaration, else the detected encoding, else windows-1252,
   decoded with replacement characters (name + "+replace" when any were needed).

WHATWG names map to Python codecs as webencodings does (shift_jis -> cp932, big5 ->
big5hkscs, ...), except gbk, whose WHATWG decoder is gb18030. The windows-* decoders
decode the bytes their Python codecs leave undefined in 0x80-0x9F to U+0080-U+009F, as
the WHATWG indexes do (windows-1252: 0x81 0x8D 0x8F 0x90 0x9D).
"""
from __future__ import annotations

import codecs
import re

import webencodings
from charset_normalizer import from_bytes

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_:.\-]+)""", re.I)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16le"), (codecs.BOM_UTF16_BE, "utf-16be"))
_UNUSABLE = {"replacement", "x-user-defined"}  # no use for text: ignored like unknown labels
_PREFIX_BYTES = 4096
_DETECT_BYTES = 32768


def _c1(err: UnicodeDecodeError, replace: bool = False):
    b = err.object[err.start]
    if 0x80 <= b <= 0x9F:
        return chr(b), err.start + 1
    if replace:
        return "\ufffd", err.start + 1
    raise err


codecs.register_error("gristmill-c1", _c1)
codecs.register_error("gristmill-c1-replace", lambda err: _c1(err, replace=True))


def _python_codec(name: str) -> str:
    return "gb18030" if name == "gbk" else webencodings.lookup(name).codec_info.name


def _decode(body: bytes, name: str, replace: bool = False) -> str:
    if name.startswith("windows-"):
        errors = "gristmill-c1-replace" if replace else "gristmill-c1"
    else:
        errors = "replace" if replace else "strict"
    return body.decode(_python_codec(name), errors)


def _whatwg(label: str, meta: bool = False) -> str | None:
    enc = webencodings.lookup(label) if label else None
    if enc is None:
        return None
    if meta and enc.name in ("utf-16le", "utf-16be"):
        return "utf-8"
    if meta and enc.name == "x-user-defined":
        return "windows-1252"
    return None if enc.name in _UNUSABLE else enc.name


def _meta_charset(body: bytes) -> str | None:
    for m in _META_CHARSET.finditer(body[:_PREFIX_BYTES]):
        name = _whatwg(m.group(1).decode("ascii"), meta=True)
        if name:
            return name
    return None


# what detection may answer, by Python codec: every WHATWG encoding but those steps 1-2
# settle, ISO-2022-JP (7-bit: strict UTF-8 takes it) and the second names of two codecs
# (gbk's decoder is gb18030's; iso-8859-8-i is iso-8859-8 in logical order)
_DETECTABLE = {codecs.lookup(_python_codec(n)).name: n for n in set(webencodings.LABELS.values())
               if n not in _UNUSABLE | {"utf-8", "utf-16le", "utf-16be", "iso-2022-jp",
                                        "gb18030", "iso-8859-8-i"}}


def _detect(body: bytes) -> str | None:
    prefix = body[:_DETECT_BYTES]
    if len(body) > _DETECT_BYTES:  # end on '>' or a newline, never inside a multibyte character
        prefix = prefix[:max(prefix.rfind(b">"), prefix.rfind(b"\n")) + 1] or prefix
    matches = from_bytes(prefix, cp_isolation=list(_DETECTABLE), preemptive_behaviour=False)
    best = matches.best()
    if best is None:
        return None
    # a tie (short or mostly-ASCII text) goes to the web's usual legacy encoding
    tied = [m for m in matches if (m.chaos, m.coherence) == (best.chaos, best.coherence)]
    if any("cp1252" in m.could_be_from_charset for m in tied):
        return "windows-1252"
    return _DETECTABLE.get(codecs.lookup(best.encoding).name)


def decode_html(body: bytes, http_charset: str = "") -> tuple[str, str]:
    """(text, WHATWG name of the encoding used): BOM, strict UTF-8, the HTTP then <meta>
    declaration, detection, then replacement characters (see the module docstring)."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            try:
                return _decode(body[len(bom):], name), name
            except UnicodeDecodeError:
                return _decode(body[len(bom):], name, replace=True), name + "+replace"
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    declared = list(dict.fromkeys(n for n in (_whatwg(http_charset), _meta_charset(body)) if n))
    for name in declared:
        try:
            return _decode(body, name), name
        except UnicodeDecodeError:
            continue
    detected = _detect(body)
    if detected and detected not in declared:
        try:
            return _decode(body, detected), detected
        except UnicodeDecodeError:
            pass
    if not declared and not detected:
        return _decode(body, "windows-1252"), "windows-1252"  # it maps every byte
    name = (declared or [detected])[0]
    return _decode(body, name, replace=True), name + "+replace"
