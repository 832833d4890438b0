import AMQPWire
import Testing

@testable import WarrenCore

/// The queue's dispatch rules, driven with a fake consumer owner.
@Suite("Queue dispatch")
struct QueueDispatchTests {
    func enqueue(_ queue: Queue, _ bodies: [String]) throws {
        for body in bodies {
            queue.enqueue(try makeMessage(body))
        }
    }

    func readyBodies(_ queue: Queue) -> [String] {
        queue.ready.map(bodyText)
    }

    @Test("messages wait in order until a consumer arrives")
    func readyInOrder() throws {
        let queue = makeQueue("q")
        try enqueue(queue, ["1", "2", "3"])
        #expect(readyBodies(queue) == ["1", "2", "3"])
        #expect(queue.messageCount == 3)
        #expect(queue.ready.map(\.sequence) == [0, 1, 2])
        #expect(queue.ready.allSatisfy { !$0.redelivered })

        let owner = FakeConsumerOwner()
        queue.addConsumer(owner.makeConsumer("c"))
        #expect(owner.deliveries.map(\.body) == ["1", "2", "3"])
        #expect(queue.messageCount == 0)
        #expect(queue.unackedCount == 3)
    }

    @Test("deliveries round-robin across consumers")
    func roundRobin() throws {
        let queue = makeQueue("q")
        let owner = FakeConsumerOwner()
        queue.addConsumer(owner.makeConsumer("a"))
        queue.addConsumer(owner.makeConsumer("b"))
        queue.addConsumer(owner.makeConsumer("c"))
        try enqueue(queue, ["1", "2", "3", "4", "5", "6", "7"])
        #expect(owner.deliveries.map(\.consumerTag) == ["a", "b", "c", "a", "b", "c", "a"])
        #expect(owner.deliveries.map(\.body) == ["1", "2", "3", "4", "5", "6", "7"])
    }

    @Test("round-robin continues where it left off after a consumer leaves")
    func roundRobinAfterRemoval() throws {
        let queue = makeQueue("q")
        let owner = FakeConsumerOwner()
        let a = owner.makeConsumer("a")
        let b = owner.makeConsumer("b")
        let c = owner.makeConsumer("c")
        queue.addConsumer(a)
        queue.addConsumer(b)
        queue.addConsumer(c)
        try enqueue(queue, ["1", "2"])  // a, b; c is next
        queue.removeConsumer(a)
        try enqueue(queue, ["3", "4", "5"])
        #expect(owner.deliveries.map(\.consumerTag) == ["a", "b", "c", "b", "c"])
    }

    @Test("a consumer without prefetch room is skipped")
    func prefetchSkips() throws {
        let queue = makeQueue("q")
        let owner = FakeConsumerOwner()
        let limited = owner.makeConsumer("limited", prefetch: 1)
        let open = owner.makeConsumer("open")
        queue.addConsumer(limited)
        queue.addConsumer(open)
        try enqueue(queue, ["1", "2", "3", "4"])
        #expect(owner.deliveries.map(\.consumerTag) == ["limited", "open", "open", "open"])
        #expect(limited.unackedCount == 1)
        #expect(open.unackedCount == 3)
    }

    @Test("messages wait when every consumer's prefetch is full, and flow again on ack")
    func prefetchWaits() throws {
        let queue = makeQueue("q")
        let owner = FakeConsumerOwner()
        let consumer = owner.makeConsumer("c", prefetch: 2)
        queue.addConsumer(consumer)
        try enqueue(queue, ["1", "2", "3", "4", "5"])
        #expect(owner.deliveries.map(\.body) == ["1", "2"])
        #expect(readyBodies(queue) == ["3", "4", "5"])
        #expect(!consumer.hasPrefetchRoom)

        owner.acknowledge(consumer, on: queue)
        #expect(owner.deliveries.map(\.body) == ["1", "2", "3"])
        owner.acknowledge(consumer, on: queue)
        owner.acknowledge(consumer, on: queue)
        #expect(owner.deliveries.map(\.body) == ["1", "2", "3", "4", "5"])
        #expect(queue.unackedCount == 2)
        #expect(queue.messageCount == 0)
    }

    @Test("a no-ack consumer ignores prefetch and holds nothing")
    func noAck() throws {
        let queue = makeQueue("q")
        let owner = FakeConsumerOwner()
        let consumer = owner.makeConsumer("c", prefetch: 1, noAck: true)
        queue.addConsumer(consumer)
        try enqueue(queue, ["1", "2", "3"])
        #expect(owner.deliveries.count == 3)
        #expect(queue.unackedCount == 0)
        #expect(consumer.unackedCount == 0)
    }

