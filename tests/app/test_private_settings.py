"""The app's settings and standard folders live in the test's own home (tests/conftest.py), so work the user
saved with the app (in ~/Documents/gdc-seg, settings in ~/.config/gdc-seg) is never seen by a test."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths

from app.resources import SAMPLE_IMAGE, resource_path
from app.work_io import default_output_folder
from app.settings import AppSettings


def test_documents_folder_and_settings_file_are_in_the_tests_home(private_home, tmp_path):
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    assert Path(documents).is_relative_to(private_home)
    assert default_output_folder(resource_path(SAMPLE_IMAGE)).is_relative_to(private_home)
    settings = AppSettings()
    settings.last_image_folder = str(tmp_path)
    settings.sync()
    assert Path(settings._store.fileName()).is_relative_to(private_home)


def test_settings_written_by_one_test_are_not_seen_by_the_next_part_one():
    AppSettings().last_image_folder = "/somewhere/used/before"


def test_settings_written_by_one_test_are_not_seen_by_the_next_part_two():
    assert AppSettings().last_image_folder == ""
