"""Tuned NumPy kernels behind :mod:`cnnqa.numpy_ops` (inputs already validated and batched).

Convs read the zero-padded input without making a padded copy: :func:`gather` copies what a
kernel needs out of the unpadded input and writes zeros where the padding would be. A dense conv
copies the input's rows once per kernel column (:func:`_shifted_rows`); the window of every output
pixel of a row is then one matrix with a single leading dimension, and all rows are one batched
matmul by the flattened weights (:func:`_conv_rows`), with no im2col matrix. Rows at least
:data:`WIDE_ROW` wide are done image by image and written straight into the output; narrower ones
lie side by side across images. A 1x1 conv is one batched matmul; a conv dilated in height takes
an im2col over stride phases (:func:`_conv_phases`). The batch is processed in chunks of whole
images, aiming to keep each chunk's scratch under :data:`CHUNK_BYTES` and at most
:data:`WORKSPACE_BYTES`; a single image that needs more forms a chunk alone, and with
:data:`NUM_WORKERS` = 2 two chunks are live at once.

The backward passes reuse the same layouts: a conv's weight gradient is one GEMM per kernel row
against the shifted rows, its input gradient at stride 1 the forward conv of the output gradient
with the flipped kernel, and at larger strides the adjoint of the weight gradient's layout.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.lib.stride_tricks import as_strided

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


def chunks(n: int, per_item_bytes: int, target: int | None = None, at_least: int = 1):
    """Slices of ``range(n)`` of near-equal size whose scratch stays under ``target`` (by default
    :data:`CHUNK_BYTES`) and :data:`WORKSPACE_BYTES`.

    A chunk holds at least ``at_least`` items if :data:`WORKSPACE_BYTES` allows, and always one,
    whatever its size.
    """
    target = CHUNK_BYTES if target is None else target  # read when called: tests and benchmarks set it
    per_item_bytes = max(1, per_item_bytes)
    step = max(1, min(max(at_least, target // per_item_bytes), WORKSPACE_BYTES // per_item_bytes))
    count = -(-n // step)
    bounds = [n * k // count for k in range(count + 1)]
    return [slice(start, stop) for start, stop in zip(bounds, bounds[1:])]


def run_chunks(work, parts) -> None:
    """Call ``work(part)`` for every chunk, on :data:`NUM_WORKERS` threads when there are several."""
    if NUM_WORKERS == 1 or len(parts) == 1:
        for part in parts:
            work(part)
        return
    with ThreadPoolExecutor(NUM_WORKERS) as pool:
        list(pool.map(work, parts))


def _inside(start: int, step: int, count: int, size: int) -> tuple[int, int]:
    """``(lo, hi)``: the ``k`` in ``range(count)`` with ``0 <= start + k * step < size`` are ``range(lo, hi)``."""
    lo = min(count, max(0, -(start // step)))  # ceil(-start / step)
    return lo, max(lo, min(count, (size - 1 - start) // step + 1))


def gather(dst: np.ndarray, x: np.ndarray, rows, cols, fill: float = 0.0) -> None:
    """``dst[n, q, c, p] = x[n, c, r0 + q rs, c0 + p cs]`` for ``rows = (r0, rs)``, ``cols = (c0, cs)``.

    Positions outside ``x`` (the padding) read ``fill``, so no padded copy of ``x`` is made.
    """
    (r0, rs), (c0, cs) = rows, cols
    (qlo, qhi), (plo, phi) = _inside(r0, rs, dst.shape[1], x.shape[2]), _inside(c0, cs, dst.shape[3], x.shape[3])
    dst[:, :qlo] = fill
    dst[:, qhi:] = fill
    dst[:, qlo:qhi, :, :plo] = fill
    dst[:, qlo:qhi, :, phi:] = fill
    if qlo < qhi and plo < phi:
        src = x[:, :, r0 + qlo * rs : r0 + (qhi - 1) * rs + 1 : rs, c0 + plo * cs : c0 + (phi - 1) * cs + 1 : cs]
        dst[:, qlo:qhi, :, plo:phi] = src.transpose(0, 2, 1, 3)


def scatter_add(grad: np.ndarray, src: np.ndarray, rows, cols, add: bool = True) -> None:
    """The adjoint of :func:`gather`: ``grad[n, c, r0 + q rs, c0 + p cs] += src[n, q, c, p]`` inside ``grad``.

    With ``add=False`` it assigns instead of adding.
    """
    (r0, rs), (c0, cs) = rows, cols
    (qlo, qhi), (plo, phi) = _inside(r0, rs, src.shape[1], grad.shape[2]), _inside(c0, cs, src.shape[3], grad.shape[3])
    if qlo < qhi and plo < phi:
        dst = grad[:, :, r0 + qlo * rs : r0 + (qhi - 1) * rs + 1 : rs, c0 + plo * cs : c0 + (phi - 1) * cs + 1 : cs]
        values = src[:, qlo:qhi, :, plo:phi].transpose(0, 2, 1, 3)
        if add:
            dst += values
        else:
            dst[...] = values


def origin(pads) -> tuple[int, int]:
    """Where a conv's padded input starts, in the input's own coordinates: ``(-top, -left)``."""
    (top, _), (left, _) = pads
    return -top, -left


def window(x: np.ndarray, origin, hw) -> np.ndarray:
    """The ``(N, C, *hw)`` zero-padded window of ``x`` whose first pixel is ``x[..., r0, c0]``, ``origin = (r0, c0)``."""
    if origin == (0, 0) and tuple(hw) == x.shape[2:]:
        return x
    out = np.empty((*x.shape[:2], *hw), x.dtype)
    gather(out.transpose(0, 2, 1, 3), x, (origin[0], 1), (origin[1], 1))
    return out


def read_extent(stride, dilation, kernel, out_hw) -> tuple[int, int]:
    """Rows and columns of the padded input that a conv's windows span: ``S (H' - 1) + D (F - 1) + 1``."""
    return tuple(s * (o - 1) + d * (k - 1) + 1 for s, d, k, o in zip(stride, dilation, kernel, out_hw))


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


#: Output rows at least this wide are one GEMM each, image by image, written straight into the
#: output; narrower rows lie side by side across the chunk's images, so that each GEMM is wide
#: enough for BLAS to run near its peak (measured: 28-wide rows alone take 1.6x, 14-wide 3x the time).
WIDE_ROW = 48
#: The width a GEMM of narrow rows is given at least, by putting enough images in a chunk
#: (measured on 3x3 convs: 56 columns take 1.2-2.4x the time per image of 112).
GEMM_COLUMNS = 112


def _shifted_rows(x: np.ndarray, kw: int, origin, stride_w: int, dilation_w: int, hw) -> np.ndarray:
    """The input's rows shifted once per kernel column: ``rows[n, h, j, c, p] = x~[n, c, h, D_w j + S_w p]``.

    The buffer is ``(N, Hp, kw, C, Wo)`` for wide rows and ``(Hp, kw, C, N, Wo)`` otherwise. Either way the ``kh * kw * C`` values of one
    output pixel's window, for every pixel of a row, form a matrix with one leading dimension.
    """
    n, c = x.shape[:2]
    hp, wo = hw
    wide = wo >= WIDE_ROW
    buf = np.empty((n, hp, kw, c, wo) if wide else (hp, kw, c, n, wo), x.dtype)
    rows = buf if wide else buf.transpose(3, 0, 1, 2, 4)
    for j in range(kw):
        gather(rows[:, :, j], x, (origin[0], 1), (origin[1] + j * dilation_w, stride_w))
    return buf


def _conv_rows(x: np.ndarray, flat: np.ndarray, kernel, origin, stride, dilation_w: int, out: np.ndarray) -> None:
    """Undilated-in-height dense conv into ``out`` (N, O, Ho, Wo): one GEMM per output row.

    After :func:`_shifted_rows`, the window of output row ``i`` is rows ``S_h i .. S_h i + kh - 1``
    of the buffer, a ``(kh * kw * C, Wo)`` matrix (``(kh * kw * C, N * Wo)`` for narrow rows) at a
    fixed step from the next one: a strided view, so all rows are one batched matmul by
    ``flat`` (O, kh*kw*C) with no im2col copy.
    """
    n, o, ho, wo = out.shape
    (kh, kw), (sh, sw) = kernel, stride
    buf = _shifted_rows(x, kw, origin, sw, dilation_w, (sh * (ho - 1) + kh, wo))
    k, item = flat.shape[1], buf.itemsize
    if wo >= WIDE_ROW:  # (N, Ho, K, Wo) windows; out viewed as (N, Ho, O, Wo)
        windows = as_strided(buf, (n, ho, k, wo), (buf.strides[0], sh * buf.strides[1], wo * item, item), writeable=False)
        np.matmul(flat, windows, out=out.transpose(0, 2, 1, 3))
    else:  # (Ho, K, N*Wo) windows
        windows = as_strided(buf, (ho, k, n * wo), (sh * buf.strides[0], n * wo * item, item), writeable=False)
        out[...] = np.matmul(flat, windows).reshape(ho, o, n, wo).transpose(2, 1, 0, 3)


def _conv_1x1(xp: np.ndarray, weight: np.ndarray, stride, out: np.ndarray) -> None:
    """1x1 conv into ``out`` (N, O, Ho, Wo) as one batched matmul: (O, C) @ (N, C, Ho*Wo)."""
    n, c = xp.shape[:2]
    pixels = tap(xp, (0, 0), stride, out.shape[2:]).reshape(n, c, -1)  # (N, C, Ho*Wo)
    np.matmul(weight.reshape(weight.shape[0], c), pixels, out=out.reshape(n, out.shape[1], -1))


def conv_dense(x: np.ndarray, weight: np.ndarray, origin, stride, dilation, out_hw) -> np.ndarray:
    """Dense (groups=1) conv reading ``x`` from ``origin`` (see :func:`window`), in chunks of whole images.

    1x1 kernels are a batched matmul, kernels undilated in height :func:`_conv_rows`, the rest
    (dilated in height) one im2col GEMM over stride phases.
    """
    n, c = x.shape[:2]
    o, _, kh, kw = weight.shape
    (ho, wo), (hp, wp) = out_hw, read_extent(stride, dilation, (kh, kw), out_hw)
    rows = (kh, kw) != (1, 1) and dilation[0] == 1
    # scratch: the shifted rows, or the window, its phases and the im2col matrix; and the output
    scratch = c * hp * kw * wo if rows else c * (2 * hp * wp + kh * kw * ho * wp)
    per_image = x.itemsize * (scratch + 2 * o * ho * wo)
    flat = np.ascontiguousarray(weight.transpose(0, 2, 3, 1).reshape(o, kh * kw * c))  # (O, kh*kw*C)
    out = np.empty((n, o, ho, wo), x.dtype)

    def work(part):
        if rows:
            _conv_rows(x[part], flat, (kh, kw), origin, stride, dilation[1], out[part])
        elif (kh, kw) == (1, 1):
            _conv_1x1(window(x[part], origin, (hp, wp)), weight, stride, out[part])
        else:
            out[part] = _conv_phases(window(x[part], origin, (hp, wp)), weight, stride, dilation, out_hw)

    narrow = rows and wo < WIDE_ROW
    run_chunks(work, chunks(n, per_image, at_least=-(-GEMM_COLUMNS // wo) if narrow else 1))
    return out


#: The working set of one block of planes in a depthwise conv's multiply-adds and in max
#: pooling's gradient: small enough to stay in a core's L2 cache across their passes (measured on
#: a depthwise conv of 128 channels of 28x28, batch 8: 3x as fast as passes over all channels at once).
CACHE_BYTES = 2**20


def conv_depthwise(x: np.ndarray, weight: np.ndarray, origin, stride, dilation, out_hw) -> np.ndarray:
    """Conv with one input channel per group, reading ``x`` from ``origin``: a multiply-add per kernel tap.

    With stride 1, each tap is one contiguous slice of a flat buffer that holds every image of a
    block of channels (:func:`_depthwise_flat`): one ``einsum`` per block. Other strides take the
    taps as strided views of the padded window, image by image.
    """
    n, c = x.shape[:2]
    o, _, kh, kw = weight.shape
    out = np.empty((n, o, *out_hw), x.dtype)
    if stride == (1, 1):
        rows, width = _flat_rows(x.shape[2:], (kh, kw), origin, dilation, out_hw)
        per_image = x.itemsize * rows * width * (kw + o // c)  # one channel's buffers and sums

        def work(part):
            _depthwise_flat(x[part], weight, origin, dilation, out[part])

        run_chunks(work, chunks(n, per_image, target=CACHE_BYTES))
    else:
        hp, wp = read_extent(stride, dilation, (kh, kw), out_hw)
        xp = window(x, origin, (hp, wp))
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


def _flat_rows(hw, kernel, origin, dilation, out_hw) -> tuple[int, int]:
    """Rows per image and row width of :func:`_depthwise_flat`'s buffer: ``H + Z`` and ``max(W, W')``.

    ``Z`` zero rows follow each image (and precede the first): enough for the padding at either
    edge, shared between neighbours, and enough that each image's ``H'`` output rows fit.
    """
    (h, w), (kh, _), (ho, wo), top = hw, kernel, out_hw, -origin[0]
    bottom = ho + (kh - 1) * dilation[0] - top - h
    return h + max(top, bottom, ho - h, 0), max(w, wo)


def _depthwise_flat(x: np.ndarray, weight: np.ndarray, origin, dilation, out: np.ndarray) -> None:
    """Stride-1 depthwise conv into ``out``: all kernel taps in one ``einsum`` over flat buffers.

    The images of a channel lie one after another in rows of the width :func:`_flat_rows` gives,
    with shared zero rows between them for the vertical padding. Tap ``(i, j)`` then reads, for
    every output pixel of every image at once, a buffer shifted by ``i*dh*R + j*dw - left``: one
    contiguous run. Columns need no padding: where an output column's tap falls off its row, it
    reads the neighbouring row instead, so each kernel column ``j`` reads a copy of the buffer in
    which the columns it must only ever see across a row's end are zero. The ``kW`` copies lie at
    a fixed step, so the taps are two axes of a strided view, and one ``einsum`` does a
    multiply-add pass per tap (measured: two thirds of the time of a multiply and an add per
    tap). Without padded columns the copies in and out move whole image planes. A block of
    channels at a time (:data:`CACHE_BYTES`), so that the passes stay in cache.
    """
    n, c, h, w_in = x.shape
    o, _, kh, kw = weight.shape
    (dh, dw), (ho, wo), (top, left) = dilation, out.shape[2:], (-origin[0], -origin[1])
    rows, r = _flat_rows((h, w_in), (kh, kw), origin, dilation, (ho, wo))
    zeros, multiplier = rows - h, o // c
    deltas = [j * dw - left for j in range(kw)]  # column offset of each kernel column's taps
    # Input columns a kernel column reads only across a row's end: for an output column k < W' <= R,
    # k + delta wraps to the previous row's last -delta columns, or to the next row's first delta.
    hidden = [slice(max(0, r + delta), w_in) if delta < 0 else slice(0, min(delta, w_in)) for delta in deltas]
    head = max(0, -min(deltas) - (zeros - top) * r)  # zeros before the first image: no run starts below 0
    start = head + (zeros - top) * r  # where tap (0, j) of output pixel 0 reads, less deltas[j]
    m = ((n - 1) * rows + ho) * r  # from the first image's first output row to the last image's last
    w = weight.reshape(c, multiplier, kh, kw)
    length = head + (n * rows + zeros) * r + max(0, *deltas) + r
    block = max(1, min(c, CACHE_BYTES // (x.itemsize * n * rows * r * (kw + multiplier))))
    buffers = np.zeros((kw, block, length), x.dtype)  # one per kernel column
    images = buffers[:, :, head + zeros * r : head + (zeros + n * rows) * r].reshape(kw, block, n, rows, r)
    images = images[..., :h, :w_in]
    acc = np.empty((block, multiplier, n * rows * r), x.dtype)
    item = x.itemsize
    for s in range(0, c, block):
        b = min(block, c - s)
        images[0, :b] = x[:, s : s + b].transpose(1, 0, 2, 3)
        images[1:, :b] = images[0, :b]
        for j, columns in enumerate(hidden):
            images[j, :b, ..., columns] = 0
        # (b, kH, kW, m): tap (i, j) of every output pixel; kernel column j's in buffer j
        taps = as_strided(buffers[0, :b, start + deltas[0] :], (b, kh, kw, m),
                          (length * item, dh * r * item, (block * length + dw) * item, item), writeable=False)
        np.einsum("ckij,cijm->ckm", w[s : s + b], taps, out=acc[:b, :, :m])
        result = acc[:b].reshape(b * multiplier, n, rows, r)[:, :, :ho, :wo]
        out[:, s * multiplier : (s + b) * multiplier] = result.transpose(1, 0, 2, 3)


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


def conv2d(x: np.ndarray, weight: np.ndarray, groups: int, origin, stride, dilation, out_hw) -> np.ndarray:
    """Conv of (N, C, H, W) read from ``origin`` (see :func:`window`): depthwise, dense, or one dense conv per group."""
    c = x.shape[1]
    if groups == 1:
        return conv_dense(x, weight, origin, stride, dilation, out_hw)
    if c == groups:
        return conv_depthwise(x, weight, origin, stride, dilation, out_hw)
    cg, og = c // groups, weight.shape[0] // groups
    return np.concatenate(
        [
            conv_dense(x[:, g * cg : (g + 1) * cg], weight[g * og : (g + 1) * og], origin, stride, dilation, out_hw)
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


def _pool_planes(x: np.ndarray, cfg, fill: float):
    """The padded input split into stride phases, each flat per plane: ``(sh, sw, N*C, L)``.

    Returns the planes, and per kernel tap in row-major order its phase and offset: the tap's
    value for every window is then ``planes[a, b, :, offset : offset + Ho * Wq]``, a contiguous run
    per plane, laid out ``(Ho, Wq)`` with ``Wq - Wo`` unused columns at the end of each row. Strided
    views are about 5x slower per element than such runs.
    """
    n, c = x.shape[:2]
    (sh, sw), (dh, dw), (kh, kw), (ho, _) = cfg.stride, cfg.dilation, cfg.kernel, cfg.out_hw
    hp, wp = read_extent(cfg.stride, cfg.dilation, cfg.kernel, cfg.out_hw)
    hq, wq = -(-hp // sh), -(-wp // sw)
    taps = [((u * dh % sh, v * dw % sw), (u * dh // sh) * wq + v * dw // sw) for u in range(kh) for v in range(kw)]
    planes = np.empty((sh, sw, n * c, max(hq * wq, max(off for _, off in taps) + ho * wq)), x.dtype)
    (top, _), (left, _) = cfg.pads
    for a in range(sh):
        for b in range(sw):
            planes[a, b, :, hq * wq :] = fill
            dst = planes[a, b, :, : hq * wq].reshape(n, c, hq, wq).transpose(0, 2, 1, 3)
            gather(dst, x, (a - top, sh), (b - left, sw), fill)
    return planes, taps, (hq, wq)


def max_pool_grad(x: np.ndarray, grad_out: np.ndarray, cfg):
    """Max pooling's input gradient, or None where a window's maximum is NaN or ``-inf``.

    One pass per tap finds each window's first maximum (a strict ``>`` keeps the earliest tap, as
    torch); one more sends the window's gradient to that tap. Both run over a block of planes at
    a time (:data:`CACHE_BYTES`), so that their passes stay in cache (measured: 23% faster).
    NaN and all ``-inf`` windows follow rules of their own (the last NaN wins; an all-``-inf``
    window's first tap inside the input): for those the caller takes the index-tracking path.
    """
    planes, taps, (hq, wq) = _pool_planes(x, cfg, -np.inf)
    (n, c, height, width), (ho, wo), m = x.shape, cfg.out_hw, cfg.out_hw[0] * wq
    index = np.min_scalar_type(len(taps) - 1)
    # A block of planes at a time, so that its passes stay in cache: (N*C, Ho*Wq) runs per array
    per_plane = planes.itemsize * (planes[:, :, 0].size + 2 * m) + 3 * m
    block = max(1, CACHE_BYTES // per_plane)
    best, go = np.empty((2, block, m), x.dtype)
    winner, later = np.empty((2, block, m), index)
    mask = np.empty((block, m), bool)
    grad_out = grad_out.reshape(n * c, ho, wo)
    for s in range(0, n * c, block):
        rows = slice(s, min(s + block, n * c))
        k = rows.stop - s
        b_best, b_go, b_winner, b_later, b_mask = best[:k], go[:k], winner[:k], later[:k], mask[:k]
        b_best[...] = planes[taps[0][0]][rows, taps[0][1] : taps[0][1] + m]
        b_winner.fill(0)
        for t, (phase, offset) in enumerate(taps[1:], start=1):
            view = planes[phase][rows, offset : offset + m]
            np.greater(view, b_best, out=b_mask)
            np.maximum(b_best, view, out=b_best)
            # winner = t where the tap is greater: t exceeds every earlier index, so a maximum does
            # it without branches (a masked copy is several times slower on such random masks)
            np.maximum(b_winner, np.multiply(b_mask, index.type(t), out=b_later), out=b_winner)
        if not np.isfinite(b_best.reshape(k, ho, wq)[..., :wo].min()):
            return None
        b_go.reshape(k, ho, wq)[..., wo:] = 0
        b_go.reshape(k, ho, wq)[..., :wo] = grad_out[rows]
        planes[:, :, rows] = 0  # the block's input planes are done with: its gradient reuses them
        for t, (phase, offset) in enumerate(taps):
            np.multiply(b_go, np.equal(b_winner, t, out=b_mask), out=b_best)
            planes[phase][rows, offset : offset + m] += b_best
    grad_planes = planes
    # each input pixel lies in one phase plane: assign, and zero the pixels no window reads
    grad = np.empty(x.shape, x.dtype)
    (top, _), (left, _) = cfg.pads
    hp, wp = read_extent(cfg.stride, cfg.dilation, cfg.kernel, cfg.out_hw)
    grad[:, :, max(0, hp - top) :] = 0
    grad[..., max(0, wp - left) :] = 0
    for a in range(cfg.stride[0]):
        for b in range(cfg.stride[1]):
            plane = grad_planes[a, b, :, : hq * wq].reshape(n, c, hq, wq).transpose(0, 2, 1, 3)
            scatter_add(grad, plane, (a - top, cfg.stride[0]), (b - left, cfg.stride[1]), add=False)
    return grad


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


def _row_phases(kh: int, stride_h: int, dilation_h: int, out_h: int) -> tuple[dict, int]:
    """Where each kernel row's window lies in the buffers of :func:`_phase_rows`.

    Returns ``{a: [(i, q0), ...]}``: kernel row ``i`` reads rows ``q0 .. q0 + Ho - 1`` of stride
    phase ``a`` (padded-input rows ``a, a + S_h, ...``), and the rows each phase needs.
    """
    phases = {}
    for i in range(kh):
        phases.setdefault(i * dilation_h % stride_h, []).append((i, i * dilation_h // stride_h))
    return phases, max(q0 for rows in phases.values() for _, q0 in rows) + out_h


def _phase_rows(x: np.ndarray, kw: int, origin, stride, dilation_w: int, phase: int, hw) -> np.ndarray:
    """``(kw, C, Hq, N, Wo)``: ``[j, c, q, n, p] = x~[n, c, a + S_h q, D_w j + S_w p]`` for phase ``a``.

    Kernel row ``i`` of phase ``a`` then sees ``[:, :, q0 : q0 + Ho]``, a ``(kw * C, Ho * N * Wo)``
    matrix with one leading dimension: one GEMM per kernel row with the output gradient.
    """
    n, c = x.shape[:2]
    buf = np.empty((kw, c, hw[0], n, hw[1]), x.dtype)
    for j in range(kw):
        gather(buf[j].transpose(2, 1, 0, 3), x, (origin[0] + phase, stride[0]), (origin[1] + j * dilation_w, stride[1]))
    return buf


def _dense_weight_grad(x: np.ndarray, grad_out: np.ndarray, kernel, origin, stride, dilation) -> np.ndarray:
    """Weight gradient of a dense conv: per chunk and kernel row, (O, N*Ho*Wo) @ (N*Ho*Wo, kw*C)."""
    (n, c), (_, o, ho, wo), (kh, kw) = x.shape[:2], grad_out.shape, kernel
    if kernel == (1, 1) and stride == (1, 1) and origin == (0, 0):  # per image (O, H*W) @ (H*W, C)
        pixels = x[:, :, :ho, :wo].reshape(n, c, -1)
        return np.matmul(grad_out.reshape(n, o, -1), pixels.transpose(0, 2, 1)).sum(axis=0)[..., None, None]
    phases, hq = _row_phases(kh, stride[0], dilation[0], ho)
    grad = np.zeros((o, kh, kw * c), x.dtype)
    per_image = x.itemsize * (len(phases) * kw * c * hq * wo + o * ho * wo)
    for part in chunks(n, per_image):
        gy = grad_out[part].transpose(1, 2, 0, 3).reshape(o, -1)  # (O, Ho*N*Wo), a copy
        for a, rows in phases.items():
            buf = _phase_rows(x[part], kw, origin, stride, dilation[1], a, (hq, wo))
            for i, q0 in rows:
                grad[:, i] += gy @ buf[:, :, q0 : q0 + ho].reshape(kw * c, -1).T
    return grad.reshape(o, kh, kw, c).transpose(0, 3, 1, 2).copy()  # (O, C, kh, kw)


def _dense_input_grad(grad_out: np.ndarray, weight: np.ndarray, input_hw, origin, stride, dilation) -> np.ndarray:
    """Input gradient of a dense conv: the adjoint of :func:`_dense_weight_grad`'s layout.

    Per kernel row, (kw*C, O) @ (O, N*Ho*Wo) adds into the phase buffers, which
    :func:`scatter_add` then adds back onto the input's pixels.
    """
    (n, o, ho, wo), (_, c, kh, kw) = grad_out.shape, weight.shape
    phases, hq = _row_phases(kh, stride[0], dilation[0], ho)
    rows_t = weight.transpose(2, 3, 1, 0).reshape(kh, kw * c, o)  # per kernel row: (kw*C, O)
    grad = np.zeros((n, c, *input_hw), grad_out.dtype)
    per_image = grad_out.itemsize * (len(phases) * kw * c * hq * wo + 2 * o * ho * wo)
    for part in chunks(n, per_image):
        gy = grad_out[part].transpose(1, 2, 0, 3).reshape(o, -1)  # (O, Ho*N*Wo)
        for a, rows in phases.items():
            buf = np.zeros((kw, c, hq, part.stop - part.start, wo), grad_out.dtype)
            for i, q0 in rows:
                buf[:, :, q0 : q0 + ho] += (rows_t[i] @ gy).reshape(kw, c, ho, -1, wo)
            for j in range(kw):
                scatter_add(grad[part], buf[j].transpose(2, 1, 0, 3), (origin[0] + a, stride[0]),
                            (origin[1] + j * dilation[1], stride[1]))
    return grad


def conv_input_grad(grad_out: np.ndarray, weight: np.ndarray, groups: int, origin, stride, dilation, input_hw):
    """Gradient of a conv with respect to its (N, C, H, W) input, given the output gradient.

    At stride 1 it is the conv of the output gradient, read from ``D (F - 1)`` before the forward
    conv's ``origin``, with the kernel flipped and its channel axes swapped per group.
    """
    o, cg, kh, kw = weight.shape
    if stride == (1, 1):
        og = o // groups
        flipped = weight.reshape(groups, og, cg, kh, kw).transpose(0, 2, 1, 3, 4).reshape(groups * cg, og, kh, kw)
        start = (-origin[0] - dilation[0] * (kh - 1), -origin[1] - dilation[1] * (kw - 1))
        return conv2d(grad_out, flipped[..., ::-1, ::-1], groups, start, stride, dilation, input_hw)
    if groups == 1:
        return _dense_input_grad(grad_out, weight, input_hw, origin, stride, dilation)
    og = o // groups
    return np.concatenate(
        [_dense_input_grad(grad_out[:, g * og : (g + 1) * og], weight[g * og : (g + 1) * og], input_hw, origin, stride,
                           dilation) for g in range(groups)],
        axis=1,
    )


def conv_weight_grad(x: np.ndarray, grad_out: np.ndarray, weight_size, groups: int, origin, stride, dilation):
    """Gradient of a conv with respect to its ``(O, C/G, kh, kw)`` weight, given input and output gradient.

    Depthwise convs take one multiply-and-sum per kernel tap; the others one dense gradient per group.
    """
    o, cg, kh, kw = weight_size
    og, out_hw = o // groups, grad_out.shape[2:]
    if cg == 1 and groups == x.shape[1]:  # depthwise: (N, C, multiplier, Ho, Wo) by each tap's view
        xp = window(x, origin, read_extent(stride, dilation, (kh, kw), out_hw))
        gy = grad_out.reshape(x.shape[0], groups, og, *out_hw)
        grad = np.empty((groups, og, kh, kw), x.dtype)
        for i in range(kh):
            for j in range(kw):
                seen = tap(xp, (i * dilation[0], j * dilation[1]), stride, out_hw)  # (N, C, Ho, Wo)
                grad[..., i, j] = np.einsum("ncmhw,nchw->cm", gy, seen)
        return grad.reshape(weight_size)
    return np.concatenate(
        [_dense_weight_grad(x[:, g * cg : (g + 1) * cg], grad_out[:, g * og : (g + 1) * og], (kh, kw), origin, stride,
                            dilation) for g in range(groups)],
        axis=0,
    )
