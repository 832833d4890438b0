#!/usr/bin/env python3
"""Generates Warren's AMQP 0-9-1 method codec from the spec XML.

Usage:
    python3 Tools/generate_methods.py SPEC_XML OUTPUT_SWIFT [SAMPLES_SWIFT]

    SPEC_XML       the RabbitMQ-extended 0-9-1 spec, e.g.
                   /usr/share/amqp/specs/0-9-1-rabbit/amqp0-9-1.stripped.extended.xml
                   (Debian package amqp-specs)
    OUTPUT_SWIFT   Sources/AMQPWire/Generated/AMQPMethod.swift
    SAMPLES_SWIFT  (optional) Tests/AMQPWireTests/Generated/AllMethodsSamples.swift: one
                   non-default instance of every method, for round-trip tests

The output is a pure function of the spec file (classes and methods are sorted by their numeric
ids, nothing depends on the clock or the machine), so CI can regenerate and diff.

Only the argument codec is generated. The primitives it calls (readShortString, readFieldTable,
readAMQPInteger, ...) are hand-written ByteBuffer extensions in Sources/AMQPWire.

Python 3 standard library only.
"""

import hashlib
import os
import sys
import xml.etree.ElementTree as ET

# Methods RabbitMQ speaks that the "extended" XML does not define. RabbitMQ's own codec is
# generated from rabbitmq-codegen's amqp-rabbitmq-0.9.1.json, which has these; real clients send
# or expect them (access.request from old clients, connection.blocked/unblocked when a client
# advertises the capability, connection.update-secret for OAuth 2 token refresh), so a broker that
# could not even decode them would close the connection with a frame error. They are merged only
# when the spec file lacks them, so a spec that does define them wins.
RABBITMQ_EXTRAS_XML = """
<amqp>
  <class name="connection" index="10">
    <method name="blocked" index="60">
      <chassis name="server" implement="MUST"/>
      <chassis name="client" implement="MUST"/>
      <field name="reason" type="shortstr"/>
    </method>
    <method name="unblocked" index="61">
      <chassis name="server" implement="MUST"/>
      <chassis name="client" implement="MUST"/>
    </method>
    <method name="update-secret" synchronous="1" index="70">
      <chassis name="server" implement="MUST"/>
      <response name="update-secret-ok"/>
      <field name="new-secret" type="longstr"/>
      <field name="reason" type="shortstr"/>
    </method>
    <method name="update-secret-ok" synchronous="1" index="71">
      <chassis name="client" implement="MUST"/>
    </method>
  </class>
  <class name="access" index="30">
    <method name="request" synchronous="1" index="10">
      <chassis name="server" implement="MUST"/>
      <response name="request-ok"/>
      <field name="realm" type="shortstr"/>
      <field name="exclusive" type="bit"/>
      <field name="passive" type="bit"/>
      <field name="active" type="bit"/>
      <field name="write" type="bit"/>
      <field name="read" type="bit"/>
    </method>
    <method name="request-ok" synchronous="1" index="11">
      <chassis name="client" implement="MUST"/>
      <field name="reserved-1" type="short"/>
    </method>
  </class>
</amqp>
"""

# Spec primitive domain -> (Swift type, default value, how to read, how to write).
# In the read/write templates, {v} is the Swift value and {what} a StaticString label.
PRIMITIVES = {
    "octet": ("UInt8", "0", "try buffer.readAMQPInteger(\"{what}\")", "buffer.writeInteger({v})"),
    "short": ("UInt16", "0", "try buffer.readAMQPInteger(\"{what}\")", "buffer.writeInteger({v})"),
    "long": ("UInt32", "0", "try buffer.readAMQPInteger(\"{what}\")", "buffer.writeInteger({v})"),
    "longlong": ("UInt64", "0", "try buffer.readAMQPInteger(\"{what}\")", "buffer.writeInteger({v})"),
    "timestamp": ("UInt64", "0", "try buffer.readAMQPInteger(\"{what}\")", "buffer.writeInteger({v})"),
    "shortstr": ("String", '""', "try buffer.readShortString()", "try buffer.writeShortString({v})"),
    "longstr": ("ByteBuffer", "ByteBuffer()", "try buffer.readLongString()", "buffer.writeLongString({v})"),
    "table": ("FieldTable", "FieldTable()", "try buffer.readFieldTable()", "try buffer.writeFieldTable({v})"),
    # Bits are packed by the generator, not read one at a time.
    "bit": ("Bool", "false", None, None),
}

