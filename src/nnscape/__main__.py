"""``python -m nnscape`` runs the command line."""

import sys

from nnscape.cli import console_main

sys.exit(console_main())
