"""TrainTokenizer and Tokenize: sentencepiece BPE with Llama-family options.

Plain functions: `training_lines` (split text to respect max_sentence_length),
`train_bpe` (model bytes from lines), `encode_docs` ([BOS] ids [EOS] per text).
Beam: a deterministic sample (the documents with the smallest id hashes, bounded in
count and in bytes) is gathered on one worker to train; the model bytes reach the
shard writer (transforms/shards.py) as a side input, where each worker loads the
processor once and encodes a shard's documents in one batch.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import logging
import os
import re
from typing import Iterable, Iterator, NamedTuple

import apache_beam as beam
import numpy as np
import sentencepiece as spm

from gristmill.transforms.document import id_fraction
from gristmill.transforms.stage import TIMES, Counted

STAGE = "tokenize"
TRAIN_STAGE = "train_tokenizer"  # not a stage of the funnel (it drops nothing): its times only
UNK, BOS, EOS, PAD = 0, 1, 2, 3
log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class TokenizerConfig:
    vocab_size: int = 32000
    sample_docs: int = 200_000          # documents gathered for training (smallest id hashes)
    sample_bytes: int = 32 << 20        # and at most this much of their text (UTF-8)
    max_sentence_length: int = 4192     # bytes; sentencepiece skips longer lines, so we split
    input_sentence_size: int = 5_000_000
    character_coverage: float = 0.9995
    model_path: str = ""                # a user-given .model skips training
    val_fraction: float = 0.01
    # sentencepiece cuts its training work into this many parts and runs them on that many
    # threads: the model depends on the number (not on the machine), so it is a fixed,
    # recorded setting; 16 uses every core of most workers and gives the same model on all
    num_threads: int = 16


def training_lines(text: str, max_bytes: int = 4192) -> Iterator[str]:
    """Non-empty lines of text, long ones cut at whitespace into pieces under max_bytes."""
    for line in text.splitlines():
        line = line.strip()
        while len(line.encode()) > max_bytes:
            cut = line.encode()[:max_bytes].decode("utf-8", errors="ignore")
            space = cut.rfind(" ")
            if space > len(cut) // 2:
                cut = cut[:space]
            yield cut
            line = line[len(cut):].strip()
        if line:
            yield line


def train_bpe(lines: Iterable[str], config: TokenizerConfig = TokenizerConfig()) -> bytes:
    """A sentencepiece BPE model (serialized) trained on the lines.

    If the data cannot fill the requested vocabulary, sentencepiece names the largest
    size it can; we train that one and log a warning (the manifest records both).
    """
    lines = list(lines)
    if not lines:
        raise ValueError("no text to train the tokenizer on: every document was dropped")
    vocab = config.vocab_size
    for _ in range(2):
        out = io.BytesIO()
        try:
            spm.SentencePieceTrainer.train(
                sentence_iterator=iter(lines), model_writer=out, model_type="bpe",
                vocab_size=vocab, byte_fallback=True, split_digits=True,
                normalization_rule_name="identity", remove_extra_whitespaces=False,
                allow_whitespace_only_pieces=True, add_dummy_prefix=True,
                character_coverage=config.character_coverage,
                max_sentence_length=config.max_sentence_length,
                input_sentence_size=config.input_sentence_size, shuffle_input_sentence=False,
                unk_id=UNK, bos_id=BOS, eos_id=EOS, pad_id=PAD, num_threads=config.num_threads,
                minloglevel=2)
            return out.getvalue()
        except RuntimeError as e:
            small = re.search(r"smaller than required_chars\. (\d+) vs (\d+)", str(e))
            if small:
                raise ValueError(
                    f"vocab_size {small.group(1)} is below the {small.group(2)} pieces this text "
                    "needs (its characters, 256 byte-fallback pieces, special ids): raise "
                    "--vocab-size") from None
            m = re.search(r"Vocabulary size too high \((\d+)\).*<= (\d+)", str(e))
            if not m:
                raise
            log.warning("tokenizer: vocab_size %s is too high for this data; training %s",
                        vocab, m.group(2))
            vocab = int(m.group(2))
    raise RuntimeError("tokenizer training failed")


def load_processor(model: bytes) -> spm.SentencePieceProcessor:
    return spm.SentencePieceProcessor(model_proto=model)


def worker_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def encode_docs(sp: spm.SentencePieceProcessor, texts: list[str], num_threads: int = 0) -> list[np.ndarray]:
    """[BOS] ids [EOS] per text: uint16 when the vocabulary fits, else uint32. The batch is
    encoded by sentencepiece's own thread pool (`num_threads`, default: the cores this
    process may use); the ids do not depend on the thread count."""
    dtype = np.uint16 if sp.vocab_size() <= 1 << 16 else np.uint32
    ids = sp.encode(texts, num_threads=num_threads or worker_cores())
    return [np.asarray([BOS, *x, EOS], dtype=dtype) for x in ids]


def model_info(model: bytes) -> dict:
    sp = load_processor(model)
    return {"sha256": hashlib.sha256(model).hexdigest(), "vocab_size": sp.vocab_size(),
            "unk_id": sp.unk_id(), "bos_id": sp.bos_id(), "eos_id": sp.eos_id(),
            "pad_id": sp.pad_id()}


class SmallestHashes(beam.CombineFn):
    """(hash fraction, id, text) -> the documents with the smallest (fraction, id) whose
    count stays within max_docs and whose text within max_bytes: a deterministic sample
    whatever the runner's grouping. An accumulator is trimmed back to the budget whenever
    it holds twice the budget, so none holds more than about twice max_bytes."""

    def __init__(self, max_docs: int, max_bytes: int):
        self.max_docs, self.max_bytes = max_docs, max_bytes

    def _trim(self, items: list) -> list:
        items.sort(key=lambda x: x[:2])
        total = 0
        for i, (_, _, text) in enumerate(items):
            total += len(text)
            if i >= self.max_docs or total > self.max_bytes:
                return [total - len(text), items[:i]]
        return [total, items]

    def create_accumulator(self):
        return [0, []]  # UTF-8 bytes of text held, items

    def add_input(self, acc, item):
        acc[0] += len(item[2])
        acc[1].append(item)
        if acc[0] > 2 * self.max_bytes or len(acc[1]) > 2 * self.max_docs:
            return self._trim(acc[1])
        return acc

    def merge_accumulators(self, accs):
        return self._trim([x for acc in accs for x in acc[1]])

    def compact(self, acc):
        return self._trim(acc[1])

    def extract_output(self, acc):
        return self._trim(acc[1])[1]


class TokenizerOutputs(NamedTuple):
    model: beam.PCollection  # singleton: the serialized sentencepiece model (b"": nothing to train on)
    times: beam.PCollection  # (train_tokenizer, {"wall_s", "cpu_s"}): the training's time


class _Train(Counted):
    """The sample -> the trained model bytes, timed (sentencepiece's threads included)."""

    def __init__(self, train):
        super().__init__(TRAIN_STAGE)
        self.train = train

    def process(self, sample, everything):
        with self.timing():
            model = self.train(sample, everything)
        yield model


class TrainTokenizer(beam.PTransform):
    """Documents -> TokenizerOutputs: a singleton PCollection of serialized
    sentencepiece model bytes, and the training's time."""

    def __init__(self, config: TokenizerConfig = TokenizerConfig()):
        super().__init__()
        self.config = config

    def expand(self, docs):
        cfg = self.config
        if cfg.model_path:
            with open(cfg.model_path, "rb") as f:
                model = f.read()
            load_processor(model)  # fail now, not on the workers
            return TokenizerOutputs(docs.pipeline | "GivenTokenizer" >> beam.Create([model]),
                                    docs.pipeline | "NoTraining" >> beam.Create([]))

        def train(sample: list, everything: list) -> bytes:
            # the train split only, so that val is held out for the tokenizer's report;
            # a run whose documents all fell in val trains on those rather than fail
            sample = sorted(sample or everything)
            if not sample:  # nothing survived: no model, no shards (the run reports why)
                return b""
            return train_bpe((ln for _, _, text in sample
                              for ln in training_lines(text.decode("utf-8", "surrogatepass"),
                                                       cfg.max_sentence_length)), cfg)

        keyed = docs | "SampleKey" >> beam.Map(
            lambda d: (split_of(d.id, cfg.val_fraction), (id_fraction(d.id, "tokenizer"), d.id,
                                                          d.text.encode("utf-8", "surrogatepass"))))
        train_sample = (keyed
                        | "TrainSplitOnly" >> beam.Filter(lambda kv: kv[0] == "train")
                        | "TrainValues" >> beam.Values()
                        | "Sample" >> beam.CombineGlobally(SmallestHashes(cfg.sample_docs, cfg.sample_bytes)))
        all_sample = (keyed
                      | "AllValues" >> beam.Values()
                      | "SampleAll" >> beam.CombineGlobally(  # a small fallback sample
                          SmallestHashes(min(cfg.sample_docs, 20_000), min(cfg.sample_bytes, 4 << 20))))
        trained = (train_sample
                   | "Train" >> beam.ParDo(_Train(train), beam.pvalue.AsSingleton(all_sample))
                   .with_output_types(bytes).with_outputs(TIMES, main="model"))
        return TokenizerOutputs(trained["model"], trained[TIMES])


def split_of(doc_id: bytes, val_fraction: float) -> str:
    return "val" if id_fraction(doc_id, "split") < val_fraction else "train"


def shard_of(doc_id: bytes, num_shards: int) -> int:
    return int(id_fraction(doc_id, "shard") * num_shards)
