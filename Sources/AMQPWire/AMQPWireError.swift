import NIOCore

/// Every way bytes from the network can fail to be AMQP.
///
/// The server maps each case to the reply code RabbitMQ would send (mostly 501 FRAME_ERROR or
/// 502 SYNTAX_ERROR), so a decoder never has to know about connections; the offending bytes
/// travel with the error for logs.
public enum AMQPWireError: Error, Equatable, Sendable {
    /// A payload ended before a field it promised.
    case truncated(what: String)
    /// The octet after a frame payload was not 0xCE.
    case badFrameEnd(octet: UInt8)
    /// A frame type other than method, header, body or heartbeat.
    case unknownFrameType(UInt8)
    /// A frame larger than the negotiated `frame_max`.
    case frameTooLarge(type: UInt8, size: UInt32, frameMax: UInt32)
    /// A class/method pair that the 0-9-1 spec (with RabbitMQ's extensions) does not define.
    case unknownMethod(classID: UInt16, methodID: UInt16)
    /// A field-table value whose type octet is not one RabbitMQ knows.
    case unknownFieldType(UInt8)
    /// A short string longer than 255 bytes was about to be encoded.
    case shortStringTooLong(length: Int)
    /// A string field that was not valid UTF-8.
    case invalidUTF8(what: String)
    /// A method payload with bytes left over after its last field.
    case trailingBytes(classID: UInt16, methodID: UInt16, count: Int)
    /// A content header whose property flags use bits the class does not define.
    case invalidPropertyFlags(UInt16)
}
