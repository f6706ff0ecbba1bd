"""Model registry entries -> a verified GGUF file under resources/models/.

Sources (exactly one per model):
  package_file  a file inside an installed Python package, located WITHOUT importing the package
                (some model packages import heavy or unrelated code on import)
  parts         raw byte parts shipped in numbered packages, concatenated in order
  path          a local file
  url           a download, for users with internet access (never used by the default config)
Every source is checked against the registry's sha256 before the file is published.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import urllib.request
from pathlib import Path

from medsyn.atomic import atomic_path
from medsyn.errors import ModelError

GGUF_MAGIC = b"GGUF"


def package_dir(package: str, pip_hint: str = "") -> Path:
    spec = importlib.util.find_spec(package)  # finds a top-level package without executing its __init__
    if spec is None or not spec.submodule_search_locations:
        hint = f" Install it with: pip install {pip_hint}" if pip_hint else ""
        raise ModelError(f"Python package '{package}' holding the model is not installed.{hint}")
    return Path(list(spec.submodule_search_locations)[0])


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def check_gguf(path: Path, name: str | None = None) -> None:
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic != GGUF_MAGIC:
        raise ModelError(f"{name or path} is not a GGUF file (starts with {magic!r}, expected {GGUF_MAGIC!r})")


def _part_paths(parts: dict) -> list[Path]:
    out = []
    for i in range(1, int(parts["count"]) + 1):
        pkg = parts["package"].format(i=i, i0=i - 1)
        pip_hint = parts.get("pip", "").format(i=i, i0=i - 1)
        path = package_dir(pkg, pip_hint) / parts["file"].format(i=i, i0=i - 1)
        if not path.is_file():
            raise ModelError(f"model part {i} not found: {path}")
        out.append(path)
    return out


def materialize(model_id: str, entry: dict, out_path: str | Path) -> dict:
    """Write the model to ``out_path`` (atomically, sha256-checked); returns provenance."""
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    source = entry["source"]
    expected = entry["sha256"].lower()
    with atomic_path(out_path) as tmp:
        if "package_file" in source:
            src = source["package_file"]
            path = package_dir(src["package"], src.get("pip", "")) / src["file"]
            if not path.is_file():
                raise ModelError(f"model '{model_id}': file {src['file']} not found in package {src['package']}")
            # a copy, never a hard link: a link shares the installed file's inode, so touching one checkout's
            # resources/models/<id>.gguf (snakemake --touch) changed the mtime of every other checkout's copy too
            shutil.copyfile(path, tmp)
        elif "parts" in source:
            with open(tmp, "wb") as out:
                for part in _part_paths(source["parts"]):
                    with open(part, "rb") as fh:
                        shutil.copyfileobj(fh, out, length=1 << 22)
        elif "path" in source:
            path = Path(source["path"]).expanduser()
            if not path.is_file():
                raise ModelError(f"model '{model_id}': file not found: {path}")
            shutil.copyfile(path, tmp)
        elif "url" in source:
            try:
                with urllib.request.urlopen(source["url"], timeout=60) as resp, open(tmp, "wb") as out:
                    shutil.copyfileobj(resp, out, length=1 << 22)
            except OSError as exc:
                raise ModelError(f"model '{model_id}': download failed from {source['url']}: {exc}") from None
        else:
            raise ModelError(f"model '{model_id}': source needs one of package_file, parts, path, url")
        check_gguf(tmp, name=f"model '{model_id}': source {source}")
        actual = sha256_file(tmp)
        if actual != expected:
            raise ModelError(
                f"model '{model_id}': sha256 mismatch for {out_path.name}: expected {expected}, got {actual}"
            )
    return {"model": model_id, "path": str(out_path), "sha256": expected, "bytes": out_path.stat().st_size}
