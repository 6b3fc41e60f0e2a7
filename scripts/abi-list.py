#!/usr/bin/env python3
"""Generate tests/abi/abi_list.h, the X-macro list of everything the ABI test
compares between the kernel's uAPI headers and softiommu's own.

The list is generated from the kernel's headers, so it is complete by
construction: every struct (with every field, nested union/struct members
included), every named enum, every enum constant, every #define constant and
every ioctl number of

  linux/iommufd.h                            (linux-libc-dev 7.3)
  drivers/iommu/iommufd/iommufd_test.h       (linux-source-7.3)

and, for VFIO, every name that softiommu's include/softiommu/uapi/vfio_compat.h
(the type1 container) and include/softiommu/uapi/vfio.h (groups, devices,
device cdevs) define (with their "sio_"/"SIO_" prefix removed), laid out as
the kernel's linux/vfio.h defines it.  A name in either that linux/vfio.h
lacks is an error.

The output is committed; the test build never runs this script.  Re-run it
when moving to a newer kernel:

  scripts/abi-list.py            # rewrite tests/abi/abi_list.h
  scripts/abi-list.py --check    # exit 1 (and show a diff) if it is stale

Entries (see tests/abi/abi_expand.h for what each one checks):
  STRUCT(s)            sizeof and alignment of struct s
  FIELD(s, f)          offset, size and signedness of scalar member f
  FIELD_ARRAY(s, f)    offset, size, element size and element signedness
  FIELD_RECORD(s, f)   offset and size of a struct/union member
  FIELD_PTR(s, f)      offset and size of a pointer member
  FIELD_FLEX(s, f)     offset and element size of a flexible array member
  ENUM(e)              sizeof(enum e) (the tag exists)
  CONST(c)             value, size, signedness, macro-or-not of a constant
  IOCTL(c)             value of an ioctl number (and that it is a macro)
  VFIO_...(...)        the same for the VFIO compat names; the test's
                       softiommu side adds the sio_/SIO_ prefix
  VFIO_CONST_AS(k, o)  a VFIO constant whose softiommu name is not SIO_ + k
f is a member designator and may be a path into nested anonymous-type
members ("add_reserved.start").
"""

import argparse
import difflib
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
KHDR = os.path.join(ROOT, ".cache/kernel/root/usr/include")
KSRC = os.path.join(ROOT, ".cache/kernel/linux-source-7.3")
OUT = os.path.join(ROOT, "tests/abi/abi_list.h")
OURS_VFIO = [os.path.join(ROOT, "include/softiommu/uapi", h)
             for h in ("vfio_compat.h", "vfio.h")]

# softiommu names of VFIO constants that are not simply "SIO_" + kernel name.
VFIO_RENAMED = {
    "__VFIO_RESERVED_TYPE1_NESTING_IOMMU": "SIO_VFIO_RESERVED_TYPE1_NESTING_IOMMU",
}

SCALAR_WORDS = {
    "__u8", "__u16", "__u32", "__u64", "__s8", "__s16", "__s32", "__s64",
    "__le16", "__le32", "__le64", "__be16", "__be32", "__be64",
    "__aligned_u64", "__aligned_s64", "__aligned_le64", "__aligned_be64",
    "char", "short", "int", "long", "unsigned", "signed", "__kernel_size_t",
}


class ParseError(Exception):
    pass


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text,
                  flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def split_preprocessor(text):
    """Return (code without preprocessor lines, [(name, value)] of #defines)."""
    text = re.sub(r"\\\n", " ", text)
    code, defines, guards = [], [], set()
    for line in text.split("\n"):
        s = line.strip()
        if not s.startswith("#"):
            code.append(line)
            continue
        m = re.match(r"#\s*ifndef\s+(\w+)", s)
        if m:
            guards.add(m.group(1))
        m = re.match(r"#\s*define\s+(\w+)(\(?)\s*(.*)$", s)
        if m and not m.group(2):
            name, value = m.group(1), m.group(3).strip()
            if name in guards and not value:
                continue  # include guard
            if value and name not in (d[0] for d in defines):
                defines.append((name, value))
        code.append("")
    return "\n".join(code), defines


def tokenize(code):
    return re.findall(r"[A-Za-z_]\w*|0[xX][0-9a-fA-F]+[uUlL]*|\d+[uUlL]*|"
                      r"'[^']*'|<<|>>|\S", code)