# Words Swift reserves in declarations; a field with one of these names is back-ticked.
SWIFT_KEYWORDS = {
    "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import",
    "init", "inout", "internal", "let", "open", "operator", "private", "precedencegroup",
    "protocol", "public", "rethrows", "static", "struct", "subscript", "typealias", "var",
    "break", "case", "catch", "continue", "default", "defer", "do", "else", "fallthrough", "for",
    "guard", "if", "in", "repeat", "return", "throw", "switch", "where", "while", "as", "false",
    "is", "nil", "self", "Self", "super", "throws", "true", "try", "Any", "Type",
}

INDENT = "    "


class Field:
    def __init__(self, spec_name, primitive):
        self.spec_name = spec_name
        self.primitive = primitive
        self.name = field_name(spec_name)
        self.swift_type, self.default, self.read, self.write = PRIMITIVES[primitive]

    @property
    def ident(self):
        """The name as written where it is an identifier on its own (declarations, locals)."""
        return "`%s`" % self.name if self.name in SWIFT_KEYWORDS else self.name


class Method:
    def __init__(self, cls, spec_name, index, content, synchronous, chassis, fields, extra):
        self.cls = cls
        self.spec_name = spec_name
        self.index = index
        self.content = content
        self.synchronous = synchronous
        self.chassis = chassis
        self.fields = fields
        self.extra = extra
        self.struct_name = upper_camel(spec_name)
        self.case_name = lower_camel(cls.spec_name) + self.struct_name
        self.full_name = "%s.%s" % (cls.spec_name, spec_name)
        self.swift_type = "Spec.%s.%s" % (cls.enum_name, self.struct_name)


class AMQPClass:
    def __init__(self, spec_name, index):
        self.spec_name = spec_name
        self.index = index
        self.enum_name = upper_camel(spec_name)
        self.methods = []


def words(name):
    return [w for w in name.replace("_", "-").replace(" ", "-").split("-") if w]


def upper_camel(name):
    return "".join(w[:1].upper() + w[1:] for w in words(name))


def lower_camel(name):
    ws = words(name)
    return ws[0] + "".join(w[:1].upper() + w[1:] for w in ws[1:])


def field_name(spec_name):
    """lowerCamelCase, with the AMQP quirks: `nowait` is `noWait` everywhere (confirm.select
    spells it as one word, every other class as `no-wait`), and a trailing `-id` is `ID`, as in
    Swift's API guidelines and BasicProperties (`classID`, `methodID`)."""
    if spec_name == "nowait":
        return "noWait"
    ws = words(spec_name)
    if len(ws) > 1 and ws[-1] == "id":
        return lower_camel("-".join(ws[:-1])) + "ID"
    return lower_camel(spec_name)


def resolve_domain(domains, name, seen=()):
    if name in PRIMITIVES:
        return name
    if name not in domains:
        raise SystemExit("error: unknown domain %r" % name)
    if name in seen:
        raise SystemExit("error: domain cycle through %r" % name)
    target = domains[name]
    if target == name:
        if name in PRIMITIVES:
            return name
        raise SystemExit("error: domain %r has no primitive type" % name)
    return resolve_domain(domains, target, seen + (name,))


