"""Evidence storage: random keys in a folder outside the static folder, and files that stay in step with
the database (a rolled-back row takes its new file along; a deleted row's file goes after the commit)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lms.storage import (
    KEY_PATTERN,
    LocalStorage,
    StorageError,
    create_storage,
    delete_after_commit,
    discard_on_rollback,
    get_storage,
)


def test_save_read_open_delete(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    key = storage.save(b"inhoud", ".jpg")
    assert KEY_PATTERN.match(key)
    assert storage.exists(key)
    assert storage.read(key) == b"inhoud"
    with storage.open(key) as file:
        assert file.read() == b"inhoud"
    # Only the file itself is in the folder: no temporary files left behind.
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [key]
    storage.delete(key)
    assert not storage.exists(key)
    storage.delete(key)  # deleting twice does no harm
    with pytest.raises(StorageError):
        storage.read(key)


def test_keys_are_random_and_unguessable(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    keys = {storage.save(b"x", ".pdf") for _ in range(50)}
    assert len(keys) == 50
    assert all(len(key) == 43 + len(".pdf") for key in keys)  # 256 random bits


@pytest.mark.parametrize(
    "key", ["../secret.txt", "ab/../../etc/passwd", "", "a.jpg", "x" * 43 + ".JPG/"]
)
def test_keys_that_could_escape_the_folder_are_refused(tmp_path: Path, key: str) -> None:
    storage = LocalStorage(tmp_path)
    with pytest.raises(StorageError):
        storage.open(key)
    with pytest.raises(StorageError):
        storage.delete(key)


@pytest.mark.parametrize("suffix", ["jpg", ".JPG", "./x", ".toolong"])
def test_odd_suffixes_are_refused(tmp_path: Path, suffix: str) -> None:
    with pytest.raises(StorageError):
        LocalStorage(tmp_path).save(b"x", suffix)


def test_the_app_stores_under_its_evidence_path_and_never_in_static(app) -> None:
    storage = get_storage()
    assert isinstance(storage, LocalStorage)
    assert storage.root == Path(app.config["EVIDENCE_STORAGE_PATH"]).resolve()
    assert get_storage() is storage
    app.config["EVIDENCE_STORAGE_PATH"] = str(Path(app.static_folder) / "evidence")
    with pytest.raises(StorageError):
        create_storage(app)


def test_a_saved_file_goes_again_when_its_row_is_rolled_back(db) -> None:
    storage = get_storage()
    db.session.execute(db.text("SELECT 1"))  # a transaction is open, as in a request
    key = storage.save(b"foto", ".jpg")
    discard_on_rollback(db.session, storage, key)
    db.session.rollback()
    assert not storage.exists(key)


def test_a_saved_file_stays_when_its_row_commits(db) -> None:
    storage = get_storage()
    db.session.execute(db.text("SELECT 1"))
    key = storage.save(b"foto", ".jpg")
    discard_on_rollback(db.session, storage, key)
    db.session.commit()
    db.session.rollback()  # a later rollback does not touch it
    assert storage.exists(key)


def test_a_deleted_rows_file_goes_only_after_the_commit(db) -> None:
    storage = get_storage()
    kept, removed = storage.save(b"a", ".jpg"), storage.save(b"b", ".jpg")
    db.session.execute(db.text("SELECT 1"))
    delete_after_commit(db.session, storage, kept)
    assert storage.exists(kept)
    db.session.rollback()
    assert storage.exists(kept)  # the deletion was rolled back, so the file stays
    db.session.execute(db.text("SELECT 1"))
    delete_after_commit(db.session, storage, removed)
    db.session.commit()
    assert not storage.exists(removed)


def test_list_files_names_every_stored_file_and_every_unfinished_write(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    keys = {storage.save(b"inhoud", ".jpg"), storage.save(b"pdf", ".pdf")}
    folder = tmp_path / sorted(keys)[0][:2]
    (folder / ".upload-k3y_9").write_bytes(b"half")  # a write that was interrupted
    (folder / "notes.txt").write_text("not ours")  # anything else is left out
    (tmp_path / "README").write_text("not ours either")

    files = list(storage.list_files())

    assert {f.key for f in files if not f.unfinished} == keys
    assert [f.key for f in files if f.unfinished] == [f"{folder.name}/.upload-k3y_9"]
    assert all(f.modified.tzinfo is not None and f.size > 0 for f in files)
    storage.discard_unfinished(f"{folder.name}/.upload-k3y_9")
    assert not (folder / ".upload-k3y_9").exists()
    assert list(LocalStorage(tmp_path / "not-there").list_files()) == []


@pytest.mark.parametrize(
    "name", ["../.upload-x", "ab/../../.upload-x", "ab/notes.txt", "ab/.upload-"]
)
def test_discard_unfinished_touches_nothing_else(tmp_path: Path, name: str) -> None:
    with pytest.raises(StorageError):
        LocalStorage(tmp_path).discard_unfinished(name)
