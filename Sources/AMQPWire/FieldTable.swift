import NIOCore

/// An AMQP field table: named values in the order they were sent.
///
/// Order is kept so that a table relayed by the broker (message headers, `x-death`) is
/// re-encoded exactly as it arrived. Tables are small in practice, so lookups scan.
public struct FieldTable: Sendable, Hashable, ExpressibleByDictionaryLiteral {
    public struct Entry: Sendable, Hashable {
        public var key: String
        public var value: FieldValue

        public init(key: String, value: FieldValue) {
            self.key = key
            self.value = value
        }
    }

    public private(set) var entries: [Entry]

    public init() {
        self.entries = []
    }

    public init(_ entries: [Entry]) {
        self.entries = entries
    }

    public init(dictionaryLiteral elements: (String, FieldValue)...) {
        self.entries = elements.map { Entry(key: $0.0, value: $0.1) }
    }

    public var isEmpty: Bool { entries.isEmpty }
    public var count: Int { entries.count }
    public var keys: [String] { entries.map(\.key) }

    /// The value for `key`; when a client sent a key twice, the last one wins, as in RabbitMQ.
    public subscript(key: String) -> FieldValue? {
        get { entries.last(where: { $0.key == key })?.value }
        set {
            if let newValue {
                if let index = entries.lastIndex(where: { $0.key == key }) {
                    entries[index].value = newValue
                } else {
                    entries.append(Entry(key: key, value: newValue))
                }
            } else {
                entries.removeAll { $0.key == key }
            }
        }
    }
}

extension FieldTable: Sequence {
    public func makeIterator() -> IndexingIterator<[Entry]> {
        entries.makeIterator()
    }
}
