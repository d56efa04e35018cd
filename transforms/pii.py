"""PII scrubbing: presidio pattern recognizers find, presidio-anonymizer replaces.

Pure logic, no Beam. A :class:`PiiScrubber` is heavy to build (presidio imports spaCy,
the suffix list is parsed once): build one per worker (``DoFn.setup``) and reuse it.

What it does
  * Finds e-mail addresses, phone numbers, credit cards (Luhn), IBANs (checksum), IP
    addresses and US SSNs with presidio-analyzer's own pattern recognizers, on the
    no-op NLP engine: no spaCy model is loaded or needed. Users who have spaCy (or
    stanza/transformers) models can pass ``nlp_configuration`` (presidio's
    ``NlpEngineProvider`` format) and ask for NER entities such as ``PERSON``.
  * Replaces every finding with a type placeholder (``<EMAIL_ADDRESS>``) through
    presidio-anonymizer's ``replace`` operator and counts the findings per type.

Languages
  The pattern recognizers are language-agnostic (regexes + checksums +
  ``phonenumbers``), but presidio keys every recognizer by a language code. They are
  registered for one language (``language``, "en" by default) and every text is
  analysed with that code whatever its real language (de, fr, es, ... text is kept by
  the pipeline): the findings are the same. With a user ``nlp_configuration`` naming
  several models, ``scrub(text, language=...)`` picks the model per text.

Overlaps
  Findings that overlap are merged before replacement into one finding covering their
  union (so no flagged character survives), typed by the longest member (then the
  higher score, then the order of ``DEFAULT_ENTITIES``). For equal spans and contained
  spans this is what presidio-anonymizer's default conflict resolution does (highest
  score wins / container wins); doing it here as well means the anonymizer receives
  non-overlapping spans, so ``find`` returns exactly the spans ``scrub`` replaces (one
  placeholder each, counted once). Same-type findings separated only by spaces are
  kept apart (``merge_entities_with_spaces=False``), so "a@x.org b@y.org" becomes
  "<EMAIL_ADDRESS> <EMAIL_ADDRESS>" with a count of 2.

Offline
  presidio's ``EmailRecognizer.validate_result`` calls the module-level
  ``tldextract.extract``, whose default extractor downloads the Public Suffix List on
  first use (with no timeout) and caches it under ``~/.cache``. The scrubber uses a
  subclass whose validation calls a private ``tldextract.TLDExtract(suffix_list_urls=(),
  cache_dir=None)``: no URL is tried, nothing is cached on disk, the suffix list
  snapshot bundled with tldextract is used. tldextract's global extractor is left
  untouched.
"""
from __future__ import annotations

import collections
import dataclasses
import functools
import re
from typing import Any, Iterable, Mapping, Optional

from gristmill.transforms.phone import may_keep, plausible_phone
from gristmill.transforms.stage import DocStage
from gristmill.transforms.suffixes import offline_tld_extract

STAGE = "pii"

DEFAULT_ENTITIES = ("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS", "US_SSN")

# Presidio scores: IP 0.6, e-mail/IBAN/credit card 1.0 once validated, SSN 0.5 for the
# NNN-NN-NNNN form, phone 0.4. The SSN recognizer also has "very weak" 0.05 patterns
# (any 9-digit number, NNNNN-NNNN) that would scrub order numbers and ZIP+4 codes;
# 0.3 drops those and nothing else (same P/R as 0.0 on presidio's synthetic set).
DEFAULT_SCORE_THRESHOLD = 0.3

# Which presidio pattern recognizer finds which entity (class names in
# presidio_analyzer.predefined_recognizers). EMAIL_ADDRESS uses the offline subclass.
_PATTERN_RECOGNIZERS = {
    "EMAIL_ADDRESS": None,
    "PHONE_NUMBER": "PhoneRecognizer",
    "CREDIT_CARD": "CreditCardRecognizer",
    "IBAN_CODE": "IbanRecognizer",
    "IP_ADDRESS": "IpRecognizer",
    "US_SSN": "UsSsnRecognizer",
}
PATTERN_ENTITIES = tuple(_PATTERN_RECOGNIZERS)


