import AMQPWire
import Testing

@testable import WarrenCore

/// Bindings, exchange-to-exchange routing, alternate exchanges and auto-delete exchanges.
@Suite("Virtual host: bindings and routing")
struct VirtualHostRoutingTests {
    let vhost = VirtualHost(name: "/")

    @Test("the default exchange routes to the queue named by the routing key")
    func defaultExchange() throws {
        try vhost.declareQueue("q1")
        try vhost.declareQueue("q2")
        #expect(try vhost.routedQueueNames("", key: "q1") == ["q1"])
        #expect(try vhost.routedQueueNames("", key: "q2") == ["q2"])
        #expect(try vhost.routedQueueNames("", key: "nope").isEmpty)
        #expect(try vhost.routedQueueNames("", key: "").isEmpty)
    }

    @Test("the default exchange cannot be bound to or unbound from")
    func defaultExchangeBindings() throws {
        try vhost.declareQueue("q")
        let bind = amqpError { try vhost.bindQueue("q", to: "", key: "q") }
        #expect(bind?.code == .accessRefused)
        #expect(bind?.replyText == "ACCESS_REFUSED - operation not permitted on the default exchange")
        let unbind = amqpError { try vhost.unbindQueue("q", from: "", key: "q") }
        #expect(unbind?.replyText == "ACCESS_REFUSED - operation not permitted on the default exchange")
    }

    @Test("binding to a missing exchange is a 404")
    func bindMissingExchange() throws {
        try vhost.declareQueue("q")
        let error = amqpError { try vhost.bindQueue("q", to: "nope") }
        #expect(error?.code == .notFound)
        #expect(error?.replyText == "NOT_FOUND - no exchange 'nope' in vhost '/'")
        #expect(amqpError { try vhost.unbindQueue("q", from: "nope") }?.code == .notFound)
    }

    @Test("bind routes, unbind stops routing, and both are idempotent")
    func bindUnbind() throws {
        try vhost.declareExchange("x", "direct")
        try vhost.declareQueue("q")
        try vhost.bindQueue("q", to: "x", key: "k")
        try vhost.bindQueue("q", to: "x", key: "k")
        #expect(try vhost.exchange(named: "x").bindings.count == 1)
        #expect(try vhost.routedQueueNames("x", key: "k") == ["q"])
        #expect(try vhost.routedQueueNames("x", key: "other").isEmpty)

        try vhost.unbindQueue("q", from: "x", key: "k")
        #expect(try vhost.routedQueueNames("x", key: "k").isEmpty)
        // Unbinding what is not bound is not an error.
        try vhost.unbindQueue("q", from: "x", key: "k")
        try vhost.unbindQueue("q", from: "x", key: "never-bound")
    }

    @Test("unbind must name the binding's arguments too")
    func unbindArguments() throws {
        try vhost.declareQueue("q")
        try vhost.bindQueue("q", to: "amq.headers", arguments: ["a": .int32(1)])
        try vhost.unbindQueue("q", from: "amq.headers")
        #expect(try vhost.routedQueueNames("amq.headers", headers: ["a": .int32(1)]) == ["q"])
        try vhost.unbindQueue("q", from: "amq.headers", arguments: ["a": .int32(1)])
        #expect(try vhost.routedQueueNames("amq.headers", headers: ["a": .int32(1)]).isEmpty)
    }

    @Test("a headers binding with an invalid x-match is refused")
    func invalidXMatch() throws {
        try vhost.declareQueue("q")
        let error = amqpError { try vhost.bindQueue("q", to: "amq.headers", arguments: ["x-match": .string("some")]) }
        #expect(error?.code == .preconditionFailed)
        #expect(error?.explanation.contains("x-match") == true)
        #expect(try vhost.exchange(named: "amq.headers").bindings.isEmpty)
        // Other exchange kinds do not look at x-match.
        try vhost.bindQueue("q", to: "amq.direct", arguments: ["x-match": .string("some")])
    }

