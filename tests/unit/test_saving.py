"""Saving into a folder: clean names, no overwrite without asking, no symlink followed."""

from __future__ import annotations

import stat

import pytest

from mailbag.services.saving import NameTaken, SaveError, numbered, save_as_new, save_file


@pytest.mark.parametrize(
    "name, saved",
    [("../../x", "x"), ("a/b\\c.txt", "c.txt"), (".bashrc", "bashrc"), ("evil\u202etxt.exe", "eviltxt.exe"),
     ("bell\x07.txt", "bell.txt"), ("CON.txt", "_CON.txt"), ("..", "attachment"), ("", "attachment")],
)
def test_names_are_made_one_clean_file_name(tmp_path, name, saved):
    assert save_file(tmp_path, name, b"data") == tmp_path / saved
    assert [p.name for p in tmp_path.iterdir()] == [saved]
    assert stat.S_IMODE((tmp_path / saved).stat().st_mode) == 0o600


def test_a_taken_name_is_refused_kept_beside_or_replaced(tmp_path):
    (tmp_path / "report.pdf").write_bytes(b"old")
    with pytest.raises(NameTaken):
        save_file(tmp_path, "report.pdf", b"new")
    assert save_as_new(tmp_path, "report.pdf", b"new") == tmp_path / "report (1).pdf"
    assert save_as_new(tmp_path, "report.pdf", b"newer") == tmp_path / "report (2).pdf"
    save_file(tmp_path, "report.pdf", b"newest", overwrite=True)
    assert (tmp_path / "report.pdf").read_bytes() == b"newest"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report (1).pdf", "report (2).pdf", "report.pdf"]
    assert numbered("README", 3) == "README (3)"


def test_links_are_not_followed(tmp_path):
    target = tmp_path / "secret"
    target.write_bytes(b"secret")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "x").symlink_to(target)
    (folder / "y").symlink_to(tmp_path / "nowhere")
    with pytest.raises(NameTaken):
        save_file(folder, "x", b"data")
    with pytest.raises(NameTaken):
        save_file(folder, "y", b"data")
    save_file(folder, "x", b"data", overwrite=True)
    assert not (folder / "x").is_symlink() and (folder / "x").read_bytes() == b"data"
    assert target.read_bytes() == b"secret" and not (tmp_path / "nowhere").exists()


def test_a_missing_folder_is_an_error(tmp_path):
    with pytest.raises(SaveError, match="cannot use the folder"):
        save_file(tmp_path / "missing", "x", b"data")
