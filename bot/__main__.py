"""``python -m bot``."""

import sys

from bot.entry.cli import main

sys.exit(main())