    @Test("routing through each predeclared exchange")
    func predeclaredRouting() throws {
        try vhost.declareQueue("q")
        try vhost.bindQueue("q", to: "amq.direct", key: "d")
        try vhost.bindQueue("q", to: "amq.fanout")
        try vhost.bindQueue("q", to: "amq.topic", key: "t.#")
        try vhost.bindQueue("q", to: "amq.match", arguments: ["x-match": .string("any"), "h": .bool(true)])
        #expect(try vhost.routedQueueNames("amq.direct", key: "d") == ["q"])
        #expect(try vhost.routedQueueNames("amq.direct", key: "e").isEmpty)
        #expect(try vhost.routedQueueNames("amq.fanout", key: "whatever") == ["q"])
        #expect(try vhost.routedQueueNames("amq.topic", key: "t.a.b") == ["q"])
        #expect(try vhost.routedQueueNames("amq.match", headers: ["h": .bool(true)]) == ["q"])
        #expect(try vhost.routedQueueNames("amq.match", headers: ["h": .bool(false)]).isEmpty)
    }

    @Test("a queue matched by several bindings is routed to once")
    func queueOnce() throws {
        try vhost.declareQueue("q")
        try vhost.bindQueue("q", to: "amq.topic", key: "a.*")
        try vhost.bindQueue("q", to: "amq.topic", key: "#")
        try vhost.bindQueue("q", to: "amq.topic", key: "#.#")
        try vhost.bindQueue("q", to: "amq.topic", key: "a.b")
        #expect(try vhost.routedQueueNames("amq.topic", key: "a.b") == ["q"])
    }

    @Test("exchange-to-exchange: a message passes through to the destination exchange's queues")
    func exchangeToExchange() throws {
        try vhost.declareExchange("src", "direct")
        try vhost.declareExchange("dst", "topic")
        try vhost.declareQueue("q")
        try vhost.bindExchange("dst", to: "src", key: "a.b")
        try vhost.bindQueue("q", to: "dst", key: "a.*")
        #expect(try vhost.routedQueueNames("src", key: "a.b") == ["q"])
        // The source's binding key filters first.
        #expect(try vhost.routedQueueNames("src", key: "a.c").isEmpty)
        #expect(try vhost.routedQueueNames("dst", key: "a.c") == ["q"])
    }

    @Test("exchange-to-exchange cycles terminate and deliver to each queue once")
    func cycles() throws {
        try vhost.declareExchange("a", "fanout")
        try vhost.declareExchange("b", "fanout")
        try vhost.declareExchange("c", "fanout")
        try vhost.declareQueue("qa")
        try vhost.declareQueue("qb")
        try vhost.bindExchange("b", to: "a")
        try vhost.bindExchange("c", to: "b")
        try vhost.bindExchange("a", to: "c")
        try vhost.bindExchange("a", to: "a")
        try vhost.bindQueue("qa", to: "a")
        try vhost.bindQueue("qb", to: "b")
        try vhost.bindQueue("qa", to: "c")
        for start in ["a", "b", "c"] {
            #expect(try vhost.routedQueueNames(start).sorted() == ["qa", "qb"], "from \(start)")
        }
    }

    @Test("a diamond of exchanges reaches the shared queue once")
    func diamond() throws {
        try vhost.declareExchange("top", "fanout")
        try vhost.declareExchange("left", "fanout")
        try vhost.declareExchange("right", "fanout")
        try vhost.declareQueue("q")
        try vhost.bindExchange("left", to: "top")
        try vhost.bindExchange("right", to: "top")
        try vhost.bindQueue("q", to: "left")
        try vhost.bindQueue("q", to: "right")
        #expect(try vhost.routedQueueNames("top") == ["q"])
    }

    @Test("an unroutable message goes to the alternate exchange")
    func alternateExchange() throws {
        try vhost.declareExchange("ae", "fanout")
        try vhost.declareExchange("x", "direct", arguments: ["alternate-exchange": .string("ae")])
        try vhost.declareQueue("q")
        try vhost.declareQueue("unrouted")
        try vhost.bindQueue("q", to: "x", key: "k")
        try vhost.bindQueue("unrouted", to: "ae")
        #expect(try vhost.routedQueueNames("x", key: "k") == ["q"])
        #expect(try vhost.routedQueueNames("x", key: "other") == ["unrouted"])
    }

