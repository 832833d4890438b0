import AMQPWire
import NIOCore
import NIOSSL
import NIOTLS
import WarrenCore

/// The thin NIO layer of a client connection: feeds decoded frames to ``AMQPConnection``,
/// writes what it buffers, runs the heartbeat and handshake timers, and reports the socket's
/// writability so slow readers stop receiving deliveries instead of growing memory.
final class AMQPConnectionHandler: ChannelInboundHandler, ConnectionTransport {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let broker: Broker
    private let frameLimit: MaxFrameSizeBox
    private var reader: ServerFrameReader
    private var inputBroken = false
    private var context: ChannelHandlerContext?
    private var connection: AMQPConnection?
    private var heartbeatTask: Scheduled<Void>?
    private var heartbeatInterval = TimeAmount.zero
    private var handshakeTimeout: Scheduled<Void>?
    private var readSinceLastTick = true
    private var wroteSinceLastTick = true
    private var missedTicks = 0
    private var isReadingPaused = false
    /// Served under `connection_max` (not waiting for a slot).
    private var hasSlot = false
    /// On a TLS listener: how a client certificate names its user (for EXTERNAL).
    private let certificateLogin: TLSSettings.CertificateLogin?

    init(broker: Broker, frameLimit: MaxFrameSizeBox, certificateLogin: TLSSettings.CertificateLogin? = nil) {
        self.broker = broker
        self.frameLimit = frameLimit
        self.reader = ServerFrameReader(limit: frameLimit)
        self.certificateLogin = certificateLogin
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        let admitted = broker.connectionSlots.acquire(ObjectIdentifier(self)) { [weak self] in
            self?.slotFreed()
        }
        if admitted {
            hasSlot = true
            start(context: context)
        } else {
            // Over connection_max the socket stays unread until a slot frees (as RabbitMQ does).
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        }
        context.fireChannelActive()
    }

    /// A socket that waited under `connection_max` is served now, as if it had just connected.
    private func slotFreed() {
        guard let context else { return }
        hasSlot = true
        context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
        context.read()
        start(context: context)
    }

    private func start(context: ChannelHandlerContext) {
        let remote = context.remoteAddress
        // RabbitMQ's loopback test looks at our end of the socket: a client reaching us on a
        // loopback address is local, whatever address it came from.
        connection = broker.makeConnection(
            transport: self, remoteDescription: remote?.description ?? "unknown",
            isLoopbackPeer: Endpoints.isLoopback(context.localAddress), isTLS: certificateLogin != nil,
            endpoints: Endpoints(peer: remote, local: context.localAddress))
        let timeout = broker.settings.handshakeTimeout
        handshakeTimeout = context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(timeout * 1000))) {
            [weak self] in
            guard let self, let connection = self.connection, !connection.handshake.isOpen else { return }
            connection.logger.info("closing connection: handshake not completed within \(timeout) s")
            self.close()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        readSinceLastTick = true
        broker.refreshClock()
        // After a framing error the byte stream cannot be re-synchronised: ignore the rest.
        guard !inputBroken else { return }
        let bytes = unwrapInboundIn(data)
        connection?.receivedBytes &+= UInt64(bytes.readableBytes)
        do {
            try reader.process(bytes) { unit in
                self.received(unit)
            }
        } catch let error as AMQPWireError {
            inputBroken = true
            connection?.receivedMalformedFrame(error)
            broker.flushPending()
        } catch {
            context.close(promise: nil)
        }
    }

    private func received(_ unit: InboundUnit) {
        guard let connection else { return }
        switch unit {
        case .protocolHeader(let bytes):
            connection.receivedProtocolHeader(bytes)
        case .frame(let frame):
            connection.receivedFrame(frame)
            if connection.handshake.isOpen, let handshakeTimeout {
                handshakeTimeout.cancel()
                self.handshakeTimeout = nil
            }
        }
    }

    /// The TLS handshake is done (so the certificate, if any, is verified) before the client
    /// can send the protocol header: the user it names is known before EXTERNAL is offered.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case NIOTLS.TLSUserEvent.handshakeCompleted = event, let certificateLogin,
            let certificate = try? context.pipeline.syncOperations.nioSSL_peerCertificate()
        {
            connection?.handshake.certificateUser = certificateLogin.userName(of: certificate)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        broker.flushPending()
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            connection?.becameWritable()
            broker.flushPending()
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        broker.connectionSlots.release(ObjectIdentifier(self), started: hasSlot)
        hasSlot = false
        heartbeatTask?.cancel()
        handshakeTimeout?.cancel()
        connection?.tearDown()
        connection = nil
        broker.flushPending()
        self.context = nil
        context.fireChannelInactive()
    }

    // MARK: ConnectionTransport

    func write(_ bytes: ByteBuffer) {
        guard let context else { return }
        wroteSinceLastTick = true
        context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
    }

    func writeAndClose(_ bytes: ByteBuffer) {
        guard let context else { return }
        context.writeAndFlush(wrapOutboundOut(bytes)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    func close() {
        context?.close(promise: nil)
    }

    func closeAfter(seconds: Double) {
        guard let context else { return }
        context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(seconds * 1000))) { [weak self] in
            self?.context?.close(promise: nil)
        }
    }

    var isWritable: Bool { context?.channel.isWritable ?? false }

    func setMaxFrameSize(_ size: UInt32) {
        frameLimit.value = size
    }

    func setReading(_ reading: Bool) {
        isReadingPaused = !reading
        context?.channel.setOption(ChannelOptions.autoRead, value: reading).whenComplete { _ in }
    }

    /// Sends a heartbeat when we have been silent for half an interval, and closes the
    /// connection after two intervals without hearing from the peer (RabbitMQ's rule).
    func startHeartbeats(seconds: UInt16) {
        guard seconds > 0, let context else { return }
        heartbeatInterval = .milliseconds(Int64(seconds) * 500)
        scheduleHeartbeatTick(context: context)
    }

    private func scheduleHeartbeatTick(context: ChannelHandlerContext) {
        heartbeatTask = context.eventLoop.assumeIsolated().scheduleTask(in: heartbeatInterval) { [weak self] in
            self?.heartbeatTick()
        }
    }

    private func heartbeatTick() {
        guard let context else { return }
        if readSinceLastTick || isReadingPaused {
            missedTicks = 0
        } else {
            missedTicks += 1
        }
        readSinceLastTick = false
        if missedTicks >= 4 {
            connection?.logger.info("closing connection: missed heartbeats from client, timeout: 2 intervals")
            context.close(promise: nil)
            return
        }
        if !wroteSinceLastTick {
            var frame = context.channel.allocator.buffer(capacity: 8)
            frame.writeHeartbeatFrame()
            context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
        }
        wroteSinceLastTick = false
        scheduleHeartbeatTick(context: context)
    }
}
