"""The bundled synthetic crawl (`gristmill sample-data`), apart from what the pipeline's
workers import: `crawl` writes the .warc.gz, `text` holds the generated prose.

  from gristmill.sampledata import write_sample
  write_sample("sample.warc.gz", pages=2000, seed=0)   # same seed, same bytes
"""
from gristmill.sampledata.crawl import (BLOCKED_HOSTS, KINDS, LOW_QUALITY, MALFORMED, NON_HTML,
                                        luhn_ok, sample_pages, write_sample)

__all__ = ["write_sample", "sample_pages", "luhn_ok", "KINDS", "BLOCKED_HOSTS", "LOW_QUALITY",
           "MALFORMED", "NON_HTML"]