OPERATORS = ("replace", "mask", "hash", "fake")
# "fake": one fixed value per type, from ranges reserved for documentation and tests
FAKE_VALUES = {
    "EMAIL_ADDRESS": "user@example.com", "PHONE_NUMBER": "+1 202 555 0100", "CREDIT_CARD": "4000 0000 0000 0002",
    "IBAN_CODE": "GB00 TEST 0000 0000 0000 00", "IP_ADDRESS": "192.0.2.1", "US_SSN": "000-00-0000",
    "PERSON": "Alex Doe", "LOCATION": "Springfield",
}


def operators(operator: str, salt: Optional[str], entities: Iterable[str], operator_config) -> dict:
    """presidio-anonymizer operators: replace (``<TYPE>``), mask (``*`` for every
    character), hash (salted SHA-256: the same value gives the same hash in every run
    with the same salt), fake (FAKE_VALUES)."""
    if operator == "replace":
        return {"DEFAULT": operator_config("replace")}
    if operator == "mask":
        return {"DEFAULT": operator_config("mask", {"masking_char": "*", "chars_to_mask": 1 << 20, "from_end": False})}
    if operator == "hash":
        if not salt or len(salt.encode()) < 16:
            raise ValueError("the hash operator needs a salt of at least 16 bytes (a random one would make "
                             "runs differ)")
        return {"DEFAULT": operator_config("hash", {"hash_type": "sha256", "salt": salt})}
    if operator == "fake":
        return {"DEFAULT": operator_config("replace"),
                **{e: operator_config("replace", {"new_value": FAKE_VALUES[e]}) for e in entities if e in FAKE_VALUES}}
    raise ValueError(f"operator {operator!r}: must be one of {', '.join(OPERATORS)}")


@dataclasses.dataclass(frozen=True, slots=True)
class PiiFinding:
    """One span that ``scrub`` replaces: text[start:end] -> ``<entity_type>``."""
    entity_type: str
    start: int
    end: int
    score: float


@functools.lru_cache(maxsize=1)
def _offline_email_recognizer_class():
    from presidio_analyzer.predefined_recognizers import EmailRecognizer

    class OfflineEmailRecognizer(EmailRecognizer):
        """presidio's EmailRecognizer, validating the domain with the offline extractor."""

        def validate_result(self, pattern_text: str) -> bool:
            return offline_tld_extract()(pattern_text).fqdn != ""

    return OfflineEmailRecognizer


# Card numbers presidio's CreditCardRecognizer misses (19-digit Visa, Mastercard's 2-series,
# 15-digit JCB 2131/1800, 12-19 digit Maestro, UnionPay): IIN prefix + length + Luhn.
# Numbers shorter than 15 digits also need a card word nearby (order and tracking numbers).
_CARD_PREFIXES = (  # (first digits from, to, lengths): a number's leading digits in [from, to]
    ("4", "4", (13, 16, 19)), ("2221", "2720", (16,)), ("51", "55", (16,)), ("34", "34", (15,)),
    ("37", "37", (15,)), ("300", "305", (14, 15, 16)), ("36", "36", (14, 15, 16)), ("38", "39", (14, 15, 16)),
    ("6011", "6011", (16, 17, 18, 19)), ("644", "649", (16, 17, 18, 19)), ("65", "65", (16, 17, 18, 19)),
    ("3528", "3589", (16, 17, 18, 19)), ("2131", "2131", (15,)), ("1800", "1800", (15,)),
    ("50", "50", tuple(range(12, 20))), ("56", "69", tuple(range(12, 20))), ("62", "62", (16, 17, 18, 19)),
)
CARD_WORDS = ("card", "credit", "debit", "visa", "mastercard", "maestro", "amex", "jcb", "diners", "discover",
              "unionpay", "payment", "cc", "karte", "kreditkarte", "carte", "tarjeta", "cartão", "carta")


