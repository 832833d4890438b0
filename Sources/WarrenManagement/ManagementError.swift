import Foundation
import Hummingbird
import WarrenServer

/// An error answered as RabbitMQ's management API answers it: a status and
/// `{"error": ..., "reason": ...}`, the texts that tools match on.
public struct ManagementError: Error, Sendable {
    public var status: HTTPResponse.Status
    public var error: String
    public var reason: String

    public static let notFound = ManagementError(status: .notFound, error: "Object Not Found", reason: "Not Found")

    public static func badRequest(_ reason: String) -> ManagementError {
        ManagementError(status: .badRequest, error: "bad_request", reason: reason)
    }

    public static func notAuthorised(_ reason: String) -> ManagementError {
        ManagementError(status: .unauthorized, error: "not_authorised", reason: reason)
    }

    var response: Response {
        var response = JSONResponse.make(["error": .string(error), "reason": .string(reason)], status: status)
        // A failed login asks for credentials again, as RabbitMQ's does.
        if error == "not_authorized" {
            response.headers[.wwwAuthenticate] = "Basic realm=\"RabbitMQ Management\""
        }
        return response
    }
}

extension ManagementError {
    /// The broker's own errors, in the API's terms.
    init(_ error: AdministrationError) {
        switch error {
        case .notFound: self = .notFound
        case .missing(let reason): self = ManagementError(status: .notFound, error: "not_found", reason: reason)
        case .badRequest(let reason): self = .badRequest(reason)
        case .notAuthorised(let reason): self = .notAuthorised(reason)
        }
    }
}

/// JSON bodies for responses.
enum JSONResponse {
    static func make(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("null".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json", .cacheControl: "no-cache"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// 201 Created or 204 No Content, as RabbitMQ answers a PUT that made or changed something.
    static func created(_ created: Bool) -> Response {
        Response(status: created ? .created : .noContent)
    }

    static let noContent = Response(status: .noContent)
}

extension Request {
    /// The body as JSON; an empty body is an empty object, as RabbitMQ treats it.
    func jsonBody(context: ManagementContext) async throws -> [String: JSONValue] {
        let buffer = try await body.collect(upTo: context.maxUploadSize)
        guard buffer.readableBytes > 0 else { return [:] }
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(buffer.readableBytesView)) else {
            throw ManagementError.badRequest("not_json")
        }
        guard case .object(let members) = value else { throw ManagementError.badRequest("not_json") }
        return members
    }

    /// The raw body bytes.
    func rawBody(context: ManagementContext) async throws -> Data {
        Data(try await body.collect(upTo: context.maxUploadSize).readableBytesView)
    }
}

/// Reading the fields of a request body, with RabbitMQ's `key_missing` errors.
struct RequestFields {
    let members: [String: JSONValue]

    /// Fails listing every missing key at once, in RabbitMQ's Erlang-term wording.
    func require(_ keys: [String]) throws {
        let missing = keys.filter { members[$0] == nil }
        guard !missing.isEmpty else { return }
        throw ManagementError.badRequest("[" + missing.map { "{key_missing,\($0)}" }.joined(separator: ",") + "]")
    }

    func string(_ key: String) -> String? {
        switch members[key] {
        case .string(let text)?: text
        case .integer(let number)?: String(number)
        default: nil
        }
    }

    func bool(_ key: String, default fallback: Bool) -> Bool {
        switch members[key] {
        case .bool(let flag)?: flag
        case .string(let text)?: text == "true"
        default: fallback
        }
    }

    func integer(_ key: String) -> Int64? { members[key]?.integerValue }

    func object(_ key: String) -> JSONValue { members[key] ?? .object([:]) }
}
