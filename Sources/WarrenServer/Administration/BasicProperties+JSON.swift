import AMQPWire

extension BasicProperties {
    /// Properties from a management request's `properties` object, with RabbitMQ's key names.
    init(json: JSONValue) throws {
        self.init()
        guard case .object(let members) = json else {
            if json == .null { return }
            throw AdministrationError.badRequest("properties must be an object")
        }
        for (key, value) in members {
            func text() throws -> String {
                guard let text = value.stringValue else {
                    throw AdministrationError.badRequest("\(key) must be a string")
                }
                return text
            }
            func number<T: FixedWidthInteger>(_: T.Type) throws -> T {
                guard let integer = value.integerValue, let number = T(exactly: integer) else {
                    throw AdministrationError.badRequest("\(key) must be an integer")
                }
                return number
            }
            switch key {
            case "content_type": contentType = try text()
            case "content_encoding": contentEncoding = try text()
            case "headers":
                guard value.objectValue != nil else {
                    throw AdministrationError.badRequest("headers must be an object")
                }
                headers = value.fieldTable
            case "delivery_mode": deliveryMode = try number(UInt8.self)
            case "priority": priority = try number(UInt8.self)
            case "correlation_id": correlationID = try text()
            case "reply_to": replyTo = try text()
            case "expiration": expiration = try text()
            case "message_id": messageID = try text()
            case "timestamp": timestamp = try number(UInt64.self)
            case "type": type = try text()
            case "user_id": userID = try text()
            case "app_id": appID = try text()
            case "cluster_id": clusterID = try text()
            default: throw AdministrationError.badRequest("unknown property '\(key)'")
            }
        }
    }
}

extension JSONValue {
    /// Message properties as the management API shows them: only those that are set.
    init(_ properties: BasicProperties) {
        var members: [String: JSONValue] = [:]
        let texts: [(String, String?)] = [
            ("content_type", properties.contentType), ("content_encoding", properties.contentEncoding),
            ("correlation_id", properties.correlationID), ("reply_to", properties.replyTo),
            ("expiration", properties.expiration), ("message_id", properties.messageID), ("type", properties.type),
            ("user_id", properties.userID), ("app_id", properties.appID), ("cluster_id", properties.clusterID),
        ]
        for case (let key, let value?) in texts { members[key] = .string(value) }
        if let headers = properties.headers { members["headers"] = JSONValue(headers) }
        if let mode = properties.deliveryMode { members["delivery_mode"] = .integer(Int64(mode)) }
        if let priority = properties.priority { members["priority"] = .integer(Int64(priority)) }
        if let timestamp = properties.timestamp { members["timestamp"] = .integer(Int64(clamping: timestamp)) }
        self = .object(members)
    }
}
