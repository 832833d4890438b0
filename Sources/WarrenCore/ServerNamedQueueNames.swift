/// Generates `amq.gen-…` names for queues declared with an empty name, in RabbitMQ's shape:
/// the prefix and 22 characters of URL-safe base64 from 128 random bits.
struct ServerNamedQueueNames {
    private var generator = SystemRandomNumberGenerator()

    mutating func next() -> String {
        "amq.gen-" + RandomToken.make(using: &generator)
    }
}

/// Random identifiers in RabbitMQ's format for generated names (`amq.gen-`, `amq.ctag-`).
public enum RandomToken {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

    /// 22 URL-safe base64 characters encoding 128 random bits.
    public static func make(using generator: inout some RandomNumberGenerator) -> String {
        var high = generator.next() as UInt64
        var low = generator.next() as UInt64
        var characters: [Character] = []
        characters.reserveCapacity(22)
        for index in 0..<22 {
            let sixBits: UInt64
            if index < 11 {
                sixBits = high & 0x3F
                high >>= 6
            } else {
                sixBits = low & 0x3F
                low >>= 6
            }
            characters.append(alphabet[Int(sixBits)])
        }
        return String(characters)
    }

    public static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        return make(using: &generator)
    }
}
