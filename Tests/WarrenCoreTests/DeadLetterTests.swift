import AMQPWire
import NIOCore
import Testing

@testable import WarrenCore

@Suite("The dead-lettered copy of a message")
struct DeadLetterTests {
    func deadLetter(
        _ message: Message, reason: DeadLetterReason = .rejected, queue: String = "work", routingKey: String? = nil,
        time: UInt64 = 1_700_000_000
    ) throws -> DeadLetter {
        try #require(
            DeadLetter(message, reason: reason, queue: queue, exchange: "dlx", routingKey: routingKey, time: time))
    }

    func headers(_ letter: DeadLetter) throws -> FieldTable {
        try #require(try letter.message.header.properties().headers)
    }

    func death(_ value: FieldValue?) throws -> FieldTable {
        guard case .table(let table) = value else {
            throw AMQPError(.internalError, "not a table: \(String(describing: value))")
        }
        return table
    }

    @Test("the first death writes x-death with count 1 and the x-first-death headers")
    func firstDeath() throws {
        let letter = try deadLetter(try makeMessage("body", exchange: "orders", routingKey: "new"))
        let headers = try headers(letter)
        guard case .array(let deaths) = headers["x-death"] else { Issue.record("no x-death"); return }
        #expect(deaths.count == 1)
        let entry = try death(deaths.first)
        #expect(entry.keys == ["count", "reason", "queue", "time", "exchange", "routing-keys"])
        #expect(entry["count"] == .int64(1))
        #expect(entry["reason"]?.stringValue == "rejected")
        #expect(entry["queue"]?.stringValue == "work")
        #expect(entry["time"] == .timestamp(1_700_000_000))
        #expect(entry["exchange"]?.stringValue == "orders")
        #expect(entry["routing-keys"] == .array([.string("new")]))
        #expect(headers["x-first-death-reason"]?.stringValue == "rejected")
        #expect(headers["x-first-death-queue"]?.stringValue == "work")
        #expect(headers["x-first-death-exchange"]?.stringValue == "orders")
        #expect(headers["x-last-death-queue"]?.stringValue == "work")
        #expect(headers.keys == headers.keys.sorted())
        #expect(letter.message.exchange == "dlx")
        #expect(letter.message.routingKey == "new")
        #expect(String(buffer: letter.message.body) == "body")
    }

    @Test("a repeated queue and reason raises the count and moves the entry to the front")
    func repeatedDeath() throws {
        var message = try makeMessage("m", routingKey: "k")
        message = try deadLetter(message, reason: .rejected, queue: "work", time: 1).message
        message = try deadLetter(message, reason: .expired, queue: "delay", time: 2).message
        let letter = try deadLetter(message, reason: .rejected, queue: "work", time: 3)
        #expect(letter.deaths.count == 2)
        let front = try death(letter.deaths[0])
        #expect(front["queue"]?.stringValue == "work")
        #expect(front["count"] == .int64(2))
        // The entry keeps the time of its first death, as RabbitMQ's does.
        #expect(front["time"] == .timestamp(1))
        #expect(try death(letter.deaths[1])["queue"]?.stringValue == "delay")
        #expect(try headers(letter)["x-first-death-queue"]?.stringValue == "work")
        #expect(try headers(letter)["x-last-death-queue"]?.stringValue == "work")
    }

    @Test("a per-message expiration moves into x-death as original-expiration")
    func originalExpiration() throws {
        let body = ByteBuffer(string: "m")
        let header = try ContentHeader(bodySize: 1, properties: BasicProperties(expiration: "5000"))
        let letter = try deadLetter(
            Message(exchange: "", routingKey: "q", header: header, body: body, expiration: 5000), reason: .expired)
        #expect(try letter.message.header.properties().expiration == nil)
        #expect(letter.message.expiration == nil)
        #expect(try death(letter.deaths.first)["original-expiration"]?.stringValue == "5000")
    }

    @Test("without a dead-letter routing key the CC and BCC keys route too; with one, CC is removed")
    func senderSelectedKeys() throws {
        var message = try makeMessage("m", routingKey: "main", headers: ["CC": .array([.string("cc1")])])
        message.blindCopyKeys = ["bcc1"]
        let plain = try deadLetter(message)
        #expect(plain.routingKeys == ["main", "cc1", "bcc1"])
        #expect(try death(plain.deaths.first)["routing-keys"] == .array([.string("main"), .string("cc1")]))
        let rerouted = try deadLetter(message, routingKey: "retry")
        #expect(rerouted.routingKeys == ["retry"])
        #expect(rerouted.message.routingKey == "retry")
        #expect(try headers(rerouted)["CC"] == nil)
        #expect(rerouted.message.blindCopyKeys == nil)
    }

    @Test("a cycle is automatic unless a rejection lies on it")
    func cycles() {
        func entry(_ queue: String, _ reason: String) -> FieldValue {
            .table(["queue": .string(queue), "reason": .string(reason)])
        }
        let automatic = [entry("delay", "expired"), entry("work", "expired")]
        #expect(DeadLetter.isCycle(queue: "work", deaths: automatic))
        #expect(DeadLetter.isCycle(queue: "delay", deaths: automatic))
        #expect(!DeadLetter.isCycle(queue: "other", deaths: automatic))
        let broken = [entry("delay", "expired"), entry("work", "rejected")]
        #expect(!DeadLetter.isCycle(queue: "work", deaths: broken))
        #expect(DeadLetter.isCycle(queue: "delay", deaths: broken))
        #expect(!DeadLetter.isCycle(queue: "work", deaths: [.string("junk"), entry("work", "expired")]))
    }
}
