import Foundation
import Hummingbird
import WarrenServer

/// `/api/overview`, `/api/nodes`, `/api/whoami`, `/api/cluster-name`, `/api/extensions`.
extension ManagementAPI {
    /// The RabbitMQ release whose management API Warren answers as; tools check it to know
    /// which fields and endpoints exist.
    static let compatibleRabbitMQVersion = "3.10.8"

    func addOverviewRoutes(to router: Router<ManagementContext>) {
        router.get("/api/overview") { _, context in
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
            return JSONResponse.make([
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
            ])
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
        let alarms = try await broker { try await administration.alarms() }
        let usage = NodeUsage.sample()
        return [
            "name": .string(node), "type": "disc", "running": true, "being_drained": false,
            "os_pid": .string(String(ProcessInfo.processInfo.processIdentifier)),
            "mem_used": .count(usage.residentBytes), "mem_alarm": .bool(alarms.contains("memory")),
            "disk_free_alarm": .bool(alarms.contains("disk")), "fd_used": .count(usage.openFiles),
            "processors": .count(ProcessInfo.processInfo.activeProcessorCount),
            "uptime": .count(Int64(Date().timeIntervalSince(startedAt) * 1000)), "partitions": [],
            "applications": [], "contexts": [], "run_queue": 0,
        ]
    }
}

/// What `/api/nodes` reports of the process: resident memory and open files, from /proc.
enum NodeUsage {
    static func sample() -> (residentBytes: Int, openFiles: Int) {
        var resident = 0
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
        {
            resident = kilobytes * 1024
        }
        let files = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        return (resident, files)
    }
}
