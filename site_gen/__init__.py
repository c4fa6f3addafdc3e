"""site_gen: a static-site generator for the Pathway Figure OCR catalogue."""

__version__ = "0.1.0"
