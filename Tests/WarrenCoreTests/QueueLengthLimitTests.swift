import AMQPWire
import NIOCore
import Testing

@testable import WarrenCore

@Suite("Queue length limits, overflow modes and the delivery limit")
struct QueueLengthLimitTests {
    let vhost = VirtualHost(name: "/")

    init() throws {
        try vhost.declareExchange("dlx", "fanout")
        try vhost.declareQueue("dead")
        try vhost.bindQueue("dead", to: "dlx")
    }

    func queue(_ arguments: FieldTable) throws -> Queue {
        var withDLX = arguments
        withDLX["x-dead-letter-exchange"] = .string("dlx")
        return try vhost.declareQueue("limited", arguments: withDLX)
    }

    func deadBodies() throws -> [String] {
        try vhost.queue(named: "dead").ready.map(bodyText)
    }

    @Test("drop-head keeps the newest messages and dead-letters the oldest")
    func dropHead() throws {
        let queue = try queue(["x-max-length": .int32(2)])
        for text in ["a", "b", "c", "d"] {
            #expect(queue.enqueue(try makeMessage(text)))
        }
        #expect(queue.ready.map(bodyText) == ["c", "d"])
        #expect(try deadBodies() == ["a", "b"])
    }

    @Test("x-max-length-bytes counts body bytes of ready messages only")
    func maxBytes() throws {
        let queue = try queue(["x-max-length-bytes": .int32(5)])
        queue.enqueue(try makeMessage("abc"))
        _ = try #require(queue.get(noAck: false))
        queue.enqueue(try makeMessage("defg"))
        queue.enqueue(try makeMessage("h"))
        #expect(queue.ready.map(bodyText) == ["defg", "h"])
        queue.enqueue(try makeMessage("ij"))
        #expect(queue.ready.map(bodyText) == ["h", "ij"])
        #expect(queue.ready.bytes == 3)
    }

    @Test("reject-publish refuses the newest message without dead-lettering it")
    func rejectPublish() throws {
        let queue = try queue(["x-max-length": .int32(1), "x-overflow": .string("reject-publish")])
        #expect(queue.enqueue(try makeMessage("a")))
        #expect(!queue.enqueue(try makeMessage("b")))
        #expect(queue.ready.map(bodyText) == ["a"])
        #expect(try deadBodies().isEmpty)
    }

    @Test("reject-publish-dlx refuses and dead-letters the newest message")
    func rejectPublishDeadLetter() throws {
        let queue = try queue(["x-max-length": .int32(1), "x-overflow": .string("reject-publish-dlx")])
        #expect(queue.enqueue(try makeMessage("a")))
        #expect(!queue.enqueue(try makeMessage("b")))
        #expect(try deadBodies() == ["b"])
        let reason = try vhost.queue(named: "dead").ready.first?.message.header.properties()
            .headers?["x-first-death-reason"]
        #expect(reason?.stringValue == "maxlen")
    }

    @Test("a requeue that overfills a drop-head queue drops from the head")
    func requeueOverLimit() throws {
        let queue = try queue(["x-max-length": .int32(1)])
        queue.enqueue(try makeMessage("a"))
        let held = try #require(queue.get(noAck: false))
        queue.enqueue(try makeMessage("b"))
        queue.requeue([held])
        #expect(queue.ready.map(bodyText) == ["b"])
        #expect(try deadBodies() == ["a"])
    }

    @Test("x-delivery-limit dead-letters a message returned too often, counting in x-delivery-count")
    func deliveryLimit() throws {
        let queue = try queue(["x-delivery-limit": .int32(1)])
        queue.enqueue(try makeMessage("poison"))
        queue.requeue([try #require(queue.get(noAck: false))])
        let again = try #require(queue.get(noAck: false))
        #expect(try again.message.header.properties().headers?["x-delivery-count"] == .int64(1))
        queue.requeue([again])
        #expect(queue.messageCount == 0)
        #expect(try deadBodies() == ["poison"])
        let reason = try vhost.queue(named: "dead").ready.first?.message.header.properties()
            .headers?["x-first-death-reason"]
        #expect(reason?.stringValue == "delivery_limit")
    }
}
