import Testing
import WarrenCore

@testable import WarrenServer

/// Password hashes in RabbitMQ's format, permission patterns with `re:run`'s search semantics,
/// and the 403 texts clients match on.
@Suite("Access control")
struct AccessControlTests {
    // Computed independently (Python's hashlib) from salt 908dc60a and password "test12".
    static let vectors: [(PasswordHash.Algorithm, String)] = [
        (.sha256, "kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR"),
        (.sha512, "kI3GChuNuIYf8lRbCCxZjgjKwsY19ns6+uFO0zcXRBGA/XGJPYD8OWMy7EB8TaOmAzjP2azv84GbINYwX2cDWb4DHnc="),
        (.md5, "kI3GChNpte2FApYFXScl+0dIluk="),
    ]

    @Test("hashes exported by RabbitMQ verify, for each of its algorithms", arguments: vectors)
    func rabbitMQHashes(algorithm: PasswordHash.Algorithm, encoded: String) throws {
        let hash = try #require(PasswordHash(base64: encoded, algorithm: algorithm))
        #expect(hash.salt == [0x90, 0x8d, 0xc6, 0x0a])
        #expect(hash.matches("test12"))
        #expect(!hash.matches("test13"))
        #expect(!hash.matches(""))
        #expect(hash.base64 == encoded)
    }

    @Test("a new hash round-trips through its base64 form with a fresh salt")
    func newHash() throws {
        let first = PasswordHash(password: "s3cret")
        let second = PasswordHash(password: "s3cret")
        let parsed = try #require(PasswordHash(base64: first.base64, algorithm: .sha256))
        #expect(parsed.matches("s3cret"))
        #expect(first.base64 != second.base64 || first.salt == second.salt)
    }

    @Test("an empty or saltless password hash means no password")
    func noPassword() {
        #expect(PasswordHash(base64: "", algorithm: .sha256) == nil)
        #expect(PasswordHash(base64: "AAAA", algorithm: .sha256) == nil)
    }

    @Test("patterns search anywhere in the name unless anchored; empty allows only the empty name")
    func patterns() throws {
        #expect(try PermissionPattern("^app-").matches("app-orders"))
        #expect(try !PermissionPattern("^app-").matches("my-app-orders"))
        #expect(try PermissionPattern("orders").matches("my-orders-queue"))
        #expect(try PermissionPattern("^(a|b)$").matches("b"))
        #expect(try !PermissionPattern("^(a|b)$").matches("ab"))
        #expect(try PermissionPattern("").matches(""))
        #expect(try !PermissionPattern("").matches("q"))
        #expect(try PermissionPattern(".*").allowsEverything)
        #expect(!PermissionPattern.nothing.matches(""))
        #expect(throws: (any Error).self) { try PermissionPattern("(unclosed") }
    }

    func access(
        _ permissions: Permissions, topics: [String: TopicPermission] = [:], user: String = "alice"
    ) -> ResourceAccess? {
        let control = AccessControl()
        let alice = User(name: user, passwordHash: PasswordHash(password: "pw"), tags: [])
        control.putUser(alice)
        control.setPermissions(permissions, user: user, vhost: "team")
        for permission in topics.values { control.setTopicPermission(permission, user: user, vhost: "team") }
        return control.access(for: alice, in: "team")
    }

    @Test("a denial is 403 with RabbitMQ's text; the default exchange is named amq.default")
    func denials() throws {
        let limited = try #require(access(try Permissions(configure: "^alice-", write: "^alice-", read: "^alice-")))
        #expect(throws: Never.self) { try limited.check(.configure, .queue, "alice-q") }
        #expect(
            throws: AMQPError(.accessRefused, "access to queue 'bob-q' in vhost 'team' refused for user 'alice'")
        ) { try limited.check(.read, .queue, "bob-q") }
        #expect(
            throws: AMQPError(
                .accessRefused, "access to exchange 'amq.default' in vhost 'team' refused for user 'alice'")
        ) { try limited.checkPublish(to: "") }
        #expect(throws: Never.self) { try limited.checkPublish(to: "alice-x") }
        #expect(throws: Never.self) { try limited.checkPublish(to: "alice-x") }
    }

    @Test("topic patterns expand {username} and {vhost}; exchanges without one are open")
    func topics() throws {
        let topic = TopicPermission(exchange: "amq.topic", write: "^{username}\\.{vhost}\\.", read: "^public\\.")
        let granted = try #require(access(.everything, topics: ["amq.topic": topic]))
        #expect(granted.hasTopicPermissions)
        #expect(throws: Never.self) {
            try granted.checkTopic(.write, exchange: "amq.topic", routingKey: "alice.team.x")
        }
        #expect(
            throws: AMQPError(
                .accessRefused,
                "access to topic 'bob.team.x' in exchange 'amq.topic' in vhost 'team' refused for user 'alice'")
        ) { try granted.checkTopic(.write, exchange: "amq.topic", routingKey: "bob.team.x") }
        #expect(throws: Never.self) { try granted.checkTopic(.read, exchange: "amq.topic", routingKey: "public.news") }
        #expect(throws: Never.self) { try granted.checkTopic(.write, exchange: "other", routingKey: "anything") }
    }

    @Test("no permissions in a vhost means no access to it at all")
    func noVirtualHostAccess() throws {
        let control = AccessControl()
        let alice = User(name: "alice", passwordHash: nil, tags: [])
        control.putUser(alice)
        #expect(control.access(for: alice, in: "team") == nil)
        guard case .refused = control.authenticate(username: "alice", password: "anything") else {
            Issue.record("a user without a password must not log in with one")
            return
        }
        guard case .accepted = control.authenticate(certificateUser: "alice") else {
            Issue.record("EXTERNAL only needs the user to exist")
            return
        }
    }
}