def card_number_ok(digits: str, context: str = "") -> bool:
    """IIN prefix and length of a known scheme, Luhn checksum, and for fewer than 15
    digits a card word in `context`."""
    if not any(lo <= digits[:len(lo)] <= hi and len(digits) in lengths for lo, hi, lengths in _CARD_PREFIXES):
        return False
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    if total % 10:
        return False
    return len(digits) >= 15 or any(w in CARD_WORDS for w in re.findall(r"[^\W\d_]+", context.lower())[-5:])


@functools.lru_cache(maxsize=1)
def _card_recognizer_class():
    from presidio_analyzer import EntityRecognizer, RecognizerResult

    class CardRecognizer(EntityRecognizer):
        """Card numbers by scheme prefix, length and Luhn (see card_number_ok)."""
        PATTERN = re.compile(r"(?<![\d-])\d(?:[ -]?\d){11,18}(?![\d-])")

        def __init__(self, supported_language: str = "en"):
            super().__init__(supported_entities=["CREDIT_CARD"], supported_language=supported_language,
                             name="CardRecognizer")

        def load(self) -> None:
            pass

        def analyze(self, text, entities, nlp_artifacts=None):
            out = []
            for m in self.PATTERN.finditer(text):
                digits = re.sub(r"\D", "", m.group(0))
                if card_number_ok(digits, text[max(0, m.start() - 40):m.start()]):
                    out.append(RecognizerResult("CREDIT_CARD", m.start(), m.end(), 1.0))
            return out

    return CardRecognizer


# Fast path. A recognizer runs only where a finding of its kind is possible: every
# pattern below is a necessary condition of that recognizer's own patterns (checked on
# presidio 2.2.366's: tests compare the fast and the full path on every text of the
# shared synthetic set, the real articles and the generated crawl).
_NEEDS = {
    "EMAIL_ADDRESS": re.compile("@"),
    "CREDIT_CARD": re.compile(r"\d(?:[ -]?\d){11}"),
    "IBAN_CODE": re.compile(r"[A-Z][A-Z][0-9][0-9]"),  # (re scans this form twice as fast)
    "IP_ADDRESS": re.compile(r"::|[0-9A-Fa-f]:[0-9A-Fa-f]|\d\.\d{1,3}\.\d"),
    "US_SSN": re.compile(r"\b\d{3}(?:[- .]?\d{2}[- .]?\d{4}|\d{2}-\d{4}|-\d{6})"),  # each pattern starts \b
}
_REACH = 64  # no finding of these types ends further than this past its seed's start


def _word_start(text: str, i: int) -> int:
    """Just after the last space or newline before i: a cut there keeps words and
    word boundaries whole."""
    return max(text.rfind(" ", 0, i), text.rfind("\n", 0, i)) + 1


def _word_end(text: str, i: int) -> int:
    """The first space or newline at or after i (or the end)."""
    ends = [j for j in (text.find(" ", i), text.find("\n", i)) if j >= 0]
    return min(ends) if ends else len(text)


def seed_windows(text: str, seed, before: int = 0) -> list[tuple[int, int]]:
    """Windows around each match of `seed` (a necessary part of any finding): from the
    start of the word `before` characters ahead of it (the context a recognizer reads)
    to _REACH characters past it, then to the end of that word."""
    windows: list[tuple[int, int]] = []
    for m in seed.finditer(text):
        a = _word_start(text, max(0, m.start() - before))
        b = _word_end(text, min(len(text), max(m.end(), m.start() + _REACH)))
        if windows and a <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(b, windows[-1][1]))
        else:
            windows.append((a, b))
    return windows


# Phone numbers (libphonenumber's matcher, the costly part: about 0.4 ms per digit run)
# are looked for only in windows around runs of digits and phone punctuation holding 7
# digits or more, which every phone the phone rule keeps has (transforms/phone.py).
_PHONE_RUN = re.compile(r"[+(]?\d(?:[\d().+\- \t]*\d)?\)?")


