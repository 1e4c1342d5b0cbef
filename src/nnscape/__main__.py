"""``python -m nnscape`` runs the command line."""

import sys

from nnscape.cli import main

sys.exit(main())
