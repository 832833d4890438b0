import AMQPWire
import Testing

@testable import WarrenCore

/// Declaring and deleting exchanges and queues, with RabbitMQ's checks and reply texts.
@Suite("Virtual host: exchanges and queues")
struct VirtualHostTests {
    let vhost = VirtualHost(name: "/")

    // MARK: Exchanges

    @Test("a new virtual host has RabbitMQ's predeclared exchanges")
    func predeclared() throws {
        let expected: [String: ExchangeKind] = [
            "": .direct, "amq.direct": .direct, "amq.fanout": .fanout, "amq.topic": .topic,
            "amq.headers": .headers, "amq.match": .headers,
        ]
        #expect(Set(vhost.exchanges.keys) == Set(expected.keys).union([VirtualHost.traceExchange]))
        // The firehose's exchange: a durable, internal topic exchange, as in RabbitMQ.
        let trace = try vhost.exchange(named: VirtualHost.traceExchange)
        #expect(trace.kind == .topic && trace.durable && trace.isInternal && !trace.autoDelete)
        for (name, kind) in expected {
            let exchange = try vhost.exchange(named: name)
            #expect(exchange.kind == kind, "\(name)")
            #expect(exchange.durable, "\(name)")
            #expect(!exchange.autoDelete, "\(name)")
            #expect(!exchange.isInternal, "\(name)")
            #expect(exchange.vhost == "/")
        }
        #expect(vhost.queues.isEmpty)
    }

    @Test("declare creates an exchange; an equivalent redeclare returns the same one")
    func declareExchange() throws {
        let first = try vhost.declareExchange("logs", "topic", durable: true)
        #expect(first.kind == .topic)
        #expect(first.durable)
        let second = try vhost.declareExchange("logs", "topic", durable: true)
        #expect(first === second)
        #expect(try vhost.exchange(named: "logs") === first)
    }

