/// A `rabbitmq.conf`-style file: one `key = value` per line, `#` comments, blank lines.
///
/// Parsing keeps each entry's line number so that every later complaint (an unknown key, a
/// bad value) can point at the line to fix.
public struct ConfigurationFile: Sendable {
    public struct Entry: Sendable, Equatable {
        public var key: String
        public var value: String
        public var line: Int
    }

    public private(set) var entries: [Entry] = []

    public init(contents: String) throws(ConfigurationError) {
        var lineNumber = 0
        for rawLine in contents.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            // As in rabbitmq.conf, `#` starts a comment anywhere on the line.
            let uncommented = rawLine.firstIndex(of: "#").map { rawLine[..<$0] } ?? rawLine
            let line = uncommented.trimmingWhitespace()
            if line.isEmpty { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw ConfigurationError(line: lineNumber, message: "expected 'key = value', got '\(line)'")
            }
            let key = line[..<equals].trimmingWhitespace()
            let value = line[line.index(after: equals)...].trimmingWhitespace()
            guard !key.isEmpty else {
                throw ConfigurationError(line: lineNumber, message: "missing key before '='")
            }
            entries.append(Entry(key: String(key), value: String(value), line: lineNumber))
        }
    }
}

/// A configuration problem, with the line it is on when it came from a file.
public struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    public var line: Int?
    public var message: String

    public init(line: Int?, message: String) {
        self.line = line
        self.message = message
    }

    public var description: String {
        if let line { return "line \(line): \(message)" }
        return message
    }
}

extension Substring {
    func trimmingWhitespace() -> Substring {
        var result = self
        while let first = result.first, first.isWhitespace { result.removeFirst() }
        while let last = result.last, last.isWhitespace { result.removeLast() }
        return result
    }
}
