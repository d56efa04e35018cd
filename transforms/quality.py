"""Quality: Gopher quality + repetition, C4 line/page rules, FineWeb's custom filters.

The pure per-document logic (no Beam here). One entry point::

    text_out, reason, signals = quality_filter(text, lang, QualityConfig())

Order of work (the first failing rule decides the reason; docs/quality.md has every
threshold with its source and datatrove's order beside ours):

1. ``empty_text`` when the input is empty or only whitespace.
2. C4 line filtering (it edits the text): lines are stripped and dropped by the
   rules below; kept lines are returned joined by "\\n", runs of blank lines become
   one blank line (paragraph breaks survive), nothing else is changed except
   citation markers removed from kept lines. ``c4_empty_after_line_filter`` if no
   line is left.
3. Page rules, all on the filtered text, in datatrove's FineWeb order: Gopher
   repetition, Gopher quality, C4 page rules (``c4_lorem_ipsum``,
   ``c4_curly_bracket``, ``c4_too_few_sentences``), FineWeb. Every page rule sees the
   same text, so the order decides only which reason a rejected page is counted
   under, never whether it is kept.

Sources (the "anchors" named next to each default in `QualityConfig`):

- Gopher: Rae et al. 2021, "Scaling Language Models: Methods, Analysis & Insights
  from Training Gopher", appendix A.1.1 and Table A1 (MassiveText quality and
  repetition filters).
- C4: Raffel et al. 2020 (T5 paper) section 2.2, and the code that built C4,
  TFDS ``tensorflow_datasets/text/c4_utils.py`` (``clean_page``).
- FineWeb: Penedo et al. 2024, "The FineWeb Datasets" section 3.6 / the FineWeb
  blog post ("custom filters").

Definitions used below (all measured on the C4-filtered text):

- line: a stripped, non-empty line (split on "\\n").
- paragraph: a block of lines separated by one or more blank lines, stripped.
  Trafilatura puts one paragraph per line without blank lines, so for its output
  the whole page is usually one paragraph and the line rules do the work.
- word: a whitespace-separated token, lower-cased, with leading/trailing
  punctuation stripped; tokens that are only punctuation are not words. The same
  normalisation as RedPajama-V2's Gopher signals (lower-cased, punctuation removed).
- duplicate lines / paragraphs: occurrences that repeat an earlier identical
  line/paragraph (the first occurrence is not a duplicate; "a a a b" has 2 duplicate
  lines out of 4). ``dup_*_frac`` = duplicates / count; ``dup_*_char_frac`` =
  characters in duplicates / characters in all lines (paragraphs).
- top n-gram character fraction (n = 2, 3, 4): take the word n-gram with the highest
  count (ties: the one covering more characters); if it occurs more than once, the
  fraction of word characters (sum of word lengths) covered by its occurrences,
  each word counted once where occurrences overlap; 0 if no n-gram repeats.
- duplicate n-gram character fraction (n = 5..10): the fraction of word characters
  covered by n-grams that occur more than once in the page, every occurrence
  including the first, each word's characters counted once however many such
  n-grams cover it (as RedPajama-V2's ``rps_doc_frac_chars_dupe_{n}grams``).

Languages written without spaces between words (``no_space_langs``: ja, zh, th, ...)
make every whitespace-word rule meaningless (a Japanese paragraph is one "word"). For
those with a measured ``chars_per_word`` (zh 1.74, ja 1.73, th 3.68: characters of
the text per word of a real segmenter, measured on the shared Leipzig sentences, see
docs/quality.md) the word rules run on *units* instead: every character of a
no-space script (Han, kana, Thai, ...) is one unit, and so is every run of other
letters and digits (a Latin word or a number inside Chinese text). A word count is
estimated as units / chars_per_word, so every word threshold keeps its anchor value:
C4's words per line, Gopher's word count and symbol-to-word ratio. Gopher's alphabetic
words rule is the share of units with a letter; its stop words are matched as
substrings (sets for zh, ja, th); its n-gram rules run on unit n-grams of
round(n * chars_per_word) units (a word 2-gram of Chinese is about a 3-character
gram). Gopher's mean word length is skipped (a unit has one character by definition).
A no-space language without a factor (lo, km, my, bo, dz, yue, ... by default: no
segmenter was at hand to measure one) skips all word rules, listed in
``signals["skipped"]``; a factor given in the config switches them on.

Sentences (C4's sentence count) are counted per kept line, as datatrove counts them
(``split_into_sentences`` on each line): each sentence end in the line, plus one for
text after the last end; so a kept line is at least one sentence, as it is for punkt.
Ends are ". ! ? …" (with closing quotes) before a space or the line end, or the
full stops of ``c4_full_stops`` anywhere: the CJK marks 。！？｡, the full-width ．
(not between digits), and other scripts' stops. Thai and Lao use no sentence-final
punctuation (``no_terminal_punct_langs``): for them C4's terminal-punctuation line
rule, C4's sentence count and FineWeb's line-punctuation ratio are skipped. These
are this project's choices, not an anchor's.
"""
from __future__ import annotations

