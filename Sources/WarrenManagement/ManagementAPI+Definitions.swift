import Foundation
import Hummingbird
import WarrenServer

/// `/api/definitions[/{vhost}]`: RabbitMQ's export (GET) and import (POST).
extension ManagementAPI {
    func addDefinitionRoutes(to router: Routes) {
        router.get("/api/definitions") { _, context in
            try context.requireAdministrator()
            var document = try await broker { try await administration.exportDefinitions() }
            if case .object(var members) = document {
                members["rabbit_version"] = .string(Self.compatibleRabbitMQVersion)
                members["rabbitmq_version"] = .string(Self.compatibleRabbitMQVersion)
                members["global_parameters"] = [["name": "cluster_name", "value": .string(node)]]
                document = .object(members)
            }
            return JSONResponse.make(document)
        }
        router.get("/api/definitions/:vhost") { _, context in
            try context.requireAdministrator()
            let vhost = try context.parameter("vhost")
            var document = try await broker { try await administration.exportDefinitions(vhost: vhost) }
            if case .object(var members) = document {
                members["rabbit_version"] = .string(Self.compatibleRabbitMQVersion)
                document = .object(members)
            }
            return JSONResponse.make(document)
        }
        router.post("/api/definitions") { request, context in
            try context.requireAdministrator()
            let body = try await request.rawBody(context: context)
            try await importDefinitions(body, vhost: nil)
            return JSONResponse.noContent
        }
        router.post("/api/definitions/:vhost") { request, context in
            try context.requireAdministrator()
            let vhost = try context.parameter("vhost")
            let body = try await request.rawBody(context: context)
            try await importDefinitions(body, vhost: vhost)
            return JSONResponse.noContent
        }
    }

    private func importDefinitions(_ body: Data, vhost: String?) async throws {
        guard (try? JSONDecoder().decode(JSONValue.self, from: body))?.objectValue != nil else {
            throw ManagementError.badRequest("failed_to_parse_json")
        }
        try await broker { try await administration.importDefinitions(body, vhost: vhost) }
    }
}
