import AMQPWire
import NIOCore
import Testing

/// Bad bytes from a peer must surface as typed errors (the server maps them to reply codes),
/// never as a trap.
@Suite("Malformed input")
struct MalformedInputTests {
    @Test("a truncated frame asks for more data instead of failing")
    func truncatedFrame() throws {
        var buffer = ByteBuffer(bytes: [0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x10, 0x00, 0x3C])
        #expect(try FrameDecoder.decodeFrame(from: &buffer, maxFrameSize: 4096) == nil)
        #expect(buffer.readableBytes == 9)
    }

    @Test("a frame not ending in 0xCE is a frame error")
    func badFrameEnd() throws {
        var buffer = ByteBuffer(bytes: [0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xCD])
        #expect(throws: AMQPWireError.badFrameEnd(octet: 0xCD)) {
            try FrameDecoder.decodeFrame(from: &buffer, maxFrameSize: 4096)
        }
    }

    @Test("a payload larger than frame_max is refused from the frame header alone")
    func oversizeFrame() throws {
        // Only the 7-byte header has arrived: the size alone must be enough to refuse it.
        var buffer = ByteBuffer(bytes: [0x03, 0x00, 0x01, 0x00, 0x00, 0x10, 0x01])
        #expect(throws: AMQPWireError.frameTooLarge(type: 3, size: 4097, frameMax: 4096)) {
            try FrameDecoder.decodeFrame(from: &buffer, maxFrameSize: 4096)
        }
        var huge = ByteBuffer(bytes: [0x03, 0x00, 0x01, 0xFF, 0xFF, 0xFF, 0xFF])
        #expect(throws: AMQPWireError.frameTooLarge(type: 3, size: .max, frameMax: 131_072)) {
            try FrameDecoder.decodeFrame(from: &huge, maxFrameSize: 131_072)
        }
    }

    @Test("an unknown frame type is reported as such")
    func unknownFrameType() throws {
        var buffer = ByteBuffer(bytes: [0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xCE])
        #expect(throws: AMQPWireError.unknownFrameType(4)) {
            try FrameDecoder.decodeFrame(from: &buffer, maxFrameSize: 4096)
        }
    }

    @Test("unknown class and unknown method ids", arguments: [(UInt16(99), UInt16(10)), (60, 41), (85, 12), (0, 0)])
    func unknownMethod(_ classID: UInt16, _ methodID: UInt16) throws {
        var payload = ByteBuffer()
        payload.writeInteger(classID)
        payload.writeInteger(methodID)
        #expect(throws: AMQPWireError.unknownMethod(classID: classID, methodID: methodID)) {
            try AMQPMethod.decode(from: &payload)
        }
    }

    @Test("a method payload shorter than its id pair is truncated")
    func truncatedIDs() throws {
        var payload = ByteBuffer(bytes: [0x00, 0x3C, 0x00])
        #expect(throws: AMQPWireError.truncated(what: "method id")) {
            try AMQPMethod.decode(from: &payload)
        }
    }

    @Test("every method cut short anywhere is truncated, not a crash", arguments: allMethodSamples)
    func truncatedArguments(_ method: AMQPMethod) throws {
        let payload = try encodedPayload(method)
        for length in 4..<payload.readableBytes {
            var cut = payload.getSlice(at: payload.readerIndex, length: length) ?? ByteBuffer()
            // Cutting inside a table or string makes its length prefix overrun: still truncated.
            #expect(
                performing: { try AMQPMethod.decode(from: &cut) },
                throws: { error in
                    guard case .truncated = error as? AMQPWireError else { return false }
                    return true
                })
        }
    }

    @Test("bytes after a method's last argument are rejected")
    func trailingBytes() throws {
        var payload = try encodedPayload(.basicAck(Spec.Basic.Ack(deliveryTag: 1)))
        payload.writeBytes([0xAA, 0xBB])
        #expect(throws: AMQPWireError.trailingBytes(classID: 60, methodID: 80, count: 2)) {
            try AMQPMethod.decode(from: &payload)
        }
        // An argument-less method with anything after it, too.
        var closeOk = try encodedPayload(.channelCloseOk(Spec.Channel.CloseOk()))
        closeOk.writeInteger(UInt8(0))
        #expect(throws: AMQPWireError.trailingBytes(classID: 20, methodID: 41, count: 1)) {
            try AMQPMethod.decode(from: &closeOk)
        }
    }

    @Test("a method frame with trailing bytes fails frame decoding")
    func trailingBytesInFrame() throws {
        var buffer = ByteBuffer(bytes: [0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05, 0x00, 0x5A, 0x00, 0x0A, 0x00, 0xCE])
        #expect(throws: AMQPWireError.trailingBytes(classID: 90, methodID: 10, count: 1)) {
            try FrameDecoder.decodeFrame(from: &buffer, maxFrameSize: 4096)
        }
    }

    @Test("an unknown field type octet is reported with the octet")
    func unknownFieldType() throws {
        var buffer = ByteBuffer(bytes: [0x00, 0x00, 0x00, 0x03, 0x01, 0x6B, 0x5A])  // "k" = 'Z'
        #expect(throws: AMQPWireError.unknownFieldType(0x5A)) {
            try buffer.readFieldTable()
        }
    }

    @Test("a table whose length overruns the payload is truncated")
    func tableOverrun() throws {
        var buffer = ByteBuffer(bytes: [0x00, 0x00, 0x01, 0x00, 0x01, 0x6B, 0x56])
        #expect(throws: AMQPWireError.truncated(what: "field table")) {
            try buffer.readFieldTable()
        }
        // An entry that runs past the table's own length is truncated inside the table.
        var inner = ByteBuffer(bytes: [0x00, 0x00, 0x00, 0x03, 0x01, 0x6B, 0x49, 0x00, 0x00, 0x00, 0x01])
        #expect(throws: AMQPWireError.truncated(what: "int32")) {
            try inner.readFieldTable()
        }
    }

    @Test("nesting deep enough to overflow the stack is refused, not a crash")
    func deepNesting() throws {
        // A frame_max-sized frame holds about 26,000 nested arrays; decoding must not recurse
        // that deep.
        var hostile = nestedArrays(levels: 26_000)
        #expect(throws: AMQPWireError.truncated(what: "field table: nested more than 64 levels deep")) {
            try hostile.readFieldValue()
        }
        var nestedTable = ByteBuffer()
        nestedTable.writeInteger(UInt32(nestedArrays(levels: 100).readableBytes + 2))
        nestedTable.writeBytes([0x01, 0x6B])
        nestedTable.writeImmutableBuffer(nestedArrays(levels: 100))
        #expect(throws: AMQPWireError.truncated(what: "field table: nested more than 64 levels deep")) {
            try nestedTable.readFieldTable()
        }
    }

    @Test("64 levels of nesting are still accepted")
    func nestingLimit() throws {
        var ok = nestedArrays(levels: 64)
        #expect(try ok.readFieldValue().typeOctet == UInt8(ascii: "A"))
        var tooDeep = nestedArrays(levels: 65)
        #expect(throws: AMQPWireError.self) { try tooDeep.readFieldValue() }
    }

    @Test("a short string over 255 bytes is refused on encode")
    func shortStringTooLong() throws {
        var buffer = ByteBuffer()
        #expect(throws: AMQPWireError.shortStringTooLong(length: 256)) {
            try buffer.writeShortString(String(repeating: "x", count: 256))
        }
        let publish = AMQPMethod.basicPublish(Spec.Basic.Publish(routingKey: String(repeating: "é", count: 128)))
        #expect(throws: AMQPWireError.shortStringTooLong(length: 256)) {
            try buffer.writeMethodFrame(channel: 1, publish)
        }
        // Exactly 255 is fine.
        try buffer.writeShortString(String(repeating: "x", count: 255))
    }

    @Test("a short string that is not UTF-8 is refused rather than repaired")
    func invalidUTF8() throws {
        var buffer = ByteBuffer(bytes: [0x02, 0xC3, 0x28])
        #expect(throws: AMQPWireError.invalidUTF8(what: "short string")) {
            try buffer.readShortString()
        }
        // A truncated 4-byte sequence, which U+FFFD repair would replace with the same length.
        var sneaky = ByteBuffer(bytes: [0x04, 0xF0, 0x90, 0x80, 0x41])
        #expect(throws: AMQPWireError.invalidUTF8(what: "short string")) {
            try sneaky.readShortString()
        }
        var valid = ByteBuffer(bytes: [0x02, 0xC3, 0xA9])
        #expect(try valid.readShortString() == "é")
    }

    @Test("property flags with the continuation bit are refused")
    func continuationFlag() throws {
        var buffer = ByteBuffer(bytes: [0x00, 0x01])
        #expect(throws: AMQPWireError.invalidPropertyFlags(0x0001)) {
            try BasicProperties.decode(from: &buffer)
        }
        var unused = ByteBuffer(bytes: [0x00, 0x02])
        #expect(throws: AMQPWireError.invalidPropertyFlags(0x0002)) {
            try BasicProperties.decode(from: &unused)
        }
    }

    @Test("a header frame whose properties are cut short fails when framed")
    func truncatedHeaderFrame() throws {
        // class 60, weight 0, size 0, flags: content-type present, then no string.
        var buffer = ByteBuffer(bytes: [0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0E])
        buffer.writeBytes([0x00, 0x3C, 0x00, 0x00] + [UInt8](repeating: 0, count: 8) + [0x80, 0x00, 0xCE])
        #expect(throws: AMQPWireError.truncated(what: "short string length")) {
            try FrameDecoder.decodeFrame(from: &buffer, maxFrameSize: 4096)
        }
    }
}

