import AMQPWire
import Foundation
import Testing
import WarrenCore

@testable import WarrenServer

@Suite("Importing RabbitMQ definitions")
struct DefinitionsTests {
    static let export = """
        {"rabbit_version": "3.10.8", "users": [], "permissions": [],
         "vhosts": [{"name": "/"}, {"name": "staging"}],
         "policies": [{"vhost": "/", "name": "limits", "pattern": "^work", "apply-to": "queues",
                       "definition": {"max-length": 100, "dead-letter-exchange": "dlx", "ha-mode": "all"},
                       "priority": 3}],
         "operator_policies": [{"vhost": "/", "name": "cap", "pattern": ".*", "definition": {"max-length": 10}}],
         "exchanges": [{"name": "dlx", "vhost": "/", "type": "fanout", "durable": true, "auto_delete": false,
                        "internal": false, "arguments": {}},
                       {"name": "later", "vhost": "/", "type": "x-delayed-message", "durable": true,
                        "auto_delete": false, "internal": false, "arguments": {"x-delayed-type": "topic"}}],
         "queues": [{"name": "work", "vhost": "/", "durable": true, "auto_delete": false,
                     "arguments": {"x-queue-type": "classic", "x-message-ttl": 60000}},
                    {"name": "dead", "vhost": "/", "durable": true, "auto_delete": false, "arguments": {}}],
         "bindings": [{"source": "dlx", "vhost": "/", "destination": "dead", "destination_type": "queue",
                       "routing_key": "", "arguments": {}},
                      {"source": "dlx", "vhost": "/", "destination": "later", "destination_type": "exchange",
                       "routing_key": "k", "arguments": {}}]}
        """

    @Test("an export's vhosts, policies, exchanges, queues and bindings are declared")
    func importExport() throws {
        let broker = TestClient.makeBroker()
        try broker.importDefinitions(Definitions.parse(Data(Self.export.utf8)))
        #expect(broker.vhosts.keys.sorted() == ["/", "staging"])
        let vhost = try #require(broker.vhosts["/"])
        let work = try vhost.queue(named: "work")
        #expect(work.durable)
        #expect(work.settings.messageTTL == 60_000)
        #expect(work.settings.maxLength == 10)
        #expect(work.settings.deadLetterExchange == "dlx")
        #expect(try vhost.exchange(named: "later").isDelayed)
        #expect(try vhost.exchange(named: "dlx").bindings.count == 2)
    }

    static let accessExport = """
        {"users": [{"name": "alice", "password_hash": "kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR",
                    "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": ["monitoring", "impersonator"]},
                   {"name": "cert-only", "password_hash": "", "tags": ""}],
         "vhosts": [{"name": "/"}, {"name": "team"}],
         "permissions": [{"user": "alice", "vhost": "team", "configure": "^alice-", "write": ".*", "read": ""}],
         "topic_permissions": [{"user": "alice", "vhost": "team", "exchange": "amq.topic",
                                "write": "^{username}\\\\.", "read": ".*"}],
         "parameters": [{"vhost": "team", "component": "vhost-limits", "name": "limits",
                         "value": {"max-connections": 5, "max-queues": -1}},
                        {"vhost": "team", "component": "operator_policy", "name": "cap",
                         "value": {"pattern": ".*", "definition": {"max-length": 7}, "apply-to": "queues"}},
                        {"vhost": "team", "component": "federation-upstream", "name": "origin",
                         "value": {"uri": "amqp://elsewhere"}}]}
        """

    @Test("users, permissions, topic permissions and vhost limits import, and survive the export")
    func accessRoundTrip() throws {
        let broker = TestClient.makeBroker()
        try broker.importDefinitions(Definitions.parse(Data(Self.accessExport.utf8)))
        let reloaded = TestClient.makeBroker()
        try reloaded.importDefinitions(Definitions.parse(DefinitionsFile.export(broker)))
        for candidate in [broker, reloaded] {
            let alice = try #require(candidate.accessControl.users["alice"])
            #expect(alice.tags == ["monitoring", "impersonator"])
            #expect(alice.passwordHash?.matches("test12") == true)
            #expect(candidate.accessControl.users["cert-only"]?.passwordHash == nil)
            let access = try #require(candidate.accessControl.access(for: alice, in: "team"))
            #expect(throws: Never.self) { try access.check(.configure, .queue, "alice-q") }
            #expect(throws: AMQPError.self) { try access.check(.read, .queue, "alice-q") }
            #expect(throws: AMQPError.self) {
                try access.checkTopic(.write, exchange: "amq.topic", routingKey: "bob.x")
            }
            #expect(candidate.vhosts["team"]?.limits == VirtualHostLimits(maxConnections: 5, maxQueues: nil))
            #expect(candidate.vhosts["team"]?.operatorPolicies["cap"] != nil)
        }
    }

    @Test("a broken file names what is wrong")
    func errors() throws {
        let broker = TestClient.makeBroker()
        #expect(throws: DefinitionsError.self) { try Definitions.parse(Data("{\"queues\": 5}".utf8)) }
        let unknownVhost = try Definitions.parse(
            Data(#"{"queues": [{"name": "q", "vhost": "nowhere", "arguments": {}}]}"#.utf8))
        #expect(throws: DefinitionsError.self) { try broker.importDefinitions(unknownVhost) }
        let badArgument = try Definitions.parse(
            Data(#"{"queues": [{"name": "q", "vhost": "/", "arguments": {"x-max-length": -1}}]}"#.utf8))
        do {
            try broker.importDefinitions(badArgument)
            Issue.record("expected an error")
        } catch let error as DefinitionsError {
            #expect(error.description.hasPrefix("queue 'q': invalid arg 'x-max-length'"))
        }
    }
}
