"""Install-time preparation: export the bundled model to ONNX; with ``--index``, bring the
default index up to date (an incremental ingest embeds nothing when the data is unchanged).

    python -m ingest.prepare [--index]
"""

from __future__ import annotations

import argparse
import sys

from assistant import SettingsError, configure_offline_env, load_settings
from vectorstore import IndexLocked, IndexUnavailable


def main(argv: list[str] | None = None) -> int:
    configure_offline_env()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", action="store_true", help="also ingest the data dir")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        for line in exc.lines:
            print(f"error: {line}", file=sys.stderr)
        return 2

    from assistant import load_embedder

    embedder = load_embedder(settings)
    print(f"model ready: {embedder.space} ({settings.embedding_backend})")
    if args.index:
        from ingest.pipeline import ingest

        try:
            report = ingest(settings, embedder, log=lambda m: print(m, file=sys.stderr))
        except IndexLocked as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except IndexUnavailable as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"index {settings.chroma_url or settings.index_dir}: {report.summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
