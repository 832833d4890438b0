import Foundation
import HTTPTypes
import Testing
import WarrenServer

@testable import WarrenManagement

@Suite("Management API") struct ManagementAPITests {
    @Test func requestsWithoutCredentialsAreRefusedWithAChallenge() async throws {
        let fixture = try await APIFixture.start()
        let anonymous = try await fixture.request(.get, "/api/overview", credentials: nil)
        #expect(anonymous.status == .unauthorized)
        #expect(anonymous.headers[.wwwAuthenticate] == "Basic realm=\"RabbitMQ Management\"")
        let wrong = try await fixture.request(.get, "/api/overview", credentials: "guest:nope")
        #expect(wrong.status == .unauthorized)
        #expect(wrong.object["reason"] as? String == "Login failed")
        let remote = try await fixture.request(.get, "/api/overview", loopback: false)
        #expect(remote.status == .unauthorized)
        #expect(remote.object["reason"] as? String == "User can only log in via localhost")
        let overview = try await fixture.request(.get, "/api/overview")
        #expect(overview.status == .ok)
        #expect(overview.object["management_version"] as? String == "3.10.8")
        try await fixture.stop()
    }

    @Test func aQueueDeclaredOverHTTPTakesAPublishAndGivesItBack() async throws {
        let fixture = try await APIFixture.start()
        let put = try await fixture.request(.put, "/api/queues/%2F/jobs", body: #"{"durable":false}"#)
        #expect(put.status == .created)
        let again = try await fixture.request(.put, "/api/queues/%2F/jobs", body: #"{"durable":false}"#)
        #expect(again.status == .noContent)
        let clash = try await fixture.request(.put, "/api/queues/%2F/jobs", body: #"{"durable":true}"#)
        #expect(clash.status == .badRequest)
        #expect((clash.object["reason"] as? String)?.hasPrefix("inequivalent arg 'durable'") == true)
        let published = try await fixture.request(
            .post, "/api/exchanges/%2F/amq.default/publish",
            body:
                #"{"properties":{"delivery_mode":1},"routing_key":"jobs","payload":"aGk=","payload_encoding":"base64"}"#
        )
        #expect(published.object["routed"] as? Bool == true)
        let got = try await fixture.request(
            .post, "/api/queues/%2F/jobs/get", body: #"{"count":5,"ackmode":"ack_requeue_false","encoding":"auto"}"#)
        #expect(got.list.count == 1)
        #expect(got.list.first?["payload"] as? String == "hi")
        #expect(got.list.first?["message_count"] as? Int == 0)
        let queue = try await fixture.request(.get, "/api/queues/%2F/jobs")
        #expect(queue.object["messages"] as? Int == 0)
        #expect((queue.object["message_stats"] as? [String: Any])?["publish"] as? Int == 1)
        try await fixture.stop()
    }

    @Test func listsPageFilterAndSortAsRabbitMQDoes() async throws {
        let fixture = try await APIFixture.start()
        for name in ["b.q", "a.q", "c.q", "Ab.q"] {
            _ = try await fixture.request(.put, "/api/queues/%2F/\(name)")
        }
        let page = try await fixture.request(.get, "/api/queues?page=2&page_size=3")
        #expect(page.object["total_count"] as? Int == 4)
        #expect(page.object["page_count"] as? Int == 2)
        #expect((page.object["items"] as? [[String: Any]])?.map { $0["name"] as? String } == ["c.q"])
        let filtered = try await fixture.request(.get, "/api/queues?name=AB&columns=name")
        #expect(filtered.list.map { $0["name"] as? String } == ["Ab.q"])
        #expect(filtered.list.first?.count == 1)
        let sorted = try await fixture.request(.get, "/api/queues?sort=name&sort_reverse=true&columns=name")
        #expect(sorted.list.map { $0["name"] as? String } == ["c.q", "b.q", "a.q", "Ab.q"])
        let outOfRange = try await fixture.request(.get, "/api/queues?page=9&page_size=3")
        #expect(outOfRange.status == .badRequest)
        #expect(outOfRange.object["error"] as? String == "page_out_of_range")
        let tooBig = try await fixture.request(.get, "/api/queues?page=1&page_size=501")
        #expect(tooBig.object["error"] as? String == "invalid_pagination_parameters")
        try await fixture.stop()
    }

    @Test func unknownPathsAndWrongMethodsGetRabbitMQsAnswers() async throws {
        let fixture = try await APIFixture.start()
        let missing = try await fixture.request(.get, "/api/no-such-thing")
        #expect(missing.status == .notFound)
        #expect(missing.object["error"] as? String == "Object Not Found")
        let head = try await fixture.request(.head, "/api/overview")
        #expect(head.status == .ok && head.body.isEmpty)
        let options = try await fixture.request(.options, "/api/queues")
        #expect(options.status == .ok && options.headers[.allow] == "GET, HEAD, OPTIONS")
        let wrongMethod = try await fixture.request(.post, "/api/overview")
        #expect(wrongMethod.status == .methodNotAllowed)
        #expect(wrongMethod.headers[.allow] == "GET, HEAD, OPTIONS")
        let missingQueue = try await fixture.request(.get, "/api/queues/%2F/nope")
        #expect(missingQueue.status == .notFound)
        try await fixture.stop()
    }

    @Test func tagsDecideWhatAUserMaySee() async throws {
        let fixture = try await APIFixture.start()
        _ = try await fixture.request(.put, "/api/users/watcher", body: #"{"password":"pw","tags":"monitoring"}"#)
        _ = try await fixture.request(.put, "/api/users/nobody", body: #"{"password":"pw","tags":""}"#)
        _ = try await fixture.request(.put, "/api/vhosts/other")
        _ = try await fixture.request(.put, "/api/queues/other/hidden")
        let untagged = try await fixture.request(.get, "/api/overview", credentials: "nobody:pw")
        #expect(untagged.status == .unauthorized)
        #expect(untagged.object["reason"] as? String == "Not management user")
        let users = try await fixture.request(.get, "/api/users", credentials: "watcher:pw")
        #expect(users.object["reason"] as? String == "Not administrator user")
        let vhosts = try await fixture.request(.get, "/api/vhosts?columns=name", credentials: "watcher:pw")
        #expect(Set(vhosts.list.compactMap { $0["name"] as? String }) == ["/", "other"])
        let queues = try await fixture.request(.get, "/api/queues", credentials: "watcher:pw")
        #expect(queues.list.isEmpty)
        try await fixture.stop()
    }

    @Test func bindingsAreNamedByTheirPropertiesKey() async throws {
        let fixture = try await APIFixture.start()
        _ = try await fixture.request(.put, "/api/queues/%2F/q")
        let created = try await fixture.request(
            .post, "/api/bindings/%2F/e/amq.topic/q/q", body: #"{"routing_key":"a.#","arguments":{}}"#)
        #expect(created.status == .created)
        #expect(created.headers[.location] == "q/a.%23")
        let listed = try await fixture.request(.get, "/api/bindings/%2F/e/amq.topic/q/q")
        #expect(listed.list.first?["properties_key"] as? String == "a.%23")
        let deleted = try await fixture.request(.delete, "/api/bindings/%2F/e/amq.topic/q/q/a.%2523")
        #expect(deleted.status == .noContent)
        let after = try await fixture.request(.get, "/api/bindings/%2F/e/amq.topic/q/q")
        #expect(after.list.isEmpty)
        try await fixture.stop()
    }

    /// The committed OpenAPI description lists exactly the routes the API has.
    @Test func theOpenAPIDescriptionMatchesTheRoutes() async throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/management-openapi.json")
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any] ?? [:]
        var described: Set<String> = []
        for (path, operations) in document["paths"] as? [String: [String: Any]] ?? [:] {
            for method in operations.keys where ["get", "put", "post", "delete"].contains(method) {
                described.insert("\(method.uppercased()) \(path)")
            }
        }
        let fixture = try await APIFixture.start()
        let routes = fixture.api.routes().table.all.filter { $0.path.hasPrefix("/api/") }
        let registered = Set(routes.map { "\($0.method) \($0.path)" })
        #expect(!described.isEmpty)
        #expect(described.subtracting(registered).sorted() == [])
        #expect(registered.subtracting(described).sorted() == [])
        try await fixture.stop()
    }
}

@Suite("Binding properties keys") struct BindingPropertiesKeyTests {
    @Test func keysAreQuotedAsRabbitMQQuotesThem() {
        #expect(BindingPropertiesKey.make(routingKey: "", arguments: [:]) == "~")
        #expect(BindingPropertiesKey.make(routingKey: "a.b", arguments: [:]) == "a.b")
        #expect(BindingPropertiesKey.make(routingKey: "a b~#", arguments: [:]) == "a+b%7E%23")
        let withArguments = BindingPropertiesKey.make(routingKey: "k", arguments: ["x": .string("y")])
        #expect(withArguments.hasPrefix("k~"))
        #expect(withArguments != BindingPropertiesKey.make(routingKey: "k", arguments: ["x": .string("z")]))
    }
}

@Suite("Message rates") struct MessageRatesTests {
    @Test func aRateIsTheChangeSinceTheLastSamplePerSecond() {
        let rates = MessageRates()
        let start = ContinuousClock.now
        let key = RateKey.queue("/", "q")
        var sample = CounterSample(ready: 10)
        sample.stats.publish = 100
        rates.update([key: sample], at: start)
        #expect(rates.rates(key).isEmpty)
        sample.stats.publish = 600
        sample.ready = 0
        rates.update([key: sample], at: start + .seconds(5))
        #expect(rates.rates(key)["publish"] == 100)
        #expect(rates.rates(key)["messages_ready"] == -2)
        #expect(rates.all()[key]["publish"] == 100)
        rates.update([:], at: start + .seconds(10))
        #expect(rates.rates(key).isEmpty)
    }
}

@Suite("Per-object metrics") struct PerObjectMetricsTests {
    @Test func labelValuesAreEscapedAsTheTextFormatRequires() {
        #expect(PerObjectMetrics.escaped("plain") == "plain")
        #expect(PerObjectMetrics.escaped("a\"b\\c\nd") == "a\\\"b\\\\c\\nd")
    }

    @Test func eachFamilyHasOneTypeLineAndOneSampleAQueue() async throws {
        let fixture = try await APIFixture.start()
        _ = try await fixture.request(.put, "/api/queues/%2F/q1")
        _ = try await fixture.request(.put, "/api/queues/%2F/q%222")
        _ = try await fixture.request(
            .post, "/api/exchanges/%2F/amq.default/publish",
            body: #"{"properties":{},"routing_key":"q1","payload":"x","payload_encoding":"string"}"#)
        let queues = try await fixture.server.administration.queues()
        var bytes: [UInt8] = []
        PerObjectMetrics.write(queues.sorted { $0.name < $1.name }, into: &bytes)
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(lines.filter { $0.hasPrefix("# TYPE ") }.count == PerObjectMetrics.families.count)
        #expect(lines.contains("rabbitmq_queue_messages_ready{vhost=\"/\",queue=\"q1\"} 1"))
        #expect(lines.contains("rabbitmq_queue_messages_ready{vhost=\"/\",queue=\"q\\\"2\"} 0"))
        #expect(lines.contains("rabbitmq_queue_messages_published_total{vhost=\"/\",queue=\"q1\"} 1"))
        try await fixture.stop()
    }
}
