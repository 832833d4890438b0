import Hummingbird
import WarrenServer

/// `/api/policies[/{vhost}[/{name}]]` and `/api/operator-policies[/{vhost}[/{name}]]`.
extension ManagementAPI {
    func addPolicyRoutes(to router: Routes) {
        for (prefix, isOperator) in [("/api/policies", false), ("/api/operator-policies", true)] {
            router.get(prefix) { request, context in
                try await listPolicies(request, context, vhost: nil, isOperator: isOperator)
            }
            router.get(prefix + "/:vhost") { request, context in
                let vhost = try context.parameter("vhost")
                try context.requireVisible(vhost)
                return try await listPolicies(request, context, vhost: vhost, isOperator: isOperator)
            }
            router.get(prefix + "/:vhost/:name") { request, context in
                let (vhost, name) = (try context.parameter("vhost"), try context.parameter("name"))
                try context.requireVisible(vhost)
                if isOperator { try context.requireAdministrator() }
                guard
                    let policy = try await broker({ try await administration.policies(operator: isOperator) }).first(
                        where: { $0.vhost == vhost && $0.name == name })
                else { throw ManagementError.notFound }
                return Listing.single(rendering.policy(policy), request)
            }
            router.put(prefix + "/:vhost/:name") { request, context in
                let (vhost, name) = (try context.parameter("vhost"), try context.parameter("name"))
                if isOperator { try context.requireAdministrator() } else { try context.requirePolicymaker(vhost) }
                let fields = RequestFields(members: try await request.jsonBody(context: context))
                try fields.require(["pattern", "definition"])
                let existed = try await broker { try await administration.policies(operator: isOperator) }.contains {
                    $0.vhost == vhost && $0.name == name
                }
                try await broker {
                    try await administration.putPolicy(
                        vhost: vhost, name: name, pattern: fields.string("pattern") ?? "",
                        applyTo: fields.string("apply-to") ?? "all",
                        priority: Int(clamping: fields.integer("priority") ?? 0),
                        definition: fields.object("definition"),
                        operator: isOperator)
                }
                return JSONResponse.created(!existed)
            }
            router.delete(prefix + "/:vhost/:name") { _, context in
                let vhost = try context.parameter("vhost")
                if isOperator { try context.requireAdministrator() } else { try context.requirePolicymaker(vhost) }
                try await broker {
                    try await administration.deletePolicy(
                        vhost: vhost, name: context.parameter("name"), operator: isOperator)
                }
                return JSONResponse.noContent
            }
        }
    }

    private func listPolicies(_ request: Request, _ context: ManagementContext, vhost: String?, isOperator: Bool)
        async throws -> Response
    {
        if isOperator { try context.requireAdministrator() }
        let user = context.user
        let policies = try await broker { try await administration.policies(operator: isOperator) }.filter {
            (vhost == nil || $0.vhost == vhost) && user.canSeeObjects(in: $0.vhost)
        }
        return try Listing(request).respond(policies, name: \.name, render: rendering.policy)
    }
}
