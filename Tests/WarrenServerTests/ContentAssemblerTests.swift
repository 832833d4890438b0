import AMQPWire
import NIOCore
import Testing

@testable import WarrenServer

@Suite("Content assembler")
struct ContentAssemblerTests {
    let publish = Spec.Basic.Publish(exchange: "x", routingKey: "k")

    func header(_ size: UInt64, classID: UInt16 = 60) throws -> ContentHeader {
        try ContentHeader(classID: classID, bodySize: size, properties: BasicProperties(contentType: "text/plain"))
    }

    /// Calls `body` and returns the frame-order error it threw, or nil.
    func orderError(_ body: () throws -> Void) -> ContentAssembler.FrameOrderError? {
        do {
            try body()
            return nil
        } catch {
            return error as? ContentAssembler.FrameOrderError
        }
    }

    @Test("a body in one frame is the frame's own slice, not a copy")
    func singleFrameNoCopy() throws {
        var assembler = ContentAssembler(maxBodySize: 1 << 20)
        assembler.startPublish(publish)
        let contentHeader = try header(5)
        #expect(try assembler.header(contentHeader) == .incomplete)

        // A read buffer holding more than the body, as a socket read would.
        var read = ByteBuffer(string: "xxhelloyy")
        read.moveReaderIndex(forwardBy: 2)
        let fragment = read.readSlice(length: 5)!
        let outcome = try assembler.body(fragment)
        guard case .complete(let gotPublish, let gotHeader, let body) = outcome else {
            Issue.record("expected a complete message, got \(outcome)")
            return
        }
        #expect(gotPublish == publish)
        #expect(gotHeader == contentHeader)
        #expect(String(buffer: body) == "hello")
        #expect(baseAddress(of: body) == baseAddress(of: fragment))
        #expect(assembler.isIdle)
    }

    @Test("a body over several frames is gathered in order")
    func multiFrame() throws {
        var assembler = ContentAssembler(maxBodySize: 1 << 20)
        assembler.startPublish(publish)
        #expect(try assembler.header(try header(10)) == .incomplete)
        #expect(try assembler.body(ByteBuffer(string: "012")) == .incomplete)
        #expect(!assembler.isIdle)
        #expect(try assembler.body(ByteBuffer(string: "3456")) == .incomplete)
        let outcome = try assembler.body(ByteBuffer(string: "789"))
        #expect(outcome == .complete(publish, try header(10), ByteBuffer(string: "0123456789")))
        #expect(assembler.isIdle)
    }

    @Test("two messages in a row reuse the assembler")
    func twoMessages() throws {
        var assembler = ContentAssembler(maxBodySize: 1 << 20)
        for text in ["first", "second message"] {
            assembler.startPublish(publish)
            _ = try assembler.header(try header(UInt64(text.utf8.count)))
            let half = text.utf8.count / 2
            _ = try assembler.body(ByteBuffer(string: String(text.prefix(half))))
            let outcome = try assembler.body(ByteBuffer(string: String(text.dropFirst(half))))
            #expect(outcome == .complete(publish, try header(UInt64(text.utf8.count)), ByteBuffer(string: text)))
        }
    }

    @Test("a zero-size body completes at the header")
    func emptyBody() throws {
        var assembler = ContentAssembler(maxBodySize: 1 << 20)
        assembler.startPublish(publish)
        let outcome = try assembler.header(try header(0))
        #expect(outcome == .complete(publish, try header(0), ByteBuffer()))
        #expect(assembler.isIdle)
    }

    @Test("a body larger than announced is a frame error")
    func bodyTooLong() throws {
        var assembler = ContentAssembler(maxBodySize: 1 << 20)
        assembler.startPublish(publish)
        _ = try assembler.header(try header(5))
        let error = orderError { _ = try assembler.body(ByteBuffer(string: "123456")) }
        #expect(error?.code == .frameError)
        #expect(assembler.isIdle)
    }

    @Test("a body that overruns over several frames is a frame error")
    func bodyTooLongAcrossFrames() throws {
        var assembler = ContentAssembler(maxBodySize: 1 << 20)
        assembler.startPublish(publish)
        _ = try assembler.header(try header(5))
        #expect(try assembler.body(ByteBuffer(string: "123")) == .incomplete)
        let error = orderError { _ = try assembler.body(ByteBuffer(string: "456")) }
        #expect(error?.code == .frameError)
        #expect(assembler.isIdle)
    }

