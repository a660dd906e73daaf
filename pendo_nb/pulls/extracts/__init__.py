"""Local extracts: a period of a subscription in Parquet files (``pn.extract``), and the
manifest that says what an extract holds and checks that it is whole."""

from pendo_nb.pulls.extracts.manifest import read_manifest, verify_files
from pendo_nb.pulls.extracts.pull import extract_period

__all__ = ["extract_period", "read_manifest", "verify_files"]
