import AMQPWire
import Logging
import NIOCore
import Testing
import WarrenCore

@testable import WarrenServer

/// Plays the client side of one ``AMQPConnection`` over a ``FakeTransport``: frames go in as
/// one read cycle each, and what the broker wrote comes back decoded with the frame decoder.
final class TestClient {
    let broker: Broker
    let transport = FakeTransport()
    let connection: AMQPConnection

    static let clientProperties: FieldTable = [
        "product": .string("warren-tests"),
        "capabilities": .table([
            "publisher_confirms": .bool(true),
            "consumer_cancel_notify": .bool(true),
            "basic.nack": .bool(true),
            "authentication_failure_close": .bool(true),
        ]),
    ]

    init(broker: Broker = TestClient.makeBroker(), loopback: Bool = true) {
        self.broker = broker
        connection = broker.makeConnection(
            transport: transport, remoteDescription: "test", isLoopbackPeer: loopback)
    }

    static func makeBroker(settings: BrokerSettings = BrokerSettings()) -> Broker {
        let broker = Broker(
            settings: settings, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        broker.seedDefaultVirtualHost()
        broker.seedDefaultUserIfNone()
        return broker
    }

    var vhost: VirtualHost { broker.vhosts["/"]! }

    /// Feeds frames as one read cycle, flushes as the NIO handler does, and returns the
    /// frames the broker wrote in response.
    @discardableResult
    func send(_ frames: [Frame]) throws -> [Frame] {
        for frame in frames {
            connection.receivedFrame(frame)
        }
        broker.flushPending()
        return try received()
    }

    @discardableResult
    func send(_ method: AMQPMethod, channel: UInt16 = 1) throws -> [Frame] {
        try send([.method(channel: channel, method)])
    }

    /// Decodes everything written since the last call.
    func received(maxFrameSize: UInt32 = 1 << 20) throws -> [Frame] {
        var bytes = transport.takeWritten()
        var frames: [Frame] = []
        while let frame = try FrameDecoder.decodeFrame(from: &bytes, maxFrameSize: maxFrameSize) {
            frames.append(frame)
        }
        #expect(bytes.readableBytes == 0, "a partial frame was written")
        return frames
    }

    /// Protocol header, start-ok, tune-ok and open, checking each answer.
    func handshake(frameMax: UInt32 = 131_072, clientProperties: FieldTable = TestClient.clientProperties) throws {
        connection.receivedProtocolHeader(ProtocolHeader.amqp0091)
        broker.flushPending()
        let start = try received()
        #expect(start.count == 1)
        guard case .method(0, .connectionStart)? = start.first else {
            Issue.record("expected connection.start, got \(start)")
            return
        }
        let tune = try send(
            .connectionStartOk(
                Spec.Connection.StartOk(
                    clientProperties: clientProperties, mechanism: "PLAIN", response: plainResponse("guest", "guest"),
                    locale: "en_US")),
            channel: 0)
        #expect(
            tune == [
                .method(
                    channel: 0,
                    .connectionTune(Spec.Connection.Tune(channelMax: 2047, frameMax: 131_072, heartbeat: 60)))
            ])
        let tuned = try send(
            .connectionTuneOk(Spec.Connection.TuneOk(channelMax: 2047, frameMax: frameMax, heartbeat: 60)), channel: 0)
        #expect(tuned.isEmpty)
        let opened = try send(.connectionOpen(Spec.Connection.Open(virtualHost: "/")), channel: 0)
        #expect(opened == [.method(channel: 0, .connectionOpenOk(.init()))])
    }

    func openChannel(_ number: UInt16 = 1) throws {
        #expect(try send(.channelOpen(.init()), channel: number) == [.method(channel: number, .channelOpenOk(.init()))])
    }

    func declareQueue(_ name: String, channel: UInt16 = 1, exclusive: Bool = false) throws {
        let frames = try send(.queueDeclare(Spec.Queue.Declare(queue: name, exclusive: exclusive)), channel: channel)
        #expect(frames == [.method(channel: channel, .queueDeclareOk(.init(queue: name)))])
    }

    /// The three frames of a publish.
    static func publishFrames(
        channel: UInt16 = 1, exchange: String = "", routingKey: String, body: String, mandatory: Bool = false,
        properties: BasicProperties = BasicProperties()
    ) throws -> [Frame] {
        let bodyBuffer = ByteBuffer(string: body)
        let header = try ContentHeader(bodySize: UInt64(bodyBuffer.readableBytes), properties: properties)
        var frames: [Frame] = [
            .method(
                channel: channel,
                .basicPublish(Spec.Basic.Publish(exchange: exchange, routingKey: routingKey, mandatory: mandatory))),
            .header(channel: channel, header),
        ]
        if bodyBuffer.readableBytes > 0 {
            frames.append(.body(channel: channel, bodyBuffer))
        }
        return frames
    }

    @discardableResult
    func publish(channel: UInt16 = 1, exchange: String = "", routingKey: String, body: String, mandatory: Bool = false)
        throws -> [Frame]
    {
        try send(
            Self.publishFrames(
                channel: channel, exchange: exchange, routingKey: routingKey, body: body, mandatory: mandatory))
    }
}

/// The expected header frame for a body published by ``TestClient/publishFrames``.
func contentHeaderFrame(channel: UInt16 = 1, body: String) throws -> Frame {
    .header(channel: channel, try ContentHeader(bodySize: UInt64(body.utf8.count), properties: BasicProperties()))
}

/// The bodies carried by a list of frames, in order.
func bodies(_ frames: [Frame]) -> [String] {
    frames.compactMap { frame in
        if case .body(_, let body) = frame { return String(buffer: body) }
        return nil
    }
}

/// The methods in a list of frames, in order.
func methods(_ frames: [Frame]) -> [AMQPMethod] {
    frames.compactMap { frame in
        if case .method(_, let method) = frame { return method }
        return nil
    }
}
