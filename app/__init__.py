"""gdc-seg desktop application (PySide6). Only wires widgets to :mod:`gdc_core`; holds no algorithm logic."""
