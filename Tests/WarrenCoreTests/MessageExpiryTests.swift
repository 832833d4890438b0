import AMQPWire
import NIOCore
import Testing

@testable import WarrenCore

/// A clock the test moves by hand.
final class ManualClock: BrokerClock {
    var now: UInt64 = 1_000

    func milliseconds() -> UInt64 { now }
}

/// Records the deadlines a queue asks for instead of running timers.
final class RecordingScheduler: ExpiryScheduler {
    var deadlines: [UInt64] = []

    var actions: [() -> Void] = []

    func schedule(at deadline: UInt64, _ action: @escaping () -> Void) {
        deadlines.append(deadline)
        actions.append(action)
    }
}

@Suite("Message TTL and expiration")
struct MessageExpiryTests {
    let clock = ManualClock()
    let scheduler = RecordingScheduler()

    func queue(_ arguments: FieldTable = [:]) -> Queue {
        let queue = makeQueue("q", arguments: arguments)
        queue.clock = clock
        queue.expiryScheduler = scheduler
        return queue
    }

    func message(_ text: String, expiration: UInt64? = nil) throws -> Message {
        var message = try makeMessage(text)
        message.expiration = expiration
        return message
    }

    @Test("x-message-ttl: expired messages leave on the timer and are never handed out")
    func queueTTL() throws {
        let queue = queue(["x-message-ttl": .int32(100)])
        queue.enqueue(try message("old"))
        clock.now += 50
        queue.enqueue(try message("young"))
        #expect(scheduler.deadlines == [1_100])
        clock.now = 1_100
        queue.expiryTimerFired()
        #expect(queue.ready.map(bodyText) == ["young"])
        #expect(scheduler.deadlines == [1_100, 1_150])
        clock.now = 1_200
        #expect(queue.get(noAck: true) == nil)
        #expect(queue.messageCount == 0)
    }

    @Test("the lower of the queue TTL and the message expiration wins")
    func lowerWins() throws {
        let queue = queue(["x-message-ttl": .int32(100)])
        queue.enqueue(try message("short", expiration: 10))
        queue.enqueue(try message("long", expiration: 5_000))
        #expect(queue.ready.map(\.expiresAt) == [1_010, 1_100])
    }

    @Test("TTL 0 drops the message unless a consumer takes it at once")
    func ttlZero() throws {
        let queue = queue(["x-message-ttl": .int32(0)])
        queue.enqueue(try message("dropped"))
        #expect(queue.messageCount == 0)
        let owner = FakeConsumerOwner()
        queue.addConsumer(owner.makeConsumer("c", noAck: true))
        queue.enqueue(try message("delivered"))
        #expect(owner.deliveries.map(\.body) == ["delivered"])
    }

    @Test("a requeued message keeps its original deadline")
    func requeueKeepsDeadline() throws {
        let queue = queue(["x-message-ttl": .int32(100)])
        queue.enqueue(try message("m"))
        let held = try #require(queue.get(noAck: false))
        clock.now = 1_500
        queue.requeue([held])
        #expect(queue.messageCount == 0)
    }

    @Test("a message expiring behind unexpired ones is removed on time, not when it reaches the head")
    func expiryBehindTheHead() throws {
        let queue = queue()
        queue.enqueue(try message("keeps"))
        queue.enqueue(try message("short", expiration: 100))
        queue.enqueue(try message("long", expiration: 1_000))
        queue.enqueue(try message("shorter", expiration: 50))
        #expect(scheduler.deadlines == [1_100, 1_050])
        clock.now = 1_100
        queue.expiryTimerFired()
        #expect(queue.ready.map(bodyText) == ["keeps", "long"])
        #expect(queue.messageCount == 2)
        #expect(queue.ready.bytes == "keepslong".utf8.count)
        #expect(scheduler.deadlines.last == 2_000)
        #expect(queue.get(noAck: true).map(bodyText) == "keeps")
        #expect(queue.get(noAck: true).map(bodyText) == "long")
        #expect(queue.get(noAck: true) == nil)
    }

    @Test("an out-of-order expiry in a priority lane leaves the other lanes alone")
    func expiryBehindInPriorityLane() throws {
        let queue = queue(["x-max-priority": .int32(5)])
        var high = try message("high-keeps")
        high.header = try ContentHeader(bodySize: 10, properties: BasicProperties(priority: 5))
        queue.enqueue(high)
        queue.enqueue(try message("low-keeps"))
        queue.enqueue(try message("low-short", expiration: 10))
        clock.now += 10
        queue.expiryTimerFired()
        #expect(queue.ready.map(bodyText) == ["high-keeps", "low-keeps"])
    }

    @Test("expiration strings follow RabbitMQ's parser and error terms")
    func parse() throws {
        #expect(try MessageExpiration.parse("0") == 0)
        #expect(try MessageExpiration.parse("+25") == 25)
        #expect(throws: AMQPError(.preconditionFailed, "invalid expiration 'abc': no_integer")) {
            try MessageExpiration.parse("abc")
        }
        #expect(throws: AMQPError(.preconditionFailed, "invalid expiration '-1': {value_negative,-1}")) {
            try MessageExpiration.parse("-1")
        }
        #expect(throws: AMQPError(.preconditionFailed, "invalid expiration '1.5': {leftover_string,\".5\"}")) {
            try MessageExpiration.parse("1.5")
        }
    }
}

@Suite("Queue expiry (x-expires)")
struct QueueExpiryTests {
    let clock = ManualClock()
    let scheduler = RecordingScheduler()

    func declare(_ vhost: VirtualHost) throws -> Queue {
        try vhost.declareQueue(
            name: "q", passive: false, durable: false, exclusive: false, autoDelete: false,
            arguments: ["x-expires": .int32(100)], connection: ConnectionID(1))
    }

    @Test("an unused queue is deleted one period after its last use; a get or redeclare is a use")
    func unusedQueueExpires() throws {
        let vhost = VirtualHost(name: "/")
        vhost.clock = clock
        vhost.expiryScheduler = scheduler
        let queue = try declare(vhost)
        #expect(scheduler.deadlines == [1_100])
        clock.now = 1_050
        _ = queue.get(noAck: true)
        clock.now = 1_100
        queue.expiryTimerFired()
        #expect(vhost.queues["q"] != nil)
        #expect(scheduler.deadlines.last == 1_150)
        clock.now = 1_150
        queue.expiryTimerFired()
        #expect(vhost.queues["q"] == nil)
    }

    @Test("a queue with a consumer does not expire; it does one period after the consumer leaves")
    func consumerKeepsItAlive() throws {
        let vhost = VirtualHost(name: "/")
        vhost.clock = clock
        vhost.expiryScheduler = scheduler
        let queue = try declare(vhost)
        let owner = FakeConsumerOwner()
        let consumer = owner.makeConsumer("c")
        queue.addConsumer(consumer)
        clock.now = 5_000
        queue.expiryTimerFired()
        #expect(vhost.queues["q"] != nil)
        queue.removeConsumer(consumer)
        clock.now = 5_100
        queue.expiryTimerFired()
        #expect(vhost.queues["q"] == nil)
    }
}
