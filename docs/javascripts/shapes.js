// Convolution arithmetic for the browser: a port of five functions of cnnqa/shapes.py, with the
// same names, positional arguments, defaults, results and error messages (tests/site/
// test_shapes_js.py checks them against Python on a full grid). One spatial dimension; the
// notation is the site's: size H, kernel_size F, stride S, padding P (per side), dilation D.
//
// Python's None is JavaScript's null; an argument left out (or undefined) takes the Python
// default, so `pool_output_size(9, 3)` is 3, or is missing if it has none. Where cnnqa raises
// ValueError or TypeError these throw an Error with exactly cnnqa's message, values spelled as
// Python would (repr below). A number with an integer value is a Python int (JavaScript cannot
// tell 2.0 from 2); any other number is a float; a boolean is a bool and never an int. Plain
// script, no imports: in a page it defines window.cnnqaShapes, in Node it is module.exports.
(function () {
  "use strict";

  // ---- Python's spelling of values -------------------------------------------------------------

  function pyFloat(x) {
    // repr(float) of a non-integer: shortest round-trip digits (as JavaScript's), in fixed
    // notation for 1e-4 <= |x| (JavaScript's own range is wider), else as 1.5e-05.
    if (Number.isNaN(x)) return "nan";
    if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
    const [mantissa, exp] = x.toExponential().split("e");
    const e = Number(exp);
    if (e >= -4) return String(x);
    return `${mantissa}e-${String(-e).padStart(2, "0")}`;
  }

  function pyStr(text) {
    // repr(str): single quotes unless the text holds ' and no ", as Python chooses.
    const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
    let out = "";
    for (const ch of text) {
      const code = ch.codePointAt(0);
      if (ch === "\\" || ch === quote) out += `\\${ch}`;
      else if (ch === "\n") out += "\\n";
      else if (ch === "\r") out += "\\r";
      else if (ch === "\t") out += "\\t";
      else if (code < 0x20 || (code >= 0x7f && code < 0xa0)) out += `\\x${code.toString(16).padStart(2, "0")}`;
      else out += ch;
    }
    return quote + out + quote;
  }

  function isInt(value) {
    // _args.is_int: integers, never bools.
    return (typeof value === "number" && Number.isInteger(value)) || typeof value === "bigint";
  }

  function repr(value) {
    if (value === null || value === undefined) return "None";
    if (value === true) return "True";
    if (value === false) return "False";
    if (typeof value === "bigint") return value.toString();
    if (typeof value === "number") return Number.isInteger(value) ? BigInt(value).toString() : pyFloat(value);
    if (typeof value === "string") return pyStr(value);
    if (Array.isArray(value)) return `[${value.map(repr).join(", ")}]`;
    return String(value);
  }

  function typeName(value) {
    // type(value).__name__
    if (value === null || value === undefined) return "NoneType";
    if (typeof value === "boolean") return "bool";
    if (isInt(value)) return "int";
    if (typeof value === "number") return "float";
    if (typeof value === "string") return "str";
    if (Array.isArray(value)) return "list";
    if (typeof value === "function") return "function";
    return "dict";
  }

  // ---- cnnqa/_args.py ------------------------------------------------------------------------

  function asInt(name, value) {
    if (!isInt(value)) throw new Error(`${name}=${repr(value)}: ${name} must be an int, not ${typeName(value)}`);
    return Number(value);
  }

  function positiveInt(name, value) {
    const number = asInt(name, value);
    if (number < 1) throw new Error(`${name}=${repr(value)}: ${name} must be >= 1`);
    return number;
  }

  function nonnegativeInt(name, value) {
    const number = asInt(name, value);
    if (number < 0) throw new Error(`${name}=${repr(value)}: ${name} must be >= 0`);
    return number;
  }

  function asBool(name, value) {
    if (typeof value !== "boolean") throw new Error(`${name}=${repr(value)}: ${name} must be True or False`);
    return value;
  }

  function floorDiv(a, b) {
    // Python's a // b for ints, b > 0: floors toward -infinity, exact for safe integers.
    return (a - (((a % b) + b) % b)) / b;
  }

  function checkArity(name, params, required, args) {
    // Python's TypeError for a call with too many positional arguments or without a required one
    // (undefined is an argument left out, wherever it is).
    if (args.length > params.length) {
      throw new Error(`${name}() takes from ${required} to ${params.length} positional arguments but ${args.length} were given`);
    }
    const missing = params.slice(0, required).filter((_, i) => args[i] === undefined).map((p) => `'${p}'`);
    if (missing.length) {
      const s = missing.length === 1 ? "" : "s";
      const list = missing.length === 1 ? missing[0] : `${missing.slice(0, -1).join(", ")} and ${missing[missing.length - 1]}`;
      throw new Error(`${name}() missing ${missing.length} required positional argument${s}: ${list}`);
    }
  }

  // ---- cnnqa/shapes.py -------------------------------------------------------------------------

  // Span of a dilated kernel: F^ = D (F - 1) + 1 (Dumoulin & Visin, section 5.1).
  function effective_kernel_size(kernel_size, dilation = 1) {
    checkArity("effective_kernel_size", ["kernel_size", "dilation"], 1, arguments);
    kernel_size = positiveInt("kernel_size", kernel_size);
    dilation = positiveInt("dilation", dilation);
    return dilation * (kernel_size - 1) + 1;
  }

  // Resolve a convolution padding (int, "same" or "valid") to [before, after]. "same" pads
  // F^ - 1 in all, P_before = floor((F^ - 1) / 2) and P_after = F^ - 1 - P_before; stride 1 only.
  function conv_padding(kernel_size, padding = 0, stride = 1, dilation = 1) {
    checkArity("conv_padding", ["kernel_size", "padding", "stride", "dilation"], 1, arguments);
    if (typeof padding === "string") {
      if (padding === "valid") return [0, 0];
      if (padding !== "same") {
        throw new Error(`padding=${repr(padding)}: padding must be an int, a pair, 'same' or 'valid'`);
      }
      if (positiveInt("stride", stride) !== 1) {
        throw new Error(
          `stride=${repr(stride)}: padding='same' requires stride=1, as in PyTorch ` +
          "(for TensorFlow's SAME at any stride, pad by same_padding(size, kernel_size, stride))"
        );
      }
      const total = effective_kernel_size(kernel_size, dilation) - 1;
      return [floorDiv(total, 2), total - floorDiv(total, 2)];
    }
    padding = nonnegativeInt("padding", padding);
    return [padding, padding];
  }

  // Output length of a convolution along one dimension (Dumoulin & Visin, relationship 15):
  // H' = floor((H + 2P - D (F - 1) - 1) / S) + 1; padding may also be "same" or "valid".
  function conv_output_size(size, kernel_size, stride = 1, padding = 0, dilation = 1) {
    checkArity("conv_output_size", ["size", "kernel_size", "stride", "padding", "dilation"], 2, arguments);
    size = positiveInt("size", size);
    stride = positiveInt("stride", stride);
    const [before, after] = conv_padding(kernel_size, padding, stride, dilation);
    const span = size + before + after - effective_kernel_size(kernel_size, dilation);
    if (span < 0) {
      throw new Error(
        `size=${size}: the padded input (${size + before + after}) is smaller than the ` +
          `dilated kernel (${effective_kernel_size(kernel_size, dilation)})`
      );
    }
    return floorDiv(span, stride) + 1;
  }

  // Output length of max or average pooling along one dimension (stride null means F):
  // H' = floor((H + 2P - D (F - 1) - 1) / S) + 1. With ceil_mode the floor becomes a ceiling, and
  // the last window is dropped if it would start beyond the input and its left padding:
  // if (H' - 1) S >= H + P then H' = H' - 1. The padding may be at most half the kernel,
  // P <= floor(F / 2).
  function pool_output_size(size, kernel_size, stride = null, padding = 0, dilation = 1, ceil_mode = false) {
    checkArity("pool_output_size", ["size", "kernel_size", "stride", "padding", "dilation", "ceil_mode"], 2, arguments);
    size = positiveInt("size", size);
    kernel_size = positiveInt("kernel_size", kernel_size);
    stride = stride === null ? kernel_size : positiveInt("stride", stride);
    padding = nonnegativeInt("padding", padding);
    if (padding > floorDiv(kernel_size, 2)) {
      throw new Error(`padding=${padding}: padding must be at most half the kernel size (${kernel_size} // 2)`);
    }
    const span = size + 2 * padding - effective_kernel_size(kernel_size, dilation);
    let out = floorDiv(span + (asBool("ceil_mode", ceil_mode) ? stride - 1 : 0), stride) + 1;
    if (ceil_mode && (out - 1) * stride >= size + padding) out -= 1;
    if (out < 1) throw new Error(`size=${size}: input too small for the pooling window, output size ${out}`);
    return out;
  }

  // Output length of a transposed convolution along one dimension (Dumoulin & Visin,
  // relationship 14): H' = (H - 1) S - 2P + D (F - 1) + A + 1, with output padding A < S or A < D.
  function conv_transpose_output_size(size, kernel_size, stride = 1, padding = 0, output_padding = 0, dilation = 1) {
    checkArity(
      "conv_transpose_output_size",
      ["size", "kernel_size", "stride", "padding", "output_padding", "dilation"],
      2,
      arguments
    );
    size = positiveInt("size", size);
    stride = positiveInt("stride", stride);
    dilation = positiveInt("dilation", dilation);
    padding = nonnegativeInt("padding", padding);
    output_padding = nonnegativeInt("output_padding", output_padding);
    if (output_padding >= stride && output_padding >= dilation) {
      throw new Error(
        `output_padding=${output_padding}: output_padding must be smaller than either ` +
          `stride (${stride}) or dilation (${dilation})`
      );
    }
    const out = (size - 1) * stride - 2 * padding + effective_kernel_size(kernel_size, dilation) + output_padding;
    if (out < 1) throw new Error(`padding=${padding}: padding leaves an output of size ${out}, must be >= 1`);
    return out;
  }

  const api = {
    effective_kernel_size,
    conv_padding,
    conv_output_size,
    pool_output_size,
    conv_transpose_output_size,
    repr,
  };
  globalThis.cnnqaShapes = api;
  if (typeof module !== "undefined" && module.exports) module.exports = api;
})();
