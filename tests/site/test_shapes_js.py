"""The site's docs/javascripts/shapes.js gives what cnnqa.shapes gives, errors included.

Every case of a full grid (conv, pooling and transposed conv: sizes 1-32, kernels 1-7, strides
1-4, dilations 1-3, each padding), the two helpers, a bad value in each argument, the defaults
(arguments omitted) and calls with too few or too many arguments run in Python, then all of
them at once in one Node process: each returns the same number or throws an Error whose message
is exactly cnnqa's ValueError or TypeError message. JSON null stands for Python's None, and the
script also works outside Node (it must define ``cnnqaShapes`` on a page's global object).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import itertools
import json
import shutil
import subprocess

import pytest

from site_config import REPO

from cnnqa import shapes

SCRIPT = REPO / "docs" / "javascripts" / "shapes.js"

SIZES, KERNELS, STRIDES, DILATIONS, PADDINGS = range(1, 33), range(1, 8), range(1, 5), range(1, 4), range(4)


class Omit:
    """An argument left out: JavaScript gets ``undefined``, Python the rest as keywords."""

    def __repr__(self):
        return "OMIT"


OMIT = Omit()


def grid():
    for size, k, d in itertools.product(SIZES, KERNELS, DILATIONS):
        for s, p in itertools.product(STRIDES, [*PADDINGS, "same", "valid"]):
            yield "conv_output_size", [size, k, s, p, d]
        for s, p, ceil_mode in itertools.product([*STRIDES, None], PADDINGS, (True, False)):
            yield "pool_output_size", [size, k, s, p, d, ceil_mode]
        for s, p, a in itertools.product(STRIDES, PADDINGS, range(4)):
            yield "conv_transpose_output_size", [size, k, s, p, a, d]


def helpers():
    for k, d in itertools.product(range(-1, 8), range(-1, 4)):
        yield "effective_kernel_size", [k, d]
    for k, p, s, d in itertools.product(range(0, 8), [*PADDINGS, "same", "valid", "full"], range(0, 3), range(0, 4)):
        yield "conv_padding", [k, p, s, d]


BAD = [0, -1, True, False, None, 2.5, 1e-05, "3", "same", "it's", [1, 2]]
VALID = {  # a call that succeeds, in which each argument in turn is replaced by each bad value
    "effective_kernel_size": [3, 2],
    "conv_padding": [3, "same", 1, 2],
    "conv_output_size": [10, 3, 1, 1, 1],
    "pool_output_size": [10, 3, 2, 1, 1, True],
    "conv_transpose_output_size": [10, 3, 2, 1, 1, 1],
}


def bad_values():
    for name, args in VALID.items():
        for i, value in itertools.product(range(len(args)), BAD):
            yield name, [*args[:i], value, *args[i + 1 :]]


def defaults():
    yield "pool_output_size", [9, 3]  # stride omitted is the kernel size: 3
    yield "pool_output_size", [9, 3, None]  # and null is Python's None, the same
    yield "pool_output_size", [9, 3, OMIT, 1]  # padding=1, stride still the kernel's
    yield "pool_output_size", [9, 3, None, 1, 1, None]  # ceil_mode=None is refused
    yield "pool_output_size", [5, 2, OMIT, OMIT, OMIT, True]
    yield "conv_output_size", [10, 3]
    yield "conv_output_size", [10, 4, OMIT, "same"]
    yield "conv_output_size", [10, 3, OMIT, OMIT, 2]
    yield "conv_output_size", [10, 3, None]  # a None where the default is 1 is refused
    yield "conv_transpose_output_size", [28, 3]
    yield "conv_transpose_output_size", [28, 3, 2, 1, 1]
    yield "conv_transpose_output_size", [28, 3, 2, OMIT, 1]
    yield "conv_padding", [4]
    yield "conv_padding", [4, "same"]
    yield "effective_kernel_size", [3]
    yield "conv_output_size", [OMIT, 3]  # a required argument left out (undefined in JS) is missing
    yield "pool_output_size", [10, OMIT, 2]
    yield "conv_transpose_output_size", [OMIT, OMIT, 2]
    for name, args in VALID.items():  # too few, and one too many
        yield name, []
        yield name, args[:1]
        yield name, [*args, 1]


@functools.cache
def parameters(name):
    return list(inspect.signature(getattr(shapes, name)).parameters)


def call_python(name, args):
    function, params = getattr(shapes, name), parameters(name)
    given = args.index(OMIT) if OMIT in args else len(args)
    keywords = {params[i]: arg for i, arg in enumerate(args) if i >= given and arg is not OMIT}
    try:
        return {"ok": function(*args[:given], **keywords)}
    except (ValueError, TypeError) as error:
        return {"error": str(error)}


# One Node process: run every case, print the mismatches, then load the script as a page would
# (no `module`, a fresh global object) and check it defined cnnqaShapes there.
NODE_CHECK = r"""
const fs = require("fs"), vm = require("vm");
const [script] = process.argv.slice(1);
const shapes = require(script);
const cases = JSON.parse(fs.readFileSync(0, "utf8"));
const mismatches = [];
for (const [name, args, expected] of cases) {
  const jsArgs = args.map((arg) => (arg !== null && typeof arg === "object" && arg.omit === true ? undefined : arg));
  let got;
  try {
    got = { ok: shapes[name](...jsArgs) };
  } catch (e) {
    got = e instanceof Error && e.constructor === Error ? { error: e.message } : { thrown: String(e) };
  }
  if (JSON.stringify(got) !== JSON.stringify(expected)) mismatches.push({ call: [name, args], expected, got });
}
const page = vm.createContext({});
vm.runInContext(fs.readFileSync(script, "utf8"), page);
const inPage = vm.runInContext("typeof cnnqaShapes === 'object' && cnnqaShapes.pool_output_size(9, 3)", page);
process.stdout.write(JSON.stringify({ cases: cases.length, mismatches, inPage }));
"""


def node() -> str:
    path = shutil.which("node")
    if path is None:
        pytest.fail("Node.js not found: install it (it comes with npm, which `make` needs anyway for the site's assets)")
    return path


@pytest.fixture
def unmeasured(cov):
    """Coverage paused: traced, the 87,000 Python calls take several times longer (and
    cnnqa.shapes is measured by its own tests)."""

    @contextlib.contextmanager
    def paused():
        if cov is not None:
            cov.stop()
        try:
            yield
        finally:
            if cov is not None:
                cov.start()

    return paused


def test_shapes_js_agrees_with_python_on_the_full_grid(unmeasured):
    groups = {"grid": grid(), "helpers": helpers(), "bad values": bad_values(), "defaults": defaults()}
    with unmeasured():
        cases = {group: [[name, args, call_python(name, args)] for name, args in calls] for group, calls in groups.items()}
    # The comparison is worth something: in the grid and helpers each function both returns and raises.
    outcomes = {(name, next(iter(expected))) for name, _, expected in cases["grid"] + cases["helpers"]}
    assert outcomes == {(name, kind) for name in VALID for kind in ("ok", "error")}

    every = [case for group in cases.values() for case in group]
    payload = json.dumps(every, default=lambda value: {"omit": True})
    result = subprocess.run(
        [node(), "-e", NODE_CHECK, str(SCRIPT)], input=payload, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["cases"] == len(every)
    mismatches = report["mismatches"]
    shown = "\n".join(json.dumps(m) for m in mismatches[:20])
    assert not mismatches, f"{len(mismatches)} of {len(every)} cases differ, the first 20:\n{shown}"
    assert report["inPage"] == 3, "shapes.js did not define cnnqaShapes on a page's global object"
