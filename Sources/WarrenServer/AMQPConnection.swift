import AMQPWire
import Logging
import NIOCore
import WarrenCore

/// One client connection: the handshake, its channels, and the outbound buffer that every
/// frame for this client is encoded into until the next flush.
///
/// Lives on the broker's event loop like everything it touches; frames arrive from the NIO
/// handler, bytes leave through the ``ConnectionTransport``.
final class AMQPConnection {
    let id: ConnectionID
    unowned let broker: Broker
    weak var transport: (any ConnectionTransport)?
    let remoteDescription: String
    /// Where the client is and which of our addresses it reached, for the management API.
    let endpoints: Endpoints
    /// Wall-clock milliseconds since 1970 when the socket was accepted (RabbitMQ's `connected_at`).
    let connectedAt: UInt64
    let isTLS: Bool
    /// Bytes read from and written to the socket (RabbitMQ's `recv_oct` and `send_oct`).
    var receivedBytes: UInt64 = 0
    private(set) var sentBytes: UInt64 = 0
    var handshake: ConnectionHandshake
    private(set) var channels: [UInt16: AMQPChannel] = [:]
    private var vhostStorage: VirtualHost?
    private var outbound: ByteBuffer
    private(set) var needsFlush = false
    private var isTornDown = false
    /// Stopped reading because it published during a resource alarm.
    private(set) var isBlocked = false
    /// Whether the client was told (`connection.blocked`), and so must hear `unblocked`.
    private var toldBlocked = false
    /// Carries the connection's name, and once it is open its user and vhost, on every line.
    private(set) var logger: Logger

    init(
        id: ConnectionID, broker: Broker, transport: any ConnectionTransport, remoteDescription: String,
        isLoopbackPeer: Bool, isTLS: Bool, endpoints: Endpoints
    ) {
        self.id = id
        self.endpoints = endpoints
        self.isTLS = isTLS
        self.connectedAt = WallClock.milliseconds()
        self.broker = broker
        self.transport = transport
        self.remoteDescription = remoteDescription
        self.handshake = ConnectionHandshake(
            settings: broker.settings, isLoopbackPeer: isLoopbackPeer, gate: broker, isTLS: isTLS)
        self.outbound = ByteBufferAllocator().buffer(capacity: 4096)
        var logger = broker.logger
        // RabbitMQ's connection name (`peer -> us`), as the management API lists it.
        logger[metadataKey: "connection"] =
            endpoints.port == 0
            ? "\(remoteDescription)"
            : "\(endpoints.connectionName)"
        self.logger = logger
    }

    /// The connection's name in the management API, as RabbitMQ forms it:
    /// `127.0.0.1:52345 -> 127.0.0.1:5672`.
    var name: String { endpoints.connectionName }

    /// The connection's virtual host once it is open; nil before.
    var openedVirtualHost: VirtualHost? { vhostStorage }

    /// The connection's virtual host; only read once the connection is open.
    var vhost: VirtualHost {
        guard let vhostStorage else { preconditionFailure("channel used before connection.open") }
        return vhostStorage
    }

    var isWritable: Bool { transport?.isWritable ?? false }

    /// What the user may do in the connection's vhost; only read once the connection is open.
    var access: ResourceAccess {
        guard let access = handshake.access else { preconditionFailure("channel used before connection.open") }
        return access
    }

    /// The authenticated user ("" before login).
    var user: String {
        switch handshake.state {
        case .awaitingTuneOk(let user), .awaitingOpen(let user), .open(let user, _): user
        default: ""
        }
    }

    func clientHasCapability(_ name: String) -> Bool {
        handshake.clientHasCapability(name)
    }

    // MARK: Inbound

    func receivedProtocolHeader(_ bytes: [UInt8]) {
        perform(handshake.receivedProtocolHeader(bytes))
    }

    func receivedFrame(_ frame: Frame) {
        switch frame {
        case .heartbeat:
            return
        case .method(0, let method):
            let action = handshake.receivedMethod(method)
            if let reason = handshake.takeCloseReason() { logger.warning("handshake failed: \(reason)") }
            perform(action)
        case .method(let number, let method):
            guard handshake.isOpen else {
                if handshake.state == .closing { return }
                return hardError(.channelError, "channel \(number) used before connection.open", method: method)
            }
            channelMethod(number, method)
        case .header(let number, let header):
            guard handshake.isOpen else { return }
            guard let channel = openChannel(number, method: nil) else { return }
            if channel.isClosing { return }
            withChannelErrors(channel, method: .basicPublish(.init())) {
                if case .complete(let publish, let header, let body) = try channel.assembler.header(header) {
                    try channel.publish(publish, header: header, body: body)
                    if !broker.alarms.isEmpty { blockPublishing() }
                }
            }
        case .body(let number, let body):
            guard handshake.isOpen else { return }
            guard let channel = openChannel(number, method: nil) else { return }
            if channel.isClosing { return }
            withChannelErrors(channel, method: .basicPublish(.init())) {
                if case .complete(let publish, let header, let body) = try channel.assembler.body(body) {
                    try channel.publish(publish, header: header, body: body)
                    if !broker.alarms.isEmpty { blockPublishing() }
                }
            }
        }
    }

