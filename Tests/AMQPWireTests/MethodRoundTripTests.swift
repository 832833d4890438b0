import AMQPWire
import NIOCore
import Testing

/// Every generated method survives encode/decode, alone and inside a method frame.
@Suite("Method round trips")
struct MethodRoundTripTests {
    @Test("every method round-trips through its payload", arguments: allMethodSamples)
    func payloadRoundTrip(_ method: AMQPMethod) throws {
        var payload = try encodedPayload(method)
        let decoded = try AMQPMethod.decode(from: &payload)
        #expect(decoded == method)
        #expect(payload.readableBytes == 0)
    }

    @Test("every method round-trips through a method frame", arguments: allMethodSamples)
    func frameRoundTrip(_ method: AMQPMethod) throws {
        var buffer = ByteBuffer()
        try buffer.writeMethodFrame(channel: 7, method)
        let frames = try decodeAllFrames(buffer)
        #expect(frames == [.method(channel: 7, method)])
    }

    @Test("every method with default arguments round-trips", arguments: allMethodDefaults)
    func defaultsRoundTrip(_ method: AMQPMethod) throws {
        var payload = try encodedPayload(method)
        #expect(try AMQPMethod.decode(from: &payload) == method)
    }

    @Test("samples differ from defaults wherever a method has arguments")
    func samplesAreNotDefaults() throws {
        for (sample, defaults) in zip(allMethodSamples, allMethodDefaults) {
            let argumentBytes = try encodedPayload(defaults).readableBytes - 4
            #expect((sample == defaults) == (argumentBytes == 0), "\(sample.name)")
        }
    }

    @Test("ids and names agree with the spec table")
    func identities() throws {
        #expect(allMethodSamples.count == allMethodIdentities.count)
        for (method, identity) in zip(allMethodSamples, allMethodIdentities) {
            #expect(method.classID == identity.classID)
            #expect(method.methodID == identity.methodID)
            #expect(method.name == identity.name)
            let payload = try encodedPayload(method)
            #expect(payload.getInteger(at: 0, as: UInt16.self) == identity.classID)
            #expect(payload.getInteger(at: 2, as: UInt16.self) == identity.methodID)
        }
        let pairs = allMethodIdentities.map { "\($0.classID).\($0.methodID)" }
        #expect(Set(pairs).count == pairs.count, "class/method ids must be unique")
    }

    @Test("the method set is the RabbitMQ 0-9-1 method set")
    func methodSet() {
        let names = Set(allMethodIdentities.map(\.name))
        // 0-9-1 plus RabbitMQ's extensions (confirm, exchange-to-exchange bindings, basic.nack,
        // connection.blocked/unblocked/update-secret, and the legacy access class).
        #expect(names.count == 66)
        for name in [
            "connection.start", "connection.update-secret-ok", "connection.blocked",
            "connection.unblocked", "access.request", "access.request-ok", "exchange.bind",
            "exchange.unbind-ok", "basic.nack", "basic.recover-async", "confirm.select",
            "confirm.select-ok", "tx.rollback-ok",
        ] {
            #expect(names.contains(name), "missing \(name)")
        }
    }

    @Test("exactly publish, return, deliver and get-ok carry content")
    func content() {
        let withContent = Set(allMethodSamples.filter(\.hasContent).map(\.name))
        #expect(withContent == ["basic.publish", "basic.return", "basic.deliver", "basic.get-ok"])
    }

    @Test("the static ids on each struct match the enum")
    func staticIDs() {
        #expect(Spec.Connection.Start.classID == 10)
        #expect(Spec.Connection.Start.methodID == 10)
        #expect(Spec.Basic.Publish.classID == 60)
        #expect(Spec.Basic.Publish.methodID == 40)
        #expect(Spec.Exchange.UnbindOk.methodID == 51)
        #expect(Spec.Confirm.Select.classID == 85)
        #expect(Spec.Tx.RollbackOk.classID == 90)
        #expect(Spec.Tx.RollbackOk.methodID == 31)
    }

    @Test("each bit of a packed octet maps to its own field")
    func bitPacking() throws {
        // queue.declare: passive, durable, exclusive, auto-delete, no-wait share one octet,
        // least significant bit first.
        let cases: [(Spec.Queue.Declare, UInt8)] = [
            (Spec.Queue.Declare(passive: true), 0b0000_0001),
            (Spec.Queue.Declare(durable: true), 0b0000_0010),
            (Spec.Queue.Declare(exclusive: true), 0b0000_0100),
            (Spec.Queue.Declare(autoDelete: true), 0b0000_1000),
            (Spec.Queue.Declare(noWait: true), 0b0001_0000),
            (
                Spec.Queue.Declare(passive: true, durable: true, exclusive: true, autoDelete: true, noWait: true),
                0b0001_1111
            ),
        ]
        for (declare, octet) in cases {
            var buffer = ByteBuffer()
            try declare.encode(into: &buffer)
            // reserved-1 (2) + empty queue name (1), then the bits.
            #expect(buffer.getInteger(at: 3, as: UInt8.self) == octet)
            #expect(try Spec.Queue.Declare.decode(from: &buffer) == declare)
        }
    }

    @Test("bits separated by other fields use separate octets")
    func bitsSplitByFields() throws {
        // basic.deliver: consumer-tag, delivery-tag, redelivered (bit), exchange, routing-key.
        // basic.get-ok: delivery-tag, redelivered, exchange, routing-key, message-count.
        let deliver = Spec.Basic.Deliver(
            consumerTag: "c", deliveryTag: 1, redelivered: true, exchange: "", routingKey: "r")
        var buffer = ByteBuffer()
        try deliver.encode(into: &buffer)
        #expect(bytes(of: buffer) == [1, 0x63, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 0x72])
    }
}