import dataclasses
import functools
import re
import unicodedata
from collections import Counter, defaultdict
from itertools import accumulate
from typing import Mapping, Optional

from gristmill.transforms.document import C4_LINE_RULES, QUALITY_SIGNALS
from gristmill.transforms.stage import DocStage

STAGE = "quality"

# ---------------------------------------------------------------------------- reasons

EMPTY_TEXT = "empty_text"
TOP_NGRAM_SIZES = (2, 3, 4)
DUP_NGRAM_SIZES = (5, 6, 7, 8, 9, 10)

REASONS: tuple[str, ...] = (
    EMPTY_TEXT,
    "c4_empty_after_line_filter",
    "c4_lorem_ipsum",
    "c4_curly_bracket",
    "c4_too_few_sentences",
    "gopher_word_count",
    "gopher_mean_word_length",
    "gopher_symbol_ratio",
    "gopher_bullet_lines",
    "gopher_ellipsis_lines",
    "gopher_alpha_words",
    "gopher_stop_words",
    "gopher_dup_para_frac",
    "gopher_dup_para_char_frac",
    "gopher_dup_line_frac",
    "gopher_dup_line_char_frac",
    *(f"gopher_top_{n}gram" for n in TOP_NGRAM_SIZES),
    *(f"gopher_dup_{n}gram" for n in DUP_NGRAM_SIZES),
    "fineweb_line_punct_ratio",
    "fineweb_dup_line_char_frac",
    "fineweb_short_line_ratio",
)

# Names of the C4 line rules, as keys of signals["c4_lines_removed"].
LINE_RULES = C4_LINE_RULES

# ------------------------------------------------------------------------ stop words

# Gopher's list is English only ("the", "be", "to", "of", "and", "that", "have",
# "with"); this pipeline keeps other languages, so each gets a small set of its most
# common function words (written for this project, 8-12 each). A language without a
# set skips the stop word rule (signals["skipped"] says so).
STOP_WORDS: dict[str, frozenset] = {
    "en": frozenset("the be to of and that have with".split()),  # Gopher, verbatim
    "de": frozenset("der die das und ist nicht mit zu den von ein sich".split()),
    "fr": frozenset("le la les de et est un une des que pour dans".split()),
    "es": frozenset("el la de que y en los las un por con para".split()),
    "it": frozenset("il di che la per un non sono con del una è".split()),
    "pt": frozenset("o de que do da em um para com não uma os".split()),
    "nl": frozenset("de het een en van is dat niet op te zijn met".split()),
    "sv": frozenset("och att det som en på är av för med inte den".split()),
    "da": frozenset("og at det en den til er som på med for ikke".split()),
    "no": frozenset("og det som en på er til av for med ikke jeg".split()),
    "nb": frozenset("og det som en på er til av for med ikke jeg".split()),
    "nn": frozenset("og det som ein på er til av for med ikkje eg".split()),
    "pl": frozenset("nie na się jest że do to jak ale od po tak".split()),
    # languages without spaces: matched as substrings of the text (see no_space_langs)
    "zh": frozenset("的 了 是 在 和 有 不 这 我 他 也 就".split()),
    "ja": frozenset("の に は を が と で も から まで です ます".split()),
    "th": frozenset("ที่ และ ใน การ ของ ได้ เป็น มี ไม่ ให้ จะ ว่า".split()),
}

# ISO 639-2/3 codes (GlotLID style "jpn_Jpan", or "deu") to the 639-1 codes used here.
_LANG_ALIASES = {
    "eng": "en", "deu": "de", "ger": "de", "fra": "fr", "fre": "fr", "spa": "es",
    "ita": "it", "por": "pt", "nld": "nl", "dut": "nl", "swe": "sv", "dan": "da",
    "nor": "no", "nob": "nb", "nno": "nn", "pol": "pl", "jpn": "ja", "zho": "zh",
    "chi": "zh", "cmn": "zh", "tha": "th", "lao": "lo", "khm": "km", "mya": "my",
    "bur": "my", "bod": "bo", "tib": "bo", "dzo": "dz",
}


def normalize_lang(lang: str) -> str:
    """'en', 'EN', 'en-US', 'zh_Hans', '__label__de', 'jpn_Jpan' -> 'en', 'en', 'en', 'zh', 'de', 'ja'."""
    base = re.split(r"[-_]", (lang or "").strip().lower().removeprefix("__label__"), maxsplit=1)[0]
    return _LANG_ALIASES.get(base, base)


# ----------------------------------------------------------------------------- config