def phone_windows(text: str) -> list[tuple[int, int]]:
    """(start, end) of the windows phone numbers are looked for in: each run of digits and
    phone punctuation with 7 to 15 digits (or more with separators: a run of more than 15
    bare digits holds no phone the rule keeps), from the start of its first word to two
    words past its end (an extension: "ext. 12", "x769"), cut at spaces."""
    windows: list[tuple[int, int]] = []
    for m in _PHONE_RUN.finditer(text):
        run = m.group(0)
        digits = sum(c.isdigit() for c in run)
        if digits < 7 or (digits > 15 and digits == len(run)):  # too few; or a bare card-length number
            continue
        a, b = _word_start(text, m.start()), m.end()
        for _ in range(3):  # to the end of the run's word, then two more words
            b = _word_end(text, b)
            if _ < 2:
                while b < len(text) and text[b] in " \t":
                    b += 1
        if windows and a <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(b, windows[-1][1]))
        else:
            windows.append((a, b))
    return windows


def ner_configuration(model: str, language: str = "en") -> dict:
    """presidio's NlpEngineProvider configuration for one installed spaCy model."""
    return {"nlp_engine_name": "spacy", "models": [{"lang_code": language, "model_name": model}]}


def check_ner_models(config: Mapping[str, Any]) -> None:
    """A spaCy model presidio would download on first use (spacy.cli.download, from
    GitHub) must be installed already: say which one is missing instead."""
    import importlib.util

    if config.get("nlp_engine_name") != "spacy":
        return
    for m in config.get("models", []):
        name = m.get("model_name", "")
        if not name or importlib.util.find_spec(name.replace("-", "_")) is None:
            raise ValueError(f"spaCy model {name!r} is not installed (spaCy models are not on PyPI: "
                             f"`python -m spacy download {name}` where the network allows, or pip install its "
                             "wheel); PERSON and LOCATION need it, the pattern types do not")


def _plausible(results, text):
    """Phone findings that look like phone numbers (transforms/phone.py), others as they are."""
    for r in results:
        if r.entity_type != "PHONE_NUMBER":
            yield r
            continue
        span = plausible_phone(text, r.start, r.end)
        if span:
            yield PiiFinding(r.entity_type, span[0], span[1], float(r.score))


def _pattern_recognizer(entity: str, language: str):
    if entity == "EMAIL_ADDRESS":
        cls = _offline_email_recognizer_class()
    else:
        from presidio_analyzer import predefined_recognizers

        cls = getattr(predefined_recognizers, _PATTERN_RECOGNIZERS[entity])
    return cls(supported_language=language)


def _recognizers(entity: str, language: str) -> list:
    extra = [_card_recognizer_class()(supported_language=language)] if entity == "CREDIT_CARD" else []
    return [_pattern_recognizer(entity, language)] + extra


def resolve_overlaps(findings: Iterable[Any], entity_order: Iterable[str] = DEFAULT_ENTITIES) -> list[PiiFinding]:
    """Merge overlapping findings (anything with entity_type/start/end/score).

    Each group of transitively overlapping findings becomes one finding spanning their
    union, typed by its longest member, then the highest score, then ``entity_order``.
    Touching spans (end == start) do not overlap. Returns findings sorted by start.
    """
    rank = {e: i for i, e in enumerate(entity_order)}
    items = sorted(findings, key=lambda r: (r.start, -r.end))
    out: list[PiiFinding] = []
    group: list[Any] = []
    group_end = -1

    def flush() -> None:
        if not group:
            return
        best = max(group, key=lambda r: (r.end - r.start, r.score, -rank.get(r.entity_type, len(rank))))
        out.append(PiiFinding(best.entity_type, group[0].start, group_end, float(best.score)))

    for r in items:
        if r.end <= r.start:
            continue
        if group and r.start < group_end:
            group.append(r)
            group_end = max(group_end, r.end)
        else:
            flush()
            group = [r]
            group_end = r.end
    flush()
    return out


