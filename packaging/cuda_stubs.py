"""Make a CPU-only frozen build of a CUDA-build torch possible: tiny stand-ins for the big NVIDIA libraries.

Why: PyPI's Linux torch wheel is built with CUDA, and its shared libraries name the NVIDIA libraries as hard
link-time dependencies (``DT_NEEDED``): ``libtorch_cuda.so`` needs cuBLAS, cuBLASLt, cuDNN, cuFFT, cuRAND,
cuSPARSE, cuSPARSELt, NCCL, NVRTC and NVSHMEM, and ``libtorch_python.so`` needs cuDNN and NCCL. Python loads
extension modules with ``RTLD_NOW``, so ``import torch`` fails unless every one of those libraries is present
and defines every symbol torch refers to: together they weigh about 1.9 GB, although a CPU run never calls
a single function in them (only the CUDA runtime, ``libcudart``, is asked "how many GPUs?", and answers 0).

What: for each such library this module compiles a stand-in shared object with the same SONAME, the same
symbol-version node, and one definition for each symbol that the *bundled* binaries refer to; every function
prints which CUDA function was called and aborts. The frozen app forces ``CUDA_VISIBLE_DEVICES=""`` in such a
build (see ``app/frozen.py``), so on a machine with a GPU torch sees none and never reaches a stand-in.

The real, small libraries that torch does call on the CPU path stay (``libcudart``, ``libcupti``,
``libcufile``). Needs ``cc`` (gcc or clang) and binutils' ``nm``; :func:`stub_toolchain_missing` says when they
are absent, and the spec then bundles the real libraries instead.

Also a command for checking a tree by hand: ``python packaging/cuda_stubs.py DIST_DIR`` lists which bundled
libraries are stand-ins.
"""
from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# Libraries replaced by stand-ins in a CPU-only build (SONAME patterns). All are hard dependencies of torch's
# CUDA libraries that the CPU path never calls.
STUBBED = (
    "libcublas.so.*", "libcublasLt.so.*", "libcudnn.so.*", "libcufft.so.*", "libcurand.so.*",
    "libcusparse.so.*", "libcusparseLt.so.*", "libnccl.so.*", "libnvrtc.so.*", "libnvshmem_host.so.*",
)

# Libraries left out entirely in a CPU-only build: nothing links against them, torch or the libraries above
# load them with dlopen() only when a GPU kernel needs them (cuDNN's engine libraries, cuSOLVER via
# libtorch_cuda_linalg.so, NVRTC's builtins, profiler and NVSHMEM transport plug-ins), or they were only needed
# by a library that is now a stand-in (nvJitLink by cuSPARSE).
DROPPED = (
    "libcudnn_*.so*", "libcusolver*.so*", "libnvJitLink.so*", "libnvrtc-builtins*.so*", "libnvrtc.alt.so*",
    "libnvperf_*.so", "libcheckpoint.so", "nvshmem_*.so*", "libnvshmem_device*", "libnvToolsExt.so*",
    "libtorch_cuda_linalg.so", "libcaffe2_nvrtc.so",
)

# The NVIDIA libraries kept for real in a CPU-only build: small, and torch calls them on the CPU path too
# (the CUDA runtime answers "no GPU"; libtorch_cpu links the profiler's CUPTI; libtorch_python links cuFile).
KEPT = ("libcudart.so*", "libcupti.so*", "libcufile.so*")

# Symbol types from ``nm`` that are data objects (the rest we stub are functions).
_DATA_TYPES = set("BbDdRrVvGgSsu")
_FUNCTION_TYPES = set("TtWwi")


def matches(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatch(name, pattern) for pattern in patterns)


def is_stubbed(name: str) -> bool:
    return matches(Path(name).name, STUBBED)


def is_dropped(name: str) -> bool:
    return matches(Path(name).name, DROPPED)


def stub_toolchain_missing() -> str | None:
    """Why stand-ins cannot be built here (None when ``cc`` and ``nm`` are both available)."""
    missing = [tool for tool in (os.environ.get("CC", "cc"), "nm") if shutil.which(tool) is None]
    return f"not found on PATH: {', '.join(missing)}" if missing else None


@dataclass(frozen=True)
class Symbol:
    name: str
    version: str | None  # the version node (e.g. "libcublas.so.13"), None when the library has none
    kind: str  # "func" or "data"
    size: int


