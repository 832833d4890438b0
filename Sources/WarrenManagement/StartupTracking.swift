import NIOConcurrencyHelpers

/// The ports the two listeners bound, filled in as each starts.
final class BoundPorts: Sendable {
    private let ports = NIOLockedValueBox<(management: Int?, prometheus: Int?)>((nil, nil))

    func bound(management port: Int) { ports.withLockedValue { $0.management = port } }
    func bound(prometheus port: Int) { ports.withLockedValue { $0.prometheus = port } }

    var management: Int { ports.withLockedValue { $0.management ?? 0 } }
    var prometheus: Int { ports.withLockedValue { $0.prometheus ?? 0 } }
    var bothBound: Bool { ports.withLockedValue { $0.management != nil && $0.prometheus != nil } }
}

/// The first error a listener task ended with (it could not bind, most often).
final class FirstFailure: Sendable {
    private let first = NIOLockedValueBox<(any Error)?>(nil)

    func record(_ error: any Error) { first.withLockedValue { if $0 == nil { $0 = error } } }
    var error: (any Error)? { first.withLockedValue { $0 } }
}
