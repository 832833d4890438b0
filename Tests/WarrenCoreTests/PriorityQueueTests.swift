import AMQPWire
import NIOCore
import Testing

@testable import WarrenCore

@Suite("Priority queues (x-max-priority)")
struct PriorityQueueTests {
    func message(_ text: String, priority: UInt8?) throws -> Message {
        let body = ByteBuffer(string: text)
        let header = try ContentHeader(
            bodySize: UInt64(body.readableBytes),
            properties: BasicProperties(
                contentType: "text/plain", headers: ["h": .int32(1)], deliveryMode: 2, priority: priority))
        return Message(exchange: "", routingKey: "q", header: header, body: body)
    }

    @Test("the priority property is read from encoded properties, after headers and delivery mode")
    func priorityAccessor() throws {
        #expect(BasicProperties.priority(in: try message("a", priority: 7).header) == 7)
        #expect(BasicProperties.priority(in: try message("a", priority: nil).header) == nil)
    }

    @Test("highest priority first, FIFO within a priority, above-max capped to max")
    func order() throws {
        let queue = makeQueue("q", arguments: ["x-max-priority": .int32(5)])
        for (text, priority) in [("a1", 1), ("b9", 9), ("c5", 5), ("d", nil), ("e1", 1), ("f5", 5)]
            as [(String, UInt8?)]
        {
            queue.enqueue(try message(text, priority: priority))
        }
        #expect(queue.messageCount == 6)
        #expect(queue.ready.map(bodyText) == ["b9", "c5", "f5", "a1", "e1", "d"])
        var got: [String] = []
        while let next = queue.get(noAck: true) { got.append(bodyText(next)) }
        #expect(got == ["b9", "c5", "f5", "a1", "e1", "d"])
    }

    @Test("requeued messages return to their lane at their original position, redelivered")
    func requeue() throws {
        let queue = makeQueue("q", arguments: ["x-max-priority": .int32(5)])
        for (text, priority) in [("p5a", 5), ("p5b", 5), ("p1c", 1), ("p5d", 5)] as [(String, UInt8?)] {
            queue.enqueue(try message(text, priority: priority))
        }
        let first = try #require(queue.get(noAck: false))
        let second = try #require(queue.get(noAck: false))
        let third = try #require(queue.get(noAck: false))
        #expect([first, second, third].map(bodyText) == ["p5a", "p5b", "p5d"])
        queue.requeue([third, first])
        #expect(queue.ready.map(bodyText) == ["p5a", "p5d", "p1c"])
        #expect(queue.ready.first?.redelivered == true)
        #expect(queue.unackedCount == 1)
    }

    @Test("a queue without x-max-priority ignores the priority property")
    func plainQueue() throws {
        let queue = makeQueue("q")
        queue.enqueue(try message("low", priority: 0))
        queue.enqueue(try message("high", priority: 9))
        #expect(queue.ready.map(bodyText) == ["low", "high"])
        #expect(queue.purge() == 2)
        #expect(queue.ready.isEmpty)
    }
}
