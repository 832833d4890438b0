import HTTPTypes
import Hummingbird

/// The API's routes, registered on Hummingbird's router and recorded, so that a path that
/// exists under another method gets RabbitMQ's 405 with `allow`, and so that tests can check
/// the committed OpenAPI description against the routes that exist.
final class Routes {
    typealias Handler = @Sendable (Request, ManagementContext) async throws -> Response

    let router = Router(context: ManagementContext.self)
    private(set) var table = RouteTable()

    func get(_ path: String, _ handler: @escaping Handler) { add(.get, path, handler) }
    func put(_ path: String, _ handler: @escaping Handler) { add(.put, path, handler) }
    func post(_ path: String, _ handler: @escaping Handler) { add(.post, path, handler) }
    func delete(_ path: String, _ handler: @escaping Handler) { add(.delete, path, handler) }

    private func add(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping Handler) {
        router.on(RouterPath(path), method: method, use: handler)
        table.entries.append((method, path.split(separator: "/").map(String.init)))
    }
}

/// The routes that exist, by method and path pattern (`:name` segments match anything).
public struct RouteTable: Sendable {
    var entries: [(method: HTTPRequest.Method, path: [String])] = []

    /// Every route as `METHOD /path/{parameter}`, in the OpenAPI description's notation.
    public var all: [(method: String, path: String)] {
        entries.map { route in
            let segments = route.path.map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : $0 }
            return (route.method.rawValue, "/" + segments.joined(separator: "/"))
        }
    }

    /// The methods that a request path has routes for.
    func methods(matching requestPath: String) -> [HTTPRequest.Method] {
        let segments = requestPath.split(separator: "/")
        return entries.filter { route in
            route.path.count == segments.count
                && zip(route.path, segments).allSatisfy { pattern, segment in
                    pattern.hasPrefix(":") || pattern == segment
                }
        }.map(\.method)
    }
}
