"""decode_html on real Common Crawl bytes and on pages built here in known encodings."""
import pytest
from warcio.archiveiterator import ArchiveIterator

from gristmill.transforms.charset import decode_html
from tests.conftest import shared_data

C1 = {chr(c) for c in range(0x80, 0xA0)}

RU = ["Городская библиотека будет открыта по субботам с десяти утра до шести вечера.",
      "Читатели могут заказать книги заранее через сайт или по телефону.",
      "В зале для детей каждую неделю проходят занятия и встречи с писателями."]
JA = ["市立図書館は土曜日も午前十時から午後六時まで開館します。",
      "利用者はウェブサイトや電話で本を予約することができます。",
      "子ども向けの部屋では毎週読み聞かせの会が開かれています。"]


def html(paragraphs, meta="") -> str:
    body = "".join(f"<p>{p}</p>\n" for p in paragraphs * 4)
    return f"<!doctype html><html><head>{meta}<title>x</title></head><body>{body}</body></html>"


def cc_page(url_part: str) -> tuple[bytes, str]:
    """(payload, HTTP charset) of the response in the shared CC slice whose URL contains url_part."""
    path = shared_data("warc", "cc-main-2020-34-slice.warc.gz")
    with open(path, "rb") as f:
        for rec in ArchiveIterator(f):
            if rec.rec_type == "response" and url_part in rec.rec_headers.get_header("WARC-Target-URI"):
                ctype = rec.http_headers.get_header("Content-Type") or ""
                return rec.content_stream().read(), ctype.partition("charset=")[2].strip().lower()
    raise AssertionError(f"no response for {url_part} in {path}")


@pytest.mark.parametrize("url_part,label,word,name", [
    ("0760.jxtdw.com", "gb2312", "首页", "gbk"),
    ("01spb.ru", "windows-1251", "Главная", "windows-1251"),
])
def test_common_crawl_pages(url_part, label, word, name):
    body, http_charset = cc_page(url_part)
    assert http_charset == label
    text, used = decode_html(body, http_charset)
    assert used == name
    assert word in text and "\ufffd" not in text


def test_utf8_labelled_latin1_is_utf8():
    page = html(["Un café, s'il vous plaît."], '<meta charset="ISO-8859-1">').encode("utf-8")
    text, used = decode_html(page, "iso-8859-1")
    assert used == "utf-8" and "café" in text and "Ã©" not in text


def test_cp1252_smart_quotes_labelled_latin1():
    quotes = "“double” ‘single’ – dash… end"
    text, used = decode_html(html([quotes]).encode("cp1252"), "iso-8859-1")
    assert used == "windows-1252" and quotes in text and not C1 & set(text)
    meta = html([quotes], '<meta http-equiv="Content-Type" content="text/html; charset=latin1">')
    assert decode_html(meta.encode("cp1252")) == (meta, "windows-1252")


def test_gbk_beyond_gb2312_labelled_gb2312():
    names = "朱镕基 王堃 张喆"  # 镕 堃 喆 are in GBK but not in GB2312
    with pytest.raises(UnicodeEncodeError):
        names.encode("gb2312")
    text, used = decode_html(html([names], '<meta charset="gb2312">').encode("gbk"), "gb2312")
    assert used == "gbk" and names in text and "\ufffd" not in text


@pytest.mark.parametrize("bom,codec,name", [
    (b"\xff\xfe", "utf-16-le", "utf-16le"), (b"\xfe\xff", "utf-16-be", "utf-16be")])
def test_utf16_bom_beats_labels(bom, codec, name):
    page = html(["Straße, café, 图书馆"], '<meta charset="iso-8859-1">')
    body = bom + page.encode(codec)
    assert decode_html(body, "windows-1252") == (page, name)
    assert decode_html(body) == (page, name)


def test_utf8_bom_beats_label():
    assert decode_html(b"\xef\xbb\xbf<p>caf\xc3\xa9</p>", "gbk") == ("<p>café</p>", "utf-8")


def test_windows1252_undefined_bytes_map_to_c1_like_whatwg():
    body = b"<p>a\x81b\x8dc\x8fd\x90e\x9df \x93q\x94 \x80</p>"
    assert decode_html(body, "windows-1252") == ("<p>a\x81b\x8dc\x8fd\x90e\x9df “q” €</p>", "windows-1252")


@pytest.mark.parametrize("paragraphs,codec,name", [
    (RU, "cp1251", "windows-1251"), (RU, "koi8-r", "koi8-r"),
    (JA, "shift_jis", "shift_jis"), (JA, "euc-jp", "euc-jp")])
def test_unlabelled_pages_are_detected(paragraphs, codec, name):
    page = html(paragraphs)
    assert decode_html(page.encode(codec)) == (page, name)


def test_unknown_label_is_ignored():
    page = html(RU, '<meta charset="x-klingon">')
    assert decode_html(page.encode("cp1251"), "no-such-charset") == (page, "windows-1251")
    page = html(["Москва"], '<meta charset="x-klingon"><meta charset="windows-1251">')
    assert decode_html(page.encode("cp1251"), "bogus") == (page, "windows-1251")  # first known <meta>


def test_http_label_first_and_failing_label_falls_through():
    page = html(RU, '<meta charset="koi8-r">')
    assert decode_html(page.encode("cp1251"), "cp1251") == (page, "windows-1251")
    zh = html(["图书馆的开放时间"], '<meta charset="gbk">')  # not valid Shift_JIS
    assert decode_html(zh.encode("gbk"), "shift_jis") == (zh, "gbk")


def test_utf16_label_in_meta_means_utf8():
    page = html(["Un café"], '<meta charset="utf-16">')
    assert decode_html(page.encode("utf-8")) == (page, "utf-8")
    assert not decode_html(page.encode("cp1252"))[1].startswith("utf-16")


def test_junk_gets_replacement_name_not_exception():
    junk = b"<p>" + b"\x81\x20\xff\xfe\x00" * 400 + b"</p>"
    text, used = decode_html(junk, "gbk")
    assert used == "gbk+replace" and "\ufffd" in text
    assert decode_html(b"", "gbk") == ("", "utf-8")
