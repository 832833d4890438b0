/// The exchange types Warren routes with.
public enum ExchangeKind: String, Sendable, CaseIterable {
    case direct
    case fanout
    case topic
    case headers
}
