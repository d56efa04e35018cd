"""MinHashDedup: signatures equal datasketch's, the token rule, LSH buckets, distributed
connected components (large-star / small-star), the survivor rule, and the Beam transform
on real runners (1 and 2 workers give the same output; a run that does not converge fails)."""
import json
import random

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from datasketch import MinHash

from gristmill.sampledata.dupes import build_set
from gristmill.transforms import dedup
from gristmill.transforms.document import Document, Rejection
from tests.conftest import shared_data

BASE = ("The river festival returns this summer with boats, music and food stalls along the "
        "old harbour. Organisers expect more visitors than last year because the weather "
        "forecast is good and the new bridge makes the east bank easier to reach on foot. "
        "Local bakers will sell bread and cakes, and the rowing club will race at noon. ")
OTHER = ("A new study of mountain glaciers shows that the ice is thinning faster than "
         "scientists had predicted. The team measured the surface with drones every month "
         "and compared the results with satellite images from the previous decade. ")
EDGE_TEXTS = ["", "one two", "日本語のテキストはスペースなしで書かれています。", "Café déjà vu 1234 -- ok_x a1b22c",
              "ΣΑΣ ΟΔΟΣ", "\x00x y\x00", "!!!", "x" * 20000, "हिन्दी भाषा", "ﬁne ＦＵＬＬ width", "a\u0301\u0302 99 9"]


def articles():
    data = json.loads(shared_data("extraction", "ground-truth.json").read_text(encoding="utf-8"))
    return {k: v["articleBody"] for k, v in data.items()}


def datasketch_values(text, cfg):
    m = MinHash(num_perm=cfg.num_perm, seed=cfg.seed, hashfunc=dedup.shingle_hash)
    m.update_batch(dedup.shingle_tuples(text, cfg))
    return m.hashvalues


def test_signatures_equal_datasketch_exactly():
    texts = EDGE_TEXTS + list(articles().values())
    for cfg in (dedup.DedupConfig(), dedup.DedupConfig(ngram=3, char_ngram=2, bands=4, rows=5, seed=7)):
        sigs, has = dedup.signatures(texts, cfg)
        for text, sig, ok in zip(texts, sigs, has):
            assert np.array_equal(sig, datasketch_values(text, cfg)), text[:40]
            assert ok == bool(dedup.shingle_tuples(text, cfg))
        # batching does not change a signature; nor does the text's neighbours
        alone = np.stack([dedup.signature(t, cfg) for t in texts[:12]])
        assert np.array_equal(alone, sigs[:12])
    assert dedup.signatures([])[0].shape == (0, 112)


def test_token_rule():
    assert dedup.tokens("A b, C d e!")[0] == dedup.tokens("a B c D E")[0] == ["a", "b", "c", "d", "e"]
    assert dedup.normalize("Café DÉJÀ-vu, 2024/05/17 at 10:30!") == "cafe deja vu 0 0 0 at 0 0"
    assert dedup.normalize("snake_case ﬁne ＦＵＬＬ") == "snake case fine full"
    assert dedup.shingle_tuples("two words") == [("two", "words")]
    assert dedup.shingle_tuples("...") == []
    toks, by_char = dedup.tokens("東京都は今日も晴れです。Tokyo")
    assert by_char and toks[:3] == ["東", "京", "都"] and "t" in toks
    assert dedup.tokens("Mostly English text with one 漢字 word in it")[1] is False
    assert len(dedup.shingle_tuples("東京都は今日も晴れです", dedup.DedupConfig(char_ngram=5))) == 7


def test_similar_texts_share_buckets_and_different_ones_do_not():
    cfg = dedup.DedupConfig()
    sig, near, far = dedup.signatures([BASE * 3, (BASE * 3).replace("noon", "one o'clock"), OTHER * 3], cfg)[0]
    assert dedup.jaccard(sig, near) > 0.7 and dedup.jaccard(sig, far) < 0.1
    keys = dedup.band_keys(sig, cfg)
    assert len(keys) == 14 and len(set(keys)) == 14
    assert set(keys) & set(dedup.band_keys(near, cfg)) and not set(keys) & set(dedup.band_keys(far, cfg))