/// `levels` arrays, each holding the next, around a void: 'A' len 'A' len ... 'V'.
private func nestedArrays(levels: Int) -> ByteBuffer {
    var buffer = ByteBuffer()
    // The array at depth d (from the inside, 1-based) holds d - 1 arrays of 5 bytes and the void.
    for inner in stride(from: levels, to: 0, by: -1) {
        buffer.writeInteger(UInt8(ascii: "A"))
        buffer.writeInteger(UInt32(1 + 5 * (inner - 1)))
    }
    buffer.writeInteger(UInt8(ascii: "V"))
    return buffer
}

/// Encoding failures must leave a shared outbound buffer as it was.
@Suite("Encoding failures")
struct EncodingFailureTests {
    @Test("a method that fails to encode leaves no partial frame behind")
    func noPartialFrame() throws {
        var buffer = ByteBuffer()
        buffer.writeHeartbeatFrame()
        let tooLong = AMQPMethod.basicPublish(
            Spec.Basic.Publish(exchange: "ex", routingKey: String(repeating: "r", count: 300)))
        #expect(throws: AMQPWireError.shortStringTooLong(length: 300)) {
            try buffer.writeMethodFrame(channel: 1, tooLong)
        }
        #expect(buffer.readableBytes == 8)
        try buffer.writeMethodFrame(channel: 1, .channelOpen(Spec.Channel.Open()))
        #expect(try decodeAllFrames(buffer) == [.heartbeat, .method(channel: 1, .channelOpen(Spec.Channel.Open()))])
    }

    @Test("body frames make progress whatever frame_max says", arguments: [UInt32(0), 1, 8, 9])
    func tinyFrameMax(_ frameMax: UInt32) throws {
        var buffer = ByteBuffer()
        buffer.writeBodyFrames(channel: 1, ByteBuffer(string: "abc"), maxFrameSize: frameMax)
        let frames = try decodeAllFrames(buffer, maxFrameSize: 4096)
        #expect(frames.count == (frameMax == 0 ? 1 : 3))
        var body = ByteBuffer()
        for case .body(_, let payload) in frames { body.writeImmutableBuffer(payload) }
        #expect(body == ByteBuffer(string: "abc"))
    }
}
