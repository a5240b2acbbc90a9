"""``python -m kim_hub.cli``: the same as the ``kim-hub`` console script."""

import sys

from kim_hub.cli.main import main

sys.exit(main())
