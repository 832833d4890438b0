import Foundation
import Hummingbird
import WarrenServer

/// RabbitMQ's list-endpoint query: `name` (a substring, or a regex with `use_regex=true`),
/// `sort` (a dotted field path) and `sort_reverse`, `page` and `page_size` (answered with the
/// paged shape), and `columns` (only those dotted paths of each item).
///
/// Filtering and sorting happen on the snapshots' names before any item is rendered, so a
/// page of 100 out of 50,000 queues renders 100 items.
struct Listing {
    var nameFilter: String?
    var useRegex = false
    var sortKey: String?
    var sortReverse = false
    var page: Int?
    var pageSize = 100
    var columns: [[String]]?

    static let maximumPageSize = 500

    init(_ request: Request) throws {
        let query = request.uri.queryParameters
        nameFilter = query.get("name").flatMap { $0.isEmpty ? nil : $0 }
        useRegex = query.get("use_regex") == "true"
        sortKey = query.get("sort").flatMap { $0.isEmpty ? nil : $0 }
        sortReverse = query.get("sort_reverse") == "true"
        if let text = query.get("columns"), !text.isEmpty {
            columns = text.split(separator: ",").map { $0.split(separator: ".").map(String.init) }
        }
        let pageText = query.get("page")
        let sizeText = query.get("page_size")
        guard pageText != nil || sizeText != nil else { return }
        guard let page = Int(pageText ?? "1"), let size = Int(sizeText ?? "100") else {
            throw ManagementError.badRequest("Pagination parameters are invalid")
        }
        guard page >= 1, size >= 1, size <= Self.maximumPageSize else {
            throw ManagementError(
                status: .badRequest, error: "invalid_pagination_parameters",
                reason: "Invalid pagination parameters: page number \(page), page size \(size)")
        }
        self.page = page
        self.pageSize = size
    }

    /// Filters by name, sorts, pages and renders `items`.
    func respond<Item>(_ items: [Item], name: (Item) -> String, render: (Item) -> JSONValue) throws -> Response {
        var selected = items
        if let nameFilter {
            if useRegex {
                guard let regex = try? Regex(nameFilter).ignoresCase() else {
                    throw ManagementError.badRequest("invalid regular expression '\(nameFilter)'")
                }
                selected = selected.filter { name($0).contains(regex) }
            } else {
                // RabbitMQ's substring filter ignores case.
                let needle = nameFilter.lowercased()
                selected = selected.filter { name($0).lowercased().contains(needle) }
            }
        }
        // Names first: the common sort, and the default, without rendering anything.
        let byName = sortKey == nil || sortKey == "name"
        if byName {
            selected.sort { name($0) < name($1) }
            if sortReverse { selected.reverse() }
        }
        var rendered: [JSONValue]
        var pageInfo: (number: Int, count: Int)?
        if let page {
            let pageCount = (selected.count + pageSize - 1) / pageSize
            guard page <= max(1, pageCount) else {
                throw ManagementError(
                    status: .badRequest, error: "page_out_of_range",
                    reason: "Page out of range, page: \(page) page size: \(pageSize), len: \(selected.count)")
            }
            pageInfo = (page, pageCount)
            if byName {
                let start = (page - 1) * pageSize
                rendered = selected[start..<min(start + pageSize, selected.count)].map(render)
            } else {
                rendered = sorted(selected.map(render))
                let start = (page - 1) * pageSize
                rendered = Array(rendered[start..<min(start + pageSize, rendered.count)])
            }
        } else {
            rendered = selected.map(render)
            if !byName { rendered = sorted(rendered) }
        }
        if let columns { rendered = rendered.map { Self.project($0, columns) } }
        guard let (number, count) = pageInfo else { return JSONResponse.make(.array(rendered)) }
        return JSONResponse.make([
            "filtered_count": .count(selected.count), "item_count": .count(rendered.count), "items": .array(rendered),
            "page": .count(number), "page_count": .count(count), "page_size": .count(pageSize),
            "total_count": .count(items.count),
        ])
    }

    private func sorted(_ rendered: [JSONValue]) -> [JSONValue] {
        guard let sortKey else { return rendered }
        let path = sortKey.split(separator: ".").map(String.init)
        let result = rendered.sorted { Self.precedes(Self.value($0, at: path), Self.value($1, at: path)) }
        return sortReverse ? result.reversed() : result
    }

    private static func value(_ item: JSONValue, at path: [String]) -> JSONValue? {
        var current: JSONValue? = item
        for key in path { current = current?.objectValue?[key] }
        return current
    }

    /// Absent values sort first; numbers by value; anything else by its text.
    private static func precedes(_ a: JSONValue?, _ b: JSONValue?) -> Bool {
        switch (a, b) {
        case (nil, nil): return false
        case (nil, _): return true
        case (_, nil): return false
        case (.integer(let x)?, .integer(let y)?): return x < y
        case (.number(let x)?, .number(let y)?): return x < y
        case (.integer(let x)?, .number(let y)?): return Double(x) < y
        case (.number(let x)?, .integer(let y)?): return x < Double(y)
        case (.string(let x)?, .string(let y)?): return x < y
        case (.bool(let x)?, .bool(let y)?): return !x && y
        default: return false
        }
    }

    /// One object, with only the `columns` the request asks for.
    static func single(_ value: JSONValue, _ request: Request) -> Response {
        guard let text = request.uri.queryParameters.get("columns"), !text.isEmpty else {
            return JSONResponse.make(value)
        }
        return JSONResponse.make(
            project(value, text.split(separator: ",").map { $0.split(separator: ".").map(String.init) }))
    }

    /// Keeps only the given dotted paths of an object, nested as in the original.
    static func project(_ item: JSONValue, _ columns: [[String]]) -> JSONValue {
        var result: JSONValue = .object([:])
        for path in columns {
            guard let value = value(item, at: path) else { continue }
            result = inserting(value, at: path[...], into: result)
        }
        return result
    }

    private static func inserting(_ value: JSONValue, at path: ArraySlice<String>, into object: JSONValue) -> JSONValue
    {
        guard let key = path.first else { return value }
        var members = object.objectValue ?? [:]
        members[key] = inserting(value, at: path.dropFirst(), into: members[key] ?? .object([:]))
        return .object(members)
    }
}
