"""Point 3: the classes of the image's work: defaults with VOC colours, add, rename, recolour, remove (each one an
undo step), keys 1-9."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QColorDialog, QLineEdit

from app.classes import ClassList, LabelClass, contrast_colour
from app.document import Prediction
from app.layers import class_lut
from gdc_core import NO_LABEL
from gdc_core.io import voc_palette
from qt_helpers import answer_text_dialog, drag


def test_defaults_are_background_and_one_object_class_in_voc_colours(window):
    classes = window.session.document.classes
    assert [(c.id, c.name) for c in classes] == [(0, "background"), (1, "object")]
    assert [c.colour for c in classes] == [tuple(voc_palette()[0]), tuple(voc_palette()[1])]
    assert window.palette_panel.list.count() == 2


def test_add_rename_recolour_through_the_panel(qtbot, window, monkeypatch):
    panel = window.palette_panel
    errors = answer_text_dialog(qtbot, "class 2")
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    assert not errors, errors
    added = window.session.document.classes[-1]
    assert added.id == 2 and added.colour == tuple(voc_palette()[2]) and window.session.document.current_class == 2
    shape = window.session.document.shape
    window.session.document.set_prediction(Prediction(np.zeros(shape, np.uint8), np.zeros(shape, np.float32), 0.0))
    assert window.actions.accept.isEnabled()  # Return would accept it, except in the name editor
    rect = panel.list.visualItemRect(panel.list.item(2))
    qtbot.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # a double-click is
    qtbot.mouseDClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # click + double-click
    editor = panel.list.findChild(QLineEdit)
    assert editor is not None and editor.isVisible()
    editor.selectAll()
    qtbot.keyClicks(editor, "tree 1")  # letters and digits go to the editor, not to the B/E/1-9 shortcuts
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # commits the name, does not accept the prediction
    qtbot.waitUntil(lambda: window.session.document.classes.by_id(2).name == "tree 1")
    assert window.session.document.current_class == 2 and window.canvas.tool == "brush"
    assert window.session.document.prediction is not None and window.session.document.mask is None
    item = panel.list.item(2)
    item.setText("  ")  # an empty name is refused, the old one comes back
    assert window.session.document.classes.by_id(2).name == "tree 1" and panel.list.item(2).text() == "tree 1"

    monkeypatch.setattr(QColorDialog, "getColor", staticmethod(lambda *args, **kwargs: QColor(10, 200, 30)))
    qtbot.mouseClick(panel.colour_button, Qt.MouseButton.LeftButton)
    assert window.session.document.classes.by_id(2).colour == (10, 200, 30)
    assert (window.canvas.scribble_item.lut[2, :3] == (10, 200, 30)).all()
    drag(qtbot, window.canvas, [(5.5, 5.5)])
    assert window.session.document.scribbles[5, 5] == 2


def test_number_keys_pick_classes_by_row(qtbot, window):
    window.session.document.add_class("third")
    for key, class_id in ((Qt.Key.Key_1, 0), (Qt.Key.Key_3, 2), (Qt.Key.Key_2, 1)):
        qtbot.keyClick(window.canvas, key)
        assert window.session.document.current_class == class_id
        assert window.palette_panel.list.currentRow() == window.session.document.classes.row_of(class_id)
    qtbot.keyClick(window.canvas, Qt.Key.Key_9)  # no ninth class: nothing changes
    assert window.session.document.current_class == 1


def test_remove_a_class_erases_its_strokes_as_one_undo_step(qtbot, window):
    window.session.document.add_class("third")
    qtbot.keyClick(window.canvas, Qt.Key.Key_3)
    drag(qtbot, window.canvas, [(10.5, 10.5), (20.5, 10.5)])
    qtbot.keyClick(window.canvas, Qt.Key.Key_2)
    drag(qtbot, window.canvas, [(10.5, 30.5), (20.5, 30.5)])
    before = window.session.document.scribbles.copy()
    qtbot.keyClick(window.canvas, Qt.Key.Key_3)
    qtbot.mouseClick(window.palette_panel.remove_button, Qt.MouseButton.LeftButton)
    assert window.session.document.classes.ids() == (0, 1)
    assert not (window.session.document.scribbles == 2).any() and (window.session.document.scribbles == 1).any()
    assert not window.palette_panel.remove_button.isEnabled()  # two classes are the minimum
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.session.document.classes.ids() == (0, 1, 2) and (window.session.document.scribbles == before).all()


def test_class_lut_makes_no_label_transparent():
    lut = class_lut(voc_palette())
    assert lut[NO_LABEL, 3] == 0 and (lut[:NO_LABEL, 3] == 255).all()
    assert np.array_equal(lut[1, :3], voc_palette()[1])


def rename_in_panel(qtbot, panel, row: int, name: str) -> None:
    """Double-click the name in ``row``, type ``name`` and press Return, as a user renames a class."""
    rect = panel.list.visualItemRect(panel.list.item(row))
    qtbot.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    editor = panel.list.findChild(QLineEdit)
    assert editor is not None and editor.isVisible()
    editor.selectAll()
    qtbot.keyClicks(editor, name)
    qtbot.keyClick(editor, Qt.Key.Key_Return)


def test_rename_and_recolour_are_undo_steps(qtbot, window, monkeypatch):
    panel, document = window.palette_panel, window.session.document
    assert not window.isWindowModified() and not document.dirty
    rename_in_panel(qtbot, panel, 1, "tree")
    qtbot.waitUntil(lambda: document.classes.by_id(1).name == "tree")
    assert document.dirty and window.isWindowModified()
    monkeypatch.setattr(QColorDialog, "getColor", staticmethod(lambda *args, **kwargs: QColor(10, 200, 30)))
    qtbot.mouseClick(panel.colour_button, Qt.MouseButton.LeftButton)
    assert document.classes.by_id(1).colour == (10, 200, 30)
    assert (window.canvas.scribble_item.lut[1, :3] == (10, 200, 30)).all()

    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # the colour comes back
    assert document.classes.by_id(1) == LabelClass(1, "tree", tuple(voc_palette()[1]))
    assert (window.canvas.scribble_item.lut[1, :3] == contrast_colour(1)).all()
    assert panel.list.item(1).text() == "tree"
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # the name comes back
    assert document.classes.by_id(1).name == "object" and panel.list.item(1).text() == "object"
    assert not document.dirty and not window.isWindowModified()  # back where it was saved
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier)
    assert document.classes.by_id(1).name == "tree" and panel.list.item(1).text() == "tree" and document.dirty


def test_undoing_an_added_class_removes_it_and_picks_a_remaining_one(qtbot, window):
    errors = answer_text_dialog(qtbot, "tree")
    qtbot.mouseClick(window.palette_panel.add_button, Qt.MouseButton.LeftButton)
    assert not errors, errors
    assert window.session.document.current_class == 2 and window.palette_panel.list.count() == 3
    window.activateWindow()  # back from the dialog
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.session.document.classes.ids() == (0, 1) and window.palette_panel.list.count() == 2
    assert window.session.document.current_class == 1 and window.palette_panel.list.currentRow() == 1


def test_class_list_rules_without_qt():
    classes = ClassList.default().added("a").added("b")  # ids 0..3
    assert classes.ids() == (0, 1, 2, 3) and classes[2] == LabelClass(2, "a", tuple(voc_palette()[2]))
    fewer = classes.removed(1)
    assert fewer.ids() == (0, 2, 3) and fewer.free_id() == 1 and fewer.added().by_id(1).name == "class 1"
    assert classes.ids() == (0, 1, 2, 3), "edits return a new list"
    assert classes.renamed(2, "  tree ").by_id(2).name == "tree"
    assert classes.recoloured(2, (1, 2, 3)).by_id(2).colour == (1, 2, 3)
    for refused in (lambda: classes.renamed(2, " "), lambda: ClassList.default().removed(0),
                    lambda: ClassList([LabelClass(0, "a", (0, 0, 0)), LabelClass(0, "b", (0, 0, 0))]),
                    lambda: ClassList(LabelClass(i, str(i), (0, 0, 0)) for i in range(255)).added()):
        with pytest.raises(ValueError):
            refused()
