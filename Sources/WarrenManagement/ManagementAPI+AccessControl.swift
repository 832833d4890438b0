import Hummingbird
import WarrenServer

/// `/api/vhosts`, `/api/users`, `/api/permissions` and `/api/topic-permissions`.
extension ManagementAPI {
    func addAccessControlRoutes(to router: Routes) {
        addVirtualHostRoutes(to: router)
        addUserRoutes(to: router)
        addPermissionRoutes(to: router)
        addTopicPermissionRoutes(to: router)
    }

    private func addVirtualHostRoutes(to router: Routes) {
        router.get("/api/vhosts") { request, context in
            let user = context.user
            let vhosts = try await broker { try await administration.virtualHosts() }.filter {
                user.canSee(vhost: $0.name)
            }
            let rates = self.rates.all()
            return try Listing(request).respond(vhosts, name: \.name) { vhost in
                rendering.vhost(vhost, rates: rates[RateKey.vhost(vhost.name)])
            }
        }
        router.get("/api/vhosts/:vhost") { request, context in
            let name = try context.parameter("vhost")
            guard context.user.canSee(vhost: name) else {
                throw ManagementError.notAuthorised("User not authorised to access virtual host")
            }
            guard
                let vhost = try await broker({ try await administration.virtualHosts() }).first(where: {
                    $0.name == name
                })
            else { throw ManagementError.notFound }
            return Listing.single(rendering.vhost(vhost, rates: rates.rates(RateKey.vhost(name))), request)
        }
        router.put("/api/vhosts/:vhost") { request, context in
            try context.requireAdministrator()
            let name = try context.parameter("vhost")
            let fields = RequestFields(members: try await request.jsonBody(context: context))
            let tags = fields.members["tags"].map(Self.tags)
            let created = try await broker {
                try await administration.addVirtualHost(
                    name: name, description: fields.string("description"), tags: tags)
            }
            if let tracing = fields.members["tracing"] {
                let on = tracing.boolValue ?? (tracing.stringValue == "true")
                try await broker { try await administration.setTracing(vhost: name, on: on) }
            }
            // As in RabbitMQ's API, whoever creates a vhost gets full permissions in it.
            if created {
                try await broker {
                    try await administration.setPermissions(
                        user: context.user.name, vhost: name, configure: ".*", write: ".*", read: ".*")
                }
            }
            return JSONResponse.created(created)
        }
        router.delete("/api/vhosts/:vhost") { _, context in
            try context.requireAdministrator()
            try await broker { try await administration.deleteVirtualHost(name: context.parameter("vhost")) }
            return JSONResponse.noContent
        }
        router.get("/api/vhosts/:vhost/permissions") { request, context in
            try context.requireAdministrator()
            let vhost = try context.parameter("vhost")
            let permissions = try await broker { try await administration.permissions() }.filter { $0.vhost == vhost }
            return try Listing(request).respond(permissions, name: \.user, render: rendering.permission)
        }
        router.get("/api/vhosts/:vhost/topic-permissions") { request, context in
            try context.requireAdministrator()
            let vhost = try context.parameter("vhost")
            let permissions = try await broker { try await administration.topicPermissions() }.filter {
                $0.vhost == vhost
            }
            return try Listing(request).respond(permissions, name: \.user, render: rendering.topicPermission)
        }
    }

    /// Tags as RabbitMQ takes them: a comma-separated string or a list.
    static func tags(_ value: JSONValue) -> [String] {
        switch value {
        case .string(let text):
            text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        case .array(let items): items.compactMap(\.stringValue)
        default: []
        }
    }

    private func addUserRoutes(to router: Routes) {
        router.get("/api/users") { request, context in
            try context.requireAdministrator()
            let users = try await broker { try await administration.users() }
            return try Listing(request).respond(users, name: \.name, render: rendering.user)
        }
        router.get("/api/users/without-permissions") { request, context in
            try context.requireAdministrator()
            let granted = Set(try await broker { try await administration.permissions() }.map(\.user))
            let users = try await broker { try await administration.users() }.filter { !granted.contains($0.name) }
            return try Listing(request).respond(users, name: \.name, render: rendering.user)
        }
        router.get("/api/users/:user") { request, context in
            try context.requireAdministrator()
            let name = try context.parameter("user")
            guard let user = try await broker({ try await administration.users() }).first(where: { $0.name == name })
            else { throw ManagementError.notFound }
            return Listing.single(rendering.user(user), request)
        }
        router.put("/api/users/:user") { request, context in
            try context.requireAdministrator()
            let fields = RequestFields(members: try await request.jsonBody(context: context))
            guard let tagsValue = fields.members["tags"] else { throw ManagementError.badRequest("tags_not_present") }
            let tags = Self.tags(tagsValue)
            let created = try await broker {
                try await administration.putUser(
                    name: context.parameter("user"), password: fields.string("password"),
                    passwordHash: fields.string("password_hash"), hashingAlgorithm: fields.string("hashing_algorithm"),
                    tags: tags)
            }
            return JSONResponse.created(created)
        }
        router.delete("/api/users/:user") { _, context in
            try context.requireAdministrator()
            try await broker { try await administration.deleteUser(name: context.parameter("user")) }
            return JSONResponse.noContent
        }
        router.get("/api/users/:user/permissions") { request, context in
            try context.requireAdministrator()
            let user = try context.parameter("user")
            let permissions = try await broker { try await administration.permissions() }.filter { $0.user == user }
            return try Listing(request).respond(permissions, name: \.vhost, render: rendering.permission)
        }
    }

