import AMQPWire
import NIOCore
import Testing

@testable import WarrenCore

@Suite("x-delayed-message exchanges")
struct DelayedMessageTests {
    let vhost = VirtualHost(name: "/")
    let clock = ManualClock()
    let scheduler = RecordingScheduler()

    init() throws {
        vhost.clock = clock
        vhost.expiryScheduler = scheduler
    }

    func delayed(_ text: String, delay: Int64, routingKey: String = "k") throws -> Message {
        try makeMessage(text, exchange: "later", routingKey: routingKey, headers: ["x-delay": .int64(delay)])
    }

    @Test("declaring needs an existing x-delayed-type; redeclaring compares the declared type")
    func declare() throws {
        let missing = amqpError { try vhost.declareExchange("later", "x-delayed-message") }
        #expect(missing?.code == .preconditionFailed)
        #expect(missing?.explanation == "Invalid argument, 'x-delayed-type' must be an existing exchange type")
        let exchange = try vhost.declareExchange(
            "later", "x-delayed-message", arguments: ["x-delayed-type": .string("direct")])
        #expect(exchange.isDelayed && exchange.kind == .direct && exchange.typeName == "x-delayed-message")
        let other = amqpError { try vhost.declareExchange("later", "direct") }
        #expect(other?.code == .preconditionFailed)
    }

    @Test("messages are routed when due, earliest first, publish order among equals")
    func releaseOrder() throws {
        let exchange = try vhost.declareExchange(
            "later", "x-delayed-message", arguments: ["x-delayed-type": .string("fanout")])
        let queue = try vhost.declareQueue("q")
        try vhost.bindQueue("q", to: "later")
        vhost.delay(try delayed("b", delay: 200), by: 200, through: exchange, extraRoutingKeys: [], onUnroutable: nil)
        vhost.delay(try delayed("a", delay: 100), by: 100, through: exchange, extraRoutingKeys: [], onUnroutable: nil)
        vhost.delay(try delayed("c", delay: 200), by: 200, through: exchange, extraRoutingKeys: [], onUnroutable: nil)
        #expect(scheduler.deadlines == [1_200, 1_100])
        #expect(vhost.delayedMessageCount == 3)
        clock.now = 1_100
        scheduler.actions[1]()
        #expect(queue.ready.map(bodyText) == ["a"])
        clock.now = 1_200
        scheduler.actions.last?()
        #expect(queue.ready.map(bodyText) == ["a", "b", "c"])
        #expect(vhost.delayedMessageCount == 0)
    }

    @Test("an unroutable message is reported when due; a deleted exchange drops its messages")
    func unroutableAndDeleted() throws {
        let exchange = try vhost.declareExchange(
            "later", "x-delayed-message", arguments: ["x-delayed-type": .string("direct")])
        var returned: [String] = []
        vhost.delay(try delayed("lost", delay: 10), by: 10, through: exchange, extraRoutingKeys: []) {
            returned.append(String(buffer: $0.body))
        }
        clock.now += 10
        scheduler.actions.last?()
        #expect(returned == ["lost"])
        vhost.delay(try delayed("gone", delay: 10), by: 10, through: exchange, extraRoutingKeys: []) {
            returned.append(String(buffer: $0.body))
        }
        try vhost.deleteExchange(name: "later", ifUnused: false)
        clock.now += 10
        scheduler.actions.last?()
        #expect(returned == ["lost"])
        #expect(vhost.delayedMessageCount == 0)
    }

    @Test("only a positive integer x-delay asks for a delay")
    func delayHeader() throws {
        #expect(try delayed("m", delay: 50).requestedDelay == 50)
        #expect(try delayed("m", delay: 0).requestedDelay == nil)
        #expect(try delayed("m", delay: -5).requestedDelay == nil)
        #expect(try makeMessage("m", headers: ["x-delay": .string("5")]).requestedDelay == nil)
        #expect(try makeMessage("m").requestedDelay == nil)
    }
}
