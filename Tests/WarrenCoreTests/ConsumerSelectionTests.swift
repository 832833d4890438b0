import AMQPWire
import Testing

@testable import WarrenCore

@Suite("Consumer priorities and single active consumer")
struct ConsumerSelectionTests {
    func consumer(_ owner: FakeConsumerOwner, _ tag: String, priority: Int32?, prefetch: UInt16 = 0) -> Consumer {
        let arguments: FieldTable = priority.map { ["x-priority": .int32($0)] } ?? [:]
        return Consumer(
            tag: tag, noAck: false, exclusive: false, arguments: arguments, owner: owner, prefetchLimit: prefetch)
    }

    @Test("the highest-priority consumer with room gets messages; lower ones only when it is full")
    func priorities() throws {
        let owner = FakeConsumerOwner()
        let queue = makeQueue("q")
        let low = consumer(owner, "low", priority: nil, prefetch: 10)
        let high = consumer(owner, "high", priority: 5, prefetch: 2)
        queue.addConsumer(low)
        queue.addConsumer(high)
        for index in 0..<4 { queue.enqueue(try makeMessage("m\(index)")) }
        #expect(owner.deliveries.map(\.consumerTag) == ["high", "high", "low", "low"])
        owner.acknowledge(high, on: queue)
        queue.enqueue(try makeMessage("m4"))
        #expect(owner.deliveries.last?.consumerTag == "high")
    }

    @Test("consumers of the same priority share round-robin; negative priorities come last")
    func roundRobinWithinPriority() throws {
        let owner = FakeConsumerOwner()
        let queue = makeQueue("q")
        queue.addConsumer(consumer(owner, "neg", priority: -1))
        queue.addConsumer(consumer(owner, "a", priority: 3))
        queue.addConsumer(consumer(owner, "b", priority: 3))
        for index in 0..<4 { queue.enqueue(try makeMessage("m\(index)")) }
        #expect(owner.deliveries.map(\.consumerTag) == ["a", "b", "a", "b"])
    }

    @Test("a single-active-consumer queue delivers only to the first consumer, then the next in line")
    func singleActiveConsumer() throws {
        let owner = FakeConsumerOwner()
        let queue = makeQueue("q", arguments: ["x-single-active-consumer": .bool(true)])
        let first = consumer(owner, "first", priority: nil, prefetch: 1)
        let second = consumer(owner, "second", priority: 9)
        queue.addConsumer(first)
        queue.addConsumer(second)
        for index in 0..<3 { queue.enqueue(try makeMessage("m\(index)")) }
        #expect(owner.deliveries.map(\.consumerTag) == ["first"])
        queue.removeConsumer(first)
        #expect(owner.deliveries.map(\.consumerTag) == ["first", "second", "second"])
    }

    @Test("CC and BCC list extra routing keys; other types are refused")
    func senderSelected() throws {
        let headers: FieldTable = ["CC": .array([.string("a"), .string("b")]), "BCC": .array([.string("c")])]
        let distribution = try #require(try SenderSelectedDistribution(headers: headers))
        #expect(distribution.routingKeys == ["a", "b", "c"])
        #expect(try SenderSelectedDistribution(headers: ["x": .int32(1)]) == nil)
        #expect(throws: AMQPError.self) { try SenderSelectedDistribution(headers: ["CC": .string("a")]) }
    }
}