# Sentence/line-final punctuation: C4's ". ! ? and end quotation mark", plus the
# ellipsis character, closing quotes of other typographic conventions (German „…“ and
# ‚…‘, French/German guillemets both ways), CJK full-width marks and the full stops
# of other scripts (Greek question mark, Armenian, Arabic, Urdu, Devanagari danda,
# Myanmar, Ethiopic, Khmer, Tibetan).
TERMINAL_PUNCT = (
    ".", "!", "?", "…", '"', "'", "”", "“", "’", "‘", "»", "«",
    "」", "』", "。", "！", "？", "｡", "．", "＂", "＇",
    "\u037e", "։", "؟", "۔", "।", "॥", "။", "።", "។", "།",
)
ELLIPSES = ("...", "…")
# Gopher: "lines starting with a bullet point". Em/en dashes are not bullets here:
# French and Spanish print dialogue lines starting with them.
BULLETS = ("•", "‣", "⁃", "◦", "▪", "▫", "●", "○", "■", "□", "►", "▸", "▹", "➢", "➤",
           "-", "*", "·")
# TFDS c4_utils _POLICY_SUBSTRINGS.
POLICY_SUBSTRINGS = ("terms of use", "privacy policy", "cookie policy", "uses cookies",
                     "use of cookies", "use cookies")
NO_SPACE_LANGS = frozenset({"ja", "zh", "yue", "wuu", "gan", "lzh", "th", "lo", "km",
                            "my", "bo", "dz"})
NO_TERMINAL_PUNCT_LANGS = frozenset({"th", "lo"})
# Characters of the text per word (units per word, see the module docstring), measured
# on the shared Leipzig sentences (../shared/data/langid/sentences) with jieba 0.42.1
# (zh, 729 lines: 31,203 units / 17,887 words), janome 0.5.0 (ja, 412 lines: 16,683 /
# 9,666) and pythainlp 5.4.0 newmm (th, 1,000 lines: 79,764 / 21,693); punctuation-only
# tokens are not words. The segmenters were used once to measure, they are not needed.
CHARS_PER_WORD = {"zh": 1.74, "ja": 1.73, "th": 3.68}
# Sentence ends that need no space after them: CJK full-width marks (。！？, halfwidth ｡,
# full-width ． when not between digits) and the full stops of other scripts (Armenian,
# Arabic, Urdu, Devanagari, Myanmar, Ethiopic, Khmer, Tibetan).
FULL_STOPS = "。！？｡．։؟۔।॥။።។།"


