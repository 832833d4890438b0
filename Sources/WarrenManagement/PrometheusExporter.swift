import Hummingbird
import Prometheus
import WarrenServer

/// `/metrics` and `/metrics/per-object` in the Prometheus text format, with rabbitmq_prometheus'
/// metric names, so RabbitMQ's Grafana dashboards show Warren's numbers.
///
/// Each scrape fills a fresh registry from one snapshot: the broker keeps plain counters on its
/// loop and pays nothing per scrape beyond the copy; swift-prometheus writes the text format.
struct PrometheusExporter: Sendable {
    let administration: BrokerAdministration
    let node: String

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/metrics") { _, _ in try await scrape(perObject: false) }
        router.get("/metrics/per-object") { _, _ in try await scrape(perObject: true) }
        return router
    }

    private func scrape(perObject: Bool) async throws -> Response {
        let registry = PrometheusCollectorRegistry()
        let overview = try await administration.overview()
        let queues = try await administration.queues()
        let identity = [("rabbitmq_node", node), ("rabbitmq_cluster", node)]
        registry.makeGauge(name: "rabbitmq_identity_info", labels: identity).set(Int64(1))
        registry.makeGauge(
            name: "rabbitmq_build_info",
            labels: [
                ("rabbitmq_version", ManagementAPI.compatibleRabbitMQVersion), ("product", "Warren"),
                ("product_version", WarrenVersion.current),
            ]
        ).set(Int64(1))
        let gauges: [(String, Int)] = [
            ("rabbitmq_connections", overview.connections), ("rabbitmq_channels", overview.channels),
            ("rabbitmq_consumers", overview.consumers), ("rabbitmq_queues", overview.queues),
        ]
        for (name, value) in gauges { registry.makeGauge(name: name).set(Int64(value)) }
        let stats = overview.stats
        let counters: [(String, UInt64)] = [
            ("rabbitmq_global_messages_received_total", stats.publish),
            ("rabbitmq_global_messages_routed_total", stats.publish &- stats.dropUnroutable &- stats.returnUnroutable),
            ("rabbitmq_global_messages_confirmed_total", stats.confirm),
            ("rabbitmq_global_messages_delivered_total", stats.deliverGet),
            ("rabbitmq_global_messages_delivered_consume_manual_ack_total", stats.deliver),
            ("rabbitmq_global_messages_delivered_consume_auto_ack_total", stats.deliverNoAck),
            ("rabbitmq_global_messages_delivered_get_manual_ack_total", stats.get),
            ("rabbitmq_global_messages_delivered_get_auto_ack_total", stats.getNoAck),
            ("rabbitmq_global_messages_acknowledged_total", stats.ack),
            ("rabbitmq_global_messages_redelivered_total", stats.redeliver),
            ("rabbitmq_global_messages_unroutable_dropped_total", stats.dropUnroutable),
            ("rabbitmq_global_messages_unroutable_returned_total", stats.returnUnroutable),
        ]
        for (name, value) in counters {
            registry.makeCounter(name: name, labels: [("protocol", "amqp091")]).increment(by: Int64(clamping: value))
        }
        if perObject {
            var text: [UInt8] = []
            registry.emit(into: &text)
            PerObjectMetrics.write(queues, into: &text)
            return Self.response(text)
        }
        // Aggregated: each queue family summed over every queue, without labels.
        for family in PerObjectMetrics.families {
            let total = Int64(clamping: queues.reduce(UInt64(0)) { $0 &+ family.value($1) })
            if family.type == "counter" {
                registry.makeCounter(name: family.name).increment(by: total)
            } else {
                registry.makeGauge(name: family.name).set(total)
            }
        }
        var text: [UInt8] = []
        registry.emit(into: &text)
        return Self.response(text)
    }

    private static func response(_ text: [UInt8]) -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: text)))
    }
}
