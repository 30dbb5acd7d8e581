"""Tuned NumPy kernels behind :mod:`cnnqa.numpy_ops` (inputs already validated and batched).

The dense convolution lays the padded images side by side in a channel-major buffer. A 1x1
conv is then one batched matmul. At stride 1 with many channels (``C * kw >= 128``) each kernel
row is one GEMM over contiguous slices, and only ``kw`` shifted copies of the input are made, not
a full im2col matrix. Other dense convs (strided ones, and few-channel ones such as a 7x7 stem)
copy every tap into one matrix as large as a textbook im2col (each tap a contiguous slice of a
per-stride-phase buffer) and run one GEMM. The batch is processed in chunks of whole images,
aiming to keep each chunk's scratch under :data:`CHUNK_BYTES` and at most
:data:`WORKSPACE_BYTES`; a single image that needs more forms a chunk alone, and with
:data:`NUM_WORKERS` = 2 two chunks are live at once.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

#: Upper bound, in bytes, on the scratch buffers one dense conv chunk may allocate.
WORKSPACE_BYTES = 256 * 2**20
#: Preferred chunk scratch: small enough to stay cache-warm and to reuse freed memory, since fresh
#: large temporaries cost page faults (measured: 8 MiB chunks are 10-35% faster than 256 MiB).
CHUNK_BYTES = 8 * 2**20

#: Python threads that share the batch chunks of a dense conv (NumPy releases the GIL in BLAS and
#: in its loops). With 2, give BLAS one thread each (threadpoolctl): this beats threaded BLAS on
#: these small GEMMs. ``benchmarks/bench_ops.py`` sets it for its two-thread tables.
NUM_WORKERS = 1

_NUMPY_PAD_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(x: np.ndarray, pads, mode: str = "zeros", value: float = 0.0) -> np.ndarray:
    """Pad the last two axes by ``((top, bottom), (left, right))`` with a torch padding mode."""
    if not any(map(any, pads)):
        return x
    extra = {"constant_values": value} if mode == "zeros" else {}
    return np.pad(x, ((0, 0), (0, 0), *pads), mode=_NUMPY_PAD_MODES[mode], **extra)


def tap(x: np.ndarray, offset: tuple[int, int], stride, out_hw) -> np.ndarray:
    """View of the input pixels one kernel tap sees for every output position: (..., Ho, Wo)."""
    (i, j), (sh, sw), (ho, wo) = offset, stride, out_hw
    return x[..., i : i + sh * (ho - 1) + 1 : sh, j : j + sw * (wo - 1) + 1 : sw]


def chunks(n: int, per_item_bytes: int, target: int = CHUNK_BYTES):
    """Slices of ``range(n)`` whose scratch stays under ``target`` and :data:`WORKSPACE_BYTES`.

    A single item always forms a chunk, whatever its size.
    """
    step = max(1, min(target, WORKSPACE_BYTES) // max(1, per_item_bytes))
    return [slice(start, min(n, start + step)) for start in range(0, n, step)]


def run_chunks(work, parts) -> None:
    """Call ``work(part)`` for every chunk, on :data:`NUM_WORKERS` threads when there are several."""
    if NUM_WORKERS == 1 or len(parts) == 1:
        for part in parts:
            work(part)
        return
    with ThreadPoolExecutor(NUM_WORKERS) as pool:
        list(pool.map(work, parts))


def _phase_buffers(xp: np.ndarray, stride, tail: int) -> np.ndarray:
    """Split (N, C, Hp, Wp) into stride phases laid out as (sh, sw, C, Hq * N * Wq + tail)."""
    n, c, hp, wp = xp.shape
    sh, sw = stride
    hq, wq = -(-hp // sh), -(-wp // sw)
    ragged = hp % sh or wp % sw
    phases = (np.zeros if ragged else np.empty)((sh, sw, c, hq * n * wq + tail), xp.dtype)
    phases[..., hq * n * wq :] = 0
    for a in range(sh):
        for b in range(sw):
            src = xp[:, :, a::sh, b::sw]  # (N, C, ha, wb)
            dst = phases[a, b, :, : hq * n * wq].reshape(c, hq, n, wq)
            dst[:, : src.shape[2], :, : src.shape[3]] = src.transpose(1, 2, 0, 3)
    return phases


def _conv_phases(xp: np.ndarray, weight: np.ndarray, stride, dilation, out_hw) -> np.ndarray:
    """Dense conv of padded (N, C, Hp, Wp) by (O, C, kh, kw): one GEMM over all stacked taps."""
    n, c, hp, wp = xp.shape
    o, _, kh, kw = weight.shape
    (sh, sw), (dh, dw), (ho, wo) = stride, dilation, out_hw
    wq = -(-wp // sw)
    phases = _phase_buffers(xp, stride, tail=(kw - 1) * dw // sw)
    m = ho * n * wq
    cols = np.empty((kh, kw, c, m), xp.dtype)  # every tap is a contiguous slice of a phase
    for i in range(kh):
        for j in range(kw):
            start = (i * dh // sh) * n * wq + j * dw // sw
            cols[i, j] = phases[i * dh % sh, j * dw % sw, :, start : start + m]
    flat = weight.transpose(0, 2, 3, 1).reshape(o, kh * kw * c)  # (O, kh*kw*C)
    out = flat @ cols.reshape(kh * kw * c, m)  # (O, Ho*N*Wq)
    return out.reshape(o, ho, n, wq)[..., :wo].transpose(2, 0, 1, 3)  # (N, O, Ho, Wo)


def _conv_rows(xp: np.ndarray, weight: np.ndarray, dilation, out_hw) -> np.ndarray:
    """Stride-1 dense conv: stack only the kw horizontal shifts, then one GEMM per kernel row."""
    n, c, hp, wp = xp.shape
    o, _, kh, kw = weight.shape
    (dh, dw), (ho, wo) = dilation, out_hw
    phase = _phase_buffers(xp, (1, 1), tail=(kw - 1) * dw)[0, 0]  # (C, Hp*N*Wp + tail)
    rows_len, m = hp * n * wp, ho * n * wp
    shifted = np.empty((kw, c, rows_len), xp.dtype)
    for j in range(kw):
        shifted[j] = phase[:, j * dw : j * dw + rows_len]
    out = np.empty((o, m), xp.dtype)
    partial = np.empty((o, m), xp.dtype)
    for i in range(kh):
        w_row = weight[:, :, i].transpose(0, 2, 1).reshape(o, kw * c)  # (O, kw*C)
        rows = shifted[:, :, i * dh * n * wp : i * dh * n * wp + m].reshape(kw * c, m)
        np.matmul(w_row, rows, out=partial if i else out)
        if i:
            out += partial
    return out.reshape(o, ho, n, wp)[..., :wo].transpose(2, 0, 1, 3)  # (N, O, Ho, Wo)


def _conv_1x1(xp: np.ndarray, weight: np.ndarray, stride, out_hw) -> np.ndarray:
    """1x1 conv as one batched matmul: (O, C) @ (N, C, Ho*Wo)."""
    n, c = xp.shape[:2]
    pixels = tap(xp, (0, 0), stride, out_hw).reshape(n, c, -1)  # (N, C, Ho*Wo)
    return np.matmul(weight.reshape(weight.shape[0], c), pixels).reshape(n, -1, *out_hw)


def conv_dense(xp: np.ndarray, weight: np.ndarray, stride, dilation, out_hw) -> np.ndarray:
    """Dense (groups=1) conv of a padded batch, in chunks bounded by :data:`WORKSPACE_BYTES`."""
    n, c, hp, wp = xp.shape
    o, _, kh, kw = weight.shape
    row_wise = stride == (1, 1) and c * kw >= 128
    stacked = kw * hp if row_wise else kh * kw * out_hw[0]
    per_image = xp.itemsize * wp * (2 * c * hp + c * stacked + 2 * o * out_hw[0])
    out = np.empty((n, o, *out_hw), xp.dtype)

    def work(part):
        if (kh, kw) == (1, 1):
            out[part] = _conv_1x1(xp[part], weight, stride, out_hw)
        elif row_wise:
            out[part] = _conv_rows(xp[part], weight, dilation, out_hw)
        else:
            out[part] = _conv_phases(xp[part], weight, stride, dilation, out_hw)

    run_chunks(work, chunks(n, per_image))
    return out


def conv_depthwise(xp: np.ndarray, weight: np.ndarray, stride, dilation, out_hw) -> np.ndarray:
    """Conv with one input channel per group: a multiply-add per kernel tap.

    With stride 1 the images of a chunk lie side by side in one flat channel-major buffer,
    (C, Hp*N*Wp), as in the dense conv: each tap is then one contiguous slice for all images at
    once, so a 3x3 kernel costs 17 NumPy calls per chunk. (Measured: twice as fast as the same
    loop image by image, whose many small calls dominate.) Other strides take the taps as
    strided views, image by image.
    """
    n = xp.shape[0]
    o, _, kh, kw = weight.shape
    out = np.empty((n, o, *out_hw), xp.dtype)
    if stride == (1, 1):
        per_image = xp.itemsize * (xp.shape[1] * xp.shape[2] * xp.shape[3] + 2 * o * out_hw[0] * xp.shape[3])

        def work(part):
            out[part] = _depthwise_flat(xp[part], weight, dilation, out_hw)

        # Elementwise passes gain nothing from cache-sized chunks, only fewer calls: bound the
        # chunk by the workspace alone.
        run_chunks(work, chunks(n, per_image, target=WORKSPACE_BYTES))
    else:
        for image in range(n):
            out[image] = _depthwise_taps(xp[image], weight, stride, dilation, out_hw)
    return out


def _depthwise_accumulate(views, w: np.ndarray, acc: np.ndarray) -> None:
    """``acc = sum_t views[t] * w[..., t]``: one multiply and one add per tap, into ``acc``."""
    partial = np.empty_like(acc)
    for t, view in enumerate(views):
        np.multiply(view, w[..., t, None], out=partial if t else acc)
        if t:
            acc += partial


def _depthwise_flat(xp: np.ndarray, weight: np.ndarray, dilation, out_hw) -> np.ndarray:
    """Stride-1 depthwise conv of a padded chunk, taps as contiguous slices of the flat buffer."""
    n, c, hp, wp = xp.shape
    o, _, kh, kw = weight.shape
    (dh, dw), (ho, wo) = dilation, out_hw
    pixels = _phase_buffers(xp, (1, 1), tail=(kw - 1) * dw)[0, 0]  # (C, Hp*N*Wp + tail)
    m = ho * n * wp
    offsets = [i * dh * n * wp + j * dw for i in range(kh) for j in range(kw)]
    acc = np.empty((c, o // c, m), xp.dtype)  # (C, multiplier, Ho*N*Wp)
    _depthwise_accumulate((pixels[:, None, k : k + m] for k in offsets), weight.reshape(c, o // c, kh * kw), acc)
    acc = acc.reshape(o, ho, n, wp)[..., :wo]  # (O, Ho, N, Wo)
    return acc.transpose(2, 0, 1, 3)  # (N, O, Ho, Wo)


def _depthwise_taps(image: np.ndarray, weight: np.ndarray, stride, dilation, out_hw) -> np.ndarray:
    """Depthwise conv of one padded (C, Hp, Wp) image with any stride, taps as strided views."""
    c = image.shape[0]
    o, _, kh, kw = weight.shape
    (dh, dw), (ho, wo) = dilation, out_hw
    views = (
        tap(image, (i * dh, j * dw), stride, out_hw).reshape(c, 1, ho * wo) for i in range(kh) for j in range(kw)
    )
    acc = np.empty((c, o // c, ho * wo), image.dtype)  # (C, multiplier, Ho*Wo)
    _depthwise_accumulate(views, weight.reshape(c, o // c, kh * kw), acc)
    return acc.reshape(o, ho, wo)


def conv2d(xp: np.ndarray, weight: np.ndarray, groups: int, stride, dilation, out_hw) -> np.ndarray:
    """Conv of a padded (N, C, Hp, Wp) batch: depthwise, dense, or one dense conv per group."""
    c = xp.shape[1]
    if groups == 1:
        return conv_dense(xp, weight, stride, dilation, out_hw)
    if c == groups:
        return conv_depthwise(xp, weight, stride, dilation, out_hw)
    cg, og = c // groups, weight.shape[0] // groups
    return np.concatenate(
        [
            conv_dense(xp[:, g * cg : (g + 1) * cg], weight[g * og : (g + 1) * og], stride, dilation, out_hw)
            for g in range(groups)
        ],
        axis=1,
    )


def conv_transpose2d(x: np.ndarray, weight: np.ndarray, cfg) -> np.ndarray:
    """Transposed conv: per group a GEMM to columns, then col2im by strided adds, then crop."""
    n, c, h, w = x.shape
    _, og, kh, kw = weight.shape
    (sh, sw), (dh, dw), groups = cfg.stride, cfg.dilation, cfg.groups
    (ph, _), (pw, _) = cfg.pads
    (eh, ew), (ho, wo) = cfg.output_padding, cfg.out_hw
    full = np.zeros((n, og * groups, sh * (h - 1) + dh * (kh - 1) + 1 + eh, sw * (w - 1) + dw * (kw - 1) + 1 + ew), x.dtype)
    cg = c // groups
    for g in range(groups):
        w_g = weight[g * cg : (g + 1) * cg].reshape(cg, og * kh * kw)  # (Cin/g, Cout/g*kh*kw)
        cols = np.matmul(w_g.T, x[:, g * cg : (g + 1) * cg].reshape(n, cg, h * w))
        cols = cols.reshape(n, og, kh, kw, h, w)
        for i in range(kh):
            for j in range(kw):
                tap(full[:, g * og : (g + 1) * og], (i * dh, j * dw), (sh, sw), (h, w))[...] += cols[:, :, i, j]
    return full[:, :, ph : ph + ho, pw : pw + wo]  # (N, Cout, Ho, Wo)


def max_pool(xp: np.ndarray, cfg) -> np.ndarray:
    """Separable max pooling of a -inf padded batch: maxima along rows, then along columns."""
    (kh, kw), (dh, dw), (sh, sw), (ho, wo) = cfg.kernel, cfg.dilation, cfg.stride, cfg.out_hw
    rows = tap(xp, (0, 0), (1, sw), (xp.shape[2], wo)).copy()  # (N, C, Hp, Wo)
    for j in range(1, kw):
        np.maximum(rows, tap(xp, (0, j * dw), (1, sw), (xp.shape[2], wo)), out=rows)
    out = tap(rows, (0, 0), (sh, 1), (ho, wo)).copy()  # (N, C, Ho, Wo)
    for i in range(1, kh):
        np.maximum(out, tap(rows, (i * dh, 0), (sh, 1), (ho, wo)), out=out)
    return out


def max_pool_with_indices(xp: np.ndarray, flat_index: np.ndarray, first_index: np.ndarray, cfg):
    """Max pooling that tracks torch's flat per-plane indices (first maximum wins, NaN wins)."""
    (kh, kw), (dh, dw) = cfg.kernel, cfg.dilation
    out = np.full((*xp.shape[:2], *cfg.out_hw), -np.inf, xp.dtype)
    indices = np.broadcast_to(first_index, out.shape).copy()
    for i in range(kh):
        for j in range(kw):
            view = tap(xp, (i * dh, j * dw), cfg.stride, cfg.out_hw)
            better = (view > out) | np.isnan(view)
            np.copyto(out, view, where=better)
            np.copyto(indices, tap(flat_index, (i * dh, j * dw), cfg.stride, cfg.out_hw), where=better)
    return out, indices


