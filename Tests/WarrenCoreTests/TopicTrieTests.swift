import Testing

@testable import WarrenCore

/// One binding pattern against one routing key.
struct TopicCase: Sendable, CustomTestStringConvertible {
    var pattern: String
    var key: String
    var matches: Bool

    init(_ pattern: String, _ key: String, _ matches: Bool) {
        self.pattern = pattern
        self.key = key
        self.matches = matches
    }

    var testDescription: String { "'\(pattern)' \(matches ? "matches" : "does not match") '\(key)'" }
}

/// RabbitMQ's topic rule written as plainly as possible: `*` is exactly one word, `#` zero or
/// more, anything else must be equal. A key or pattern is split on every dot, so `a..b` has an
/// empty middle word.
func referenceTopicMatch(pattern: some Collection<Substring>, key: some Collection<Substring>) -> Bool {
    guard let first = pattern.first else { return key.isEmpty }
    let rest = pattern.dropFirst()
    if first == "#" {
        var remaining = key[...]
        while true {
            if referenceTopicMatch(pattern: rest, key: remaining) { return true }
            guard !remaining.isEmpty else { return false }
            remaining = remaining.dropFirst()
        }
    }
    guard let word = key.first else { return false }
    return (first == "*" || first == word) && referenceTopicMatch(pattern: rest, key: key.dropFirst())
}

func words(_ text: String) -> [Substring] {
    text.split(separator: ".", omittingEmptySubsequences: false)
}

@Suite("Topic trie")
struct TopicTrieTests {
    static let handCases: [TopicCase] = [
        // Literal words.
        TopicCase("a.b.c", "a.b.c", true),
        TopicCase("a.b.c", "a.b", false),
        TopicCase("a.b", "a.b.c", false),
        TopicCase("a.b.c", "a.b.d", false),
        TopicCase("stock.usd.nyse", "stock.usd.nyse", true),
        // `*` is exactly one word.
        TopicCase("*", "a", true),
        TopicCase("*", "a.b", false),
        TopicCase("a.*", "a.b", true),
        TopicCase("a.*", "a", false),
        TopicCase("a.*", "a.b.c", false),
        TopicCase("*.b.*", "a.b.c", true),
        TopicCase("*.b.*", "b.c", false),
        TopicCase("*.*", "a.b", true),
        TopicCase("*.*", "a", false),
        TopicCase("*.orange.*", "quick.orange.rabbit", true),
        TopicCase("*.orange.*", "quick.orange.male.rabbit", false),
        TopicCase("*.*.rabbit", "lazy.pink.rabbit", true),
        // `#` is zero or more words.
        TopicCase("#", "a", true),
        TopicCase("#", "a.b.c.d", true),
        TopicCase("#", "", true),
        TopicCase("a.#", "a", true),
        TopicCase("a.#", "a.b", true),
        TopicCase("a.#", "a.b.c", true),
        TopicCase("a.#", "b.a", false),
        TopicCase("#.a", "a", true),
        TopicCase("#.a", "x.y.a", true),
        TopicCase("#.a", "a.x", false),
        TopicCase("a.#.b", "a.b", true),
        TopicCase("a.#.b", "a.x.b", true),
        TopicCase("a.#.b", "a.x.y.z.b", true),
        TopicCase("a.#.b", "a.x.y", false),
        TopicCase("a.#.b", "a.b.c", false),
        TopicCase("a.#.b", "a.b.b", true),
        TopicCase("#.#", "a.b", true),
        TopicCase("#.*", "a", true),
        TopicCase("#.*.#", "a.b.c", true),
        TopicCase("*.#", "a", true),
        TopicCase("*.#", "a.b.c", true),
        TopicCase("lazy.#", "lazy.orange.male.rabbit", true),
        TopicCase("a.*.#", "a", false),
        TopicCase("a.*.#", "a.b", true),
        TopicCase("a.#.*", "a.b.c.d", true),
        // Empty words are words: "a..b" has three, "a." has two.
        TopicCase("a..b", "a..b", true),
        TopicCase("a.*.b", "a..b", true),
        TopicCase("a.b", "a..b", false),
        TopicCase("a.*", "a.", true),
        TopicCase("a", "a.", false),
        TopicCase("a.#", "a.", true),
        TopicCase("*.*", ".", true),
        TopicCase("#", ".", true),
        TopicCase(".", ".", true),
        TopicCase(".a", ".a", true),
        TopicCase(".a", "a", false),
        // An empty binding key matches only the empty routing key.
        TopicCase("", "", true),
        TopicCase("", "a", false),
        TopicCase("", ".", false),
        TopicCase("a", "", false),
        // Wildcards in the routing key are ordinary words.
        TopicCase("a.*", "a.*", true),
        TopicCase("a.b", "a.*", false),
        TopicCase("a.#", "a.#", true),
        TopicCase("#", "#", true),
        // Words are compared whole and case-sensitively.
        TopicCase("a", "A", false),
        TopicCase("ab", "a", false),
        TopicCase("a*", "ab", false),
        TopicCase("a#", "a.b", false),
    ]

