"""Every Quality rule just inside and just past its threshold.

Each case builds two texts that differ by one unit of the measured value (one word, one
line, one character): the first sits exactly on the default threshold and must not be
rejected by that rule (Gopher and C4 reject strictly beyond their limits, FineWeb at
them, see QualityConfig); the second is one unit past it and must be rejected under the
rule's own name. The measured value is checked too, so a rule that measured the wrong
thing would fail here even if the reasons happened to match.

Texts are built from seeded random filler words (letters only, no stop words), so no
n-gram repeats unless a case repeats one on purpose.
"""
import dataclasses
import random
import string
from fractions import Fraction

import pytest

from gristmill.transforms.quality import STOP_WORDS, quality_filter
from tests.test_quality import DEFAULT, off

EN_STOP = STOP_WORDS["en"]


class Filler:
    """Distinct random lowercase words of a given length, never a stop word."""

    def __init__(self, seed=0):
        self.rng = random.Random(seed)
        self.seen = set(EN_STOP)

    def word(self, length=None) -> str:
        while True:
            n = length or self.rng.randint(4, 7)
            w = "".join(self.rng.choice(string.ascii_lowercase) for _ in range(n))
            if w not in self.seen:
                self.seen.add(w)
                return w

    def words(self, n, length=None) -> list[str]:
        return [self.word(length) for _ in range(n)]


def sentence(words, end=".") -> str:
    return " ".join(words).capitalize() + end


def article(n_lines=10, per_line=10, seed=0, end=".") -> list[str]:
    """Clean lines of distinct words; the first line holds the stop words 'the' and 'and'."""
    f = Filler(seed)
    lines = []
    for i in range(n_lines):
        w = f.words(per_line)
        if i == 0:
            w[1], w[3] = "the", "and"
        lines.append(sentence(w, end))
    return lines


def with_stop_words(lines: list[str]) -> list[str]:
    """The lines with the stop words 'the' and 'and' in place of the first line's third word."""
    first = lines[0].split(" ")
    first[2] = "the and"
    return [" ".join(first)] + lines[1:]


def word_chars(text: str) -> int:
    """Characters of the words as Quality counts them for the n-gram rules (no punctuation)."""
    return sum(len(w.strip(".")) for w in text.split())


def check(rule, inside, past, config=DEFAULT, lang="en", signal=None, value=None):
    out, got, sig = quality_filter(inside, lang, config)
    assert got != rule, sig
    if signal is not None:
        assert sig[signal] == pytest.approx(value, abs=1e-4), sig
    out, got, sig = quality_filter(past, lang, config)
    assert got == rule, sig
    return sig


# ------------------------------------------------------------------ Gopher quality


def test_clean_base_article_passes():
    out, got, sig = quality_filter("\n".join(article()), "en")
    assert got is None, sig


def test_word_count_min():
    lines = article(5, 10)
    short = lines[:-1] + [" ".join(lines[-1].split()[1:])]
    sig = check("gopher_word_count", "\n".join(lines), "\n".join(short), signal="words", value=50)
    assert sig["words"] == 49


def test_word_count_max():
    lines = article(10_000, 10)
    sig = check("gopher_word_count", "\n".join(lines), "\n".join(lines + ["Extra"]),
                config=off("c4_min_words_per_line"), signal="words", value=100_000)
    assert sig["words"] == 100_001


def test_mean_word_length_min():
    f = Filler()
    w = f.words(50, length=3)
    w[1], w[3] = "the", "and"
    lines = [sentence(w[i:i + 10]) for i in range(0, 50, 10)]
    past = list(lines)
    past[-1] = past[-1].replace(w[-1], f.word(2))
    check("gopher_mean_word_length", "\n".join(lines), "\n".join(past),
          signal="mean_word_length", value=3.0)


def test_mean_word_length_max():
    f = Filler()
    # 'the' + 'and' (6 chars) + 46 x 10 + 2 x 17 = 500 characters in 50 words: mean 10.0
    w = ["the", "and"] + f.words(46, length=10) + f.words(2, length=17)
    lines = [sentence(w[i:i + 10]) for i in range(0, 50, 10)]
    past = list(lines)
    past[-1] = past[-1].replace(w[-1], w[-1] + "q")
    check("gopher_mean_word_length", "\n".join(lines), "\n".join(past),
          signal="mean_word_length", value=10.0)


