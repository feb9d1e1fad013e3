#!/usr/bin/env python3
"""Print the exact HDF5 layout of NIR files: every group and dataset with its datatype class,
size, byte order, string kind (variable/fixed, charset, padding), dataspace (scalar/simple and
dims), storage layout (contiguous/compact/chunked and chunk dims), filters and attributes.

    python describe_h5.py FILE.nir [...]      (layout.txt is this run on the fixtures)
"""
import sys

import h5py
import numpy as np

CLASSES = {h5py.h5t.INTEGER: "integer", h5py.h5t.FLOAT: "float", h5py.h5t.STRING: "string",
           h5py.h5t.COMPOUND: "compound", h5py.h5t.ENUM: "enum", h5py.h5t.ARRAY: "array",
           h5py.h5t.OPAQUE: "opaque", h5py.h5t.VLEN: "vlen", h5py.h5t.REFERENCE: "reference",
           h5py.h5t.BITFIELD: "bitfield"}
LAYOUTS = {h5py.h5d.CONTIGUOUS: "contiguous", h5py.h5d.CHUNKED: "chunked",
           h5py.h5d.COMPACT: "compact"}
FILTERS = {h5py.h5z.FILTER_DEFLATE: "deflate", h5py.h5z.FILTER_SHUFFLE: "shuffle",
           h5py.h5z.FILTER_FLETCHER32: "fletcher32", h5py.h5z.FILTER_SZIP: "szip",
           h5py.h5z.FILTER_SCALEOFFSET: "scaleoffset", 32000: "lzf"}


def describe_type(tid):
    cls = tid.get_class()
    name = CLASSES.get(cls, str(cls))
    if cls == h5py.h5t.STRING:
        var = tid.is_variable_str()
        cset = "UTF-8" if tid.get_cset() == h5py.h5t.CSET_UTF8 else "ASCII"
        pad = {h5py.h5t.STR_NULLTERM: "nullterm", h5py.h5t.STR_NULLPAD: "nullpad",
               h5py.h5t.STR_SPACEPAD: "spacepad"}[tid.get_strpad()]
        return f"string {'variable-length' if var else f'fixed {tid.get_size()} bytes'} {cset} {pad}"
    order = "LE" if tid.get_order() == h5py.h5t.ORDER_LE else "BE"
    if cls == h5py.h5t.INTEGER:
        sign = "signed" if tid.get_sign() == h5py.h5t.SGN_2 else "unsigned"
        return f"integer {sign} {8 * tid.get_size()}-bit {order}"
    if cls == h5py.h5t.FLOAT:
        return f"float {8 * tid.get_size()}-bit {order}"
    return name


def describe_dataset(ds):
    sid = ds.id.get_space()
    kind = sid.get_simple_extent_type()
    if kind == h5py.h5s.SCALAR:
        space = "scalar"
    elif kind == h5py.h5s.NULL:
        space = "null"
    else:
        space = f"simple {tuple(int(d) for d in sid.get_simple_extent_dims())}"
    plist = ds.id.get_create_plist()
    layout = LAYOUTS.get(plist.get_layout(), str(plist.get_layout()))
    if layout == "chunked":
        layout += f" {tuple(int(c) for c in plist.get_chunk())}"
    filters = []
    for i in range(plist.get_nfilters()):
        code, _flags, vals, _name = plist.get_filter(i)
        filters.append(FILTERS.get(code, str(code)) + (f" {list(vals)}" if len(vals) else ""))
    value = ""
    if ds.size <= 8:
        v = ds[()]
        if isinstance(v, np.ndarray):
            v = v.tolist()
        value = f" = {v!r}"
    out = f"{describe_type(ds.id.get_type())}; {space}; {layout}"
    if filters:
        out += "; filters " + ", ".join(filters)
    return out + value


def walk(f):
    lines = []

    def visit(name, obj):
        attrs = f" attrs {dict(obj.attrs)}" if len(obj.attrs) else ""
        if isinstance(obj, h5py.Group):
            lines.append(f"/{name}/  group{attrs}")
        else:
            lines.append(f"/{name}  {describe_dataset(obj)}{attrs}")

    if len(f.attrs):
        lines.append(f"/  attrs {dict(f.attrs)}")
    f.visititems(visit)
    return lines


def main(paths):
    for p in paths:
        with h5py.File(p, "r") as f:
            print(f"== {p}")
            for line in walk(f):
                print("  " + line)


if __name__ == "__main__":
    main(sys.argv[1:])
