"""The console script as a user runs it: default runner (FnApiRunner, multi-processing)."""
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import one_line_error

EXE = os.path.join(os.path.dirname(sys.executable), "gristmill")


def gristmill(*args, check=True):
    r = subprocess.run([EXE, *map(str, args)], capture_output=True, text=True, timeout=600)
    if check and r.returncode:
        raise AssertionError(f"gristmill {args} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
    return r


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "sample.warc.gz"
    gristmill("sample-data", "--output", path, "--pages", 80, "--seed", 1)
    return path


def test_sample_data_same_seed_same_bytes(sample, tmp_path):
    again = tmp_path / "again.warc.gz"
    out = gristmill("sample-data", "--output", again, "--pages", 80, "--seed", 1).stdout
    assert again.read_bytes() == sample.read_bytes()
    assert '"pages": 80' in out


def test_run_default_runner_then_refuse_to_overwrite(sample, tmp_path):
    run = tmp_path / "run"
    r = gristmill("run", "--input", sample, "--output", run, "--languages", "en,de,fr,es",
                  "--vocab-size", 2000, "--shard-tokens", 10_000)
    assert "accounting ok: True" in r.stdout and "[run] done" in r.stdout
    manifest = json.loads((run / "manifest.json").read_text())
    tokens = manifest["stats"]["tokens"]
    assert manifest["config"]["shard_tokens"] == 10_000 and tokens["train"] > 20_000
    assert {k: len(v) for k, v in manifest["splits"].items()} == {k: max(1, -(-n // 10_000)) for k, n in tokens.items()}
    assert manifest["stats"]["accounting_ok"]
    again = gristmill("run", "--input", sample, "--output", run, check=False)
    assert again.returncode == 2 and "already holds a finished run" in again.stderr


def test_run_input_errors_are_clear(tmp_path):
    r = gristmill("run", "--input", tmp_path / "none*.warc.gz", "--output", tmp_path / "r", check=False)
    assert r.returncode == 2 and "no file matches" in r.stderr
    r = gristmill("run", "--output", tmp_path / "r", check=False)
    assert r.returncode == 2 and "--input and --output are required" in r.stderr
    assert "--vocab-size" in gristmill("run", "--help").stdout
    assert gristmill("frobnicate", check=False).returncode == 2


@pytest.mark.parametrize("flag,value,message", [
    ("--languages", "xx", "no label xx"),
    ("--lang-min-scores", "de=2", "--lang-min-scores 'de=2': give code=score"),
    ("--lang-min-scores", "qq=0.5", "no label qq"),
    ("--vocab-size", "10", "--vocab-size 10: must be at least 512"),
    ("--val-fraction", "1.5", "--val-fraction 1.5"),
    ("--lang-min-score", "2", "--lang-min-score 2.0"),
    ("--max-error-rate", "-1", "--max-error-rate -1.0"),
    ("--shard-tokens", "0", "--shard-tokens 0: must be >= 1"),
    ("--url-blocklist", "/missing/list.txt", "no such file"),
    ("--url-soft-banned-threshold", "0", "--url-soft-banned-threshold 0: must be >= 1"),
    ("--url-banned-words", "/missing/words.txt", "no such file"),
    ("--dedup-rows", "0", "--dedup: bands, rows and max_rounds must be >= 1"),
    ("--pii-operator", "hash", "needs a salt of at least 16 bytes"),
    ("--pii-entities", "PERSON", "--pii-entities: unknown PERSON"),
    ("--pii-ner-model", "en_core_web_lg", "spaCy model 'en_core_web_lg' is not installed"),
    ("--dedup-verify", "1.5", "--dedup: verify 1.5: must be within [0, 1]"),
    ("--tokenizer-model", "/missing/t.model", "no such file"),
])
def test_run_checks_arguments_before_any_work(sample, tmp_path, flag, value, message):
    r = gristmill("run", "--input", sample, "--output", tmp_path / "r", flag, value, check=False)
    assert message in one_line_error(r)
    assert not (tmp_path / "r").exists()  # nothing was started


def test_run_checks_the_ut1_blocklist_before_any_work(sample, tmp_path):
    ut1 = tmp_path / "blacklists"
    (ut1 / "adult").mkdir(parents=True)
    (ut1 / "adult" / "domains").write_text("adult.example\n")
    r = gristmill("run", "--input", sample, "--output", tmp_path / "r", "--url-blocklist", ut1,
                  "--url-blocklist-categories", "adult,gambling", check=False)
    assert "no UT1 category gambling (it has adult)" in one_line_error(r)
    r = gristmill("run", "--input", sample, "--output", tmp_path / "r", "--url-blocklist", tmp_path, check=False)
    assert "not a UT1 blacklist" in one_line_error(r)
    assert not (tmp_path / "r").exists()


def test_run_where_nothing_survives_says_which_stage(tmp_path):
    from tests.conftest import shared_data
    warc = shared_data("warc", "cc-main-2020-34-slice.warc.gz")
    out = tmp_path / "r"
    r = gristmill("run", "--input", warc, "--output", out, "--languages", "en", check=False)
    line = one_line_error(r, code=1)
    assert "nothing survived:" in line and "dropped every document" in line
    stats = json.loads((out / "stats.json").read_text())
    assert stats["failure"] in line and not (out / "manifest.json").exists()
    assert list((out / "rejected").glob("part-*.jsonl.gz"))


def test_eval_pii_prints_per_type_and_a_last_line(tmp_path):
    from tests.conftest import shared_data
    data = shared_data("pii", "synth_dataset_v2.json")
    r = gristmill("eval", "pii", "--data", data, "--limit", "300")
    lines = r.stdout.strip().splitlines()
    assert lines[0].startswith("300 texts") and any(ln.startswith("PHONE_NUMBER") for ln in lines)
    last = dict(kv.split("=") for kv in lines[-1].split())
    assert set(last) == {"precision", "recall", "overlap_precision", "overlap_recall"}
    assert float(last["precision"]) >= 0.95
    bad = tmp_path / "bad.json"
    bad.write_text('{"not": "a list"}')
    assert "presidio-research layout" in one_line_error(gristmill("eval", "pii", "--data", bad, check=False))


def test_eval_dedup_on_a_built_set(tmp_path):
    from tests.conftest import shared_data
    truth = shared_data("extraction", "ground-truth.json")
    out = tmp_path / "set.jsonl"
    assert "documents" in gristmill("eval", "dedup-set", "--source", truth, "--output", out).stdout
    lines = gristmill("eval", "dedup", "--input", out).stdout.strip().splitlines()
    last = dict(kv.split("=") for kv in lines[-1].split())
    assert {"f1", "precision", "recall", "datasketch_f1"} <= set(last)
    assert float(last["precision"]) >= 0.99 and float(last["f1"]) >= 0.9
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\n')
    assert "needs the keys id, text, cluster" in one_line_error(gristmill("eval", "dedup", "--input", bad, check=False))


def test_audit_pii_finds_what_a_run_left_and_nothing_after_a_full_scrub(tmp_path):
    from gristmill.sampledata import write_sample
    warc = tmp_path / "pii.warc.gz"
    write_sample(str(warc), pages=200, seed=2)  # the sample crawl's pages carry e-mails and phones
    run = tmp_path / "run"
    gristmill("run", "--input", warc, "--output", run, "--languages", "en,de,fr,es,it", "--vocab-size", 2000,
              "--pii-entities", "PHONE_NUMBER")  # e-mail addresses are left in the text
    ok = gristmill("audit-pii", run)
    assert ok.stdout.strip().splitlines()[-1].startswith("findings=0 ")
    leak = gristmill("audit-pii", run, "--entities", "EMAIL_ADDRESS", check=False)
    assert leak.returncode == 1
    last = dict(kv.split("=") for kv in leak.stdout.strip().splitlines()[-1].split())
    assert int(last["EMAIL_ADDRESS"]) > 0 and int(last["findings"]) == int(last["EMAIL_ADDRESS"])
    audit = json.loads((run / "pii_audit.json").read_text())
    assert audit["examples"] and audit["examples"][0]["type"] == "EMAIL_ADDRESS"
    assert "not a finished run directory" in one_line_error(gristmill("audit-pii", tmp_path / "none", check=False))


@pytest.fixture(scope="module")
def finished_run(sample, tmp_path_factory):
    run = tmp_path_factory.mktemp("verify") / "run"
    gristmill("run", "--input", sample, "--output", run, "--languages", "en,de,fr,es", "--vocab-size", 2000,
              "--shard-tokens", 10_000)
    return run


@pytest.mark.parametrize("where, field", [
    (0, "magic"),                         # header: the magic bytes
    (16, "vocab_size"),                   # header: vocab_size (u32 at 16)
    (72, "tokenizer_sha256"),             # header: the tokenizer's sha256
    (4096 + 10, "payload_crc32"),         # payload: a token
    (-3, "index_crc32"),                  # index: the last document offset
])
def test_verify_catches_each_flipped_byte(finished_run, tmp_path, where, field):
    import shutil
    ok = gristmill("verify", finished_run)
    assert ok.stdout.strip().splitlines()[-1].startswith("ok=true shards=4 ")
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    shard = run / "train-00000-of-00003.tok"
    data = bytearray(shard.read_bytes())
    data[where] ^= 0x5A
    shard.write_bytes(bytes(data))
    r = gristmill("verify", run, check=False)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    lines = r.stdout.strip().splitlines()
    assert lines[-1].startswith("ok=false ")
    assert any(ln.startswith(f"train-00000-of-00003.tok: {field}:") for ln in lines[:-1]), r.stdout


def test_verify_catches_manifest_sums(finished_run, tmp_path):
    import shutil
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["stats"]["tokens"]["train"] += 1
    manifest["splits"]["val"][0]["num_docs"] += 1
    (run / "manifest.json").write_text(json.dumps(manifest))
    lines = gristmill("verify", run, check=False).stdout.strip().splitlines()
    assert any(ln.startswith("manifest.json: stats.tokens.train:") for ln in lines)
    assert any(ln.startswith("val-00000-of-00001.tok: manifest num_docs:") for ln in lines)
    assert "not a finished run directory" in one_line_error(gristmill("verify", tmp_path / "nothing", check=False))


def test_export_nanogpt_and_llmc_read_back_as_those_projects_read_them(finished_run, tmp_path):
    import pickle

    import numpy as np

    from gristmill import tokfile
    manifest = json.loads((finished_run / "manifest.json").read_text())
    streams = {split: np.concatenate([np.asarray(tokfile.TokFile(str(finished_run / e["path"])).tokens)
                                      for e in shards]) for split, shards in manifest["splits"].items()}
    out = tmp_path / "nanogpt"
    assert gristmill("export", "--format", "nanogpt", finished_run, out).stdout.strip().splitlines()[-1] \
        == f"format=nanogpt files=3 tokens={sum(len(s) for s in streams.values())}"
    for split, tokens in streams.items():  # nanoGPT's train.py: np.memmap(path, dtype=np.uint16, mode='r')
        if not len(tokens):  # a split without documents (the sample is small): an empty file
            assert (out / f"{split}.bin").stat().st_size == 0
            continue
        data = np.memmap(out / f"{split}.bin", dtype=np.uint16, mode="r")
        assert np.array_equal(data, tokens)
    with open(out / "meta.pkl", "rb") as f:
        assert pickle.load(f)["vocab_size"] == manifest["tokenizer"]["vocab_size"]
    llmc = tmp_path / "llmc"
    gristmill("export", "--format", "llmc", finished_run, llmc)
    for split, shards in manifest["splits"].items():
        for i, entry in enumerate(shards):  # llm.c's dev/data/data_common.py layout
            with open(llmc / f"gristmill_{split}_{i:06d}.bin", "rb") as f:
                header = np.frombuffer(f.read(256 * 4), dtype=np.int32)
                assert header[0] == 20240520 and header[1] == 1 and not header[3:].any()
                tokens = np.frombuffer(f.read(), dtype=np.uint16)
            assert len(tokens) == header[2] == entry["num_tokens"]
            assert np.array_equal(tokens, tokfile.TokFile(str(finished_run / entry["path"])).tokens)
    assert "not a finished run directory" in one_line_error(
        gristmill("export", "--format", "llmc", tmp_path / "none", tmp_path / "x", check=False))
