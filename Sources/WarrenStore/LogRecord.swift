import AMQPWire
import NIOCore

/// A queue, named the way log records name it.
public struct QueueKey: Hashable, Sendable {
    public var vhost: String
    public var queue: String

    public init(vhost: String, queue: String) {
        self.vhost = vhost
        self.queue = queue
    }
}

/// A persistent message as the log stores it: written once however many durable queues it
/// reached, with each queue's position and deadline.
public struct PublishRecord: Sendable {
    public struct Target: Sendable, Equatable {
        public var queue: String
        /// The message's position in that queue's publish order.
        public var sequence: UInt64
        /// Wall-clock expiry in Unix milliseconds (0 for never), so a TTL keeps running across
        /// a restart.
        public var expiresAt: UInt64

        public init(queue: String, sequence: UInt64, expiresAt: UInt64) {
            self.queue = queue
            self.sequence = sequence
            self.expiresAt = expiresAt
        }
    }

    public var id: UInt64
    public var vhost: String
    public var targets: [Target]
    public var exchange: String
    public var routingKey: String
    public var header: ContentHeader
    public var body: ByteBuffer

    public init(
        id: UInt64, vhost: String, targets: [Target], exchange: String, routingKey: String, header: ContentHeader,
        body: ByteBuffer
    ) {
        self.id = id
        self.vhost = vhost
        self.targets = targets
        self.exchange = exchange
        self.routingKey = routingKey
        self.header = header
        self.body = body
    }
}

/// A persistent message a durable delayed exchange holds until `dueAt`.
public struct DelayedRecord: Sendable {
    public var id: UInt64
    public var vhost: String
    public var exchange: String
    /// Wall-clock due time in Unix milliseconds.
    public var dueAt: UInt64
    public var routingKey: String
    public var extraRoutingKeys: [String]
    public var header: ContentHeader
    public var body: ByteBuffer
}

/// One entry of the message log. Everything after the publish is a small record naming the
/// queue and the message, so the log is mostly the message bodies themselves.
public enum LogRecord: Sendable {
    case publish(PublishRecord)
    /// The queue is done with the message: acknowledged, rejected, expired, dropped or purged.
    case settle(QueueKey, UInt64)
    /// The message was handed to a client once (it comes back marked redelivered).
    case delivered(QueueKey, UInt64)
    /// The message came back unsettled (counts towards `x-delivery-limit`).
    case returned(QueueKey, UInt64)
    /// The queue was deleted with everything in it.
    case queueDeleted(QueueKey)
    /// A delayed exchange holds a message.
    case delayed(DelayedRecord)
    /// The delayed message left its exchange.
    case released(vhost: String, id: UInt64)

    private enum Kind: UInt8 {
        case publish = 1, settle, delivered, returned, queueDeleted, delayed, released
    }

    /// Bytes before the payload: its length and its CRC-32C (which also covers the kind byte).
    static let headerSize = 8

