"""Export file names cannot be guessed from what a user can learn (the job id, the time)."""

from __future__ import annotations

import re

from studio.export.paths import export_name


def test_export_names_carry_a_random_part():
    names = {export_name("abcdef012345", "adapter") for _ in range(50)}
    assert len(names) == 50  # the same job, the same second: never the same name
    for name in names:
        assert re.fullmatch(r"adapter-abcdef012345-\d{8}-\d{6}-[0-9a-f]{32}\.zip", name), name
