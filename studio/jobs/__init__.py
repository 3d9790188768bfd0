"""The job queue and runner (placeholder until the Train issue lands)."""


class JobRunner:
    def __init__(self, store, settings):
        self.store, self.settings = store, settings

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass
