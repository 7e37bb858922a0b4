"""The index manifest (``manifest.json``): what an index is and how it was built.

Fields: ``format`` and ``format_version`` (checked when an index is opened), ``analyzer`` (the
configuration to rebuild the analyzer with), ``bm25`` (k1, b), ``doc_count``, ``languages``
(documents per language), ``total_terms``, ``checksums`` (sha256 of each live postings
segment file, ``lexical/NAME.seg``) and ``babelir_version``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from babelir.errors import IndexFormatError
from babelir.io.atomic import atomic_write_json

FORMAT = "babelir-index"
FORMAT_VERSION = 2  # 2: postings segments (lexical/*.seg); 1 was tantivy
MANIFEST = "manifest.json"


def sha256_file(path: Path) -> str:
    """The hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(directory: Path) -> dict[str, Any]:
    """Read and check an index's manifest; raises IndexFormatError when it is missing or foreign."""
    path = directory / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexFormatError(f"{directory}: not a babelir index (no {MANIFEST})") from None
    except json.JSONDecodeError as exc:
        raise IndexFormatError(f"{path}: damaged manifest ({exc})") from None
    if manifest.get("format") != FORMAT:
        raise IndexFormatError(f"{path}: not a babelir index manifest (format {manifest.get('format')!r})")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexFormatError(f"{path}: index format version {manifest.get('format_version')} is not supported "
                          f"(this babelir reads version {FORMAT_VERSION}); rebuild the index")
    return manifest


def write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    """Write the manifest atomically."""
    atomic_write_json(directory / MANIFEST, manifest)