@pytest.mark.parametrize("symbol", ["#", "..."])
def test_symbol_word_ratio(symbol):
    lines = article(10, 10)  # 100 words

    def mark(k):  # the symbol on word 5 of every line, and on word 7 of the first k lines
        out = []
        for i, ln in enumerate(lines):
            w = ln.split()
            for j in [4] + ([6] if i < k else []):
                w[j] = "#" + w[j] if symbol == "#" else w[j] + "..."  # mid-line
            out.append(" ".join(w))
        return "\n".join(out)

    key = "hash_word_ratio" if symbol == "#" else "ellipsis_word_ratio"
    sig = check("gopher_symbol_ratio", mark(0), mark(1), signal=key, value=0.1)
    assert sig[key] == 0.11


def test_bullet_lines():
    lines = article(10, 10)
    inside = ["• " + ln for ln in lines[:9]] + lines[9:]
    past = ["• " + ln for ln in lines]
    sig = check("gopher_bullet_lines", "\n".join(inside), "\n".join(past),
                signal="bullet_line_frac", value=0.9)
    assert sig["bullet_line_frac"] == 1.0


def test_ellipsis_lines():
    # with C4's ellipsis line rule on (the default) no kept line ends in one
    cfg = dataclasses.replace(DEFAULT, c4_drop_ellipsis_lines=False)
    lines = article(10, 10)
    inside = [ln[:-1] + "..." if i < 3 else ln for i, ln in enumerate(lines)]
    past = [ln[:-1] + "..." if i < 4 else ln for i, ln in enumerate(lines)]
    sig = check("gopher_ellipsis_lines", "\n".join(inside), "\n".join(past), config=cfg,
                signal="ellipsis_line_frac", value=0.3)
    assert sig["ellipsis_line_frac"] == 0.4


def test_alpha_words():
    lines = article(10, 10)
    rng = random.Random(1)

    def digits(k):
        words = [ln.split() for ln in lines]
        flat = [(i, j) for i in range(len(words)) for j in range(len(words[i]))][::-1][:k]
        for i, j in flat:
            end = "." if words[i][j].endswith(".") else ""
            words[i][j] = str(rng.randint(1000, 9999)) + end
        return "\n".join(" ".join(w) for w in words)

    sig = check("gopher_alpha_words", digits(20), digits(21), signal="alpha_word_frac", value=0.8)
    assert sig["alpha_word_frac"] == 0.79


def test_stop_words():
    lines = article(10, 10)
    past = [lines[0].replace(" and ", " " + Filler(9).word() + " ")] + lines[1:]
    sig = check("gopher_stop_words", "\n".join(lines), "\n".join(past), signal="stop_words", value=2)
    assert sig["stop_words"] == 1


# ------------------------------------------------------------------ C4 page rules


def test_too_few_sentences():
    f = Filler()
    three = [sentence(f.words(20)) for _ in range(3)]
    three = with_stop_words(three)
    two = [sentence(f.words(30)) for _ in range(2)]
    two = with_stop_words(two)
    sig = check("c4_too_few_sentences", "\n".join(three), "\n".join(two),
                signal="c4_sentences", value=3)
    assert sig["c4_sentences"] == 2


# -------------------------------------------------------------- C4 line rules


def test_min_words_per_line():
    lines = article(10, 10)
    five, four = "Alpha beta gamma delta epsilon.", "Alpha beta gamma delta."
    _, _, sig = quality_filter("\n".join(lines + [five]), "en")
    assert sig["c4_lines_removed"] == {} and sig["c4_lines_kept"] == 11
    _, _, sig = quality_filter("\n".join(lines + [four]), "en")
    assert sig["c4_lines_removed"] == {"too_few_words": 1} and sig["c4_lines_kept"] == 10


def test_max_word_length():
    lines = article(10, 10)
    _, _, sig = quality_filter("\n".join(lines + ["Some words then " + "x" * 1000 + " end."]), "en")
    assert sig["c4_lines_removed"] == {} and sig["c4_lines_kept"] == 11
    _, _, sig = quality_filter("\n".join(lines + ["Some words then " + "x" * 1001 + " end."]), "en")
    assert sig["c4_lines_removed"] == {"long_word": 1}


