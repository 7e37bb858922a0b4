"""``babelir judge serve PROJECT [--host 127.0.0.1] [--port 8081]``: the judging web page for assessors."""

from __future__ import annotations

from babelir.cli.argtypes import port


def register(p) -> None:
    p.add_argument("project", help="the judging project directory (made by babelir pool)")
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=port, default=8081, help="port (default 8081)")


def run(args) -> int:
    from babelir.errors import BabelirError

    try:
        import uvicorn

        from babelir.judge.app import create_judge_app
    except ImportError:
        raise BabelirError("babelir judge serve needs fastapi and uvicorn: pip install 'babelir[serve]'") from None
    from babelir.cli.argtypes import check_listen

    check_listen(args.host, args.port)
    print(f"loading {args.project} and its languages' analyzers", flush=True)
    app = create_judge_app(args.project, warm=True)
    project = app.state.project
    with project.lock:
        people = [name for name, kind, _ in project.assessors() if kind == "person"]
    print(f"judging {args.project} on http://{args.host}:{args.port}/", flush=True)
    if not people:
        print(f"no assessors yet: add one with  babelir judge assessor add {args.project} NAME --langs th,ar\n"
              "  (it prints the secret they log in with)", flush=True)
    else:
        print(f"{len(people)} assessor(s): {', '.join(people)}", flush=True)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print("note: this server speaks plain HTTP: over a network, put it behind a TLS proxy (caddy, nginx) "
              "so that secrets and judgments are not sent in the clear", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