class Parser:
    """Just enough C declaration syntax for Linux uAPI headers."""

    def __init__(self, toks):
        self.t, self.i = toks, 0

    def peek(self, k=0):
        return self.t[self.i + k] if self.i + k < len(self.t) else None

    def take(self, want=None):
        tok = self.peek()
        if tok is None or (want is not None and tok != want):
            raise ParseError("expected %r, got %r near %r" %
                             (want, tok, self.t[max(0, self.i - 8):self.i + 4]))
        self.i += 1
        return tok

    def skip_to(self, stop):
        depth = 0
        while True:
            tok = self.take()
            if tok == stop and depth == 0:
                return
            if tok in ("(", "{", "["):
                depth += 1
            elif tok in (")", "}", "]"):
                depth -= 1

    def top_level(self):
        """Yield ('struct', name, members) and ('enum', name, constants)."""
        while self.peek() is not None:
            self.decl_start = self.i
            kw = self.peek()
            if kw in ("struct", "union") and (self.peek(2) == "{"):
                self.take()
                name = self.take()
                members = self.record_body()
                self.skip_to(";")
                yield (kw, name, members)
            elif kw == "enum":
                self.take()
                name = None if self.peek() == "{" else self.take()
                if self.peek() != "{":
                    self.skip_to(";")
                    continue
                consts = self.enum_body()
                self.skip_to(";")
                yield ("enum", name, consts)
            else:
                self.skip_to(";")

    def enum_body(self):
        self.take("{")
        consts = []
        while self.peek() != "}":
            consts.append(self.take())
            depth = 0
            while True:
                tok = self.peek()
                if tok in ("(", "["):
                    depth += 1
                elif tok in (")", "]"):
                    depth -= 1
                if depth == 0 and tok in (",", "}"):
                    break
                self.take()
            if self.peek() == ",":
                self.take()
        self.take("}")
        return consts

    def record_body(self):
        """Members: (kind, name, sub) with kind scalar/array/flex/ptr/record/anon."""
        self.take("{")
        members = []
        while self.peek() != "}":
            members.extend(self.member())
        self.take("}")
        return members

    def member(self):
        tok = self.peek()
        if tok in ("struct", "union"):
            self.take()
            if self.peek() == "{" or self.peek(1) == "{":
                if self.peek() != "{":
                    self.take()  # tag of a nested definition
                sub = self.record_body()
                if self.peek() == ";":
                    self.take()
                    return [("anon", None, sub)]
                name = self.take()
                arr = self.array_suffix()
                self.take(";")
                if arr is not None:
                    raise ParseError("array of anonymous records: " + name)
                return [("record", name, sub)]
            tag = self.take()
            ptr = False
            while self.peek() == "*":
                self.take()
                ptr = True
            name = self.take()
            arr = self.array_suffix()
            self.take(";")
            if ptr:
                return [("ptr", name, None)]
            if arr == "":
                return [("flex", name, None)]
            if arr is not None:
                return [("array", name, None)]
            return [("record", name, tag)]
        words = []
        while self.peek() not in (";", "[", ":"):
            words.append(self.take())
        if self.peek() == ":":
            raise ParseError("bit-fields are not supported: %r" % words)
        name = words.pop()
        ptr = "*" in words
        words = [w for w in words if w not in ("*", "const", "volatile")]
        if not ptr and not all(w in SCALAR_WORDS for w in words):
            raise ParseError("unknown member type %r of %s" % (words, name))
        arr = self.array_suffix()
        self.attributes()
        self.take(";")
        if ptr:
            return [("ptr", name, None)]
        if arr == "":
            return [("flex", name, None)]
        if arr is not None:
            return [("array", name, None)]
        return [("scalar", name, None)]

    def array_suffix(self):
        if self.peek() != "[":
            return None
        self.take("[")
        dim = []
        while self.peek() != "]":
            dim.append(self.take())
        self.take("]")
        if self.peek() == "[":
            raise ParseError("multi-dimensional arrays are not supported")
        self.attributes()
        return " ".join(dim)

    def attributes(self):
        """Skip annotations such as __counted_by(n) and __attribute__((x))."""
        while self.peek() in ("__counted_by", "__attribute__"):
            self.take()
            self.take("(")
            self.skip_to(")")


def parse_header(path, tolerant=False):
    text = strip_comments(open(path).read())
    code, defines = split_preprocessor(text)
    decls = []
    p = Parser(tokenize(code))
    while True:
        try:
            for d in p.top_level():
                decls.append(d)
            break
        except ParseError as e:
            if not tolerant:
                raise ParseError("%s: %s" % (path, e))
            p.i = p.decl_start  # skip the declaration we cannot read
            p.skip_to(";")
    return decls, defines


def field_entries(prefix, sname, members, path=""):
    out = []
    for kind, name, sub in members:
        if kind == "anon":
            out += field_entries(prefix, sname, sub, path)
            continue
        full = path + name
        macro = {"scalar": "FIELD", "array": "FIELD_ARRAY", "flex": "FIELD_FLEX",
                 "ptr": "FIELD_PTR", "record": "FIELD_RECORD"}[kind]
        out.append("%s%s(%s, %s)" % (prefix, macro, sname, full))
        if kind == "record" and isinstance(sub, list):
            out += field_entries(prefix, sname, sub, full + ".")
    return out


def is_ioctl(value):
    return re.search(r"\b_IO(R|W|WR)?\s*\(", value) is not None


