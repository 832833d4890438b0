import NIOCore

/// A content header frame's payload, with the properties kept as the bytes that arrived.
///
/// The broker relays properties unchanged on almost every delivery, so it keeps the encoded
/// flags-and-list bytes and writes them straight back out; ``properties()`` decodes them only
/// when a rule needs to look inside (priority, expiration, headers routing, dead-lettering).
public struct ContentHeader: Sendable, Hashable {
    public var classID: UInt16
    public var weight: UInt16
    public var bodySize: UInt64
    /// The property-flags word(s) and the property list, exactly as encoded.
    public var encodedProperties: ByteBuffer

    public init(classID: UInt16 = 60, weight: UInt16 = 0, bodySize: UInt64, encodedProperties: ByteBuffer) {
        self.classID = classID
        self.weight = weight
        self.bodySize = bodySize
        self.encodedProperties = encodedProperties
    }

    public init(classID: UInt16 = 60, bodySize: UInt64, properties: BasicProperties) throws {
        var bytes = ByteBuffer()
        try properties.encode(into: &bytes)
        self.init(classID: classID, bodySize: bodySize, encodedProperties: bytes)
    }

    /// Decodes the properties; throws if the bytes are malformed.
    public func properties() throws -> BasicProperties {
        var bytes = encodedProperties
        let properties = try BasicProperties.decode(from: &bytes)
        guard bytes.readableBytes == 0 else {
            throw AMQPWireError.trailingBytes(classID: classID, methodID: 0, count: bytes.readableBytes)
        }
        return properties
    }

    /// The property-flags word, for cheap presence checks without decoding.
    public var propertyFlags: UInt16 {
        encodedProperties.getInteger(at: encodedProperties.readerIndex, as: UInt16.self) ?? 0
    }

    public static func decode(from buffer: inout ByteBuffer) throws -> ContentHeader {
        let classID: UInt16 = try buffer.readAMQPInteger("content class")
        let weight: UInt16 = try buffer.readAMQPInteger("content weight")
        let bodySize: UInt64 = try buffer.readAMQPInteger("body size")
        let encoded = buffer.readSlice(length: buffer.readableBytes) ?? ByteBuffer()
        try BasicProperties.validate(encoded)
        return ContentHeader(classID: classID, weight: weight, bodySize: bodySize, encodedProperties: encoded)
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(classID)
        buffer.writeInteger(weight)
        buffer.writeInteger(bodySize)
        buffer.writeImmutableBuffer(encodedProperties)
    }
}