    private func channelMethod(_ number: UInt16, _ method: AMQPMethod) {
        switch method {
        case .channelOpen:
            guard channels[number] == nil else {
                return hardError(.channelError, "second 'channel.open' seen", method: method)
            }
            // RabbitMQ limits how many channels are open, not which numbers they use.
            guard channels.count < Int(handshake.tuning.channelMax) else {
                return hardError(
                    .notAllowed,
                    "number of channels opened (\(channels.count)) has reached the negotiated channel_max (\(handshake.tuning.channelMax))",
                    method: nil)
            }
            channels[number] = AMQPChannel(
                number: number, connection: self, maxBodySize: broker.settings.maxMessageSize)
            send(.channelOpenOk(.init()), channel: number)
        case .channelClose:
            if let channel = channels.removeValue(forKey: number) {
                if channel.mode == .confirm { channel.flushConfirms() }
                channel.release()
            }
            send(.channelCloseOk(.init()), channel: number)
        case .channelCloseOk:
            if let channel = channels[number], channel.isClosing {
                channels[number] = nil
            }
        default:
            guard let channel = openChannel(number, method: method) else { return }
            if channel.isClosing { return }
            if !channel.assembler.isIdle {
                // The error names the publish whose content was interrupted.
                withChannelErrors(channel, method: .basicPublish(.init())) {
                    try channel.assembler.checkMethodAllowed()
                }
                return
            }
            withChannelErrors(channel, method: method) { try channel.handle(method) }
        }
    }

    private func openChannel(_ number: UInt16, method: AMQPMethod?) -> AMQPChannel? {
        if let channel = channels[number] { return channel }
        hardError(.channelError, "expected 'channel.open'", method: method)
        return nil
    }

    /// Runs a channel operation, turning its failure into the channel or connection close
    /// RabbitMQ would send.
    private func withChannelErrors(_ channel: AMQPChannel, method: AMQPMethod, _ body: () throws -> Void) {
        do {
            try body()
        } catch let error as AMQPError {
            closeChannel(channel, code: error.code, explanation: error.explanation, method: method)
        } catch let error as ContentAssembler.FrameOrderError {
            closeChannel(channel, code: error.code, explanation: error.explanation, method: method)
        } catch {
            closeChannel(channel, code: .internalError, explanation: "\(error)", method: method)
        }
    }

    /// Closes a channel for an error in `method` (nil when no method caused it, as for a
    /// consumer timeout), or the whole connection if the error is a hard one.
    func closeChannel(_ channel: AMQPChannel, code: ReplyCode, explanation: String, method: AMQPMethod?) {
        if code.isHardError {
            hardError(code, explanation, method: method)
            return
        }
        var channelLogger = logger
        channelLogger[metadataKey: "channel"] = "\(channel.number)"
        channelLogger.info("closing channel: \(code.rawValue) \(code.name) - \(explanation)")
        // Publishes confirmed earlier in this read cycle are acked before the close.
        if channel.mode == .confirm { channel.flushConfirms() }
        channel.release()
        send(
            .channelClose(
                Spec.Channel.Close(
                    replyCode: code.rawValue, replyText: code.replyText(explanation), classID: method?.classID ?? 0,
                    methodID: method?.methodID ?? 0)),
            channel: channel.number)
    }

    /// Closes the whole connection with a hard error.
    func hardError(_ code: ReplyCode, _ explanation: String, method: AMQPMethod?) {
        logger.info("closing connection: \(code.rawValue) \(code.name) - \(explanation)")
        releaseChannels()
        perform(handshake.close(code, explanation, method: method))
        transport?.closeAfter(seconds: Self.closeOkTimeout)
    }

    /// How long a client has to answer a server-sent `connection.close`.
    static let closeOkTimeout = 3.0

    /// A frame that could not be decoded: RabbitMQ closes the connection with a frame or syntax error.
    func receivedMalformedFrame(_ error: AMQPWireError) {
        switch error {
        case .unknownMethod(let classID, let methodID):
            hardError(.commandInvalid, "unknown method \(classID).\(methodID)", method: nil)
        case .truncated, .unknownFieldType, .invalidUTF8, .trailingBytes, .invalidPropertyFlags, .shortStringTooLong:
            hardError(.syntaxError, "malformed frame: \(error)", method: nil)
        case .frameTooLarge(let type, let size, let frameMax):
            // RabbitMQ's wording, with its limit on the payload (frame_max less the framing).
            hardError(
                .frameError,
                "type \(type), all octets = <<>>: {frame_too_large,\(size),\(frameMax > 8 ? frameMax - 8 : 0)}",
                method: nil)
        case .badFrameEnd, .unknownFrameType:
            hardError(.frameError, "\(error)", method: nil)
        }
        flush()
        // The stream cannot be re-synchronised after a framing error: stop reading.
        transport?.writeAndClose(ByteBuffer())
    }

