#!/usr/bin/env bash
# Build the one-folder executable dist/gdc-seg/ and check it (offscreen, no display needed).
#
#   packaging/build.sh                      # CPU-only; bundles weights from $GDC_SEG_BACKBONE_WEIGHTS or the hub cache
#   packaging/build.sh --weights FILE.pt    # bundle these MobileNetV2 weights (offline-ready executable)
#   packaging/build.sh --with-cuda          # keep torch's CUDA libraries (GPU support, ~5 GB)
#
# Needs the project's environment plus PyInstaller (pip install "pyinstaller>=6.11") and a C compiler (cc) for
# the CPU-only build's CUDA stand-ins. Takes 3-5 minutes on 2 cores; dist/gdc-seg/ is about 1.5 GB.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
python -m PyInstaller --noconfirm gdc-seg.spec -- "$@"
echo "build: $((SECONDS - start)) s; dist/gdc-seg: $(du -sh dist/gdc-seg | cut -f1)"
dist/gdc-seg/gdc-seg --version
QT_QPA_PLATFORM=offscreen dist/gdc-seg/gdc-seg --self-test
