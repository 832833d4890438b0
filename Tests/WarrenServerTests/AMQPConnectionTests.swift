import AMQPWire
import NIOCore
import Testing
import WarrenCore

@testable import WarrenServer

/// A whole connection, from protocol header to close, through a fake transport: the frames
/// the broker writes are decoded with the same frame decoder clients' bytes go through.
@Suite("AMQP connection end to end")
struct AMQPConnectionTests {
    func channelClose(_ code: UInt16, _ text: String, _ classID: UInt16, _ methodID: UInt16, channel: UInt16 = 1)
        -> Frame
    {
        .method(
            channel: channel,
            .channelClose(Spec.Channel.Close(replyCode: code, replyText: text, classID: classID, methodID: methodID)))
    }

    func deliver(_ tag: String, _ deliveryTag: UInt64, redelivered: Bool = false, routingKey: String = "q")
        -> AMQPMethod
    {
        .basicDeliver(
            Spec.Basic.Deliver(
                consumerTag: tag, deliveryTag: deliveryTag, redelivered: redelivered, exchange: "",
                routingKey: routingKey))
    }

    func openClient() throws -> TestClient {
        let client = TestClient()
        try client.handshake()
        try client.openChannel()
        try client.declareQueue("q")
        return client
    }

    @Test("handshake applies the negotiated frame_max and heartbeat to the transport")
    func handshake() throws {
        let client = TestClient()
        try client.handshake(frameMax: 8192)
        #expect(client.transport.maxFrameSize == 8192)
        #expect(client.transport.heartbeatSeconds == 60)
        #expect(client.connection.handshake.isOpen)
        #expect(!client.transport.isClosed)
    }

    @Test("a bad protocol header gets ours back and the socket closed")
    func badProtocolHeader() {
        let client = TestClient()
        client.connection.receivedProtocolHeader(Array("AMQP".utf8) + [0, 0, 9, 0])
        client.broker.flushPending()
        #expect(Array(client.transport.written.readableBytesView) == ProtocolHeader.amqp0091)
        #expect(client.transport.isClosed)
    }

    @Test("publish, basic.get and ack")
    func publishGetAck() throws {
        let client = try openClient()
        let queue = try client.vhost.queue(named: "q")

        #expect(try client.publish(routingKey: "q", body: "hello").isEmpty)
        #expect(queue.messageCount == 1)

        let got = try client.send(.basicGet(Spec.Basic.Get(queue: "q")))
        #expect(
            got == [
                .method(
                    channel: 1,
                    .basicGetOk(
                        Spec.Basic.GetOk(
                            deliveryTag: 1, redelivered: false, exchange: "", routingKey: "q", messageCount: 0))),
                try contentHeaderFrame(body: "hello"),
                .body(channel: 1, ByteBuffer(string: "hello")),
            ])
        #expect(queue.messageCount == 0)
        #expect(queue.unackedCount == 1)

