"""Output paths are checked before any work, and checking writes nothing that stays."""

import os

import pytest

from explorer.errors import OutputPathError
from explorer.paths import check_output_file, check_output_folder


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


def test_checkpoint_folders(tmp_path):
    assert check_output_folder(tmp_path / "runs" / "new" / "model") == tmp_path / "runs" / "new" / "model"
    (tmp_path / "ckpt").mkdir()
    (tmp_path / "ckpt" / "config.json").write_text("{}")
    check_output_folder(tmp_path / "ckpt")  # an old checkpoint may be replaced
    (tmp_path / "empty").mkdir()
    check_output_folder(tmp_path / "empty")
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.jpg").write_bytes(b"precious")
    with pytest.raises(OutputPathError, match="a folder of other files, which saving would replace"):
        check_output_folder(tmp_path / "photos")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(OutputPathError, match="it is a file"):
        check_output_folder(tmp_path / "notes.txt")
    for bad in (".", "..", "/"):
        with pytest.raises(OutputPathError, match="name a new folder"):
            check_output_folder(bad)
    with pytest.raises(OutputPathError, match="/proc is a system folder"):
        check_output_folder("/proc/x")
    assert _listing(tmp_path) == ["ckpt", "empty", "notes.txt", "photos"]