def parse_fields(element, domains, where):
    fields = []
    for f in element.findall("field"):
        if f.get("type"):
            primitive = resolve_domain(domains, f.get("type"))
        elif f.get("domain"):
            primitive = resolve_domain(domains, f.get("domain"))
        else:
            raise SystemExit("error: field %s.%s has neither type nor domain" % (where, f.get("name")))
        fields.append(Field(f.get("name"), primitive))
    names = [x.name for x in fields]
    if len(set(names)) != len(names):
        raise SystemExit("error: duplicate field names in %s: %s" % (where, names))
    return fields


def parse_classes(root, domains, classes, extra):
    for c in root.findall("class"):
        name = c.get("name")
        index = int(c.get("index"))
        cls = classes.get(name)
        if cls is None:
            cls = classes[name] = AMQPClass(name, index)
        elif cls.index != index:
            raise SystemExit("error: class %s has index %d and %d" % (name, cls.index, index))
        for m in c.findall("method"):
            mname = m.get("name")
            mindex = int(m.get("index"))
            if any(x.spec_name == mname for x in cls.methods):
                if extra:
                    continue  # the spec file defines it; it wins
                raise SystemExit("error: method %s.%s defined twice" % (name, mname))
            if any(x.index == mindex for x in cls.methods):
                if extra:
                    raise SystemExit("error: extra method %s.%s clashes with id %d" % (name, mname, mindex))
                raise SystemExit("error: method id %d used twice in class %s" % (mindex, name))
            chassis = sorted(ch.get("name") for ch in m.findall("chassis"))
            cls.methods.append(
                Method(
                    cls, mname, mindex,
                    content=m.get("content") == "1",
                    synchronous=m.get("synchronous") == "1",
                    chassis=chassis,
                    fields=parse_fields(m, domains, "%s.%s" % (name, mname)),
                    extra=extra,
                )
            )


def load_spec(path):
    root = ET.parse(path).getroot()
    domains = {d.get("name"): d.get("type") for d in root.findall("domain")}
    classes = {}
    parse_classes(root, domains, classes, extra=False)
    parse_classes(ET.fromstring(RABBITMQ_EXTRAS_XML), domains, classes, extra=True)
    ordered = sorted(classes.values(), key=lambda c: c.index)
    if len({c.index for c in ordered}) != len(ordered):
        raise SystemExit("error: two classes share an index")
    for c in ordered:
        c.methods.sort(key=lambda m: m.index)
    version = "%s-%s-%s" % (root.get("major"), root.get("minor"), root.get("revision"))
    return version, ordered


# MARK: - Bit packing


def groups(fields):
    """Splits the field list into single non-bit fields and runs of consecutive bits.

    AMQP packs consecutive bit fields into octets, least significant bit first; a run longer
    than 8 continues in the next octet, and any non-bit field ends the run."""
    out = []
    run = []
    for f in fields:
        if f.primitive == "bit":
            run.append(f)
            if len(run) == 8:
                out.append(("bits", run))
                run = []
        else:
            if run:
                out.append(("bits", run))
                run = []
            out.append(("field", f))
    if run:
        out.append(("bits", run))
    return out


# MARK: - Emitting the codec


def doc_for(method):
    if method.chassis == ["client", "server"]:
        direction = "Sent by either peer."
    elif method.chassis == ["server"]:
        direction = "Sent by the client to the server."
    elif method.chassis == ["client"]:
        direction = "Sent by the server to the client."
    else:
        direction = "Not assigned to a peer by the spec."
    extras = []
    if method.content:
        extras.append("Followed by a content header and body frames.")
    if method.extra:
        extras.append("A RabbitMQ extension missing from the spec XML; layout from rabbitmq-codegen.")
    return ["`%s` (class %d, method %d). %s" % (method.full_name, method.cls.index, method.index, direction)] + extras