def window_sums(xp: np.ndarray, cfg) -> np.ndarray:
    """Separable window sums of a zero-padded batch (avg pooling numerator)."""
    (kh, kw), (sh, sw), (ho, wo) = cfg.kernel, cfg.stride, cfg.out_hw
    rows = tap(xp, (0, 0), (1, sw), (xp.shape[2], wo)).copy()  # (N, C, Hp, Wo)
    for j in range(1, kw):
        rows += tap(xp, (0, j), (1, sw), (xp.shape[2], wo))
    out = tap(rows, (0, 0), (sh, 1), (ho, wo)).copy()  # (N, C, Ho, Wo)
    for i in range(1, kh):
        out += tap(rows, (i, 0), (sh, 1), (ho, wo))
    return out


def conv_weight_grad(xp: np.ndarray, grad_out: np.ndarray, weight_size, cfg) -> np.ndarray:
    """Weight gradient of a conv: per group and kernel tap, one GEMM of output gradient by input tap."""
    o, cg, kh, kw = weight_size
    og, n = o // cfg.groups, xp.shape[0]
    (dh, dw), m = cfg.dilation, cfg.out_hw[0] * cfg.out_hw[1]
    grad = np.empty(weight_size, xp.dtype)
    for g in range(cfg.groups):
        gy = grad_out[:, g * og : (g + 1) * og].reshape(n, og, m)  # (N, O/g, Ho*Wo)
        x = xp[:, g * cg : (g + 1) * cg]
        for i in range(kh):
            for j in range(kw):
                seen = tap(x, (i * dh, j * dw), cfg.stride, cfg.out_hw).reshape(n, cg, m)  # (N, C/g, Ho*Wo)
                grad[g * og : (g + 1) * og, :, i, j] = np.einsum("nom,ncm->oc", gy, seen)
    return grad
