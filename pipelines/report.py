"""`gristmill report RUN_DIR [--output FILE]`: one self-contained HTML page about a run.

It reads what the run directory holds: stats.json (the funnel, languages, PII replaced,
the stages' own times), manifest.json (the shards and their tokens; absent for a failed
run, whose page then says so), the metadata tables docs/*.parquet (per kept document:
language and its score, WARC record length, characters and lines after Quality's line
filter, cluster size, PII per type, tokens; only these columns are read) and rejected/
(for the language LangId found in the documents it dropped). Every figure is drawn with
matplotlib (Agg) and embedded as a base64 PNG, with its numbers in a table beside it: the
page needs no server, no network and no other file. Writes RUN_DIR/report.html unless
--output says otherwise.
"""
from __future__ import annotations

import argparse
import base64
import collections
import datetime
import gzip
import html
import io
import json
import math
import sys
from typing import Optional

from gristmill.usage import UsageError, report

PROG = "gristmill report"
SECTIONS = (  # (id, title): the page's sections, in order
    ("summary", "Summary"),
    ("funnel", "Funnel: documents per stage and why they were dropped"),
    ("languages", "Languages"),
    ("lengths", "Document length before and after"),
    ("duplicates", "Duplicate clusters"),
    ("pii", "PII per type"),
    ("shards", "Tokens per shard"),
    ("times", "Stage times"),
)
METADATA_COLUMNS = ("lang", "lang_score", "length", "q_chars", "q_c4_lines_in", "q_c4_lines_kept",
                    "cluster_size", "num_tokens", "split")
TOP_REASONS = 12  # drop reasons drawn one by one; the rest of a stage's as "other"


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line (gristmill.usage), not argparse's usage + error
        raise UsageError(f"{message} (see {PROG} --help)")


# ------------------------------------------------------------------------- reading the run

def _fs():
    from apache_beam.io.filesystems import FileSystems
    return FileSystems


def _join(run: str, rel: str) -> str:
    return rel if "://" in rel or rel.startswith("/") else f"{run.rstrip('/')}/{rel}"


def _read_bytes(path: str) -> bytes:
    from apache_beam.io.filesystem import CompressionTypes
    with _fs().open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
        return f.read()


def _read_json(path: str) -> dict:
    try:
        data = json.loads(_read_bytes(path))
    except (OSError, ValueError) as e:
        raise UsageError(f"{path}: unreadable ({type(e).__name__}: {e})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: not a JSON object")
    return data


def load_run(run: str) -> tuple[dict, Optional[dict]]:
    """(stats, manifest or None for a failed run), or UsageError saying why not a run."""
    fs = _fs()
    try:
        if "://" not in run:
            import os
            if not os.path.isdir(run):
                raise UsageError(f"{run}: no such directory")
        has_stats = fs.exists(_join(run, "stats.json"))
        has_manifest = fs.exists(_join(run, "manifest.json"))
    except UsageError:
        raise
    except Exception as e:  # an unknown scheme, no credentials, ...
        raise UsageError(f"{run}: cannot read it ({type(e).__name__}: {e})") from None
    if not has_stats:
        raise UsageError(f"{run}: not a run directory (no stats.json)")
    stats = _read_json(_join(run, "stats.json"))
    if not isinstance(stats.get("stages"), list):
        raise UsageError(f"{_join(run, 'stats.json')}: not a gristmill stats file (no stages)")
    manifest = _read_json(_join(run, "manifest.json")) if has_manifest else None
    return stats, manifest


def shard_entries(manifest: Optional[dict]) -> list[dict]:
    """The manifest's shards in order, each with its split."""
    if not manifest:
        return []
    return [{**s, "split": split} for split, shards in manifest.get("splits", {}).items() for s in shards]