    @Test("alternate exchanges chain, and a cycle of them terminates")
    func alternateChainAndCycle() throws {
        try vhost.declareExchange("x", "direct", arguments: ["alternate-exchange": .string("y")])
        try vhost.declareExchange("y", "direct", arguments: ["alternate-exchange": .string("z")])
        try vhost.declareExchange("z", "fanout")
        try vhost.declareQueue("last")
        try vhost.bindQueue("last", to: "z")
        #expect(try vhost.routedQueueNames("x", key: "k") == ["last"])

        try vhost.declareExchange("p", "direct", arguments: ["alternate-exchange": .string("r")])
        try vhost.declareExchange("r", "direct", arguments: ["alternate-exchange": .string("p")])
        #expect(try vhost.routedQueueNames("p", key: "k").isEmpty)
    }

    @Test("a missing alternate exchange drops the message")
    func missingAlternate() throws {
        try vhost.declareExchange("x", "direct", arguments: ["alternate-exchange": .string("not-there")])
        #expect(try vhost.routedQueueNames("x", key: "k").isEmpty)
    }

    @Test("a queue reached both directly and via the alternate exchange is routed to once")
    func alternateAndDirectSameQueue() throws {
        try vhost.declareExchange("ae", "fanout")
        try vhost.declareExchange("x", "fanout", arguments: ["alternate-exchange": .string("ae")])
        try vhost.declareExchange("empty", "direct", arguments: ["alternate-exchange": .string("ae")])
        try vhost.declareQueue("q")
        try vhost.bindQueue("q", to: "ae")
        try vhost.bindExchange("empty", to: "x")
        try vhost.bindQueue("q", to: "x")
        #expect(try vhost.routedQueueNames("x", key: "k") == ["q"])
    }

    @Test("an auto-delete exchange goes away when its last binding is removed")
    func autoDeleteExchange() throws {
        try vhost.declareExchange("ad", "direct", autoDelete: true)
        try vhost.declareQueue("q")
        // Never bound: it stays.
        #expect(vhost.exchanges["ad"] != nil)
        try vhost.bindQueue("q", to: "ad", key: "a")
        try vhost.bindQueue("q", to: "ad", key: "b")
        try vhost.unbindQueue("q", from: "ad", key: "a")
        #expect(vhost.exchanges["ad"] != nil)
        try vhost.unbindQueue("q", from: "ad", key: "b")
        #expect(vhost.exchanges["ad"] == nil)
    }

    @Test("an auto-delete exchange goes away when its last bound queue is deleted")
    func autoDeleteExchangeOnQueueDelete() throws {
        try vhost.declareExchange("ad", "fanout", autoDelete: true)
        try vhost.declareExchange("plain", "fanout")
        try vhost.declareQueue("q")
        try vhost.bindQueue("q", to: "ad")
        try vhost.bindQueue("q", to: "plain")
        _ = try vhost.deleteQueue(name: "q", ifUnused: false, ifEmpty: false, connection: connectionA)
        #expect(vhost.exchanges["ad"] == nil)
        #expect(vhost.exchanges["plain"] != nil)
    }

    @Test("auto-delete cascades through exchange-to-exchange bindings")
    func autoDeleteCascade() throws {
        try vhost.declareExchange("outer", "fanout", autoDelete: true)
        try vhost.declareExchange("inner", "fanout", autoDelete: true)
        try vhost.declareQueue("q")
        try vhost.bindExchange("inner", to: "outer")
        try vhost.bindQueue("q", to: "inner")
        _ = try vhost.deleteQueue(name: "q", ifUnused: false, ifEmpty: false, connection: connectionA)
        #expect(vhost.exchanges["inner"] == nil)
        #expect(vhost.exchanges["outer"] == nil)
    }

    @Test("deleting an exchange removes the bindings that lead to it")
    func deleteExchangeRemovesIncoming() throws {
        try vhost.declareExchange("src", "fanout")
        try vhost.declareExchange("dst", "fanout")
        try vhost.declareQueue("q")
        try vhost.bindExchange("dst", to: "src")
        try vhost.bindQueue("q", to: "dst")
        #expect(try vhost.routedQueueNames("src") == ["q"])
        try vhost.deleteExchange(name: "dst", ifUnused: false)
        #expect(try vhost.exchange(named: "src").bindings.isEmpty)
        #expect(try vhost.routedQueueNames("src").isEmpty)
    }

    @Test("routing to a queue through the vhost enqueues nothing by itself")
    func routeIsPure() throws {
        let queue = try vhost.declareQueue("q")
        try vhost.bindQueue("q", to: "amq.fanout")
        #expect(try vhost.routedQueueNames("amq.fanout") == ["q"])
        #expect(queue.messageCount == 0)
    }
}