@dataclasses.dataclass(frozen=True)
class QualityConfig:
    """Every threshold of the stage. ``None`` (or False) switches a rule off.

    Inequalities follow each anchor's wording: Gopher and C4 reject strictly beyond
    their limits ("more than 90%", "fewer than 3 sentences"); FineWeb rejects at its
    limits ("<= 0.12", ">= 0.1", ">= 0.67").
    """

    # --- C4 line rules (applied first; they edit the text) ---
    # T5 paper: "only retained lines that ended in a terminal punctuation mark".
    # Off by default as in FineWeb, which found it removes too much (headings, list
    # items) and used its line-punctuation ratio below instead.
    c4_require_terminal_punct: bool = False
    c4_terminal_punct: tuple[str, ...] = TERMINAL_PUNCT
    # TFDS c4_utils drops lines ending in "..." even though "." is an end mark
    # (truncated teasers); "…" is treated the same way.
    c4_drop_ellipsis_lines: bool = True
    # T5 paper / TFDS _MIN_WORDS_PER_LINE: "only retained lines that contained at
    # least 5 words". (datatrove's C4QualityFilter uses 3; the anchor says 5.)
    c4_min_words_per_line: Optional[int] = 5
    # TFDS _MAX_WORD_LENGTH: lines with a whitespace token longer than this are dropped.
    c4_max_word_length: Optional[int] = 1000
    # TFDS: "[1]", "[edit]", "[citation needed]" are removed from lines.
    c4_remove_citations: bool = True
    # T5 paper: "removed any line with the word Javascript" (substring, any case).
    c4_drop_javascript_lines: bool = True
    # TFDS: lines containing any of these (lower-cased) are dropped; () switches off.
    c4_policy_substrings: tuple[str, ...] = POLICY_SUBSTRINGS
    # C4's bad-words page rule (LDNOOBW list) is NOT included: we do not ship that list.

    # --- C4 page rules (on the filtered text) ---
    # T5 paper: "removed any page where the phrase 'lorem ipsum' appeared".
    c4_reject_lorem_ipsum: bool = True
    # T5 paper: "removed any pages that contained a curly bracket" (code heuristic).
    c4_reject_curly_bracket: bool = True
    # T5 paper: "discarded any page with fewer than 3 sentences"; TFDS
    # _MIN_NUM_SENTENCES = 3. (datatrove uses 5, swapping the paper's 3 and 5.)
    # Sentences are counted as sentence-final punctuation runs (TFDS used NLTK punkt);
    # abbreviations like "e.g. " count as ends, so this errs towards keeping pages.
    c4_min_sentences: Optional[int] = 3
    # Sentence ends counted anywhere in a line (no space needed after them).
    c4_full_stops: str = FULL_STOPS

    # --- Gopher quality (Gopher appendix A.1.1) ---
    gopher_min_words: Optional[int] = 50            # word count between 50 and 100,000
    gopher_max_words: Optional[int] = 100_000
    gopher_min_mean_word_length: Optional[float] = 3.0   # "outside the range of 3 to 10"
    gopher_max_mean_word_length: Optional[float] = 10.0
    # "symbol-to-word ratio greater than 0.1 for either the hash symbol or the
    # ellipsis": '#' count / words, and ('...' + '…') count / words, each <= 0.1.
    gopher_max_symbol_word_ratio: Optional[float] = 0.1
    gopher_max_bullet_line_frac: Optional[float] = 0.9    # "more than 90% of lines starting with a bullet"
    # "more than 30% ending with an ellipsis". With c4_drop_ellipsis_lines on (the
    # default) no kept line ends in one, so this rule only acts when that is off.
    gopher_max_ellipsis_line_frac: Optional[float] = 0.3
    gopher_min_alpha_word_frac: Optional[float] = 0.8     # "80% of words ... at least one alphabetic character"
    # "at least two of the following English words": distinct stop words present.
    gopher_min_stop_words: Optional[int] = 2
    stop_words: Mapping[str, frozenset] = dataclasses.field(
        default_factory=lambda: dict(STOP_WORDS), hash=False)
    bullets: tuple[str, ...] = BULLETS

    # --- Gopher repetition (Gopher Table A1) ---
    gopher_max_dup_para_frac: Optional[float] = 0.30
    gopher_max_dup_para_char_frac: Optional[float] = 0.20
    gopher_max_dup_line_frac: Optional[float] = 0.30
    gopher_max_dup_line_char_frac: Optional[float] = 0.20
    gopher_max_top_2gram_char_frac: Optional[float] = 0.20
    gopher_max_top_3gram_char_frac: Optional[float] = 0.18
    gopher_max_top_4gram_char_frac: Optional[float] = 0.16
    gopher_max_dup_5gram_char_frac: Optional[float] = 0.15
    gopher_max_dup_6gram_char_frac: Optional[float] = 0.14
    gopher_max_dup_7gram_char_frac: Optional[float] = 0.13
    gopher_max_dup_8gram_char_frac: Optional[float] = 0.12
    gopher_max_dup_9gram_char_frac: Optional[float] = 0.11
    gopher_max_dup_10gram_char_frac: Optional[float] = 0.10

    # --- FineWeb custom filters (FineWeb paper section 3.6) ---
    # "fraction of lines ending with punctuation <= 0.12" -> reject. Punctuation =
    # c4_terminal_punct. With C4's terminal-punctuation line rule on, every kept line
    # ends in punctuation and this rule cannot fire; so, like FineWeb, the default
    # runs C4 with that line rule off and this ratio instead.
    fineweb_min_line_punct_frac: Optional[float] = 0.12
    # "fraction of characters in duplicated lines >= 0.1" -> reject (same measurement
    # as dup_line_char_frac). datatrove's FineWebQualityFilter defaults to 0.01; the
    # paper and blog say 0.1. Note: a repeated line of >= 5 words puts both copies in
    # the duplicate-5-gram coverage, so for spaced languages Gopher's 5-gram rule
    # (0.15, checked earlier) usually decides first; this rule mostly decides for
    # languages without spaces, where the n-gram rules are skipped.
    fineweb_max_dup_line_char_frac: Optional[float] = 0.1
    # "fraction of lines shorter than 30 characters >= 0.67" -> reject.
    fineweb_max_short_line_frac: Optional[float] = 0.67
    fineweb_short_line_chars: int = 30
    # datatrove's implementation also has a "list_ratio" (newlines / words > 0.3);
    # it is not among the three filters the paper/blog define, so it is left out.

    # --- languages (this project's choice, see the module docstring) ---
    no_space_langs: frozenset = NO_SPACE_LANGS
    # units per word for languages without spaces; one without a factor skips the word rules
    chars_per_word: Mapping[str, float] = dataclasses.field(
        default_factory=lambda: dict(CHARS_PER_WORD), hash=False)
    no_terminal_punct_langs: frozenset = NO_TERMINAL_PUNCT_LANGS

    def top_ngram_limits(self) -> list[tuple[int, float]]:
        return [(n, t) for n in TOP_NGRAM_SIZES
                if (t := getattr(self, f"gopher_max_top_{n}gram_char_frac")) is not None]

    def dup_ngram_limits(self) -> list[tuple[int, float]]:
        return [(n, t) for n in DUP_NGRAM_SIZES
                if (t := getattr(self, f"gopher_max_dup_{n}gram_char_frac")) is not None]


