import AMQPWire
import Testing

@testable import WarrenCore

@Suite("Exchange routing by kind")
struct ExchangeTests {
    @Test("direct: the routing key must equal the binding key")
    func direct() {
        let exchange = makeExchange("d", .direct)
        let q1 = makeQueue("q1")
        let q2 = makeQueue("q2")
        let q3 = makeQueue("q3")
        exchange.addBinding(Binding(destination: .queue(q1), routingKey: "red", arguments: [:]))
        exchange.addBinding(Binding(destination: .queue(q2), routingKey: "red", arguments: [:]))
        exchange.addBinding(Binding(destination: .queue(q3), routingKey: "blue", arguments: [:]))
        #expect(routedNames(exchange, routingKey: "red") == ["q1", "q2"])
        #expect(routedNames(exchange, routingKey: "blue") == ["q3"])
        #expect(routedNames(exchange, routingKey: "green").isEmpty)
        #expect(routedNames(exchange, routingKey: "Red").isEmpty)
        #expect(routedNames(exchange, routingKey: "").isEmpty)
    }

    @Test("direct: one queue bound under two keys is found by each")
    func directTwoKeys() {
        let exchange = makeExchange("d", .direct)
        let queue = makeQueue("q")
        exchange.addBinding(Binding(destination: .queue(queue), routingKey: "a", arguments: [:]))
        exchange.addBinding(Binding(destination: .queue(queue), routingKey: "b", arguments: [:]))
        #expect(routedNames(exchange, routingKey: "a") == ["q"])
        #expect(routedNames(exchange, routingKey: "b") == ["q"])
    }

    @Test("fanout: every bound queue, whatever the key")
    func fanout() {
        let exchange = makeExchange("f", .fanout)
        let q1 = makeQueue("q1")
        let q2 = makeQueue("q2")
        exchange.addBinding(Binding(destination: .queue(q1), routingKey: "ignored", arguments: [:]))
        exchange.addBinding(Binding(destination: .queue(q2), routingKey: "", arguments: [:]))
        #expect(routedNames(exchange, routingKey: "anything") == ["q1", "q2"])
        #expect(routedNames(exchange, routingKey: "") == ["q1", "q2"])
    }

    @Test("fanout: a queue bound twice under different keys is found once")
    func fanoutDeduplicates() {
        let exchange = makeExchange("f", .fanout)
        let queue = makeQueue("q")
        exchange.addBinding(Binding(destination: .queue(queue), routingKey: "a", arguments: [:]))
        exchange.addBinding(Binding(destination: .queue(queue), routingKey: "b", arguments: [:]))
        var count = 0
        exchange.route(routingKey: "x", headers: { nil }) { _ in count += 1 }
        #expect(count == 1)
        #expect(exchange.bindings.count == 2)
    }

    @Test("topic: patterns with * and #")
    func topic() {
        let exchange = makeExchange("t", .topic)
        let q1 = makeQueue("q1")
        let q2 = makeQueue("q2")
        exchange.addBinding(Binding(destination: .queue(q1), routingKey: "*.orange.*", arguments: [:]))
        exchange.addBinding(Binding(destination: .queue(q2), routingKey: "lazy.#", arguments: [:]))
        #expect(routedNames(exchange, routingKey: "lazy.orange.fox") == ["q1", "q2"])
        #expect(routedNames(exchange, routingKey: "quick.orange.fox") == ["q1"])
        #expect(routedNames(exchange, routingKey: "lazy") == ["q2"])
        #expect(routedNames(exchange, routingKey: "quick.brown.fox").isEmpty)
    }

