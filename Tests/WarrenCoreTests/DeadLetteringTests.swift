import AMQPWire
import NIOCore
import Testing

@testable import WarrenCore

@Suite("Dead-lettering through a virtual host")
struct DeadLetteringTests {
    let vhost = VirtualHost(name: "/")
    let clock = ManualClock()
    let scheduler = RecordingScheduler()

    init() throws {
        vhost.clock = clock
        vhost.expiryScheduler = scheduler
        try vhost.declareExchange("dlx", "fanout")
        try vhost.declareQueue("dead")
        try vhost.bindQueue("dead", to: "dlx")
    }

    func deadBodies() throws -> [String] {
        try vhost.queue(named: "dead").ready.map(bodyText)
    }

    func reasons() throws -> [String] {
        try vhost.queue(named: "dead").ready.map { queued in
            let headers = try queued.message.header.properties().headers
            return headers?["x-first-death-reason"]?.stringValue ?? "none"
        }
    }

    @Test("a rejected message goes to the dead-letter exchange; an acknowledged one does not")
    func rejected() throws {
        let work = try vhost.declareQueue("work", arguments: ["x-dead-letter-exchange": .string("dlx")])
        work.enqueue(try makeMessage("a"))
        work.enqueue(try makeMessage("b"))
        let first = try #require(work.get(noAck: false))
        work.reject(first)
        work.acknowledge(try #require(work.get(noAck: false)))
        #expect(try deadBodies() == ["a"])
        #expect(try reasons() == ["rejected"])
        #expect(work.unackedCount == 0)
    }

    @Test("expired messages are dead-lettered with reason expired")
    func expired() throws {
        let work = try vhost.declareQueue(
            "work", arguments: ["x-dead-letter-exchange": .string("dlx"), "x-message-ttl": .int32(100)])
        work.enqueue(try makeMessage("old"))
        clock.now += 100
        work.expiryTimerFired()
        #expect(try deadBodies() == ["old"])
        #expect(try reasons() == ["expired"])
    }

    @Test("a missing dead-letter exchange drops the message")
    func missingExchange() throws {
        let work = try vhost.declareQueue("work", arguments: ["x-dead-letter-exchange": .string("nowhere")])
        work.enqueue(try makeMessage("a"))
        work.reject(try #require(work.get(noAck: false)))
        #expect(try deadBodies().isEmpty)
        #expect(work.messageCount == 0)
    }

    @Test("the dead-letter routing key replaces the message's key; the default exchange works as a DLX")
    func routingKey() throws {
        let work = try vhost.declareQueue(
            "work", arguments: ["x-dead-letter-exchange": .string(""), "x-dead-letter-routing-key": .string("dead")])
        work.enqueue(try makeMessage("a", routingKey: "work"))
        work.reject(try #require(work.get(noAck: false)))
        let dead = try vhost.queue(named: "dead").ready.map { $0.message }
        #expect(dead.map(\.routingKey) == ["dead"])
        #expect(dead.map(\.exchange) == [""])
    }

    @Test("an automatic cycle (expiry only) drops the message instead of looping")
    func automaticCycle() throws {
        let loop = try vhost.declareQueue(
            "loop",
            arguments: [
                "x-dead-letter-exchange": .string(""), "x-dead-letter-routing-key": .string("loop"),
                "x-message-ttl": .int32(10),
            ])
        loop.enqueue(try makeMessage("spin"))
        clock.now += 10
        loop.expiryTimerFired()
        // The copy's x-death already names this queue with no rejection: dropped at once.
        #expect(loop.messageCount == 0)
    }

    @Test("a cycle with a rejection on it goes round")
    func rejectedCycle() throws {
        let loop = try vhost.declareQueue(
            "loop", arguments: ["x-dead-letter-exchange": .string(""), "x-dead-letter-routing-key": .string("loop")])
        loop.enqueue(try makeMessage("again"))
        for round in 1...3 {
            loop.reject(try #require(loop.get(noAck: false)))
            let headers = try #require(try loop.ready.first?.message.header.properties().headers)
            guard case .array(let deaths) = headers["x-death"], case .table(let entry) = deaths.first else {
                Issue.record("no x-death")
                return
            }
            #expect(entry["count"] == .int64(Int64(round)))
        }
    }

    @Test("purge and delete do not dead-letter")
    func purgeAndDelete() throws {
        let work = try vhost.declareQueue("work", arguments: ["x-dead-letter-exchange": .string("dlx")])
        work.enqueue(try makeMessage("a"))
        _ = work.purge()
        work.enqueue(try makeMessage("b"))
        _ = try vhost.deleteQueue(name: "work", ifUnused: false, ifEmpty: false, connection: connectionA)
        #expect(try deadBodies().isEmpty)
    }
}
