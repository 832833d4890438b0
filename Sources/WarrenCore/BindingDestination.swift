/// What a binding routes to: a queue, or (exchange-to-exchange binding) another exchange.
public enum BindingDestination: Hashable {
    case queue(Queue)
    case exchange(Exchange)

    public static func == (lhs: BindingDestination, rhs: BindingDestination) -> Bool {
        switch (lhs, rhs) {
        case (.queue(let a), .queue(let b)): a === b
        case (.exchange(let a), .exchange(let b)): a === b
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .queue(let queue): hasher.combine(ObjectIdentifier(queue))
        case .exchange(let exchange): hasher.combine(ObjectIdentifier(exchange))
        }
    }

    public var name: String {
        switch self {
        case .queue(let queue): queue.name
        case .exchange(let exchange): exchange.name
        }
    }

    var isDefaultExchange: Bool {
        if case .exchange(let exchange) = self { return exchange.isDefault }
        return false
    }

    public var kindName: String {
        switch self {
        case .queue: "queue"
        case .exchange: "exchange"
        }
    }
}
