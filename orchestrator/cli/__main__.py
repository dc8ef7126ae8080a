"""`python -m orchestrator.cli ...`: the console script, for environments without it."""

import sys

from orchestrator.cli.main import main

sys.exit(main())