DEFAULT_CONFIG = QualityConfig()

# ------------------------------------------------------------------------- helpers

# Characters stripped from both ends of a token to make a word.
_PUNCT = ("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
          "¡¿«»‹›“”„‟‘’‚‛…–—―‐‑‒•‣⁃◦▪▫●○■□►▸▹➢➤·※†‡§¶′″"
          "。、，．：；！？「」『』（）【】《》〈〉〔〕［］｛｝＂＇｀～・")
_ALPHA = re.compile(r"[^\W\d_]")  # a letter of any script
_CITATION = re.compile(r"\[(?:\d{1,4}|edit|citation needed)\]", re.IGNORECASE)
# Scripts written without spaces: Thai, Lao, Tibetan, Myanmar, Khmer, kana, Han
# (extension A, unified, compatibility), halfwidth katakana. A unit is one character of
# these with the combining marks that follow it (Thai vowel and tone marks, ...), or a
# run of other letters and digits.
_NO_SPACE_SCRIPTS = ("\u0e00-\u0e7f\u0e80-\u0eff\u0f00-\u0fff\u1000-\u109f\u1780-\u17ff"
                     "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f")


def _unit_pattern() -> re.Pattern:
    marks = "".join(chr(c) for a, b in re.findall(r"(.)-(.)", _NO_SPACE_SCRIPTS)
                    for c in range(ord(a), ord(b) + 1) if unicodedata.category(chr(c))[0] == "M")
    return re.compile(f"[{_NO_SPACE_SCRIPTS}][{marks}]*|[^\\W_{_NO_SPACE_SCRIPTS}]+")


_UNIT = _unit_pattern()
_WORD_CHAR = re.compile(r"[^\W_]")


@functools.lru_cache(maxsize=8)
def _sentence_end(full_stops: str) -> re.Pattern:
    """A sentence end: a run of . ! ? … (and Greek ;) with optional closing quotes or
    brackets, before whitespace or the end; or a run of `full_stops` anywhere (the
    full-width ． only when no digit follows: "3．5" is a number)."""
    stops = re.escape(full_stops.replace("．", ""))
    dot = "|．(?![0-9０-９])" if "．" in full_stops else ""
    anywhere = f"|(?:[{stops}]{dot})+" if stops else (f"|(?:{dot[1:]})+" if dot else "")
    return re.compile(r"[.!?…\u037e]+[\"'”“’‘»«)\]]*(?=\s|$)" + anywhere)


def count_sentences(lines: list[str], full_stops: str = FULL_STOPS) -> int:
    """Sentence ends in each line, plus one for a line's letters or digits after its last end."""
    end = _sentence_end(full_stops)
    n = 0
    for line in lines:
        last = 0
        for m in end.finditer(line):
            n += 1
            last = m.end()
        if _WORD_CHAR.search(line, last):
            n += 1
    return n


def _r(x: float) -> float:
    return round(x, 4)


def _dup_stats(items: list[str]) -> tuple[int, int, int]:
    """(number of items repeating an earlier one, their characters, all characters)."""
    seen = set()
    dups = dup_chars = total = 0
    for it in items:
        n = len(it)
        total += n
        if it in seen:
            dups += 1
            dup_chars += n
        else:
            seen.add(it)
    return dups, dup_chars, total


def _covered(starts, n: int, cum: list[int]) -> int:
    """Word characters covered by the intervals [s, s+n) for ascending starts s."""
    total = end = 0
    for s in starts:
        e = s + n
        if e > end:
            total += cum[e] - cum[s if s > end else end]
            end = e
    return total


def _ngram_fractions(words: list[str], max_n: int):
    """Yield (n, top_char_frac, dup_char_frac) for n = 2..max_n, lazily.

    Linear-ish: an n-gram can only repeat where its (n-1)-gram prefix repeats, so
    each step only looks at positions whose previous n-gram occurs more than once,
    and n-grams are interned to ints from (prefix id, next word id) pairs.
    """
    n_words = len(words)
    cum = list(accumulate((len(w) for w in words), initial=0))
    total = cum[-1]
    ids: dict[str, int] = {}
    word_ids = [ids.setdefault(w, len(ids)) for w in words]
    counts = Counter(word_ids)
    cand = [i for i, k in enumerate(word_ids) if counts[k] > 1]
    cur = list(word_ids)  # cur[i]: id of the current n-gram starting at i (valid on cand)
    for n in range(2, max_n + 1):
        limit = n_words - n + 1
        table: dict[tuple[int, int], int] = {}
        kept = []
        for i in cand:
            if i >= limit:
                break
            cur[i] = table.setdefault((cur[i], word_ids[i + n - 1]), len(table))
            kept.append(i)
        counts = Counter(cur[i] for i in kept)
        cand = [i for i in kept if counts[cur[i]] > 1]
        if not cand or total == 0:
            yield n, 0.0, 0.0
            continue
        # top n-gram: highest count, ties broken by characters covered
        best = max(counts.values())
        at_best = {k for k, c in counts.items() if c == best}
        positions = defaultdict(list)
        for i in cand:
            if cur[i] in at_best:
                positions[cur[i]].append(i)
        top = max(_covered(p, n, cum) for p in positions.values())
        yield n, top / total, _covered(cand, n, cum) / total