def entries_for(decls, defines, prefix="", keep=None):
    out = []
    for kind, name, body in decls:
        if kind == "enum":
            if name and (keep is None or name in keep):
                out.append("%sENUM(%s)" % (prefix, name))
            for c in body:
                if keep is None or c in keep:
                    out.append("%sCONST(%s)" % (prefix, c))
        else:
            if kind != "struct":
                raise ParseError("top-level union %s is not supported" % name)
            if keep is not None and name not in keep:
                continue
            out.append("%sSTRUCT(%s)" % (prefix, name))
            out += field_entries(prefix, name, body)
    for name, value in defines:
        if keep is not None and name not in keep:
            continue
        if is_ioctl(value):
            out.append("%sIOCTL(%s)" % (prefix, name))
        elif name in VFIO_RENAMED and prefix:
            out.append("%sCONST_AS(%s, %s)" % (prefix, name, VFIO_RENAMED[name]))
        else:
            out.append("%sCONST(%s)" % (prefix, name))
    return out


def vfio_names(ours_path):
    """Kernel names of everything one of softiommu's VFIO headers defines."""
    decls, defines = parse_header(ours_path)
    back = {v: k for k, v in VFIO_RENAMED.items()}
    names = []
    for kind, name, body in decls:
        if kind == "enum":
            for c in body:
                if not c.startswith("SIO_"):
                    raise ParseError("%s: constant %s lacks the SIO_ prefix" %
                                     (ours_path, c))
                names.append(c[len("SIO_"):])
            if name is None:
                continue
        if not name.startswith("sio_"):
            raise ParseError("%s: %s %s lacks the sio_ prefix" % (ours_path, kind, name))
        names.append(name[len("sio_"):])
    for name, _ in defines:
        if name.startswith("__aligned"):
            continue  # fallback for old <linux/types.h>
        if name in back:
            names.append(back[name])
        elif name.startswith("SIO_"):
            names.append(name[len("SIO_"):])
        else:
            raise ParseError("%s: macro %s lacks the SIO_ prefix" % (ours_path, name))
    return names


def generate(khdr, ksrc, ours_vfio):
    iommufd = os.path.join(khdr, "linux/iommufd.h")
    test = os.path.join(ksrc, "drivers/iommu/iommufd/iommufd_test.h")
    vfio = os.path.join(khdr, "linux/vfio.h")
    lines = [
        "/*",
        " * What tests/abi compares between the kernel's uAPI headers and",
        " * softiommu's (include/softiommu/uapi/).  GENERATED by scripts/abi-list.py",
        " * from Linux 7.3 (linux/iommufd.h of linux-libc-dev 7.3,",
        " * drivers/iommu/iommufd/iommufd_test.h of linux-source-7.3, and the parts",
        " * of linux/vfio.h that vfio_compat.h and vfio.h define); do not edit.  The includer",
        " * defines every entry macro; see tests/abi/abi_expand.h.",
        " */",
    ]
    for title, path in (("linux/iommufd.h", iommufd),
                        ("drivers/iommu/iommufd/iommufd_test.h", test)):
        decls, defines = parse_header(path)
        lines += ["", "/* %s */" % title]
        lines += entries_for(decls, defines)
    decls, defines = parse_header(vfio, tolerant=True)
    want = [n for path in ours_vfio for n in vfio_names(path)]
    have = {d[1] for d in decls} | {c for d in decls if d[0] == "enum" for c in d[2]}
    have |= {d[0] for d in defines}
    missing = [n for n in want if n not in have]
    if missing:
        raise ParseError("softiommu's VFIO headers define names linux/vfio.h lacks: %s" %
                         ", ".join(missing))
    lines += ["", "/* linux/vfio.h (container, groups, devices, cdevs; softiommu adds sio_/SIO_) */"]
    lines += entries_for(decls, defines, prefix="VFIO_", keep=set(want))
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kernel-headers", default=KHDR,
                    help="unpacked linux-libc-dev usr/include (default: %(default)s)")
    ap.add_argument("--kernel-source", default=KSRC,
                    help="unpacked kernel source tree (default: %(default)s)")
    ap.add_argument("--output", default=OUT, help="default: %(default)s")
    ap.add_argument("--check", action="store_true",
                    help="do not write; exit 1 if the output file differs")
    args = ap.parse_args()
    try:
        text = generate(args.kernel_headers, args.kernel_source, OURS_VFIO)
    except (OSError, ParseError) as e:
        print("abi-list: %s" % e, file=sys.stderr)
        if isinstance(e, OSError):
            print("abi-list: run scripts/fetch-kernel.sh first", file=sys.stderr)
        return 2
    if args.check:
        try:
            old = open(args.output).read()
        except OSError:
            old = ""
        if old != text:
            sys.stdout.writelines(difflib.unified_diff(
                old.splitlines(True), text.splitlines(True),
                args.output, "regenerated"))
            print("abi-list: %s is stale: run scripts/abi-list.py" % args.output,
                  file=sys.stderr)
            return 1
        print("abi-list: %s is up to date" % args.output)
        return 0
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as f:
        f.write(text)
    counts = {}
    for line in text.splitlines():
        m = re.match(r"(?:VFIO_)?(\w+?)(?:_AS)?\(", line)
        if m:
            counts[m.group(1)] = counts.get(m.group(1), 0) + 1
    print("abi-list: wrote %s: %s" % (args.output, ", ".join(
        "%d %s" % (v, k) for k, v in sorted(counts.items()))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
