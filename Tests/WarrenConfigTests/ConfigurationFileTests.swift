import Testing

@testable import WarrenConfig

@Suite("Configuration file parsing")
struct ConfigurationFileTests {
    func parseError(_ contents: String) -> ConfigurationError? {
        do {
            _ = try ConfigurationFile(contents: contents)
            return nil
        } catch {
            return error
        }
    }

    @Test("key = value lines, with comments and blank lines skipped, keep their line numbers")
    func entries() throws {
        let file = try ConfigurationFile(
            contents: """
                # Warren configuration
                listeners.tcp.default = 5673

                   # an indented comment
                heartbeat=30
                \tdefault_user   =   admin\t
                """)
        #expect(
            file.entries == [
                .init(key: "listeners.tcp.default", value: "5673", line: 2),
                .init(key: "heartbeat", value: "30", line: 5),
                .init(key: "default_user", value: "admin", line: 6),
            ])
    }

    @Test("an empty file, or one of only comments, has no entries")
    func empty() throws {
        #expect(try ConfigurationFile(contents: "").entries.isEmpty)
        #expect(try ConfigurationFile(contents: "\n\n# nothing\n   \n").entries.isEmpty)
    }

    @Test("the value is everything after the first '='")
    func valueWithEquals() throws {
        let file = try ConfigurationFile(contents: "default_pass = a=b=c")
        #expect(file.entries == [.init(key: "default_pass", value: "a=b=c", line: 1)])
    }

    @Test("a line without '=' is an error naming its line")
    func missingEquals() {
        let error = parseError("heartbeat = 30\n\nthis is not a setting\nframe_max = 8192")
        #expect(error == ConfigurationError(line: 3, message: "expected 'key = value', got 'this is not a setting'"))
        #expect(error?.description == "line 3: expected 'key = value', got 'this is not a setting'")
    }

    @Test("a line with nothing before '=' is an error naming its line")
    func missingKey() {
        let error = parseError("# header\n  = 5")
        #expect(error == ConfigurationError(line: 2, message: "missing key before '='"))
    }

    @Test("an error without a line prints just its message")
    func descriptionWithoutLine() {
        #expect(ConfigurationError(line: nil, message: "bad flag").description == "bad flag")
    }
}
