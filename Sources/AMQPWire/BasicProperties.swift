import NIOCore

/// The 14 properties of the `basic` content class, in wire order.
///
/// Each is optional because presence is itself information on the wire (the property-flags
/// word), and RabbitMQ relays absent and empty properties differently.
public struct BasicProperties: Sendable, Hashable {
    public var contentType: String?
    public var contentEncoding: String?
    public var headers: FieldTable?
    public var deliveryMode: UInt8?
    public var priority: UInt8?
    public var correlationID: String?
    public var replyTo: String?
    public var expiration: String?
    public var messageID: String?
    public var timestamp: UInt64?
    public var type: String?
    public var userID: String?
    public var appID: String?
    public var clusterID: String?

    public init(
        contentType: String? = nil, contentEncoding: String? = nil, headers: FieldTable? = nil,
        deliveryMode: UInt8? = nil, priority: UInt8? = nil, correlationID: String? = nil,
        replyTo: String? = nil, expiration: String? = nil, messageID: String? = nil,
        timestamp: UInt64? = nil, type: String? = nil, userID: String? = nil,
        appID: String? = nil, clusterID: String? = nil
    ) {
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.headers = headers
        self.deliveryMode = deliveryMode
        self.priority = priority
        self.correlationID = correlationID
        self.replyTo = replyTo
        self.expiration = expiration
        self.messageID = messageID
        self.timestamp = timestamp
        self.type = type
        self.userID = userID
        self.appID = appID
        self.clusterID = clusterID
    }

    /// True when `delivery_mode` is 2, which RabbitMQ treats as "persistent".
    public var isPersistent: Bool { deliveryMode == 2 }
}

extension BasicProperties {
    // Property-flag bits, most significant first; bit 0 would announce a further flags word.
    @usableFromInline static let contentTypeFlag: UInt16 = 1 << 15
    @usableFromInline static let contentEncodingFlag: UInt16 = 1 << 14
    public static let headersFlag: UInt16 = 1 << 13
    @usableFromInline static let deliveryModeFlag: UInt16 = 1 << 12
    @usableFromInline static let priorityFlag: UInt16 = 1 << 11
    @usableFromInline static let correlationIDFlag: UInt16 = 1 << 10
    public static let replyToFlag: UInt16 = 1 << 9
    public static let expirationFlag: UInt16 = 1 << 8
    @usableFromInline static let messageIDFlag: UInt16 = 1 << 7
    @usableFromInline static let timestampFlag: UInt16 = 1 << 6
    @usableFromInline static let typeFlag: UInt16 = 1 << 5
    public static let userIDFlag: UInt16 = 1 << 4
    @usableFromInline static let appIDFlag: UInt16 = 1 << 3
    @usableFromInline static let clusterIDFlag: UInt16 = 1 << 2
    static let continuationFlag: UInt16 = 1

    /// Decodes the property-flags word and the property list that follows it.
    public static func decode(from buffer: inout ByteBuffer) throws -> BasicProperties {
        let flags: UInt16 = try buffer.readAMQPInteger("property flags")
        guard flags & (continuationFlag | 0b10) == 0 else {
            throw AMQPWireError.invalidPropertyFlags(flags)
        }
        var p = BasicProperties()
        if flags & contentTypeFlag != 0 { p.contentType = try buffer.readShortString() }
        if flags & contentEncodingFlag != 0 { p.contentEncoding = try buffer.readShortString() }
        if flags & headersFlag != 0 { p.headers = try buffer.readFieldTable() }
        if flags & deliveryModeFlag != 0 { p.deliveryMode = try buffer.readAMQPInteger("delivery mode") }
        if flags & priorityFlag != 0 { p.priority = try buffer.readAMQPInteger("priority") }
        if flags & correlationIDFlag != 0 { p.correlationID = try buffer.readShortString() }
        if flags & replyToFlag != 0 { p.replyTo = try buffer.readShortString() }
        if flags & expirationFlag != 0 { p.expiration = try buffer.readShortString() }
        if flags & messageIDFlag != 0 { p.messageID = try buffer.readShortString() }
        if flags & timestampFlag != 0 { p.timestamp = try buffer.readAMQPInteger("timestamp") }
        if flags & typeFlag != 0 { p.type = try buffer.readShortString() }
        if flags & userIDFlag != 0 { p.userID = try buffer.readShortString() }
        if flags & appIDFlag != 0 { p.appID = try buffer.readShortString() }
        if flags & clusterIDFlag != 0 { p.clusterID = try buffer.readShortString() }
        return p
    }

    /// Encodes the property-flags word and the present properties.
    public func encode(into buffer: inout ByteBuffer) throws {
        var flags: UInt16 = 0
        if contentType != nil { flags |= Self.contentTypeFlag }
        if contentEncoding != nil { flags |= Self.contentEncodingFlag }
        if headers != nil { flags |= Self.headersFlag }
        if deliveryMode != nil { flags |= Self.deliveryModeFlag }
        if priority != nil { flags |= Self.priorityFlag }
        if correlationID != nil { flags |= Self.correlationIDFlag }
        if replyTo != nil { flags |= Self.replyToFlag }
        if expiration != nil { flags |= Self.expirationFlag }
        if messageID != nil { flags |= Self.messageIDFlag }
        if timestamp != nil { flags |= Self.timestampFlag }
        if type != nil { flags |= Self.typeFlag }
        if userID != nil { flags |= Self.userIDFlag }
        if appID != nil { flags |= Self.appIDFlag }
        if clusterID != nil { flags |= Self.clusterIDFlag }
        buffer.writeInteger(flags)
        if let contentType { try buffer.writeShortString(contentType) }
        if let contentEncoding { try buffer.writeShortString(contentEncoding) }
        if let headers { try buffer.writeFieldTable(headers) }
        if let deliveryMode { buffer.writeInteger(deliveryMode) }
        if let priority { buffer.writeInteger(priority) }
        if let correlationID { try buffer.writeShortString(correlationID) }
        if let replyTo { try buffer.writeShortString(replyTo) }
        if let expiration { try buffer.writeShortString(expiration) }
        if let messageID { try buffer.writeShortString(messageID) }
        if let timestamp { buffer.writeInteger(timestamp) }
        if let type { try buffer.writeShortString(type) }
        if let userID { try buffer.writeShortString(userID) }
        if let appID { try buffer.writeShortString(appID) }
        if let clusterID { try buffer.writeShortString(clusterID) }
    }
}