def _nm(path: Path, *flags: str) -> list[str]:
    done = subprocess.run(["nm", "-D", "--with-symbol-versions", *flags, str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"nm failed on {path}: {done.stderr.strip()}")
    return done.stdout.splitlines()


def undefined_symbols(path: Path) -> set[str]:
    """Names (without version) that the ELF file ``path`` needs from other libraries."""
    names = set()
    for line in _nm(path, "--undefined-only"):
        parts = line.split()
        if len(parts) >= 2 and parts[-2] in ("U", "w", "v"):
            names.add(parts[-1].split("@", 1)[0])
    return names


def defined_symbols(path: Path) -> dict[str, Symbol]:
    """The dynamic symbols that library ``path`` exports, by name (only default versions: ``name@@VER``)."""
    symbols: dict[str, Symbol] = {}
    for line in _nm(path, "--defined-only", "-S"):
        parts = line.split()
        if len(parts) == 4:
            _, size_text, kind_code, full = parts
            size = int(size_text, 16)
        elif len(parts) == 3:
            _, kind_code, full = parts
            size = 0
        else:
            continue
        if "@@" in full:
            name, version = full.split("@@", 1)
        elif "@" in full:  # a non-default (old) version: binaries link against the default one
            continue
        else:
            name, version = full, None
        if kind_code in _FUNCTION_TYPES:
            symbols[name] = Symbol(name, version, "func", size)
        elif kind_code in _DATA_TYPES:
            symbols[name] = Symbol(name, version, "data", max(size, 8))
        # "A" (the version node's own absolute symbol) and others are not referenced by name
    return symbols


def soname(path: Path) -> str:
    done = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True)
    found = re.search(r"\(SONAME\)\s+Library soname: \[([^\]]+)\]", done.stdout)
    return found.group(1) if found else path.name


def _c_source(library: str, symbols: list[Symbol]) -> str:
    lines = [
        "/* Generated by packaging/cuda_stubs.py: a stand-in for %s in a CPU-only gdc-seg build. */" % library,
        "#include <stdio.h>",
        "#include <stdlib.h>",
        "static void gdc_seg_stub_called(const char *name) {",
        '    fprintf(stderr, "gdc-seg: %%s (%s) was called, but this CPU-only build does not bundle the CUDA '
        'libraries; build with --with-cuda for GPU support.\\n", name);' % library,
        "    abort();",
        "}",
    ]
    for index, symbol in enumerate(symbols):
        # asm labels give each definition the exact exported name (C++ mangled names included)
        if symbol.kind == "func":
            lines.append(f'void gdc_seg_f{index}(void) __asm__("{symbol.name}");')
            lines.append(f'void gdc_seg_f{index}(void) {{ gdc_seg_stub_called("{symbol.name}"); }}')
        else:
            lines.append(f'char gdc_seg_d{index}[{symbol.size}] __asm__("{symbol.name}") __attribute__((aligned(16)));')
    return "\n".join(lines) + "\n"


def build_stub(real_library: Path, wanted: set[str], out_dir: Path) -> Path:
    """Compile a stand-in for ``real_library`` defining those of ``wanted`` that it exports; returns its path.

    The stand-in gets the real library's SONAME and file name, and the same symbol-version node.
    """
    library = soname(real_library)
    exported = defined_symbols(real_library)
    symbols = sorted((exported[name] for name in wanted if name in exported), key=lambda s: s.name)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = real_library.name.replace(".", "_")
    source = out_dir / f"{stem}.c"
    source.write_text(_c_source(library, symbols))
    command = [os.environ.get("CC", "cc"), "-shared", "-fPIC", "-O0", "-o", str(out_dir / real_library.name),
               str(source), f"-Wl,-soname,{library}"]
    versions = sorted({s.version for s in symbols if s.version})
    if versions:
        script = out_dir / f"{stem}.map"
        blocks = []
        for version in versions:
            names = "".join(f" {s.name};" for s in symbols if s.version == version)
            blocks.append(f"{version} {{ global:{names} }};")
        if any(s.version is None for s in symbols):
            raise RuntimeError(f"{real_library}: mixes versioned and unversioned exports; cannot stub it")
        blocks[-1] = blocks[-1][: -len(" };")] + " local: *; };"  # export nothing else (allowed once)
        script.write_text("\n".join(blocks) + "\n")
        command.append(f"-Wl,--version-script={script}")
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"compiling the stand-in for {library} failed:\n{done.stderr[-2000:]}")
    return out_dir / real_library.name


def build_stubs(real_libraries: list[Path], consumers: list[Path], out_dir: Path) -> dict[Path, Path]:
    """Stand-ins for each of ``real_libraries``, defining what ``consumers`` (the ELF files that stay) use.

    Returns {real library: stand-in}.
    """
    wanted: set[str] = set()
    for consumer in consumers:
        wanted |= undefined_symbols(consumer)
    return {real: build_stub(real, wanted, out_dir) for real in real_libraries}


def is_elf(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == b"\x7fELF"
    except OSError:
        return False


def report(tree: Path) -> list[str]:
    """Lines naming each ELF file under ``tree`` that is a stand-in."""
    lines = []
    for path in sorted(tree.rglob("*.so*")):
        if path.is_file() and is_elf(path) and b"gdc_seg_stub_called" in path.read_bytes():
            lines.append(f"stand-in: {path.relative_to(tree)} ({path.stat().st_size} bytes)")
    return lines


if __name__ == "__main__":
    for entry in report(Path(sys.argv[1])):
        print(entry)