        #expect(try client.send(.basicAck(Spec.Basic.Ack(deliveryTag: 1))).isEmpty)
        #expect(queue.unackedCount == 0)
        #expect(
            try client.send(.basicGet(Spec.Basic.Get(queue: "q"))) == [.method(channel: 1, .basicGetEmpty(.init()))])
    }

    @Test("basic.get reports the messages left, and an empty body has no body frame")
    func getCountsAndEmptyBody() throws {
        let client = try openClient()
        try client.publish(routingKey: "q", body: "")
        try client.publish(routingKey: "q", body: "second")
        let got = try client.send(.basicGet(Spec.Basic.Get(queue: "q", noAck: true)))
        #expect(
            got == [
                .method(
                    channel: 1,
                    .basicGetOk(Spec.Basic.GetOk(deliveryTag: 1, exchange: "", routingKey: "q", messageCount: 1))),
                try contentHeaderFrame(body: ""),
            ])
        #expect(try client.vhost.queue(named: "q").unackedCount == 0)
    }

    @Test("an ack for an unknown delivery tag closes the channel with 406")
    func unknownDeliveryTag() throws {
        let client = try openClient()
        let frames = try client.send(.basicAck(Spec.Basic.Ack(deliveryTag: 42)))
        #expect(frames == [channelClose(406, "PRECONDITION_FAILED - unknown delivery tag 42", 60, 80)])

        // Until close-ok, the channel discards what the client sends.
        #expect(try client.send(.queueDeclare(Spec.Queue.Declare(queue: "r"))).isEmpty)
        #expect(client.vhost.queues["r"] == nil)
        #expect(try client.send(.channelCloseOk(.init())).isEmpty)
        // The connection survives, and the channel number can be reused.
        try client.openChannel()
        try client.declareQueue("r")
        #expect(!client.transport.isClosed)
    }

    @Test("a delivery tag acknowledged twice is unknown the second time")
    func doubleAck() throws {
        let client = try openClient()
        try client.publish(routingKey: "q", body: "m")
        try client.send(.basicGet(Spec.Basic.Get(queue: "q")))
        #expect(try client.send(.basicAck(Spec.Basic.Ack(deliveryTag: 1))).isEmpty)
        #expect(
            try client.send(.basicAck(Spec.Basic.Ack(deliveryTag: 1)))
                == [channelClose(406, "PRECONDITION_FAILED - unknown delivery tag 1", 60, 80)])
    }

    @Test("ack multiple settles everything up to the tag; tag 0 with multiple settles all")
    func ackMultiple() throws {
        let client = try openClient()
        let queue = try client.vhost.queue(named: "q")
        for body in ["1", "2", "3", "4"] {
            try client.publish(routingKey: "q", body: body)
        }
        for _ in 0..<4 {
            try client.send(.basicGet(Spec.Basic.Get(queue: "q")))
        }
        #expect(queue.unackedCount == 4)
        #expect(try client.send(.basicAck(Spec.Basic.Ack(deliveryTag: 2, multiple: true))).isEmpty)
        #expect(queue.unackedCount == 2)
        #expect(try client.send(.basicAck(Spec.Basic.Ack(deliveryTag: 0, multiple: true))).isEmpty)
        #expect(queue.unackedCount == 0)
    }

    @Test("basic.consume delivers what is waiting and what arrives later")
    func consumeAndDeliver() throws {
        let client = try openClient()
        try client.publish(routingKey: "q", body: "before")
        let consumed = try client.send(.basicConsume(Spec.Basic.Consume(queue: "q", consumerTag: "c1")))
        #expect(
            consumed == [
                .method(channel: 1, .basicConsumeOk(.init(consumerTag: "c1"))),
                .method(channel: 1, deliver("c1", 1)),
                try contentHeaderFrame(body: "before"),
                .body(channel: 1, ByteBuffer(string: "before")),
            ])
        let delivered = try client.publish(routingKey: "q", body: "after")
        #expect(
            delivered == [
                .method(channel: 1, deliver("c1", 2)),
                try contentHeaderFrame(body: "after"),
                .body(channel: 1, ByteBuffer(string: "after")),
            ])
    }

    @Test("an empty consumer tag gets a server-generated amq.ctag- tag")
    func generatedConsumerTag() throws {
        let client = try openClient()
        let frames = try client.send(.basicConsume(Spec.Basic.Consume(queue: "q")))
        guard case .method(1, .basicConsumeOk(let ok))? = frames.first else {
            Issue.record("expected consume-ok, got \(frames)")
            return
        }
        #expect(ok.consumerTag.hasPrefix("amq.ctag-"))
        #expect(ok.consumerTag.count == "amq.ctag-".count + 22)
    }

    @Test("basic.qos prefetch holds deliveries until acks make room")
    func prefetch() throws {
        let client = try openClient()
        #expect(
            try client.send(.basicQos(Spec.Basic.Qos(prefetchCount: 1)))
                == [.method(channel: 1, .basicQosOk(.init()))])
        try client.send(.basicConsume(Spec.Basic.Consume(queue: "q", consumerTag: "c")))
        let burst = try client.send(
            try ["1", "2", "3"].flatMap { try TestClient.publishFrames(routingKey: "q", body: $0) })
        #expect(methods(burst) == [deliver("c", 1)])
        #expect(bodies(burst) == ["1"])

        let next = try client.send(.basicAck(Spec.Basic.Ack(deliveryTag: 1)))
        #expect(methods(next) == [deliver("c", 2)])
        #expect(bodies(next) == ["2"])
    }

    @Test("nack with requeue redelivers, marked redelivered; reject without requeue drops")
    func nackAndReject() throws {
        let client = try openClient()
        let queue = try client.vhost.queue(named: "q")
        try client.send(.basicConsume(Spec.Basic.Consume(queue: "q", consumerTag: "c")))
        try client.publish(routingKey: "q", body: "m")
        let again = try client.send(.basicNack(Spec.Basic.Nack(deliveryTag: 1, requeue: true)))
        #expect(methods(again) == [deliver("c", 2, redelivered: true)])
        #expect(bodies(again) == ["m"])

        #expect(try client.send(.basicReject(Spec.Basic.Reject(deliveryTag: 2, requeue: false))).isEmpty)
        #expect(queue.messageCount == 0)
        #expect(queue.unackedCount == 0)
    }

    @Test("consumers on two channels share a queue round-robin")
    func twoChannels() throws {
        let client = try openClient()
        try client.openChannel(2)
        try client.send(.basicConsume(Spec.Basic.Consume(queue: "q", consumerTag: "a")), channel: 1)
        try client.send(.basicConsume(Spec.Basic.Consume(queue: "q", consumerTag: "b")), channel: 2)
        let frames = try client.send(
            try ["1", "2", "3", "4"].flatMap { try TestClient.publishFrames(routingKey: "q", body: $0) })
        let deliveries = frames.compactMap { frame -> (UInt16, String)? in
            if case .method(let channel, .basicDeliver(let d)) = frame { return (channel, d.consumerTag) }
            return nil
        }
        #expect(deliveries.map(\.0) == [1, 2, 1, 2])
        #expect(deliveries.map(\.1) == ["a", "b", "a", "b"])
        #expect(bodies(frames) == ["1", "2", "3", "4"])
    }

    @Test("confirm mode acks several publishes of one read with one basic.ack multiple=true")
    func confirmBatch() throws {
        let client = try openClient()
        #expect(
            try client.send(.confirmSelect(Spec.Confirm.Select()))
                == [.method(channel: 1, .confirmSelectOk(.init()))])
        let frames = try client.send(
            try ["1", "2", "3"].flatMap { try TestClient.publishFrames(routingKey: "q", body: $0) })
        #expect(frames == [.method(channel: 1, .basicAck(Spec.Basic.Ack(deliveryTag: 3, multiple: true)))])
        #expect(try client.vhost.queue(named: "q").messageCount == 3)

        let single = try client.publish(routingKey: "q", body: "4")
        #expect(single == [.method(channel: 1, .basicAck(Spec.Basic.Ack(deliveryTag: 4, multiple: false)))])
    }

    @Test("an unroutable mandatory publish is returned before it is confirmed")
    func confirmMandatoryReturn() throws {
        let client = try openClient()
        try client.send(.confirmSelect(Spec.Confirm.Select()))
        let frames = try client.publish(exchange: "amq.direct", routingKey: "nowhere", body: "lost", mandatory: true)
        #expect(
            frames == [
                .method(
                    channel: 1,
                    .basicReturn(
                        Spec.Basic.Return(
                            replyCode: 312, replyText: "NO_ROUTE", exchange: "amq.direct", routingKey: "nowhere"))),
                try contentHeaderFrame(body: "lost"),
                .body(channel: 1, ByteBuffer(string: "lost")),
                .method(channel: 1, .basicAck(Spec.Basic.Ack(deliveryTag: 1))),
            ])
    }

    @Test("an unroutable publish that is not mandatory is dropped silently")
    func unroutableDropped() throws {
        let client = try openClient()
        #expect(try client.publish(exchange: "amq.direct", routingKey: "nowhere", body: "lost").isEmpty)
    }

    @Test("publishing to a missing exchange closes the channel with 404")
    func publishMissingExchange() throws {
        let client = try openClient()
        let frames = try client.publish(exchange: "nope", routingKey: "q", body: "m")
        #expect(frames == [channelClose(404, "NOT_FOUND - no exchange 'nope' in vhost '/'", 60, 40)])
    }

    @Test("in a transaction, publishes wait for tx.commit and vanish on rollback")
    func transactionPublish() throws {
        let client = try openClient()
        let queue = try client.vhost.queue(named: "q")
        #expect(try client.send(.txSelect(.init())) == [.method(channel: 1, .txSelectOk(.init()))])

        #expect(try client.publish(routingKey: "q", body: "held").isEmpty)
        #expect(queue.messageCount == 0)
        #expect(try client.send(.txCommit(.init())) == [.method(channel: 1, .txCommitOk(.init()))])
        #expect(queue.messageCount == 1)

        try client.publish(routingKey: "q", body: "discarded")
        #expect(try client.send(.txRollback(.init())) == [.method(channel: 1, .txRollbackOk(.init()))])
        #expect(try client.send(.txCommit(.init())) == [.method(channel: 1, .txCommitOk(.init()))])
        #expect(queue.messageCount == 1)
        #expect(bodies(try client.send(.basicGet(Spec.Basic.Get(queue: "q", noAck: true)))) == ["held"])
    }

    @Test("in a transaction, acks wait for tx.commit")
    func transactionAck() throws {
        let client = try openClient()
        let queue = try client.vhost.queue(named: "q")
        try client.publish(routingKey: "q", body: "m")
        try client.send(.txSelect(.init()))
        try client.send(.basicGet(Spec.Basic.Get(queue: "q")))
        #expect(try client.send(.basicAck(Spec.Basic.Ack(deliveryTag: 1))).isEmpty)
        #expect(queue.unackedCount == 1)
        try client.send(.txCommit(.init()))
        #expect(queue.unackedCount == 0)
    }

    @Test("tx.commit outside a transaction, and mixing tx with confirms, are 406")
    func transactionErrors() throws {
        let client = try openClient()
        #expect(
            try client.send(.txCommit(.init()))
                == [channelClose(406, "PRECONDITION_FAILED - channel is not transactional", 90, 20)])
        try client.send(.channelCloseOk(.init()))
        try client.openChannel()
        try client.send(.confirmSelect(Spec.Confirm.Select()))
        #expect(
            try client.send(.txSelect(.init()))
                == [channelClose(406, "PRECONDITION_FAILED - cannot switch from confirm to tx mode", 90, 10)])
    }

    @Test("a channel used before channel.open is a connection error 504")
    func channelNotOpen() throws {
        let client = TestClient()
        try client.handshake()
        let frames = try client.send(.queueDeclare(Spec.Queue.Declare(queue: "q")), channel: 3)
        #expect(
            frames == [
                .method(
                    channel: 0,
                    .connectionClose(
                        Spec.Connection.Close(
                            replyCode: 504, replyText: "CHANNEL_ERROR - expected 'channel.open'", classID: 50,
                            methodID: 10)))
            ])
        #expect(try client.send(.connectionCloseOk(.init()), channel: 0).isEmpty)
        #expect(client.transport.isClosed)
    }

    @Test("a content header with no publish before it is a connection error 505")
    func headerWithoutPublish() throws {
        let client = try openClient()
        let frames = try client.send([try contentHeaderFrame(body: "x")])
        guard case .method(0, .connectionClose(let close))? = frames.first else {
            Issue.record("expected connection.close, got \(frames)")
            return
        }
        #expect(close.replyCode == 505)
    }

    @Test("client-initiated connection.close is answered and the socket closed")
    func clientClose() throws {
        let client = try openClient()
        let frames = try client.send(
            .connectionClose(Spec.Connection.Close(replyCode: 200, replyText: "bye")), channel: 0)
        #expect(frames == [.method(channel: 0, .connectionCloseOk(.init()))])
        #expect(client.transport.isClosed)
    }

    @Test("channel.close releases consumers and requeues unacked deliveries")
    func channelCloseReleases() throws {
        let client = try openClient()
        let queue = try client.vhost.queue(named: "q")
        try client.send(.basicConsume(Spec.Basic.Consume(queue: "q", consumerTag: "c")))
        try client.publish(routingKey: "q", body: "m")
        #expect(queue.unackedCount == 1)
        #expect(
            try client.send(.channelClose(Spec.Channel.Close(replyCode: 200)))
                == [.method(channel: 1, .channelCloseOk(.init()))])
        #expect(queue.consumerCount == 0)
        #expect(queue.unackedCount == 0)
        #expect(queue.messageCount == 1)
        #expect(queue.ready.first?.redelivered == true)
    }

    @Test("tearing down the connection requeues unacked messages and deletes exclusive queues")
    func tearDown() throws {
        let client = try openClient()
        try client.declareQueue("mine", exclusive: true)
        let queue = try client.vhost.queue(named: "q")
        try client.publish(routingKey: "q", body: "m")
        try client.send(.basicGet(Spec.Basic.Get(queue: "q")))
        #expect(queue.unackedCount == 1)

        client.connection.tearDown()
        #expect(queue.unackedCount == 0)
        #expect(queue.messageCount == 1)
        #expect(queue.ready.first?.redelivered == true)
        #expect(client.vhost.queues["mine"] == nil)
        #expect(client.broker.connections[client.connection.id] == nil)
    }

    @Test("another connection cannot use an exclusive queue")
    func exclusiveAcrossConnections() throws {
        let owner = try openClient()
        try owner.declareQueue("mine", exclusive: true)
        let other = TestClient(broker: owner.broker)
        try other.handshake()
        try other.openChannel()
        let frames = try other.send(.basicConsume(Spec.Basic.Consume(queue: "mine")))
        guard case .method(1, .channelClose(let close))? = frames.first else {
            Issue.record("expected channel.close, got \(frames)")
            return
        }
        #expect(close.replyCode == 405)
        #expect(close.replyText.hasPrefix("RESOURCE_LOCKED - cannot obtain exclusive access to locked queue 'mine'"))
    }

    @Test("deleting a queue tells its consumers with basic.cancel")
    func consumerCancelNotify() throws {
        let client = try openClient()
        try client.openChannel(2)
        try client.send(.basicConsume(Spec.Basic.Consume(queue: "q", consumerTag: "c")), channel: 1)
        let frames = try client.send(.queueDelete(Spec.Queue.Delete(queue: "q")), channel: 2)
        #expect(
            frames == [
                .method(channel: 1, .basicCancel(Spec.Basic.Cancel(consumerTag: "c", noWait: true))),
                .method(channel: 2, .queueDeleteOk(.init(messageCount: 0))),
            ])
    }

    @Test("a transport that is not writable holds deliveries until it is")
    func backpressure() throws {
        let client = try openClient()
        try client.send(.basicConsume(Spec.Basic.Consume(queue: "q", consumerTag: "c")))
        client.transport.isWritable = false
        #expect(try client.publish(routingKey: "q", body: "m").isEmpty)
        #expect(try client.vhost.queue(named: "q").messageCount == 1)

        client.transport.isWritable = true
        client.connection.becameWritable()
        client.broker.flushPending()
        let frames = try client.received()
        #expect(methods(frames) == [deliver("c", 1)])
        #expect(bodies(frames) == ["m"])
    }

    @Test("deliveries are split into body frames that respect the negotiated frame_max")
    func largeBody() throws {
        let client = TestClient()
        try client.handshake(frameMax: 4096)
        try client.openChannel()
        try client.declareQueue("q")
        let text = String(repeating: "0123456789", count: 1000)
        try client.publish(routingKey: "q", body: text)
        let frames = try client.send(.basicGet(Spec.Basic.Get(queue: "q", noAck: true)))
        let sizes = frames.compactMap { frame -> Int? in
            if case .body(_, let body) = frame { return body.readableBytes }
            return nil
        }
        #expect(sizes == [4088, 4088, 1824])
        #expect(bodies(frames).joined() == text)
    }

    @Test("broker shutdown closes every connection with 320")
    func shutdown() throws {
        let client = try openClient()
        client.broker.closeAllConnections()
        let frames = try client.received()
        #expect(
            frames == [
                .method(
                    channel: 0,
                    .connectionClose(
                        Spec.Connection.Close(
                            replyCode: 320,
                            replyText: "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'")))
            ])
    }
}