    @Test("a header without a publish before it is a 505")
    func headerWithoutPublish() throws {
        var assembler = ContentAssembler(maxBodySize: 1 << 20)
        let contentHeader = try header(5)
        let error = orderError { _ = try assembler.header(contentHeader) }
        #expect(
            error
                == ContentAssembler.FrameOrderError(
                    code: .unexpectedFrame, explanation: "expected method frame, got non method frame instead"))
        #expect(error?.code.rawValue == 505)
    }

    @Test("a body without a header before it is a 505")
    func bodyWithoutHeader() throws {
        var idle = ContentAssembler(maxBodySize: 1 << 20)
        #expect(orderError { _ = try idle.body(ByteBuffer(string: "x")) }?.code == .unexpectedFrame)

        var awaitingHeader = ContentAssembler(maxBodySize: 1 << 20)
        awaitingHeader.startPublish(publish)
        #expect(orderError { _ = try awaitingHeader.body(ByteBuffer(string: "x")) }?.code == .unexpectedFrame)
    }

    @Test("a second header in the middle of a body is a 505")
    func headerDuringBody() throws {
        var assembler = ContentAssembler(maxBodySize: 1 << 20)
        assembler.startPublish(publish)
        _ = try assembler.header(try header(5))
        let again = try header(5)
        #expect(orderError { _ = try assembler.header(again) }?.code == .unexpectedFrame)
    }

    @Test("a method while content is expected is a 505")
    func methodDuringContent() throws {
        var assembler = ContentAssembler(maxBodySize: 1 << 20)
        #expect(orderError { try assembler.checkMethodAllowed() } == nil)

        assembler.startPublish(publish)
        let awaitingHeader = orderError { try assembler.checkMethodAllowed() }
        #expect(awaitingHeader?.code == .unexpectedFrame)
        #expect(
            awaitingHeader?.explanation == "expected content header for class 60, got non content header frame instead")

        _ = try assembler.header(try header(5))
        #expect(orderError { try assembler.checkMethodAllowed() }?.code == .unexpectedFrame)

        _ = try assembler.body(ByteBuffer(string: "12345"))
        #expect(orderError { try assembler.checkMethodAllowed() } == nil)
    }

    @Test("a header for another class is a 505")
    func wrongClass() throws {
        var assembler = ContentAssembler(maxBodySize: 1 << 20)
        assembler.startPublish(publish)
        let other = try header(5, classID: 50)
        let error = orderError { _ = try assembler.header(other) }
        #expect(error?.code == .unexpectedFrame)
        #expect(error?.explanation == "expected content header for class 60, got one for class 50 instead")
        #expect(assembler.isIdle)
    }

    @Test("a body above the maximum message size is dropped as it arrives and refused with 406 after its last frame")
    func maxSize() throws {
        var assembler = ContentAssembler(maxBodySize: 10)
        assembler.startPublish(publish)
        #expect(try assembler.header(try header(11)) == .incomplete)
        #expect(try assembler.body(ByteBuffer(repeating: 1, count: 6)) == .incomplete)
        let error = orderError { _ = try assembler.body(ByteBuffer(repeating: 1, count: 5)) }
        #expect(error?.code == .preconditionFailed)
        #expect(error?.code.rawValue == 406)
        #expect(error?.explanation == "message size 11 is larger than configured max size 10")
        #expect(assembler.isIdle)

        assembler.startPublish(publish)
        #expect(try assembler.header(try header(10)) == .incomplete)
    }

    @Test("an oversized publish with immediate=true is refused for immediate (540), as RabbitMQ checks that first")
    func oversizedImmediate() throws {
        var assembler = ContentAssembler(maxBodySize: 10)
        assembler.startPublish(Spec.Basic.Publish(exchange: "x", routingKey: "k", immediate: true))
        #expect(try assembler.header(try header(11)) == .incomplete)
        let error = orderError { _ = try assembler.body(ByteBuffer(repeating: 1, count: 11)) }
        #expect(error == ContentAssembler.FrameOrderError(code: .notImplemented, explanation: "immediate=true"))
    }
}