    @Test("a consumer whose owner cannot deliver is skipped until dispatch is retried")
    func ownerRefuses() throws {
        let queue = makeQueue("q")
        let owner = FakeConsumerOwner()
        queue.addConsumer(owner.makeConsumer("slow"))
        queue.addConsumer(owner.makeConsumer("fast"))
        owner.blocked = ["slow"]
        try enqueue(queue, ["1", "2", "3"])
        #expect(owner.deliveries.map(\.consumerTag) == ["fast", "fast", "fast"])

        owner.blocked = ["slow", "fast"]
        try enqueue(queue, ["4", "5"])
        #expect(owner.deliveries.count == 3)
        #expect(readyBodies(queue) == ["4", "5"])

        owner.blocked = []
        queue.dispatch()
        #expect(owner.deliveries.map(\.body) == ["1", "2", "3", "4", "5"])
        #expect(Set(owner.deliveries.suffix(2).map(\.consumerTag)) == ["slow", "fast"])
    }

    @Test("acks made from inside deliver are folded into the running dispatch")
    func reentrantAck() throws {
        let queue = makeQueue("q")
        let owner = FakeConsumerOwner()
        owner.acknowledgeImmediately = true
        try enqueue(queue, ["1", "2", "3", "4"])
        let consumer = owner.makeConsumer("c", prefetch: 1)
        queue.addConsumer(consumer)
        #expect(owner.deliveries.map(\.body) == ["1", "2", "3", "4"])
        #expect(queue.unackedCount == 0)
        #expect(consumer.unackedCount == 0)
    }

    @Test("requeue restores the original order and marks messages redelivered")
    func requeueOrder() throws {
        let queue = makeQueue("q")
        try enqueue(queue, ["1", "2", "3", "4", "5"])
        let held = (0..<3).compactMap { _ in queue.get(noAck: false) }
        #expect(held.map(bodyText) == ["1", "2", "3"])
        #expect(queue.unackedCount == 3)

        // Requeued out of order, in one call.
        queue.requeue([held[2], held[0], held[1]])
        #expect(readyBodies(queue) == ["1", "2", "3", "4", "5"])
        #expect(queue.ready.map(\.redelivered) == [true, true, true, false, false])
        #expect(queue.unackedCount == 0)
    }

    @Test("interleaved requeues each land in their original position")
    func requeueInterleaved() throws {
        let queue = makeQueue("q")
        try enqueue(queue, ["1", "2", "3", "4", "5", "6"])
        let m1 = try #require(queue.get(noAck: false))
        let m2 = try #require(queue.get(noAck: false))
        let m3 = try #require(queue.get(noAck: false))
        let m4 = try #require(queue.get(noAck: false))
        #expect(readyBodies(queue) == ["5", "6"])

        queue.requeue([m3])
        #expect(readyBodies(queue) == ["3", "5", "6"])
        queue.requeue([m1])
        #expect(readyBodies(queue) == ["1", "3", "5", "6"])
        try enqueue(queue, ["7"])
        queue.requeue([m4, m2])
        #expect(readyBodies(queue) == ["1", "2", "3", "4", "5", "6", "7"])
        #expect(queue.ready.map(\.redelivered) == [true, true, true, true, false, false, false])

        // A requeued message taken and requeued again keeps its place.
        let again = try #require(queue.get(noAck: false))
        #expect(bodyText(again) == "1")
        #expect(again.redelivered)
        queue.requeue([again])
        #expect(readyBodies(queue) == ["1", "2", "3", "4", "5", "6", "7"])
        #expect(queue.unackedCount == 0)
    }

    @Test("requeued messages are dispatched to consumers again, redelivered")
    func requeueRedispatches() throws {
        let queue = makeQueue("q")
        try enqueue(queue, ["1", "2"])
        let first = try #require(queue.get(noAck: false))
        let owner = FakeConsumerOwner()
        queue.addConsumer(owner.makeConsumer("c"))
        #expect(owner.deliveries.map(\.body) == ["2"])
        queue.requeue([first])
        #expect(owner.deliveries.map(\.body) == ["2", "1"])
        #expect(owner.deliveries.map(\.message.redelivered) == [false, true])
    }

    @Test("requeueing nothing changes nothing")
    func requeueEmpty() throws {
        let queue = makeQueue("q")
        try enqueue(queue, ["1"])
        queue.requeue([QueuedMessage]())
        #expect(readyBodies(queue) == ["1"])
        #expect(queue.ready.allSatisfy { !$0.redelivered })
    }

