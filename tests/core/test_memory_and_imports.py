"""The fast conv's working set is bounded (it chunks the batch); module import boundaries hold."""

import ast
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import cnnqa
from cnnqa import _numpy_fast, numpy_ops


@pytest.mark.parametrize("kernel, dilation", [(3, 1), (7, 1), (3, 2)], ids=["rows-3x3", "rows-7x7", "phases-dilated"])
def test_conv2d_chunks_the_batch_under_the_workspace_limit(monkeypatch, kernel, dilation):
    x = np.random.default_rng(0).standard_normal((16, 64, 12, 12)).astype(np.float32)
    w = np.random.default_rng(1).standard_normal((8, 64, kernel, kernel)).astype(np.float32)
    unfolded = kernel * kernel * x.nbytes  # a textbook im2col of the whole batch
    limit = unfolded // 8
    monkeypatch.setattr(_numpy_fast, "WORKSPACE_BYTES", limit)
    calls = []
    for name in ("_conv_rows", "_conv_phases"):
        original = getattr(_numpy_fast, name)
        monkeypatch.setattr(_numpy_fast, name, lambda *a, _f=original: calls.append(a[0].shape[0]) or _f(*a))
    padding = dilation * (kernel // 2)
    tracemalloc.start()
    out = numpy_ops.conv2d(x, w, padding=padding, dilation=dilation)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(calls) > 1 and max(calls) < x.shape[0], f"batch not chunked: {calls}"
    scratch = peak - out.nbytes
    assert scratch <= 1.1 * limit, f"scratch {scratch} bytes for a {limit}-byte limit"
    expected = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=padding, dilation=dilation)
    np.testing.assert_allclose(out, expected.numpy(), rtol=1e-4, atol=1e-4 * float(expected.abs().max()))


def test_import_cnnqa_does_not_import_torch_and_figures_import_matplotlib_only_to_draw():
    code = (
        "import sys, cnnqa, cnnqa.figures as f; print('torch' in sys.modules, 'matplotlib' in sys.modules); "
        "f.animation('max-pool'); print('matplotlib' in sys.modules); f.pooling_photo_figure('');"
        "print('matplotlib' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False", "False", "True"], result.stdout


@pytest.mark.parametrize("module", ["shapes", "_args", "_config", "architectures"])
def test_pure_python_modules_import_only_the_standard_library_and_cnnqa(module):
    tree = ast.parse(Path(cnnqa.__file__).with_name(f"{module}.py").read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"__future__", "collections", "dataclasses", "fractions", "functools", "math", "numbers", "typing",
                        "cnnqa"}, imported


def test_two_workers_give_the_same_result(monkeypatch):
    x = np.random.default_rng(0).standard_normal((4, 8, 5, _numpy_fast.WIDE_ROW))  # wide rows: chunks of any size
    w = np.random.default_rng(1).standard_normal((6, 8, 3, 3))
    monkeypatch.setattr(_numpy_fast, "CHUNK_BYTES", 1)  # one image per chunk: four chunks
    monkeypatch.setattr(_numpy_fast, "NUM_WORKERS", 2)
    parts, run_chunks = [], _numpy_fast.run_chunks

    def counted(work, chunks):
        parts.append(len(chunks))
        run_chunks(work, chunks)

    monkeypatch.setattr(_numpy_fast, "run_chunks", counted)
    expected = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1).numpy()
    np.testing.assert_allclose(numpy_ops.conv2d(x, w, padding=1), expected, rtol=1e-10, atol=1e-10)
    assert parts == [4]