def test_bands_from_a_threshold():
    from datasketch.lsh import _optimal_param
    cfg = dedup.DedupConfig.for_threshold(0.8)
    assert (cfg.bands, cfg.rows) == _optimal_param(0.8, 112, 0.5, 0.5) and cfg.num_perm <= 112
    with pytest.raises(ValueError):
        dedup.DedupConfig(verify=2)


def test_node_key_orders_by_the_survivor_rule():
    def doc(i, date, text):
        return Document(id=bytes([i]) * 16, url="u", input=0, offset=0, date=date, text=text)
    newest = doc(9, "2024-05-01T00:00:00Z", "short")
    older_long = doc(1, "2023-01-01T00:00:00Z", "much longer text")
    older_short = doc(0, "2023-01-01T00:00:00Z", "short")
    undated = doc(0, "", "the longest text of them all")
    nodes = sorted(map(dedup.node_key, [undated, older_short, newest, older_long]))
    assert [dedup.node_id(n) for n in nodes] == [newest.id, older_long.id, older_short.id, undated.id]
    twin = doc(2, "2023-01-01T00:00:00Z", "short")
    assert dedup.node_key(older_short) < dedup.node_key(twin)  # then the smallest id


class Once:
    """A re-iterable that counts its passes (a GroupByKey value on Dataflow is one)."""

    def __init__(self, items):
        self.items, self.passes = items, 0

    def __iter__(self):
        self.passes += 1
        return iter(self.items)


def test_bucket_edges_two_passes_no_sort():
    members = Once([b"c", b"a", b"d", b"b", b"a"])
    assert sorted(dedup.bucket_edges(members)) == [(b"b", b"a"), (b"c", b"a"), (b"d", b"a")]
    assert members.passes == 2
    sig = np.arange(10, dtype=np.uint32)
    other = sig.copy()
    other[:6] = 99
    kept = list(dedup.bucket_edges([(b"a", sig.tobytes()), (b"b", sig.tobytes()), (b"c", other.tobytes())], 0.5))
    assert kept == [(b"b", b"a")]  # c: estimated Jaccard 0.4 < 0.5


def _components(edges, rounds):
    """The Beam rounds, in plain Python: large-star, small-star, ..., large-star."""
    def step(edges, op):
        adj = {}
        for a, b in edges:
            adj.setdefault(a, []).append(b)
            adj.setdefault(b, []).append(a)
        return {e for u, ns in adj.items() for e in op(u, ns)}
    for r in range(rounds):
        edges = step(edges, dedup.large_star)
        if r < rounds - 1:
            edges = step(edges, dedup.small_star)
    return edges


def _union_find(edges):
    parent = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            x = parent[x]
        return x
    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {x: find(x) for x in parent}


@pytest.mark.parametrize("seed", range(8))
def test_large_small_star_rounds_give_the_components(seed):
    rng = random.Random(seed)
    nodes = [bytes([rng.randrange(256), rng.randrange(256)]) for _ in range(300)]
    edges = {(rng.choice(nodes), rng.choice(nodes)) for _ in range(260)}
    edges = {(a, b) for a, b in edges if a != b}
    edges |= {(nodes[i], nodes[i + 1]) for i in range(40)}  # a long path too
    final = _components(edges, rounds=8)
    expect = {x: r for x, r in _union_find(edges).items() if x != r}
    assert dict(final) == expect  # a star around each component's smallest node
    for node in {x for e in final for x in e}:
        tagged = [dedup._PARENT + p for c, p in final if c == node] + [dedup._CHILD for c, p in final if p == node]
        parent, children, ok = dedup.star_check(node, tagged)
        assert ok and (parent is None) == (children > 0)


def test_star_check_finds_unconverged_nodes():
    P, C = dedup._PARENT, dedup._CHILD
    assert dedup.star_check(b"b", [P + b"a"]) == (b"a", 0, True)
    assert dedup.star_check(b"a", [C, C]) == (None, 2, True)
    assert dedup.star_check(b"b", [P + b"a", C])[2] is False      # a chain a <- b <- c
    assert dedup.star_check(b"c", [P + b"a", P + b"b"])[2] is False  # two parents


