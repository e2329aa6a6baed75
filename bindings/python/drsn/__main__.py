"""``python3 -m drsn ...``: the drsn command-line tool (see :mod:`drsn.cli`)."""

import sys

from .cli import main

sys.exit(main())
