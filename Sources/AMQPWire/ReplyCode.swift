/// AMQP reply codes, with the names RabbitMQ puts in front of its reply texts.
public enum ReplyCode: UInt16, Sendable {
    case success = 200
    case contentTooLarge = 311
    case noRoute = 312
    case noConsumers = 313
    case connectionForced = 320
    case invalidPath = 402
    case accessRefused = 403
    case notFound = 404
    case resourceLocked = 405
    case preconditionFailed = 406
    case frameError = 501
    case syntaxError = 502
    case commandInvalid = 503
    case channelError = 504
    case unexpectedFrame = 505
    case resourceError = 506
    case notAllowed = 530
    case notImplemented = 540
    case internalError = 541

    /// The upper-case name RabbitMQ uses as the prefix of a reply text (`NOT_FOUND - ...`).
    public var name: String {
        switch self {
        case .success: "OK"
        case .contentTooLarge: "CONTENT_TOO_LARGE"
        case .noRoute: "NO_ROUTE"
        case .noConsumers: "NO_CONSUMERS"
        case .connectionForced: "CONNECTION_FORCED"
        case .invalidPath: "INVALID_PATH"
        case .accessRefused: "ACCESS_REFUSED"
        case .notFound: "NOT_FOUND"
        case .resourceLocked: "RESOURCE_LOCKED"
        case .preconditionFailed: "PRECONDITION_FAILED"
        case .frameError: "FRAME_ERROR"
        case .syntaxError: "SYNTAX_ERROR"
        case .commandInvalid: "COMMAND_INVALID"
        case .channelError: "CHANNEL_ERROR"
        case .unexpectedFrame: "UNEXPECTED_FRAME"
        case .resourceError: "RESOURCE_ERROR"
        case .notAllowed: "NOT_ALLOWED"
        case .notImplemented: "NOT_IMPLEMENTED"
        case .internalError: "INTERNAL_ERROR"
        }
    }

    /// Hard errors close the whole connection; soft errors close only the channel.
    public var isHardError: Bool {
        switch self {
        case .connectionForced, .invalidPath, .frameError, .syntaxError, .commandInvalid,
            .channelError, .unexpectedFrame, .resourceError, .notAllowed, .notImplemented,
            .internalError:
            true
        default:
            false
        }
    }

    /// `NAME - explanation`, cut as RabbitMQ cuts it to fit a short string: texts over 255
    /// bytes keep their first 252 bytes (on a character boundary) and end in `...`.
    public func replyText(_ explanation: String) -> String {
        let text = "\(name) - \(explanation)"
        guard text.utf8.count > 255 else { return text }
        var cut = ""
        var bytes = 0
        for character in text {
            let size = character.utf8.count
            if bytes + size > 252 { break }
            cut.append(character)
            bytes += size
        }
        return cut + "..."
    }
}
