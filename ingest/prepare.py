"""Install-time preparation: export the bundled model to ONNX; with ``--index``, bring the
default index up to date (an incremental ingest embeds nothing when the data is unchanged).

    python -m ingest.prepare [--index]
"""

from __future__ import annotations

import argparse
import sys

from assistant import Settings, configure_offline_env


def main(argv: list[str] | None = None) -> int:
    configure_offline_env()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", action="store_true", help="also ingest the data dir")
    args = parser.parse_args(argv)
    settings = Settings()

    from assistant import load_embedder

    embedder = load_embedder(settings)
    print(f"model ready: {embedder.space} ({settings.embedding_backend})")
    if args.index:
        from ingest.pipeline import ingest

        report = ingest(settings, embedder, log=lambda m: print(m, file=sys.stderr))
        print(f"index {settings.chroma_url or settings.index_dir}: {report.summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
