"""``python -m babelir`` runs the command line."""

import sys

from babelir.cli import main

sys.exit(main())