    private func addPermissionRoutes(to router: Routes) {
        router.get("/api/permissions") { request, context in
            try context.requireAdministrator()
            let permissions = try await broker { try await administration.permissions() }
            return try Listing(request).respond(permissions, name: \.user, render: rendering.permission)
        }
        router.get("/api/permissions/:vhost/:user") { request, context in
            try context.requireAdministrator()
            let (vhost, user) = (try context.parameter("vhost"), try context.parameter("user"))
            guard
                let permission = try await broker({ try await administration.permissions() }).first(where: {
                    $0.vhost == vhost && $0.user == user
                })
            else { throw ManagementError.notFound }
            return Listing.single(rendering.permission(permission), request)
        }
        router.put("/api/permissions/:vhost/:user") { request, context in
            try context.requireAdministrator()
            let fields = RequestFields(members: try await request.jsonBody(context: context))
            try fields.require(["configure", "write", "read"])
            let (vhost, user) = (try context.parameter("vhost"), try context.parameter("user"))
            let existed = try await broker { try await administration.permissions() }.contains {
                $0.vhost == vhost && $0.user == user
            }
            do {
                try await administration.setPermissions(
                    user: user, vhost: vhost, configure: fields.string("configure") ?? "",
                    write: fields.string("write") ?? "", read: fields.string("read") ?? "")
            } catch AdministrationError.badRequest(let reason) where reason.hasSuffix("does not exist") {
                throw ManagementError.badRequest("vhost_or_user_not_found")
            } catch let error as AdministrationError {
                throw ManagementError(error)
            }
            return JSONResponse.created(!existed)
        }
        router.delete("/api/permissions/:vhost/:user") { _, context in
            try context.requireAdministrator()
            try await broker {
                try await administration.clearPermissions(
                    user: context.parameter("user"), vhost: context.parameter("vhost"))
            }
            return JSONResponse.noContent
        }
    }

    private func addTopicPermissionRoutes(to router: Routes) {
        router.get("/api/topic-permissions") { request, context in
            try context.requireAdministrator()
            let permissions = try await broker { try await administration.topicPermissions() }
            return try Listing(request).respond(permissions, name: \.user, render: rendering.topicPermission)
        }
        router.get("/api/topic-permissions/:vhost/:user") { request, context in
            try context.requireAdministrator()
            let (vhost, user) = (try context.parameter("vhost"), try context.parameter("user"))
            let permissions = try await broker { try await administration.topicPermissions() }.filter {
                $0.vhost == vhost && $0.user == user
            }
            guard !permissions.isEmpty else { throw ManagementError.notFound }
            return try Listing(request).respond(permissions, name: \.exchange, render: rendering.topicPermission)
        }
        router.put("/api/topic-permissions/:vhost/:user") { request, context in
            try context.requireAdministrator()
            let fields = RequestFields(members: try await request.jsonBody(context: context))
            try fields.require(["exchange", "write", "read"])
            let (vhost, user) = (try context.parameter("vhost"), try context.parameter("user"))
            do {
                try await administration.setTopicPermission(
                    user: user, vhost: vhost, exchange: fields.string("exchange") ?? "",
                    write: fields.string("write") ?? "", read: fields.string("read") ?? "")
            } catch AdministrationError.badRequest(let reason) where reason.hasSuffix("does not exist") {
                throw ManagementError.badRequest("vhost_or_user_not_found")
            } catch let error as AdministrationError {
                throw ManagementError(error)
            }
            return JSONResponse.created(true)
        }
        router.delete("/api/topic-permissions/:vhost/:user") { _, context in
            try context.requireAdministrator()
            try await broker {
                try await administration.clearTopicPermissions(
                    user: context.parameter("user"), vhost: context.parameter("vhost"), exchange: nil)
            }
            return JSONResponse.noContent
        }
    }
}