def emit_struct(method, out, ind):
    i1 = ind + INDENT
    i2 = i1 + INDENT
    for line in doc_for(method):
        out.append("%s/// %s" % (ind, line))
    out.append("%spublic struct %s: Sendable, Hashable {" % (ind, method.struct_name))
    out.append("%spublic static let classID: UInt16 = %d" % (i1, method.cls.index))
    out.append("%spublic static let methodID: UInt16 = %d" % (i1, method.index))
    if method.fields:
        out.append("")
        for f in method.fields:
            out.append("%spublic var %s: %s" % (i1, f.ident, f.swift_type))

    # init
    out.append("")
    if not method.fields:
        out.append("%spublic init() {}" % i1)
    else:
        params = ", ".join("%s: %s = %s" % (f.ident, f.swift_type, f.default) for f in method.fields)
        one_line = "%spublic init(%s) {" % (i1, params)
        if len(one_line) <= 100:
            out.append(one_line)
        else:
            out.append("%spublic init(" % i1)
        for n, f in enumerate(method.fields if len(one_line) > 100 else []):
            sep = "," if n < len(method.fields) - 1 else ""
            out.append("%s%s: %s = %s%s" % (i2, f.ident, f.swift_type, f.default, sep))
        if len(one_line) > 100:
            out.append("%s) {" % i1)
        for f in method.fields:
            out.append("%sself.%s = %s" % (i2, f.name, f.ident))
        out.append("%s}" % i1)

    # decode
    out.append("")
    out.append("%s/// Reads the arguments (after the class and method ids)." % i1)
    if not method.fields:
        out.append("%spublic static func decode(from buffer: inout ByteBuffer) throws -> Self {" % i1)
        out.append("%sSelf()" % i2)
        out.append("%s}" % i1)
    else:
        out.append("%spublic static func decode(from buffer: inout ByteBuffer) throws -> Self {" % i1)
        octet = 0
        for kind, item in groups(method.fields):
            if kind == "field":
                what = "%s %s" % (method.full_name, item.spec_name)
                read = item.read.format(what=what)
                line = "%slet %s: %s = %s" % (i2, item.ident, item.swift_type, read)
                if len(line) <= 100:
                    out.append(line)
                else:
                    head, label = read.split("(", 1)
                    out.append("%slet %s: %s = %s(" % (i2, item.ident, item.swift_type, head))
                    out.append("%s%s" % (i2 + INDENT, label[:-1]))
                    out.append("%s)" % i2)
            else:
                var = "bits%d" % octet if octet else "bits"
                octet += 1
                what = "%s bits" % method.full_name
                out.append("%slet %s: UInt8 = try buffer.readAMQPInteger(\"%s\")" % (i2, var, what))
                for bit, b in enumerate(item):
                    out.append("%slet %s = %s & %s != 0" % (i2, b.ident, var, bit_mask(bit)))
        args = ", ".join("%s: %s" % (f.name, f.ident) for f in method.fields)
        line = "%sreturn Self(%s)" % (i2, args)
        if len(line) <= 100:
            out.append(line)
        else:
            out.append("%sreturn Self(" % i2)
            for n, f in enumerate(method.fields):
                sep = "," if n < len(method.fields) - 1 else ""
                out.append("%s%s: %s%s" % (i2 + INDENT, f.name, f.ident, sep))
            out.append("%s)" % i2)
        out.append("%s}" % i1)

    # encode
    out.append("")
    out.append("%s/// Writes the arguments (after the class and method ids)." % i1)
    if not method.fields:
        out.append("%spublic func encode(into buffer: inout ByteBuffer) throws {}" % i1)
    else:
        out.append("%spublic func encode(into buffer: inout ByteBuffer) throws {" % i1)
        octet = 0
        for kind, item in groups(method.fields):
            if kind == "field":
                out.append("%s%s" % (i2, item.write.format(v="self." + item.name)))
            else:
                var = "bits%d" % octet if octet else "bits"
                octet += 1
                out.append("%svar %s: UInt8 = 0" % (i2, var))
                for bit, b in enumerate(item):
                    out.append("%sif self.%s { %s |= %s }" % (i2, b.name, var, bit_mask(bit)))
                out.append("%sbuffer.writeInteger(%s)" % (i2, var))
        out.append("%s}" % i1)
    out.append("%s}" % ind)


