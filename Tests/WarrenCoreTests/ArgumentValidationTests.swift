import AMQPWire
import Testing

@testable import WarrenCore

/// Queue argument validation on declare, and argument equivalence on redeclare.
@Suite("Queue and exchange argument validation")
struct ArgumentValidationTests {
    let vhost = VirtualHost(name: "/")

    func declareError(_ arguments: FieldTable) -> AMQPError? {
        amqpError { try vhost.declareQueue("q", arguments: arguments) }
    }

    func invalid(_ key: String, _ problem: String) -> String {
        "PRECONDITION_FAILED - invalid arg '\(key)' for queue 'q' in vhost '/': \(problem)"
    }

    @Test("a negative x-max-length is refused with RabbitMQ's error term")
    func negativeMaxLength() {
        let error = declareError(["x-max-length": .int32(-1)])
        #expect(error?.code == .preconditionFailed)
        #expect(error?.replyText == invalid("x-max-length", "{value_negative,-1}"))
        #expect(vhost.queues["q"] == nil)
    }

    @Test("non-negative integer arguments", arguments: ["x-max-length", "x-max-length-bytes", "x-message-ttl"])
    func nonNegative(key: String) throws {
        #expect(declareError([key: .int64(-7)])?.replyText == invalid(key, "{value_negative,-7}"))
        #expect(declareError([key: .string("10")])?.code == .preconditionFailed)
        #expect(declareError([key: .bool(true)])?.code == .preconditionFailed)
        try vhost.declareQueue("q", arguments: [key: .int32(0)])
    }

    @Test("x-expires must be positive")
    func expires() throws {
        #expect(declareError(["x-expires": .int32(0)])?.replyText == invalid("x-expires", "{value_zero,0}"))
        #expect(declareError(["x-expires": .int32(-1)])?.replyText == invalid("x-expires", "{value_negative,-1}"))
        try vhost.declareQueue("q", arguments: ["x-expires": .int32(1000)])
    }