    @Test("purge drops ready messages and reports how many")
    func purge() throws {
        let queue = makeQueue("q")
        try enqueue(queue, ["1", "2", "3"])
        let held = try #require(queue.get(noAck: false))
        #expect(queue.purge() == 2)
        #expect(queue.messageCount == 0)
        #expect(queue.unackedCount == 1)
        #expect(queue.purge() == 0)
        // Held messages survive a purge and come back on requeue.
        queue.requeue([held])
        #expect(readyBodies(queue) == ["1"])
    }

    @Test("get with and without no-ack")
    func get() throws {
        let queue = makeQueue("q")
        #expect(queue.get(noAck: false) == nil)
        try enqueue(queue, ["1", "2"])

        let acked = try #require(queue.get(noAck: true))
        #expect(bodyText(acked) == "1")
        #expect(queue.unackedCount == 0)
        #expect(queue.messageCount == 1)

        let held = try #require(queue.get(noAck: false))
        #expect(bodyText(held) == "2")
        #expect(!held.redelivered)
        #expect(queue.unackedCount == 1)
        queue.acknowledge(held)
        #expect(queue.unackedCount == 0)
        #expect(queue.get(noAck: true) == nil)
    }

    @Test("the body delivered is the body enqueued, not a copy")
    func bodyNotCopied() throws {
        let queue = makeQueue("q")
        let message = try makeMessage("payload")
        queue.enqueue(message)
        let out = try #require(queue.get(noAck: true))
        let inAddress = message.body.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        let outAddress = out.message.body.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        #expect(inAddress == outAddress)
    }

    @Test("an auto-delete queue is deleted when its last consumer leaves")
    func autoDelete() throws {
        let vhost = VirtualHost(name: "/")
        let queue = try vhost.declareQueue("q", autoDelete: true)
        try vhost.bindQueue("q", to: "amq.fanout")
        let owner = FakeConsumerOwner()
        let a = owner.makeConsumer("a")
        let b = owner.makeConsumer("b")
        queue.addConsumer(a)
        queue.addConsumer(b)
        queue.removeConsumer(a)
        #expect(vhost.queues["q"] === queue)
        queue.removeConsumer(b)
        #expect(vhost.queues["q"] == nil)
        #expect(queue.isDeleted)
        #expect(try vhost.exchange(named: "amq.fanout").bindings.isEmpty)
        // The consumers left by themselves: nobody is told they were cancelled.
        #expect(owner.cancelled.isEmpty)
    }

    @Test("an auto-delete queue that never had a consumer stays")
    func autoDeleteNeverConsumed() throws {
        let vhost = VirtualHost(name: "/")
        let queue = try vhost.declareQueue("q", autoDelete: true)
        queue.enqueue(try makeMessage("m"))
        _ = queue.get(noAck: true)
        #expect(vhost.queues["q"] === queue)
        #expect(!queue.isDeleted)
    }

    @Test("a queue that is not auto-delete outlives its consumers")
    func notAutoDelete() throws {
        let vhost = VirtualHost(name: "/")
        let queue = try vhost.declareQueue("q")
        let owner = FakeConsumerOwner()
        let consumer = owner.makeConsumer("c")
        queue.addConsumer(consumer)
        queue.removeConsumer(consumer)
        #expect(vhost.queues["q"] === queue)
    }

    @Test("removing an unknown consumer does nothing")
    func removeUnknown() throws {
        let vhost = VirtualHost(name: "/")
        let queue = try vhost.declareQueue("q", autoDelete: true)
        let owner = FakeConsumerOwner()
        queue.addConsumer(owner.makeConsumer("c"))
        queue.removeConsumer(owner.makeConsumer("stranger"))
        #expect(queue.consumerCount == 1)
        #expect(vhost.queues["q"] === queue)
    }

    @Test("markDeleted cancels every consumer and drops ready messages")
    func markDeleted() throws {
        let queue = makeQueue("q")
        let owner = FakeConsumerOwner()
        queue.addConsumer(owner.makeConsumer("a", prefetch: 1))
        queue.addConsumer(owner.makeConsumer("b", prefetch: 1))
        try enqueue(queue, ["1", "2", "3", "4"])
        #expect(queue.markDeleted() == 2)
        #expect(owner.cancelled == ["a", "b"])
        #expect(queue.consumers.isEmpty)
        #expect(queue.isDeleted)
        #expect(queue.messageCount == 0)
    }

    @Test("held messages settled after deletion are not requeued")
    func requeueAfterDelete() throws {
        let queue = makeQueue("q")
        try enqueue(queue, ["1"])
        let held = try #require(queue.get(noAck: false))
        _ = queue.markDeleted()
        queue.requeue([held])
        #expect(queue.messageCount == 0)
        #expect(queue.unackedCount == 0)
    }
}
