import io
import itertools
import pathlib

import numpy as np
import pyarrow.parquet as pq
import pytest

from gristmill import tokfile
from gristmill.transforms import tokenizer as T
from gristmill.transforms.document import Document
from gristmill.transforms.shards import CODER, write_one_shard

WORDS = ["river", "harbour", "council", "library", "weather", "market", "garden", "station",
         "morning", "evening", "visitors", "teachers", "bakers", "opened", "closed", "visited"]
LINES = [f"The {a} and the {b} {c} near the {d} in 2026." for a, b, c, d in
         itertools.islice(itertools.permutations(WORDS, 4), 3000)]


@pytest.fixture(scope="module")
def model():
    return T.train_bpe(LINES, T.TokenizerConfig(vocab_size=400))


def test_training_lines_respect_max_length():
    text = "short line\n\n" + "word " * 3000 + "\nend"
    lines = list(T.training_lines(text, 1000))
    assert lines[0] == "short line" and lines[-1] == "end"
    assert all(0 < len(x.encode()) <= 1000 for x in lines)
    assert "".join(lines[1:-1]).replace(" ", "") == "word" * 3000


def test_train_bpe_llama_options(model):
    sp = T.load_processor(model)
    assert sp.vocab_size() == 400
    assert (sp.unk_id(), sp.bos_id(), sp.eos_id(), sp.pad_id()) == (0, 1, 2, 3)
    assert sp.encode("2026", out_type=str)[-4:] == ["2", "0", "2", "6"]  # split_digits
    assert sp.decode(sp.encode("Straße 42 — ok\ttab")) == "Straße 42 — ok\ttab"  # byte fallback
    assert T.train_bpe(LINES, T.TokenizerConfig(vocab_size=400)) == model  # deterministic


def test_training_threads_fixed_model_whatever_the_cores(model):
    """The model depends on num_threads (a recorded setting), not on the cores the
    process may use: one core, trained in a child process, gives the same bytes."""
    import hashlib
    import shutil
    import subprocess
    import sys
    code = ("import hashlib, sys; from tests.test_tokenizer_shards import LINES; from gristmill.transforms import "
            "tokenizer as T; sys.stdout.write(hashlib.sha256(T.train_bpe(LINES, T.TokenizerConfig(vocab_size=400)))"
            ".hexdigest())")
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    one_core = subprocess.run([*pin, sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              cwd=str(pathlib.Path(__file__).resolve().parents[1])).stdout
    assert T.TokenizerConfig().num_threads == 16 and one_core == hashlib.sha256(model).hexdigest()


def test_vocab_too_high_is_capped(caplog):
    m = T.train_bpe(LINES[:50], T.TokenizerConfig(vocab_size=5000))
    assert T.load_processor(m).vocab_size() < 5000
    assert "too high" in caplog.text


def test_vocab_below_byte_pieces_is_a_clear_error():
    with pytest.raises(ValueError, match="raise --vocab-size"):
        T.train_bpe(LINES, T.TokenizerConfig(vocab_size=100))


def test_no_text_is_a_clear_error():
    with pytest.raises(ValueError, match="no text"):
        T.train_bpe([], T.TokenizerConfig())


def test_encode_docs_bos_eos(model):
    sp = T.load_processor(model)
    (ids,) = T.encode_docs(sp, ["The river opened."])
    assert ids[0] == T.BOS and ids[-1] == T.EOS
    assert sp.decode(ids[1:-1].tolist()) == "The river opened."


def test_split_and_shard_are_stable():
    ids = [i.to_bytes(16, "big") for i in range(2000)]
    val = [i for i in ids if T.split_of(i, 0.1) == "val"]
    assert 150 < len(val) < 250 and val == [i for i in ids if T.split_of(i, 0.1) == "val"]
    counts = np.bincount([T.shard_of(i, 4) for i in ids], minlength=4)
    assert counts.min() > 400


def doc(doc_id, tokens):
    return Document(id=doc_id, url="https://a.example/" + doc_id.hex(), input=0, offset=0,
                    lang="en", tokens=tokens)


def test_shard_roundtrip_sorted_by_id(tmp_path, model):
    sp = T.load_processor(model)
    docs = [doc(b"b" * 16, T.encode_docs(sp, ["The garden closed."])[0]),
            doc(b"a" * 16, T.encode_docs(sp, ["The station opened in 2026."])[0])]
    entry = write_one_shard(str(tmp_path), "train", 1, 3, map(CODER.encode, docs), model, {"run_id": "t"},
                            {0: "x.warc.gz"})
    assert entry["path"] == "train-00001-of-00003.tok" and entry["num_docs"] == 2
    f = tokfile.TokFile(str(tmp_path / entry["path"]), verify=True)
    assert f.header.token_width == 2 and f.header.meta == {"run_id": "t"}
    assert f.header.tokenizer_sha256 == T.model_info(model)["sha256"]
    assert sp.decode(f.doc(0)[1:-1].tolist()) == "The station opened in 2026."
    assert f.header.num_tokens == sum(d.tokens.size for d in docs)
    rows = pq.read_table(tmp_path / entry["metadata"]).to_pylist()
    assert [(r["id"], r["position"], r["num_tokens"], r["warc_file"]) for r in rows] == [
        ((b"a" * 16).hex(), 0, docs[1].tokens.size, "x.warc.gz"),
        ((b"b" * 16).hex(), 1, docs[0].tokens.size, "x.warc.gz")]
    assert tokfile.sha256_file(str(tmp_path / entry["path"])) == entry["sha256"]
    assert not list(tmp_path.glob("*.inprogress"))


def test_empty_shard_and_corruption_detected(tmp_path, model):
    entry = write_one_shard(str(tmp_path), "val", 0, 1, [], model, {}, {})
    assert pq.read_table(tmp_path / entry["metadata"]).num_rows == 0
    assert tokfile.TokFile(str(tmp_path / entry["path"]), verify=True).header.num_docs == 0
    sp = T.load_processor(model)
    entry = write_one_shard(str(tmp_path), "train", 0, 1,
                            [CODER.encode(doc(b"a" * 16, T.encode_docs(sp, ["The river."])[0]))], model, {}, {})
    path = tmp_path / entry["path"]
    raw = bytearray(path.read_bytes())
    raw[tokfile.HEADER_SIZE] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="crc32"):
        tokfile.TokFile(str(path), verify=True)
    with pytest.raises(ValueError, match="magic"):
        tokfile.Header.unpack(b"\0" * tokfile.HEADER_SIZE)


