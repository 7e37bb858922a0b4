"""``babelir judge assessor add|langs|list PROJECT [NAME] [--langs th,ar]``

A person's secret is read from ``$BABELIR_ASSESSOR_SECRET`` when set, else made and printed once.
"""

from __future__ import annotations

import os


def register(p) -> None:
    p.add_argument("action", choices=("add", "langs", "list"), help="add an assessor, set their languages, or list")
    p.add_argument("project", help="the judging project directory")
    p.add_argument("name", nargs="?", help="the assessor's name (add, langs)")
    p.add_argument("--langs", default=None,
                   help="comma-separated languages the assessor judges (default: every language)")


def run(args) -> int:
    from babelir.errors import BabelirError
    from babelir.judge.project import Project

    langs = None
    if args.langs is not None:
        langs = [code.strip() for code in args.langs.split(",") if code.strip()]
        if not langs:
            raise BabelirError("--langs is empty: give languages (th,ar) or leave it out for every language")
    with Project.open(args.project) as project:
        if args.action == "list":
            for name, kind, codes in project.assessors():
                print(f"{name}\t{kind}\t{'all languages' if codes == '*' else codes}")
            return 0
        if not args.name:
            raise BabelirError(f"judge assessor {args.action} needs the assessor's NAME")
        if args.action == "langs":
            project.set_languages(args.name, langs)
            print(f"{args.name} judges {args.langs or 'every language'}")
            return 0
        given = os.environ.get("BABELIR_ASSESSOR_SECRET")
        secret = project.add_assessor(args.name, langs, given)
    if given:
        print(f"added {args.name} ({args.langs or 'every language'}); secret from $BABELIR_ASSESSOR_SECRET")
    else:
        print(f"added {args.name} ({args.langs or 'every language'}); secret: {secret}\n"
              "  (shown once: hand it to the assessor)")
    return 0
