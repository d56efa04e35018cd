import pytest

from gristmill.transforms import langid
from gristmill.transforms.document import Document
from gristmill.transforms.extract import TimeLimit, decode_html, extract, extract_text
from tests.warc_util import page, time_sleep_then_extract

ARTICLE = [
    "The city council met on Tuesday evening to discuss the new budget for the public library.",
    "Several residents asked the members to keep the reading rooms open later during the winter.",
    "The mayor said that the proposal would be studied carefully before the next session in March.",
]


def doc(html: bytes, charset="") -> Document:
    return Document(id="d", url="https://news.example.com/a", input=0, offset=0,
                    html=html, charset=charset)


def test_extract_keeps_article_drops_boilerplate():
    d = extract(doc(page("Library budget", ARTICLE)))
    assert isinstance(d, Document)
    assert "reading rooms open later" in d.text
    assert "Copyright 2026" not in d.text and "Home" not in d.text.split()
    assert d.html is None


@pytest.mark.parametrize("html,reason", [
    (b"   ", "empty_html"),
    (b"<html><body><script>var x = 1;</script></body></html>", "no_main_text"),
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40, "binary_content"),
])
def test_extract_rejects(html, reason):
    got = extract(doc(html))
    assert (got if isinstance(got, str) else got[0]) == reason


def test_time_limit_kills_a_slow_call_and_recovers():
    import time
    limited = TimeLimit(time.sleep, 0.5)
    start = time.time()
    with pytest.raises(TimeoutError):
        limited(30)
    assert time.time() - start < 25  # cut short: the call itself sleeps 30 s
    assert limited(0) is None  # a fresh child took over
    limited.close()


def test_extraction_through_time_limit_matches_in_process():
    html = page("Library budget", ARTICLE)
    limited = TimeLimit(extract_text, 30)
    try:
        assert extract(doc(html), run=limited).text == extract(doc(html)).text
        slow = TimeLimit(time_sleep_then_extract, 0.3)
        assert extract(doc(html), run=slow)[0] == "extract_timeout"
        slow.close()
    finally:
        limited.close()


def test_decode_html_from_extract_uses_whatwg_names():
    text = "Straße, Café, Niño"
    assert decode_html(text.encode("cp1252"), "windows-1252") == (text, "windows-1252")
    meta = f'<meta charset="iso-8859-1"><p>{text}</p>'.encode("iso-8859-1")
    assert decode_html(meta)[1] == "windows-1252"  # the WHATWG meaning of the label
    assert decode_html(text.encode("utf-8"), "bogus-charset") == (text, "utf-8")
    # strict UTF-8 outranks a wrong declaration
    assert decode_html(text.encode("utf-8"), "ascii") == (text, "utf-8")


@pytest.fixture(scope="module")
def model():
    return langid.load_model()


@pytest.mark.parametrize("text,code", [
    (" ".join(ARTICLE), "en"),
    ("Der Stadtrat hat am Dienstag über den neuen Haushalt der Bibliothek gesprochen.", "de"),
    ("Le conseil municipal a discuté mardi du nouveau budget de la bibliothèque publique.", "fr"),
    ("El ayuntamiento habló el martes sobre el nuevo presupuesto de la biblioteca.", "es"),
])
def test_langid_bundled_model(model, text, code):
    lang, score = langid.predict(model, text.replace(" ", "\n", 3))
    assert lang == code and score >= 0.65


def test_langid_keep_set_and_threshold(model):
    d = Document(id="d", url="u", input=0, offset=0,
                 text="Der Stadtrat hat am Dienstag über den neuen Haushalt gesprochen.")
    cfg = langid.LangIdConfig(languages=("en",))
    assert langid.langid(d, model, cfg)[0] == "language_not_kept"
    assert isinstance(langid.langid(d, model, langid.LangIdConfig(languages=("en", "de"))), Document)
    assert langid.langid(d, model, langid.LangIdConfig(languages=(), min_score=0.99999))[0] == "language_score_low"


@pytest.mark.parametrize("code,want", [
    ("nb", "no"), ("no", "no"), ("nor", "no"), ("nob", "no"), ("__label__no", "no"), ("nn", "nn"), ("nno", "nn"),
    ("eng", "en"), ("eng_Latn", "en"), ("__label__zho_Hans", "zh"), ("cmn", "zh"), ("arb", "ar"), ("iw", "he"),
    ("EN", "en"), ("de-AT", "de"),
])
def test_language_codes_are_canonical(code, want):
    assert langid.canonical(code) == want


def test_per_language_thresholds(model):
    d = Document(id="d", url="u", input=0, offset=0,
                 text="Der Stadtrat hat am Dienstag über den neuen Haushalt gesprochen.")
    _, score = langid.predict(model, d.text)
    strict = langid.LangIdConfig(languages=(), min_score=0.0, min_scores=(("de", min(1.0, score + 0.01)),))
    assert langid.langid(d, model, strict)[0] == "language_score_low"
    lenient = langid.LangIdConfig(languages=(), min_score=1.0, min_scores=(("de", score - 0.01), ("en", 1.0)))
    assert isinstance(langid.langid(d, model, lenient), Document)


def test_serbo_croatian_goes_to_its_member_language(model):
    text = "Grad je poznat po starim crkvama i lijepim trgovima."
    labels = model.predict(text, k=4)[0]
    lang, score = langid.predict(model, text)
    assert lang in ("hr", "sr", "bs") and 0 < score <= 1
    if labels[0] != "__label__sh":
        assert lang == langid.canonical(labels[0])


