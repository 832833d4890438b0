import AMQPWire
import NIOCore

@testable import WarrenCore

/// A small deterministic generator (xorshift64*), so property tests replay the same cases.
struct XorShiftRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed
    }

    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}

/// A message whose body is `text`, with empty properties or the given headers.
func makeMessage(
    _ text: String, exchange: String = "", routingKey: String = "", headers: FieldTable? = nil
) throws -> Message {
    let body = ByteBuffer(string: text)
    let header = try ContentHeader(
        bodySize: UInt64(body.readableBytes), properties: BasicProperties(headers: headers))
    return Message(exchange: exchange, routingKey: routingKey, header: header, body: body)
}

/// The text of a queued message's body.
func bodyText(_ message: QueuedMessage) -> String {
    String(buffer: message.message.body)
}

/// A queue that is not registered in any virtual host, for routing and dispatch tests.
func makeQueue(_ name: String, autoDelete: Bool = false, arguments: FieldTable = [:]) -> Queue {
    Queue(name: name, vhost: "/", durable: false, autoDelete: autoDelete, exclusiveOwner: nil, arguments: arguments)
}

func makeExchange(_ name: String, _ kind: ExchangeKind, arguments: FieldTable = [:]) -> Exchange {
    Exchange(
        name: name, vhost: "/", kind: kind, durable: false, autoDelete: false, isInternal: false,
        arguments: arguments)
}

/// The names of the queues `exchange`'s own bindings select, each once, sorted.
func routedNames(_ exchange: Exchange, routingKey: String, headers: FieldTable? = nil) -> [String] {
    var names: Set<String> = []
    exchange.route(routingKey: routingKey, headers: { headers }) { names.insert($0.name) }
    return names.sorted()
}

/// Calls `body` and returns the AMQP error it threw, or nil when it did not throw one.
func amqpError(_ body: () throws -> Void) -> AMQPError? {
    do {
        try body()
        return nil
    } catch let error as AMQPError {
        return error
    } catch {
        return nil
    }
}

/// A consumer owner that records what the queue does with it.
final class FakeConsumerOwner: ConsumerOwner {
    struct Delivery {
        var consumerTag: String
        var message: QueuedMessage
        var body: String { bodyText(message) }
    }

    var deliveries: [Delivery] = []
    var cancelled: [String] = []
    /// Consumers that `canDeliver` refuses (a socket that is not writable, channel prefetch).
    var blocked: Set<String> = []
    /// When set, every delivery is acknowledged from inside `deliver` (re-entrancy).
    var acknowledgeImmediately = false

    func canDeliver(to consumer: Consumer) -> Bool {
        !blocked.contains(consumer.tag)
    }

    func deliver(_ message: QueuedMessage, from queue: Queue, to consumer: Consumer) {
        deliveries.append(Delivery(consumerTag: consumer.tag, message: message))
        if acknowledgeImmediately && !consumer.noAck {
            consumer.unackedCount -= 1
            queue.acknowledge(message)
            queue.dispatch()
        }
    }

    func consumerCancelledByQueue(_ consumer: Consumer) {
        cancelled.append(consumer.tag)
    }

    func makeConsumer(_ tag: String, prefetch: UInt16 = 0, noAck: Bool = false) -> Consumer {
        Consumer(tag: tag, noAck: noAck, exclusive: false, arguments: [:], owner: self, prefetchLimit: prefetch)
    }

    /// Acknowledges the consumer's delivery, as a channel would on `basic.ack`.
    func acknowledge(_ consumer: Consumer, on queue: Queue) {
        consumer.unackedCount -= 1
        if let delivery = deliveries.last(where: { $0.consumerTag == consumer.tag }) {
            queue.acknowledge(delivery.message)
        }
        queue.dispatch()
    }
}

let connectionA = ConnectionID(1)
let connectionB = ConnectionID(2)

/// Shorter spellings of the declare calls, with the defaults most tests want.
extension VirtualHost {
    @discardableResult
    func declareQueue(
        _ name: String, passive: Bool = false, durable: Bool = false, exclusive: Bool = false,
        autoDelete: Bool = false, arguments: FieldTable = [:], connection: ConnectionID = connectionA
    ) throws -> Queue {
        try declareQueue(
            name: name, passive: passive, durable: durable, exclusive: exclusive, autoDelete: autoDelete,
            arguments: arguments, connection: connection)
    }

    @discardableResult
    func declareExchange(
        _ name: String, _ type: String, passive: Bool = false, durable: Bool = false, autoDelete: Bool = false,
        isInternal: Bool = false, arguments: FieldTable = [:]
    ) throws -> Exchange {
        try declareExchange(
            name: name, type: type, passive: passive, durable: durable, autoDelete: autoDelete, isInternal: isInternal,
            arguments: arguments)
    }

    func bindQueue(_ queue: String, to exchange: String, key: String = "", arguments: FieldTable = [:]) throws {
        try bind(destination: .queue(self.queue(named: queue)), source: exchange, routingKey: key, arguments: arguments)
    }

    func unbindQueue(_ queue: String, from exchange: String, key: String = "", arguments: FieldTable = [:]) throws {
        try unbind(
            destination: .queue(self.queue(named: queue)), source: exchange, routingKey: key, arguments: arguments)
    }

    func bindExchange(_ destination: String, to source: String, key: String = "", arguments: FieldTable = [:])
        throws
    {
        try bind(
            destination: .exchange(exchange(named: destination)), source: source, routingKey: key,
            arguments: arguments)
    }

    /// The names of the queues a publish to `exchange` reaches, in routing order.
    func routedQueueNames(_ exchange: String, key: String = "", headers: FieldTable? = nil) throws -> [String] {
        try route(exchange: self.exchange(named: exchange), routingKey: key, headers: { headers }).map(\.name)
    }
}
