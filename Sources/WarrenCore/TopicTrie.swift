/// Topic-exchange bindings as a trie over dot-separated words, where `*` matches exactly one
/// word and `#` zero or more.
///
/// Matching walks the trie once per routing key instead of testing every binding's pattern;
/// each binding is stored at the node its pattern ends on.
struct TopicTrie {
    private final class Node {
        var children: [Substring: Node] = [:]
        var destinations: [BindingDestination] = []
    }

    private var root = Node()

    mutating func insert(pattern: String, destination: BindingDestination) {
        var node = root
        for word in Self.words(pattern) {
            if let next = node.children[word] {
                node = next
            } else {
                let next = Node()
                node.children[word] = next
                node = next
            }
        }
        if !node.destinations.contains(destination) {
            node.destinations.append(destination)
        }
    }

    /// Rebuilds from scratch; unbinding is rare, so the trie is not pruned in place.
    init(bindings: some Sequence<Binding>) {
        for binding in bindings {
            insert(pattern: binding.routingKey, destination: binding.destination)
        }
    }

    init() {}

    /// Calls `found` for every destination whose pattern matches `routingKey` (possibly more
    /// than once for the same destination; callers de-duplicate).
    func match(_ routingKey: String, found: (BindingDestination) -> Void) {
        // RabbitMQ splits on dots, but an empty key is zero words, not one empty word.
        Self.match(node: root, rest: routingKey.isEmpty ? nil : routingKey[...], found: found)
    }

    /// RabbitMQ splits on dots, but an empty key is zero words, not one empty word.
    private static func words(_ key: String) -> [Substring] {
        key.isEmpty ? [] : key.split(separator: ".", omittingEmptySubsequences: false)
    }

    /// The first word of `rest`, and what follows its dot (nil when it was the last word).
    /// Walking the key in place keeps matching free of allocations.
    private static func splitWord(_ rest: Substring) -> (word: Substring, tail: Substring?) {
        guard let dot = rest.firstIndex(of: ".") else { return (rest, nil) }
        return (rest[..<dot], rest[rest.index(after: dot)...])
    }

    /// `rest` is the part of the routing key still to match, nil once every word is used.
    private static func match(node: Node, rest: Substring?, found: (BindingDestination) -> Void) {
        if let hash = node.children["#"] {
            // `#` may swallow zero words, or any number of them.
            var remaining = rest
            while true {
                match(node: hash, rest: remaining, found: found)
                guard let current = remaining else { break }
                remaining = splitWord(current).tail
            }
        }
        guard let rest else {
            node.destinations.forEach(found)
            return
        }
        let (word, tail) = splitWord(rest)
        if let exact = node.children[word] {
            match(node: exact, rest: tail, found: found)
        }
        if word != "*", let star = node.children["*"] {
            match(node: star, rest: tail, found: found)
        }
    }
}