def test_eval_langid_on_a_small_folder(tmp_path):
    from gristmill.pipelines.eval_langid import evaluate
    (tmp_path / "de.txt").write_text("Der Stadtrat hat am Dienstag über den neuen Haushalt gesprochen.\n"
                                     "Die Bibliothek öffnet morgen wieder ihre Türen.\n")
    (tmp_path / "nb.txt").write_text("Kommunestyret diskuterte det nye budsjettet for biblioteket på tirsdag.\n")
    (tmp_path / "zz.txt").write_text("qwerty\n")
    rep = evaluate(str(tmp_path))
    assert rep["languages"]["nb"]["canonical"] == "no" and rep["languages"]["nb"]["known"]
    assert rep["languages"]["de"]["accuracy"] == 1.0 and not rep["languages"]["zz"]["known"]
    assert rep["known"] == 2 and rep["sentences"] == 4


def test_eval_langid_on_the_shared_sentences():
    from gristmill.pipelines.eval_langid import evaluate
    from tests.conftest import shared_data
    rep = evaluate(str(shared_data("langid", "sentences")), limit=300)
    assert rep["known"] == 67 and rep["languages"]["nb"]["accuracy"] > 0.7  # nb = lid.176's no
    assert rep["accuracy"] >= 0.89


def test_fast_pass_result_gets_the_full_pass_only_when_it_looks_like_a_miss():
    from gristmill.transforms.extract import ExtractConfig, needs_full_pass, visible_chars
    cfg = ExtractConfig()
    assert visible_chars("<p>ab  c</p><script>var x;</script><!-- no --><style>p{}</style>") == len(" ab c ")

    def page(visible):  # a page of exactly `visible` visible characters
        return "<p>" + "x" * (visible - 2) + "</p>"

    assert visible_chars(page(3000)) == 3000
    # under 750 characters: when under a fifth of the visible text
    assert needs_full_pass("y" * 599, page(3000), cfg) and not needs_full_pass("y" * 600, page(3000), cfg)
    assert not needs_full_pass("y" * 300, page(1500), cfg)  # a short page's short text is trusted
    # from 750 to 2,000 characters: when under a tenth
    assert needs_full_pass("y" * 749, page(6000), cfg) and not needs_full_pass("y" * 750, page(6000), cfg)
    assert needs_full_pass("y" * 1999, page(30000), cfg) and not needs_full_pass("y" * 2000, page(30000), cfg)
    assert not needs_full_pass("y" * 1000, page(10000), cfg) and needs_full_pass("y" * 1000, page(10001), cfg)


def test_strip_invisible_is_the_lazy_regex_without_its_quadratic_time():
    import re
    from gristmill.transforms.extract import strip_invisible
    lazy = re.compile(r"(?is)<(script|style|noscript|template|svg)\b.*?</\1\s*>|<!--.*?-->")
    cases = ["<SCRIPT>x</script ><style>y</STYLE>z<!-- c -->w<svg><g/></svg>v<scripts>u</scripts>",
             "<script>a</script>b<script>c", "<!--->x-->y<!---->z<!-- -- -->", "<script>a<!-- b</script>c-->d",
             "<template>t<script>s</script></template>after", "no tags at all", "",
             "<script>a<b " * 300, "<!-- a " * 300 + "-->", "<style>" + "x" * 1000]
    for html in cases:
        assert strip_invisible(html) == lazy.sub(" ", html), html[:60]


def test_fast_and_full_modes_agree_on_a_plain_article():
    import dataclasses
    from gristmill.transforms.extract import ExtractConfig
    html = page("Library budget", ARTICLE * 8)  # long enough for the fast pass to be kept
    fast, full = ExtractConfig(timeout_s=0), ExtractConfig(timeout_s=0, fast=False)
    assert dataclasses.replace(fast).fast
    assert extract(doc(html), fast).text == extract(doc(html), full).text


def test_pathological_pages_end_within_the_time_limit_with_their_own_reasons():
    import os
    import time
    from gristmill.transforms.extract import ExtractConfig
    rows = "".join(f"<tr>{''.join(f'<td>cell {i} {j} value</td>' for j in range(8))}</tr>" for i in range(20000))
    table = f"<html><body><table>{rows}</table></body></html>".encode()  # seconds of trafilatura
    nested = b"<html><body>" + b"<div>" * 200_000 + b"deep" + b"</div>" * 200_000 + b"</body></html>"
    junk = os.urandom(2_000_000)  # binary declared as HTML
    cfg = ExtractConfig(timeout_s=0.5)
    limited = TimeLimit(extract_text, cfg.timeout_s)
    # The nested and binary pages end on their own reasons, whatever the machine's speed:
    # under the same 0.5 s limit a slow machine could time them out instead.
    roomy_cfg = ExtractConfig(timeout_s=60)
    roomy = TimeLimit(extract_text, roomy_cfg.timeout_s)
    try:
        start = time.perf_counter()
        assert extract(doc(table), cfg, limited)[0] == "extract_timeout"
        assert time.perf_counter() - start < 0.5 + 5  # the limit and a kill, not the page's seconds
        assert extract(doc(page("Library budget", ARTICLE)), cfg, limited).text  # a fresh child serves on
        assert extract(doc(nested), roomy_cfg, roomy) == "no_main_text"
        assert extract(doc(junk), roomy_cfg, roomy)[0] == "binary_content"
    finally:
        limited.close()
        roomy.close()
