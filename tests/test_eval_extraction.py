import gzip
import json

import pytest

from gristmill.pipelines import eval_extraction as E
from tests.conftest import shared_data


def test_shingle_score_as_the_benchmark_defines_it():
    truth = "one two three four five six"
    assert E.page_counts(truth, truth) == (1.0, 0.0, 0.0)
    tp, fp, fn = E.page_counts(truth, "one two three four seven")  # 1 of 3 shingles, 1 extra
    assert (tp, fp, fn) == pytest.approx((1 / 4, 1 / 4, 2 / 4))
    assert E.shingles("a b") == {("a", "b"): 1}          # fewer than 4 tokens: one shingle
    assert E.page_counts("", "") == (0.0, 0.0, 0.0)
    s = E.scores([(1.0, 0.0, 0.0), (0.5, 0.5, 0.0), (0.0, 0.0, 1.0)])
    # precision over the pages with tp + fp > 0, recall over those with tp + fn > 0
    assert s["precision"] == pytest.approx((1 + 0.5) / 2) and s["recall"] == pytest.approx((1 + 1 + 0) / 3)


def test_eval_on_a_small_folder(tmp_path):
    body = " ".join(f"The council met on day {i} to discuss the new library budget." for i in range(30))
    html = f"<html><body><nav>Home | News</nav><article><p>{body}</p></article></body></html>"
    (tmp_path / "a.html.gz").write_bytes(gzip.compress(html.encode()))
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps({"a": {"articleBody": body}}))
    rep = E.evaluate(str(tmp_path), str(truth), repeat=1)
    assert rep["pages"] == 1 and rep["ours"]["f1"] > 0.9 and rep["baseline"]["f1"] > 0.9
    with pytest.raises(E.UsageError, match="no b.html"):
        (tmp_path / "t2.json").write_text(json.dumps({"b": {"articleBody": "x"}}))
        E.evaluate(str(tmp_path), str(tmp_path / "t2.json"), repeat=1)


def test_pipeline_settings_on_the_shared_pages():
    html = shared_data("extraction", "html")
    rep = E.evaluate(str(html), str(shared_data("extraction", "ground-truth.json")), repeat=1)
    assert rep["pages"] == 181
    assert rep["baseline"]["f1"] == pytest.approx(0.960, abs=0.002)  # plain trafilatura, as published here
    assert rep["ours"]["f1"] >= 0.958
