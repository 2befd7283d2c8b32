"""``python app.py serve`` and ``python app.py feedback export``: the web front end."""

from __future__ import annotations

import argparse
import errno
import socket
import sys
from pathlib import Path
from typing import Any

from assistant import Settings, configure_offline_env


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Load the model once, ingest the default corpus when there is no index, then serve."""
    configure_offline_env()
    from assistant import Assistant, IndexUnavailable, load_embedder
    from vectorstore import PassageStore

    host = args.host or settings.host
    port = args.port or settings.port
    busy = port_busy(host, port)
    if busy:
        print(f"error: {busy}", file=sys.stderr)
        return 1
    embedder = load_embedder(settings)
    try:
        PassageStore.open(settings.store_location, embedder.space)
    except IndexUnavailable as missing:
        from ingest import IngestError, ingest

        print(f"index not usable ({missing}); ingesting {settings.data_dir}", file=sys.stderr)
        try:
            report = ingest(settings, embedder, log=lambda m: print(m, file=sys.stderr))
        except (IndexUnavailable, IngestError, OSError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(report.summary(), file=sys.stderr)
    try:
        assistant = Assistant(settings, embedder)
    except IndexUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if settings.reload_interval > 0:
        assistant.start_reloading(settings.reload_interval)  # re-ingests served without restart

    import uvicorn

    from web.server import create_app

    app = create_app(settings, assistant)
    print(f"serving on http://{host}:{port}/ (API: /api/ask, embed: /embed/)", file=sys.stderr)
    uvicorn.run(
        app,
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        log_level=args.log_level,
    )
    return 0


def port_busy(host: str, port: int) -> str | None:
    """Why the server can't listen on host:port (checked before the model loads and before
    anything is announced), or None when it can. Binds and closes a socket as uvicorn will
    (with SO_REUSEADDR, so a port in TIME_WAIT is not reported busy)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return (
                f"port {port} on {host} is already in use (another server?); pick another "
                "with --port N or ASSISTANT_PORT=N"
            )
        return f"can't listen on {host}:{port}: {exc.strerror or exc}"
    return None


def cmd_feedback_export(args: argparse.Namespace, settings: Settings) -> int:
    from web.feedback import FeedbackStore

    count = FeedbackStore(Path(settings.feedback_db)).export_csv(Path(args.file))
    print(f"{count} rating(s) written to {args.file}")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help="web chat, JSON API and embeddable chat")
    p.add_argument("--host", help="address to listen on (default: ASSISTANT_HOST, 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: ASSISTANT_PORT, 7860)")
    p.add_argument("--log-level", default="warning", help="uvicorn log level")
    p.set_defaults(handler=cmd_serve)

    p = sub.add_parser("feedback", help="like/dislike ratings from the web chat")
    actions = p.add_subparsers(dest="action", required=True)
    e = actions.add_parser("export", help="write every rating to a CSV file")
    e.add_argument("file", help="target .csv")
    e.set_defaults(handler=cmd_feedback_export)