def read_metadata(run: str, manifest: Optional[dict]) -> dict[str, list]:
    """The METADATA_COLUMNS of every kept document (those a table has), from the shards'
    metadata tables named in the manifest."""
    import pyarrow.parquet as pq

    cols: dict[str, list] = {c: [] for c in METADATA_COLUMNS}
    pii: dict[str, list] = {}
    for s in shard_entries(manifest):
        if not s.get("metadata"):
            continue
        pf = pq.ParquetFile(io.BytesIO(_read_bytes(_join(run, s["metadata"]))))
        names = pf.schema_arrow.names
        wanted = [c for c in names if c in METADATA_COLUMNS or c.startswith("pii_")]
        table = pf.read(columns=wanted)
        rows = table.num_rows
        for c in METADATA_COLUMNS:
            cols[c] += table.column(c).to_pylist() if c in names else [None] * rows
        for c in (c for c in names if c.startswith("pii_")):
            pii.setdefault(c, [0] * (len(cols["lang"]) - rows))
        for c, values in pii.items():
            values += table.column(c).to_pylist() if c in names else [0] * rows
    cols["pii"] = pii
    return cols


def langid_drops(run: str, manifest: Optional[dict]) -> collections.Counter:
    """{(language LangId found, reason): documents} of LangId's rejections (their detail
    is `<code>:<score>`), from rejected/*.jsonl.gz; only LangId's lines are parsed."""
    out: collections.Counter = collections.Counter()
    if manifest and manifest.get("rejected") is not None:
        files = [_join(run, f) for f in manifest["rejected"]]
    else:
        try:
            files = [m.path for m in _fs().match([_join(run, "rejected/*.jsonl.gz")])[0].metadata_list]
        except Exception:
            files = []
    for path in sorted(files):
        try:
            with gzip.open(io.BytesIO(_read_bytes(path)), "rt", encoding="utf-8") as f:
                for line in f:
                    if '"langid"' not in line:
                        continue
                    r = json.loads(line)
                    if r.get("stage") == "langid":
                        out[(str(r.get("detail", "")).split(":", 1)[0] or "?", r.get("reason", "?"))] += 1
        except (OSError, ValueError, EOFError):
            continue
    return out


# ------------------------------------------------------------------------- drawing

