"""Test-collection building: pooling, judging projects, the judging web app, agreement, qrels export."""
