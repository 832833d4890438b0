import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOEmbedded
import WarrenServer

@testable import WarrenManagement

/// A broker with no listeners and its management API, driven request by request without
/// sockets.
struct APIFixture {
    let server: WarrenServer
    let api: ManagementAPI
    let responder: any HTTPResponder<ManagementContext>
    let directory: String

    static func start() async throws -> APIFixture {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warren-mgmt-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var settings = BrokerSettings()
        settings.dataDirectory = directory
        let server = try await WarrenServer.start(
            listeners: [], settings: settings, logger: Logger(label: "test", factory: { SwiftLogNoOpLogHandler($0) }))
        let api = ManagementAPI(
            administration: server.administration, node: "warren@test", rates: MessageRates(),
            listeners: { [.init(protocol: "amqp", ip: "127.0.0.1", port: 5672)] })
        return APIFixture(server: server, api: api, responder: api.responder(), directory: directory)
    }

    func stop() async throws {
        try await server.shutdown()
        try? FileManager.default.removeItem(atPath: directory)
    }

    struct Reply {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var body: String

        var json: Any? { try? JSONSerialization.jsonObject(with: Data(body.utf8), options: [.fragmentsAllowed]) }
        var object: [String: Any] { json as? [String: Any] ?? [:] }
        var list: [[String: Any]] { json as? [[String: Any]] ?? [] }
    }

    /// Sends one request as `credentials` (nil: without an Authorization header).
    func request(
        _ method: HTTPRequest.Method, _ path: String, body: String = "", credentials: String? = "guest:guest",
        loopback: Bool = true
    ) async throws -> Reply {
        var head = HTTPRequest(method: method, scheme: "http", authority: "localhost", path: path)
        if let credentials {
            head.headerFields[.authorization] = "Basic " + Data(credentials.utf8).base64EncodedString()
        }
        let request = Request(head: head, body: .init(buffer: ByteBuffer(string: body)))
        let channel = EmbeddedChannel()
        channel.localAddress = try SocketAddress(ipAddress: loopback ? "127.0.0.1" : "192.0.2.1", port: 15672)
        let context = ManagementContext(source: .init(channel: channel, logger: Logger(label: "test")))
        let response = try await responder.respond(to: request, context: context)
        let collected = Collected()
        try await response.body.write(Collector(target: collected))
        return Reply(status: response.status, headers: response.headers, body: String(buffer: collected.buffer))
    }
}

private final class Collected: @unchecked Sendable {
    var buffer = ByteBuffer()
}

private struct Collector: ResponseBodyWriter {
    let target: Collected

    mutating func write(_ buffer: ByteBuffer) async throws {
        var buffer = buffer
        target.buffer.writeBuffer(&buffer)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