class PiiScrubber:
    """Find PII with presidio pattern recognizers and replace it by ``<ENTITY_TYPE>``.

    :param entities: entity types to find. The pattern ones are ``PATTERN_ENTITIES``;
        NER types (``PERSON``, ...) need an ``nlp_configuration`` whose engine has them.
    :param language: the language code the recognizers are registered for and every
        text is analysed with (see the module docstring: the patterns ignore it).
    :param score_threshold: minimum presidio score of a finding (``None``: presidio's
        per-recognizer defaults).
    :param nlp_configuration: ``NlpEngineProvider`` configuration, e.g. ``{"nlp_engine_name":
        "spacy", "models": [{"lang_code": "en", "model_name": "en_core_web_lg"}]}``.
        Default: presidio's no-op engine for ``language`` (no model is loaded).
    """

    def __init__(
        self,
        entities: Iterable[str] = DEFAULT_ENTITIES,
        language: str = "en",
        score_threshold: Optional[float] = DEFAULT_SCORE_THRESHOLD,
        nlp_configuration: Optional[Mapping[str, Any]] = None,
        phone_rule: bool = True,
        operator: str = "replace",
        salt: Optional[str] = None,
    ):
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import NlpEngineProvider, NoOpNlpEngine
        from presidio_anonymizer import AnonymizerEngine
        from presidio_anonymizer.entities import OperatorConfig

        entities = tuple(dict.fromkeys(entities))
        if not entities:
            raise ValueError("entities must not be empty")
        self.entities = entities
        self.language = language
        self.score_threshold = score_threshold
        self.nlp_configuration = dict(nlp_configuration) if nlp_configuration is not None else None
        self.phone_rule = phone_rule
        self.operator, self.salt = operator, salt

        config = self.nlp_configuration or {
            "nlp_engine_name": "no_op",
            "models": [{"lang_code": language, "model_name": "none"}],
        }
        check_ner_models(config)
        nlp_engine = NlpEngineProvider(nlp_configuration=config).create_engine()
        languages = list(nlp_engine.get_supported_languages())
        if language not in languages:
            raise ValueError(f"language {language!r} is not one of the NLP engine's languages {languages}")

        pattern_entities = [e for e in entities if e in _PATTERN_RECOGNIZERS]
        recognizers = [r for lang in languages for e in pattern_entities for r in _recognizers(e, lang)]
        registry = RecognizerRegistry(recognizers=recognizers, supported_languages=languages)
        available = set(pattern_entities)
        if not isinstance(nlp_engine, NoOpNlpEngine):
            registry.add_nlp_recognizer(nlp_engine=nlp_engine)
            available |= set(nlp_engine.get_supported_entities())
        unknown = [e for e in entities if e not in available]
        if unknown:
            raise ValueError(
                f"no recognizer for {unknown}: pattern entities are {list(PATTERN_ENTITIES)}, "
                "NER entities need an nlp_configuration whose engine provides them"
            )
        if not recognizers and isinstance(nlp_engine, NoOpNlpEngine):
            raise ValueError("no recognizer selected")

        self._analyzer = AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=languages)
        # the fast path stands in for the pattern recognizers on the no-op engine only
        self._fast_ok = isinstance(nlp_engine, NoOpNlpEngine) and score_threshold is not None
        self._recognizers = None
        self._anonymizer = AnonymizerEngine()
        self._operators = operators(operator, salt, entities, OperatorConfig)
        if "EMAIL_ADDRESS" in entities:
            offline_tld_extract()("warm.example.com")  # parse the suffix list now, not on the first e-mail

    def __reduce__(self):
        # Rebuilt from its arguments when unpickled (e.g. shipped inside a DoFn).
        return (type(self), (self.entities, self.language, self.score_threshold, self.nlp_configuration,
                             self.phone_rule, self.operator, self.salt))

    def _fast(self, text: str, language: str) -> list:
        """What AnalyzerEngine.analyze returns, with each recognizer run only where it can
        find something (see _NEEDS, phone_windows)."""
        from presidio_analyzer import EntityRecognizer

        if self._recognizers is None:
            self._recognizers = self._analyzer.registry.get_recognizers(
                language=language, entities=list(self.entities), all_fields=False)
            self._no_artifacts = self._analyzer.nlp_engine.process_text("", language)
        results = []
        for rec in self._recognizers:
            kind = rec.supported_entities[0]
            if kind == "PHONE_NUMBER":  # the windows hold what the phone rule can keep
                windows = ([w for w in phone_windows(text) if may_keep(text, *w)] if self.phone_rule
                           else [(0, len(text))])
            elif kind in _NEEDS:  # CardRecognizer reads 40 characters before a number
                windows = seed_windows(text, _NEEDS[kind], before=48 if kind == "CREDIT_CARD" else 0)
            else:
                windows = [(0, len(text))]
            for a, b in windows:
                for r in rec.analyze(text=text[a:b], entities=list(self.entities), nlp_artifacts=self._no_artifacts):
                    r.start, r.end = r.start + a, r.end + a
                    results.append(r)
        results = [r for r in results if r.score >= self.score_threshold]
        return EntityRecognizer.remove_duplicates(results)

    def find(self, text: str, language: Optional[str] = None, fast: bool = True) -> list[PiiFinding]:
        """The non-overlapping findings that ``scrub`` replaces, sorted by start.
        ``fast=False``: presidio's AnalyzerEngine on the whole text (same findings)."""
        if not text:
            return []
        language = language or self.language
        if fast and self._fast_ok and language == self.language:
            results = self._fast(text, language)
        else:
            results = self._analyzer.analyze(text=text, language=language, entities=list(self.entities),
                                             score_threshold=self.score_threshold)
        if self.phone_rule:
            results = list(_plausible(results, text))
        return resolve_overlaps(results, self.entities)

    def scrub(self, text: str, language: Optional[str] = None) -> tuple[str, dict[str, int]]:
        """Return (text with each finding replaced by ``<ENTITY_TYPE>``, {entity type: count}).

        Only types found appear in the counts; a text without PII comes back unchanged
        (the same object) with ``{}``.
        """
        findings = self.find(text, language)
        if not findings:
            return text, {}
        from presidio_anonymizer.entities import RecognizerResult

        result = self._anonymizer.anonymize(
            text=text,
            analyzer_results=[RecognizerResult(f.entity_type, f.start, f.end, f.score) for f in findings],
            operators=dict(self._operators),
            merge_entities_with_spaces=False,
        )
        counts = collections.Counter(item.entity_type for item in result.items)
        return result.text, dict(sorted(counts.items()))


