"""Entry point of the PyInstaller build (``gdc-seg.spec``): set up the frozen environment, then run the launcher.

The same ``app.launcher.main`` as the ``gdc-seg`` console script, so the executable takes the same arguments.
"""
import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()  # harmless unless something starts processes with the spawn method
    from app.frozen import prepare

    prepare()  # before anything imports torch: bundled weights, CPU-only builds hide GPUs
    from app.launcher import main

    sys.exit(main())
