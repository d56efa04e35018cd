import numpy as np
from datasketch import MinHash

from gristmill.transforms import dedup
from gristmill.transforms.document import Document, Rejection

BASE = ("The river festival returns this summer with boats, music and food stalls along the "
        "old harbour. Organisers expect more visitors than last year because the weather "
        "forecast is good and the new bridge makes the east bank easier to reach on foot. "
        "Local bakers will sell bread and cakes, and the rowing club will race at noon. ")
OTHER = ("A new study of mountain glaciers shows that the ice is thinning faster than "
         "scientists had predicted. The team measured the surface with drones every month "
         "and compared the results with satellite images from the previous decade. ")


def test_shingles_normalise_case_and_punctuation():
    assert dedup.shingles("A b, C d e!", 5) == dedup.shingles("a B c D E", 5) == [b"a b c d e"]
    assert dedup.shingles("two words", 5) == [b"two words"]


def test_signature_matches_datasketch_and_similarity_behaves():
    cfg = dedup.DedupConfig()
    sig = dedup.signature(BASE, cfg)
    ref = MinHash(num_perm=112, seed=1)
    for s in dedup.shingles(BASE):
        ref.update(s)
    assert sig.dtype == np.uint32 and np.array_equal(sig, ref.hashvalues)
    near = BASE.replace("at noon", "at one o'clock")
    j_near = np.mean(sig == dedup.signature(near, cfg))
    j_far = np.mean(sig == dedup.signature(OTHER, cfg))
    assert j_near > 0.7 and j_far < 0.1
    assert len(set(dedup.band_keys(sig)) & set(dedup.band_keys(dedup.signature(BASE + " ", cfg)))) == 14


def test_components_and_survivors():
    edges = dedup.star_edges(["c", "a", "b"]) + dedup.star_edges(["d", "b"]) + dedup.star_edges(["x", "y"])
    assert dict(dedup.survivors(edges)) == {
        "a": ("a", 4), "b": ("a", 4), "c": ("a", 4), "d": ("a", 4), "x": ("x", 2), "y": ("x", 2)}


def test_resolve_keeps_survivor_rejects_others():
    d = lambda i, off=0: Document(id=i, url="u" + i.hex(), input=0, offset=off, text=BASE)
    kept = list(dedup.resolve(b"a", [d(b"a")], [(b"a", 3)]))
    assert kept[0].cluster_size == 3
    (rej,) = dedup.resolve(b"b", [d(b"b")], [(b"a", 3)])
    assert isinstance(rej, Rejection) and rej.reason == "near_duplicate" and rej.detail == b"a".hex()
    out = list(dedup.resolve(b"c", [d(b"c", 5), d(b"c", 1)], []))
    assert out[0].reason == "duplicate_id" and out[1].offset == 1