# ----------------------------------------------------------------------- C4 lines

def _c4_line_filter(text: str, cfg: QualityConfig, per_word: Optional[float], punct_rule: bool):
    """`per_word`: None skips the word rules; 1 for whitespace words; else units per word."""
    removed: dict[str, int] = {}
    out: list[str] = []
    n_in = citations = 0
    word_rule = per_word is not None
    tokens = str.split if per_word == 1 else _UNIT.findall
    max_len = cfg.c4_max_word_length if word_rule else None
    min_words = cfg.c4_min_words_per_line if word_rule else None
    require_punct = cfg.c4_require_terminal_punct and punct_rule
    policies = cfg.c4_policy_substrings

    def drop(rule):
        removed[rule] = removed.get(rule, 0) + 1

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            if out and out[-1]:
                out.append("")
            continue
        n_in += 1
        if max_len is not None and len(line) > max_len and any(
                len(tok) > max_len for tok in tokens(line)):
            drop("long_word")
            continue
        if cfg.c4_remove_citations and "[" in line:
            line, k = _CITATION.subn("", line)
            citations += k
            line = line.strip()
            if not line:
                drop("citation_only")
                continue
        if require_punct and not line.endswith(cfg.c4_terminal_punct):
            drop("no_terminal_punct")
            continue
        if cfg.c4_drop_ellipsis_lines and line.endswith(ELLIPSES):
            drop("ellipsis")
            continue
        if min_words is not None and len(tokens(line)) / per_word < min_words:
            drop("too_few_words")
            continue
        if cfg.c4_drop_javascript_lines or policies:
            low = line.lower()
            if cfg.c4_drop_javascript_lines and "javascript" in low:
                drop("javascript")
                continue
            if any(p in low for p in policies):
                drop("policy")
                continue
        out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out), removed, n_in, citations


# -------------------------------------------------------------------------- entry