    /// Appends the framed record: `length u32 | crc32c u32 | kind u8 | payload`.
    func encode(into buffer: inout ByteBuffer) throws {
        let start = buffer.writerIndex
        buffer.writeInteger(UInt32(0))
        buffer.writeInteger(UInt32(0))
        switch self {
        case .publish(let record):
            buffer.writeInteger(Kind.publish.rawValue)
            buffer.writeInteger(record.id)
            try buffer.writeShortString(record.vhost)
            buffer.writeInteger(UInt16(record.targets.count))
            for target in record.targets {
                try buffer.writeShortString(target.queue)
                buffer.writeInteger(target.sequence)
                buffer.writeInteger(target.expiresAt)
            }
            try buffer.writeShortString(record.exchange)
            try buffer.writeShortString(record.routingKey)
            Self.writeContent(record.header, record.body, into: &buffer)
        case .settle(let key, let id):
            try Self.writeQueueRecord(.settle, key, id, into: &buffer)
        case .delivered(let key, let id):
            try Self.writeQueueRecord(.delivered, key, id, into: &buffer)
        case .returned(let key, let id):
            try Self.writeQueueRecord(.returned, key, id, into: &buffer)
        case .queueDeleted(let key):
            buffer.writeInteger(Kind.queueDeleted.rawValue)
            try buffer.writeShortString(key.vhost)
            try buffer.writeShortString(key.queue)
        case .delayed(let record):
            buffer.writeInteger(Kind.delayed.rawValue)
            buffer.writeInteger(record.id)
            try buffer.writeShortString(record.vhost)
            try buffer.writeShortString(record.exchange)
            buffer.writeInteger(record.dueAt)
            try buffer.writeShortString(record.routingKey)
            buffer.writeInteger(UInt16(record.extraRoutingKeys.count))
            for key in record.extraRoutingKeys { try buffer.writeShortString(key) }
            Self.writeContent(record.header, record.body, into: &buffer)
        case .released(let vhost, let id):
            buffer.writeInteger(Kind.released.rawValue)
            try buffer.writeShortString(vhost)
            buffer.writeInteger(id)
        }
        let payloadStart = start + Self.headerSize
        let length = buffer.writerIndex - payloadStart
        let crc = buffer.withUnsafeReadableBytes { bytes in
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[(payloadStart - buffer.readerIndex)...]))
        }
        buffer.setInteger(UInt32(length), at: start)
        buffer.setInteger(crc, at: start + 4)
    }

    private static func writeContent(_ header: ContentHeader, _ body: ByteBuffer, into buffer: inout ByteBuffer) {
        let headerLengthIndex = buffer.writerIndex
        buffer.writeInteger(UInt32(0))
        header.encode(into: &buffer)
        buffer.setInteger(UInt32(buffer.writerIndex - headerLengthIndex - 4), at: headerLengthIndex)
        buffer.writeInteger(UInt32(body.readableBytes))
        buffer.writeImmutableBuffer(body)
    }

    private static func readContent(_ payload: inout ByteBuffer) throws -> (ContentHeader, ByteBuffer) {
        let headerLength: UInt32 = try payload.readAMQPInteger("header length")
        guard var headerBytes = payload.readSlice(length: Int(headerLength)) else {
            throw AMQPWireError.truncated(what: "content header")
        }
        let header = try ContentHeader.decode(from: &headerBytes)
        let bodyLength: UInt32 = try payload.readAMQPInteger("body length")
        guard let body = payload.readSlice(length: Int(bodyLength)) else { throw AMQPWireError.truncated(what: "body") }
        return (header, body)
    }

    private static func writeQueueRecord(_ kind: Kind, _ key: QueueKey, _ id: UInt64, into buffer: inout ByteBuffer)
        throws
    {
        buffer.writeInteger(kind.rawValue)
        try buffer.writeShortString(key.vhost)
        try buffer.writeShortString(key.queue)
        buffer.writeInteger(id)
    }

    /// What reading a record at some offset found.
    enum ReadResult {
        case record(LogRecord, size: Int)
        /// Not enough bytes left for the record its header announces (a torn tail).
        case truncated
        /// The bytes are not a valid record (bad checksum or contents).
        case corrupt
    }

    /// Reads the framed record at the start of `bytes`.
    static func read(from bytes: ByteBuffer) -> ReadResult {
        guard let length = bytes.getInteger(at: bytes.readerIndex, as: UInt32.self),
            let crc = bytes.getInteger(at: bytes.readerIndex + 4, as: UInt32.self)
        else { return .truncated }
        guard length > 0, length < 1 << 30 else { return .corrupt }
        guard var payload = bytes.getSlice(at: bytes.readerIndex + headerSize, length: Int(length)) else {
            return .truncated
        }
        let actual = payload.withUnsafeReadableBytes { CRC32C.checksum($0) }
        guard actual == crc, let record = try? decode(&payload), payload.readableBytes == 0 else { return .corrupt }
        return .record(record, size: headerSize + Int(length))
    }

    private static func decode(_ payload: inout ByteBuffer) throws -> LogRecord {
        let rawKind: UInt8 = try payload.readAMQPInteger("record kind")
        guard let kind = Kind(rawValue: rawKind) else { throw AMQPWireError.truncated(what: "record kind") }
        switch kind {
        case .publish:
            let id: UInt64 = try payload.readAMQPInteger("message id")
            let vhost = try payload.readShortString()
            let count: UInt16 = try payload.readAMQPInteger("target count")
            var targets: [PublishRecord.Target] = []
            for _ in 0..<count {
                let queue = try payload.readShortString()
                let sequence: UInt64 = try payload.readAMQPInteger("sequence")
                let expiresAt: UInt64 = try payload.readAMQPInteger("expiry")
                targets.append(.init(queue: queue, sequence: sequence, expiresAt: expiresAt))
            }
            let exchange = try payload.readShortString()
            let routingKey = try payload.readShortString()
            let (header, body) = try readContent(&payload)
            return .publish(
                PublishRecord(
                    id: id, vhost: vhost, targets: targets, exchange: exchange, routingKey: routingKey, header: header,
                    body: body))
        case .settle, .delivered, .returned:
            let key = QueueKey(vhost: try payload.readShortString(), queue: try payload.readShortString())
            let id: UInt64 = try payload.readAMQPInteger("message id")
            switch kind {
            case .settle: return .settle(key, id)
            case .delivered: return .delivered(key, id)
            default: return .returned(key, id)
            }
        case .queueDeleted:
            return .queueDeleted(QueueKey(vhost: try payload.readShortString(), queue: try payload.readShortString()))
        case .delayed:
            let id: UInt64 = try payload.readAMQPInteger("message id")
            let vhost = try payload.readShortString()
            let exchange = try payload.readShortString()
            let dueAt: UInt64 = try payload.readAMQPInteger("due time")
            let routingKey = try payload.readShortString()
            let count: UInt16 = try payload.readAMQPInteger("key count")
            var extraRoutingKeys: [String] = []
            for _ in 0..<count { extraRoutingKeys.append(try payload.readShortString()) }
            let (header, body) = try readContent(&payload)
            return .delayed(
                DelayedRecord(
                    id: id, vhost: vhost, exchange: exchange, dueAt: dueAt, routingKey: routingKey,
                    extraRoutingKeys: extraRoutingKeys, header: header, body: body))
        case .released:
            let vhost = try payload.readShortString()
            let id: UInt64 = try payload.readAMQPInteger("message id")
            return .released(vhost: vhost, id: id)
        }
    }
}
