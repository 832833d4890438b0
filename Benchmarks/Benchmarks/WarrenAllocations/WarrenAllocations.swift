// Allocations on Warren's in-process hot path: what one published message and one delivery
// cost in mallocs, from the frame bytes to the queue and from the queue to the encoded frames.
//
// Every benchmark processes 1,000 messages per sample (scaling factor `.kilo`); the table shows
// the metrics scaled back to one message (marked `*`), so "Malloc (total) *" is mallocs per
// published message or per delivery. `--allocation-stacks` lists where each one comes from.
//
// The first group measures whole paths (publish: frame bytes to a queue; deliver: a queue to the
// encoded frames); the "Step" group splits the publish path so a regression can be pinned to one
// step. Routing and delivery mirror what `AMQPChannel` does, since the server's own types are
// internal: keep them in step with Sources/WarrenServer/AMQPChannel*.swift.

import AMQPWire
import Benchmark
import NIOCore
import NIOEmbedded
import WarrenCore

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.mallocCountTotal, .throughput, .wallClock],
        scalingFactor: .kilo,
        maxDuration: .seconds(1)
    )

    let minimalDefault = PublishFixture(
        exchange: "", routingKey: BrokerFixture.queueName, properties: PublishFixture.minimalProperties)
    let minimalDirect = PublishFixture(
        exchange: "amq.direct", routingKey: BrokerFixture.queueName, properties: PublishFixture.minimalProperties)
    let typicalDirect = PublishFixture(
        exchange: "amq.direct", routingKey: BrokerFixture.longRoutingKey,
        properties: PublishFixture.typicalProperties)
    let typicalTopic = PublishFixture(
        exchange: "amq.topic", routingKey: BrokerFixture.longRoutingKey,
        properties: PublishFixture.typicalProperties)

    // MARK: Whole paths

    for (name, fixture) in [
        ("default exchange, delivery-mode only", minimalDefault),
        ("amq.direct, delivery-mode only", minimalDirect),
        ("amq.direct, typical properties", typicalDirect),
        ("amq.topic, typical properties", typicalTopic),
    ] {
        let broker = BrokerFixture()
        Benchmark("Publish, no consumer: \(name)") { benchmark in
            for _ in benchmark.scaledIterations {
                try broker.publish(fixture.frames)
            }
            benchmark.stopMeasurement()
            broker.drain()
        }
    }

    for noAck in [true, false] {
        let broker = BrokerFixture()
        let owner = EncodingConsumerOwner()
        broker.addConsumer(owner: owner, noAck: noAck)
        let message = broker.message(from: minimalDirect)
        Benchmark("Deliver: \(noAck ? "no-ack" : "manual-ack") consumer") { benchmark in
            for _ in benchmark.scaledIterations {
                broker.queue.enqueue(message)
            }
            benchmark.stopMeasurement()
            precondition(broker.queue.messageCount == 0 && owner.deliveries > 0)
            owner.settleAndFlush()
        }
    }

    for (name, fixture) in [
        ("amq.direct, delivery-mode only", minimalDirect),
        ("amq.direct, typical properties", typicalDirect),
    ] {
        let broker = BrokerFixture()
        let owner = EncodingConsumerOwner()
        broker.addConsumer(owner: owner, noAck: false)
        Benchmark("Publish and deliver to a manual-ack consumer: \(name)") { benchmark in
            for _ in benchmark.scaledIterations {
                try broker.publish(fixture.frames)
            }
            benchmark.stopMeasurement()
            owner.settleAndFlush()
        }
    }

    do {
        let broker = BrokerFixture()
        let channel = EmbeddedChannel()
        do {
            try channel.pipeline.syncOperations.addHandlers([
                ByteToMessageHandler(FrameDecoder()), PublishPipelineSink(broker: broker),
            ])
        } catch {
            fatalError("cannot build the pipeline: \(error)")
        }
        Benchmark("Publish through ByteToMessageHandler, no consumer: amq.direct, delivery-mode only") { benchmark in
            for _ in benchmark.scaledIterations {
                try channel.writeInbound(minimalDirect.frames)
            }
            benchmark.stopMeasurement()
            broker.drain()
        }
    }

    // MARK: Steps of the publish path

    for (name, fixture) in [
        ("delivery-mode only", minimalDirect),
        ("typical properties, long routing key", typicalDirect),
    ] {
        Benchmark("Step: decode method, header and body frames: \(name)") { benchmark in
            for _ in benchmark.scaledIterations {
                var input = fixture.frames
                blackHole(try FrameDecoder.decodePublish(from: &input))
            }
        }
    }

    do {
        let broker = BrokerFixture()
        let message = broker.message(from: typicalDirect)
        Benchmark("Step: ContentHeader.properties(): typical properties") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try message.header.properties())
            }
        }
    }

    do {
        var input = minimalDirect.frames
        let frame: Frame
        do {
            guard let decoded = try FrameDecoder.decodeFrame(from: &input, maxFrameSize: PublishFixture.frameMax)
            else { fatalError("no frame") }
            frame = decoded
        } catch {
            fatalError("cannot decode: \(error)")
        }
        Benchmark("Step: NIOAny(Frame), once per frame a ByteToMessageHandler passes on") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(NIOAny(frame))
            }
        }
    }

    for (name, exchangeName, routingKey) in [
        ("default exchange", "", BrokerFixture.queueName),
        ("amq.direct", "amq.direct", BrokerFixture.queueName),
        ("amq.topic", "amq.topic", BrokerFixture.longRoutingKey),
    ] {
        let broker = BrokerFixture()
        let exchange: Exchange
        do { exchange = try broker.vhost.exchange(named: exchangeName) } catch { fatalError("\(error)") }
        var routedQueues: [Queue] = []
        Benchmark("Step: VirtualHost.route to one queue: \(name)") { benchmark in
            for _ in benchmark.scaledIterations {
                routedQueues.removeAll(keepingCapacity: true)
                broker.vhost.route(exchange: exchange, routingKey: routingKey, headers: { nil }, into: &routedQueues)
                precondition(routedQueues.count == 1)
                blackHole(routedQueues)
            }
        }
    }

    do {
        let broker = BrokerFixture()
        let message = broker.message(from: minimalDirect)
        Benchmark("Step: Queue.enqueue, no consumer") { benchmark in
            for _ in benchmark.scaledIterations {
                broker.queue.enqueue(message)
            }
            benchmark.stopMeasurement()
            broker.drain()
        }
    }
}