def test_resolve_keeps_survivor_rejects_others():
    d = lambda i, off=0: Document(id=i, url="u" + i.hex(), input=0, offset=off, text=BASE)
    kept = list(dedup.resolve(b"a", [d(b"a")], [(b"a", 3)]))
    assert kept[0].cluster_size == 3
    (rej,) = dedup.resolve(b"b", [d(b"b")], [(b"a", 0)])
    assert isinstance(rej, Rejection) and rej.reason == "near_duplicate" and rej.detail == b"a".hex()
    out = list(dedup.resolve(b"c", [d(b"c", 5), d(b"c", 1)], []))
    assert out[0].reason == "duplicate_id" and out[1].offset == 1


def _docs(rows):
    from gristmill.pipelines.eval_dedup import doc_id
    return [Document(id=doc_id(r["id"]), url=r["id"], input=0, offset=i, text=r["text"],
                     date=r.get("date", "")) for i, r in enumerate(rows)]


def _run(docs, cfg, argv=()):
    """(kept (id, cluster size) sorted, rejected id -> (reason, detail)) of the transform."""
    import glob
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        opts = PipelineOptions(["--runner=FnApiRunner", *argv])
        with beam.Pipeline(options=opts) as p:
            out = p | beam.Create(docs, reshuffle=False) | dedup.MinHashDedup(cfg)
            k = out.kept | "K" >> beam.Map(lambda d: json.dumps(["kept", d.id.hex(), d.cluster_size]))
            r = out.rejected | "R" >> beam.Map(lambda r: json.dumps(["rejected", r.id.hex(), r.reason, r.detail]))
            _ = (k, r) | beam.Flatten() | beam.io.WriteToText(f"{tmp}/out")
        lines = [json.loads(line) for f in glob.glob(f"{tmp}/out*") for line in open(f)]
    return {"kept": sorted((x[1], x[2]) for x in lines if x[0] == "kept"),
            "rejected": {x[1]: (x[2], x[3]) for x in lines if x[0] == "rejected"}}


def test_transform_clusters_and_names_the_survivor():
    rows = [
        {"id": "a-old", "text": BASE * 4, "date": "2020-01-01T00:00:00Z"},
        {"id": "a-new", "text": (BASE * 4).replace("noon", "one"), "date": "2024-01-01T00:00:00Z"},
        {"id": "a-new-long", "text": BASE * 4 + " And more.", "date": "2024-01-01T00:00:00Z"},
        {"id": "b", "text": OTHER * 4, "date": "2024-01-01T00:00:00Z"},
        {"id": "empty", "text": "", "date": ""},
    ]
    docs = _docs(rows)
    out = _run(docs, dedup.DedupConfig())
    ids = {r["id"]: d.id.hex() for r, d in zip(rows, docs)}
    # newest fetch first, then the longest text: a-new-long survives its cluster of three
    assert out["kept"] == sorted([(ids["a-new-long"], 3), (ids["b"], 1), (ids["empty"], 1)])
    assert out["rejected"] == {ids["a-old"]: ("near_duplicate", ids["a-new-long"]),
                               ids["a-new"]: ("near_duplicate", ids["a-new-long"])}


@pytest.fixture(scope="module")
def dup_rows():
    texts = dict(sorted(articles().items())[:60])
    return build_set(texts, seed=3)


def test_same_output_with_one_and_two_workers(dup_rows):
    docs = _docs(dup_rows)
    cfg = dedup.DedupConfig(batch=16)
    one = _run(docs, cfg, ["--direct_running_mode=in_memory"])
    two = _run(docs, cfg, ["--direct_running_mode=multi_processing", "--direct_num_workers=2"])
    assert one == two
    assert len(one["kept"]) + len(one["rejected"]) == len(docs) and len(one["rejected"]) > 20
    assert sum(size for _, size in one["kept"]) == len(docs)  # cluster sizes account for every document