    @Test("redeclaring with a different type fails with RabbitMQ's text")
    func redeclareType() throws {
        try vhost.declareExchange("x", "direct")
        let error = amqpError { try vhost.declareExchange("x", "fanout") }
        #expect(error?.code == .preconditionFailed)
        #expect(
            error?.replyText
                == "PRECONDITION_FAILED - inequivalent arg 'type' for exchange 'x' in vhost '/': received 'fanout' but current is 'direct'"
        )
    }

    @Test("redeclaring with different durable, auto_delete or internal fails")
    func redeclareFlags() throws {
        try vhost.declareExchange("x", "direct")
        #expect(
            amqpError { try vhost.declareExchange("x", "direct", durable: true) }?.replyText
                == "PRECONDITION_FAILED - inequivalent arg 'durable' for exchange 'x' in vhost '/': received 'true' but current is 'false'"
        )
        #expect(
            amqpError { try vhost.declareExchange("x", "direct", autoDelete: true) }?.replyText
                == "PRECONDITION_FAILED - inequivalent arg 'auto_delete' for exchange 'x' in vhost '/': received 'true' but current is 'false'"
        )
        #expect(
            amqpError { try vhost.declareExchange("x", "direct", isInternal: true) }?.replyText
                == "PRECONDITION_FAILED - inequivalent arg 'internal' for exchange 'x' in vhost '/': received 'true' but current is 'false'"
        )
        // A failed redeclare leaves the exchange as it was.
        #expect(try vhost.exchange(named: "x").durable == false)
    }

    @Test("alternate-exchange is compared on redeclare; other arguments are not")
    func redeclareArguments() throws {
        try vhost.declareExchange("x", "direct", arguments: ["alternate-exchange": .string("ae1")])
        #expect(
            amqpError { try vhost.declareExchange("x", "direct", arguments: ["alternate-exchange": .string("ae2")]) }?
                .replyText
                == "PRECONDITION_FAILED - inequivalent arg 'alternate-exchange' for exchange 'x' in vhost '/': received 'ae2' but current is 'ae1'"
        )
        #expect(
            amqpError { try vhost.declareExchange("x", "direct") }?.replyText
                == "PRECONDITION_FAILED - inequivalent arg 'alternate-exchange' for exchange 'x' in vhost '/': received none but current is the value 'ae1' of type 'longstr'"
        )
        try vhost.declareExchange(
            "x", "direct", arguments: ["alternate-exchange": .string("ae1"), "x-anything": .int32(3)])
    }

    @Test("an alternate-exchange that is not a string is refused")
    func alternateExchangeType() {
        let error = amqpError { try vhost.declareExchange("x", "direct", arguments: ["alternate-exchange": .int32(1)]) }
        #expect(error?.code == .preconditionFailed)
        #expect(vhost.exchanges["x"] == nil)
    }

    @Test("passive declare finds an existing exchange whatever the other fields say")
    func passiveExchange() throws {
        let existing = try vhost.declareExchange("x", "fanout")
        #expect(try vhost.declareExchange("x", "direct", passive: true, durable: true) === existing)
        #expect(try vhost.declareExchange("amq.topic", "", passive: true).kind == .topic)
        let error = amqpError { try vhost.declareExchange("nope", "direct", passive: true) }
        #expect(error?.code == .notFound)
        #expect(error?.replyText == "NOT_FOUND - no exchange 'nope' in vhost '/'")
        #expect(vhost.exchanges["nope"] == nil)
    }

    @Test("the default exchange cannot be declared")
    func declareDefault() {
        let error = amqpError { try vhost.declareExchange("", "direct") }
        #expect(error?.code == .accessRefused)
        #expect(error?.replyText == "ACCESS_REFUSED - operation not permitted on the default exchange")
    }

    @Test("new exchange names may not start with amq.")
    func reservedPrefix() {
        let error = amqpError { try vhost.declareExchange("amq.custom", "direct") }
        #expect(error?.code == .accessRefused)
        #expect(error?.replyText == "ACCESS_REFUSED - exchange name 'amq.custom' contains reserved prefix 'amq.*'")
        #expect(vhost.exchanges["amq.custom"] == nil)
    }

    @Test("an unknown exchange type is a 503")
    func unknownType() {
        let error = amqpError { try vhost.declareExchange("x", "x-consistent-hash") }
        #expect(error?.code == .commandInvalid)
        #expect(error?.code.rawValue == 503)
        #expect(error?.replyText == "COMMAND_INVALID - unknown exchange type 'x-consistent-hash'")
        #expect(vhost.exchanges["x"] == nil)
    }

    @Test("each exchange kind can be declared by its type name", arguments: ExchangeKind.allCases)
    func declareEachKind(kind: ExchangeKind) throws {
        #expect(try vhost.declareExchange("x", kind.rawValue).kind == kind)
    }

    @Test("delete removes an exchange; deleting again is a 404")
    func deleteExchange() throws {
        try vhost.declareExchange("x", "direct")
        try vhost.deleteExchange(name: "x", ifUnused: false)
        #expect(vhost.exchanges["x"] == nil)
        let error = amqpError { try vhost.deleteExchange(name: "x", ifUnused: false) }
        #expect(error?.replyText == "NOT_FOUND - no exchange 'x' in vhost '/'")
    }

    @Test("delete if-unused refuses an exchange with bindings")
    func deleteIfUnused() throws {
        try vhost.declareExchange("x", "direct")
        try vhost.declareQueue("q")
        try vhost.bindQueue("q", to: "x", key: "k")
        let error = amqpError { try vhost.deleteExchange(name: "x", ifUnused: true) }
        #expect(error?.code == .preconditionFailed)
        #expect(error?.replyText == "PRECONDITION_FAILED - exchange 'x' in vhost '/' in use")
        #expect(vhost.exchanges["x"] != nil)

        try vhost.unbindQueue("q", from: "x", key: "k")
        try vhost.deleteExchange(name: "x", ifUnused: true)
        #expect(vhost.exchanges["x"] == nil)
    }

    @Test("being the destination of a binding does not make an exchange used")
    func destinationIsNotUse() throws {
        try vhost.declareExchange("src", "fanout")
        try vhost.declareExchange("dst", "fanout")
        try vhost.bindExchange("dst", to: "src")
        try vhost.deleteExchange(name: "dst", ifUnused: true)
        #expect(vhost.exchanges["dst"] == nil)
        // The binding that pointed at it went with it.
        #expect(try vhost.exchange(named: "src").bindings.isEmpty)
    }

    @Test("the default and amq.* exchanges cannot be deleted")
    func deleteReserved() {
        for name in ["", "amq.direct", "amq.topic"] {
            #expect(amqpError { try vhost.deleteExchange(name: name, ifUnused: false) }?.code == .accessRefused)
            #expect(vhost.exchanges[name] != nil)
        }
        #expect(
            amqpError { try vhost.deleteExchange(name: "", ifUnused: false) }?.replyText
                == "ACCESS_REFUSED - operation not permitted on the default exchange")
    }

    // MARK: Queues

    @Test("declare creates a queue; an equivalent redeclare returns the same one")
    func declareQueue() throws {
        let queue = try vhost.declareQueue("q", durable: true)
        #expect(queue.name == "q")
        #expect(queue.durable)
        #expect(queue.exclusiveOwner == nil)
        #expect(try vhost.declareQueue("q", durable: true) === queue)
        #expect(try vhost.queue(named: "q") === queue)
    }

    @Test("redeclaring with different durable or auto_delete fails with RabbitMQ's text")
    func redeclareQueueFlags() throws {
        try vhost.declareQueue("q")
        let durable = amqpError { try vhost.declareQueue("q", durable: true) }
        #expect(durable?.code == .preconditionFailed)
        #expect(
            durable?.replyText
                == "PRECONDITION_FAILED - inequivalent arg 'durable' for queue 'q' in vhost '/': received 'true' but current is 'false'"
        )
        #expect(
            amqpError { try vhost.declareQueue("q", autoDelete: true) }?.replyText
                == "PRECONDITION_FAILED - inequivalent arg 'auto_delete' for queue 'q' in vhost '/': received 'true' but current is 'false'"
        )
    }

    @Test("the vhost name appears in reply texts")
    func otherVhostName() throws {
        let other = VirtualHost(name: "staging")
        try other.declareQueue("q", durable: true)
        #expect(
            amqpError { try other.declareQueue("q") }?.replyText
                == "PRECONDITION_FAILED - inequivalent arg 'durable' for queue 'q' in vhost 'staging': received 'false' but current is 'true'"
        )
        #expect(
            amqpError { _ = try other.queue(named: "z") }?.replyText == "NOT_FOUND - no queue 'z' in vhost 'staging'")
    }

    @Test("passive declare finds a queue or fails with 404")
    func passiveQueue() throws {
        let queue = try vhost.declareQueue("q")
        #expect(try vhost.declareQueue("q", passive: true, durable: true) === queue)
        let error = amqpError { try vhost.declareQueue("nope", passive: true) }
        #expect(error?.code == .notFound)
        #expect(error?.replyText == "NOT_FOUND - no queue 'nope' in vhost '/'")
        #expect(amqpError { try vhost.declareQueue("", passive: true) }?.code == .notFound)
        #expect(vhost.queues.count == 1)
    }

    @Test("queue names may not start with amq.")
    func queueReservedPrefix() {
        let error = amqpError { try vhost.declareQueue("amq.q") }
        #expect(error?.code == .accessRefused)
        #expect(error?.replyText == "ACCESS_REFUSED - queue name 'amq.q' contains reserved prefix 'amq.*'")
        #expect(vhost.queues.isEmpty)
    }

    @Test("an empty name gets a server-generated amq.gen- name")
    func serverNamed() throws {
        let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var names: Set<String> = []
        for _ in 0..<50 {
            let queue = try vhost.declareQueue("")
            #expect(queue.name.hasPrefix("amq.gen-"))
            let suffix = queue.name.dropFirst("amq.gen-".count)
            #expect(suffix.count == 22)
            #expect(suffix.allSatisfy { alphabet.contains($0) })
            #expect(vhost.queues[queue.name] === queue)
            names.insert(queue.name)
        }
        #expect(names.count == 50)
    }

    @Test("RandomToken encodes 128 bits as 22 URL-safe base64 characters, deterministically")
    func randomToken() {
        var first = XorShiftRandom(seed: 42)
        var second = XorShiftRandom(seed: 42)
        let a = RandomToken.make(using: &first)
        #expect(a.count == 22)
        #expect(a == RandomToken.make(using: &second))
        #expect(RandomToken.make(using: &first) != a)
    }

    @Test("an exclusive queue is locked to its connection (405)")
    func exclusive() throws {
        let queue = try vhost.declareQueue("q", exclusive: true, connection: connectionA)
        #expect(queue.exclusiveOwner == connectionA)
        let locked =
            "RESOURCE_LOCKED - cannot obtain exclusive access to locked queue 'q' in vhost '/'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration."

        #expect(try vhost.declareQueue("q", exclusive: true, connection: connectionA) === queue)
        #expect(try vhost.queue(named: "q", usableBy: connectionA) === queue)

        let redeclare = amqpError { try vhost.declareQueue("q", exclusive: true, connection: connectionB) }
        #expect(redeclare?.code == .resourceLocked)
        #expect(redeclare?.code.rawValue == 405)
        #expect(redeclare?.replyText == locked)
        #expect(amqpError { try vhost.declareQueue("q", connection: connectionB) }?.replyText == locked)
        #expect(amqpError { try vhost.declareQueue("q", passive: true, connection: connectionB) }?.replyText == locked)
        #expect(amqpError { _ = try vhost.queue(named: "q", usableBy: connectionB) }?.replyText == locked)
        #expect(
            amqpError {
                _ = try vhost.deleteQueue(name: "q", ifUnused: false, ifEmpty: false, connection: connectionB)
            }?.replyText == locked)
        #expect(vhost.queues["q"] === queue)
    }

    @Test("a closing connection takes its exclusive queues, and their bindings, with it")
    func connectionClosed() throws {
        try vhost.declareQueue("mine", exclusive: true, connection: connectionA)
        try vhost.declareQueue("theirs", exclusive: true, connection: connectionB)
        try vhost.declareQueue("shared", connection: connectionA)
        try vhost.bindQueue("mine", to: "amq.fanout")
        let mine = try vhost.queue(named: "mine")

        vhost.connectionClosed(connectionA)
        #expect(vhost.queues["mine"] == nil)
        #expect(mine.isDeleted)
        #expect(vhost.queues["theirs"] != nil)
        #expect(vhost.queues["shared"] != nil)
        #expect(try vhost.exchange(named: "amq.fanout").bindings.isEmpty)
        // The name is free again, for anyone.
        try vhost.declareQueue("mine", connection: connectionB)
    }

    @Test("delete returns the ready count and removes the queue and its bindings")
    func deleteQueue() throws {
        let queue = try vhost.declareQueue("q")
        try vhost.bindQueue("q", to: "amq.direct", key: "k")
        queue.enqueue(try makeMessage("1"))
        queue.enqueue(try makeMessage("2"))
        let count = try vhost.deleteQueue(name: "q", ifUnused: false, ifEmpty: false, connection: connectionA)
        #expect(count == 2)
        #expect(vhost.queues["q"] == nil)
        #expect(queue.isDeleted)
        #expect(queue.messageCount == 0)
        #expect(try vhost.exchange(named: "amq.direct").bindings.isEmpty)
        #expect(try vhost.routedQueueNames("amq.direct", key: "k").isEmpty)
        #expect(
            amqpError {
                _ = try vhost.deleteQueue(name: "q", ifUnused: false, ifEmpty: false, connection: connectionA)
            }?
            .replyText == "NOT_FOUND - no queue 'q' in vhost '/'")
    }

    @Test("delete if-unused refuses a queue with consumers")
    func deleteQueueIfUnused() throws {
        let queue = try vhost.declareQueue("q")
        let owner = FakeConsumerOwner()
        let consumer = owner.makeConsumer("c")
        queue.addConsumer(consumer)
        let error = amqpError {
            _ = try vhost.deleteQueue(name: "q", ifUnused: true, ifEmpty: false, connection: connectionA)
        }
        #expect(error?.code == .preconditionFailed)
        #expect(error?.replyText == "PRECONDITION_FAILED - queue 'q' in vhost '/' in use")
        #expect(vhost.queues["q"] != nil)

        queue.removeConsumer(consumer)
        #expect(try vhost.deleteQueue(name: "q", ifUnused: true, ifEmpty: false, connection: connectionA) == 0)
        #expect(vhost.queues["q"] == nil)
    }

    @Test("delete if-empty refuses a queue with ready messages")
    func deleteQueueIfEmpty() throws {
        let queue = try vhost.declareQueue("q")
        queue.enqueue(try makeMessage("m"))
        let error = amqpError {
            _ = try vhost.deleteQueue(name: "q", ifUnused: false, ifEmpty: true, connection: connectionA)
        }
        #expect(error?.replyText == "PRECONDITION_FAILED - queue 'q' in vhost '/' not empty")
        #expect(vhost.queues["q"] != nil)

        #expect(queue.purge() == 1)
        #expect(try vhost.deleteQueue(name: "q", ifUnused: false, ifEmpty: true, connection: connectionA) == 0)
    }

    @Test("deleting a queue cancels its consumers")
    func deleteCancelsConsumers() throws {
        let queue = try vhost.declareQueue("q")
        let owner = FakeConsumerOwner()
        queue.addConsumer(owner.makeConsumer("c1"))
        queue.addConsumer(owner.makeConsumer("c2"))
        _ = try vhost.deleteQueue(name: "q", ifUnused: false, ifEmpty: false, connection: connectionA)
        #expect(owner.cancelled == ["c1", "c2"])
        #expect(queue.consumers.isEmpty)
    }
}