def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.rcParams.update({"figure.dpi": 100, "font.size": 9, "axes.spines.top": False,
                         "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3})
    return plt


def _png(fig) -> str:
    """The figure as an <img> with its PNG inline (base64), then closed."""
    plt = _plt()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="figure" src="data:image/png;base64,{data}">'


def _log_bins(values: list[float], n: int = 30) -> list[float]:
    pos = [v for v in values if v and v > 0]
    if not pos:
        return [0.5, 1.5]
    lo, hi = math.log10(min(pos)), math.log10(max(pos))
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    return [10 ** (lo + (hi - lo) * i / n) for i in range(n + 1)]


def _plain_log_axis(axis) -> None:
    """A log axis labelled 200, 1,000, 5,000 rather than 2x10^2."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def _count_bins(values: list[float]) -> tuple[list[float], bool]:
    """Bins for counts: one per integer when they are few, else log bins (and True)."""
    hi = max(values, default=1)
    if hi <= 60:
        return [x - 0.5 for x in range(int(min(values, default=0)), int(hi) + 2)], False
    return _log_bins(values, 30), True


def _median(values: list[float]) -> float:
    v = sorted(values)
    if not v:
        return float("nan")
    m = len(v) // 2
    return v[m] if len(v) % 2 else (v[m - 1] + v[m]) / 2


def _table(header: list[str], rows: list[list], numeric_from: int = 1) -> str:
    def cell(i, x, tag):
        cls = ' class="n"' if i >= numeric_from else ""
        if isinstance(x, float):
            x = f"{x:,.3f}" if abs(x) < 1000 else f"{x:,.0f}"
        elif isinstance(x, int):
            x = f"{x:,}"
        return f"<{tag}{cls}>{html.escape(str(x))}</{tag}>"
    head = "".join(cell(i, h, "th") for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(cell(i, x, "td") for i, x in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def _none(what: str) -> str:
    return f'<p class="none">{html.escape(what)}</p>'


def section_summary(stats: dict, manifest: Optional[dict], run: str) -> str:
    rows = [["run directory", run], ["status", stats.get("status", "?")]]
    if stats.get("failure"):
        rows.append(["failure", stats["failure"]])
    if manifest:
        rows += [["run id", manifest.get("run_id", "")], ["code version", manifest.get("code_version", "")],
                 ["inputs", len(manifest.get("inputs", []))]]
    rows += [["records read", stats.get("records_read", 0)], ["documents kept", stats.get("documents_kept", 0)]]
    for split, n in (stats.get("tokens") or {}).items():
        rows.append([f"tokens ({split})", n])
    for split, n in (stats.get("documents") or {}).items():
        rows.append([f"documents ({split})", n])
    tok = stats.get("tokenizer") or {}
    for split, bpt in (tok.get("bytes_per_token") or {}).items():
        rows.append([f"bytes per token ({split})", bpt])
    if manifest:
        t = manifest.get("tokenizer", {})
        rows.append(["tokenizer vocabulary", t.get("vocab_size", "")])
    rows.append(["accounting holds", "yes" if stats.get("accounting_ok") else
                 "NO: " + "; ".join(stats.get("accounting_problems", []))])
    out = _table(["", ""], rows, numeric_from=9)
    if not manifest:
        out += _note("No manifest.json: the run did not finish, so there are no shards or metadata "
                     "tables; the figures below show what stats.json holds.")
    return out


def section_funnel(stats: dict) -> str:
    plt = _plt()
    stages = stats["stages"]
    names = [s["stage"] for s in stages]
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.2), gridspec_kw={"width_ratios": [1, 1.4]})
    ins, kept = [s["in"] for s in stages], [s["kept"] for s in stages]
    y = list(range(len(stages)))[::-1]
    a.barh(y, ins, color="#c9d6e3", label="in")
    a.barh(y, kept, color="#3b75af", label="kept")
    for yi, k in zip(y, kept):
        a.text(k, yi, f" {k:,}", va="center", fontsize=8)
    a.set_yticks(y, names)
    a.set_xlabel("records / documents")
    a.set_title("in and kept per stage")
    a.legend(loc="lower right")
    # drop reasons: the largest overall one by one, the rest of each stage as "other"
    total = collections.Counter()
    for s in stages:
        for r, n in s["dropped"].items():
            total[(s["stage"], r)] += n
    top = [k for k, _ in total.most_common(TOP_REASONS)]
    bars = [(f"{st}: {r}", n) for (st, r), n in sorted(total.items(), key=lambda kv: names.index(kv[0][0]))
            if (st, r) in top]
    for s in stages:
        rest = sum(n for r, n in s["dropped"].items() if (s["stage"], r) not in top)
        if rest:
            bars.append((f"{s['stage']}: other", rest))
    bars.sort(key=lambda kv: (names.index(kv[0].split(":")[0]), -kv[1]))
    if bars:
        yb = list(range(len(bars)))[::-1]
        colors = plt.get_cmap("tab10")
        b.barh(yb, [n for _, n in bars], color=[colors(names.index(lbl.split(":")[0]) % 10) for lbl, _ in bars])
        for yi, (_, n) in zip(yb, bars):
            b.text(n, yi, f" {n:,}", va="center", fontsize=8)
        b.set_yticks(yb, [lbl for lbl, _ in bars])
        b.set_xscale("log")
        b.set_xlabel("dropped (log scale)")
    b.set_title("dropped, by stage and reason")
    fig.tight_layout()
    rows = [[s["stage"], s["in"], s["kept"], s["dropped_total"], s.get("errors", 0),
             ", ".join(f"{r} {n:,}" for r, n in s["dropped"].items()) or "-"] for s in stages]
    return (_png(fig) + _table(["stage", "in", "kept", "dropped", "errors", "drop reasons"], rows)
            + _note("The read stage's input is every WARC record; it keeps HTML responses, so its drops "
                    "include the request and metadata records of each fetch."))


def section_languages(stats: dict, meta: dict, drops: collections.Counter, min_score=None) -> str:
    plt = _plt()
    kept = collections.Counter(stats.get("languages") or {})
    if not kept and meta["lang"]:
        kept = collections.Counter(x for x in meta["lang"] if x)
    reasons = sorted({r for _, r in drops})
    by_lang = collections.defaultdict(collections.Counter)
    for (lang, reason), n in drops.items():
        by_lang[lang][reason] += n
    langs = sorted(set(kept) | set(by_lang), key=lambda x: -(kept[x] + sum(by_lang[x].values())))[:25]
    if not langs:
        return _none("No language counts: no document reached LangId.")
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, max(3, 0.28 * len(langs) + 1.2)))
    y = list(range(len(langs)))[::-1]
    left = [kept[x] for x in langs]
    a.barh(y, left, color="#3b75af", label="kept (in the shards)")
    colors = {"language_not_kept": "#d9a441", "language_score_low": "#c0504d"}
    for r in reasons:
        vals = [by_lang[x][r] for x in langs]
        a.barh(y, vals, left=left, color=colors.get(r, "#999999"), label=f"dropped by LangId: {r}")
        left = [p + v for p, v in zip(left, vals)]
    a.set_yticks(y, langs)
    a.set_xlabel("documents")
    a.set_title("documents per language")
    a.legend(loc="lower right", fontsize=8)
    scores = [s for s in meta["lang_score"] if s is not None]
    if scores:
        lo = max(0.0, math.floor(20 * min(scores + ([min_score] if min_score else []))) / 20 - 0.05)
        b.hist(scores, bins=[lo + (1 - lo) * i / 40 for i in range(41)], color="#3b75af")
        if min_score:
            b.axvline(min_score, color="#c0504d", linestyle="--", linewidth=1,
                      label=f"--lang-min-score {min_score:g}")
            b.legend(loc="upper left", fontsize=8)
        b.set_xlabel("language score of kept documents")
        b.set_ylabel("documents")
        b.set_xlim(lo, 1)
    b.set_title("LangId score (kept documents)")
    fig.tight_layout()
    rows = [[x, kept[x], *[by_lang[x][r] for r in reasons]] for x in langs]
    return (_png(fig) + _table(["language", "kept", *[f"dropped: {r}" for r in reasons]], rows)
            + _note("Kept: documents in the shards (stats.json languages). Dropped: LangId's rejections "
                    "by the language it found (their detail in rejected/); the later stages' drops "
                    "are not split by language here."))


def section_lengths(meta: dict) -> str:
    plt = _plt()
    record = [x for x in meta["length"] if x]
    chars = [x for x in meta["q_chars"] if x is not None]
    tokens = [x for x in meta["num_tokens"] if x]
    if not (record or chars or tokens):
        return _none("No metadata tables: no kept documents to measure.")
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4))
    for values, label, color in [(record, "WARC record (bytes, as stored)", "#999999"),
                                 (chars, "text after Quality (characters)", "#3b75af"),
                                 (tokens, "tokens", "#d9a441")]:
        if values:
            a.hist(values, bins=_log_bins(record + chars + tokens, 40), histtype="step", linewidth=1.6,
                   color=color, label=f"{label}, median {_median(values):,.0f}")
    a.set_xscale("log")
    _plain_log_axis(a.xaxis)
    a.set_xlabel("length (log scale)")
    a.set_ylabel("documents")
    a.set_title("length of each kept document: record, text, tokens")
    a.legend(fontsize=8)
    lines_in = [x for x in meta["q_c4_lines_in"] if x is not None]
    lines_kept = [x for x in meta["q_c4_lines_kept"] if x is not None]
    if lines_in:
        bins, log = _count_bins(lines_in + lines_kept)
        b.hist(lines_in, bins=bins, histtype="step", linewidth=1.6, color="#999999",
               label=f"before the line filter, median {_median(lines_in):,.0f}")
        b.hist(lines_kept, bins=bins, histtype="step", linewidth=1.6, color="#3b75af",
               label=f"after, median {_median(lines_kept):,.0f}")
        if log:
            b.set_xscale("log")
            _plain_log_axis(b.xaxis)
        b.legend(fontsize=8)
    b.set_xlabel("lines" + (" (log scale)" if lines_in and log else ""))
    b.set_ylabel("documents")
    b.set_title("lines of extracted text, before and after Quality's C4 line filter")
    fig.tight_layout()

    def row(label, v):
        v = sorted(v)
        if not v:
            return [label, 0, "-", "-", "-", "-"]
        return [label, len(v), v[0], _median(v), v[int(0.9 * (len(v) - 1))], sum(v)]
    rows = [row("WARC record bytes", record), row("text characters after Quality", chars),
            row("tokens", tokens), row("lines before C4 line filter", lines_in),
            row("lines after C4 line filter", lines_kept)]
    rows = [[r[0], *[int(x) if isinstance(x, float) and x == int(x) else x for x in r[1:]]] for r in rows]
    return (_png(fig) + _table(["per kept document", "documents", "min", "median", "p90", "total"], rows)
            + _note("Before: the WARC record as it is stored (the gzip member of a .warc.gz, so "
                    "compressed bytes) and the lines of the extracted text before Quality's C4 line "
                    "filter; the metadata holds no character count of the text before that filter. "
                    "After: the text's characters after it (PII replacement changes them slightly) "
                    "and its tokens as stored in its shard (BOS and EOS included)."))


def section_duplicates(stats: dict, meta: dict) -> str:
    plt = _plt()
    sizes = collections.Counter(x for x in meta["cluster_size"] if x)
    by_stage = {s["stage"]: s for s in stats["stages"]}
    near = by_stage.get("dedup", {}).get("dropped", {}).get("near_duplicate", 0)
    url_dups = by_stage.get("url_dedup", {}).get("dropped", {}).get("url_duplicate", 0)
    facts = _note(f"MinHash dedup dropped {near:,} near duplicates; URL dedup dropped {url_dups:,} "
                  "fetches of a URL already kept.")
    if not sizes:
        return facts + _none("No metadata tables: no cluster sizes.")
    fig, ax = plt.subplots(figsize=(8, 3.6))
    xs = sorted(sizes)
    ax.bar([str(x) for x in xs], [sizes[x] for x in xs], color="#3b75af")
    for i, x in enumerate(xs):
        ax.text(i, sizes[x], f"{sizes[x]:,}", ha="center", va="bottom", fontsize=8)
    ax.set_yscale("log")
    ax.set_xlabel("cluster size (documents: the survivor and its near duplicates)")
    ax.set_ylabel("clusters (log scale)")
    ax.set_title("near-duplicate cluster sizes (one survivor per cluster)")
    fig.tight_layout()
    removed = sum((x - 1) * n for x, n in sizes.items())
    rows = [[x, sizes[x], (x - 1) * sizes[x]] for x in xs]
    return (_png(fig) + _table(["cluster size", "clusters", "documents removed"], rows) + facts
            + _note(f"Size 1: a document with no near duplicate. The clusters of the kept documents "
                    f"account for {removed:,} removed documents (a survivor later dropped by another "
                    "stage takes its cluster's count with it)."))


def section_pii(stats: dict, meta: dict) -> str:
    plt = _plt()
    found = collections.Counter(stats.get("pii_found") or {})
    docs_with = {c[len("pii_"):].upper(): sum(1 for v in vals if v)
                 for c, vals in meta["pii"].items()}
    by_stage = {s["stage"]: s for s in stats["stages"]}
    too_much = by_stage.get("pii", {}).get("dropped", {}).get("too_much_pii", 0)
    types = sorted(set(found) | {t for t, n in docs_with.items() if n}, key=lambda t: -found[t])
    note = _note(f"Replaced in the kept documents (stats.json pii_found) and the documents that had at "
                 f"least one (the metadata's pii_* columns); {too_much:,} documents dropped as "
                 "too_much_pii.")
    if not types:
        return note + _none("No PII found.")
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.4 * len(types) + 1)))
    y = list(range(len(types)))[::-1]
    h = 0.4
    ax.barh([v + h / 2 for v in y], [found[t] for t in types], height=h, color="#c0504d", label="replaced")
    ax.barh([v - h / 2 for v in y], [docs_with.get(t, 0) for t in types], height=h, color="#3b75af",
            label="documents with any")
    ax.set_yticks(y, types)
    ax.set_xlabel("count")
    ax.set_title("PII per type")
    ax.legend(loc="lower right")
    fig.tight_layout()
    rows = [[t, found[t], docs_with.get(t, 0)] for t in types]
    return _png(fig) + _table(["type", "replaced", "documents with any"], rows) + note


def section_shards(manifest: Optional[dict]) -> str:
    plt = _plt()
    shards = shard_entries(manifest)
    if not shards:
        return _none("No shards (the run did not finish).")
    target = (manifest.get("config") or {}).get("shard_tokens")
    def short(s):  # train-00003-of-00004.tok -> "train 3" (the table below has the names)
        name = s["path"].rsplit("/", 1)[-1].removesuffix(".tok").split("-")
        label = f"{name[0]} {int(name[1])}" if len(name) >= 2 and name[1].isdigit() else "-".join(name)
        return f"{s['language']} {label}" if "language" in s else label
    labels = [short(s) for s in shards]
    fig, ax = plt.subplots(figsize=(max(6, 0.35 * len(shards) + 2), 4))
    colors = {"train": "#3b75af", "val": "#d9a441"}
    ax.bar(range(len(shards)), [s["num_tokens"] for s in shards],
           color=[colors.get(s["split"], "#999999") for s in shards])
    top = max((s["num_tokens"] for s in shards), default=0)
    if target and target <= 3 * max(top, 1):
        ax.axhline(target, color="#444444", linestyle="--", linewidth=1, label=f"--shard-tokens {target:,}")
    elif target:  # far above the shards: named, not drawn (it would flatten every bar)
        ax.plot([], [], " ", label=f"--shard-tokens {target:,} (off the scale)")
    for i, s in enumerate(shards):
        ax.text(i, s["num_tokens"], f"{s['num_tokens']:,}", ha="center", va="bottom", fontsize=7,
                rotation=90 if len(shards) > 12 else 0)
    from matplotlib.ticker import FuncFormatter
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    from matplotlib.patches import Patch
    handles = [Patch(color=c, label=split) for split, c in colors.items()
               if any(s["split"] == split for s in shards)]
    ax.set_ylim(top=1.3 * max(top, target if target and target <= 3 * max(top, 1) else 0, 1))
    ax.legend(handles=ax.get_legend_handles_labels()[0] + handles, fontsize=8, loc="upper right", ncol=3)
    ax.set_xticks(range(len(shards)), labels, rotation=60 if len(shards) > 8 else 0,
                  ha="right" if len(shards) > 8 else "center", fontsize=7 if len(shards) > 20 else 8)
    ax.set_ylabel("tokens")
    ax.set_title("tokens per shard")
    fig.tight_layout()
    rows = [[s["path"], s["split"], s["num_docs"], s["num_tokens"]] for s in shards]
    return (_png(fig) + _table(["shard", "split", "documents", "tokens"], rows, numeric_from=2)
            + _note("A shard's documents are chosen by a hash of their id, so shards of a split hold "
                    "about the same number of tokens: --shard-tokens on average, not a maximum."))


def section_times(stats: dict) -> str:
    plt = _plt()
    times = stats.get("stage_times") or {}
    steps = times.get("steps") or {}
    if not steps:
        return _none("This run's stats.json holds no stage times (a run of an older gristmill).")
    names = list(steps)
    wall = [steps[s].get("wall_s", 0.0) for s in names]
    cpu = [steps[s].get("cpu_s", 0.0) for s in names]
    fig, ax = plt.subplots(figsize=(9, 0.38 * len(names) + 1.2))
    y = list(range(len(names)))[::-1]
    h = 0.4
    ax.barh([v + h / 2 for v in y], wall, height=h, color="#3b75af", label="wall")
    ax.barh([v - h / 2 for v in y], cpu, height=h, color="#d9a441", label="CPU")
    for yi, w in zip(y, wall):
        ax.text(w, yi + h / 2, f" {w:,.2f} s", va="center", fontsize=8)
    ax.set_yticks(y, names)
    ax.set_xlabel("seconds, summed over workers")
    ax.set_title("time in each stage's own functions")
    ax.legend(loc="lower right")
    fig.tight_layout()
    total = sum(wall) or 1.0
    rows = [[s, w, c, f"{100 * w / total:.1f}%"] for s, w, c in zip(names, wall, cpu)]
    rows.append(["all", sum(wall), sum(cpu), "100%"])
    return (_png(fig) + _table(["step", "wall s", "CPU s", "share of wall"], rows)
            + _note(times.get("about", "")))


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; }
nav a { margin-right: 1em; color: #3b75af; }
img { max-width: 100%; display: block; margin: 0.5em 0; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
th, td { border: 1px solid #ddd; padding: 2px 8px; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #555; font-size: 0.85em; max-width: 60em; } .none { color: #a33; }
"""


def render(run: str, stats: dict, manifest: Optional[dict], meta: dict, drops: collections.Counter) -> str:
    bodies = {
        "summary": section_summary(stats, manifest, run),
        "funnel": section_funnel(stats),
        "languages": section_languages(stats, meta, drops,
                                       ((manifest or {}).get("config") or {}).get("lang_min_score")),
        "lengths": section_lengths(meta),
        "duplicates": section_duplicates(stats, meta),
        "pii": section_pii(stats, meta),
        "shards": section_shards(manifest),
        "times": section_times(stats),
    }
    nav = "".join(f'<a href="#{sid}">{html.escape(title.split(":")[0])}</a>' for sid, title in SECTIONS)
    parts = [f'<section id="{sid}"><h2>{html.escape(title)}</h2>{bodies[sid]}</section>'
             for sid, title in SECTIONS]
    made = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    title = f"gristmill run report: {run}"
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><p class=\"note\">made {made} by gristmill report</p>"
            f"<nav>{nav}</nav>{''.join(parts)}</body></html>\n")


def make_report(run: str, output: str = "") -> str:
    """Write the report of a run directory; return its path (raises UsageError)."""
    run = run.rstrip("/") or "/"
    stats, manifest = load_run(run)
    try:
        _plt()
    except ImportError as e:
        raise UsageError(f"matplotlib is needed to draw the report ({e})") from None
    page = render(run, stats, manifest, read_metadata(run, manifest), langid_drops(run, manifest))
    path = output or _join(run, "report.html")
    try:
        with _fs().create(path) as f:
            f.write(page.encode("utf-8"))
    except Exception as e:
        raise UsageError(f"--output {path}: cannot write it ({type(e).__name__}: {e})") from None
    return path


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = _Parser(prog=PROG, description=__doc__.split("\n\n")[0])
    ap.add_argument("run_dir", metavar="RUN_DIR", help="a run directory (local or gs://)")
    ap.add_argument("--output", default="", help="where to write the page (default RUN_DIR/report.html)")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parse_args(argv)
        path = make_report(args.run_dir, args.output)
    except UsageError as e:
        return report(PROG, e)
    print(f"[report] wrote {path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
