"""Output paths are checked before any work, and checking writes nothing that stays."""

import os

import pytest

from explorer.errors import OutputPathError
from explorer.store.paths import check_output_file


def _listing(folder):
    return sorted(os.listdir(folder))


def test_a_new_file_in_a_writable_folder_passes_and_leaves_nothing(tmp_path):
    assert check_output_file(tmp_path / "z.npz", (".npz", ".csv")) == tmp_path / "z.npz"
    (tmp_path / "old.csv").write_text("keep")
    check_output_file(tmp_path / "old.csv", (".npz", ".csv"))  # replacing a file is fine
    assert _listing(tmp_path) == ["old.csv"] and (tmp_path / "old.csv").read_text() == "keep"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (".", "it is a folder"),
        ("sub", "it is a folder"),
        ("missing/z.npz", "the folder .*missing does not exist; create it first"),
        ("afile/z.npz", "Cannot write"),
        ("z.txt", "--out must end in .npz or .csv, got 'z.txt'"),
        ("", "--out is empty"),
    ],
)
def test_bad_output_files_are_refused(tmp_path, monkeypatch, name, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "afile").write_text("x")
    with pytest.raises(OutputPathError, match=message):
        check_output_file(name, (".npz", ".csv"))
    assert _listing(tmp_path) == ["afile", "sub"]


@pytest.mark.parametrize("path", ["/proc/z.npz", "/sys/z.npz", "/dev/z.npz", "/dev/null"])
def test_system_folders_and_devices_are_refused(path):
    with pytest.raises(OutputPathError, match="Cannot write"):
        check_output_file(path)