@dataclasses.dataclass(frozen=True)
class PiiConfig:
    entities: tuple = DEFAULT_ENTITIES
    score_threshold: float = DEFAULT_SCORE_THRESHOLD
    operator: str = "replace"
    salt: Optional[str] = None
    max_findings: int = 0            # > 0: a document with more findings is dropped (Dolma-style)
    phone_rule: bool = True
    nlp_configuration: str = ""      # JSON of an NlpEngineProvider configuration (NER); "" = no-op


def pii_scrub(doc, scrubber: PiiScrubber, config: PiiConfig = PiiConfig()):
    """The stage function: replace the findings in doc.text, count them per type; or
    drop a document with more than ``max_findings`` findings."""
    text, counts = scrubber.scrub(doc.text)
    found = sum(counts.values())
    if config.max_findings and found > config.max_findings:
        return "too_much_pii", f"{found} findings ({', '.join(f'{k} {v}' for k, v in counts.items())})"
    doc.text, doc.pii = text, counts
    return doc


def _load(config: PiiConfig) -> PiiScrubber:
    import json

    return PiiScrubber(config.entities, score_threshold=config.score_threshold, phone_rule=config.phone_rule,
                       operator=config.operator, salt=config.salt,
                       nlp_configuration=json.loads(config.nlp_configuration) if config.nlp_configuration else None)


class PiiScrub(DocStage):
    """Beam shell: the presidio engines are built once per worker process."""

    def __init__(self, config: PiiConfig = PiiConfig()):
        super().__init__(STAGE, pii_scrub, config, load=_load)
