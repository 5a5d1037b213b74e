"""Autosave into the sidecar folder: content after a change (no explicit save), restore after reopening the
folder, a failed save reported and kept unsaved (then retried), an interrupted save leaving the old file whole."""
from __future__ import annotations

import errno
import os

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

import gdc_core.io
from app.main_window import MainWindow
from gdc_core.io import read_label_map
from qt_helpers import drag, make_image, shown_window


@pytest.fixture
def folder(tmp_path):
    images = tmp_path / "shots"
    images.mkdir()
    for name in ("a.png", "b.png"):
        Image.fromarray(make_image()).save(images / name)
    return images


def open_window(qtbot, segmenter, folder, delay_ms=50) -> MainWindow:
    main = shown_window(qtbot, segmenter)
    main.session.autosave.delay_ms = delay_ms
    assert main.session.open_folder(folder)
    return main


def test_a_stroke_is_autosaved_after_a_short_delay(qtbot, segmenter, folder):
    window = open_window(qtbot, segmenter, folder)
    sidecar = folder / "gdc-seg"
    qtbot.keyClick(window.canvas, Qt.Key.Key_2)
    drag(qtbot, window.canvas, [(50, 10), (50, 38)])
    assert window.session.autosave.dirty
    qtbot.waitUntil(lambda: not window.session.autosave.dirty, timeout=5000)  # written on the writer thread, then clean
    saved = read_label_map(sidecar / "a_scribbles.png")
    assert np.array_equal(saved, window.session.document.scribbles)
    assert set(np.unique(saved).tolist()) == {window.session.document.classes.ids()[1], 255}
    assert (sidecar / "a_classes.json").is_file()
    assert not window.session.autosave.dirty and window.session.document.undo_stack.isClean()
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # an undo is a change too
    qtbot.waitUntil(lambda: not window.session.autosave.dirty, timeout=5000)
    assert (read_label_map(sidecar / "a_scribbles.png") == 255).all()


def test_reopening_the_folder_restores_scribbles_mask_and_classes(qtbot, segmenter, folder):
    window = open_window(qtbot, segmenter, folder, delay_ms=60_000)  # only the close saves
    drag(qtbot, window.canvas, [(8, 10), (8, 38)])
    mask = np.zeros((48, 64), np.uint8)
    mask[:, 40:] = 1
    window.session.document.replace_work(window.session.document.scribbles, mask, text="mask")
    window.session.document.rename_class(window.session.document.classes.ids()[1], "road")
    scribbles = window.session.document.scribbles.copy()
    names = [c.name for c in window.session.document.classes]
    window.close()
    assert (folder / "gdc-seg" / "a_mask.png").is_file()

    again = open_window(qtbot, segmenter, folder)
    assert again.session.document.path.name == "b.png"  # the first unfinished image; a.png has a mask now
    assert again.session.go_to_neighbour(-1)
    assert np.array_equal(again.session.document.scribbles, scribbles)
    assert np.array_equal(again.session.document.mask, mask)
    assert [c.name for c in again.session.document.classes] == names
    assert again.session.document.undo_stack.isClean() and not again.session.autosave.dirty


def fail_replace(monkeypatch, error):
    real = os.replace

    def replace(src, dst):
        if "gdc-seg" in str(dst):
            raise error
        return real(src, dst)

    monkeypatch.setattr(gdc_core.io.os, "replace", replace)


@pytest.mark.parametrize("error", [PermissionError(errno.EACCES, "Permission denied"),
                                   OSError(errno.ENOSPC, "No space left on device")])
def test_a_failed_save_is_shown_and_the_work_stays_unsaved(qtbot, segmenter, folder, monkeypatch, message_boxes,
                                                           error):
    window = open_window(qtbot, segmenter, folder)
    sidecar = folder / "gdc-seg"
    fail_replace(monkeypatch, error)
    drag(qtbot, window.canvas, [(8, 10), (8, 38)])
    with qtbot.waitSignal(window.session.autosave.failed, timeout=5000) as failed:
        pass
    assert error.strerror in failed.args[0] and "NOT saved" in failed.args[0]
    assert error.strerror in window.statusBar().currentMessage()
    assert window.session.autosave.dirty and not window.session.document.undo_stack.isClean()
    assert "save failed" in window.unsaved_marker.text()
    assert not list(sidecar.glob("*.png")) and not list(sidecar.glob(".*tmp"))
    # switching away must not lose it: the user is asked, and Cancel keeps the image open
    from PySide6.QtWidgets import QMessageBox
    message_boxes.answer = QMessageBox.StandardButton.Cancel
    assert not window.session.go_to_neighbour(+1)
    assert window.session.document.path.name == "a.png" and (window.session.document.scribbles != 255).any()
    # the disk is fine again: the next change saves everything
    monkeypatch.undo()
    drag(qtbot, window.canvas, [(20, 10), (20, 38)])
    qtbot.waitUntil(lambda: not window.session.autosave.dirty, timeout=5000)
    assert np.array_equal(read_label_map(sidecar / "a_scribbles.png"), window.session.document.scribbles)
    assert not window.session.autosave.dirty and window.session.autosave.last_error is None


