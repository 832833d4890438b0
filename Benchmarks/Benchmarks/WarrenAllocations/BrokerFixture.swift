import AMQPWire
import NIOCore
import WarrenCore

/// A virtual host with one queue, reachable from the default exchange (by its name), from
/// `amq.direct` and from `amq.topic`.
final class BrokerFixture {
    static let queueName = "orders"
    /// Longer than 15 UTF-8 bytes, as real routing keys often are: decoding it allocates.
    static let longRoutingKey = "orders.eu-west-1.created"

    let vhost = VirtualHost(name: "/")
    let queue: Queue
    /// Reused by every publish, as `AMQPChannel.routedQueues` is.
    var routedQueues: [Queue] = []

    init() {
        do {
            queue = try vhost.declareQueue(
                name: Self.queueName, passive: false, durable: false, exclusive: false, autoDelete: false,
                arguments: [:], connection: ConnectionID(1))
            try vhost.bind(destination: .queue(queue), source: "amq.direct", routingKey: Self.queueName, arguments: [:])
            try vhost.bind(
                destination: .queue(queue), source: "amq.direct", routingKey: Self.longRoutingKey, arguments: [:])
            try vhost.bind(
                destination: .queue(queue), source: "amq.topic", routingKey: "orders.*.created", arguments: [:])
        } catch {
            fatalError("cannot set up the broker fixture: \(error)")
        }
    }

    /// Subscribes `owner` to the queue, as `basic.consume` does.
    @discardableResult
    func addConsumer(owner: EncodingConsumerOwner, noAck: Bool) -> Consumer {
        let consumer = Consumer(
            tag: "amq.ctag-2pZRkl0A3mJ1B4vQxYcT9w", noAck: noAck, exclusive: false, arguments: [:], owner: owner,
            prefetchLimit: 0)
        queue.addConsumer(consumer)
        return consumer
    }

    /// Empties the queue without releasing its storage (`Deque.popFirst` keeps capacity), so
    /// the next sample enqueues into room that is already there.
    func drain() {
        while queue.get(noAck: true) != nil {}
    }

    /// The server's path for one published message whose body fits one frame: decode the
    /// three frames, find the exchange, build the `Message`, route it and enqueue it
    /// (`AMQPConnection.receivedFrame` → `ContentAssembler` → `AMQPChannel.publish` → `route`),
    /// without confirms, transactions or mandatory returns.
    func publish(_ frames: ByteBuffer) throws {
        var input = frames
        let decoded = try FrameDecoder.decodePublish(from: &input)
        route(decoded.publish, header: decoded.header, body: decoded.body)
    }

    /// `AMQPChannel.publish` and `AMQPChannel.route` for a decoded publish.
    func route(_ publish: Spec.Basic.Publish, header: ContentHeader, body: ByteBuffer) {
        guard let exchange = try? vhost.exchange(named: publish.exchange) else {
            fatalError("no exchange '\(publish.exchange)'")
        }
        let message = Message(exchange: publish.exchange, routingKey: publish.routingKey, header: header, body: body)
        routedQueues.removeAll(keepingCapacity: true)
        vhost.route(
            exchange: exchange, routingKey: message.routingKey, headers: { try? message.header.properties().headers },
            into: &routedQueues)
        for queue in routedQueues {
            queue.enqueue(message)
        }
    }

    /// A message as `publish` builds it, decoded once from `fixture`'s bytes.
    func message(from fixture: PublishFixture) -> Message {
        do {
            var input = fixture.frames
            let decoded = try FrameDecoder.decodePublish(from: &input)
            return Message(
                exchange: decoded.publish.exchange, routingKey: decoded.publish.routingKey, header: decoded.header,
                body: decoded.body)
        } catch {
            fatalError("cannot decode the publish fixture: \(error)")
        }
    }
}
