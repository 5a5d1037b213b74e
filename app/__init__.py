"""gdc-seg desktop application (PySide6). Only wires widgets to :mod:`gdc_core`; holds no algorithm logic.

Importing the package imports no Qt (the headless launcher lives here too).
"""
from .none_refcount import make_none_immortal

make_none_immortal()