    @Test("headers: bindings are matched against the message headers")
    func headers() {
        let exchange = makeExchange("h", .headers)
        let pdf = makeQueue("pdf")
        let anyReport = makeQueue("any-report")
        exchange.addBinding(
            Binding(
                destination: .queue(pdf), routingKey: "",
                arguments: ["x-match": .string("all"), "format": .string("pdf"), "type": .string("report")]))
        exchange.addBinding(
            Binding(
                destination: .queue(anyReport), routingKey: "",
                arguments: ["x-match": .string("any"), "format": .string("pdf"), "type": .string("report")]))
        #expect(
            routedNames(exchange, routingKey: "", headers: ["format": .string("pdf"), "type": .string("report")])
                == ["any-report", "pdf"])
        #expect(routedNames(exchange, routingKey: "", headers: ["type": .string("report")]) == ["any-report"])
        #expect(routedNames(exchange, routingKey: "ignored", headers: ["type": .string("log")]).isEmpty)
        #expect(routedNames(exchange, routingKey: "", headers: nil).isEmpty)
    }

    @Test("only the headers exchange reads the message headers")
    func headersReadLazily() {
        for kind in [ExchangeKind.direct, .fanout, .topic] {
            let exchange = makeExchange("x", kind)
            exchange.addBinding(Binding(destination: .queue(makeQueue("q")), routingKey: "k", arguments: [:]))
            var reads = 0
            exchange.route(
                routingKey: "k",
                headers: {
                    reads += 1; return nil
                }
            ) { _ in }
            #expect(reads == 0, "\(kind)")
        }
        let headers = makeExchange("h", .headers)
        headers.addBinding(Binding(destination: .queue(makeQueue("q")), routingKey: "", arguments: ["a": .int32(1)]))
        headers.addBinding(Binding(destination: .queue(makeQueue("r")), routingKey: "", arguments: ["b": .int32(1)]))
        var reads = 0
        headers.route(
            routingKey: "",
            headers: {
                reads += 1; return ["a": .int32(1)]
            }
        ) { _ in }
        #expect(reads == 1)
    }

    @Test("addBinding is idempotent; removeBinding reports whether there was one", arguments: ExchangeKind.allCases)
    func bindingsAreASet(kind: ExchangeKind) {
        let exchange = makeExchange("x", kind)
        let queue = makeQueue("q")
        let binding = Binding(destination: .queue(queue), routingKey: "k", arguments: [:])
        #expect(exchange.addBinding(binding))
        #expect(!exchange.addBinding(binding))
        #expect(exchange.bindings.count == 1)
        #expect(exchange.hasBinding(binding))
        #expect(routedNames(exchange, routingKey: "k") == ["q"])

        #expect(exchange.removeBinding(binding))
        #expect(!exchange.removeBinding(binding))
        #expect(!exchange.hasBinding(binding))
        #expect(routedNames(exchange, routingKey: "k").isEmpty)
    }

    @Test("bindings differing only in arguments are different bindings")
    func argumentsDistinguishBindings() {
        let exchange = makeExchange("d", .direct)
        let queue = makeQueue("q")
        let plain = Binding(destination: .queue(queue), routingKey: "k", arguments: [:])
        let withArgs = Binding(destination: .queue(queue), routingKey: "k", arguments: ["a": .int32(1)])
        #expect(exchange.addBinding(plain))
        #expect(exchange.addBinding(withArgs))
        #expect(exchange.removeBinding(plain))
        // The remaining binding still routes.
        #expect(routedNames(exchange, routingKey: "k") == ["q"])
    }

    @Test("removing one binding rebuilds the index without the others getting lost", arguments: ExchangeKind.allCases)
    func removeKeepsOthers(kind: ExchangeKind) {
        let exchange = makeExchange("x", kind)
        let q1 = makeQueue("q1")
        let q2 = makeQueue("q2")
        exchange.addBinding(Binding(destination: .queue(q1), routingKey: "k", arguments: [:]))
        exchange.addBinding(Binding(destination: .queue(q2), routingKey: "k", arguments: [:]))
        exchange.removeBinding(Binding(destination: .queue(q1), routingKey: "k", arguments: [:]))
        #expect(routedNames(exchange, routingKey: "k") == ["q2"])
    }

    @Test("removeBindings(to:) drops every binding to that destination", arguments: ExchangeKind.allCases)
    func removeBindingsTo(kind: ExchangeKind) {
        let exchange = makeExchange("x", kind)
        let q1 = makeQueue("q1")
        let q2 = makeQueue("q2")
        exchange.addBinding(Binding(destination: .queue(q1), routingKey: "k", arguments: [:]))
        exchange.addBinding(Binding(destination: .queue(q1), routingKey: "j", arguments: [:]))
        exchange.addBinding(Binding(destination: .queue(q2), routingKey: "k", arguments: [:]))
        exchange.removeBindings(to: .queue(q1))
        #expect(exchange.bindings.count == 1)
        #expect(routedNames(exchange, routingKey: "k") == ["q2"])
        // Fanout and (argument-less) headers bindings ignore the key, so q2 still gets "j".
        let keyIgnored = kind == .fanout || kind == .headers
        #expect(routedNames(exchange, routingKey: "j") == (keyIgnored ? ["q2"] : []))
    }

    @Test("a queue and an exchange with the same name are different destinations")
    func destinationIdentity() {
        let queue = makeQueue("same")
        let exchange = makeExchange("same", .fanout)
        #expect(BindingDestination.queue(queue) != BindingDestination.exchange(exchange))
        #expect(BindingDestination.queue(queue) == BindingDestination.queue(queue))
        #expect(BindingDestination.queue(queue) != BindingDestination.queue(makeQueue("same")))
        #expect(BindingDestination.queue(queue).kindName == "queue")
        #expect(BindingDestination.exchange(exchange).kindName == "exchange")
    }

    @Test("alternate-exchange argument")
    func alternateExchange() {
        #expect(makeExchange("x", .direct, arguments: ["alternate-exchange": .string("ae")]).alternateExchange == "ae")
        #expect(makeExchange("x", .direct).alternateExchange == nil)
        #expect(makeExchange("", .direct).isDefault)
        #expect(!makeExchange("x", .direct).isDefault)
    }
}
