"""gristmill: crawl to corpus to model."""
__version__ = "0.1.0"