def bit_mask(bit):
    return "0b" + format(1 << bit, "08b")[:4] + "_" + format(1 << bit, "08b")[4:]


def header(spec_path, spec_bytes, purpose):
    digest = hashlib.sha256(spec_bytes).hexdigest()
    return [
        "// GENERATED FILE - DO NOT EDIT.",
        "//",
        "// %s" % purpose,
        "// Generated by Tools/generate_methods.py from %s" % os.path.basename(spec_path),
        "// (sha256 %s)." % digest,
        "// To regenerate, from the package root:",
        "//   python3 Tools/generate_methods.py \\",
        "//     /usr/share/amqp/specs/0-9-1-rabbit/amqp0-9-1.stripped.extended.xml \\",
        "//     Sources/AMQPWire/Generated/AMQPMethod.swift \\",
        "//     Tests/AMQPWireTests/Generated/AllMethodsSamples.swift",
        "",
    ]


def emit_codec(spec_path, spec_bytes, version, classes):
    out = header(spec_path, spec_bytes, "The AMQP %s method codec: one struct per method, and AMQPMethod." % version)
    out.append("import NIOCore")
    out.append("")
    out.append("/// Namespace of all method payload structs, one nested enum per AMQP class.")
    out.append("///")
    out.append("/// Each struct holds a method's arguments and knows its class and method ids; `AMQPMethod`")
    out.append("/// wraps them so a frame can carry any of them.")
    out.append("public enum Spec {")
    for ci, cls in enumerate(classes):
        if ci:
            out.append("")
        out.append("%s/// The `%s` class (id %d)." % (INDENT, cls.spec_name, cls.index))
        out.append("%spublic enum %s {" % (INDENT, cls.enum_name))
        for mi, m in enumerate(cls.methods):
            if mi:
                out.append("")
            emit_struct(m, out, INDENT * 2)
        out.append("%s}" % INDENT)
    out.append("}")
    out.append("")

    methods = [m for c in classes for m in c.methods]
    i1, i2, i3 = INDENT, INDENT * 2, INDENT * 3
    out.append("/// Any AMQP 0-9-1 method, with RabbitMQ's extensions, as carried by a method frame.")
    out.append("public enum AMQPMethod: Sendable, Hashable {")
    for m in methods:
        out.append("%scase %s(%s)" % (i1, m.case_name, m.swift_type))
    out.append("")

    def per_class_switch(doc, decl, value_for_class):
        for d in doc:
            out.append("%s/// %s" % (i1, d))
        out.append("%s%s {" % (i1, decl))
        out.append("%sswitch self {" % i2)
        for c in classes:
            cases = ["." + m.case_name for m in c.methods]
            emit_case_list(out, i2, cases, value_for_class(c))
        out.append("%s}" % i2)
        out.append("%s}" % i1)
        out.append("")

    per_class_switch(["The class id, as written in the method frame."], "public var classID: UInt16", lambda c: str(c.index))

    out.append("%s/// The method id within its class, as written in the method frame." % i1)
    out.append("%spublic var methodID: UInt16 {" % i1)
    out.append("%sswitch self {" % i2)
    for m in methods:
        out.append("%scase .%s: %d" % (i2, m.case_name, m.index))
    out.append("%s}" % i2)
    out.append("%s}" % i1)
    out.append("")

    out.append("%s/// The spec name, like \"basic.publish\", for errors and logs." % i1)
    out.append("%spublic var name: String {" % i1)
    out.append("%sswitch self {" % i2)
    for m in methods:
        out.append("%scase .%s: \"%s\"" % (i2, m.case_name, m.full_name))
    out.append("%s}" % i2)
    out.append("%s}" % i1)
    out.append("")

    content = ["." + m.case_name for m in methods if m.content]
    out.append("%s/// True when the spec says a content header and body frames follow this method." % i1)
    out.append("%spublic var hasContent: Bool {" % i1)
    out.append("%sswitch self {" % i2)
    emit_case_list(out, i2, content, "true")
    out.append("%sdefault: false" % i2)
    out.append("%s}" % i2)
    out.append("%s}" % i1)
    out.append("")

    out.append("%s/// Reads class-id, method-id and the arguments from a method frame's payload." % i1)
    out.append("%s///" % i1)
    out.append("%s/// The payload must hold exactly one method: leftover bytes are a malformed frame" % i1)
    out.append("%s/// (`AMQPWireError.trailingBytes`), not something to skip." % i1)
    out.append("%spublic static func decode(from buffer: inout ByteBuffer) throws -> AMQPMethod {" % i1)
    out.append("%slet classID: UInt16 = try buffer.readAMQPInteger(\"class id\")" % i2)
    out.append("%slet methodID: UInt16 = try buffer.readAMQPInteger(\"method id\")" % i2)
    out.append("%slet method: AMQPMethod" % i2)
    out.append("%sswitch classID {" % i2)
    for c in classes:
        out.append("%scase %d:" % (i2, c.index))
        out.append("%sswitch methodID {" % i3)
        for m in c.methods:
            out.append("%scase %d: method = .%s(try .decode(from: &buffer))" % (i3, m.index, m.case_name))
        out.append("%sdefault: throw AMQPWireError.unknownMethod(classID: classID, methodID: methodID)" % i3)
        out.append("%s}" % i3)
    out.append("%sdefault:" % i2)
    out.append("%sthrow AMQPWireError.unknownMethod(classID: classID, methodID: methodID)" % i3)
    out.append("%s}" % i2)
    out.append("%sguard buffer.readableBytes == 0 else {" % i2)
    out.append("%sthrow AMQPWireError.trailingBytes(" % i3)
    out.append("%sclassID: classID," % (i3 + INDENT))
    out.append("%smethodID: methodID," % (i3 + INDENT))
    out.append("%scount: buffer.readableBytes" % (i3 + INDENT))
    out.append("%s)" % i3)
    out.append("%s}" % i2)
    out.append("%sreturn method" % i2)
    out.append("%s}" % i1)
    out.append("")

    out.append("%s/// Writes class-id, method-id and the arguments." % i1)
    out.append("%spublic func encode(into buffer: inout ByteBuffer) throws {" % i1)
    out.append("%sbuffer.writeInteger(self.classID)" % i2)
    out.append("%sbuffer.writeInteger(self.methodID)" % i2)
    out.append("%sswitch self {" % i2)
    for m in methods:
        out.append("%scase .%s(let method): try method.encode(into: &buffer)" % (i2, m.case_name))
    out.append("%s}" % i2)
    out.append("%s}" % i1)
    out.append("}")
    out.append("")
    return out


