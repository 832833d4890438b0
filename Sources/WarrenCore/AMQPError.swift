import AMQPWire

/// A protocol error as the client will see it: the reply code and RabbitMQ's wording.
///
/// Thrown by every broker operation that a client request can make fail; the server turns it
/// into `channel.close` (soft) or `connection.close` (hard) according to the code, naming the
/// method that caused it.
public struct AMQPError: Error, Equatable, Sendable, CustomStringConvertible {
    public var code: ReplyCode
    /// The explanation after the code's name, e.g. `no queue 'q' in vhost '/'`.
    public var explanation: String

    public init(_ code: ReplyCode, _ explanation: String) {
        self.code = code
        self.explanation = explanation
    }

    /// The full reply text, `NOT_FOUND - no queue 'q' in vhost '/'`, as RabbitMQ sends it.
    public var replyText: String { code.replyText(explanation) }

    public var description: String { "\(code.rawValue) \(replyText)" }
}

extension AMQPError {
    public static func noQueue(_ name: String, vhost: String) -> AMQPError {
        AMQPError(.notFound, "no queue '\(name)' in vhost '\(vhost)'")
    }

    static func noExchange(_ name: String, vhost: String) -> AMQPError {
        AMQPError(.notFound, "no exchange '\(name)' in vhost '\(vhost)'")
    }

    static func inequivalent(
        _ argument: String, kind: String, name: String, vhost: String, received: String, current: String
    ) -> AMQPError {
        AMQPError(
            .preconditionFailed,
            "inequivalent arg '\(argument)' for \(kind) '\(name)' in vhost '\(vhost)': received \(received) but current is \(current)"
        )
    }
}