def quality_filter(text: str, lang: str,
                   config: QualityConfig = DEFAULT_CONFIG) -> tuple[str, Optional[str], dict]:
    """Return (text after C4 line filtering, reject reason or None, signals dict of the measured values).

    ``lang`` is the LangId code ('en', 'de', 'ja', ...; 'en-US', 'jpn_Jpan' work too).
    ``signals`` holds the values measured up to the deciding rule (a rejected page
    stops being measured there): counts, fractions rounded to 4 places,
    ``c4_lines_removed`` ({line rule: lines}, only rules that removed something), and
    ``skipped`` (rules not applied to this language), JSON-serialisable.
    """
    cfg = config
    if not text or not text.strip():
        return "", EMPTY_TEXT, {"chars": 0}
    code = normalize_lang(lang)
    spaced = code not in cfg.no_space_langs
    punctuated = code not in cfg.no_terminal_punct_langs
    # 1 for whitespace words; units per word for a language without spaces; None: no word rules
    per_word = 1 if spaced else cfg.chars_per_word.get(code)
    wordy = per_word is not None
    skipped: list[str] = []
    signals: dict = {}

    def done(reason: Optional[str]):
        if skipped:
            signals["skipped"] = skipped
        return out, reason, signals

    # ---- C4 line filter
    out, removed, n_in, citations = _c4_line_filter(text, cfg, per_word, punctuated)
    if not wordy:
        skipped += [r for r in ("c4_min_words_per_line", "c4_max_word_length")
                    if getattr(cfg, r) is not None]
    if not punctuated and cfg.c4_require_terminal_punct:
        skipped.append("c4_terminal_punct")
    lines = [ln for ln in out.split("\n") if ln]
    signals["chars"] = len(out)
    signals["c4_lines_in"] = n_in
    signals["c4_lines_kept"] = len(lines)
    signals["c4_lines_removed"] = removed
    if citations:
        signals["c4_citations_removed"] = citations
    if not lines:
        return done("c4_empty_after_line_filter")
    n_lines = len(lines)

    # ---- Gopher repetition
    paras = [p.strip() for p in out.split("\n\n")]
    dups, dup_chars, total = _dup_stats(paras)
    signals["dup_para_frac"] = _r(dups / len(paras))
    signals["dup_para_char_frac"] = _r(dup_chars / total)
    if cfg.gopher_max_dup_para_frac is not None and dups / len(paras) > cfg.gopher_max_dup_para_frac:
        return done("gopher_dup_para_frac")
    if cfg.gopher_max_dup_para_char_frac is not None and dup_chars / total > cfg.gopher_max_dup_para_char_frac:
        return done("gopher_dup_para_char_frac")
    dups, dup_chars, total = _dup_stats(lines)
    dup_line_char_frac = dup_chars / total
    signals["dup_line_frac"] = _r(dups / n_lines)
    signals["dup_line_char_frac"] = _r(dup_line_char_frac)
    if cfg.gopher_max_dup_line_frac is not None and dups / n_lines > cfg.gopher_max_dup_line_frac:
        return done("gopher_dup_line_frac")
    if cfg.gopher_max_dup_line_char_frac is not None and dup_line_char_frac > cfg.gopher_max_dup_line_char_frac:
        return done("gopher_dup_line_char_frac")

    words: list[str] = []
    if spaced:
        words = [w for w in (t.strip(_PUNCT).lower() for t in out.split()) if w]
    elif wordy:
        words = _UNIT.findall(out.lower())
        signals["units"] = len(words)
    if wordy and words:
        # word n-grams; for a language without spaces, unit n-grams of about as many characters
        size = {n: n if spaced else max(n, int(n * per_word + 0.5))
                for n in (*TOP_NGRAM_SIZES, *DUP_NGRAM_SIZES)}
        limits = {size[n]: (n, t, "top") for n, t in cfg.top_ngram_limits()}
        limits.update({size[n]: (n, t, "dup") for n, t in cfg.dup_ngram_limits()})
        for m, top_frac, dup_frac in _ngram_fractions(words, max(limits, default=0)):
            if m not in limits:
                continue
            n, limit, kind = limits[m]
            frac = top_frac if kind == "top" else dup_frac
            signals[f"{kind}_{n}gram_char_frac"] = _r(frac)
            if frac > limit:
                return done(f"gopher_{kind}_{n}gram")
    elif not wordy:
        skipped.append("gopher_ngram_rules")

    # ---- Gopher quality
    if wordy:
        n_words = len(words) if spaced else len(words) / per_word
        signals["words"] = _r(n_words)
        if ((cfg.gopher_min_words is not None and n_words < cfg.gopher_min_words)
                or (cfg.gopher_max_words is not None and n_words > cfg.gopher_max_words)
                or n_words == 0):
            return done("gopher_word_count")
        if spaced:
            mean_len = sum(map(len, words)) / n_words
            signals["mean_word_length"] = _r(mean_len)
            if ((cfg.gopher_min_mean_word_length is not None and mean_len < cfg.gopher_min_mean_word_length)
                    or (cfg.gopher_max_mean_word_length is not None
                        and mean_len > cfg.gopher_max_mean_word_length)):
                return done("gopher_mean_word_length")
        elif cfg.gopher_min_mean_word_length is not None or cfg.gopher_max_mean_word_length is not None:
            skipped.append("gopher_mean_word_length")
        hash_ratio = out.count("#") / n_words
        ellipsis_ratio = (out.count("...") + out.count("…")) / n_words
        signals["hash_word_ratio"] = _r(hash_ratio)
        signals["ellipsis_word_ratio"] = _r(ellipsis_ratio)
        if cfg.gopher_max_symbol_word_ratio is not None and max(
                hash_ratio, ellipsis_ratio) > cfg.gopher_max_symbol_word_ratio:
            return done("gopher_symbol_ratio")
    else:
        skipped.append("gopher_word_rules")

    bullet_frac = sum(1 for ln in lines if ln.startswith(cfg.bullets)) / n_lines
    signals["bullet_line_frac"] = _r(bullet_frac)
    if cfg.gopher_max_bullet_line_frac is not None and bullet_frac > cfg.gopher_max_bullet_line_frac:
        return done("gopher_bullet_lines")
    ellipsis_frac = sum(1 for ln in lines if ln.endswith(ELLIPSES)) / n_lines
    signals["ellipsis_line_frac"] = _r(ellipsis_frac)
    if cfg.gopher_max_ellipsis_line_frac is not None and ellipsis_frac > cfg.gopher_max_ellipsis_line_frac:
        return done("gopher_ellipsis_lines")

    if wordy:
        alpha_frac = sum(1 for w in words if _ALPHA.search(w)) / len(words)
        signals["alpha_word_frac"] = _r(alpha_frac)
        if cfg.gopher_min_alpha_word_frac is not None and alpha_frac < cfg.gopher_min_alpha_word_frac:
            return done("gopher_alpha_words")
        if cfg.gopher_min_stop_words is not None:
            stop = cfg.stop_words.get(code)
            if stop is None:
                skipped.append("gopher_stop_words")
            else:
                n_stop = (len(stop.intersection(words)) if spaced
                          else sum(1 for w in stop if w in out))
                signals["stop_words"] = n_stop
                if n_stop < cfg.gopher_min_stop_words:
                    return done("gopher_stop_words")

    # ---- C4 page rules
    if cfg.c4_reject_lorem_ipsum and "lorem ipsum" in out.lower():
        return done("c4_lorem_ipsum")
    if cfg.c4_reject_curly_bracket and "{" in out:
        return done("c4_curly_bracket")
    if cfg.c4_min_sentences is not None:
        if punctuated:
            n_sent = count_sentences(lines, cfg.c4_full_stops)
            signals["c4_sentences"] = n_sent
            if n_sent < cfg.c4_min_sentences:
                return done("c4_too_few_sentences")
        else:
            skipped.append("c4_min_sentences")

    # ---- FineWeb
    if punctuated:
        punct_frac = sum(1 for ln in lines if ln.endswith(cfg.c4_terminal_punct)) / n_lines
        signals["line_punct_frac"] = _r(punct_frac)
        if cfg.fineweb_min_line_punct_frac is not None and punct_frac <= cfg.fineweb_min_line_punct_frac:
            return done("fineweb_line_punct_ratio")
    elif cfg.fineweb_min_line_punct_frac is not None:
        skipped.append("fineweb_line_punct_ratio")
    if cfg.fineweb_max_dup_line_char_frac is not None and dup_line_char_frac >= cfg.fineweb_max_dup_line_char_frac:
        return done("fineweb_dup_line_char_frac")
    short = cfg.fineweb_short_line_chars
    short_frac = sum(1 for ln in lines if len(ln) < short) / n_lines
    signals["short_line_frac"] = _r(short_frac)
    if cfg.fineweb_max_short_line_frac is not None and short_frac >= cfg.fineweb_max_short_line_frac:
        return done("fineweb_short_line_ratio")
    return done(None)


