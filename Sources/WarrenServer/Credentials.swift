import AMQPWire
import NIOCore

/// A user name and password as a SASL mechanism carried them in `connection.start-ok`.
struct Credentials: Equatable {
    var username: String
    var password: String

    /// The mechanism that takes the user from the client's verified TLS certificate.
    static let external = "EXTERNAL"

    /// Parses the `response` of `start-ok` for `mechanism`; nil when it is malformed or the
    /// mechanism is not one Warren offers.
    static func parse(mechanism: String, response: ByteBuffer) -> Credentials? {
        switch mechanism {
        case "PLAIN":
            // authzid NUL authcid NUL passwd
            let bytes = Array(response.readableBytesView)
            let parts = bytes.split(separator: 0, omittingEmptySubsequences: false)
            guard parts.count == 3,
                let user = String(validating: parts[1], as: UTF8.self),
                let password = String(validating: parts[2], as: UTF8.self)
            else { return nil }
            return Credentials(username: user, password: password)
        case "AMQPLAIN":
            // A field table without its length prefix, holding LOGIN and PASSWORD.
            var framed = ByteBuffer()
            framed.writeInteger(UInt32(response.readableBytes))
            framed.writeImmutableBuffer(response)
            guard let table = try? framed.readFieldTable(),
                let user = table["LOGIN"]?.stringValue,
                let password = table["PASSWORD"]?.stringValue
            else { return nil }
            return Credentials(username: user, password: password)
        default:
            return nil
        }
    }
}
