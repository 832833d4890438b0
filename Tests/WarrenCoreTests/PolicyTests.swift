import AMQPWire
import Testing

@testable import WarrenCore

@Suite("Policies and operator policies")
struct PolicyTests {
    let vhost = VirtualHost(name: "/")

    func policy(
        _ name: String, _ pattern: String, _ definition: FieldTable, priority: Int = 0,
        appliesTo: Policy.AppliesTo = .all, isOperatorPolicy: Bool = false
    ) throws -> Policy {
        try Policy(
            name: name, vhost: "/", pattern: pattern, appliesTo: appliesTo, priority: priority, definition: definition,
            isOperatorPolicy: isOperatorPolicy)
    }

    @Test("a policy applies to matching queues, existing and new; the pattern is searched, not anchored")
    func matching() throws {
        let before = try vhost.declareQueue("orders.ttl.1")
        vhost.setPolicy(try policy("ttl", "ttl", ["message-ttl": .int32(500)]))
        let after = try vhost.declareQueue("xttlx")
        let other = try vhost.declareQueue("plain")
        #expect(before.settings.messageTTL == 500)
        #expect(after.settings.messageTTL == 500)
        #expect(other.settings.messageTTL == nil)
        try vhost.clearPolicy(named: "ttl")
        #expect(before.settings.messageTTL == nil)
        #expect(before.policy == nil)
    }

    @Test("only the highest-priority matching policy applies; definitions are not merged")
    func priority() throws {
        vhost.setPolicy(try policy("low", ".*", ["max-length": .int32(5), "message-ttl": .int32(100)], priority: 1))
        vhost.setPolicy(try policy("high", "^q", ["max-length": .int32(9)], priority: 2))
        let queue = try vhost.declareQueue("q")
        #expect(queue.policy?.name == "high")
        #expect(queue.settings.maxLength == 9)
        #expect(queue.settings.messageTTL == nil)
    }

    @Test("limits take the lowest of argument, policy and operator policy; other keys prefer the argument")
    func precedence() throws {
        vhost.setPolicy(
            try policy(
                "user", ".*",
                ["max-length": .int32(5), "message-ttl": .int32(1_000), "dead-letter-exchange": .string("policy-dlx")]))
        vhost.setPolicy(
            try policy("cap", ".*", ["max-length": .int32(2)], isOperatorPolicy: true), isOperatorPolicy: true)
        let queue = try vhost.declareQueue(
            "q",
            arguments: [
                "x-max-length": .int32(10), "x-message-ttl": .int32(300), "x-dead-letter-exchange": .string("arg-dlx"),
            ])
        #expect(queue.settings.maxLength == 2)
        #expect(queue.settings.messageTTL == 300)
        #expect(queue.settings.deadLetterExchange == "arg-dlx")
    }

    @Test("a lower policy limit drops the excess at once")
    func limitAppliedToExistingMessages() throws {
        let queue = try vhost.declareQueue("q")
        for text in ["a", "b", "c"] {
            queue.enqueue(try makeMessage(text))
        }
        vhost.setPolicy(try policy("cap", "^q$", ["max-length": .int32(1)]))
        #expect(queue.ready.map(bodyText) == ["c"])
    }

    @Test("exchange policies set the alternate exchange unless the exchange has one")
    func alternateExchange() throws {
        vhost.setPolicy(try policy("ae", "^x", ["alternate-exchange": .string("ae")], appliesTo: .exchanges))
        let plain = try vhost.declareExchange("x1", "direct")
        let own = try vhost.declareExchange("x2", "direct", arguments: ["alternate-exchange": .string("mine")])
        let queueOnly = try policy("q-only", ".*", ["message-ttl": .int32(1)], appliesTo: .queues)
        #expect(plain.alternateExchange == "ae")
        #expect(own.alternateExchange == "mine")
        #expect(!queueOnly.matches("x1", isQueue: false))
    }

    @Test("bad patterns, unknown keys and bad values are refused; operator policies only cap numbers")
    func validation() {
        #expect(amqpError { _ = try policy("p", "(", ["message-ttl": .int32(1)]) } != nil)
        #expect(
            amqpError { _ = try policy("p", ".*", ["colour": .string("red")]) }?.explanation == "unknown key 'colour'")
        #expect(amqpError { _ = try policy("p", ".*", ["max-length": .int32(-1)]) } != nil)
        #expect(amqpError { _ = try policy("p", ".*", [:]) } != nil)
        #expect(
            amqpError { _ = try policy("p", ".*", ["dead-letter-exchange": .string("d")], isOperatorPolicy: true) }
                != nil)
        #expect(
            amqpError { _ = try policy("p", ".*", ["ha-mode": .string("all"), "ha-sync-mode": .string("automatic")]) }
                == nil)
        #expect(amqpError { try vhost.clearPolicy(named: "absent") }?.code == .notFound)
    }
}