# ------------------------------------------------------------- Gopher repetition


def line_of(chars: int, f: Filler) -> str:
    """A sentence of filler words with exactly `chars` characters."""
    words = []
    while len(sentence(words + ["x" * 6])) + 6 < chars:
        words.append(f.word())
    last = chars - len(sentence(words)) - (1 if words else 0)
    line = sentence(words + [f.word(last)])
    assert len(line) == chars
    return line


def repeated_line(n_unique: int, sep: str):
    """(text(U), L): a line of L characters twice among `n_unique` unique lines (joined
    by `sep`) whose characters total exactly U."""
    f = Filler()
    rep = sentence(f.words(10))
    uniq = with_stop_words([sentence(f.words(10)) for _ in range(n_unique - 1)])

    def text(U):
        body = uniq + [line_of(U - sum(map(len, uniq)), Filler(7))]
        assert sum(map(len, body)) == U
        return sep.join(body[:1] + [rep] + body[1:] + [rep])

    return text, len(rep)


@pytest.mark.parametrize("unit", ["para", "line"])
def test_dup_char_frac(unit):
    """A repeated paragraph (or line) of L characters among U unique ones: L / (U + 2L)."""
    text, L = repeated_line(3, "\n\n" if unit == "para" else "\n")

    # 0.2 exactly at U = 3L; one character less is past it
    sig = check(f"gopher_dup_{unit}_char_frac", text(3 * L), text(3 * L - 1),
                signal=f"dup_{unit}_char_frac", value=0.2)
    assert sig[f"dup_{unit}_char_frac"] > 0.2


@pytest.mark.parametrize("unit", ["para", "line"])
def test_dup_frac(unit):
    """Unique paragraphs of 3 long lines (or unique long lines) and a short one repeated."""
    f = Filler()
    if unit == "para":
        sep, uniq = "\n\n", ["\n".join(sentence(f.words(12)) for _ in range(3)) for _ in range(69)]
    else:
        sep, uniq = "\n", [sentence(f.words(15)) for _ in range(69)]
    uniq = with_stop_words(uniq)
    short = sentence(f.words(5))
    inside = uniq + [short] * 31  # 100 items, 30 repeat an earlier one
    past = uniq + [short] * 32    # 101 items, 31 repeats
    sig = check(f"gopher_dup_{unit}_frac", sep.join(inside), sep.join(past),
                signal=f"dup_{unit}_frac", value=0.3)
    assert sig[f"dup_{unit}_frac"] == round(31 / 101, 4)


