"""Point 3: the class palette: defaults with VOC colours, add, rename, recolour, remove, keys 1-9."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QColorDialog, QLineEdit

from app.document import Prediction
from app.layers import class_lut
from gdc_core import NO_LABEL
from gdc_core.io import voc_palette
from qt_helpers import answer_text_dialog, drag


def test_defaults_are_background_and_one_object_class_in_voc_colours(window):
    classes = window.palette.classes()
    assert [(c.id, c.name) for c in classes] == [(0, "background"), (1, "object")]
    assert [c.colour for c in classes] == [tuple(voc_palette()[0]), tuple(voc_palette()[1])]
    assert window.palette_panel.list.count() == 2


def test_add_rename_recolour_through_the_panel(qtbot, window, monkeypatch):
    panel = window.palette_panel
    errors = answer_text_dialog(qtbot, "class 2")
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    assert not errors, errors
    added = window.palette.classes()[-1]
    assert added.id == 2 and added.colour == tuple(voc_palette()[2]) and window.palette.current_id == 2
    shape = window.document.shape
    window.document.set_prediction(Prediction(np.zeros(shape, np.uint8), np.zeros(shape, np.float32), 0.0))
    assert window.actions.accept.isEnabled()  # Return would accept it, except in the name editor
    rect = panel.list.visualItemRect(panel.list.item(2))
    qtbot.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # a double-click is
    qtbot.mouseDClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # click + double-click
    editor = panel.list.findChild(QLineEdit)
    assert editor is not None and editor.isVisible()
    editor.selectAll()
    qtbot.keyClicks(editor, "tree 1")  # letters and digits go to the editor, not to the B/E/1-9 shortcuts
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # commits the name, does not accept the prediction
    qtbot.waitUntil(lambda: window.palette.by_id(2).name == "tree 1")
    assert window.palette.current_id == 2 and window.canvas.tool == "brush"
    assert window.document.prediction is not None and window.document.mask is None
    item = panel.list.item(2)
    item.setText("  ")  # an empty name is refused, the old one comes back
    assert window.palette.by_id(2).name == "tree 1" and panel.list.item(2).text() == "tree 1"

    monkeypatch.setattr(QColorDialog, "getColor", staticmethod(lambda *args, **kwargs: QColor(10, 200, 30)))
    qtbot.mouseClick(panel.colour_button, Qt.MouseButton.LeftButton)
    assert window.palette.by_id(2).colour == (10, 200, 30)
    assert (window.canvas.scribble_item.lut[2, :3] == (10, 200, 30)).all()
    drag(qtbot, window.canvas, [(5.5, 5.5)])
    assert window.document.scribbles[5, 5] == 2


def test_number_keys_pick_classes_by_row(qtbot, window):
    window.palette.add("third")
    for key, class_id in ((Qt.Key.Key_1, 0), (Qt.Key.Key_3, 2), (Qt.Key.Key_2, 1)):
        qtbot.keyClick(window.canvas, key)
        assert window.palette.current_id == class_id
        assert window.palette_panel.list.currentRow() == window.palette.row_of(class_id)
    qtbot.keyClick(window.canvas, Qt.Key.Key_9)  # no ninth class: nothing changes
    assert window.palette.current_id == 1


def test_remove_a_class_erases_its_strokes_as_one_undo_step(qtbot, window):
    window.palette.add("third")
    qtbot.keyClick(window.canvas, Qt.Key.Key_3)
    drag(qtbot, window.canvas, [(10.5, 10.5), (20.5, 10.5)])
    qtbot.keyClick(window.canvas, Qt.Key.Key_2)
    drag(qtbot, window.canvas, [(10.5, 30.5), (20.5, 30.5)])
    before = window.document.scribbles.copy()
    qtbot.keyClick(window.canvas, Qt.Key.Key_3)
    qtbot.mouseClick(window.palette_panel.remove_button, Qt.MouseButton.LeftButton)
    assert window.palette.ids() == (0, 1)
    assert not (window.document.scribbles == 2).any() and (window.document.scribbles == 1).any()
    assert not window.palette_panel.remove_button.isEnabled()  # two classes are the minimum
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.palette.ids() == (0, 1, 2) and (window.document.scribbles == before).all()


def test_class_lut_makes_no_label_transparent():
    lut = class_lut(voc_palette())
    assert lut[NO_LABEL, 3] == 0 and (lut[:NO_LABEL, 3] == 255).all()
    assert np.array_equal(lut[1, :3], voc_palette()[1])
