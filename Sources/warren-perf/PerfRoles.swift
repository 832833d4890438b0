import AMQPWire
import NIOCore
import WarrenClient

/// Monotonic nanoseconds, shared by producers (stamped into bodies) and consumers.
func monotonicNanoseconds() -> UInt64 {
    NIODeadline.now().uptimeNanoseconds
}

/// Publishes as fast as the socket (or `rate`) allows, keeping at most `confirmWindow`
/// messages unconfirmed when confirms are on. Each body starts with the send time.
/// Confined to its connection's event loop: the run reads its counters only through
/// `eventLoop.submit`, hence the unchecked `Sendable`.
final class ProducerRole: ClientRole, @unchecked Sendable {
    struct Settings {
        var exchange: String
        var routingKey: String
        var size: Int
        var rate: Int
        var confirmWindow: Int
        var persistent: Bool
        var limit: Int?
        var deadline: NIODeadline
    }

    let settings: Settings
    private(set) var sent = 0
    private(set) var confirmed = 0
    private var lastConfirmTag: UInt64 = 0
    private var header: ContentHeader
    private var body: ByteBuffer
    private var scheduled = false
    private var rateStart = NIODeadline.now()

    init(settings: Settings) {
        self.settings = settings
        let properties = BasicProperties(deliveryMode: settings.persistent ? 2 : 1)
        var encoded = ByteBuffer()
        try? properties.encode(into: &encoded)
        self.header = ContentHeader(bodySize: UInt64(max(settings.size, 8)), encodedProperties: encoded)
        self.body = ByteBuffer(repeating: 0x2A, count: max(settings.size, 8))
    }

    private var writer: ClientWriter?

    /// Done sending; with a message limit, also every write has reached the socket, so the
    /// connection can be closed without losing the tail of the run.
    var finished: Bool {
        if let limit = settings.limit, sent >= limit { return (writer?.outstandingWrites ?? 0) == 0 }
        return NIODeadline.now() >= settings.deadline
    }

    private var sendingDone: Bool {
        if let limit = settings.limit { return sent >= limit }
        return NIODeadline.now() >= settings.deadline
    }

    func started(_ writer: ClientWriter) {
        self.writer = writer
        rateStart = .now()
        pump(writer)
    }

    func received(_ frame: Frame, _ writer: ClientWriter) {
        guard case .method(_, let method) = frame else { return }
        switch method {
        case .basicAck(let ack):
            settle(upTo: ack.deliveryTag, multiple: ack.multiple)
        case .basicNack(let nack):
            settle(upTo: nack.deliveryTag, multiple: nack.multiple)
        default:
            break
        }
    }

    private func settle(upTo tag: UInt64, multiple: Bool) {
        if multiple {
            if tag > lastConfirmTag {
                confirmed += Int(tag - lastConfirmTag)
                lastConfirmTag = tag
            }
        } else {
            confirmed += 1
            lastConfirmTag = max(lastConfirmTag, tag)
        }
    }

    func readCycleEnded(_ writer: ClientWriter) {
        pump(writer)
    }

    func writabilityChanged(_ writer: ClientWriter) {
        pump(writer)
    }

    /// Writes a batch, then re-arms itself on the event loop while there is room.
    private func pump(_ writer: ClientWriter) {
        guard !sendingDone else { return }
        var budget = 256
        if settings.rate > 0 {
            let elapsed = Double((NIODeadline.now() - rateStart).nanoseconds) / 1e9
            budget = min(budget, Int(elapsed * Double(settings.rate)) - sent)
        }
        if settings.confirmWindow > 0 {
            budget = min(budget, settings.confirmWindow - (sent - confirmed))
        }
        if let limit = settings.limit {
            budget = min(budget, limit - sent)
        }
        var wrote = 0
        while wrote < budget && writer.isWritable {
            var stamped = body
            stamped.setInteger(monotonicNanoseconds(), at: stamped.readerIndex)
            writer.content(
                .basicPublish(.init(exchange: settings.exchange, routingKey: settings.routingKey)), header: header,
                body: stamped)
            wrote += 1
            sent += 1
        }
        writer.flush()
        guard !scheduled, !sendingDone else { return }
        let waitingForConfirms = settings.confirmWindow > 0 && sent - confirmed >= settings.confirmWindow
        if !writer.isWritable || waitingForConfirms { return }
        scheduled = true
        if settings.rate > 0 && budget <= 0 {
            writer.eventLoop.assumeIsolated().scheduleTask(in: .microseconds(500)) { [self] in
                self.scheduled = false
                self.pump(writer)
            }
        } else {
            writer.eventLoop.assumeIsolated().execute { [self] in
                self.scheduled = false
                self.pump(writer)
            }
        }
    }
}

/// Consumes, acknowledging each delivery (batched into the read cycle's single write) unless
/// auto-ack, and records end-to-end latency from the timestamp in the body.
/// Confined to its connection's event loop, like ``ProducerRole``.
final class ConsumerRole: ClientRole, @unchecked Sendable {
    let autoAck: Bool
    let limit: Int?
    private(set) var received = 0
    private(set) var histogram = LatencyHistogram()
    private var pendingAck: UInt64?
    private var pendingAckCount = 0
    private var expectingBody = false

    init(autoAck: Bool, limit: Int?) {
        self.autoAck = autoAck
        self.limit = limit
    }

    func started(_ writer: ClientWriter) {}

    func received(_ frame: Frame, _ writer: ClientWriter) {
        switch frame {
        case .method(_, .basicDeliver(let deliver)):
            if !autoAck {
                pendingAck = deliver.deliveryTag
                pendingAckCount += 1
            }
        case .body(_, let body):
            if let sentAt = body.getInteger(at: body.readerIndex, as: UInt64.self) {
                let now = monotonicNanoseconds()
                if now >= sentAt { histogram.record(microseconds: Int((now - sentAt) / 1000)) }
            }
            received += 1
            if let limit, received >= limit {
                flushAcks(writer)
                writer.close()
            }
        default:
            break
        }
    }

    func readCycleEnded(_ writer: ClientWriter) {
        flushAcks(writer)
    }

    /// One `basic.ack` with `multiple` covers every delivery of the read cycle.
    private func flushAcks(_ writer: ClientWriter) {
        guard let tag = pendingAck else { return }
        writer.method(.basicAck(.init(deliveryTag: tag, multiple: pendingAckCount > 1)))
        pendingAck = nil
        pendingAckCount = 0
    }
}

/// Holds a connection open and does nothing (for per-connection memory measurements).
final class IdleRole: ClientRole, Sendable {
    func started(_ writer: ClientWriter) {}
}
