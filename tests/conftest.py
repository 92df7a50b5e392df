import copy

import pytest

from infra import stackfile


@pytest.fixture
def prod_raw():
    """The prod stack file's raw config, safe to mutate."""
    return copy.deepcopy(stackfile.read(stackfile.stack_path("prod")))
