import AMQPWire
import Testing

@testable import WarrenCore

@Suite("Headers exchange matching")
struct HeadersMatchTests {
    func matches(_ binding: FieldTable, _ headers: FieldTable?) -> Bool {
        HeadersMatch.matches(binding: binding, headers: headers)
    }

    @Test("x-match defaults to all")
    func defaultIsAll() {
        let binding: FieldTable = ["format": .string("pdf"), "type": .string("report")]
        #expect(matches(binding, ["format": .string("pdf"), "type": .string("report")]))
        #expect(matches(binding, ["format": .string("pdf"), "type": .string("report"), "extra": .int32(1)]))
        #expect(!matches(binding, ["format": .string("pdf")]))
        #expect(!matches(binding, ["format": .string("pdf"), "type": .string("log")]))
        #expect(!matches(binding, nil))
        #expect(HeadersMatch.mode(of: binding) == .all)
    }

    @Test("x-match all: every non-x argument must be present and equal")
    func all() {
        let binding: FieldTable = ["x-match": .string("all"), "a": .int32(1), "b": .string("two")]
        #expect(matches(binding, ["b": .string("two"), "a": .int32(1)]))
        #expect(!matches(binding, ["a": .int32(1)]))
        #expect(!matches(binding, ["a": .int32(2), "b": .string("two")]))
        #expect(!matches(binding, [:]))
    }

    @Test("x-match any: one present and equal argument is enough")
    func any() {
        let binding: FieldTable = ["x-match": .string("any"), "a": .int32(1), "b": .string("two")]
        #expect(matches(binding, ["a": .int32(1)]))
        #expect(matches(binding, ["b": .string("two"), "c": .bool(true)]))
        #expect(matches(binding, ["a": .int32(9), "b": .string("two")]))
        #expect(!matches(binding, ["a": .int32(9), "b": .string("three")]))
        #expect(!matches(binding, ["c": .int32(1)]))
        #expect(!matches(binding, nil))
    }

    @Test("plain all/any ignore binding arguments starting with x-")
    func xArgumentsIgnored() {
        let all: FieldTable = ["x-match": .string("all"), "x-custom": .string("v"), "a": .int32(1)]
        #expect(matches(all, ["a": .int32(1)]))
        #expect(matches(all, ["a": .int32(1), "x-custom": .string("other")]))

        let any: FieldTable = ["x-match": .string("any"), "x-custom": .string("v")]
        // Only x- arguments: nothing to match in `any` mode.
        #expect(!matches(any, ["x-custom": .string("v")]))
    }

    @Test("all-with-x compares x- arguments too")
    func allWithX() {
        let binding: FieldTable = ["x-match": .string("all-with-x"), "x-custom": .string("v"), "a": .int32(1)]
        #expect(matches(binding, ["a": .int32(1), "x-custom": .string("v")]))
        #expect(!matches(binding, ["a": .int32(1)]))
        #expect(!matches(binding, ["a": .int32(1), "x-custom": .string("w")]))
        #expect(HeadersMatch.mode(of: binding) == .allWithX)
    }

    @Test("any-with-x matches on an x- argument alone")
    func anyWithX() {
        let binding: FieldTable = ["x-match": .string("any-with-x"), "x-custom": .string("v"), "a": .int32(1)]
        #expect(matches(binding, ["x-custom": .string("v")]))
        #expect(matches(binding, ["a": .int32(1)]))
        #expect(!matches(binding, ["x-custom": .string("w"), "a": .int32(2)]))
        #expect(HeadersMatch.mode(of: binding) == .anyWithX)
    }

    @Test("x-match itself is never compared, even in the with-x modes")
    func xMatchNotCompared() {
        let binding: FieldTable = ["x-match": .string("all-with-x"), "a": .int32(1)]
        #expect(matches(binding, ["a": .int32(1)]))
        #expect(matches(binding, ["a": .int32(1), "x-match": .string("any")]))
    }

    @Test("a void binding value matches on presence alone")
    func voidIsPresence() {
        let all: FieldTable = ["present": .void]
        #expect(matches(all, ["present": .string("anything")]))
        #expect(matches(all, ["present": .int32(0)]))
        #expect(matches(all, ["present": .void]))
        #expect(!matches(all, ["other": .void]))
        #expect(!matches(all, nil))

        let any: FieldTable = ["x-match": .string("any"), "present": .void, "a": .int32(1)]
        #expect(matches(any, ["present": .bool(false)]))
        #expect(!matches(any, ["a": .int32(2)]))
    }

    @Test("integers compare by value whatever their width")
    func integerWidths() {
        let binding: FieldTable = ["n": .int32(1)]
        #expect(matches(binding, ["n": .int64(1)]))
        #expect(matches(binding, ["n": .int8(1)]))
        #expect(matches(binding, ["n": .uint8(1)]))
        #expect(matches(binding, ["n": .int16(1)]))
        #expect(matches(binding, ["n": .uint16(1)]))
        #expect(matches(binding, ["n": .uint32(1)]))
        #expect(!matches(binding, ["n": .int64(2)]))
        #expect(matches(["n": .int64(-5)], ["n": .int8(-5)]))
    }

    @Test("an integer never equals a string or a boolean")
    func integerIsNotString() {
        #expect(!matches(["n": .int32(1)], ["n": .string("1")]))
        #expect(!matches(["n": .string("1")], ["n": .int32(1)]))
        #expect(!matches(["n": .int32(1)], ["n": .bool(true)]))
        #expect(matches(["s": .string("1")], ["s": .string("1")]))
        #expect(!matches(["s": .string("a")], ["s": .string("A")]))
    }

    @Test("floats and doubles compare by value")
    func floatingPoint() {
        #expect(matches(["f": .float(1.5)], ["f": .double(1.5)]))
        #expect(matches(["f": .double(1.5)], ["f": .float(1.5)]))
        #expect(matches(["f": .double(2.25)], ["f": .double(2.25)]))
        #expect(!matches(["f": .double(1.5)], ["f": .double(1.25)]))
        #expect(!matches(["f": .float(1.5)], ["f": .string("1.5")]))
    }

    @Test("booleans and nested tables compare by value")
    func otherTypes() {
        #expect(matches(["b": .bool(true)], ["b": .bool(true)]))
        #expect(!matches(["b": .bool(true)], ["b": .bool(false)]))
        let table: FieldTable = ["k": .string("v")]
        #expect(matches(["t": .table(table)], ["t": .table(table)]))
        #expect(!matches(["t": .table(table)], ["t": .table(["k": .string("w")])]))
    }

    @Test("a binding without arguments: all matches everything, any matches nothing")
    func noArguments() {
        #expect(matches([:], nil))
        #expect(matches([:], [:]))
        #expect(matches([:], ["a": .int32(1)]))
        #expect(matches(["x-match": .string("all")], ["a": .int32(1)]))
        #expect(!matches(["x-match": .string("any")], ["a": .int32(1)]))
        #expect(!matches(["x-match": .string("any")], nil))
        #expect(matches(["x-match": .string("all-with-x")], nil))
        #expect(!matches(["x-match": .string("any-with-x")], [:]))
    }

    @Test("unknown x-match values are rejected by mode(of:)")
    func invalidMode() {
        #expect(HeadersMatch.mode(of: ["x-match": .string("some")]) == nil)
        #expect(HeadersMatch.mode(of: ["x-match": .int32(1)]) == nil)
        #expect(HeadersMatch.mode(of: ["x-match": .string("any")]) == .any)
        #expect(HeadersMatch.mode(of: [:]) == .all)
    }
}
