import pytest

from mailbag.services.uidsets import uid_set


@pytest.mark.parametrize(
    ("uids", "expected"),
    [
        ([5], "5"),
        ([1, 2, 3], "1:3"),
        ([10, 1, 2, 3, 7, 9], "1:3,7,9:10"),
        ([4, 4, 5], "4:5"),
    ],
)
def test_uid_set_compresses_runs(uids, expected):
    assert uid_set(uids) == expected


def test_uid_set_refuses_empty():
    with pytest.raises(ValueError):
        uid_set([])
