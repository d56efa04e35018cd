"""The whole job on real Beam (FnApiRunner), real models, small inputs."""
import glob
import gzip
import hashlib
import json
import os
import re

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to
from warcio.archiveiterator import ArchiveIterator

from gristmill import tokfile
from gristmill.pipelines.crawl import build
from gristmill.pipelines.options import GristmillOptions, job_config
from gristmill.pipelines.run_files import STAGES
from tests.test_read_damage import MALFORMED
from gristmill.transforms.tokenizer import load_processor
from tests.conftest import shared_data
from tests.warc_util import page, write_warc

EN = [
    ["The city council met on Tuesday evening to discuss the budget for the public library, "
     "which has been closed on Sundays since the spring.",
     "Several residents asked the members to keep the reading rooms open later during the "
     "winter, when many students have nowhere quiet to work after school.",
     "The mayor said that the proposal would be studied with care and that a decision is "
     "expected before the next session in March."],
    ["Fishermen in the northern harbour reported a good season after two difficult years "
     "of storms and falling prices at the market.",
     "The cooperative bought a second cold store, so that the catch can be kept fresh for "
     "longer and sold when the demand in the cities is higher.",
     "Young people are returning to the trade, and the school of the village has opened a "
     "course about boats, nets and the safety rules of the sea."],
    ["A team of engineers tested a small electric bus on the steep roads around the old "
     "town during the whole of the last month.",
     "The vehicle climbed every hill without trouble and the battery still had a third of "
     "its charge at the end of each day of service.",
     "The transport office will now decide whether to buy ten more of them for the lines "
     "that connect the hospital with the railway station."],
]
DE = ["Der Stadtrat hat am Dienstag über den neuen Haushalt der Bibliothek gesprochen, die "
      "seit dem Frühjahr am Sonntag geschlossen ist.",
      "Viele Bürger baten die Mitglieder, die Lesesäle im Winter länger zu öffnen, weil die "
      "Schüler nach dem Unterricht einen ruhigen Ort zum Lernen brauchen.",
      "Der Bürgermeister sagte, dass der Vorschlag sorgfältig geprüft werde und dass eine "
      "Entscheidung vor der nächsten Sitzung im März erwartet wird."]
IT = ["Il consiglio comunale si è riunito martedì sera per discutere il bilancio della "
      "biblioteca pubblica, chiusa la domenica dalla primavera.",
      "Molti cittadini hanno chiesto di tenere aperte le sale di lettura più a lungo durante "
      "l'inverno, quando gli studenti non hanno un posto tranquillo.",
      "Il sindaco ha detto che la proposta sarà studiata con attenzione e che una decisione "
      "è attesa prima della prossima seduta di marzo."]
PII = EN[2] + ["For questions write to the press office at press.office@example.org or call "
               "(415) 555-0132 during the opening hours of the town hall."]
LOREM = EN[1][:2] + ["Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod."]

H = "https://www.riverside-news.com"
PAGES = [  # url, body, content type, status -> expected outcome
    (f"{H}/council.html", page("Council", EN[0]), "text/html; charset=utf-8", "200 OK"),
    (f"{H}/harbour.html", page("Harbour", EN[1]), "text/html; charset=utf-8", "200 OK"),
    (f"{H}/bus.html", page("Bus", PII), "text/html; charset=utf-8", "200 OK"),
    ("https://mirror.example.net/council.html", page("Council", EN[0]), "text/html", "200 OK"),
    (f"{H}/de/rat.html", page("Rat", DE), "text/html; charset=utf-8", "200 OK"),
    (f"{H}/it/consiglio.html", page("Consiglio", IT), "text/html; charset=utf-8", "200 OK"),
    ("https://megacasino-bonus.com/win.html", page("Win", EN[1]), "text/html", "200 OK"),
    (f"{H}/lorem.html", page("Lorem", LOREM), "text/html", "200 OK"),
    (f"{H}/logo.png", b"\x89PNG\r\n\x1a\n", "image/png", "200 OK"),
    (f"{H}/missing.html", b"<html>gone</html>", "text/html", "404 Not Found"),
    ("ftp://files.riverside-news.com/a.html", page("Ftp", EN[1]), "text/html", "200 OK"),
]


def options_argv(inputs, out, **extra):
    args = {"output": str(out), "languages": "en,de", "vocab_size": "600", "shard_tokens": "3000",
            "val_fraction": "0.2", **extra}
    return [f"--input={i}" for i in inputs] + [f"--{k}={v}" for k, v in args.items()]


def run(inputs, out, check=None, argv=(), **extra):
    opts = PipelineOptions([*options_argv(inputs, out, **extra), *argv])
    cfg = job_config(opts.view_as(GristmillOptions))
    with BeamTestPipeline(runner="FnApiRunner", options=opts) as p:
        outputs = build(p, cfg)
        if check:
            check(outputs)
    return _json(f"{out}/stats.json"), _json(f"{out}/manifest.json")


