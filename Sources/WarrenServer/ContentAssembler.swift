import AMQPWire
import NIOCore

/// Assembles a content-bearing method (`basic.publish`) with its content header and body
/// frames, enforcing the frame order the spec requires.
///
/// A body that arrives in one frame is kept as that frame's slice (zero copies); only a body
/// split over several frames is gathered into one buffer.
struct ContentAssembler {
    enum State {
        case idle
        case awaitingHeader(Spec.Basic.Publish)
        /// Body bytes so far are in `gathered` (multi-frame bodies only); `received` counts them.
        case awaitingBody(Spec.Basic.Publish, ContentHeader, received: UInt64)
        /// A body larger than `max_message_size`: its frames are counted and dropped, and the
        /// refusal comes after the last one, as in RabbitMQ (nothing of it is kept).
        case discardingBody(Spec.Basic.Publish, bodySize: UInt64, received: UInt64)
    }

    /// A violation of frame order, with RabbitMQ's reply code and wording.
    struct FrameOrderError: Error, Equatable {
        var code: ReplyCode
        var explanation: String
    }

    enum Outcome: Equatable {
        /// Need more frames.
        case incomplete
        case complete(Spec.Basic.Publish, ContentHeader, ByteBuffer)
    }

    private(set) var state: State = .idle
    /// Kept outside `state` so appending fragments mutates one uniquely held buffer in place.
    private var gathered: ByteBuffer?
    let maxBodySize: UInt64

    init(maxBodySize: UInt64) {
        self.maxBodySize = maxBodySize
    }

    var isIdle: Bool {
        if case .idle = state { return true }
        return false
    }

    /// Checks that a method frame may arrive now (not in the middle of a content).
    func checkMethodAllowed() throws(FrameOrderError) {
        switch state {
        case .idle:
            return
        case .awaitingHeader:
            throw FrameOrderError(
                code: .unexpectedFrame,
                explanation: "expected content header for class 60, got non content header frame instead")
        case .awaitingBody, .discardingBody:
            throw FrameOrderError(
                code: .unexpectedFrame, explanation: "expected content body, got non content body frame instead")
        }
    }

    mutating func startPublish(_ publish: Spec.Basic.Publish) {
        state = .awaitingHeader(publish)
    }

    mutating func header(_ header: ContentHeader) throws(FrameOrderError) -> Outcome {
        guard case .awaitingHeader(let publish) = state else {
            throw FrameOrderError(
                code: .unexpectedFrame, explanation: "expected method frame, got non method frame instead")
        }
        guard header.classID == 60 else {
            state = .idle
            throw FrameOrderError(
                code: .unexpectedFrame,
                explanation: "expected content header for class 60, got one for class \(header.classID) instead")
        }
        guard header.bodySize <= maxBodySize else {
            state = .discardingBody(publish, bodySize: header.bodySize, received: 0)
            return .incomplete
        }
        if header.bodySize == 0 {
            state = .idle
            return .complete(publish, header, ByteBuffer())
        }
        state = .awaitingBody(publish, header, received: 0)
        return .incomplete
    }

    mutating func body(_ fragment: ByteBuffer) throws(FrameOrderError) -> Outcome {
        if case .discardingBody(let publish, let bodySize, let received) = state {
            let total = received + UInt64(fragment.readableBytes)
            guard total < bodySize else {
                state = .idle
                if total > bodySize { throw Self.bodyOverrun(bodySize) }
                // RabbitMQ refuses `immediate` before it looks at the size.
                if publish.immediate { throw FrameOrderError(code: .notImplemented, explanation: "immediate=true") }
                throw FrameOrderError(
                    code: .preconditionFailed,
                    explanation: "message size \(bodySize) is larger than configured max size \(maxBodySize)")
            }
            state = .discardingBody(publish, bodySize: bodySize, received: total)
            return .incomplete
        }
        guard case .awaitingBody(let publish, let header, let received) = state else {
            throw FrameOrderError(
                code: .unexpectedFrame, explanation: "expected method frame, got non method frame instead")
        }
        let total = received + UInt64(fragment.readableBytes)
        guard total <= header.bodySize else {
            state = .idle
            gathered = nil
            throw Self.bodyOverrun(header.bodySize)
        }
        if total == header.bodySize && received == 0 {
            // The whole body in one frame: keep the read buffer's slice.
            state = .idle
            return .complete(publish, header, fragment)
        }
        if gathered == nil {
            var buffer = ByteBuffer()
            buffer.reserveCapacity(Int(min(header.bodySize, 1 << 20)))
            gathered = buffer
        }
        gathered?.writeImmutableBuffer(fragment)
        if total == header.bodySize {
            state = .idle
            let body = gathered ?? ByteBuffer()
            gathered = nil
            return .complete(publish, header, body)
        }
        state = .awaitingBody(publish, header, received: total)
        return .incomplete
    }

    private static func bodyOverrun(_ bodySize: UInt64) -> FrameOrderError {
        FrameOrderError(
            code: .frameError, explanation: "body size exceeds the \(bodySize) bytes announced in the content header")
    }
}