def ngram_text(n: int, copies: int, frac: float, f: Filler, delta: int = 0) -> str:
    """Unique filler words with one n-word phrase repeated `copies` times, each copy in
    its own line between two new words on each side; the word characters total exactly
    C / frac (+ delta), C being the characters of the copies."""
    p = Fraction(frac).limit_denominator(1000).numerator
    phrase = f.words(n)
    while (copies * sum(map(len, phrase))) % p:  # C / frac must be a whole number
        phrase[-1] += "q"
    covered = copies * sum(map(len, phrase))
    total = covered * Fraction(frac).limit_denominator(1000).denominator // p
    assert covered / total == frac
    total += delta
    lines = [["the", "and"] + f.words(4)]
    lines += [f.words(2) + phrase + f.words(2) for _ in range(copies)]
    have = sum(len(w) for ln in lines for w in ln)
    while total - have >= 130:
        lines.append(f.words(10))
        have += sum(map(len, lines[-1]))
    rest = total - have
    assert rest >= 25, rest
    last = f.words(4, length=rest // 5)
    lines.append(last + [f.word(rest - sum(map(len, last)))])
    text = "\n".join(sentence(ln) for ln in lines)
    assert word_chars(text) == total, (word_chars(text), total)
    return text


TOP = [(2, 0.20), (3, 0.18), (4, 0.16)]
DUP = [(5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10)]
NGRAMS = [("top", n, t) for n, t in TOP] + [("dup", n, t) for n, t in DUP]


@pytest.mark.parametrize("kind,n,limit", NGRAMS, ids=[f"{k}_{n}gram" for k, n, _ in NGRAMS])
def test_ngram_coverage(kind, n, limit):
    """top: the most frequent n-gram, 8 copies; dup: one n-word phrase twice, so every
    m-gram with m <= n covers it and none longer does. Exactly `limit` of the word
    characters, then one character fewer in all."""
    copies = 8 if kind == "top" else 2
    inside = ngram_text(n, copies, limit, Filler(n))
    past = ngram_text(n, copies, limit, Filler(n), delta=-1)
    key = f"{kind}_{n}gram_char_frac"
    sig = check(f"gopher_{kind}_{n}gram", inside, past, signal=key, value=limit)
    assert sig[key] > limit


# ------------------------------------------------------------------------ FineWeb


def test_line_punct_ratio():
    """FineWeb rejects at <= 0.12 of lines ending in punctuation: 13 of 100 is kept."""
    lines = article(100, 8, end="")
    inside = [ln + "." if i < 13 else ln for i, ln in enumerate(lines)]
    past = [ln + "." if i < 12 else ln for i, ln in enumerate(lines)]
    sig = check("fineweb_line_punct_ratio", "\n".join(inside), "\n".join(past),
                signal="line_punct_frac", value=0.13)
    assert sig["line_punct_frac"] == 0.12


def test_fineweb_dup_line_char_frac():
    """Rejects at >= 0.1 of characters in repeated lines (Gopher's n-gram rules, which
    usually decide first for a spaced language, are off here)."""
    cfg = off(*(f"gopher_max_dup_{n}gram_char_frac" for n, _ in DUP))
    text, L = repeated_line(8, "\n")

    # L / (U + 2L) = 0.1 at U = 8L: rejected there; one character more is just below
    _, got, sig = quality_filter(text(8 * L + 1), "en", cfg)
    assert got is None and sig["dup_line_char_frac"] < 0.1, sig
    _, got, sig = quality_filter(text(8 * L), "en", cfg)
    assert got == "fineweb_dup_line_char_frac" and sig["dup_line_char_frac"] == 0.1, sig


def test_short_line_ratio():
    """Rejects at >= 0.67 of lines under 30 characters: 66 of 100 is kept."""
    f = Filler()
    long = [sentence(f.words(8)) for _ in range(34)]
    long = with_stop_words(long)
    short = [sentence(f.words(5, length=3)) for _ in range(67)]
    assert all(len(s) < 30 for s in short) and all(len(s) >= 30 for s in long)
    sig = check("fineweb_short_line_ratio", "\n".join(long + short[:66]),
                "\n".join(long[:33] + short), signal="short_line_frac", value=0.66)
    assert sig["short_line_frac"] == 0.67


def test_short_line_is_under_30_characters():
    cfg = dataclasses.replace(DEFAULT, fineweb_max_short_line_frac=0.5)
    body = article(10, 10)
    line30, line29 = "Abcd efgh ijkl mnop qrst uvwxy", "Abcd efgh ijkl mnop qrst uvwx"
    assert (len(line30), len(line29)) == (30, 29)
    _, _, sig = quality_filter("\n".join(body + [line30]), "en", cfg)
    assert sig["short_line_frac"] == 0.0
    _, _, sig = quality_filter("\n".join(body + [line29]), "en", cfg)
    assert sig["short_line_frac"] == round(1 / 11, 4)


# ------------------------------------------------------- languages without spaces


def test_chinese_word_count_on_units():
    """Chinese has 1.74 characters per word: 87 characters are 50.0 words, 86 are 49.4."""
    rng = random.Random(3)
    han = [chr(c) for c in rng.sample(range(0x4E00, 0x9FA5), 400)]
    units = ["的", "是"] + [h for h in han if h not in STOP_WORDS["zh"]][:85]

    def text(k):
        u = units[:k]
        return "\n".join("".join(u[i:i + 29]) + "。" for i in range(0, k, 29))

    sig = check("gopher_word_count", text(87), text(86), lang="zh", signal="words", value=50.0)
    assert sig["words"] == round(86 / 1.74, 4)
