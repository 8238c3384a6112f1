"""``python -m local_dev.bench``: run the benchmark and print its table (see ``local_dev.bench``)."""

import sys

from .runner import main

sys.exit(main())