def emit_case_list(out, ind, cases, value):
    """`case .a, .b, ...: value`, wrapped below 100 columns."""
    line = "%scase %s: %s" % (ind, ", ".join(cases), value)
    if len(line) <= 100:
        out.append(line)
        return
    out.append("%scase %s," % (ind, cases[0]))
    for n, c in enumerate(cases[1:]):
        last = n == len(cases) - 2
        out.append("%s%s%s" % (ind + INDENT, c, ":" if last else ","))
    out.append("%s%s" % (ind + INDENT, value))


# MARK: - Emitting test samples


def sample_value(f, seed):
    """A deterministic, non-default value for a field, different per field position."""
    p = f.primitive
    if p == "bit":
        return "true" if seed % 2 == 0 else "false"
    # High bits set, so that a sign or width mistake in a codec shows.
    if p == "octet":
        return hex_literal(0x80 + seed)
    if p == "short":
        return hex_literal(0x8000 + 0x101 * seed)
    if p == "long":
        return hex_literal(0x8000_0000 + 0x10101 * seed)
    if p in ("longlong", "timestamp"):
        return hex_literal(0x8000_0000_0000_0000 + 0x1_0101_0101 * seed)
    if p == "shortstr":
        return '"%s-%d"' % (f.spec_name, seed)
    if p == "longstr":
        # Long strings are binary: include a NUL and a byte that is not UTF-8.
        return 'ByteBuffer(bytes: Array("%s-%d".utf8) + [0x00, 0xFF])' % (f.spec_name, seed)
    if p == "table":
        return "sampleTable(%d)" % seed
    raise SystemExit("error: no sample for %s" % p)


