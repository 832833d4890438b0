import AMQPWire
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Milliseconds on a monotonic clock: what message deadlines are measured in.
///
/// Queues read time through this so tests can drive expiry with a manual clock.
public protocol BrokerClock {
    func milliseconds() -> UInt64
    /// Wall-clock seconds since the Unix epoch, for timestamps clients read (`x-death` time).
    func epochSeconds() -> UInt64
}

extension BrokerClock {
    public func epochSeconds() -> UInt64 {
        UInt64(max(0, time(nil)))
    }
}

/// The real clock: monotonic uptime, unaffected by wall-clock changes.
public struct MonotonicClock: BrokerClock {
    public init() {}

    public func milliseconds() -> UInt64 {
        NIODeadline.now().uptimeNanoseconds / 1_000_000
    }
}

/// Runs timed work (message and queue expiry, delayed messages) at a deadline; the server
/// implements it with its event loop's timers.
public protocol ExpiryScheduler: AnyObject {
    /// Calls `action` at (or soon after) `deadline`, in ``BrokerClock`` milliseconds, on the
    /// broker's executor.
    func schedule(at deadline: UInt64, _ action: @escaping () -> Void)
}

/// The per-message `expiration` property: milliseconds as a decimal string, parsed with
/// RabbitMQ's rules and error terms (`no_integer`, `{value_negative,N}`, `{leftover_string,"S"}`).
public enum MessageExpiration {
    /// Ten years in milliseconds: the largest expiration RabbitMQ 3.10 accepts.
    public static let maximum: Int64 = 315_360_000_000

    public static func parse(_ text: String) throws -> UInt64 {
        let bytes = Array(text.utf8)
        var index = 0
        var negative = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            negative = bytes[index] == UInt8(ascii: "-")
            index += 1
        }
        var value: Int64 = 0
        let digitsStart = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
            value = min(value * 10 + Int64(bytes[index] - UInt8(ascii: "0")), Int64.max / 10)
            index += 1
        }
        guard index > digitsStart else { throw invalid(text, "no_integer") }
        guard index == bytes.count else {
            throw invalid(text, "{leftover_string,\"\(String(decoding: bytes[index...], as: UTF8.self))\"}")
        }
        if negative && value != 0 { throw invalid(text, "{value_negative,-\(value)}") }
        if value > maximum { throw invalid(text, "{value_too_large,\(value)}") }
        return UInt64(value)
    }

    private static func invalid(_ text: String, _ reason: String) -> AMQPError {
        AMQPError(.preconditionFailed, "invalid expiration '\(text)': \(reason)")
    }

    /// The message's `expiration`, read only when the property is present.
    public static func of(_ header: ContentHeader) throws -> UInt64? {
        guard header.propertyFlags & BasicProperties.expirationFlag != 0,
            let text = try? header.properties().expiration
        else { return nil }
        return try parse(text)
    }
}
