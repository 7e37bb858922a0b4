"""``babelir judge demo``: a judging project over the quickstart's runs, ready to open in a browser."""

from __future__ import annotations

from pathlib import Path

from babelir.errors import BabelirError

DEMO_ASSESSORS = {"amina": ["ar", "en", "fr", "sw"], "somchai": ["th", "zh", "ja", "ko"],
                  "lena": ["de", "es", "hi", "ru"]}


def judge_demo(quickstart_dir: str | Path = "babelir-quickstart", echo=print, quiet: bool = False) -> Path:
    """Pool the quickstart's four runs (running the quickstart first when its runs are missing) at
    depth 5 into ``QUICKSTART/judging``, add three demo assessors (their secrets printed), and print
    how to open the judging page. Returns the project directory. Running it again adds nothing twice."""
    from babelir.judge.pool import pool
    from babelir.judge.project import Project

    out = Path(quickstart_dir)
    runs = [out / f"{mode}.run" for mode in ("bm25", "dense", "sparse", "hybrid")]
    if not all(run.is_file() for run in runs):
        from babelir.quickstart import quickstart

        echo(f"running the quickstart into {out} first (its runs are pooled)")
        quickstart(out, quiet=quiet, echo=lambda line: None)
    project_dir = out / "judging"
    fresh = not (project_dir / "project.sqlite").exists()
    stats = pool(project_dir, runs, depth=5, topics=out / "collection" / "topics.tsv" if fresh else None,
                 index=out / "index" if fresh else None, overlap=0.1 if fresh else None)
    echo(f"pooled the quickstart's bm25, dense, sparse and hybrid runs at depth 5 into {project_dir}")
    echo(stats.table())
    with Project.open(project_dir) as project:
        known = {name for name, _, _ in project.assessors()}
        added = {}
        for name, langs in DEMO_ASSESSORS.items():
            if name not in known:
                added[name] = (langs, project.add_assessor(name, langs))
    if added:
        echo("\ndemo assessors (name, secret, languages):")
        for name, (langs, secret) in added.items():
            echo(f"  {name:8s} {secret}  {','.join(langs)}")
    elif not fresh:
        echo("\nthe demo assessors exist already (their secrets were printed when they were added; "
             "add yourself with: babelir judge assessor add " + str(project_dir) + " NAME --langs xx)")
    echo(f"\nopen the judging page:\n  babelir judge serve {project_dir}\nthen, as you judge:\n"
         f"  babelir judge status {project_dir}\n  babelir judge export {project_dir} -o qrels.trec\n"
         f"  babelir eval qrels.trec {out / 'hybrid.run'} -m nDCG@10 -m Judged@10 -m Bpref --by-lang")
    if not project_dir.is_dir():
        raise BabelirError(f"{project_dir}: the project was not made")
    return project_dir
