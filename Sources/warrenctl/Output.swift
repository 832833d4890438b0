import Foundation

/// Prints rows of API objects as rabbitmqctl does: the chosen columns, tab-aligned, or JSON.
struct Table {
    var columns: [String]
    var rows: [[Any?]]

    func print(_ output: OutputOptions) {
        switch output.formatter {
        case .json:
            let objects: [[String: Any]] = rows.map { row in
                var object: [String: Any] = [:]
                for (column, value) in zip(columns, row) { object[column] = value ?? NSNull() }
                return object
            }
            Swift.print(Self.json(objects, pretty: true))
        case .table:
            var lines = rows.map { $0.map(Self.text) }
            if !output.noTableHeaders { lines.insert(columns, at: 0) }
            var widths = Array(repeating: 0, count: columns.count)
            for line in lines {
                for (index, cell) in line.enumerated() { widths[index] = max(widths[index], cell.count) }
            }
            for line in lines {
                let cells = line.enumerated().map { index, cell in
                    index == line.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
                }
                Swift.print(cells.joined(separator: "\t"))
            }
        }
    }

    /// A cell: text as is, numbers and booleans as written, anything else as compact JSON.
    static func text(_ value: Any?) -> String {
        switch value {
        case nil, is NSNull: return ""
        case let text as String: return text
        case let number as NSNumber:
            // JSON's booleans and numbers both arrive as NSNumber; the type code tells them apart.
            switch String(cString: number.objCType) {
            case "c", "B": return number.boolValue ? "true" : "false"
            case "d", "f": return String(number.doubleValue)
            default: return number.stringValue
            }
        case let other?: return json(other, pretty: false)
        }
    }

    static func json(_ value: Any, pretty: Bool) -> String {
        let options: JSONSerialization.WritingOptions = pretty ? [.prettyPrinted, .sortedKeys] : [.sortedKeys]
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: options.union(.fragmentsAllowed))
        else { return "\(value)" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// A field of an API object, by a dotted path (`message_stats.publish`).
func field(_ object: [String: Any], _ path: String) -> Any? {
    var current: Any? = object
    for key in path.split(separator: ".") {
        current = (current as? [String: Any])?[String(key)]
    }
    return current
}