def test_a_class_rename_alone_is_autosaved(qtbot, segmenter, folder):
    window = open_window(qtbot, segmenter, folder)
    drag(qtbot, window.canvas, [(8, 10), (8, 38)])
    qtbot.waitUntil(lambda: not window.session.autosave.dirty, timeout=5000)
    window.session.document.rename_class(window.session.document.classes.ids()[0], "sky")
    assert window.session.autosave.dirty and "Unsaved" in window.unsaved_marker.text()
    qtbot.waitUntil(lambda: not window.session.autosave.dirty, timeout=5000)
    assert '"sky"' in (folder / "gdc-seg" / "a_classes.json").read_text()
    assert not window.session.autosave.dirty and "Saved" in window.unsaved_marker.text()


def test_a_read_only_sidecar_folder_is_reported(qtbot, segmenter, folder, message_boxes):
    (folder / "gdc-seg").write_text("a file where the folder should be")  # unwritable even for root
    window = open_window(qtbot, segmenter, folder)
    drag(qtbot, window.canvas, [(8, 10), (8, 38)])
    with qtbot.waitSignal(window.session.autosave.failed, timeout=5000):
        pass
    assert window.session.autosave.dirty
    assert (folder / "gdc-seg").read_text() == "a file where the folder should be"


def test_a_change_during_a_background_write_is_not_marked_saved(qtbot, segmenter, folder, monkeypatch):
    window = open_window(qtbot, segmenter, folder, delay_ms=60_000)
    sidecar = folder / "gdc-seg"
    drag(qtbot, window.canvas, [(8, 10), (8, 38)])
    real_write = __import__("app.autosave", fromlist=["write_snapshot"]).write_snapshot
    started = []

    def slow_write(snapshot):
        started.append(1)
        import time
        time.sleep(0.3)
        return real_write(snapshot)

    monkeypatch.setattr("app.autosave.write_snapshot", slow_write)
    window.session.autosave.save_in_background()
    qtbot.waitUntil(lambda: bool(started), timeout=5000)
    drag(qtbot, window.canvas, [(50, 10), (50, 38)])  # while the first state is being written
    with qtbot.waitSignal(window.session.autosave.saved, timeout=5000):
        pass
    assert window.session.autosave.dirty  # the file holds the first stroke only
    assert window.session.autosave.flush() and not window.session.autosave.dirty
    assert np.array_equal(read_label_map(sidecar / "a_scribbles.png"), window.session.document.scribbles)


def test_an_interrupted_save_leaves_the_previous_file_whole(qtbot, segmenter, folder, monkeypatch):
    window = open_window(qtbot, segmenter, folder)
    sidecar = folder / "gdc-seg"
    drag(qtbot, window.canvas, [(8, 10), (8, 38)])
    qtbot.waitUntil(lambda: (sidecar / "a_scribbles.png").is_file() and not window.session.autosave.dirty, timeout=5000)
    before = (sidecar / "a_scribbles.png").read_bytes()
    real_save = Image.Image.save

    def crash_midway(image, fp, *args, **kwargs):
        with open(fp, "wb") as handle:
            handle.write(b"\x89PNG half a file")
        raise OSError("killed during the write")

    monkeypatch.setattr(Image.Image, "save", crash_midway)
    drag(qtbot, window.canvas, [(50, 10), (50, 38)])
    with qtbot.waitSignal(window.session.autosave.failed, timeout=5000):
        pass
    monkeypatch.setattr(Image.Image, "save", real_save)
    assert (sidecar / "a_scribbles.png").read_bytes() == before
    assert sorted(p.name for p in sidecar.iterdir()) == ["a_classes.json", "a_scribbles.png"]  # no temp file left
    assert window.session.autosave.dirty
