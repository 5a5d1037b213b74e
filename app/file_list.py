"""FileListPanel: the images of the open folder with each one's status, and an "unfinished only" filter.

The panel shows a :class:`app.folder.FolderSession`; choosing a row emits ``image_chosen(path)``, and the session
decides whether and how to switch (it saves the current work first).
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QCheckBox, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from .folder import EXPORTED, SCRIBBLED, SEGMENTED, UNFINISHED, UNTOUCHED, FolderSession

STATUS_COLOURS = {UNTOUCHED: "#9e9e9e", SCRIBBLED: "#f39c12", SEGMENTED: "#2e86c1", EXPORTED: "#27ae60"}
PATH_ROLE = Qt.ItemDataRole.UserRole  # the row's index into FileListPanel.paths
STATUS_ROLE = Qt.ItemDataRole.UserRole + 1


def status_icon(status: str) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(STATUS_COLOURS[status]))
    return QIcon(pixmap)


class FileListPanel(QWidget):
    """The folder's image list. ``image_chosen(Path)`` when the user picks a row (click, Enter).

    Rows keep their paths on the Python side (:attr:`paths`): a file name the file system gives as bytes that do not
    decode would not survive a trip through a Qt string."""

    image_chosen = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.session: FolderSession | None = None
        self.current: Path | None = None
        self.paths: list[Path] = []  # the path of each row, by the row's PATH_ROLE index
        self.summary = QLabel("No folder open (File > Open folder…)")
        self.summary.setWordWrap(True)
        self.unfinished_only = QCheckBox("Unfinished only")
        self.unfinished_only.setToolTip("List only images without a mask yet (next / previous skip the others)")
        self.list = QListWidget()
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the canvas (D / A, 1-9, B, E)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addWidget(self.unfinished_only)
        layout.addWidget(self.list)
        self.unfinished_only.toggled.connect(lambda _: self.refresh())
        self.list.itemActivated.connect(self._activated)
        self.list.itemClicked.connect(self._activated)

    def set_session(self, session: FolderSession | None, current: str | Path | None = None) -> None:
        self.session = session
        self.current = Path(current).resolve() if current else None
        self.refresh()

    def set_current(self, current: str | Path | None) -> None:
        self.current = Path(current).resolve() if current else None
        self.refresh()

    def refresh(self) -> None:
        """Re-read every image's status from the sidecar files and redraw the list."""
        self.list.clear()
        self.paths = []
        if self.session is None:
            self.summary.setText("No folder open (File > Open folder…)")
            return
        statuses = self.session.statuses()
        counts = {status: list(statuses.values()).count(status) for status in STATUS_COLOURS}
        self.summary.setText(f"{self.session.folder.name}: {len(statuses)} images, "
                             f"{counts[SEGMENTED] + counts[EXPORTED]} with a mask, {counts[EXPORTED]} exported"
                             + (f"; left out (same name as another image): "
                                f"{', '.join(p.name for p in self.session.skipped)}" if self.session.skipped else ""))
        for image, status in statuses.items():
            if self.unfinished_only.isChecked() and status not in UNFINISHED and image != self.current:
                continue
            item = QListWidgetItem(status_icon(status), f"{image.name}  ·  {status}")
            item.setData(PATH_ROLE, len(self.paths))
            self.paths.append(image)
            item.setData(STATUS_ROLE, status)
            item.setToolTip(f"{image}\n{status}")
            self.list.addItem(item)
            if image == self.current:
                font = item.font()
                font.setBold(True)
                item.setFont(font)
                self.list.setCurrentItem(item)
                self.list.scrollToItem(item)

    def rows(self) -> list[tuple[str, str]]:
        """(file name, status) per listed row, for tests and screen readers."""
        return [(self.paths[self.list.item(i).data(PATH_ROLE)].name, self.list.item(i).data(STATUS_ROLE))
                for i in range(self.list.count())]

    def _activated(self, item: QListWidgetItem) -> None:
        path = self.paths[item.data(PATH_ROLE)]
        if path != self.current:
            self.image_chosen.emit(path)