def hex_literal(n):
    digits = "%X" % n
    groups = []
    while digits:
        groups.insert(0, digits[-4:])
        digits = digits[:-4]
    return "0x" + "_".join(groups)


def emit_samples(spec_path, spec_bytes, version, classes):
    out = header(spec_path, spec_bytes, "Test support: one non-default instance of every AMQP %s method." % version)
    out.append("import AMQPWire")
    out.append("import NIOCore")
    out.append("")
    out.append("/// Every method with every argument set to a non-default value, in class and method id")
    out.append("/// order. Bits alternate, starting set, so both set and clear bits are exercised.")
    out.append("let allMethodSamples: [AMQPMethod] = [")
    methods = [m for c in classes for m in c.methods]
    for m in methods:
        if not m.fields:
            out.append("%s.%s(%s())," % (INDENT, m.case_name, m.swift_type))
            continue
        out.append("%s.%s(" % (INDENT, m.case_name))
        out.append("%s%s(" % (INDENT * 2, m.swift_type))
        run = 0  # position within a run of bits: the first bit of every run is set
        for n, f in enumerate(m.fields):
            sep = "," if n < len(m.fields) - 1 else ""
            seed = run if f.primitive == "bit" else n + m.index
            run = run + 1 if f.primitive == "bit" else 0
            out.append("%s%s: %s%s" % (INDENT * 3, f.name, sample_value(f, seed), sep))
        out.append("%s)" % (INDENT * 2))
        out.append("%s)," % INDENT)
    out.append("]")
    out.append("")
    out.append("/// Every method built with `init()` defaults, in the same order as `allMethodSamples`.")
    out.append("let allMethodDefaults: [AMQPMethod] = [")
    for m in methods:
        out.append("%s.%s(%s())," % (INDENT, m.case_name, m.swift_type))
    out.append("]")
    out.append("")
    out.append("/// The spec's (class id, method id, name) of every method, in id order, to check the")
    out.append("/// generated `classID`, `methodID` and `name` switches against.")
    out.append("let allMethodIdentities: [(classID: UInt16, methodID: UInt16, name: String)] = [")
    for m in methods:
        out.append('%s(%d, %d, "%s"),' % (INDENT, m.cls.index, m.index, m.full_name))
    out.append("]")
    out.append("")
    out.append("/// A small table whose contents depend on `seed`, so that samples differ from each other.")
    out.append("func sampleTable(_ seed: Int) -> FieldTable {")
    out.append("%sFieldTable([" % INDENT)
    out.append('%sFieldTable.Entry(key: "x-seed", value: .int64(Int64(seed))),' % (INDENT * 2))
    out.append('%sFieldTable.Entry(key: "name", value: .string("sample \\(seed)")),' % (INDENT * 2))
    out.append('%sFieldTable.Entry(key: "flag", value: .bool(seed %% 2 == 0)),' % (INDENT * 2))
    out.append("%s])" % INDENT)
    out.append("}")
    out.append("")
    return out


def write(path, lines):
    text = "\n".join(lines)
    if not text.endswith("\n"):
        text += "\n"
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def main(argv):
    if len(argv) not in (3, 4):
        sys.stderr.write(__doc__)
        return 2
    spec_path, output = argv[1], argv[2]
    with open(spec_path, "rb") as f:
        spec_bytes = f.read()
    version, classes = load_spec(spec_path)
    write(output, emit_codec(spec_path, spec_bytes, version, classes))
    if len(argv) == 4:
        write(argv[3], emit_samples(spec_path, spec_bytes, version, classes))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
