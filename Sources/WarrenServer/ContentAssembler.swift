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
        case awaitingBody(Spec.Basic.Publish, ContentHeader, ByteBuffer?)
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
        guard isIdle else {
            throw FrameOrderError(
                code: .unexpectedFrame,
                explanation: "expected content header for class 60, got non content header frame instead")
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
            state = .idle
            throw FrameOrderError(
                code: .preconditionFailed,
                explanation: "message size \(header.bodySize) is larger than configured max size \(maxBodySize)")
        }
        if header.bodySize == 0 {
            state = .idle
            return .complete(publish, header, ByteBuffer())
        }
        state = .awaitingBody(publish, header, nil)
        return .incomplete
    }

    mutating func body(_ fragment: ByteBuffer) throws(FrameOrderError) -> Outcome {
        guard case .awaitingBody(let publish, let header, let gathered) = state else {
            throw FrameOrderError(
                code: .unexpectedFrame, explanation: "expected method frame, got non method frame instead")
        }
        let soFar = gathered?.readableBytes ?? 0
        let total = UInt64(soFar + fragment.readableBytes)
        guard total <= header.bodySize else {
            state = .idle
            throw FrameOrderError(
                code: .frameError,
                explanation: "body size exceeds the \(header.bodySize) bytes announced in the content header")
        }
        let body: ByteBuffer
        if var gathered {
            state = .idle  // drop the reference so the write below does not copy on write
            gathered.writeImmutableBuffer(fragment)
            body = gathered
        } else if total < header.bodySize {
            var first = ByteBuffer()
            first.reserveCapacity(Int(min(header.bodySize, 1 << 20)))
            first.writeImmutableBuffer(fragment)
            body = first
        } else {
            body = fragment
        }
        if total == header.bodySize {
            state = .idle
            return .complete(publish, header, body)
        }
        state = .awaitingBody(publish, header, body)
        return .incomplete
    }
}