def _deciding_signal(reason: str) -> str:
    """The signals key holding the value that made `reason` fire ("" if none)."""
    if reason.startswith(("gopher_top_", "gopher_dup_")) and reason.endswith("gram"):
        return reason.removeprefix("gopher_") + "_char_frac"
    return _REASON_SIGNAL.get(reason, "")


_REASON_SIGNAL = {
    "c4_too_few_sentences": "c4_sentences",
    "gopher_word_count": "words",
    "gopher_mean_word_length": "mean_word_length",
    "gopher_bullet_lines": "bullet_line_frac",
    "gopher_ellipsis_lines": "ellipsis_line_frac",
    "gopher_alpha_words": "alpha_word_frac",
    "gopher_stop_words": "stop_words",
    "fineweb_line_punct_ratio": "line_punct_frac",
    "fineweb_dup_line_char_frac": "dup_line_char_frac",
    "fineweb_short_line_ratio": "short_line_frac",
    **{f"gopher_{k}": k for k in ("dup_para_frac", "dup_para_char_frac",
                                  "dup_line_frac", "dup_line_char_frac")},
}


def flat_signals(signals: dict) -> dict:
    """The numeric signals as one flat dict (the record's and metadata table's form):
    ``c4_lines_removed`` becomes ``c4_removed_<rule>``; ``skipped`` follows from the
    language and is left out."""
    flat = {k: v for k, v in signals.items() if k in QUALITY_SIGNALS}
    for rule, n in signals.get("c4_lines_removed", {}).items():
        flat[f"c4_removed_{rule}"] = n
    return flat


def quality(doc, config: QualityConfig = DEFAULT_CONFIG):
    """The stage function for a Beam shell: ``Document -> Document | (reason, detail)``.

    A kept document gets the filtered text in ``doc.text`` and the signals in
    ``doc.quality``; a rejected one returns its reason and, as detail, the value that
    decided (e.g. ``"words=12"``, ``"hash_word_ratio=0.2,ellipsis_word_ratio=0.0"``).
    """
    text, reason, signals = quality_filter(doc.text, doc.lang, config)
    doc.quality = flat_signals(signals)
    if reason is None:
        doc.text = text
        return doc
    if reason == "gopher_symbol_ratio":
        keys = ["hash_word_ratio", "ellipsis_word_ratio"]
    else:
        keys = [_deciding_signal(reason)]
    return reason, ",".join(f"{k}={signals[k]}" for k in keys if k in signals)


def _quality(doc, _resource, config: QualityConfig):
    return quality(doc, config)


class Quality(DocStage):
    """Beam shell around `quality`."""

    def __init__(self, config: QualityConfig = DEFAULT_CONFIG):
        super().__init__(STAGE, _quality, config)