    @Test("x-max-priority is at most 255")
    func maxPriority() throws {
        #expect(
            declareError(["x-max-priority": .int32(256)])?.replyText
                == invalid("x-max-priority", "{max_value_exceeded,256}"))
        #expect(
            declareError(["x-max-priority": .int32(-1)])?.replyText == invalid("x-max-priority", "{value_negative,-1}"))
        try vhost.declareQueue("p255", arguments: ["x-max-priority": .int32(255)])
        try vhost.declareQueue("p10", arguments: ["x-max-priority": .uint8(10)])
    }

    @Test("any integer width is accepted for a numeric argument")
    func integerWidths() throws {
        let values: [FieldValue] = [.int8(5), .uint8(5), .int16(5), .uint16(5), .int32(5), .uint32(5), .int64(5)]
        for (index, value) in values.enumerated() {
            try vhost.declareQueue("q\(index)", arguments: ["x-max-length": value])
        }
        #expect(vhost.queues.count == values.count)
    }

    @Test("enumerated string arguments")
    func enumerations() throws {
        #expect(declareError(["x-overflow": .string("bogus")])?.replyText == invalid("x-overflow", "invalid_overflow"))
        #expect(
            declareError(["x-overflow": .int32(1)])?.replyText == invalid("x-overflow", "{unacceptable_type,signedint}")
        )
        #expect(declareError(["x-queue-mode": .string("fast")])?.code == .preconditionFailed)
        #expect(declareError(["x-queue-type": .string("quorum")])?.code == .preconditionFailed)
        for (index, overflow) in ["drop-head", "reject-publish", "reject-publish-dlx"].enumerated() {
            try vhost.declareQueue("o\(index)", arguments: ["x-overflow": .string(overflow)])
        }
        try vhost.declareQueue("lazy", arguments: ["x-queue-mode": .string("lazy")])
        try vhost.declareQueue("classic", arguments: ["x-queue-type": .string("classic")])
    }

    @Test("boolean and string arguments check their type")
    func types() throws {
        #expect(
            declareError(["x-single-active-consumer": .int32(1)])?.replyText
                == invalid("x-single-active-consumer", "{unacceptable_type,signedint}"))
        #expect(
            declareError(["x-dead-letter-exchange": .int64(1)])?.replyText
                == "PRECONDITION_FAILED - invalid type 'long' for arg 'x-dead-letter-exchange' in queue 'q' in vhost '/'"
        )
        #expect(
            declareError(["x-dead-letter-routing-key": .string("k")])?.replyText
                == invalid("x-dead-letter-routing-key", "routing_key_but_no_dlx_defined"))
        try vhost.declareQueue("q", arguments: ["x-single-active-consumer": .bool(true)])
    }

    @Test("arguments Warren does not know are accepted and not compared")
    func unknownArguments() throws {
        try vhost.declareQueue("q", arguments: ["x-custom": .int32(1)])
        try vhost.declareQueue("q", arguments: ["x-custom": .string("other")])
        try vhost.declareQueue("q")
    }

    @Test("equivalence: integers compare by value across widths")
    func equivalentAcrossWidths() throws {
        let queue = try vhost.declareQueue("q", arguments: ["x-max-length": .int32(10)])
        #expect(try vhost.declareQueue("q", arguments: ["x-max-length": .int64(10)]) === queue)
        #expect(try vhost.declareQueue("q", arguments: ["x-max-length": .int8(10)]) === queue)
        #expect(try vhost.declareQueue("q", arguments: ["x-max-length": .uint16(10)]) === queue)
    }

    @Test("equivalence: a different value is refused with both values in the text")
    func differentValue() throws {
        try vhost.declareQueue("q", arguments: ["x-max-length": .int32(10)])
        let error = declareError(["x-max-length": .int64(11)])
        #expect(error?.code == .preconditionFailed)
        #expect(
            error?.replyText
                == "PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue 'q' in vhost '/': received '11' but current is '10'"
        )
    }

    @Test("equivalence: an argument added or dropped on redeclare")
    func addedOrDropped() throws {
        try vhost.declareQueue("q", arguments: ["x-max-length": .int32(10)])
        #expect(
            declareError([:])?.replyText
                == "PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue 'q' in vhost '/': received none but current is the value '10' of type 'signedint'"
        )
        try vhost.declareQueue("r")
        #expect(
            amqpError { try vhost.declareQueue("r", arguments: ["x-message-ttl": .int64(5)]) }?.replyText
                == "PRECONDITION_FAILED - inequivalent arg 'x-message-ttl' for queue 'r' in vhost '/': received the value '5' of type 'long' but current is none"
        )
    }

    @Test("equivalence: strings and booleans")
    func stringsAndBooleans() throws {
        try vhost.declareQueue(
            "q", arguments: ["x-dead-letter-exchange": .string("dlx"), "x-single-active-consumer": .bool(true)])
        #expect(
            declareError(["x-dead-letter-exchange": .string("other"), "x-single-active-consumer": .bool(true)])?
                .replyText
                == "PRECONDITION_FAILED - inequivalent arg 'x-dead-letter-exchange' for queue 'q' in vhost '/': received 'other' but current is 'dlx'"
        )
        #expect(
            declareError(["x-dead-letter-exchange": .string("dlx"), "x-single-active-consumer": .bool(false)])?
                .replyText
                == "PRECONDITION_FAILED - inequivalent arg 'x-single-active-consumer' for queue 'q' in vhost '/': received 'false' but current is 'true'"
        )
    }

    @Test("a redeclare is checked for equivalence, not validated (RabbitMQ 3.10, seen with x-max-priority 256)")
    func equivalenceFirst() throws {
        try vhost.declareQueue("q", arguments: ["x-max-length": .int32(10)])
        #expect(
            declareError(["x-max-length": .int32(-1)])?.replyText
                == "PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue 'q' in vhost '/': received '-1' but current is '10'"
        )
    }

    @Test("a non-integer where an integer is expected is RabbitMQ's quoted message")
    func expectedInteger() throws {
        #expect(
            declareError(["x-max-priority": .string("5")])?.replyText
                == invalid("x-max-priority", "\"expected integer, got longstr\""))
    }

    @Test("type names used in error texts are RabbitMQ's")
    func typeNames() {
        let expected: [(FieldValue, String)] = [
            (.bool(true), "bool"), (.int8(1), "byte"), (.uint8(1), "unsignedbyte"), (.int16(1), "short"),
            (.uint16(1), "unsignedshort"), (.int32(1), "signedint"), (.uint32(1), "unsignedint"), (.int64(1), "long"),
            (.float(1), "float"), (.double(1), "double"), (.string("s"), "longstr"), (.void, "void"),
            (.array([]), "array"), (.table([:]), "table"), (.timestamp(1), "timestamp"),
        ]
        for (value, name) in expected {
            #expect(ArgumentValidation.typeName(value) == name)
        }
    }
}
