/// One permission regular expression (configure, write or read, or a topic pattern), matched
/// as RabbitMQ's `re:run` does: a search anywhere in the name, so `^` and `$` anchor.
///
/// Almost every deployment grants `.*`; that case never runs a regex, which keeps the check
/// on every publish down to a branch.
struct PermissionPattern: @unchecked Sendable {
    private enum Kind {
        case everything
        case nothing
        case regex(Regex<AnyRegexOutput>)
    }

    let source: String
    private let kind: Kind

    /// Compiles `source`; an empty pattern is RabbitMQ's `^$` (only the empty name). Throws the
    /// regex parser's complaint for one that does not compile.
    init(_ source: String) throws {
        self.source = source
        switch source {
        case ".*", "^.*", ".*$": kind = .everything
        case "": kind = .regex(try Regex("^$"))
        default: kind = .regex(try Regex(source))
        }
    }

    private init(source: String, kind: Kind) {
        self.source = source
        self.kind = kind
    }

    /// Matches nothing at all: what a pattern that cannot be compiled grants.
    static let nothing = PermissionPattern(source: "", kind: .nothing)
    static let everything = PermissionPattern(source: ".*", kind: .everything)

    func matches(_ name: String) -> Bool {
        switch kind {
        case .everything: true
        case .nothing: false
        case .regex(let regex): (try? regex.firstMatch(in: name)) != nil
        }
    }

    var allowsEverything: Bool {
        if case .everything = kind { return true }
        return false
    }
}
