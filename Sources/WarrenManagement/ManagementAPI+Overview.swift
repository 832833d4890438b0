import Foundation
import Hummingbird
import WarrenServer

/// `/api/overview`, `/api/nodes`, `/api/whoami`, `/api/cluster-name`, `/api/extensions`.
extension ManagementAPI {
    /// The RabbitMQ release whose management API Warren answers as; tools check it to know
    /// which fields and endpoints exist.
    static let compatibleRabbitMQVersion = "3.10.8"

    func addOverviewRoutes(to router: Routes) {
        router.get("/api/overview") { request, context in
            let overview = try await broker { try await administration.overview() }
            let rates = self.rates.rates(RateKey.overview)
            var messageStats = Rendering.withDetails(
                overview.stats.counters.filter { Rendering.channelStatFields.contains($0.key) }, rates: rates)
            if !context.user.isMonitoring { messageStats = [:] }
            let queueTotals = Rendering.withDetails(
                [
                    "messages": Int64(overview.messagesReady + overview.messagesUnacknowledged),
                    "messages_ready": Int64(overview.messagesReady),
                    "messages_unacknowledged": Int64(overview.messagesUnacknowledged),
                ], rates: rates)
            return Listing.single(
                [
                    "management_version": .string(Self.compatibleRabbitMQVersion),
                    "rabbitmq_version": .string(Self.compatibleRabbitMQVersion),
                    "product_name": "Warren", "product_version": .string(WarrenVersion.current),
                    "cluster_name": .string(node), "node": .string(node), "rates_mode": "basic",
                    "disable_stats": false, "enable_queue_totals": false, "statistics_db_event_queue": 0,
                    "exchange_types": .array(
                        ["direct", "fanout", "headers", "topic", "x-delayed-message"].map {
                            ["name": .string($0), "description": .string("AMQP \($0) exchange"), "enabled": true]
                        }),
                    "message_stats": .object(messageStats), "queue_totals": .object(queueTotals),
                    "object_totals": [
                        "connections": .count(overview.connections), "channels": .count(overview.channels),
                        "consumers": .count(overview.consumers), "queues": .count(overview.queues),
                        "exchanges": .count(overview.exchanges),
                    ],
                    "listeners": .array(listeners().map(listenerJSON)),
                    "contexts": .array(
                        listeners().filter { $0.protocol.hasPrefix("http") }.map {
                            [
                                "node": .string(node), "description": "Warren Management", "path": "/",
                                "ip": .string($0.ip), "port": .string(String($0.port)),
                            ]
                        }),
                ], request)
        }
        router.get("/api/nodes") { _, context in
            try context.requireMonitoring()
            return JSONResponse.make([try await nodeJSON()])
        }
        router.get("/api/nodes/:node") { _, context in
            try context.requireMonitoring()
            guard try context.parameter("node") == node else { throw ManagementError.notFound }
            return JSONResponse.make(try await nodeJSON())
        }
        router.get("/api/whoami") { _, context in
            JSONResponse.make([
                "name": .string(context.user.name), "tags": .array(context.user.tags.map(JSONValue.string)),
            ])
        }
        router.get("/api/cluster-name") { _, _ in
            JSONResponse.make(["name": .string(node)])
        }
        router.get("/api/extensions") { _, _ in
            JSONResponse.make([])
        }
    }

    private func listenerJSON(_ listener: Listener) -> JSONValue {
        [
            "node": .string(node), "protocol": .string(listener.protocol), "ip_address": .string(listener.ip),
            "port": .count(listener.port),
        ]
    }

    private func nodeJSON() async throws -> JSONValue {
        let resources = try await broker { try await administration.nodeResources() }
        let openFiles = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        return [
            "name": .string(node), "type": "disc", "running": true, "being_drained": false,
            "os_pid": .string(String(ProcessInfo.processInfo.processIdentifier)),
            "mem_used": .count(resources.memoryUsed), "mem_limit": .count(resources.memoryLimit),
            "mem_alarm": .bool(resources.alarms.contains("memory")), "disk_free": .count(resources.diskFree),
            "disk_free_limit": .count(resources.diskFreeLimit),
            "disk_free_alarm": .bool(resources.alarms.contains("disk")), "fd_used": .count(openFiles),
            "processors": .count(ProcessInfo.processInfo.activeProcessorCount),
            "uptime": .count(Int64(Date().timeIntervalSince(startedAt) * 1000)), "partitions": [],
            "applications": [], "contexts": [], "run_queue": 0,
        ]
    }
}