    /// Closes the connection on broker shutdown, as RabbitMQ does.
    func forceClose(reason: String) {
        releaseChannels()
        perform(handshake.close(code: .connectionForced, replyText: "CONNECTION_FORCED - \(reason)"))
        flush()
        transport?.closeAfter(seconds: Self.closeOkTimeout)
    }

    // MARK: Outbound

    func send(_ method: AMQPMethod, channel: UInt16) {
        do {
            try outbound.writeMethodFrame(channel: channel, method)
        } catch {
            logger.error("could not encode \(method.name): \(error)")
        }
        markNeedsFlush()
    }

    /// Writes a content-bearing method with the message's header and body frames.
    func sendContent(channel: UInt16, _ method: AMQPMethod, _ message: Message) {
        send(method, channel: channel)
        outbound.writeHeaderFrame(channel: channel, message.header)
        outbound.writeBodyFrames(channel: channel, message.body, maxFrameSize: handshake.tuning.frameMax)
        // A consumer draining a backlog would otherwise have the whole backlog encoded before
        // the first write. Handing the socket a chunk now lets writability (the channel's
        // high-water mark) stop the dispatch loop until the client has read it.
        if outbound.readableBytes >= Self.eagerFlushBytes { flush() }
    }

    /// Outbound bytes that are written at once instead of at the end of the read cycle.
    static let eagerFlushBytes = 128 * 1024

    func markNeedsFlush() {
        if !needsFlush {
            needsFlush = true
            broker.needsFlush(self)
        }
    }

    /// Adds pending confirms, then hands the buffered frames to the socket in one write.
    func flush() {
        needsFlush = false
        for channel in channels.values where channel.mode == .confirm {
            channel.flushConfirms()
        }
        guard outbound.readableBytes > 0, let transport else { return }
        let bytes = outbound
        sentBytes &+= UInt64(bytes.readableBytes)
        outbound = ByteBufferAllocator().buffer(capacity: max(4096, min(bytes.readableBytes, 1 << 20)))
        if handshake.state == .closed {
            transport.writeAndClose(bytes)
        } else {
            transport.write(bytes)
        }
    }

    private func perform(_ action: ConnectionHandshake.Action) {
        switch action {
        case .none:
            break
        case .send(let method):
            send(method, channel: 0)
        case .sendAndClose(let method):
            send(method, channel: 0)
            flush()
            transport?.writeAndClose(ByteBuffer())
        case .rejectProtocolHeader:
            var header = ByteBuffer()
            header.writeBytes(ProtocolHeader.amqp0091)
            transport?.writeAndClose(header)
        case .closeSocket:
            flush()
            transport?.close()
        case .startHeartbeats(let tuning):
            transport?.setMaxFrameSize(tuning.frameMax)
            transport?.startHeartbeats(seconds: tuning.heartbeat)
        case .checkPassword(let username, let password):
            broker.checkPassword(username: username, password: password) { [weak self] outcome in
                guard let self, !self.isTornDown else { return }
                let action = self.handshake.passwordChecked(outcome)
                if let reason = self.handshake.takeCloseReason() { self.logger.warning("handshake failed: \(reason)") }
                self.perform(action)
                self.broker.flushPending()
            }
        case .opened(_, let vhostName, let user):
            logger[metadataKey: "user"] = "\(user)"
            logger[metadataKey: "vhost"] = "\(vhostName)"
            logger.info("connection opened: user '\(user)' authenticated and granted access to vhost '\(vhostName)'")
            vhostStorage = broker.vhosts[vhostName]
            broker.connectionOpened(self)
            send(.connectionOpenOk(.init()), channel: 0)
        }
    }

    private func releaseChannels() {
        let all = channels.values
        channels.removeAll()
        for channel in all {
            channel.release()
        }
    }

    /// The socket is gone: release channels (requeueing unacked messages) and delete the
    /// connection's exclusive queues.
    func tearDown() {
        guard !isTornDown else { return }
        isTornDown = true
        if vhostStorage != nil { logger.info("connection closed") }
        releaseChannels()
        vhostStorage?.connectionClosed(id)
        broker.connectionClosed(self, vhost: vhostStorage)
    }

    func checkConsumerTimeouts(now: UInt64) {
        for channel in channels.values where !channel.isClosing {
            channel.checkConsumerTimeout(now: now)
        }
    }

    /// A publish completed during a resource alarm: stop reading from this client until the
    /// alarms clear, and tell it why if it understands `connection.blocked`. What was already
    /// read is still processed, as in RabbitMQ.
    func blockPublishing() {
        guard !isBlocked else { return }
        isBlocked = true
        if clientHasCapability("connection.blocked") {
            toldBlocked = true
            send(.connectionBlocked(Spec.Connection.Blocked(reason: broker.alarms.blockedReason)), channel: 0)
        }
        transport?.setReading(false)
    }

    func unblockPublishing() {
        guard isBlocked else { return }
        isBlocked = false
        if toldBlocked {
            toldBlocked = false
            send(.connectionUnblocked(.init()), channel: 0)
        }
        transport?.setReading(true)
    }

    /// The socket became writable again: consumers that were skipped may receive.
    func becameWritable() {
        for channel in channels.values {
            channel.dispatchConsumedQueues()
        }
    }
}
