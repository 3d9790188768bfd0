"""`python -m studio.train RUN_DIR [--resume]`: see studio.train.main."""

from studio.jobs.child import exit_process
from studio.train.main import main

if __name__ == "__main__":
    exit_process(main())  # status.json is written: end without the slow teardown
