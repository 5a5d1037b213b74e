"""gdc-seg desktop application (PySide6). Only wires widgets to :mod:`gdc_core`; holds no algorithm logic.

Importing the package imports no Qt (the headless launcher lives here too) and changes nothing in the process.
"""