def test_signatures_carried_from_the_read_stage_give_the_same_clusters(dup_rows):
    import dataclasses
    cfg = dedup.DedupConfig(batch=16)
    docs = _docs(dup_rows + [{"id": "no-shingles", "text": "!!!"}])
    carried = [dedup.attach_signature(dataclasses.replace(d), None, cfg) for d in docs]
    assert carried[-1].minhash == b"" and all(len(d.minhash) == cfg.num_perm * 4 for d in carried[:-1])
    mixed = [c if i % 2 else d for i, (c, d) in enumerate(zip(carried, docs))]
    sigs, has = dedup.signatures([d.text for d in docs], cfg)
    for got, sig, ok in zip(dedup.batch_signatures(mixed, cfg), sigs, has):
        assert (got is None) == (not ok) and (got is None or (got == sig).all())
    assert _run(carried, cfg) == _run(mixed, cfg) == _run(docs, cfg)
    # the documents cross the join, and leave the stage, without their signatures
    assert dedup._CODER.decode(dedup._tag_doc(carried[0])[1][1:]).minhash is None


def test_a_run_that_does_not_converge_fails_loudly():
    # a path: each text shares 40 of its 100 words with the next one and none with the
    # one after, so the graph is a chain of 16 that one large-star round cannot make a star
    rng = random.Random(1)
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(7)) for _ in range(1000)]
    docs = _docs([{"id": f"p{i:02d}", "text": " ".join(words[i * 60:i * 60 + 100])} for i in range(16)])
    cfg = dict(bands=100, rows=2, ngram=1)
    out = _run(docs, dedup.DedupConfig(max_rounds=6, **cfg))
    assert len(out["kept"]) == 1 and out["kept"][0][1] == 16  # one cluster: the whole chain
    with pytest.raises(Exception, match="did not converge in 1 large-star rounds"):
        _run(docs, dedup.DedupConfig(max_rounds=1, **cfg))


def _ja_pages():
    """The visible text of every page of clueweb09-ja (29 pages of one shop's site)."""
    import lxml.html

    from gristmill.transforms.charset import decode_html
    from gristmill.transforms.read_warc import read_range

    path = shared_data("warc", "clueweb09-ja.warc.gz")
    size = path.stat().st_size
    texts = []
    for item in read_range(str(path), 0, 0, size, size):
        if isinstance(item, Document):
            root = lxml.html.fromstring(decode_html(item.html, item.charset)[0])
            for node in root.xpath("//script|//style"):
                node.drop_tree()
            texts.append(" ".join(root.text_content().split()))
    return texts


def test_japanese_pages_are_deduplicated_by_characters():
    # Japanese is written without spaces: the page text with its layout whitespace removed
    # is one "word", so word shingles could never match an edited copy; characters do.
    pages = ["".join(t.split()) for t in _ja_pages()]
    assert len(pages) == 29 and all(dedup.tokens(t)[1] and len(t.split()) == 1 for t in pages)
    rng = random.Random(0)
    rows = []
    for i, text in enumerate(pages):
        rows.append({"id": f"ja{i:02d}-0", "text": text})
        cut = text[:int(len(text) * 0.92)]                                 # truncated
        pos = rng.randrange(len(cut))
        rows.append({"id": f"ja{i:02d}-1", "text": cut[:pos] + "本日のお知らせです" + cut[pos:]})  # and edited

    def grams(text):
        return set(dedup.shingle_tuples(text))

    def jac(a, b):
        return len(a & b) / len(a | b)

    for a, b in zip(rows[::2], rows[1::2]):
        assert jac(grams(a["text"]), grams(b["text"])) > 0.8
    docs = _docs(rows)
    out = _run(docs, dedup.DedupConfig())
    label = [out["rejected"].get(d.id.hex(), (None, d.id.hex()))[1] for d in docs]
    for i in range(0, len(rows), 2):
        assert label[i] == label[i + 1], rows[i]["id"]   # every page found with its variant
    # the shop's pages are similar to each other (Jaccard 0.54 to 0.98): those at 0.9 or
    # more are one cluster; the crawl has more than one cluster
    for i in range(0, len(rows), 2):
        for j in range(i + 2, len(rows), 2):
            if jac(grams(rows[i]["text"]), grams(rows[j]["text"])) >= 0.9:
                assert label[i] == label[j]
    assert len(set(label)) >= 2 and len(out["kept"]) == len(set(label))