def _json(path):
    """A JSON file of the run directory, local or gs:// / s3://."""
    from apache_beam.io.filesystems import FileSystems

    with FileSystems.open(path, compression_type="uncompressed") as f:
        return json.load(f)


def rejected_lines(out):
    lines = []
    for path in glob.glob(str(out / "rejected" / "*.jsonl.gz")):
        with gzip.open(path, "rt") as f:
            lines += [json.loads(x) for x in f]
    return lines


def shard_docs(out, manifest):
    sp = load_processor((out / "tokenizer.model").read_bytes())
    texts = []
    for split, shards in manifest["splits"].items():
        for s in shards:
            f = tokfile.TokFile(str(out / s["path"]), verify=True)
            assert f.header.num_docs == s["num_docs"] and tokfile.sha256_file(str(out / s["path"])) == s["sha256"]
            texts += [sp.decode(f.doc(i)[1:-1].tolist()) for i in range(len(f))]
    return texts


def warcio_records(paths):
    n = 0
    for path in paths:
        try:
            with open(path, "rb") as f:
                for _ in ArchiveIterator(f, no_record_parse=True, arc2warc=True):
                    n += 1
        except Exception:
            n += 1  # the read error is one accounted record
    return n


def test_handmade_crawl_exact_outcome(tmp_path):
    warc = tmp_path / "crawl.warc.gz"
    write_warc(warc, PAGES)
    out = tmp_path / "run"

    def check(o):
        urls = lambda pc: pc | beam.Map(lambda d: d.url)
        assert_that(urls(o["kept"]["PiiScrub"]), equal_to(
            [f"{H}/council.html", f"{H}/harbour.html", f"{H}/bus.html", f"{H}/de/rat.html"]),
            label="Survivors")
        assert_that(o["rejected"] | beam.Map(lambda r: (r.stage, r.reason, r.url)), equal_to(
            [("read", "warc_request", u) for u, *_ in PAGES]
            + [("read", "not_html", f"{H}/logo.png"), ("read", "http_status", f"{H}/missing.html"),
               ("read", "no_http_target_uri", "ftp://files.riverside-news.com/a.html"),
               ("url_filter", "blocked_domain", "https://megacasino-bonus.com/win.html"),
               ("langid", "language_not_kept", f"{H}/it/consiglio.html"),
               ("quality", "c4_lorem_ipsum", f"{H}/lorem.html"),
               ("dedup", "near_duplicate", "https://mirror.example.net/council.html")]),
            label="Rejections")

    stats, manifest = run([warc], out, check, shard_tokens="200")
    assert stats["accounting_ok"], stats["accounting_problems"]
    assert stats["records_read"] == 2 * len(PAGES) == warcio_records([warc])
    assert {s["stage"]: s["kept"] for s in stats["stages"]}["tokenize"] == 4
    assert stats["languages"] == {"en": 3, "de": 1}
    assert stats["pii_found"] == {"EMAIL_ADDRESS": 1, "PHONE_NUMBER": 1}
    texts = shard_docs(out, manifest)
    assert len(texts) == 4 == sum(manifest["stats"]["documents"].values())
    bus = next(t for t in texts if "electric bus" in t)
    assert "<EMAIL_ADDRESS>" in bus and "<PHONE_NUMBER>" in bus and "example.org" not in bus
    assert "Copyright" not in " ".join(texts)
    assert len(rejected_lines(out)) == stats["records_read"] - 4
    n = -(-stats["tokens"]["train"] // 200)  # shards from --shard-tokens, empty ones too
    assert n >= 2 and [s["path"] for s in manifest["splits"]["train"]] == [
        f"train-{i:05d}-of-{n:05d}.tok" for i in range(n)]
    # one range: the digest over range digests is the sha256 of the file's sha256
    assert manifest["inputs"][0]["sha256_ranges"] == hashlib.sha256(
        bytes.fromhex(tokfile.sha256_file(str(warc)))).hexdigest()


def test_generated_sample_accounts_for_every_record(tmp_path):
    from gristmill.sampledata import write_sample
    warc = tmp_path / "sample.warc.gz"
    summary = write_sample(str(warc), pages=150, seed=3)
    out = tmp_path / "run"

    def check(o):
        email = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
        assert_that(o["kept"]["PiiScrub"] | beam.Filter(lambda d: email.search(d.text))
                    | beam.combiners.Count.Globally(), equal_to([0]), label="NoEmailLeft")

    stats, manifest = run([warc], out, check, languages="en,de,fr,es")
    assert stats["accounting_ok"], stats["accounting_problems"]
    assert stats["records_read"] == warcio_records([warc])
    by_stage = {s["stage"]: s for s in stats["stages"]}
    for stage in ("read", "url_filter", "langid", "quality", "dedup"):
        assert by_stage[stage]["dropped_total"] > 0, stage
    assert by_stage["read"]["dropped"].get("truncated_file") == 1  # the truncated tail
    assert by_stage["dedup"]["kept"] < by_stage["quality"]["kept"]
    tok = stats["tokenizer"]  # measured on every split; val is held out of the tokenizer's sample
    assert tok["held_out_split"] == "val" and set(tok["bytes_per_token"]) == {"train", "val"}
    assert all(1.5 < v < 8 for v in tok["bytes_per_token"].values())
    assert all(0 <= v < 0.2 for v in tok["byte_fallback_rate"].values())
    docs = shard_docs(out, manifest)
    assert len(docs) == by_stage["tokenize"]["kept"] > 20
    rejected = rejected_lines(out)
    assert len(rejected) + len(docs) == stats["records_read"]
    assert {r["stage"] for r in rejected} <= set(STAGES)
    assert summary["pages"] == 150


def test_every_shared_warc_completes_and_accounts(tmp_path):
    paths = sorted(glob.glob(str(shared_data("warc") / "*")) + glob.glob(str(shared_data("warc-malformed") / "*")))
    out = tmp_path / "run"
    stats, manifest = run(paths, out, languages="all", vocab_size="3000", max_error_rate="1")
    assert stats["accounting_ok"], stats["accounting_problems"]
    malformed = sum(sum(t.values()) for t in MALFORMED.values())  # what each yields (read test)
    clean = [p for p in paths if "warc-malformed" not in p]
    assert stats["records_read"] == warcio_records(clean) + malformed
    assert len(manifest["inputs"]) == len(paths)
    docs = shard_docs(out, manifest)
    assert len(rejected_lines(out)) + len(docs) == stats["records_read"]
    assert any(re.search(r"[\u3040-\u30ff]", t) for t in docs)  # the Japanese crawl survived


def _run_outputs(out, manifest):
    """What must not depend on the number of workers: every file of the run directory,
    byte for byte (shards, metadata tables, rejected/, stats.json, manifest.json,
    tokenizer.model, inputs.jsonl), but the measured seconds in stats.json."""
    files = sorted(f for f in glob.glob(str(out / "**" / "*"), recursive=True) if os.path.isfile(f))
    return {os.path.relpath(f, out): hashlib.sha256(_without_times(f)).hexdigest() for f in files}


def _without_times(path):
    data = open(path, "rb").read()
    if os.path.basename(path) != "stats.json":
        return data
    stats = json.loads(data)
    assert set(stats.pop("stage_times")["steps"]) >= set(STAGES)
    return json.dumps(stats, indent=1).encode()


def test_language_codes_and_thresholds_from_the_command_line(tmp_path):
    warc = tmp_path / "crawl.warc.gz"
    write_warc(warc, PAGES)
    opts = PipelineOptions(options_argv([warc], tmp_path / "o", languages="nb,nor,en,eng_Latn",
                                        lang_min_scores="nob=0.4,zh=0.5"))
    cfg = job_config(opts.view_as(GristmillOptions))
    assert cfg.languages == ("no", "en") and cfg.lang_min_scores == (("no", 0.4), ("zh", 0.5))
    assert cfg.recorded()["languages"] == "no,en" and cfg.recorded()["lang_min_scores"] == "no=0.4,zh=0.5"


def test_one_warc_spreads_over_two_workers_with_the_same_output(tmp_path):
    from gristmill.sampledata import write_sample
    warc = tmp_path / "one.warc.gz"
    write_sample(str(warc), pages=150, seed=5)
    assert warc.stat().st_size > 4 * 65536  # at least four ranges of 64 KiB
    pids = tmp_path / "pids"
    pids.mkdir()

    def check(o):  # fused with the read: the process that read a range handles its records
        _ = o["kept"]["ReadWarc"] | beam.Map(lambda d: open(pids / str(os.getpid()), "a").close())

    common = dict(languages="en,de,fr,es", range_bytes="65536", run_id="same")
    one_stats, one = run([warc], tmp_path / "one", argv=["--direct_running_mode=in_memory"], **common)
    two_stats, two = run([warc], tmp_path / "two", check, argv=[
        "--direct_running_mode=multi_processing", "--direct_num_workers=2"], **common)
    assert len(os.listdir(pids)) == 2  # both workers read ranges of the one file
    assert two["inputs"][0]["ranges"] >= 4
    assert _run_outputs(tmp_path / "one", one) == _run_outputs(tmp_path / "two", two)
    assert one_stats["stages"] == two_stats["stages"] and one_stats["accounting_ok"]


def test_metadata_table_has_a_row_per_document_in_shard_order(tmp_path):
    import pyarrow.parquet as pq
    warc = tmp_path / "crawl.warc.gz"
    write_warc(warc, PAGES)
    out = tmp_path / "run"
    stats, manifest = run([warc], out)
    rows = []
    for split, shards in manifest["splits"].items():
        for s in shards:
            table = pq.read_table(out / s["metadata"]).to_pylist()
            tok = tokfile.TokFile(str(out / s["path"]))
            assert len(table) == len(tok) == s["num_docs"]
            for i, row in enumerate(table):
                assert (row["split"], row["position"]) == (split, i)
                assert row["num_tokens"] == tok.doc(i).size
                assert row["warc_file"] == str(warc) and row["length"] > 0
                with open(warc, "rb") as f:  # provenance: the record is where the row says
                    f.seek(row["offset"])
                    record = gzip.decompress(f.read(row["length"]))
                assert row["url"].encode() in record
                assert row["q_words"] > 0 and row["lang"] in ("en", "de")
            rows += table
    assert len(rows) == stats["documents_kept"] == 4
    from gristmill.model import data  # the trainer's loader reads this run directory
    loaded, _ = data.load_manifest(str(out))
    stream = data.TokenStream(str(out), loaded, "train")
    assert len(stream) == sum(s["num_tokens"] for s in manifest["splits"]["train"])
    bus = next(r for r in rows if r["url"].endswith("bus.html"))
    assert (bus["pii_email_address"], bus["pii_phone_number"]) == (1, 1)
    assert [r["cluster_size"] for r in rows if "council" in r["url"]] == [2]


def test_split_by_language_writes_a_shard_set_per_language(tmp_path):
    import pyarrow.parquet as pq

    from gristmill.model import data
    from gristmill.pipelines.verify import verify
    warc = tmp_path / "crawl.warc.gz"
    write_warc(warc, PAGES)
    out = tmp_path / "run"
    stats, manifest = run([warc], out, languages="en,de,it", argv=["--split-by-language"])
    assert stats["accounting_ok"] and manifest["config"]["split_by_language"] is True
    sets = {}
    for split, shards in manifest["splits"].items():
        for s in shards:
            assert s["path"].startswith(f"{s['language']}/{split}-")
            langs = set(pq.read_table(out / s["metadata"], columns=["lang"]).column("lang").to_pylist())
            assert langs <= {s["language"]}  # a set holds its language only (empty shards none)
            sets.setdefault((s["language"], split), []).append(s)
    # every language that survived has a train and a val set, each numbered on its own
    assert {lang for lang, _ in sets} == {"en", "de", "it"}
    assert set(sets) == {(lang, split) for lang in ("en", "de", "it") for split in ("train", "val")}
    assert sum(s["num_docs"] for v in sets.values() for s in v) == stats["documents_kept"]
    report = verify(str(out))
    assert report["problems"] == [] and report["documents"] == stats["documents_kept"]
    loaded, _ = data.load_manifest(str(out))
    de = data.TokenStream(str(out), loaded, "train", language="de")
    assert len(de) == sum(s["num_tokens"] for s in sets[("de", "train")])
    with pytest.raises(ValueError, match="no shards of language 'fr'"):
        data.TokenStream(str(out), loaded, "train", language="fr")


def test_nothing_surviving_writes_stats_and_names_the_stage(tmp_path):
    warc = shared_data("warc", "cc-main-2020-34-slice.warc.gz")
    out = tmp_path / "run"
    with pytest.raises(Exception, match=r"nothing survived: (langid|quality) dropped every document"):
        run([warc], out, languages="en")  # its pages are Chinese, Dutch, Russian, ...
    stats = json.loads((out / "stats.json").read_text())
    assert stats["status"] == "failed" and stats["failure"].startswith("nothing survived:")
    assert stats["accounting_ok"] and not (out / "manifest.json").exists()
    assert len(rejected_lines(out)) == stats["records_read"]


def test_error_budget_fails_the_run_with_the_counts(tmp_path):
    paths = sorted(glob.glob(str(shared_data("warc-malformed") / "*"))) + [
        str(shared_data("warc", "crawl-en-0000.warc.gz"))]
    out = tmp_path / "run"
    # the damage in the malformed files: one truncated file, one garbled span (2 of ~370 records)
    with pytest.raises(Exception, match=r"read: 2 of \d+ records were errors \("
                                        r"(garbled_record 1, truncated_file 1|truncated_file 1, garbled_record 1)\)"):
        run(paths, out, languages="all", max_error_rate="0.001")
    stats = json.loads((out / "stats.json").read_text())
    assert "over --max-error-rate 0.001" in stats["failure"] and not (out / "manifest.json").exists()