    @Test("hand-written cases", arguments: handCases)
    func handCase(_ testCase: TopicCase) {
        let queue = makeQueue("q")
        let trie = TopicTrie(bindings: [
            Binding(destination: .queue(queue), routingKey: testCase.pattern, arguments: [:])
        ])
        var found: [String] = []
        trie.match(testCase.key) { found.append($0.name) }
        #expect(!found.isEmpty == testCase.matches)
        #expect(found.allSatisfy { $0 == "q" })
    }

    @Test("the reference matcher agrees with the hand-written cases", arguments: handCases)
    func referenceAgrees(_ testCase: TopicCase) {
        // The reference gives RabbitMQ's answer for everything except the empty key, which
        // RabbitMQ splits into zero words; keep it honest on the rest.
        guard !testCase.key.isEmpty && !testCase.pattern.isEmpty else { return }
        #expect(referenceTopicMatch(pattern: words(testCase.pattern), key: words(testCase.key)) == testCase.matches)
    }

    @Test("several bindings: each destination found for its own patterns")
    func severalBindings() {
        let q1 = makeQueue("q1")
        let q2 = makeQueue("q2")
        let q3 = makeQueue("q3")
        var trie = TopicTrie()
        trie.insert(pattern: "*.orange.*", destination: .queue(q1))
        trie.insert(pattern: "*.*.rabbit", destination: .queue(q2))
        trie.insert(pattern: "lazy.#", destination: .queue(q2))
        trie.insert(pattern: "#", destination: .queue(q3))

        func matched(_ key: String) -> Set<String> {
            var names: Set<String> = []
            trie.match(key) { names.insert($0.name) }
            return names
        }
        #expect(matched("quick.orange.rabbit") == ["q1", "q2", "q3"])
        #expect(matched("lazy.orange.elephant") == ["q1", "q2", "q3"])
        #expect(matched("quick.orange.fox") == ["q1", "q3"])
        #expect(matched("lazy.brown.fox") == ["q2", "q3"])
        #expect(matched("quick.brown.fox") == ["q3"])
        #expect(matched("quick.orange.male.rabbit") == ["q3"])
        #expect(matched("lazy.orange.male.rabbit") == ["q2", "q3"])
    }

    @Test("inserting the same pattern and destination twice stores it once")
    func duplicateInsert() {
        let queue = makeQueue("q")
        var trie = TopicTrie()
        trie.insert(pattern: "a.b", destination: .queue(queue))
        trie.insert(pattern: "a.b", destination: .queue(queue))
        var count = 0
        trie.match("a.b") { _ in count += 1 }
        #expect(count == 1)
    }

    @Test("two queues on the same pattern are both found")
    func twoDestinationsOnePattern() {
        let q1 = makeQueue("q1")
        let q2 = makeQueue("q2")
        var trie = TopicTrie()
        trie.insert(pattern: "a.*", destination: .queue(q1))
        trie.insert(pattern: "a.*", destination: .queue(q2))
        var names: [String] = []
        trie.match("a.x") { names.append($0.name) }
        #expect(names.sorted() == ["q1", "q2"])
    }

    /// Random patterns over a small alphabet (so that keys hit them often), with `*`, `#` and
    /// empty words, checked against the reference matcher.
    @Test("property: the trie agrees with a recursive reference matcher")
    func property() {
        var random = XorShiftRandom(seed: 0x5EED_0F_70_91C)
        let keyWords = ["a", "b", "c", ""]
        let patternWords = ["a", "b", "c", "", "*", "#"]

        func randomText(from alphabet: [String], maxWords: Int) -> String {
            // RabbitMQ splits "" into zero words, not one empty word: stay off that edge here
            // (the hand cases cover it).
            while true {
                let count = Int.random(in: 1...maxWords, using: &random)
                let text = (0..<count).map { _ in alphabet.randomElement(using: &random)! }.joined(separator: ".")
                if !text.isEmpty { return text }
            }
        }

        var checked = 0
        var matchedCount = 0
        for _ in 0..<150 {
            let queues = (0..<12).map { makeQueue("q\($0)") }
            let patterns = queues.map { _ in randomText(from: patternWords, maxWords: 5) }
            var trie = TopicTrie()
            for (queue, pattern) in zip(queues, patterns) {
                trie.insert(pattern: pattern, destination: .queue(queue))
            }
            for _ in 0..<25 {
                let key = randomText(from: keyWords, maxWords: 6)
                var found: Set<String> = []
                trie.match(key) { found.insert($0.name) }
                var expected: Set<String> = []
                for (queue, pattern) in zip(queues, patterns)
                where referenceTopicMatch(pattern: words(pattern), key: words(key)) {
                    expected.insert(queue.name)
                }
                #expect(found == expected, "key '\(key)', patterns \(patterns)")
                checked += patterns.count
                matchedCount += expected.count
            }
        }
        #expect(checked == 150 * 25 * 12)
        // The alphabet is small enough that a good share of pairs match; a generator that
        // produced no matches would make the comparison vacuous.
        #expect(matchedCount > checked / 20)
    }
}
