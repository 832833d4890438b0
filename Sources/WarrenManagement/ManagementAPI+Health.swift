import Hummingbird
import WarrenServer

/// `/api/health/checks/...` and `/api/aliveness-test/{vhost}`: RabbitMQ's health checks, 200
/// with `{"status":"ok"}` or 503 with `{"status":"failed", ...}`.
extension ManagementAPI {
    func addHealthRoutes(to router: Routes) {
        for path in ["/api/health/checks/alarms", "/api/health/checks/local-alarms"] {
            router.get(path) { _, _ in
                let alarms = try await broker { try await administration.alarms() }
                guard !alarms.isEmpty else { return JSONResponse.make(["status": "ok"]) }
                return JSONResponse.make(
                    [
                        "status": "failed", "reason": "There are alarms in effect in the cluster",
                        "alarms": .array(
                            alarms.map {
                                ["node": .string(node), "resource": .string($0 == "disk" ? "disk space" : $0)]
                            }),
                    ], status: .serviceUnavailable)
            }
        }
        router.get("/api/health/checks/port-listener/:port") { _, context in
            guard let port = Int(try context.parameter("port")) else {
                throw ManagementError.badRequest("invalid port")
            }
            let ports = listeners().map(\.port)
            guard ports.contains(port) else {
                return JSONResponse.make(
                    [
                        "status": "failed", "reason": "No active listener", "missing": .count(port),
                        "ports": .array(ports.map { .count($0) }),
                    ], status: .serviceUnavailable)
            }
            return JSONResponse.make(["status": "ok", "port": .count(port)])
        }
        router.get("/api/health/checks/virtual-hosts") { _, _ in
            JSONResponse.make(["status": "ok"])
        }
        router.get("/api/aliveness-test/:vhost") { _, context in
            let vhost = try context.parameter("vhost")
            try context.requireAccess(to: vhost)
            let user = context.user.name
            guard try await broker({ try await administration.virtualHosts() }).contains(where: { $0.name == vhost })
            else { throw ManagementError.notFound }
            // RabbitMQ's test: a queue named aliveness-test, one message through it.
            _ = try await broker {
                try await administration.declareQueue(
                    vhost: vhost, name: "aliveness-test", durable: false, autoDelete: false, arguments: .object([:]),
                    user: user)
            }
            _ = try await broker {
                try await administration.publish(
                    vhost: vhost, exchange: "", routingKey: "aliveness-test", properties: .object([:]),
                    payload: Array("test_message".utf8), user: user)
            }
            let fetched = try await broker {
                try await administration.fetch(
                    vhost: vhost, name: "aliveness-test", count: 1, mode: .ackRequeueFalse, user: user)
            }
            guard fetched.first?.payload == Array("test_message".utf8) else {
                return JSONResponse.make(
                    ["status": "failed", "reason": "aliveness test message not received"], status: .serviceUnavailable)
            }
            return JSONResponse.make(["status": "ok"])
        }
    }
}
