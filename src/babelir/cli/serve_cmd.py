"""``babelir serve --index NAME=DIR [--index NAME=DIR …] [--host 127.0.0.1] [--port 8080] [--writable]``

At start it prints, per index, the modes whose searches carry abstention (a calibration of that
mode's pipeline stored in the index by ``babelir abstain calibrate``; :mod:`babelir.serve.abstention`);
a calibration it cannot use is named in a warning, and those searches answer ``"abstain": null``."""

from __future__ import annotations

import os
import re

from babelir.cli.argtypes import port


def register(p) -> None:
    p.add_argument("--index", action="append", required=True, metavar="NAME=DIR",
                   help="an index to serve under NAME (repeatable); requests name indexes, never paths")
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=port, default=8080, help="port (default 8080)")
    p.add_argument("--writable", action="store_true",
                   help="allow adding and deleting documents (needs --api-key or BABELIR_API_KEY)")
    p.add_argument("--api-key", default=None, help="the key writes must send as X-API-Key (default $BABELIR_API_KEY)")


def parse_indexes(items: list[str]) -> dict[str, str]:
    """``NAME=DIR`` pairs as a dict; a malformed pair, a bad name or a repeated name is a user error."""
    from babelir.errors import BabelirError

    indexes = {}
    for item in items:
        name, sep, directory = item.partition("=")
        if not sep or not directory:
            raise BabelirError(f"--index takes NAME=DIR; got {item!r}")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", name):
            raise BabelirError(f"index name {name!r}: letters, digits, '_', '.', '-' (at most 64)")
        if name in indexes:
            raise BabelirError(f"index name {name!r} is given twice")
        indexes[name] = directory
    return indexes


def abstention_line(name: str, calibrated: dict[str, str | None]) -> str:
    """``abstention in demo: hybrid calibrated; dense, bm25 none (babelir abstain calibrate)``."""
    done = [mode for mode, spec in calibrated.items() if spec]
    missing = [mode for mode, spec in calibrated.items() if not spec]
    parts = ([f"{', '.join(done)} calibrated"] if done else []) + ([f"{', '.join(missing)} none"] if missing else [])
    hint = " (babelir abstain calibrate INDEX … --mode MODE)" if missing else ""
    return f"abstention in {name}: {'; '.join(parts)}{hint}"


def run(args) -> int:
    from babelir.errors import BabelirError

    try:
        import uvicorn

        from babelir.serve.app import create_app
    except ImportError:
        raise BabelirError("babelir serve needs fastapi and uvicorn: pip install 'babelir[serve]'") from None
    from babelir.cli.argtypes import check_listen

    check_listen(args.host, args.port)
    app = create_app(parse_indexes(args.index), writable=args.writable,
                     api_key=args.api_key or os.environ.get("BABELIR_API_KEY"))
    print(f"serving {', '.join(app.state.services)} on http://{args.host}:{args.port}/ (OpenAPI at /openapi.json)")
    for name, service in app.state.services.items():
        print(abstention_line(name, service.calibrated))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