def test_token_width_grows_with_vocab():
    buf = io.BytesIO()
    tokfile.write_shard(buf, [[1, 70000, 2]], vocab_size=70001, bos_id=1, eos_id=2, pad_id=3,
                        tokenizer_sha256="00" * 32, shard_id=0, num_shards=1, meta={})
    assert tokfile.Header.unpack(buf.getvalue()).token_width == 4
    with pytest.raises(ValueError, match="outside"):
        tokfile.write_shard(io.BytesIO(), [[1, 500, 2]], vocab_size=400, bos_id=1, eos_id=2,
                            pad_id=3, tokenizer_sha256="00" * 32, shard_id=0, num_shards=1, meta={})


def test_tokenizer_sample_is_the_smallest_hashes_within_budget_in_any_grouping():
    import random
    items = [(random.Random(i).random(), i.to_bytes(16, "big"), b"x" * (50 + i % 7)) for i in range(500)]
    fn = T.SmallestHashes(max_docs=1000, max_bytes=5000)
    expected = sorted(items)[:len([t for t in itertools.accumulate(len(x[2]) for x in sorted(items))
                                   if t <= 5000])]
    for parts in (1, 3, 7):
        accs = []
        for k in range(parts):
            acc = fn.create_accumulator()
            for item in items[k::parts]:
                acc = fn.add_input(acc, item)
            accs.append(fn.compact(acc))
        out = fn.extract_output(fn.merge_accumulators(accs[::-1]))
        assert out == expected and sum(len(x[2]) for x in out) <= 5000
    assert len(T.SmallestHashes(max_docs=10, max_bytes=10**9).extract_output([0, list(items)])) == 10


def test_tokens_command_explains_pieces_and_decodes_ids(tmp_path, model):
    import subprocess
    import sys as _sys
    path = tmp_path / "t.model"
    path.write_bytes(model)
    exe = [_sys.executable, "-m", "gristmill.cli", "tokens"]
    r = subprocess.run([*exe, "--tokenizer", str(path), "Hello, world! 2024 😀"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    table = lines[1:-1]
    sp = T.load_processor(model)
    ids = sp.encode("Hello, world! 2024 😀")
    assert [int(row.split()[1]) for row in table] == ids            # one row per token, in order
    assert "<0xF0>" in r.stdout                                     # the emoji falls back to bytes
    last = dict(kv.split("=") for kv in lines[-1].split())
    assert int(last["tokens"]) == len(ids)
    dec = subprocess.run([*exe, "--tokenizer", str(path), "--ids", *map(str, ids)], capture_output=True, text=True)
    assert dec.stdout.strip().splitlines()[-1] == "Hello, world! 2024 😀"
    bad = subprocess.run([*exe, "--tokenizer", str(path), "--ids", "99999999"], capture_output=True, text=True)
    assert bad.returncode == 2 and "not in the vocabulary" in bad.stderr and "Traceback" not in bad.stderr


def test_batch_encoding_threads_do_not_change_ids(model):
    sp = T.load_processor(model)
    texts = LINES[:500]
    one = T.encode_docs(sp, texts, num_threads=1)
    four = T.encode_docs(sp, texts, num_threads=4)
    assert all(np.array_equal(a, b) for a, b in zip(one, four)) and one[0].dtype == np.uint16
