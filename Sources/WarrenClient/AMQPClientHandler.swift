import AMQPWire
import NIOCore
import NIOSSL

/// A minimal, fast AMQP 0-9-1 client connection for load generation and tests: it performs the
/// handshake (PLAIN), opens channel 1, sends its setup methods one at a time waiting for each
/// reply, then hands the connection to a ``ClientRole``.
public final class AMQPClientHandler: ChannelInboundHandler {
    public typealias InboundIn = Frame
    public typealias OutboundOut = ByteBuffer

    public struct Options: Sendable {
        public var username = "guest"
        public var password = "guest"
        public var virtualHost = "/"
        public var frameMax: UInt32 = 131_072
        /// Set for `amqps`: the connection speaks TLS with this context.
        public var tls: NIOSSLContext?

        public init() {}
    }

    /// Why the handshake or setup failed.
    public struct ClientError: Error, CustomStringConvertible {
        public var description: String
    }

    private enum State {
        case handshaking, openingChannel, setup, running, closed
    }

    private let options: Options
    private var setup: [AMQPMethod]
    private let role: any ClientRole
    private let ready: EventLoopPromise<Void>
    private var state = State.handshaking
    private var writer: ClientWriter?
    private var frameMax: UInt32

    public init(options: Options, setup: [AMQPMethod], role: any ClientRole, ready: EventLoopPromise<Void>) {
        self.options = options
        self.setup = setup
        self.role = role
        self.ready = ready
        self.frameMax = options.frameMax
    }

    /// Added after connect, so the socket is usually already active here.
    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { sendProtocolHeader(context: context) }
    }

    public func channelActive(context: ChannelHandlerContext) {
        sendProtocolHeader(context: context)
    }

    private var sentProtocolHeader = false

    private func sendProtocolHeader(context: ChannelHandlerContext) {
        guard !sentProtocolHeader else { return }
        sentProtocolHeader = true
        var header = context.channel.allocator.buffer(capacity: 8)
        header.writeBytes(ProtocolHeader.amqp0091)
        context.writeAndFlush(wrapOutboundOut(header), promise: nil)
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch state {
        case .running:
            if let writer { role.received(frame, writer) }
        case .closed:
            break
        default:
            handshake(frame, context: context)
        }
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        if state == .running, let writer {
            role.readCycleEnded(writer)
            writer.flush()
        }
    }

    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        if state == .running, let writer {
            role.writabilityChanged(writer)
        }
    }

    public func channelInactive(context: ChannelHandlerContext) {
        if state != .running {
            ready.fail(ClientError(description: "connection closed during handshake"))
        }
        state = .closed
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if state != .running {
            ready.fail(error)
        }
        state = .closed
        context.close(promise: nil)
    }

    private func send(_ method: AMQPMethod, channel: UInt16, context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 256)
        try? buffer.writeMethodFrame(channel: channel, method)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    private func handshake(_ frame: Frame, context: ChannelHandlerContext) {
        guard case .method(_, let method) = frame else { return }
        switch method {
        case .connectionStart:
            var response = ByteBuffer()
            response.writeBytes([0])
            response.writeString(options.username)
            response.writeBytes([0])
            response.writeString(options.password)
            let properties: FieldTable = [
                "product": .string("warren-perf"),
                "capabilities": .table([
                    "publisher_confirms": .bool(true), "consumer_cancel_notify": .bool(true),
                    "basic.nack": .bool(true), "authentication_failure_close": .bool(true),
                ]),
            ]
            send(
                .connectionStartOk(
                    .init(clientProperties: properties, mechanism: "PLAIN", response: response, locale: "en_US")),
                channel: 0, context: context)
        case .connectionTune(let tune):
            frameMax = tune.frameMax == 0 ? options.frameMax : min(tune.frameMax, options.frameMax)
            send(
                .connectionTuneOk(.init(channelMax: tune.channelMax, frameMax: frameMax, heartbeat: 0)), channel: 0,
                context: context)
            send(.connectionOpen(.init(virtualHost: options.virtualHost)), channel: 0, context: context)
        case .connectionOpenOk:
            state = .openingChannel
            send(.channelOpen(.init()), channel: 1, context: context)
        case .channelOpenOk:
            state = .setup
            nextSetupStep(context: context)
        case .connectionClose(let close):
            fail("connection closed by broker: \(close.replyCode) \(close.replyText)", context: context)
        case .channelClose(let close):
            fail("channel closed by broker: \(close.replyCode) \(close.replyText)", context: context)
        default:
            if state == .setup { nextSetupStep(context: context) }
        }
    }

    private func fail(_ reason: String, context: ChannelHandlerContext) {
        state = .closed
        ready.fail(ClientError(description: reason))
        context.close(promise: nil)
    }

    private func nextSetupStep(context: ChannelHandlerContext) {
        guard !setup.isEmpty else {
            state = .running
            let writer = ClientWriter(context: context, frameMax: frameMax)
            self.writer = writer
            ready.succeed()
            role.started(writer)
            writer.flush()
            return
        }
        send(setup.removeFirst(), channel: 1, context: context)
    }
}
