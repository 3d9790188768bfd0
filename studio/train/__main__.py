"""`python -m studio.train RUN_DIR [--resume]`: see studio.train.main."""

import sys

from studio.train.main import main

if __name__ == "__main__":
    sys.exit(main())
